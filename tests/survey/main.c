/* test_survey: the ARD data model, the generator and the DESI ingest. */
#include "sv_util.h"

int main(void) {
    int failed = 0;
    failed += sv_run_model_tests();
    failed += sv_run_generate_tests();
    failed += sv_run_ingest_tests();
    failed += sv_run_pixel_stats_tests();
    failed += sv_run_web_tests();
    failed += sv_run_anomaly_kind_tests();
    return failed ? 1 : 0;
}
