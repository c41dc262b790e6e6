/* The TARGETID linkage between galaxies and spectra, kept in the index for the datasheet:
 * catalog_linkage(target_class, without_spectrum) counts the catalog rows without a spectrum per
 * class, and meta 'linkage_distinct_spectra' the distinct TARGETIDs of the spectra. Both depend on
 * every file at once, so they cannot be per-file aggregates like catalog_summary.
 *
 * Validity: two meta keys, 'linkage_distinct_spectra' (its value is the count) and
 * 'linkage_by_class' (for the catalog_linkage rows); each exists only while its numbers describe
 * the rows in the index. Every sync transaction that changes spectra or galaxies either updates
 * both in that transaction (a small tile change, below) or deletes the keys that went stale (a
 * catalog change leaves the spectra alone: only 'linkage_by_class'); a sync that ends with a key
 * missing recomputes what it covers (ard__linkage_refresh) in one writer transaction. A reader that
 * misses a key (a sync killed before its refresh, or one still running) computes the linkage.
 *
 * Cost, measured at 6.4M rows (SQLite, 2 CPUs): recomputing is the NOT EXISTS probe of galaxies in
 * table order (1.7 s) plus count(DISTINCT) over the spectra TARGETID index (1.8 s); a LEFT JOIN
 * from the distinct spectra TARGETIDs answering both at once measured 4.5 s. An unchanged re-sync
 * pays one meta look-up. A sync changing a few tiles would pay the full ~3.5 s on top of its ~1 s,
 * so tile changes are applied as deltas instead: only the TARGETIDs of the deleted and the written
 * spectra rows can change state, so their contribution is counted before and after the change (IN
 * lists over the TARGETID indexes) and the difference applied. Past a budget of TARGETIDs per sync
 * (a fresh or large sync, where per-TARGETID probes cost more than the two scans) the keys are
 * dropped and the end of the sync recomputes. A catalog change recomputes the per-class rows (its
 * DELETE already scans galaxies; probing each of its rows would cost as much). */
#include "index_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const linkage_key = "linkage_distinct_spectra";
static const char *const class_key = "linkage_by_class";

ard_status ard__linkage_invalidate(ard_index *idx, ard_error *err) {
    return ard__idx_execf(idx, err, "DELETE FROM meta WHERE key IN ('%s', '%s')", linkage_key,
                          class_key);
}

static ard_status has_key(ard_index *idx, const char *key, int64_t *valid, ard_error *err) {
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM meta WHERE key = '%s'", key);
    return ard__idx_int(idx, sql, valid, err);
}

/* Recomputes what a missing key says is stale (checked under the writer lock: another writer may
 * have recomputed meanwhile). */
static ard_status recompute(ard_index *idx, ard_error *err) {
    int64_t classes_ok = 0, distinct_ok = 0;
    ard_status st = has_key(idx, class_key, &classes_ok, err);
    st = st == ARD_OK ? has_key(idx, linkage_key, &distinct_ok, err) : st;
    int counted = 0; /* by the client, from the rows of a fresh catalog load (linkage_fresh.c) */
    int64_t distinct = 0;
    if (st == ARD_OK && !classes_ok && ard__cat_tids_active(idx->cat_tids)) {
        st = ard__cat_tids_count(idx, idx->cat_tids, &counted, &distinct, err);
    }
    if (st == ARD_OK && !classes_ok && !counted) {
        st = ard__idx_exec(idx, "DELETE FROM catalog_linkage", err);
        st = st == ARD_OK ? ard__idx_exec(idx,
                                          "INSERT INTO catalog_linkage (target_class,"
                                          " without_spectrum) SELECT target_class, count(*)"
                                          " FROM galaxies g WHERE NOT EXISTS (SELECT 1 FROM"
                                          " spectra s WHERE s.targetid = g.targetid)"
                                          " GROUP BY target_class",
                                          err)
                          : st;
    }
    if (st == ARD_OK && !classes_ok) {
        st = ard__idx_execf(idx, err, "INSERT INTO meta (key, value) VALUES ('%s', 'valid')",
                            class_key);
    }
    if (st == ARD_OK && !distinct_ok && counted) {
        st = ard__idx_execf(idx, err, "INSERT INTO meta (key, value) VALUES ('%s', '%lld')",
                            linkage_key, (long long)distinct);
    } else if (st == ARD_OK && !distinct_ok) {
        /* DISTINCT in a subquery, not count(DISTINCT): SQLite then walks the TARGETID index
         * in order instead of filling a temporary b-tree with 6.4M keys (1.8 -> 0.3 CPU s), and
         * PostgreSQL may hash in parallel instead of sorting */
        st = ard__idx_execf(idx, err,
                            "INSERT INTO meta (key, value) SELECT '%s', CAST(count(*) AS TEXT)"
                            " FROM (SELECT DISTINCT targetid FROM spectra) d",
                            linkage_key);
    }
    return st;
}

/* 1 in *valid when both keys are there. */
static ard_status key_valid(ard_index *idx, int64_t *valid, ard_error *err) {
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM meta WHERE key IN ('%s', '%s')", linkage_key,
             class_key);
    ard_status st = ard__idx_int(idx, sql, valid, err);
    *valid = *valid == 2;
    return st;
}

ard_status ard__linkage_refresh(ard_index *idx, ard_error *err) {
    int64_t valid = 0;
    ard_status st = key_valid(idx, &valid, err);
    if (st != ARD_OK || valid) {
        return st; /* the unchanged re-sync: no writer lock taken */
    }
    st = ard__idx_begin_write(idx, err);
    if (st != ARD_OK) {
        return st;
    }
    st = recompute(idx, err);
    st = st == ARD_OK ? ard__idx_exec(idx, "COMMIT", err) : st;
    if (st != ARD_OK) {
        ard__idx_exec(idx, "ROLLBACK", NULL);
    }
    return st;
}

/* ---- deltas for small tile changes ---- */

enum { DELTA_CHUNK = 500 };

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* The TARGETIDs whose state the window can change: its deleted and its written spectra rows.
 * *over = 1 when they exceed the budget. */
static ard_status affected(ard_index *idx, const int64_t *old_ids, int64_t num_old,
                           const sync_item *items, int64_t count, idx_linkage_change *c, int *over,
                           ard_error *err) {
    int64_t rows = 0;
    for (int64_t i = 0; i < count; i++) {
        rows += items[i].st == ARD_OK && items[i].targetids ? items[i].num_rows : 0;
    }
    *over = rows > idx->linkage_budget || idx->linkage_budget <= 0;
    c->cap = idx->linkage_budget + 1;
    c->tids = *over ? NULL : ard_malloc((size_t)c->cap * sizeof *c->tids);
    if (*over || !c->tids) {
        return *over ? ARD_OK : ard_error_set(err, ARD_ENOMEM, "out of memory");
    }
    for (int64_t i = 0; i < count; i++) {
        if (items[i].st == ARD_OK && items[i].targetids) {
            memcpy(c->tids + c->num_tids, items[i].targetids,
                   (size_t)items[i].num_rows * sizeof *c->tids);
            c->num_tids += items[i].num_rows;
        }
    }
    /* the deleted rows' TARGETIDs from row_groups.targetids (spectra is keyed by targetid); a
     * file without them (synced before schema 5) makes the sync recompute instead */
    idx_file_tids old;
    ard_status st = ard__rg_targetids_of_files(idx, old_ids, num_old, &old, err);
    if (st == ARD_OK && (old.num_unknown > 0 || old.count >= c->cap - c->num_tids)) {
        c->num_tids = c->cap; /* over the budget */
    } else if (st == ARD_OK && old.count > 0) {
        memcpy(c->tids + c->num_tids, old.tids, (size_t)old.count * sizeof *c->tids);
        c->num_tids += old.count;
    }
    ard__file_tids_reset(&old);
    *over = c->num_tids >= c->cap;
    if (st == ARD_OK && !*over && c->num_tids > 1) {
        qsort(c->tids, (size_t)c->num_tids, sizeof *c->tids, cmp_i64);
        int64_t n = 1;
        for (int64_t i = 1; i < c->num_tids; i++) {
            if (c->tids[i] != c->tids[n - 1]) {
                c->tids[n++] = c->tids[i];
            }
        }
        c->num_tids = n;
    }
    return st;
}

/* Adds `sign` x (per class count) of one row of the NOT EXISTS query. */
typedef struct tally_ctx {
    idx_linkage_change *c;
    int64_t sign;
    int failed;
} tally_ctx;

static int tally_row(void *ctx, int32_t n, const char *const *names, const char *const *v) {
    (void)names;
    tally_ctx *t = ctx;
    idx_linkage_change *c = t->c;
    if (n < 2 || !v[1]) {
        return 0;
    }
    int32_t k = 0;
    while (k < c->num_classes && !(c->classes[k].null_name == !v[0] &&
                                   (!v[0] || strcmp(c->classes[k].name, v[0]) == 0))) {
        k++;
    }
    if (k == c->num_classes) {
        if (k == IDX_LINKAGE_MAX_CLASSES) {
            t->failed = 1; /* too many classes to track: the caller recomputes instead */
            return 1;
        }
        snprintf(c->classes[k].name, sizeof c->classes[k].name, "%s", v[0] ? v[0] : "");
        c->classes[k].null_name = !v[0];
        c->classes[k].delta = 0;
        if (v[0] && strlen(v[0]) >= sizeof c->classes[k].name) {
            t->failed = 1;
            return 1;
        }
        c->num_classes++;
    }
    c->classes[k].delta += t->sign * strtoll(v[1], NULL, 10);
    return 0;
}

/* Counts the state of the affected TARGETIDs with weight `sign`: distinct spectra among them and
 * their catalog rows without a spectrum per class. *failed = 1 when it cannot track the classes. */
static ard_status tally(ard_index *idx, idx_linkage_change *c, int64_t sign, int *failed,
                        ard_error *err) {
    ard_status st = ARD_OK;
    tally_ctx t = {c, sign, 0};
    for (int64_t at = 0; at < c->num_tids && st == ARD_OK && !t.failed; at += DELTA_CHUNK) {
        ard_buf list, sql;
        ard_buf_init(&list);
        ard_buf_init(&sql);
        for (int64_t i = at; i < c->num_tids && i < at + DELTA_CHUNK; i++) {
            ard_buf_appendf(&list, "%s%lld", i > at ? "," : "", (long long)c->tids[i]);
        }
        ard_buf_append(&list, "", 1);
        ard_buf_appendf(&sql, "SELECT count(DISTINCT targetid) FROM spectra WHERE targetid IN (%s)",
                        (const char *)list.data);
        ard_buf_append(&sql, "", 1);
        int64_t distinct = 0;
        st = sql.failed || list.failed ? ard_error_set(err, ARD_ENOMEM, "out of memory")
                                       : ard__idx_int(idx, (const char *)sql.data, &distinct, err);
        c->distinct += sign * distinct;
        sql.len = 0;
        ard_buf_appendf(&sql,
                        "SELECT target_class, count(*) FROM galaxies g WHERE g.targetid IN (%s)"
                        " AND NOT EXISTS (SELECT 1 FROM spectra s WHERE s.targetid = g.targetid)"
                        " GROUP BY target_class",
                        (const char *)list.data);
        ard_buf_append(&sql, "", 1);
        if (st == ARD_OK) {
            st = sql.failed
                     ? ard_error_set(err, ARD_ENOMEM, "out of memory")
                     : idx->be->ops->select(idx->be, (const char *)sql.data, 0, tally_row, &t, err);
        }
        ard_buf_reset(&list);
        ard_buf_reset(&sql);
    }
    *failed = t.failed;
    return st;
}

void ard__linkage_change_reset(idx_linkage_change *c) {
    ard_free(c->tids);
    memset(c, 0, sizeof *c);
}

ard_status ard__linkage_change_begin(ard_index *idx, const int64_t *old_ids, int64_t num_old,
                                     const sync_item *items, int64_t count, int tiles, int catalogs,
                                     idx_linkage_change *c, ard_error *err) {
    memset(c, 0, sizeof *c);
    if (catalogs && num_old > 0) { /* galaxies loses rows: the fresh load's lists go stale */
        ard__cat_tids_drop(idx->cat_tids);
    }
    if (catalogs && !tiles) { /* the spectra stay: only the per-class rows go stale */
        return ard__idx_execf(idx, err, "DELETE FROM meta WHERE key = '%s'", class_key);
    }
    int64_t valid = 0;
    ard_status st = key_valid(idx, &valid, err);
    if (st != ARD_OK || !valid) {
        return st == ARD_OK ? ard__linkage_invalidate(idx, err) : st; /* stays invalid */
    }
    int over = catalogs;
    if (!over) {
        st = affected(idx, old_ids, num_old, items, count, c, &over, err);
    }
    int failed = 0;
    if (st == ARD_OK && !over) {
        idx->linkage_budget -= c->num_tids;
        st = tally(idx, c, -1, &failed, err);
    }
    if (st != ARD_OK || over || failed) {
        ard__linkage_change_reset(c);
        return st == ARD_OK ? ard__linkage_invalidate(idx, err) : st;
    }
    c->active = 1;
    return ARD_OK;
}

/* Appends the WHERE condition selecting class k of the change (quotes doubled). */
static void class_cond(ard_buf *b, const idx_linkage_class *k) {
    if (k->null_name) {
        ard_buf_appendf(b, "target_class IS NULL");
        return;
    }
    ard_buf_appendf(b, "target_class = '");
    for (const char *p = k->name; *p; p++) {
        ard_buf_append(b, p, 1);
        if (*p == '\'') {
            ard_buf_append(b, "'", 1);
        }
    }
    ard_buf_append(b, "'", 1);
}

static ard_status apply_class(ard_index *idx, const idx_linkage_class *k, int *negative,
                              ard_error *err) {
    ard_buf cond, sql;
    ard_buf_init(&cond);
    ard_buf_init(&sql);
    class_cond(&cond, k);
    ard_buf_append(&cond, "", 1);
    int64_t now = 0;
    ard_buf_appendf(&sql,
                    "SELECT COALESCE(sum(without_spectrum), 0) FROM catalog_linkage WHERE %s%c",
                    (const char *)cond.data, '\0');
    ard_status st = sql.failed || cond.failed
                        ? ard_error_set(err, ARD_ENOMEM, "out of memory")
                        : ard__idx_int(idx, (const char *)sql.data, &now, err);
    now += k->delta;
    *negative = now < 0;
    if (st == ARD_OK && !*negative) {
        st = ard__idx_execf(idx, err, "DELETE FROM catalog_linkage WHERE %s",
                            (const char *)cond.data);
    }
    if (st == ARD_OK && !*negative && now > 0) {
        sql.len = 0;
        ard_buf_appendf(&sql,
                        "INSERT INTO catalog_linkage (target_class, without_spectrum) SELECT ");
        if (k->null_name) {
            ard_buf_appendf(&sql, "NULL");
        } else { /* the quoted literal of class_cond, after its "target_class = " */
            ard_buf_appendf(&sql, "%s", (const char *)cond.data + 15);
        }
        ard_buf_appendf(&sql, ", %lld%c", (long long)now, '\0');
        st = sql.failed ? ard_error_set(err, ARD_ENOMEM, "out of memory")
                        : ard__idx_exec(idx, (const char *)sql.data, err);
    }
    ard_buf_reset(&cond);
    ard_buf_reset(&sql);
    return st;
}

ard_status ard__linkage_change_end(ard_index *idx, idx_linkage_change *c, ard_error *err) {
    if (!c->active) {
        return ARD_OK;
    }
    int failed = 0, negative = 0;
    ard_status st = tally(idx, c, 1, &failed, err);
    int64_t distinct = 0;
    if (st == ARD_OK && !failed) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT value FROM meta WHERE key = '%s'", linkage_key);
        st = ard__idx_int(idx, sql, &distinct, err);
        distinct += c->distinct;
        negative = distinct < 0;
    }
    for (int32_t k = 0; k < c->num_classes && st == ARD_OK && !failed && !negative; k++) {
        if (c->classes[k].delta != 0) {
            st = apply_class(idx, &c->classes[k], &negative, err);
        }
    }
    if (st == ARD_OK && !failed && !negative) {
        st = ard__idx_execf(idx, err, "UPDATE meta SET value = '%lld' WHERE key = '%s'",
                            (long long)distinct, linkage_key);
    } else if (st ==
               ARD_OK) { /* cannot happen with a consistent index: recompute rather than lie */
        st = ard__linkage_invalidate(idx, err);
    }
    ard__linkage_change_reset(c);
    return st;
}
