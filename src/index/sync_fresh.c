/* The fresh load of the spectra table (a sync that finds it empty). spectra is one b-tree keyed by
 * (targetid, file_id, row_group, row_index); tiles arrive in file order, so inserting them window
 * by window would scatter every window over the whole tree. Instead the windows run inside one
 * outer transaction (each a savepoint: a failed window is retried file by file as before), their
 * rows are buffered here, and finish sorts them (LSD radix on targetid; the buffer is already in
 * (file_id, row_group, row_index) order, which a stable sort keeps) and appends them to the tree
 * in key order: one b-tree written once, no secondary index to build (measured at 6.4M rows in
 * bench/results/index.md; on PostgreSQL, a heap in that order and its targetid b-tree built once
 * over presorted rows). The backend may choose a cheaper journal for the load
 * (idx_backend_ops.fresh_journal; SQLite: a rollback journal, so that the appended pages are
 * written once instead of to the WAL and again by its checkpoint). */
#include "index_int.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* Grows the buffer to hold cap rows. */
static ard_status reserve(idx_fresh_spectra *f, int64_t cap, ard_error *err) {
    idx_spectra_row *grown = ard_realloc(f->rows, (size_t)cap * sizeof *grown);
    if (!grown) {
        return ard_error_set(err, ARD_ENOMEM, "out of memory buffering %lld spectra rows",
                             (long long)cap);
    }
    f->rows = grown;
    f->cap = cap;
    ard_advise_huge(f->rows, (size_t)cap * sizeof *grown);
    return ARD_OK;
}

/* The kill test's hook: ARD_FRESH_KILL_AT=k sends SIGKILL to this process at step k of a fresh load
 * (1: the journal chosen, 2: half the sorted rows appended, 3: all of them, 4: committed). */
static void kill_point(int32_t step) {
    const char *at = getenv("ARD_FRESH_KILL_AT");
    if (at && strtol(at, NULL, 10) == step) {
        raise(SIGKILL);
    }
}

static void journal(ard_index *idx, int32_t phase) {
    if (idx->be->ops->fresh_journal) {
        idx->be->ops->fresh_journal(idx->be, phase);
    }
}

ard_status ard__fresh_begin(ard_index *idx, idx_fresh_spectra *fresh, int64_t expected_rows,
                            ard_error *err) {
    memset(fresh, 0, sizeof *fresh);
    /* sized once: growing by doubling copied the buffer (realloc) and faulted its pages again,
     * 14% of a fresh 6.4M-row sync's samples; untouched pages of an estimate too high cost no
     * memory. Too low or refused: it grows as needed. */
    if (expected_rows > 0) {
        int64_t cap = expected_rows + expected_rows / 16 + 65536;
        (void)reserve(fresh, cap < IDX_FRESH_MAX_ROWS ? cap : IDX_FRESH_MAX_ROWS + 65536, NULL);
    }
    journal(idx, 1);
    kill_point(1);
    ard_status st = ard__idx_begin_write(idx, err);
    if (st == ARD_OK) {
        idx->fresh = fresh;
    } else {
        journal(idx, 0);
    }
    return st;
}

/* spectra's primary key (schema.c), or none where a b-tree on targetid keys it (schema 7,
 * ops->spectra_index: bulk_fresh drops that index and builds it again as it does a key) */
static const char *spectra_key(const idx_backend_ops *ops) {
    return ops->spectra_index ? NULL : "targetid,file_id,row_group,row_index";
}

static int row_less(const idx_spectra_row *a, const idx_spectra_row *b) {
    if (a->targetid != b->targetid) {
        return a->targetid < b->targetid;
    }
    if (a->file_id != b->file_id) {
        return a->file_id < b->file_id;
    }
    if (a->row_group != b->row_group) {
        return a->row_group < b->row_group;
    }
    return a->row_index < b->row_index;
}

static int cmp_row(const void *a, const void *b) {
    return row_less(a, b) ? -1 : row_less(b, a);
}

static uint64_t radix_key(const idx_spectra_row *r) {
    return (uint64_t)r->targetid ^ ((uint64_t)1 << 63); /* signed order as unsigned */
}

enum { RADIX_BITS = 11, RADIX_PASSES = 6, RADIX_BUCKETS = 1 << RADIX_BITS }; /* 66 >= 64 bits */

/* Stable LSD radix sort by targetid: the histograms of every digit in one read, then one scatter
 * per digit that is not the same in every row (TARGETIDs span ~46 bits: 5 of the 6). */
static ard_status radix_sort(idx_spectra_row *rows, int64_t n, ard_error *err) {
    idx_spectra_row *tmp = ard_malloc((size_t)n * sizeof *tmp);
    int64_t(*counts)[RADIX_BUCKETS] = ard_calloc(RADIX_PASSES, sizeof *counts);
    if (!tmp || !counts) {
        ard_free(tmp);
        ard_free(counts);
        return ard_error_set(err, ARD_ENOMEM, "out of memory sorting %lld spectra rows",
                             (long long)n);
    }
    ard_advise_huge(tmp, (size_t)n * sizeof *tmp);
    for (int64_t i = 0; i < n; i++) {
        uint64_t k = radix_key(&rows[i]);
        for (int p = 0; p < RADIX_PASSES; p++) {
            counts[p][(k >> (p * RADIX_BITS)) & (RADIX_BUCKETS - 1)]++;
        }
    }
    idx_spectra_row *src = rows, *dst = tmp;
    uint64_t first = radix_key(&rows[0]);
    for (int p = 0; p < RADIX_PASSES; p++) {
        int shift = p * RADIX_BITS;
        int64_t *c = counts[p];
        if (!ard__radix_offsets(c, RADIX_BUCKETS, n, (first >> shift) & (RADIX_BUCKETS - 1))) {
            continue;
        }
        for (int64_t i = 0; i < n; i++) {
            dst[c[(radix_key(&src[i]) >> shift) & (RADIX_BUCKETS - 1)]++] = src[i];
        }
        idx_spectra_row *swap = src;
        src = dst;
        dst = swap;
    }
    if (src != rows) {
        memcpy(rows, src, (size_t)n * sizeof *rows);
    }
    ard_free(counts);
    ard_free(tmp);
    return ARD_OK;
}

/* Sorts the buffer by the full key: the radix sort when the buffer is in (file_id, row_group,
 * row_index) order, as sync appends it; qsort otherwise. */
static ard_status sort_rows(idx_spectra_row *rows, int64_t n, ard_error *err) {
    int appended = 1;
    for (int64_t i = 1; i < n && appended; i++) {
        const idx_spectra_row *a = &rows[i - 1], *b = &rows[i];
        appended = a->file_id < b->file_id ||
                   (a->file_id == b->file_id &&
                    (a->row_group < b->row_group ||
                     (a->row_group == b->row_group && a->row_index < b->row_index)));
    }
    if (n < 2) {
        return ARD_OK;
    }
    if (!appended) {
        qsort(rows, (size_t)n, sizeof *rows, cmp_row);
        return ARD_OK;
    }
    return radix_sort(rows, n, err);
}

/* Sorts and inserts the buffered rows; *distinct = their distinct TARGETIDs. */
static ard_status flush(ard_index *idx, idx_fresh_spectra *f, int64_t *distinct, ard_error *err) {
    static const char *const cols[] = {"targetid", "file_id", "row_group", "row_index"};
    const idx_backend_ops *ops = idx->be->ops;
    *distinct = 0;
    ard_status st = sort_rows(f->rows, f->count, err);
    /* into the empty table, a backend with a cheaper path builds the key once after the load
     * (PostgreSQL: TRUNCATE + COPY FREEZE + CREATE INDEX spectra_targetid, which locks spectra
     * against readers for that last step only; per-row maintenance of the key cost 5x more) */
    int fresh_key = ops->bulk_fresh && !f->flushed && f->count > 0;
    if (st == ARD_OK && fresh_key) {
        st = ops->bulk_fresh(idx->be, "spectra", spectra_key(ops), 1, err);
    }
    if (st == ARD_OK) {
        journal(idx, 2);
    }
    st = st == ARD_OK ? ops->bulk_begin(idx->be, "spectra", cols, 4, err) : st;
    if (st != ARD_OK) {
        journal(idx, 3);
        return st;
    }
    for (int64_t i = 0; i < f->count && st == ARD_OK; i++) {
        const idx_spectra_row *r = &f->rows[i];
        *distinct += i == 0 || r->targetid != f->rows[i - 1].targetid;
        idx_value v[4] = {{IDX_INT, r->targetid, 0, NULL},
                          {IDX_INT, r->file_id, 0, NULL},
                          {IDX_INT, r->row_group, 0, NULL},
                          {IDX_INT, (int64_t)r->row_index, 0, NULL}};
        st = ops->bulk_row(idx->be, v, err);
        if (i == f->count / 2) {
            kill_point(2);
        }
    }
    ard_status end = ops->bulk_end(idx->be, st == ARD_OK ? err : NULL);
    st = st != ARD_OK ? st : end;
    kill_point(3);
    journal(idx, 3);
    if (fresh_key) {
        end = ops->bulk_fresh(idx->be, "spectra", spectra_key(ops), st == ARD_OK ? 2 : 0,
                              st == ARD_OK ? err : NULL);
        st = st != ARD_OK ? st : end;
    }
    f->count = 0;
    f->window_mark = 0;
    return st;
}

ard_status ard__fresh_add(ard_index *idx, int64_t file_id, const ard_pq_metadata *md,
                          const int64_t *targetids, ard_error *err) {
    idx_fresh_spectra *f = idx->fresh;
    int64_t n = md->num_rows;
    if (f->count + n > f->cap) {
        int64_t cap = f->cap ? f->cap : 65536;
        while (cap < f->count + n) {
            cap *= 2;
        }
        ard_status st = reserve(f, cap, err);
        if (st != ARD_OK) {
            return st;
        }
    }
    int64_t at = 0;
    for (int32_t g = 0; g < md->num_row_groups; g++) {
        for (int64_t r = 0; r < md->row_groups[g].num_rows; r++, at++) {
            f->rows[f->count++] = (idx_spectra_row){targetids[at], file_id, g, (uint32_t)r};
        }
    }
    return ARD_OK;
}

/* IDX_FRESH_MAX_ROWS, or the spill test's ARD_FRESH_SPILL_ROWS=n (the early inserts of a survey
 * past 2^26 rows, exercised on a small one). */
static int64_t spill_rows(void) {
    const char *at = getenv("ARD_FRESH_SPILL_ROWS");
    long long n = at ? strtoll(at, NULL, 10) : 0;
    return n > 0 && n < IDX_FRESH_MAX_ROWS ? (int64_t)n : IDX_FRESH_MAX_ROWS;
}

ard_status ard__fresh_spill(ard_index *idx, ard_error *err) {
    idx_fresh_spectra *f = idx->fresh;
    if (f->count <= spill_rows()) {
        return ARD_OK;
    }
    int64_t distinct;
    f->flushed = 1;
    return flush(idx, f, &distinct, err);
}

static void fresh_free(ard_index *idx) {
    if (idx->fresh) {
        ard_free(idx->fresh->rows);
        memset(idx->fresh, 0, sizeof *idx->fresh);
    }
    idx->fresh = NULL;
}

ard_status ard__fresh_finish(ard_index *idx, ard_error *err) {
    idx_fresh_spectra *f = idx->fresh;
    int64_t distinct = 0;
    ard_status st = flush(idx, f, &distinct, err);
    if (st == ARD_OK && !f->flushed) { /* spectra holds exactly these rows: no recount */
        st = ard__idx_execf(idx, err,
                            "DELETE FROM meta WHERE key = 'linkage_distinct_spectra';"
                            " INSERT INTO meta (key, value) VALUES"
                            " ('linkage_distinct_spectra', '%lld')",
                            (long long)distinct);
    }
    st = st == ARD_OK ? ard__idx_exec(idx, "COMMIT", err) : st;
    if (st != ARD_OK) {
        ard__idx_exec(idx, "ROLLBACK", NULL);
    }
    kill_point(4);
    fresh_free(idx);
    journal(idx, 0);
    return st;
}

void ard__fresh_abort(ard_index *idx) {
    if (idx->fresh) {
        ard__idx_exec(idx, "ROLLBACK", NULL);
        fresh_free(idx);
        journal(idx, 0);
    }
}
