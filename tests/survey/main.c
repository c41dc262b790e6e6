/* test_survey: the ARD data model, the generator and the DESI ingest. SV_GROUP=NAME (model,
 * generate, ingest, pixel_stats, web, anomaly_kinds) runs one group only, for quick iterations. */
#include "sv_util.h"

#include <stdlib.h>
#include <string.h>

static int wanted(const char *name) {
    const char *only = getenv("SV_GROUP");
    return !only || !*only || strcmp(only, name) == 0;
}

int main(void) {
    int failed = 0;
    failed += wanted("model") ? sv_run_model_tests() : 0;
    failed += wanted("generate") ? sv_run_generate_tests() : 0;
    failed += wanted("ingest") ? sv_run_ingest_tests() : 0;
    failed += wanted("pixel_stats") ? sv_run_pixel_stats_tests() : 0;
    failed += wanted("web") ? sv_run_web_tests() : 0;
    failed += wanted("anomaly_kinds") ? sv_run_anomaly_kind_tests() : 0;
    return failed ? 1 : 0;
}
