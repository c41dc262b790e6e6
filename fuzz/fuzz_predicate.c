/* libFuzzer target: the predicate guard of ard_index_query. Every input is a WHERE predicate: the
 * lexical guard (ard__predicate_check) must answer OK, ARD_EINVAL or ARD_EPERM (a ';'), and a
 * predicate it lets through runs read-only against a small generated index, where it may only
 * succeed or fail with ARD_EINVAL / ARD_EPERM / ARD_EDB (never write, never crash). Also replayed
 * by tests/reliability (rel_fuzz_replay.c). */
#include "ard/index.h"
#include "ard/survey.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);
ard_status ard__predicate_check(const char *where, ard_error *err); /* src/index (internal) */

static ard_index *fuzz_index;
static char fuzz_dir[256];

static void remove_dataset(void) {
    char cmd[400];
    ard_index_close(fuzz_index);
    fuzz_index = NULL;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fuzz_dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "fuzz_predicate: could not remove %s\n", fuzz_dir);
    }
}

/* A 60-galaxy survey, synced once per process, opened read-only. */
static void make_index(void) {
    const char *tmp = getenv("TMPDIR");
    snprintf(fuzz_dir, sizeof fuzz_dir, "%s/ard-fuzz-pred-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(fuzz_dir)) {
        abort();
    }
    char survey[300];
    snprintf(survey, sizeof survey, "%s/s", fuzz_dir);
    ard_generate_options o;
    ard_generate_options_init(&o);
    o.galaxies = 60;
    o.threads = 1;
    ard_index *w = NULL;
    ard_sync_options so = {0};
    so.quiet = 1;
    so.threads = 1;
    ard_sync_report rep;
    if (ard_generate(survey, &o, NULL, NULL) != ARD_OK ||
        ard_index_open(survey, NULL, 0, &w, NULL) != ARD_OK ||
        ard_index_sync(w, survey, &so, &rep, NULL) != ARD_OK) {
        abort();
    }
    ard_index_close(w);
    if (ard_index_open(survey, NULL, ARD_INDEX_READ_ONLY, &fuzz_index, NULL) != ARD_OK) {
        abort();
    }
    atexit(remove_dataset);
}

/* Built before the first input, outside libFuzzer's per-input timeout (generating and syncing the
 * survey takes seconds on a loaded machine; the first run once timed out there). */
int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    make_index();
    return 0;
}

static void broken(const char *where, const char *what, ard_status st, const ard_error *err) {
    fprintf(stderr, "fuzz_predicate: %s for \"%s\": %s (%s)\n", what, where, ard_status_name(st),
            err->msg);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 2048) {
        return 0;
    }
    char *where = malloc(size + 1);
    if (!where) {
        return 0;
    }
    memcpy(where, data, size);
    where[size] = '\0';
    ard_error err;
    ard_error_init(&err);
    ard_status st = ard__predicate_check(where, &err);
    if (st != ARD_OK && st != ARD_EINVAL && st != ARD_EPERM) { /* EPERM: a ';' */
        broken(where, "guard status", st, &err);
    }
    if (st == ARD_OK && strlen(where) == size) {
        if (!fuzz_index) {
            make_index();
        }
        ard_plan *plan = NULL;
        ard_error_init(&err);
        st = ard_index_query(fuzz_index, where, 20, &plan, &err);
        int allowed = st == ARD_OK || st == ARD_EINVAL || st == ARD_EPERM || st == ARD_EDB ||
                      st == ARD_ENOMEM;
        if (!allowed || (st == ARD_OK) != (plan != NULL) || (st != ARD_OK && !err.msg[0])) {
            broken(where, "query status", st, &err);
        }
        ard_plan_free(plan);
    }
    free(where);
    return 0;
}
