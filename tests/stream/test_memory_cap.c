/* The loader's memory cap covers the decoded row groups (issue 15): under a cap that leaves room for
 * 1.5 decoded row groups beside the store, four producers never hold more decoded bytes than that
 * plus two row groups (the progress allowance; uncapped they hold 5-7), and every spectrum
 * still comes out exactly once in plan order (shuffled or not). A cap that cannot hold one decoded
 * row group is ARD_ELIMIT. The uncapped run's peak is printed for comparison. */
#include "st_util.h"
#include "stream_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

enum { TILES = 6, ROWS = 200, WIDTH = 512, RPG = 20, BATCH = 64, SLOTS = 4 };

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

static void options(ard_loader_options *o, int32_t shuffle) {
    ard_loader_options_init(o);
    o->batch_size = BATCH;
    o->prefetch_batches = SLOTS;
    o->threads = 4;
    o->shuffle = shuffle;
    o->seed = 7;
}

/* Streams one epoch with a slow consumer; returns how many spectra came, ids[] in order. */
static int64_t stream(ard_loader *l, int64_t *ids) {
    ard_store *c = NULL;
    assert_int_equal(ard_store_attach(ard_loader_store(l), &c, NULL), ARD_OK);
    assert_int_equal(ard_loader_start(l, NULL), ARD_OK);
    int64_t n = 0;
    ard_batch b;
    ard_status st;
    while ((st = ard_store_acquire(c, 30000, &b, NULL)) == ARD_OK) {
        for (int i = 0; i < b.count; i++) {
            assert_true(n < TILES * ROWS);
            ids[n++] = b.targetid[i];
        }
        ard_store_release(c, &b, NULL);
    }
    assert_int_equal(st, ARD_EEOF);
    assert_int_equal(ard_loader_wait(l, NULL), ARD_OK);
    ard_store_close(c);
    return n;
}

static void test_decode_within_cap(void **state) {
    (void)state;
    for (int32_t shuffle = 0; shuffle <= 1; shuffle++) {
        ard_loader_options o;
        options(&o, shuffle);
        ard_loader *l = NULL;
        assert_int_equal(ard_loader_new_dataset(&o, g_dataset, &l, NULL), ARD_OK);
        int64_t entry = ard__loader_entry_bytes(l);
        int64_t store = ard_store_size(ard_loader_store(l));
        assert_int_equal(l->decode_cap, 0); /* no cap */
        int64_t *want = malloc((size_t)TILES * ROWS * 8);
        int64_t *got = malloc((size_t)TILES * ROWS * 8);
        assert_int_equal(stream(l, want), TILES * ROWS);
        int64_t uncapped_peak = l->decode_peak;
        ard_loader_free(l);

        o.memory_cap = store + entry + entry / 2; /* all slots, 1.5 row groups of decoding */
        assert_int_equal(ard_loader_new_dataset(&o, g_dataset, &l, NULL), ARD_OK);
        assert_int_equal(ard_store_size(ard_loader_store(l)), store);
        assert_int_equal(l->decode_cap, entry + entry / 2);
        assert_int_equal(stream(l, got), TILES * ROWS);
        assert_memory_equal(got, want, (size_t)TILES * ROWS * 8); /* same spectra, same order */
        print_message("shuffle %d: decoded peak %lld bytes uncapped, %lld under a cap of %lld "
                      "(one row group %lld; %lld waits)\n",
                      shuffle, (long long)uncapped_peak, (long long)l->decode_peak,
                      (long long)l->decode_cap, (long long)entry, (long long)l->decode_waits);
        /* the allowance: the oldest batch (in store sequence) decodes one row group past the cap
         * while the one it shares with the batch before it may still be held */
        assert_true(l->decode_peak <= l->decode_cap + 2 * entry);
        assert_true(l->decode_peak >= entry);
        assert_true(l->decode_bytes <= l->decode_cap); /* the pool kept only what fits */
        ard_loader_free(l);
        free(want);
        free(got);
    }
}

/* One producer, shuffled row groups, no cap: a batch takes its row groups in the order they first
 * appear in it, so the one it shares with the batch before is used up (its buffers go back to the
 * pool) before the next is decoded, and the one it shares with the batch after comes last: one
 * decoded row group at a time. Taken in row-group-number order (as before), a batch could decode
 * the one it shares with the next batch while the one from the batch before was still held, and
 * four producers under the cap then held more than the cap allows (test_decode_within_cap, seen
 * failing once in CI). */
static void test_one_producer_one_row_group(void **state) {
    (void)state;
    for (int32_t seed = 1; seed <= 8; seed++) {
        ard_loader_options o;
        options(&o, 1);
        o.threads = 1;
        o.seed = seed;
        ard_loader *l = NULL;
        assert_int_equal(ard_loader_new_dataset(&o, g_dataset, &l, NULL), ARD_OK);
        int64_t entry = ard__loader_entry_bytes(l);
        int64_t *ids = malloc((size_t)TILES * ROWS * 8);
        assert_int_equal(stream(l, ids), TILES * ROWS);
        print_message(
            "seed %d: one producer held %lld decoded bytes at most (one row group %lld)\n", seed,
            (long long)l->decode_peak, (long long)entry);
        assert_true(l->decode_peak < 2 * entry);
        ard_loader_free(l);
        free(ids);
    }
}

static void test_cap_too_small(void **state) {
    (void)state;
    ard_loader_options o;
    options(&o, 0);
    o.memory_cap = (int64_t)2 * RPG * WIDTH * 4; /* the two matrices but not the TARGETIDs */
    ard_loader *l = NULL;
    ard_error err = {0};
    assert_int_equal(ard_loader_new_dataset(&o, g_dataset, &l, &err), ARD_ELIMIT);
    assert_null(l);
    assert_non_null(strstr(err.msg, "does not hold one decoded row group"));
}

int st_memory_cap_run(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_within_cap),
        cmocka_unit_test(test_one_producer_one_row_group),
        cmocka_unit_test(test_cap_too_small),
    };
    return cmocka_run_group_tests_name("memory_cap", tests, setup, teardown);
}
