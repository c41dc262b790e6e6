/* A shuffled sparse selection (issue 13: training on `TARGETID % 8 = 0` of a 23,000-tile survey
 * grew the heap by ~450 KB per spectrum). A selection takes a few rows of many row groups, one read
 * item per row; the loader used to shuffle those items one by one, so a row group's rows were
 * spread over the whole epoch and its decoded entry (freed after its last row) lived that long:
 * the decoded bytes grew with the number of row groups. Now row groups move as a whole (the
 * documented "row groups shuffled, then a local shuffle buffer") and an entry keeps only the rows
 * the plan selects. Checked here: the decoded peak (the loader's own accounting) stays within a
 * few row groups and does not grow with the dataset (120 vs 480 row groups); every selected
 * spectrum comes exactly once with the same tokens, scales, mask, flags and weights as an
 * unshuffled full read; without a buffer a row group's rows come out consecutively. */
#include "st_util.h"
#include "stream_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

enum { ROWS = 600, WIDTH = 256, RPG = 10, EVERY = 5, BATCH = 16, BUFFER = 32 };
enum { SMALL = 2, BIG = 8 }; /* tiles: 120 and 480 row groups */
enum { NP = WIDTH / 64, PATCH = 64 };

static char *g_small, *g_big;

static int setup(void **state) {
    (void)state;
    g_small = st_make_dataset(SMALL, ROWS, WIDTH, RPG);
    g_big = st_make_dataset(BIG, ROWS, WIDTH, RPG);
    return g_small && g_big ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    st_rmtree(g_small);
    st_rmtree(g_big);
    free(g_small);
    free(g_big);
    return 0;
}

/* What a spectrum came out as, by TARGETID. */
typedef struct row_rec {
    int64_t id;
    float tokens[NP * PATCH], scales[NP], weights[NP * PATCH];
    uint8_t mask[NP], flags;
    int32_t seen;
} row_rec;

static void options(ard_loader_options *o, int32_t shuffle, int64_t buffer) {
    ard_loader_options_init(o);
    o->batch_size = BATCH;
    o->prefetch_batches = 4;
    o->threads = 2;
    o->shuffle = shuffle;
    o->local_shuffle_buffer = buffer;
    o->seed = 11;
    o->weights = 1;
}

/* Streams one epoch; recs[k] gets the k-th spectrum delivered. Returns the count. */
static int64_t stream(ard_loader *l, row_rec *recs, int64_t cap) {
    ard_store *c = NULL;
    assert_int_equal(ard_store_attach(ard_loader_store(l), &c, NULL), ARD_OK);
    assert_int_equal(ard_loader_start(l, NULL), ARD_OK);
    int64_t n = 0;
    ard_batch b;
    ard_status st;
    while ((st = ard_store_acquire(c, 30000, &b, NULL)) == ARD_OK) {
        const float *w = ard_batch_weights(c, &b);
        assert_non_null(w);
        assert_int_equal(b.num_patches, NP);
        for (int i = 0; i < b.count; i++) {
            assert_true(n < cap);
            row_rec *r = &recs[n++];
            r->id = b.targetid[i];
            memcpy(r->tokens, b.tokens + (size_t)i * NP * PATCH, sizeof r->tokens);
            memcpy(r->scales, b.scales + (size_t)i * NP, sizeof r->scales);
            memcpy(r->weights, w + (size_t)i * NP * PATCH, sizeof r->weights);
            memcpy(r->mask, b.mask + (size_t)i * NP, sizeof r->mask);
            r->flags = b.flags[i];
        }
        ard_store_release(c, &b, NULL);
    }
    assert_int_equal(st, ARD_EEOF);
    assert_int_equal(ard_loader_wait(l, NULL), ARD_OK);
    ard_store_close(c);
    return n;
}

/* One single-row item per EVERY-th row of each tile (what a `TARGETID % 5 = 0` plan gives). */
static ard_read_item *sparse_items(const char *dataset, int tiles, char ***paths_out,
                                   int64_t *count) {
    char **paths = calloc((size_t)tiles, sizeof *paths);
    ard_read_item *items = calloc((size_t)tiles * ROWS / EVERY, sizeof *items);
    int64_t n = 0;
    for (int t = 0; t < tiles; t++) {
        size_t len = strlen(dataset) + 64;
        paths[t] = malloc(len);
        snprintf(paths[t], len, "%s/tiles/main/%d.parquet", dataset, 100 + t);
        for (int64_t r = 0; r < ROWS; r += EVERY) {
            items[n++] = (ard_read_item){paths[t], (int32_t)(r / RPG), r % RPG, 1};
        }
    }
    *paths_out = paths;
    *count = n;
    return items;
}

static void free_items(ard_read_item *items, char **paths, int tiles) {
    for (int t = 0; t < tiles; t++) {
        free(paths[t]);
    }
    free(paths);
    free(items);
}

static int64_t id_of(int tile, int64_t row) {
    return (int64_t)(tile + 1) * 1000000 + row;
}

/* Streams the sparse selection of `tiles` tiles shuffled with `buffer`; checks every selected id
 * once; returns the loader's decoded peak and the bytes of one whole decoded row group. */
static int64_t sparse_peak(const char *dataset, int tiles, int64_t buffer, row_rec *recs,
                           int64_t *entry_bytes) {
    char **paths = NULL;
    int64_t count = 0;
    ard_read_item *items = sparse_items(dataset, tiles, &paths, &count);
    ard_loader_options o;
    options(&o, 1, buffer);
    ard_loader *l = NULL;
    assert_int_equal(ard_loader_new(&o, items, count, &l, NULL), ARD_OK);
    *entry_bytes = ard__loader_entry_bytes(l);
    assert_int_equal(stream(l, recs, count), count);
    int64_t peak = l->decode_peak;
    ard_loader_free(l);
    free_items(items, paths, tiles);
    return peak;
}

static int cmp_rec(const void *a, const void *b) {
    int64_t x = ((const row_rec *)a)->id, y = ((const row_rec *)b)->id;
    return x < y ? -1 : x > y;
}

static void test_peak_flat_in_dataset_size(void **state) {
    (void)state;
    int64_t cap = (int64_t)BIG * ROWS / EVERY;
    row_rec *recs = calloc((size_t)cap, sizeof *recs);
    int64_t entry = 0;
    int64_t small = sparse_peak(g_small, SMALL, BUFFER, recs, &entry);
    int64_t big = sparse_peak(g_big, BIG, BUFFER, recs, &entry);
    qsort(recs, (size_t)cap, sizeof *recs, cmp_rec);
    for (int t = 0, k = 0; t < BIG; t++) {
        for (int64_t r = 0; r < ROWS; r += EVERY, k++) {
            assert_int_equal(recs[k].id, id_of(t, r)); /* each selected spectrum once */
        }
    }
    print_message("sparse shuffled selection: decoded peak %lld bytes over %d row groups, %lld "
                  "over %d (one whole row group %lld)\n",
                  (long long)small, SMALL * ROWS / RPG, (long long)big, BIG * ROWS / RPG,
                  (long long)entry);
    /* two producers decode one whole row group each (plus the pool's two spare buffers per
     * thread); the compact entries the shuffle buffer keeps open hold ~BUFFER spectra */
    int64_t row_bytes = 2 * WIDTH * 4 + 8;
    assert_true(big <= 4 * entry + 4 * BUFFER * row_bytes);
    assert_true(big <= small + small / 2); /* not growing with the row groups (was ~4x) */
    free(recs);
}

/* Without a buffer a row group's selected rows come out one after the other. */
static void test_row_groups_move_whole(void **state) {
    (void)state;
    int64_t cap = (int64_t)SMALL * ROWS / EVERY, entry = 0;
    row_rec *recs = calloc((size_t)cap, sizeof *recs);
    sparse_peak(g_small, SMALL, 0, recs, &entry);
    int64_t runs = 1, ordered = 1;
    for (int64_t k = 1; k < cap; k++) {
        int64_t prev = recs[k - 1].id, id = recs[k].id;
        if (prev / RPG != id / RPG) {
            runs++; /* ids: tile base + row, and tile bases are multiples of RPG */
        } else if (id != prev + EVERY) {
            ordered = 0;
        }
    }
    assert_int_equal(runs, SMALL * ROWS / RPG); /* one run per row group */
    assert_true(ordered);                       /* in plan order inside it */
    /* and the row groups themselves are shuffled: not in plan order */
    int64_t ascending = 0;
    for (int64_t k = 1; k < cap; k++) {
        ascending += recs[k].id > recs[k - 1].id;
    }
    assert_true(ascending < cap - 10);
    free(recs);
}

/* The compact entries hand out the right spectra: shuffled sparse rows equal an unshuffled read
 * of whole row groups (no compaction), TARGETID by TARGETID. */
static void test_compact_rows_equal_full_read(void **state) {
    (void)state;
    int64_t all = (int64_t)SMALL * ROWS, sel = all / EVERY, entry = 0;
    row_rec *full = calloc((size_t)all, sizeof *full);
    row_rec *sparse = calloc((size_t)sel, sizeof *sparse);
    ard_loader_options o;
    options(&o, 0, 0);
    ard_loader *l = NULL;
    assert_int_equal(ard_loader_new_dataset(&o, g_small, &l, NULL), ARD_OK);
    assert_int_equal(stream(l, full, all), all);
    ard_loader_free(l);
    sparse_peak(g_small, SMALL, BUFFER, sparse, &entry);
    qsort(full, (size_t)all, sizeof *full, cmp_rec);
    for (int64_t k = 0; k < sel; k++) {
        row_rec key = {.id = sparse[k].id};
        const row_rec *want = bsearch(&key, full, (size_t)all, sizeof *full, cmp_rec);
        assert_non_null(want);
        assert_memory_equal(sparse[k].tokens, want->tokens, sizeof want->tokens);
        assert_memory_equal(sparse[k].scales, want->scales, sizeof want->scales);
        assert_memory_equal(sparse[k].weights, want->weights, sizeof want->weights);
        assert_memory_equal(sparse[k].mask, want->mask, sizeof want->mask);
        assert_int_equal(sparse[k].flags, want->flags);
    }
    free(full);
    free(sparse);
}

int st_sparse_shuffle_run(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_peak_flat_in_dataset_size),
        cmocka_unit_test(test_row_groups_move_whole),
        cmocka_unit_test(test_compact_rows_equal_full_read),
    };
    return cmocka_run_group_tests_name("sparse_shuffle", tests, setup, teardown);
}
