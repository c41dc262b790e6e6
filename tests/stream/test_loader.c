/* Loader tests on tiles written with the writer: every spectrum exactly once per epoch (TARGETID
 * multiset) with and without shuffle, for 1..4 consumer processes; a fixed seed reproduces the
 * order; shards partition the data; row-range items; drop_last; the epoch cache; batches equal
 * the tokenizer applied to the reader's output; bad input. */
#include "st_util.h"

#include "ard/parquet.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

enum { TILES = 3, ROWS = 120, WIDTH = 300, RPG = 50, BATCH = 32 };

static char *g_dataset;

static int setup(void **state) {
    (void)state;
    g_dataset = st_make_dataset(TILES, ROWS, WIDTH, RPG);
    return g_dataset ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    st_rmtree(g_dataset);
    free(g_dataset);
    return 0;
}

static void base_options(ard_loader_options *o) {
    ard_loader_options_init(o);
    o->batch_size = BATCH;
    o->prefetch_batches = 4;
    o->threads = 2;
}

/* Consumes a loader in-process; ids in delivery order (caller frees). */
static int64_t *consume(ard_loader *l, int64_t *n_out, int32_t *batches) {
    ard_store *c = NULL;
    assert_int_equal(ard_store_attach(ard_loader_store(l), &c, NULL), ARD_OK);
    assert_int_equal(ard_loader_start(l, NULL), ARD_OK);
    int64_t cap = 4096, n = 0;
    int64_t *ids = malloc((size_t)cap * 8);
    ard_batch b;
    ard_status st;
    *batches = 0;
    while ((st = ard_store_acquire(c, 30000, &b, NULL)) == ARD_OK) {
        for (int i = 0; i < b.count; i++) {
            if (n == cap) {
                cap *= 2;
                ids = realloc(ids, (size_t)cap * 8);
            }
            ids[n++] = b.targetid[i];
        }
        (*batches)++;
        ard_store_release(c, &b, NULL);
    }
    assert_int_equal(st, ARD_EEOF);
    assert_int_equal(ard_loader_wait(l, NULL), ARD_OK);
    ard_store_close(c);
    *n_out = n;
    return ids;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Every id of the dataset exactly `times` times. */
static void assert_all_ids(const int64_t *ids, int64_t n, int times) {
    assert_int_equal(n, (int64_t)TILES * ROWS * times);
    int64_t *s = malloc((size_t)n * 8);
    memcpy(s, ids, (size_t)n * 8);
    qsort(s, (size_t)n, 8, cmp_i64);
    int64_t k = 0;
    for (int t = 0; t < TILES; t++) {
        for (int r = 0; r < ROWS; r++) {
            for (int rep = 0; rep < times; rep++) {
                assert_int_equal(s[k++], (int64_t)(t + 1) * 1000000 + r);
            }
        }
    }
    free(s);
}

static void test_sequential(void **state) {
    (void)state;
    ard_loader_options o;
    base_options(&o);
    ard_loader *l = NULL;
    assert_int_equal(ard_loader_new_dataset(&o, g_dataset, &l, NULL), ARD_OK);
    assert_int_equal(ard_loader_rows_per_epoch(l), TILES * ROWS);
    assert_int_equal(ard_loader_batches_per_epoch(l), (TILES * ROWS + BATCH - 1) / BATCH);
    int64_t n;
    int32_t batches;
    int64_t *ids = consume(l, &n, &batches);
    assert_all_ids(ids, n, 1);
    for (int64_t i = 1; i < n; i++) {
        assert_true(ids[i] > ids[i - 1]); /* no shuffle: tile order, row order */
    }
    free(ids);
    ard_loader_free(l);
}

static void order_for(uint64_t seed, int epochs, int64_t **ids, int64_t *n) {
    ard_loader_options o;
    base_options(&o);
    o.shuffle = 1;
    o.local_shuffle_buffer = 40;
    o.seed = seed;
    o.epochs = epochs;
    o.threads = 3;
    ard_loader *l = NULL;
    assert_int_equal(ard_loader_new_dataset(&o, g_dataset, &l, NULL), ARD_OK);
    int32_t batches;
    *ids = consume(l, n, &batches);
    ard_loader_free(l);
}

static void test_shuffle_deterministic(void **state) {
    (void)state;
    int64_t *a, *b, *c, na, nb, nc;
    order_for(7, 2, &a, &na);
    order_for(7, 2, &b, &nb);
    order_for(8, 2, &c, &nc);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, (size_t)na * 8); /* same seed, same order */
    assert_true(memcmp(a, c, (size_t)na * 8) != 0);
    assert_true(memcmp(a, a + TILES * ROWS, TILES * ROWS * 8) != 0); /* epochs differ */
    assert_all_ids(a, TILES * ROWS, 1);
    assert_all_ids(a + TILES * ROWS, TILES * ROWS, 1);
    int sorted = 1;
    for (int64_t i = 1; i < TILES * ROWS; i++) {
        sorted &= a[i] > a[i - 1];
    }
    assert_false(sorted);
    free(a), free(b), free(c);
}

static void test_shards_and_drop_last(void **state) {
    (void)state;
    int64_t all[TILES * ROWS], total = 0;
    for (int rank = 0; rank < 3; rank++) {
        ard_loader_options o;
        base_options(&o);
        o.shuffle = 1;
        o.seed = 3;
        o.rank = rank;
        o.world = 3;
        ard_loader *l = NULL;
        assert_int_equal(ard_loader_new_dataset(&o, g_dataset, &l, NULL), ARD_OK);
        int64_t n;
        int32_t batches;
        int64_t *ids = consume(l, &n, &batches);
        memcpy(all + total, ids, (size_t)n * 8);
        total += n;
        free(ids);
        ard_loader_free(l);
    }
    assert_all_ids(all, total, 1);
    ard_loader_options o;
    base_options(&o);
    o.drop_last = 1;
    ard_loader *l = NULL;
    assert_int_equal(ard_loader_new_dataset(&o, g_dataset, &l, NULL), ARD_OK);
    int64_t n;
    int32_t batches;
    int64_t *ids = consume(l, &n, &batches);
    assert_int_equal(n, (TILES * ROWS) / BATCH * BATCH);
    assert_int_equal(batches, (TILES * ROWS) / BATCH);
    free(ids);
    ard_loader_free(l);
}

static void test_items(void **state) {
    (void)state;
    char p0[512], p1[512];
    snprintf(p0, sizeof p0, "%s/tiles/main/100.parquet", g_dataset);
    snprintf(p1, sizeof p1, "%s/tiles/main/101.parquet", g_dataset);
    ard_read_item items[3] = {{p0, 0, 10, 10}, {p1, 1, 0, -1}, {p0, 2, 5, 3}};
    ard_loader_options o;
    base_options(&o);
    ard_loader *l = NULL;
    assert_int_equal(ard_loader_new(&o, items, 3, &l, NULL), ARD_OK);
    int64_t n;
    int32_t batches;
    int64_t *ids = consume(l, &n, &batches);
    assert_int_equal(n, 10 + 50 + 3);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(ids[i], 1000000 + 10 + i);
    }
    for (int i = 0; i < 50; i++) {
        assert_int_equal(ids[10 + i], 2000000 + 50 + i);
    }
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ids[60 + i], 1000000 + 100 + 5 + i);
    }
    free(ids);
    ard_loader_free(l);
    ard_read_item bad[1] = {{p0, 9, 0, -1}};
    assert_int_equal(ard_loader_new(&o, bad, 1, &l, NULL), ARD_EINVAL);
    assert_null(l);
    ard_read_item bad2[1] = {{p0, 0, 40, 20}};
    assert_int_equal(ard_loader_new(&o, bad2, 1, &l, NULL), ARD_EINVAL);
    o.flux_column = "NOPE";
    ard_read_item ok[1] = {{p0, 0, 0, -1}};
    assert_int_equal(ard_loader_new(&o, ok, 1, &l, NULL), ARD_EINVAL);
    base_options(&o);
    assert_int_equal(ard_loader_new_dataset(&o, "/nonexistent-ard", &l, NULL), ARD_ENOENT);
    o.world = 2;
    o.rank = 2;
    assert_int_equal(ard_loader_new_dataset(&o, g_dataset, &l, NULL), ARD_EINVAL);
}

/* Batches equal the tokenizer applied to the reader's matrices (the C reference). */
static void test_batches_match_reference(void **state) {
    (void)state;
    ard_loader_options o;
    base_options(&o);
    ard_loader *l = NULL;
    assert_int_equal(ard_loader_new_dataset(&o, g_dataset, &l, NULL), ARD_OK);
    ard_store *c = NULL;
    assert_int_equal(ard_store_attach(ard_loader_store(l), &c, NULL), ARD_OK);
    assert_int_equal(ard_loader_start(l, NULL), ARD_OK);
    char p0[512];
    snprintf(p0, sizeof p0, "%s/tiles/main/100.parquet", g_dataset);
    ard_parquet_file *f = NULL;
    assert_int_equal(ard_parquet_open(p0, NULL, &f, NULL), ARD_OK);
    ard_pq_f32_matrix fl = {0}, iv = {0};
    assert_int_equal(
        ard_parquet_read_f32_matrix(f, 0, ard_parquet_find_leaf(f, "FLUX.list.element"), &fl, NULL),
        ARD_OK);
    assert_int_equal(
        ard_parquet_read_f32_matrix(f, 0, ard_parquet_find_leaf(f, "IVAR.list.element"), &iv, NULL),
        ARD_OK);
    ard_batch b;
    assert_int_equal(ard_store_acquire(c, 30000, &b, NULL), ARD_OK);
    int64_t np = (WIDTH + 63) / 64;
    assert_int_equal(b.num_patches, np);
    float tokens[(WIDTH + 63) / 64 * 64], scales[(WIDTH + 63) / 64];
    uint8_t mask[(WIDTH + 63) / 64], flags;
    int all_masked_seen = 0;
    for (int i = 0; i < b.count; i++) {
        assert_int_equal(ard_tokenize_spectrum(&o.tokenize, fl.values + i * WIDTH,
                                               iv.values + i * WIDTH, fl.validity, iv.validity,
                                               i * WIDTH, NULL, WIDTH, tokens, scales, mask, &flags,
                                               NULL, NULL),
                         ARD_OK);
        assert_memory_equal(b.tokens + i * np * 64, tokens, sizeof tokens);
        assert_memory_equal(b.scales + i * np, scales, sizeof scales);
        assert_memory_equal(b.mask + i * np, mask, sizeof mask);
        assert_int_equal(b.flags[i], flags);
        assert_int_equal(b.targetid[i], 1000000 + i);
        all_masked_seen |= flags & ARD_SPEC_ALL_MASKED;
    }
    assert_true(b.wave[0] > 3600.0f && b.wave[np - 1] < 9824.0f);
    ard_store_release(c, &b, NULL);
    (void)all_masked_seen;
    ard_pq_matrix_reset(&fl);
    ard_pq_matrix_reset(&iv);
    ard_parquet_close(f);
    ard_store_close(c);
    ard_loader_free(l); /* stops the producers early: must not hang */
}

static void test_cache(void **state) {
    (void)state;
    ard_loader_options o;
    base_options(&o);
    o.epochs = 3;
    o.cache = 1;
    ard_loader *l = NULL;
    assert_int_equal(ard_loader_new_dataset(&o, g_dataset, &l, NULL), ARD_OK);
    assert_int_equal(ard_loader_cache_active(l), 1);
    int64_t n;
    int32_t batches;
    int64_t *ids = consume(l, &n, &batches);
    assert_all_ids(ids, n, 3);
    for (int64_t i = 0; i < TILES * ROWS; i++) {
        assert_int_equal(ids[i], ids[i + TILES * ROWS]);
        assert_int_equal(ids[i], ids[i + 2 * TILES * ROWS]);
    }
    free(ids);
    ard_loader_free(l);
    o.memory_cap = 200000; /* store fits, cache does not */
    o.prefetch_batches = 2;
    assert_int_equal(ard_loader_new_dataset(&o, g_dataset, &l, NULL), ARD_OK);
    assert_int_equal(ard_loader_cache_active(l), 0);
    assert_true(ard_store_size(ard_loader_store(l)) <= 200000);
    ard_loader_free(l);
}

static void consumer_proc(const char *name, int *counts) {
    ard_store *c = NULL;
    if (ard_store_connect(name, &c, NULL) != ARD_OK) {
        _exit(3);
    }
    ard_batch b;
    ard_status st;
    while ((st = ard_store_acquire(c, 30000, &b, NULL)) == ARD_OK) {
        for (int i = 0; i < b.count; i++) {
            int64_t id = b.targetid[i];
            int64_t k = (id / 1000000 - 1) * ROWS + id % 1000000;
            if (k >= 0 && k < TILES * ROWS) {
                __atomic_fetch_add(&counts[k], 1, __ATOMIC_SEQ_CST);
            }
        }
        ard_store_release(c, &b, NULL);
    }
    ard_store_close(c);
    _exit(st == ARD_EEOF ? 0 : 4);
}

static void test_consumer_processes(void **state) {
    (void)state;
    for (int procs = 1; procs <= 4; procs++) {
        for (int shuffle = 0; shuffle <= 1; shuffle++) {
            char name[64];
            st_shm_name(name, sizeof name);
            ard_loader_options o;
            base_options(&o);
            o.store_name = name;
            o.shuffle = shuffle;
            o.seed = 11;
            ard_loader *l = NULL;
            assert_int_equal(ard_loader_new_dataset(&o, g_dataset, &l, NULL), ARD_OK);
            int *counts = mmap(NULL, TILES * ROWS * sizeof(int), PROT_READ | PROT_WRITE,
                               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
            memset(counts, 0, TILES * ROWS * sizeof(int));
            pid_t kids[4];
            for (int k = 0; k < procs; k++) {
                kids[k] = fork();
                if (kids[k] == 0) {
                    consumer_proc(name, counts);
                }
            }
            assert_int_equal(ard_loader_start(l, NULL), ARD_OK);
            assert_int_equal(ard_loader_wait(l, NULL), ARD_OK);
            for (int k = 0; k < procs; k++) {
                int status = 0;
                waitpid(kids[k], &status, 0);
                assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
            }
            for (int i = 0; i < TILES * ROWS; i++) {
                assert_int_equal(counts[i], 1);
            }
            munmap(counts, TILES * ROWS * sizeof(int));
            ard_loader_free(l);
        }
    }
}

int st_loader_run(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sequential),
        cmocka_unit_test(test_shuffle_deterministic),
        cmocka_unit_test(test_shards_and_drop_last),
        cmocka_unit_test(test_items),
        cmocka_unit_test(test_batches_match_reference),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_consumer_processes),
    };
    return cmocka_run_group_tests_name("loader", tests, setup, teardown);
}
