/* Command-line option parsing shared by every command, plus the two ways the CLI reports trouble:
 * failures (exit 1) and usage errors (exit 2). */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int ard_cli_fail(ard_status st, const ard_error *err) {
    const char *msg = err && err->msg[0] ? err->msg : ard_status_str(st);
    fprintf(stderr, "ard: %s\n", msg);
    return ARD_CLI_FAILURE;
}

int ard_cli_usage(const char *command, const char *fmt, ...) {
    va_list ap;
    fputs("ard: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'ard%s%s --help' for more information.\n", command ? " " : "",
            command ? command : "");
    return ARD_CLI_USAGE;
}

static int find_option(const ard_cli_spec *spec, const char *name, size_t name_len) {
    for (int i = 0; i < spec->num_options; i++) {
        const char *o = spec->options[i].name;
        if (strlen(o) == name_len && memcmp(o, name, name_len) == 0) {
            return i;
        }
    }
    return -1;
}

/* Handles argv[*i], a "--name" or "--name=value" word; may consume the next word as the value. */
static int parse_long(const ard_cli_spec *spec, int argc, char **argv, int *i, ard_cli_args *out) {
    const char *word = argv[*i] + 2;
    const char *eq = strchr(word, '=');
    size_t name_len = eq ? (size_t)(eq - word) : strlen(word);
    if (!eq && strcmp(word, "help") == 0) {
        out->help = 1;
        return 0;
    }
    int idx = find_option(spec, word, name_len);
    if (idx < 0) {
        return ard_cli_usage(spec->command, "unknown option '--%.*s'", (int)name_len, word);
    }
    const ard_cli_option *opt = &spec->options[idx];
    out->present[idx] = 1;
    if (!opt->value) {
        if (eq) {
            return ard_cli_usage(spec->command, "option '--%s' takes no value", opt->name);
        }
        return 0;
    }
    if (eq) {
        out->value[idx] = eq + 1;
    } else if (*i + 1 < argc) {
        out->value[idx] = argv[++*i];
    } else {
        return ard_cli_usage(spec->command, "option '--%s' needs a value (%s)", opt->name,
                             opt->value);
    }
    return 0;
}

int ard_cli_parse(const ard_cli_spec *spec, int argc, char **argv, ard_cli_args *out) {
    memset(out, 0, sizeof *out);
    if (spec->num_options > ARD_CLI_MAX_OPTIONS) {
        fprintf(stderr, "ard: %s: too many options declared\n", spec->command);
        return ARD_CLI_FAILURE;
    }
    int options_done = 0;
    for (int i = 1; i < argc; i++) {
        const char *word = argv[i];
        int rc = 0;
        if (!options_done && strcmp(word, "--") == 0) {
            options_done = 1;
        } else if (!options_done && strncmp(word, "--", 2) == 0) {
            rc = parse_long(spec, argc, argv, &i, out);
        } else if (!options_done && strcmp(word, "-h") == 0) {
            out->help = 1;
        } else if (!options_done && word[0] == '-' && word[1] != '\0') {
            rc = ard_cli_usage(spec->command, "unknown option '%s'", word);
        } else if (out->num_positional == ARD_CLI_MAX_POSITIONAL) {
            rc = ard_cli_usage(spec->command, "too many arguments");
        } else {
            out->positional[out->num_positional++] = word;
        }
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

void ard_cli_print_help(const ard_cli_spec *spec) {
    printf("usage: ard %s %s\n\n%s\n", spec->command, spec->usage, spec->summary);
    printf("\noptions:\n");
    for (int i = 0; i < spec->num_options; i++) {
        const ard_cli_option *o = &spec->options[i];
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", o->name, o->value ? " " : "",
                 o->value ? o->value : "");
        printf("  %-24s %s\n", left, o->help);
    }
    printf("  %-24s %s\n", "-h, --help", "show this help");
}

int ard_cli_parse_i64(const char *text, int64_t lo, int64_t hi, int64_t *out) {
    char *end;
    errno = 0;
    long long v = text ? strtoll(text, &end, 10) : 0;
    if (!text || errno || end == text || *end || v < lo || v > hi) {
        return -1;
    }
    *out = (int64_t)v;
    return 0;
}

int ard_cli_parse_i32(const char *text, int32_t lo, int32_t hi, int32_t *out) {
    int64_t v = 0;
    if (ard_cli_parse_i64(text, lo, hi, &v) != 0) {
        return -1;
    }
    *out = (int32_t)v;
    return 0;
}

int ard_cli_parse_u64(const char *text, uint64_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = text ? strtoull(text, &end, 10) : 0;
    if (!text || errno || end == text || *end || text[0] == '-') {
        return -1;
    }
    *out = (uint64_t)v;
    return 0;
}

int ard_cli_parse_double(const char *text, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    double v = text ? strtod(text, &end) : 0.0;
    if (!text || errno || end == text || *end || !isfinite(v) || !(v >= lo && v <= hi)) {
        return -1;
    }
    *out = v;
    return 0;
}

int ard_cli_parse_size(const char *text, int64_t *out) {
    char *end;
    errno = 0;
    double v = text ? strtod(text, &end) : 0.0;
    if (!text || end == text) {
        return -1;
    }
    double mul = *end == 'K' || *end == 'k'   ? 1024.0
                 : *end == 'M' || *end == 'm' ? 1048576.0
                 : *end == 'G' || *end == 'g' ? 1073741824.0
                                              : 1.0;
    end += mul > 1.0;
    if (errno || *end || !(v > 0) || v * mul > 9e18) {
        return -1;
    }
    *out = (int64_t)(v * mul);
    return 0;
}
