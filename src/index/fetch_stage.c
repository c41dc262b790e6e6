/* The fetch stage: the query stage's plan read from the tiles and written out as Parquet or .npy,
 * in one call that `ard fetch` and Python share. */
#include "index_int.h"

#include <string.h>
#include <time.h>

void ard_fetch_options_init(ard_fetch_options *opts) {
    memset(opts, 0, sizeof *opts);
    ard_query_options_init(&opts->query);
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The format to write: the requested one, or the one out_path's ending names; -1 when neither. */
static int32_t resolve_format(const ard_fetch_options *o) {
    if (o->format == ARD_FETCH_FORMAT_PARQUET || o->format == ARD_FETCH_FORMAT_NPY) {
        return o->format;
    }
    if (o->format != ARD_FETCH_FORMAT_AUTO) {
        return -1;
    }
    if (ends_with(o->out_path, ".parquet")) {
        return ARD_FETCH_FORMAT_PARQUET;
    }
    return ends_with(o->out_path, ".npy") ? ARD_FETCH_FORMAT_NPY : -1;
}

static double seconds_since(const struct timespec *t0) {
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) * 1e-9;
}

ard_status ard_fetch_run(const ard_fetch_options *o, ard_fetch_report *report, ard_error *err) {
    if (report) {
        memset(report, 0, sizeof *report);
    }
    if (!o || !o->out_path || !o->query.dataset) {
        return ard_error_set(err, ARD_EINVAL, "fetch: a dataset and an output path are required");
    }
    int32_t format = resolve_format(o);
    if (format < 0 || o->num_columns < 0 || o->num_columns > 8 ||
        (o->num_columns > 0 && !o->columns)) {
        return ard_error_set(err, ARD_EINVAL,
                             "fetch: %s: the output must end in .parquet or .npy (or name a format)"
                             " and take 0 to 8 columns",
                             o->out_path);
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ard_plan *plan = NULL;
    ard_status st = ard_query_run(&o->query, &plan, report ? &report->query : NULL, err);
    int64_t rows = 0;
    const char *const *cols = o->num_columns > 0 ? o->columns : NULL;
    if (st == ARD_OK && format == ARD_FETCH_FORMAT_NPY) {
        st = ard__fetch_export_npy(o->query.dataset, plan, cols, o->num_columns, o->threads,
                                   o->out_path, o->source, &rows, err);
    } else if (st == ARD_OK) {
        st = ard__fetch_export_parquet(o->query.dataset, plan, cols, o->num_columns, o->threads,
                                       o->out_path, o->source, &rows, err);
    }
    ard_plan_free(plan);
    if (report) {
        report->rows = rows;
        report->seconds = seconds_since(&t0);
    }
    return st;
}
