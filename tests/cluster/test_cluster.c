/* test_cluster: without arguments, the cmocka suites of the cluster module that need no launcher
 * (partitions, wire conversions, CPU pinning, launcher detection, the build without MPI). With a
 * mode word it is a helper of the tests/cluster/ scripts:
 *   test_cluster mpi                       (under mpirun) collectives: agree, gather, progress,
 *                                          partition coverage; prints "ok" on rank 0
 *   test_cluster available                 exit 0 when libard was built with MPI, else 1
 *   test_cluster dump NAME [--quantize f16|bf16] [--dtype f32|f16|bf16] [--delay MS] [--ids]
 *                                          consumes the store NAME and prints one line per
 *                                          spectrum: epoch, TARGETID and a hash of its tokens,
 *                                          scales, mask and flags (tokens rounded to the wire
 *                                          format first with --quantize); exit 1 with the status
 *                                          on stderr when the stream fails. */
#include "cluster_int.h"

#include "ard/science.h"

#include <math.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

/* test_sync_records.c */
void test_open_footer(void **state);
void test_sync_remote_hook(void **state);

/* ---- partitions ---- */

static void test_partition_balanced(void **state) {
    (void)state;
    int64_t bytes[10] = {100, 100, 100, 100, 100, 100, 100, 100, 100, 100};
    int64_t next = 0;
    for (int32_t r = 0; r < 3; r++) {
        int64_t first, count;
        assert_int_equal(ard_cluster_partition(bytes, 10, r, 3, &first, &count, NULL), ARD_OK);
        assert_int_equal(first, next); /* contiguous, in rank order */
        next = first + count;
        assert_true(count == 3 || count == 4);
    }
    assert_int_equal(next, 10);
}

static void test_partition_by_bytes(void **state) {
    (void)state;
    /* one huge item and many small ones: balance follows bytes, not counts */
    int64_t bytes[9] = {800, 100, 100, 100, 100, 100, 100, 100, 100};
    int64_t first, count;
    assert_int_equal(ard_cluster_partition(bytes, 9, 0, 2, &first, &count, NULL), ARD_OK);
    assert_int_equal(first, 0);
    assert_int_equal(count, 1);
    assert_int_equal(ard_cluster_partition(bytes, 9, 1, 2, &first, &count, NULL), ARD_OK);
    assert_int_equal(first, 1);
    assert_int_equal(count, 8);
    /* every rank's bytes within one item of the fair share, for random weights */
    uint64_t s = 42;
    int64_t w[200];
    int64_t total = 0, biggest = 0;
    for (int i = 0; i < 200; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        w[i] = (int64_t)(s >> 40) % 100000;
        total += w[i];
        biggest = w[i] > biggest ? w[i] : biggest;
    }
    for (int32_t size = 1; size <= 7; size++) {
        int64_t next = 0;
        for (int32_t r = 0; r < size; r++) {
            assert_int_equal(ard_cluster_partition(w, 200, r, size, &first, &count, NULL), ARD_OK);
            assert_int_equal(first, next);
            next += count;
            int64_t mine = 0;
            for (int64_t i = first; i < first + count; i++) {
                mine += w[i];
            }
            int64_t fair = total / size;
            assert_true(mine >= fair - biggest - 1 && mine <= fair + biggest + 1);
        }
        assert_int_equal(next, 200);
    }
}

static void test_partition_edges(void **state) {
    (void)state;
    int64_t first = -1, count = -1;
    int64_t zeros[4] = {0, 0, 0, 0};
    assert_int_equal(ard_cluster_partition(zeros, 4, 1, 2, &first, &count, NULL), ARD_OK);
    assert_int_equal(first, 2);
    assert_int_equal(count, 2);
    assert_int_equal(ard_cluster_partition(NULL, 0, 0, 3, &first, &count, NULL), ARD_OK);
    assert_int_equal(count, 0);
    int64_t one[1] = {5};
    assert_int_equal(ard_cluster_partition(one, 1, 2, 3, &first, &count, NULL), ARD_OK);
    assert_int_equal(count, 0);
    assert_int_equal(first, 1);
    ard_error err;
    ard_error_init(&err);
    int64_t neg[2] = {1, -1};
    assert_int_equal(ard_cluster_partition(neg, 2, 0, 1, &first, &count, &err), ARD_EINVAL);
    assert_non_null(strstr(err.msg, "item 1"));
    assert_int_equal(ard_cluster_partition(one, 1, 3, 3, &first, &count, NULL), ARD_EINVAL);
    assert_int_equal(ard_cluster_partition(one, -1, 0, 1, &first, &count, NULL), ARD_EINVAL);
}

/* ---- wire formats ---- */

static void test_f16(void **state) {
    (void)state;
    assert_int_equal(ard__f32_to_f16(1.0f), 0x3c00);
    assert_int_equal(ard__f32_to_f16(-2.0f), 0xc000);
    assert_int_equal(ard__f32_to_f16(65504.0f), 0x7bff);
    assert_int_equal(ard__f32_to_f16(65520.0f), 0x7c00); /* rounds up to inf */
    assert_int_equal(ard__f32_to_f16(1e10f), 0x7c00);
    assert_int_equal(ard__f32_to_f16(0.0f), 0x0000);
    assert_int_equal(ard__f32_to_f16(-0.0f), 0x8000);
    assert_int_equal(ard__f32_to_f16(5.9604645e-8f), 0x0001);      /* smallest subnormal */
    assert_int_equal(ard__f32_to_f16(1.0f + 1.0f / 2048), 0x3c00); /* tie -> even */
    assert_int_equal(ard__f32_to_f16(1.0f + 3.0f / 2048), 0x3c02); /* tie -> even (up) */
    assert_true(ard__f32_to_f16(__builtin_nanf("")) > 0x7c00);
    assert_true(ard__f16_to_f32(0x3c00) == 1.0f);
    assert_true(ard__f16_to_f32(0x0001) == 5.9604645e-8f);
    assert_true(ard__f16_to_f32(0x7bff) == 65504.0f);
    assert_true(__builtin_isinf(ard__f16_to_f32(0xfc00)) && ard__f16_to_f32(0xfc00) < 0);
    /* every half survives the round trip */
    for (uint32_t h = 0; h < 0x10000; h++) {
        float f = ard__f16_to_f32((uint16_t)h);
        if (f == f) {
            assert_int_equal(ard__f32_to_f16(f), h);
        }
    }
}

static void test_bf16(void **state) {
    (void)state;
    assert_int_equal(ard__f32_to_bf16(1.0f), 0x3f80);
    assert_int_equal(ard__f32_to_bf16(-1.0f), 0xbf80);
    assert_true(ard__bf16_to_f32(0x3f80) == 1.0f);
    /* 1 + 2^-8 is a tie between 1 and 1 + 2^-7: even (1) wins; 1 + 3 * 2^-8 rounds up */
    assert_int_equal(ard__f32_to_bf16(1.0f + 1.0f / 256), 0x3f80);
    assert_int_equal(ard__f32_to_bf16(1.0f + 3.0f / 256), 0x3f82);
    uint16_t nan = ard__f32_to_bf16(__builtin_nanf(""));
    assert_true((nan & 0x7f80) == 0x7f80 && (nan & 0x7f) != 0);
}

static void test_wire_pack(void **state) {
    (void)state;
    enum { TOKENS = 48, SLOT = 320 }; /* 192 token bytes, rest from 192 */
    uint8_t slot[SLOT], back[SLOT], msg[SLOT];
    float *t = (float *)(void *)slot;
    for (int i = 0; i < TOKENS; i++) {
        t[i] = (float)i * 0.25f - 3.0f;
    }
    for (int i = TOKENS * 4; i < SLOT; i++) {
        slot[i] = (uint8_t)(i * 7);
    }
    for (int32_t wire = ARD_WIRE_F16; wire <= ARD_WIRE_BF16; wire++) {
        int64_t n = ard__wire_message_bytes(wire, SLOT, TOKENS * 4, TOKENS * 4);
        assert_int_equal(n, TOKENS * 2 + SLOT - TOKENS * 4);
        memset(back, 0, sizeof back);
        ard__wire_pack(wire, slot, SLOT, TOKENS * 4, TOKENS * 4, msg);
        ard__wire_unpack(wire, msg, SLOT, TOKENS * 4, TOKENS * 4, back);
        assert_memory_equal(back, slot, SLOT); /* quarter steps are exact in both formats */
    }
    /* in place: the message is the slot's bytes from token_bytes / 2 on, identical to pack's */
    for (int32_t wire = ARD_WIRE_F16; wire <= ARD_WIRE_BF16; wire++) {
        uint8_t work[SLOT];
        memcpy(work, slot, SLOT);
        ard__wire_pack(wire, slot, SLOT, TOKENS * 4, TOKENS * 4, msg);
        ard__wire_narrow_inplace(wire, work, TOKENS * 4);
        assert_memory_equal(work + TOKENS * 2, msg, SLOT - TOKENS * 2);
        memset(work, 0xAB, TOKENS * 2); /* the receiver's slot: only the message bytes arrive */
        ard__wire_widen_inplace(wire, work, TOKENS * 4);
        assert_memory_equal(work, slot, SLOT);
    }
    assert_int_equal(ard__wire_message_bytes(ARD_WIRE_F32, SLOT, 192, 192), SLOT);
    assert_int_equal(ard_cluster_wire_parse("f16"), ARD_WIRE_F16);
    assert_int_equal(ard_cluster_wire_parse("bf16"), ARD_WIRE_BF16);
    assert_int_equal(ard_cluster_wire_parse("f32"), ARD_WIRE_F32);
    assert_int_equal(ard_cluster_wire_parse("f64"), -1);
}

/* ---- pinning ---- */

static void test_pin(void **state) {
    (void)state;
    cpu_set_t before;
    CPU_ZERO(&before);
    assert_int_equal(sched_getaffinity(0, sizeof before, &before), 0);
    int cpu = 0;
    while (!CPU_ISSET(cpu, &before)) {
        cpu++;
    }
    char list[64], applied[64];
    snprintf(list, sizeof list, "%d", cpu);
    assert_int_equal(ard_cluster_pin_cpus(list, 0, applied, sizeof applied, NULL), ARD_OK);
    assert_string_equal(applied, list);
    /* groups: rank 1 takes the second group, rank 2 wraps to the first */
    snprintf(list, sizeof list, "%d:%d-%d", cpu, cpu, cpu);
    assert_int_equal(ard_cluster_pin_cpus(list, 1, applied, sizeof applied, NULL), ARD_OK);
    char one[16];
    snprintf(one, sizeof one, "%d", cpu);
    assert_string_equal(applied, one);
    assert_int_equal(ard_cluster_pin_cpus(list, 2, applied, sizeof applied, NULL), ARD_OK);
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_cluster_pin_cpus("3-1", 0, NULL, 0, &err), ARD_EINVAL);
    assert_non_null(strstr(err.msg, "3-1"));
    assert_int_equal(ard_cluster_pin_cpus("x", 0, NULL, 0, NULL), ARD_EINVAL);
    assert_int_equal(ard_cluster_pin_cpus("", 0, NULL, 0, NULL), ARD_EINVAL);
    assert_int_equal(ard_cluster_pin_cpus("1,,2", 0, NULL, 0, NULL), ARD_EINVAL);
    assert_int_equal(ard_cluster_pin_cpus("99999", 0, NULL, 0, NULL), ARD_EINVAL);
    assert_int_equal(sched_setaffinity(0, sizeof before, &before), 0); /* restore */
}

/* ---- launcher detection and the build without MPI ---- */

static void test_launched(void **state) {
    (void)state;
    unsetenv("OMPI_COMM_WORLD_SIZE");
    unsetenv("PMI_SIZE");
    unsetenv("PMIX_RANK");
    assert_int_equal(ard_cluster_launched(), 0);
    setenv("PMI_SIZE", "2", 1);
    assert_int_equal(ard_cluster_launched(), 1);
    unsetenv("PMI_SIZE");
    setenv("OMPI_COMM_WORLD_SIZE", "4", 1);
    assert_int_equal(ard_cluster_launched(), 1);
    unsetenv("OMPI_COMM_WORLD_SIZE");
}

static void test_without_launcher(void **state) {
    (void)state;
    ard_error err;
    ard_error_init(&err);
    ard_cluster *c = (ard_cluster *)&err; /* must be reset to NULL */
    ard_status st = ard_cluster_open(&c, &err);
    assert_null(c);
    if (ard_cluster_available()) {
        assert_int_equal(st, ARD_EINVAL); /* MPI not initialized: no implicit MPI_Init */
        assert_non_null(strstr(err.msg, "not initialized"));
    } else {
        assert_int_equal(st, ARD_ENOTSUP);
        assert_non_null(strstr(err.msg, "without MPI"));
        ard_error_init(&err);
        assert_int_equal(ard_cluster_init(NULL, NULL, &err), ARD_ENOTSUP);
        assert_non_null(strstr(err.msg, "without MPI"));
        ard_cluster_stream_options o;
        ard_cluster_stream_options_init(&o);
        assert_int_equal(ard_cluster_stream_serve(NULL, &o, NULL, NULL), ARD_ENOTSUP);
    }
    assert_int_equal(ard_cluster_rank(NULL), 0);
    assert_int_equal(ard_cluster_size(NULL), 1);
    ard_cluster_close(NULL);
    ard_cluster_progress_finish(NULL);
}

static void test_stream_options(void **state) {
    (void)state;
    ard_cluster_stream_options o;
    ard_cluster_stream_options_init(&o);
    assert_int_equal(o.consumer_rank, 0);
    assert_int_equal(o.wire, ARD_WIRE_F32);
    assert_int_equal(o.peer_timeout_ms, 10000);
    assert_int_equal(o.loader.batch_size, 256);
    assert_null(o.cancel);
}

/* A store in a 16-bit token dtype (the distributed stream's consumer keeps a narrow wire's tokens):
 * half the token bytes per slot, the dtype reported on every batch, the other arrays in place;
 * an unknown dtype is refused. */
static void test_store_token_dtype(void **state) {
    (void)state;
    ard_store_options o;
    ard_store_options_init(&o);
    o.slots = 2;
    o.batch_size = 4;
    o.num_patches = 16;
    o.patch = 8; /* 512 tokens: 2048 bytes as float32, 1024 as 16-bit */
    ard_store *f32 = NULL, *f16 = NULL;
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_store_create(&o, &f32, &err), ARD_OK);
    o.token_dtype = ARD_TOKENS_BF16 + 1;
    assert_int_equal(ard_store_create(&o, &f16, &err), ARD_EINVAL);
    assert_null(f16);
    o.token_dtype = ARD_TOKENS_F16;
    assert_int_equal(ard_store_create(&o, &f16, &err), ARD_OK);
    ard_batch a, b;
    assert_int_equal(ard_store_begin_fill(f32, 0, &a, &err), ARD_OK);
    assert_int_equal(ard_store_begin_fill(f16, 0, &b, &err), ARD_OK);
    assert_int_equal(a.token_dtype, ARD_TOKENS_F32);
    assert_int_equal(b.token_dtype, ARD_TOKENS_F16);
    int64_t sa = 0, sb = 0;
    uint8_t *ba = ard_batch_bytes(f32, &a, &sa), *bb = ard_batch_bytes(f16, &b, &sb);
    assert_int_equal(sa - sb, 1024);
    assert_int_equal((uint8_t *)b.scales - bb, 1024); /* right after the 16-bit tokens */
    assert_int_equal((uint8_t *)a.scales - ba, 2048);
    uint16_t *t = (uint16_t *)(void *)b.tokens;
    t[0] = ard__f32_to_f16(1.5f);
    b.targetid[0] = 42;
    assert_int_equal(ard_store_publish(f16, &b, 1, 0, &err), ARD_OK);
    ard_store *c = NULL;
    assert_int_equal(ard_store_attach(f16, &c, &err), ARD_OK);
    ard_batch got;
    assert_int_equal(ard_store_acquire(c, 1000, &got, &err), ARD_OK);
    assert_int_equal(got.token_dtype, ARD_TOKENS_F16);
    assert_true(ard__f16_to_f32(((const uint16_t *)(const void *)got.tokens)[0]) == 1.5f);
    assert_int_equal(got.targetid[0], 42);
    assert_int_equal(ard_store_release(c, &got, &err), ARD_OK);
    ard_store_abandon(f32, &a);
    ard_store_close(c);
    ard_store_close(f16);
    ard_store_close(f32);
}

/* ---- helper modes ---- */

static uint64_t fnv(uint64_t h, const void *data, size_t n) {
    const uint8_t *p = data;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ p[i]) * 1099511628211ULL;
    }
    return h;
}

static int dump(int argc, char **argv) {
    const char *name = argv[2];
    int32_t quantize = -1, ids_only = 0, dtype = ARD_TOKENS_F32;
    long delay_ms = 0;
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--quantize") == 0 && i + 1 < argc) {
            quantize = ard_cluster_wire_parse(argv[++i]);
        } else if (strcmp(argv[i], "--delay") == 0 && i + 1 < argc) {
            delay_ms = strtol(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--dtype") == 0 && i + 1 < argc) {
            dtype = ard_cluster_wire_parse(argv[++i]); /* the store's token dtype expected */
        } else if (strcmp(argv[i], "--ids") == 0) {
            ids_only = 1;
        }
    }
    ard_store *s = NULL;
    ard_error err;
    ard_status st = ARD_ENOENT;
    for (int tries = 0; tries < 6000 && st == ARD_ENOENT; tries++) { /* 300 s */
        ard_error_init(&err);
        st = ard_store_connect(name, &s, &err);
        if (st == ARD_ENOENT) {
            ard__cl_nap(50000);
        }
    }
    ard_batch b;
    while (st == ARD_OK && (st = ard_store_acquire(s, -1, &b, &err)) == ARD_OK) {
        int64_t per = (int64_t)b.num_patches * b.patch;
        if (b.token_dtype != dtype) {
            fprintf(stderr, "dump: tokens of dtype %d, expected %d\n", b.token_dtype, dtype);
            st = ARD_EINVAL;
            ard_store_release(s, &b, NULL);
            break;
        }
        for (int32_t i = 0; i < b.count; i++) {
            const uint16_t *t16 = (const uint16_t *)(const void *)b.tokens + i * per;
            uint64_t h = 1469598103934665603ULL;
            for (int64_t k = 0; k < per; k++) {
                float v = dtype == ARD_TOKENS_F16    ? ard__f16_to_f32(t16[k])
                          : dtype == ARD_TOKENS_BF16 ? ard__bf16_to_f32(t16[k])
                                                     : b.tokens[i * per + k];
                if (quantize == ARD_WIRE_F16) {
                    v = ard__f16_to_f32(ard__f32_to_f16(v));
                } else if (quantize == ARD_WIRE_BF16) {
                    v = ard__bf16_to_f32(ard__f32_to_bf16(v));
                }
                h = fnv(h, &v, 4);
            }
            h = fnv(h, b.scales + i * b.num_patches, (size_t)b.num_patches * 4);
            h = fnv(h, b.mask + i * b.num_patches, (size_t)b.num_patches);
            h = fnv(h, b.flags + i, 1);
            if (ids_only) {
                printf("%d %lld\n", b.epoch, (long long)b.targetid[i]);
            } else {
                printf("%d %lld %016llx\n", b.epoch, (long long)b.targetid[i],
                       (unsigned long long)h);
            }
        }
        fflush(stdout);
        ard_store_release(s, &b, NULL);
        if (delay_ms > 0) {
            ard__cl_nap(delay_ms * 1000);
        }
    }
    ard_store_close(s);
    if (st != ARD_EEOF) {
        fprintf(stderr, "dump: %s: %s\n", ard_status_name(st), err.msg);
        return 1;
    }
    return 0;
}

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "rank %d: check failed at line %d: %s\n", rank, __LINE__, #cond);      \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static uint64_t lcg(uint64_t *s) {
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 11;
}

static double uniform(uint64_t *s) {
    return (double)lcg(s) / 9007199254740992.0;
}

/* Clustered points: n points around `centres` clumps in a box of side `box`. */
static void clumps(uint64_t seed, int64_t n, int centres, double box, double spread, double *xyz) {
    uint64_t s = seed;
    double c[64 * 3];
    for (int k = 0; k < centres * 3; k++) {
        c[k] = uniform(&s) * box;
    }
    for (int64_t i = 0; i < n; i++) {
        int k = (int)(lcg(&s) % (uint64_t)(centres + 1));
        for (int d = 0; d < 3; d++) {
            xyz[3 * i + d] =
                k == centres ? uniform(&s) * box : c[3 * k + d] + (uniform(&s) - 0.5) * spread;
        }
    }
}

/* Distributed FoF against the one-process kernel: the same labels, isotropic and redshift. */
static int fof_check(ard_cluster *c, int rank) {
    int failures = 0;
    enum { N = 4000 };
    double *xyz = ard_malloc(N * 3 * sizeof(double));
    double *dist = ard_malloc(N * sizeof(double)), *ang = ard_malloc(N * sizeof(double));
    double *los = ard_malloc(N * sizeof(double));
    int64_t *want = ard_malloc(N * sizeof(int64_t)), *got = ard_malloc(N * sizeof(int64_t));
    CHECK(xyz && dist && ang && los && want && got);
    if (failures) {
        return failures;
    }
    clumps(11, N, 40, 100.0, 6.0, xyz);
    ard_error err;
    ard_error_init(&err);
    CHECK(ard_fof_link_isotropic(xyz, N, 1.3, 1, want, &err) == ARD_OK);
    CHECK(ard_cluster_fof_link_isotropic(c, xyz, N, 1.3, 1, got, &err) == ARD_OK);
    CHECK(memcmp(want, got, N * sizeof(int64_t)) == 0);
    /* the points on rank 0 only: the others serve their slab and receive no labels */
    memset(got, 0xff, N * sizeof(int64_t));
    if (ard_cluster_rank(c) == 0) {
        CHECK(ard_cluster_fof_link_isotropic(c, xyz, N, 1.3, 2, got, &err) == ARD_OK);
        CHECK(memcmp(want, got, N * sizeof(int64_t)) == 0);
        CHECK(ard_cluster_fof_link_serve(c, 1, NULL) == ARD_EINVAL);
    } else {
        CHECK(ard_cluster_fof_link_serve(c, 1, &err) == ARD_OK);
    }
    int64_t roots = 0;
    for (int64_t i = 0; i < N; i++) {
        roots += want[i] == i;
    }
    CHECK(roots > 50 && roots < N / 2); /* real groups, not all one, not all alone */
    /* redshift space: directions in a cone, distances 800..1200 Mpc, per-galaxy lengths */
    uint64_t s = 5;
    for (int64_t i = 0; i < N; i++) {
        double x = xyz[3 * i] / 100.0 - 0.5, y = xyz[3 * i + 1] / 100.0 - 0.5;
        dist[i] = 800.0 + 4.0 * xyz[3 * i + 2]; /* the clumps stay clumps in redshift space */
        double ux = 0.3 * x, uy = 0.3 * y, uz = 1.0;
        double norm = sqrt(ux * ux + uy * uy + uz * uz);
        xyz[3 * i] = ux / norm;
        xyz[3 * i + 1] = uy / norm;
        xyz[3 * i + 2] = uz / norm;
        ang[i] = 0.0015 + 0.001 * uniform(&s);
        los[i] = 3.0 + 8.0 * uniform(&s);
    }
    CHECK(ard_fof_link_redshift(xyz, dist, ang, los, N, 1, want, &err) == ARD_OK);
    CHECK(ard_cluster_fof_link_redshift(c, xyz, dist, ang, los, N, 2, got, &err) == ARD_OK);
    CHECK(memcmp(want, got, N * sizeof(int64_t)) == 0);
    memset(got, 0xff, N * sizeof(int64_t));
    if (ard_cluster_rank(c) == 0) {
        CHECK(ard_cluster_fof_link_redshift(c, xyz, dist, ang, los, N, 1, got, &err) == ARD_OK);
        CHECK(memcmp(want, got, N * sizeof(int64_t)) == 0);
    } else {
        CHECK(ard_cluster_fof_link_serve(c, 1, &err) == ARD_OK);
    }
    roots = 0;
    for (int64_t i = 0; i < N; i++) {
        roots += want[i] == i;
    }
    CHECK(roots > 50 && roots < N - 50);
    /* bad input: the same status on every rank */
    xyz[7] = NAN;
    ard_error_init(&err);
    CHECK(ard_cluster_fof_link_redshift(c, xyz, dist, ang, los, N, 1, got, &err) == ARD_EINVAL);
    CHECK(ard_cluster_fof_link_isotropic(c, xyz, N, -1.0, 1, got, NULL) == ARD_EINVAL);
    ard_free(xyz);
    ard_free(dist);
    ard_free(ang);
    ard_free(los);
    ard_free(want);
    ard_free(got);
    return failures;
}

/* Under mpirun: the collectives with real ranks. */
static int mpi_mode(void) {
    int failures = 0, rank = -1;
    ard_error err;
    ard_error_init(&err);
    if (ard_cluster_init(NULL, NULL, &err) != ARD_OK) {
        fprintf(stderr, "init: %s\n", err.msg);
        return 1;
    }
    ard_cluster *c = NULL;
    if (ard_cluster_open(&c, &err) != ARD_OK) {
        fprintf(stderr, "open: %s\n", err.msg);
        return 1;
    }
    rank = ard_cluster_rank(c);
    int32_t size = ard_cluster_size(c);
    /* agree: all OK */
    ard_error_init(&err);
    CHECK(ard_cluster_agree(c, ARD_OK, &err, NULL) == ARD_OK);
    /* agree: ranks >= 1 fail with their own message; the lowest failing rank wins everywhere */
    ard_error_init(&err);
    ard_status mine = rank >= 1 ? ARD_EIO : ARD_OK;
    if (rank >= 1) {
        ard_error_set(&err, ARD_EIO, "disk %d broke", rank);
    }
    char *report = NULL;
    ard_status st = ard_cluster_agree(c, mine, &err, &report);
    if (size > 1) {
        CHECK(st == ARD_EIO);
        CHECK(strcmp(err.msg, "rank 1: disk 1 broke") == 0);
        if (rank == 0) {
            CHECK(report != NULL);
            for (int32_t r = 1; report && r < size; r++) {
                char want[64];
                snprintf(want, sizeof want, "rank %d: disk %d broke\n", r, r);
                CHECK(strstr(report, want) != NULL);
            }
        } else {
            CHECK(report == NULL);
        }
    } else {
        CHECK(st == ARD_OK && report == NULL);
    }
    ard_free(report);
    /* gather: rank order */
    char line[32], *all = NULL;
    snprintf(line, sizeof line, "<%d>", rank);
    CHECK(ard_cluster_gather_text(c, line, &all, NULL) == ARD_OK);
    if (rank == 0) {
        char want[256] = "";
        for (int32_t r = 0; r < size; r++) {
            size_t at = strlen(want);
            snprintf(want + at, sizeof want - at, "<%d>", r);
        }
        CHECK(all && strcmp(all, want) == 0);
    } else {
        CHECK(all == NULL);
    }
    ard_free(all);
    /* progress: rank r adds r+1 units ten times */
    ard_cluster_progress *p = NULL;
    CHECK(ard_cluster_progress_new(c, "test", 10 * (rank + 1), 0, &p, NULL) == ARD_OK);
    for (int i = 0; i < 10; i++) {
        ard_cluster_progress_add(p, rank + 1);
    }
    int64_t want_sum = (int64_t)size * (size + 1) / 2 * 10;
    if (rank == 0) {
        CHECK(ard_cluster_progress_total(p) == want_sum);
    }
    ard__cl_nap(150000); /* some counts travel before the end (throttled to 100 ms) */
    ard_cluster_progress_add(p, 0);
    if (rank == 0) {
        CHECK(ard_cluster_progress_done(p) >= 10);
    }
    int64_t sum = ard_cluster_progress_finish(p);
    CHECK(sum == (rank == 0 ? want_sum : 10 * (rank + 1)));
    /* a share of the total learnt once the work started: rank 0 sums the latest shares */
    p = NULL;
    CHECK(ard_cluster_progress_new(c, NULL, 0, 0, &p, NULL) == ARD_OK);
    ard_cluster_progress_set_total(p, 1);
    ard_cluster_progress_set_total(p, 5 * (rank + 1));
    ard_cluster_progress_add(p, 2);
    CHECK(ard_cluster_agree(c, ARD_OK, NULL, NULL) == ARD_OK);
    int64_t want_total = (int64_t)size * (size + 1) / 2 * 5;
    for (int i = 0; rank == 0 && i < 200 && ard_cluster_progress_total(p) != want_total; i++) {
        ard__cl_nap(10000);
        ard_cluster_progress_add(p, 0);
    }
    if (rank == 0) {
        CHECK(ard_cluster_progress_total(p) == want_total);
        CHECK(ard_cluster_progress_done(p) == 2 * (int64_t)size);
    }
    CHECK(ard_cluster_progress_finish(p) == (rank == 0 ? 2 * (int64_t)size : 2));
    /* partition: every rank computes its own share; together they cover every item once */
    int64_t bytes[37];
    for (int i = 0; i < 37; i++) {
        bytes[i] = (i * 7919) % 1000;
    }
    int64_t first = 0, count = 0;
    CHECK(ard_cluster_partition(bytes, 37, rank, size, &first, &count, NULL) == ARD_OK);
    char share[64], *shares = NULL;
    snprintf(share, sizeof share, "%lld+%lld;", (long long)first, (long long)count);
    CHECK(ard_cluster_gather_text(c, share, &shares, NULL) == ARD_OK);
    if (rank == 0 && shares) {
        int64_t next = 0;
        for (const char *s = shares; *s;) {
            long long f, n;
            CHECK(sscanf(s, "%lld+%lld;", &f, &n) == 2);
            CHECK(f == next);
            next = f + n;
            s = strchr(s, ';') + 1;
        }
        CHECK(next == 37);
    }
    ard_free(shares);
    failures += fof_check(c, rank);
    ard_error_init(&err);
    st = ard_cluster_agree(c, failures ? ARD_EINTERNAL : ARD_OK, &err, NULL);
    ard_cluster_close(c);
    ard_cluster_finalize();
    if (rank == 0) {
        printf(st == ARD_OK ? "ok\n" : "FAILED: %s\n", err.msg);
    }
    return st == ARD_OK ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc >= 3 && strcmp(argv[1], "dump") == 0) {
        return dump(argc, argv);
    }
    if (argc >= 2 && strcmp(argv[1], "mpi") == 0) {
        return mpi_mode();
    }
    if (argc >= 2 && strcmp(argv[1], "available") == 0) {
        return ard_cluster_available() ? 0 : 1; /* the scripts skip an ard without MPI */
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_partition_balanced),
        cmocka_unit_test(test_partition_by_bytes),
        cmocka_unit_test(test_partition_edges),
        cmocka_unit_test(test_f16),
        cmocka_unit_test(test_bf16),
        cmocka_unit_test(test_wire_pack),
        cmocka_unit_test(test_pin),
        cmocka_unit_test(test_launched),
        cmocka_unit_test(test_without_launcher),
        cmocka_unit_test(test_stream_options),
        cmocka_unit_test(test_store_token_dtype),
        cmocka_unit_test(test_open_footer),
        cmocka_unit_test(test_sync_remote_hook),
    };
    return cmocka_run_group_tests_name("cluster", tests, NULL, NULL);
}
