/* libFuzzer target: the datasheet template renderer (a template is a file a user passes with
 * `ard datasheet --template`). The input is the template; the model has every registered scalar set
 * and two rows in every table, with values holding '|' and newlines. Invariants: the status is OK,
 * ARD_EINVAL with a "fuzz.md:LINE: " message, or ARD_ENOMEM; rendering is deterministic; a template
 * without "{{" comes out unchanged. Also replayed by tests/reliability (rel_fuzz_replay.c). */
#include "../src/datasheet/datasheet_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ds_model fuzz_model;
static int fuzz_model_ready;

static void template_broken(const char *what, ard_status st, const ard_error *err) {
    fprintf(stderr, "fuzz_template: %s (%s: %s)\n", what, ard_status_name(st), err ? err->msg : "");
    abort();
}

static void free_model(void) {
    ard__ds_model_reset(&fuzz_model);
}

static void make_model(void) {
    if (ard__ds_model_init(&fuzz_model, NULL) != ARD_OK) {
        abort();
    }
    for (int32_t i = 0; i < ard__ds_num_scalars(); i++) {
        if (ard__ds_set(&fuzz_model, ard__ds_scalar_name(i), "s%d|x\ny", (int)i) != ARD_OK) {
            abort();
        }
    }
    for (int32_t t = 0; t < ard__ds_num_tables(); t++) {
        ds_table *tb = ard__ds_table_get(&fuzz_model, ard__ds_table_name(t));
        const char *cells[32];
        char text[32][24];
        for (int32_t row = 0; row < 2; row++) {
            for (int32_t k = 0; k < tb->ncols && k < 32; k++) {
                snprintf(text[k], sizeof text[k], "t%dr%dc%d|\r", (int)t, (int)row, (int)k);
                cells[k] = text[k];
            }
            if (tb->ncols > 32 || ard__ds_row(tb, cells, NULL) != ARD_OK) {
                abort();
            }
        }
    }
    fuzz_model_ready = 1;
    atexit(free_model);
}

static int same_bytes(const ard_buf *b, const void *p, size_t n) {
    return b->len == n && (n == 0 || memcmp(b->data, p, n) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 65536) {
        return 0;
    }
    if (!fuzz_model_ready) {
        make_model();
    }
    char *tmpl = malloc(size + 1);
    if (!tmpl) {
        return 0;
    }
    memcpy(tmpl, data, size);
    tmpl[size] = '\0'; /* the datasheet refuses a template holding a NUL: cut there */
    ard_buf out, again;
    ard_buf_init(&out);
    ard_buf_init(&again);
    ard_error err, err2;
    ard_error_init(&err);
    ard_error_init(&err2);
    ard_status st = ard__ds_render(&fuzz_model, tmpl, "fuzz.md", &out, &err);
    ard_status st2 = ard__ds_render(&fuzz_model, tmpl, "fuzz.md", &again, &err2);
    if (st != ARD_OK && st != ARD_EINVAL && st != ARD_ENOMEM) {
        template_broken("status", st, &err);
    }
    if (st == ARD_EINVAL && strncmp(err.msg, "fuzz.md:", 8) != 0) {
        template_broken("the message does not name the template's line", st, &err);
    }
    if (st != st2 || strcmp(err.msg, err2.msg) != 0 ||
        (st == ARD_OK && !same_bytes(&out, again.data, again.len))) {
        template_broken("two renderings of one template differ", st, &err);
    }
    if (st == ARD_OK && !strstr(tmpl, "{{") && !same_bytes(&out, tmpl, strlen(tmpl))) {
        template_broken("a template without placeholders did not come out unchanged", st, &err);
    }
    ard_buf_reset(&out);
    ard_buf_reset(&again);
    free(tmpl);
    return 0;
}
