/* libFuzzer target: the plan file parser (ard_plan_parse, what `ard stream serve --plan` reads from
 * a file people pass around). Invariants: the status is OK, ARD_EINVAL, ARD_EPERM or ARD_ENOMEM with
 * a message on failure and *out NULL; a parsed plan holds only relative paths without a ".."
 * component, NUL, TAB or newline, every chunk's rows ascend and add up to the plan's row count, and
 * the plan's text (ard_plan_format) parses again into a plan with the same text. Also replayed by
 * tests/reliability (rel_fuzz_replay.c). */
#include "ard/dataset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void plan_broken(const char *what, ard_status st, const ard_error *err) {
    fprintf(stderr, "fuzz_plan: %s (%s: %s)\n", what, ard_status_name(st), err ? err->msg : "");
    abort();
}

static int path_ok(const char *p) {
    if (!p[0] || p[0] == '/' || strpbrk(p, "\t\n")) {
        return 0;
    }
    for (const char *c = p; *c;) {
        const char *slash = strchr(c, '/');
        size_t n = slash ? (size_t)(slash - c) : strlen(c);
        if (n == 2 && c[0] == '.' && c[1] == '.') {
            return 0;
        }
        c += n + (slash != NULL);
    }
    return 1;
}

static void check_plan(const ard_plan *plan) {
    for (int32_t i = 0; i < ard_plan_num_files(plan); i++) {
        if (!path_ok(ard_plan_file(plan, i))) {
            plan_broken("a parsed plan holds a path that is not confined", ARD_OK, NULL);
        }
    }
    int64_t rows = 0;
    for (int64_t c = 0; c < ard_plan_num_chunks(plan); c++) {
        const ard_plan_chunk *ch = ard_plan_chunk_at(plan, c);
        if (ch->file < 0 || ch->file >= ard_plan_num_files(plan) || ch->num_rows < 1) {
            plan_broken("a chunk outside the plan's files, or empty", ARD_OK, NULL);
        }
        for (int64_t r = 1; r < ch->num_rows; r++) {
            if (ch->rows[r] <= ch->rows[r - 1]) {
                plan_broken("a chunk's rows do not ascend", ARD_OK, NULL);
            }
        }
        rows += ch->num_rows;
    }
    if (rows != ard_plan_num_rows(plan)) {
        plan_broken("the chunks' rows do not add up to the plan's", ARD_OK, NULL);
    }
}

/* format(plan) parses again, and formats to the same text. */
static void plan_round_trip(const ard_plan *plan) {
    ard_buf text, again;
    ard_buf_init(&text);
    ard_buf_init(&again);
    ard_plan_format(plan, &text);
    ard_plan *reparsed = NULL;
    ard_error err;
    ard_error_init(&err);
    if (!text.failed) {
        ard_status st = ard_plan_parse((const char *)text.data, text.len, &reparsed, &err);
        if (st != ARD_OK && st != ARD_ENOMEM) {
            plan_broken("the text of a parsed plan does not parse", st, &err);
        }
    }
    if (reparsed) {
        ard_plan_format(reparsed, &again);
        if (!again.failed &&
            (again.len != text.len || memcmp(again.data, text.data, text.len) != 0)) {
            plan_broken("format(parse(format(plan))) differs from format(plan)", ARD_OK, NULL);
        }
        ard_buf json;
        ard_buf_init(&json);
        ard_plan_to_json(reparsed, &json, 0);
        ard_buf_reset(&json);
    }
    ard_plan_free(reparsed);
    ard_buf_reset(&text);
    ard_buf_reset(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 65536) {
        return 0;
    }
    ard_plan *plan = (ard_plan *)(uintptr_t)1; /* must come back NULL on failure */
    ard_error err;
    ard_error_init(&err);
    ard_status st = ard_plan_parse((const char *)data, size, &plan, &err);
    if (st != ARD_OK && st != ARD_EINVAL && st != ARD_EPERM && st != ARD_ENOMEM) {
        plan_broken("status", st, &err);
    }
    if ((st == ARD_OK) != (plan != NULL) || (st != ARD_OK && !err.msg[0])) {
        plan_broken("*out or the message disagrees with the status", st, &err);
    }
    if (plan) {
        check_plan(plan);
        plan_round_trip(plan);
        ard_plan_free(plan);
    }
    return 0;
}
