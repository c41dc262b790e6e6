/* libFuzzer target: the CLI argument parser (src/cli/args.c, compiled in). The input is split at
 * NUL bytes into argv[1..]; ard_cli_parse must return 0 or 2 and, on 0, hand back only what argv
 * held: every option present with a value when it takes one, none when it is a flag, at most
 * ARD_CLI_MAX_POSITIONAL positional arguments, each one of argv's strings. Also replayed by
 * tests/reliability (rel_fuzz_replay.c). */
#include "../src/cli/args.c"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { FUZZ_MAX_ARGS = 80 };

static const ard_cli_option fuzz_options[] = {
    {"json", NULL, "a flag"},        {"columns", "LIST", "a valued option"},
    {"threads", "N", "another"},     {"on-error", "POLICY", "a third"},
    {"quiet", NULL, "another flag"},
};
static const ard_cli_spec fuzz_spec = {"fuzz", "ARGS", "the parser under fuzzing", fuzz_options,
                                       (int)(sizeof fuzz_options / sizeof fuzz_options[0])};

static int from_argv(const char *p, char **argv, int argc) {
    for (int i = 0; i < argc; i++) {
        if (p == argv[i] || (p > argv[i] && p <= argv[i] + strlen(argv[i]))) {
            return 1; /* the whole string or its "=value" tail */
        }
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 4096) {
        return 0;
    }
    char *buf = malloc(size + 1);
    char *argv[FUZZ_MAX_ARGS + 1];
    if (!buf) {
        return 0;
    }
    memcpy(buf, data, size);
    buf[size] = '\0';
    int argc = 0;
    argv[argc++] = "fuzz";
    for (size_t at = 0; at <= size && argc < FUZZ_MAX_ARGS;) {
        argv[argc++] = buf + at;
        at += strlen(buf + at) + 1;
    }
    argv[argc] = NULL;
    ard_cli_args args;
    int rc = ard_cli_parse(&fuzz_spec, argc, argv, &args);
    if (rc != 0 && rc != 2) {
        abort();
    }
    if (rc == 0) {
        if (args.num_positional < 0 || args.num_positional > ARD_CLI_MAX_POSITIONAL) {
            abort();
        }
        for (int i = 0; i < args.num_positional; i++) {
            if (!from_argv(args.positional[i], argv, argc)) {
                abort();
            }
        }
        for (int i = 0; i < fuzz_spec.num_options; i++) {
            int valued = fuzz_options[i].value != NULL;
            if (args.present[i] && valued &&
                (!args.value[i] || !from_argv(args.value[i], argv, argc))) {
                abort();
            }
        }
    }
    free(buf);
    return 0;
}
