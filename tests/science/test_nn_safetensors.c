/* safetensors files of nn parameter sets: round trip (values bit for bit, metadata), loading into a
 * model, and every malformed file with its exact status and a message naming the file and tensor.
 * Also the fixture writer behind nn_numpy.sh (numpy alone reads what ard writes). */
#include "sci_test_util.h"
#include "sci_tests.h"

#include "ard/nn.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* |a - b| <= tol in double (cmocka's assert_float_equal works in float). */
#define assert_near(a, b, tol) near_check((double)(a), (double)(b), (tol), #a, __LINE__)
static void near_check(double a, double b, double tol, const char *what, int line) {
    if (!(fabs(a - b) <= tol)) {
        fail_msg("line %d: %s = %.9g, want %.9g (tolerance %g)", line, what, a, b, tol);
    }
}

static char tmpdir[256];

static int setup_dir(void **state) {
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ard_nn_st_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state) {
    (void)state;
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    char path[512];
    while (d && (e = readdir(d))) {
        if (e->d_name[0] != '.') {
            snprintf(path, sizeof path, "%s/%s", tmpdir, e->d_name);
            unlink(path);
        }
    }
    if (d) {
        closedir(d);
    }
    rmdir(tmpdir);
    return 0;
}

static void path_of(char *out, size_t cap, const char *name) {
    snprintf(out, cap, "%s/%s", tmpdir, name);
}

static void write_bytes(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* A file with the given header JSON followed by data_len bytes of tensor data. */
static void write_st(const char *path, const char *json, size_t data_len) {
    size_t hl = strlen(json);
    uint8_t *buf = calloc(8 + hl + data_len + 1, 1);
    for (int i = 0; i < 8; i++) {
        buf[i] = (uint8_t)((uint64_t)hl >> (8 * i));
    }
    memcpy(buf + 8, json, hl);
    write_bytes(path, buf, 8 + hl + data_len);
    free(buf);
}

/* The fixed parameter set of the round trip and the numpy fixture. */
static ard_nn_params *fixture_params(void) {
    ard_nn_params *p = NULL;
    assert_int_equal(ard_nn_params_new(&p, NULL), ARD_OK);
    ard_nn_tensor *w, *b, *s, *e, *k;
    assert_int_equal(ard_nn_params_add(p, "layer0.weight", 2, (int64_t[]){3, 4}, &w, NULL), ARD_OK);
    assert_int_equal(ard_nn_params_add(p, "layer0.bias", 1, (int64_t[]){3}, &b, NULL), ARD_OK);
    assert_int_equal(ard_nn_params_add(p, "scalar", 0, NULL, &s, NULL), ARD_OK);
    assert_int_equal(ard_nn_params_add(p, "empty", 2, (int64_t[]){0, 4}, &e, NULL), ARD_OK);
    assert_int_equal(ard_nn_params_add(p, "kaiming", 2, (int64_t[]){64, 32}, &k, NULL), ARD_OK);
    for (int64_t i = 0; i < 12; i++) {
        w->value[i] = (float)(i - 5) * 0.125f;
    }
    b->value[0] = 1.5f;
    b->value[1] = -2.25f;
    b->value[2] = 1e-3f;
    s->value[0] = 3.5f;
    assert_int_equal(ard_nn_init_kaiming(k, 32, ard_nn_seed_for(7, "kaiming"), NULL), ARD_OK);
    assert_int_equal(ard_nn_params_set_meta(p, "stage", "test", NULL), ARD_OK);
    assert_int_equal(ard_nn_params_set_meta(p, "note", "quote \" backslash \\ e\xc3\xa9", NULL),
                     ARD_OK);
    return p;
}

static void assert_same_params(const ard_nn_params *a, const ard_nn_params *b) {
    assert_int_equal(ard_nn_params_count(a), ard_nn_params_count(b));
    for (int64_t i = 0; i < ard_nn_params_count(a); i++) {
        const ard_nn_tensor *x = ard_nn_params_at(a, i), *y = ard_nn_params_at(b, i);
        assert_string_equal(x->name, y->name);
        assert_int_equal(x->ndim, y->ndim);
        for (int32_t d = 0; d < x->ndim; d++) {
            assert_int_equal(x->shape[d], y->shape[d]);
        }
        assert_int_equal(x->count, y->count);
        assert_memory_equal(x->value, y->value, (size_t)x->count * sizeof(float) + (x->count == 0));
    }
}

static void test_round_trip(void **state) {
    (void)state;
    char path[512];
    path_of(path, sizeof path, "model.safetensors");
    ard_nn_params *p = fixture_params(), *q = NULL;
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_nn_save_safetensors(p, path, &err), ARD_OK);
    assert_int_equal(ard_nn_load_safetensors(path, &q, &err), ARD_OK);
    assert_same_params(p, q);
    assert_string_equal(ard_nn_params_get_meta(q, "stage"), "test");
    assert_string_equal(ard_nn_params_get_meta(q, "note"), "quote \" backslash \\ e\xc3\xa9");
    /* header length + header is a multiple of 8 (aligned data) */
    FILE *f = fopen(path, "rb");
    uint8_t len_le[8];
    assert_int_equal(fread(len_le, 1, 8, f), 8);
    fclose(f);
    assert_int_equal(len_le[0] % 8, 0);
    /* load into a model of the same layout: values replaced */
    ard_nn_params *model = fixture_params();
    ard_nn_params_at(model, 0)->value[3] = 99.0f;
    assert_int_equal(ard_nn_params_load_into(model, path, &err), ARD_OK);
    assert_near(ard_nn_params_at(model, 0)->value[3], -0.25, 0.0);
    /* overwrite: the new file replaces the old one, no temporary file stays behind */
    ard_nn_params_at(p, 2)->value[0] = -1.0f;
    assert_int_equal(ard_nn_save_safetensors(p, path, &err), ARD_OK);
    ard_nn_params_free(q);
    assert_int_equal(ard_nn_load_safetensors(path, &q, &err), ARD_OK);
    assert_near(ard_nn_params_at(q, 2)->value[0], -1.0, 0.0);
    int entries = 0;
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    while ((e = readdir(d))) {
        entries += e->d_name[0] != '.';
    }
    closedir(d);
    assert_int_equal(entries, 1);
    /* writing into a missing directory fails and leaves nothing */
    char bad[512];
    path_of(bad, sizeof bad, "no/such/dir/m.safetensors");
    assert_int_not_equal(ard_nn_save_safetensors(p, bad, NULL), ARD_OK);
    ard_nn_params_free(p);
    ard_nn_params_free(q);
    ard_nn_params_free(model);
}

static void test_load_into_mismatch(void **state) {
    (void)state;
    char path[512];
    path_of(path, sizeof path, "mismatch.safetensors");
    ard_nn_params *p = fixture_params();
    assert_int_equal(ard_nn_save_safetensors(p, path, NULL), ARD_OK);
    ard_error err;
    /* a model with another shape for one tensor */
    ard_nn_params *other = NULL;
    assert_int_equal(ard_nn_params_new(&other, NULL), ARD_OK);
    for (int64_t i = 0; i < ard_nn_params_count(p); i++) {
        const ard_nn_tensor *t = ard_nn_params_at(p, i);
        int64_t shape[4] = {t->shape[0], t->shape[1], 0, 0};
        if (i == 0) {
            shape[1] = 5;
        }
        assert_int_equal(ard_nn_params_add(other, t->name, t->ndim, shape, NULL, NULL), ARD_OK);
    }
    ard_error_init(&err);
    assert_int_equal(ard_nn_params_load_into(other, path, &err), ARD_EINVAL);
    assert_non_null(strstr(err.msg, "layer0.weight"));
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "[3, 4]"));
    assert_non_null(strstr(err.msg, "[3, 5]"));
    ard_nn_params_free(other);
    /* a model with a tensor the file lacks */
    other = fixture_params();
    assert_int_equal(ard_nn_params_add(other, "extra", 1, (int64_t[]){2}, NULL, NULL), ARD_OK);
    ard_error_init(&err);
    assert_int_equal(ard_nn_params_load_into(other, path, &err), ARD_EINVAL);
    assert_non_null(strstr(err.msg, "'extra' is missing"));
    ard_nn_params_free(other);
    /* a model smaller than the file */
    assert_int_equal(ard_nn_params_new(&other, NULL), ARD_OK);
    assert_int_equal(ard_nn_params_add(other, "scalar", 0, NULL, NULL, NULL), ARD_OK);
    ard_error_init(&err);
    assert_int_equal(ard_nn_params_load_into(other, path, &err), ARD_EINVAL);
    assert_non_null(strstr(err.msg, "not part of the model"));
    ard_nn_params_free(other);
    ard_nn_params_free(p);
}

typedef struct bad_case {
    const char *name;
    const char *json; /* NULL: raw bytes below */
    size_t data_len;
    ard_status want;
    const char *needle; /* must appear in the message (besides the path) */
} bad_case;

static void check_bad(const bad_case *c) {
    char path[512];
    path_of(path, sizeof path, c->name);
    write_st(path, c->json, c->data_len);
    ard_nn_params *q = (ard_nn_params *)(uintptr_t)1;
    ard_error err;
    ard_error_init(&err);
    ard_status st = ard_nn_load_safetensors(path, &q, &err);
    if (st != c->want || !strstr(err.msg, path) || (c->needle && !strstr(err.msg, c->needle))) {
        fail_msg("%s: status %s (want %s), message '%s'", c->name, ard_status_name(st),
                 ard_status_name(c->want), err.msg);
    }
    assert_null(q);
}

static void test_bad_files(void **state) {
    (void)state;
    static const bad_case cases[] = {
        {"json_unterminated", "{\"a\": {\"dtype\": \"F32\"", 0, ARD_ECORRUPT, "header byte"},
        {"json_not_object", "[1, 2]", 0, ARD_ECORRUPT, "expected '{'"},
        {"json_trailing", "{} x", 0, ARD_ECORRUPT, "trailing"},
        {"json_bad_escape", "{\"a\\q\": {}}", 0, ARD_ECORRUPT, "escape"},
        {"missing_offsets", "{\"w\": {\"dtype\": \"F32\", \"shape\": [2]}}", 8, ARD_ECORRUPT,
         "'w' lacks data_offsets"},
        {"offsets_beyond",
         "{\"w\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]}}", 8,
         ARD_ECORRUPT, "'w': data_offsets [0, 16] beyond the 8 data bytes"},
        {"offsets_vs_shape",
         "{\"w\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 8]}}", 16,
         ARD_ECORRUPT, "'w': data_offsets [0, 8] do not hold the 12 bytes"},
        {"offsets_reversed",
         "{\"w\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [8, 0]}}", 16,
         ARD_ECORRUPT, "'w'"},
        {"offsets_negative",
         "{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [-4, 0]}}", 16,
         ARD_ECORRUPT, "non-negative integer"},
        {"overlap",
         "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
         " \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}",
         16, ARD_ECORRUPT, "'a' and 'b' overlap"},
        {"duplicate",
         "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]},"
         " \"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}",
         8, ARD_ECORRUPT, "'a' appears twice"},
        {"dtype_f64", "{\"w\": {\"dtype\": \"F64\", \"shape\": [1], \"data_offsets\": [0, 8]}}", 8,
         ARD_ENOTSUP, "'w' has dtype F64"},
        {"too_many_dims",
         "{\"w\": {\"dtype\": \"F32\", \"shape\": [1,1,1,1,1], \"data_offsets\": [0, 4]}}", 4,
         ARD_ELIMIT, "tensor 'w'"},
        {"meta_not_string", "{\"__metadata__\": {\"k\": 3}}", 0, ARD_ECORRUPT,
         "values must be strings"},
        {"long_name",
         "{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "a"
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\": {}}",
         0, ARD_ELIMIT, "tensor name of 134 bytes"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        check_bad(&cases[i]);
    }
}

static void test_truncated_files(void **state) {
    (void)state;
    char path[512], cut[512];
    path_of(path, sizeof path, "whole.safetensors");
    ard_nn_params *p = fixture_params(), *q = NULL;
    assert_int_equal(ard_nn_save_safetensors(p, path, NULL), ARD_OK);
    ard_nn_params_free(p);
    FILE *f = fopen(path, "rb");
    uint8_t buf[16384];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_true(len > 100 && len < sizeof buf);
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--) {
        hl = (hl << 8) | buf[i];
    }
    struct {
        size_t keep;
        ard_status want;
        const char *needle;
    } cuts[] = {
        {0, ARD_ECORRUPT, "no 8-byte header length"},
        {5, ARD_ECORRUPT, "no 8-byte header length"},
        {8 + (size_t)hl / 2, ARD_ECORRUPT, "header of"},
        {len - 4, ARD_ECORRUPT, "'kaiming': data_offsets"}, /* the last tensor loses its tail */
    };
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        path_of(cut, sizeof cut, "cut.safetensors");
        write_bytes(cut, buf, cuts[i].keep);
        ard_error err;
        ard_error_init(&err);
        assert_int_equal(ard_nn_load_safetensors(cut, &q, &err), cuts[i].want);
        assert_null(q);
        if (!strstr(err.msg, cuts[i].needle) || !strstr(err.msg, cut)) {
            fail_msg("cut at %zu: '%s'", cuts[i].keep, err.msg);
        }
    }
    /* a header length beyond the cap */
    uint8_t huge[16] = {0};
    huge[3] = 0x10; /* 2^28 bytes */
    path_of(cut, sizeof cut, "huge.safetensors");
    write_bytes(cut, huge, sizeof huge);
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_nn_load_safetensors(cut, &q, &err), ARD_ELIMIT);
    path_of(cut, sizeof cut, "absent.safetensors");
    assert_int_equal(ard_nn_load_safetensors(cut, &q, NULL), ARD_ENOENT);
}

/* Writes the fixture file for nn_numpy.sh: the fixed parameter set plus a dense layer's input and
 * the C forward pass, so that numpy can recompute x W^T + b. Returns 0 on success. */
int sci_nn_write_fixture(const char *path) {
    ard_nn_params *p = fixture_params();
    ard_nn_tensor *x, *y;
    if (ard_nn_params_add(p, "x", 2, (int64_t[]){5, 4}, &x, NULL) != ARD_OK ||
        ard_nn_params_add(p, "y", 2, (int64_t[]){5, 3}, &y, NULL) != ARD_OK) {
        return 1;
    }
    test_rng rng = {5};
    for (int64_t i = 0; i < x->count; i++) {
        x->value[i] = (float)(2.0 * test_rng_uniform(&rng) - 1.0);
    }
    ard_nn_tensor *w = ard_nn_params_find(p, "layer0.weight");
    ard_nn_tensor *b = ard_nn_params_find(p, "layer0.bias");
    ard_error err;
    ard_error_init(&err);
    ard_status st =
        ard_nn_dense_forward(NULL, x->value, 5, 4, w->value, b->value, 3, y->value, &err);
    if (st == ARD_OK) {
        st = ard_nn_save_safetensors(p, path, &err);
    }
    ard_nn_params_free(p);
    if (st != ARD_OK) {
        fprintf(stderr, "fixture: %s\n", err.msg);
        return st == ARD_ENOTSUP ? 77 : 1;
    }
    return 0;
}

int sci_run_nn_safetensors_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_load_into_mismatch, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_bad_files, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_truncated_files, setup_dir, teardown_dir),
    };
    return cmocka_run_group_tests_name("nn_safetensors", tests, NULL, NULL);
}
