/* The query stage: options -> a read plan and a report. Opens the index read-only, runs the
 * predicate or the TARGETID look-ups (from an array or a text file of one id per line) and times
 * it; `ard query`, `ard fetch` and Python call this one function. */
#include "index_int.h"

#include <string.h>
#include <time.h>

void ard_query_options_init(ard_query_options *opts) {
    memset(opts, 0, sizeof *opts);
}

/* One TARGETID per line: decimal, optional surrounding blanks; blank lines skipped. */
static ard_status parse_ids(const char *path, const char *text, size_t len, int64_t **ids,
                            int64_t *count, ard_error *err) {
    int64_t cap = 1024, n = 0, lineno = 0;
    int64_t *v = ard_malloc((size_t)cap * sizeof *v);
    if (!v) {
        return ard_error_set(err, ARD_ENOMEM, "out of memory reading %s", path);
    }
    for (size_t at = 0; at < len;) {
        const char *line = text + at, *nl = memchr(line, '\n', len - at);
        size_t llen = nl ? (size_t)(nl - line) : len - at;
        at += llen + 1;
        lineno++;
        size_t k = 0;
        while (k < llen && (line[k] == ' ' || line[k] == '\t' || line[k] == '\r')) {
            k++;
        }
        if (k == llen) {
            continue;
        }
        int neg = line[k] == '-';
        k += (size_t)neg;
        uint64_t x = 0;
        size_t digits = 0;
        for (; k < llen && line[k] >= '0' && line[k] <= '9' && x <= (uint64_t)INT64_MAX / 10;
             k++, digits++) {
            x = x * 10 + (uint64_t)(line[k] - '0');
        }
        while (k < llen && (line[k] == ' ' || line[k] == '\t' || line[k] == '\r')) {
            k++;
        }
        if (digits == 0 || k != llen || x > (uint64_t)INT64_MAX) {
            ard_free(v);
            return ard_error_set(err, ARD_EINVAL, "%s line %lld: not a TARGETID", path,
                                 (long long)lineno);
        }
        if (n == cap) {
            int64_t *grown = ard_realloc(v, (size_t)(cap *= 2) * sizeof *v);
            if (!grown) {
                ard_free(v);
                return ard_error_set(err, ARD_ENOMEM, "out of memory reading %s", path);
            }
            v = grown;
        }
        v[n++] = neg ? -(int64_t)x : (int64_t)x;
    }
    *ids = v;
    *count = n;
    return ARD_OK;
}

static ard_status read_ids_file(const char *path, int64_t **ids, int64_t *count, ard_error *err) {
    ard_mapped_file m;
    ard_status st = ard_file_map(path, &m, err);
    if (st == ARD_OK) {
        st = parse_ids(path, (const char *)m.data, (size_t)m.size, ids, count, err);
        ard_file_unmap(&m);
    }
    return st;
}

static ard_status run_query(ard_index *idx, const ard_query_options *o, ard_plan **out,
                            ard_error *err) {
    if (!o->targetids && !o->targetids_file) {
        return ard_index_query(idx, o->where, o->limit, out, err);
    }
    int64_t *ids = NULL, n = o->num_targetids;
    ard_status st = ARD_OK;
    if (o->targetids_file) {
        st = read_ids_file(o->targetids_file, &ids, &n, err);
    }
    if (st == ARD_OK) {
        st = ard_index_query_targetids(idx, ids ? ids : o->targetids, n, out, err);
    }
    ard_free(ids);
    return st;
}

ard_status ard_query_run(const ard_query_options *o, ard_plan **out, ard_query_report *report,
                         ard_error *err) {
    if (!o || !out) {
        return ard_error_set(err, ARD_EINVAL, "ard_query_run: options and out are required");
    }
    *out = NULL;
    int sources = (o->where != NULL) + (o->targetids != NULL) + (o->targetids_file != NULL);
    if (sources > 1 || o->limit < 0 || o->num_targetids < 0 ||
        (o->targetids && o->num_targetids == 0)) {
        return ard_error_set(err, ARD_EINVAL,
                             "query: give one of where, targetids, targetids_file (limit >= 0)");
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ard_index *idx = NULL;
    ard_status st = ard_index_open(o->dataset, o->dsn, ARD_INDEX_READ_ONLY, &idx, err);
    if (st == ARD_OK) {
        st = run_query(idx, o, out, err);
    }
    ard_index_close(idx);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (report) {
        memset(report, 0, sizeof *report);
        report->spectra = ard_plan_num_rows(*out);
        report->files = ard_plan_num_files(*out);
        report->row_groups = ard_plan_num_chunks(*out);
        report->seconds =
            (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    }
    return st;
}
