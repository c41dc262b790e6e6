/* libFuzzer target: the safetensors loader (a model file is something people download and share).
 * The input is written to a scratch file and loaded with ard_nn_load_safetensors. Invariants: the
 * status is one the header documents for a bad file (ARD_ECORRUPT, ARD_ENOTSUP, ARD_ELIMIT,
 * ARD_ENOMEM) with a message naming the file, *out NULL on failure; a loaded set saves and loads
 * again to the same tensors (names, shapes, bit-identical values). Also replayed by
 * tests/reliability (rel_fuzz_replay.c). */
#include "ard/nn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char st_dir[256];
static char st_in[300], st_out[300];

static void st_broken(const char *what, ard_status st, const ard_error *err) {
    fprintf(stderr, "fuzz_safetensors: %s (%s: %s)\n", what, ard_status_name(st),
            err ? err->msg : "");
    abort();
}

static void st_cleanup(void) {
    unlink(st_in);
    unlink(st_out);
    rmdir(st_dir);
}

static void st_setup(void) {
    const char *tmp = getenv("TMPDIR");
    snprintf(st_dir, sizeof st_dir, "%s/ard-fuzz-st-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(st_dir)) {
        abort();
    }
    snprintf(st_in, sizeof st_in, "%s/in.safetensors", st_dir);
    snprintf(st_out, sizeof st_out, "%s/out.safetensors", st_dir);
    atexit(st_cleanup);
}

static int same_tensor(const ard_nn_tensor *a, const ard_nn_tensor *b) {
    if (strcmp(a->name, b->name) != 0 || a->ndim != b->ndim || a->count != b->count) {
        return 0;
    }
    for (int32_t d = 0; d < a->ndim; d++) {
        if (a->shape[d] != b->shape[d]) {
            return 0;
        }
    }
    return a->count == 0 || memcmp(a->value, b->value, (size_t)a->count * sizeof(float)) == 0;
}

/* Saves `params` and loads it back: the same tensors in the same order. */
static void st_round_trip(const ard_nn_params *params) {
    ard_error err;
    ard_error_init(&err);
    ard_status st = ard_nn_save_safetensors(params, st_out, &err);
    if (st != ARD_OK) {
        st_broken("a loaded set does not save", st, &err);
    }
    ard_nn_params *again = NULL;
    st = ard_nn_load_safetensors(st_out, &again, &err);
    if (st != ARD_OK) {
        st_broken("a saved set does not load", st, &err);
    }
    if (ard_nn_params_count(again) != ard_nn_params_count(params)) {
        st_broken("the reloaded set has another tensor count", st, &err);
    }
    for (int64_t i = 0; i < ard_nn_params_count(params); i++) {
        if (!same_tensor(ard_nn_params_at(params, i), ard_nn_params_at(again, i))) {
            st_broken("a tensor changed in a save/load round trip", st, &err);
        }
    }
    ard_nn_params_free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > (1 << 20)) {
        return 0;
    }
    if (!st_dir[0]) {
        st_setup();
    }
    FILE *f = fopen(st_in, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
        abort();
    }
    ard_nn_params *params = (ard_nn_params *)(uintptr_t)1; /* must come back NULL on failure */
    ard_error err;
    ard_error_init(&err);
    ard_status st = ard_nn_load_safetensors(st_in, &params, &err);
    int documented = st == ARD_OK || st == ARD_ECORRUPT || st == ARD_ENOTSUP || st == ARD_ELIMIT ||
                     st == ARD_ENOMEM;
    if (!documented) {
        st_broken("status", st, &err);
    }
    if ((st == ARD_OK) != (params != NULL) || (st != ARD_OK && !strstr(err.msg, st_in))) {
        st_broken("*out or the message (naming the file) disagrees with the status", st, &err);
    }
    if (params) {
        st_round_trip(params);
        ard_nn_params_free(params);
    }
    return 0;
}
