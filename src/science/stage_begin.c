/* The preamble every science stage call shares (fof, anomaly train/score, cosmicweb train/predict):
 * the report zeroed, the clock started, and the checks every stage's options need before any work —
 * a dataset, and run ids that the index's result-run API accepts (one validator:
 * ard_result_run_id_valid; one default id: ard_result_run_id_now). */
#include "science_int.h"

#include <stdio.h>
#include <string.h>

ard_status ard__sci_stage_begin(const char *stage, const char *dataset, const char *run_id,
                                void *report, size_t report_size, double *t0, ard_error *err) {
    if (report) {
        memset(report, 0, report_size);
    }
    if (t0) {
        *t0 = ard__sci_now();
    }
    if (!dataset) {
        return ard_error_set(err, ARD_EINVAL, "%s: the dataset is not set", stage);
    }
    return ard__sci_check_run_id(stage, "run id", run_id, err);
}

ard_status ard__sci_check_run_id(const char *stage, const char *what, const char *run_id,
                                 ard_error *err) {
    if (run_id && !ard_result_run_id_valid(run_id)) {
        return ard_error_set(err, ARD_EINVAL, "%s: %s '%.80s' is not 1-64 bytes of [A-Za-z0-9_-]",
                             stage, what, run_id);
    }
    return ARD_OK;
}

void ard__sci_run_id(const char *given, char *out, size_t cap) {
    if (given) {
        snprintf(out, cap, "%s", given);
    } else {
        ard_result_run_id_now(out, cap);
    }
}
