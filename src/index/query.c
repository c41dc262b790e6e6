/* Queries: a user predicate over galaxies -> read plan, TARGETID point look-ups -> read plan, and
 * generic read-only SELECTs. User SQL is checked lexically (one expression, no ';' or comments) and
 * then runs under the backend's read-only guards. */
#include "index_int.h"

#include <stdlib.h>
#include <string.h>

#define PLAN_COLUMNS "SELECT s.file_id, s.row_group, s.row_index, s.targetid FROM spectra s"

static ard_status run_plan(ard_index *idx, const char *sql, int guarded, plan_builder *b,
                           ard_error *err) {
    return idx->be->ops->select_ints(idx->be, sql, guarded, ard__plan_builder_row, b, err);
}

/* Phase 1 (sql, guarded for user predicates), phase 2 (row groups + paths), finish. A concurrent
 * sync that removes a file between the two phases makes phase 2 fail: the query runs once more. */
static ard_status plan_sql(ard_index *idx, const char *sql, int guarded, ard_plan **out,
                           ard_error *err) {
    ard_status st = ARD_OK;
    for (int attempt = 0; attempt < 3; attempt++) {
        plan_builder *b = NULL;
        ard_error e;
        ard_error_init(&e);
        st = ard__plan_builder_new(&b, &e);
        st = st == ARD_OK ? run_plan(idx, sql, guarded, b, &e) : st;
        int phase2 = st == ARD_OK;
        st = st == ARD_OK ? ard__plan_builder_resolve(b, idx, &e) : st;
        st = st == ARD_OK ? ard__plan_builder_finish(b, out, &e) : st;
        ard__plan_builder_free(b);
        if (st == ARD_OK || !phase2 || st != ARD_EDB || attempt == 2) {
            if (st != ARD_OK && err) {
                *err = e;
                ard_error_prefix(err, "query: ");
            }
            return st;
        }
    }
    return st;
}

ard_status ard_index_query(ard_index *idx, const char *where, int64_t limit, ard_plan **out,
                           ard_error *err) {
    if (!idx || !out) {
        return ard_error_set(err, ARD_EINVAL, "ard_index_query: index and out are required");
    }
    *out = NULL;
    int all = !where || !*where;
    ard_status st = all ? ARD_OK : ard__predicate_check(where, err);
    if (st == ARD_OK && limit <= 0) { /* broad or not: plan_scan picks; NULL = the spectra table */
        st = ard__plan_scan(idx, all ? NULL : where, out, err);
        if (st != ARD_OK || *out) {
            return st;
        }
    }
    if (st != ARD_OK) {
        return st;
    }
    ard_buf sql;
    ard_buf_init(&sql);
    ard_buf_appendf(&sql, "%s", PLAN_COLUMNS);
    if (!all) {
        ard_buf_appendf(&sql, " WHERE s.targetid IN (SELECT targetid FROM galaxies WHERE (%s))",
                        where);
    }
    if (limit > 0) {
        ard_buf_appendf(&sql,
                        " ORDER BY s.targetid, s.file_id, s.row_group, s.row_index LIMIT %lld",
                        (long long)limit);
    }
    ard_buf_append(&sql, "", 1);
    st = sql.failed ? ard_error_set(err, ARD_ENOMEM, "out of memory")
                    : plan_sql(idx, (const char *)sql.data, 1, out, err);
    ard_buf_reset(&sql);
    return st;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

ard_status ard_index_query_targetids(ard_index *idx, const int64_t *targetids, int64_t count,
                                     ard_plan **out, ard_error *err) {
    if (!idx || !out || count < 0 || (count > 0 && !targetids)) {
        return ard_error_set(err, ARD_EINVAL, "ard_index_query_targetids: bad arguments");
    }
    *out = NULL;
    int64_t *ids = ard_malloc((size_t)(count ? count : 1) * sizeof *ids);
    if (!ids) {
        return ard_error_set(err, ARD_ENOMEM, "out of memory");
    }
    if (count > 0) {
        memcpy(ids, targetids, (size_t)count * sizeof *ids);
    }
    if (count > 1) {
        qsort(ids, (size_t)count, sizeof *ids, cmp_i64);
    }
    ard_status st = ard__plan_sorted_ids(idx, ids, count, out, err);
    ard_free(ids);
    return st;
}

ard_status ard__plan_sorted_ids(ard_index *idx, const int64_t *ids, int64_t count, ard_plan **out,
                                ard_error *err) {
    *out = NULL;
    plan_builder *b = NULL;
    if (ard__plan_builder_new(&b, err) != ARD_OK) {
        return ARD_ENOMEM;
    }
    ard_status st = ARD_OK;
    ard_buf sql;
    ard_buf_init(&sql);
    for (int64_t at = 0; at < count && st == ARD_OK;) {
        sql.len = 0;
        ard_buf_appendf(&sql, "%s WHERE s.targetid IN (", PLAN_COLUMNS);
        int64_t n = 0;
        for (; at < count && n < 1000; at++) {
            if (at > 0 && ids[at] == ids[at - 1]) {
                continue;
            }
            ard_buf_appendf(&sql, "%s%lld", n++ ? "," : "", (long long)ids[at]);
        }
        ard_buf_append(&sql, ")", 2);
        if (n == 0) {
            break; /* only repeats were left; PostgreSQL refuses "IN ()" */
        }
        st = sql.failed ? ard_error_set(err, ARD_ENOMEM, "out of memory")
                        : run_plan(idx, (const char *)sql.data, 0, b, err);
    }
    st = st == ARD_OK ? ard__plan_builder_resolve(b, idx, err) : st;
    st = st == ARD_OK ? ard__plan_builder_finish(b, out, err) : st;
    ard_buf_reset(&sql);
    ard__plan_builder_free(b);
    return st;
}

ard_status ard_index_select(ard_index *idx, const char *sql, ard_index_row_fn fn, void *ctx,
                            ard_error *err) {
    if (!idx || !sql) {
        return ard_error_set(err, ARD_EINVAL, "ard_index_select: index and sql are required");
    }
    ard_status st = ard__predicate_check(sql, err);
    if (st != ARD_OK) {
        return st;
    }
    return idx->be->ops->select(idx->be, sql, 1, fn, ctx, err);
}
