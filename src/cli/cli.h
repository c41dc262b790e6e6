/* Private header of the ard command-line tool: the option parser, error/usage reporting, the
 * command entry points and the helpers that render Parquet metadata values. The CLI uses public
 * headers only.
 *
 * Exit codes: 0 success, 1 failure (message "ard: <what>" on stderr), 2 bad usage. Data goes to
 * stdout, diagnostics to stderr. */
#ifndef ARD_CLI_H
#define ARD_CLI_H

#include "ard/core.h"
#include "ard/parquet.h"

#include <stdio.h>

enum { ARD_CLI_OK = 0, ARD_CLI_FAILURE = 1, ARD_CLI_USAGE = 2 };

/* Prints "ard: <message>" (err->msg, or the status text when there is none) and returns 1. */
int ard_cli_fail(ard_status st, const ard_error *err);
/* Prints "ard: <what>" and a hint to "ard <command> --help", returns 2. */
int ard_cli_usage(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- options (args.c) ---- */
typedef struct ard_cli_option {
    const char *name;  /* long name without "--" */
    const char *value; /* placeholder shown in help ("N", "FILE"); NULL for a flag */
    const char *help;
} ard_cli_option;

#define ARD_CLI_MAX_OPTIONS 32
#define ARD_CLI_MAX_POSITIONAL 64

/* The result of parsing. present/value are indexed like the command's option table. */
typedef struct ard_cli_args {
    int help; /* --help or -h was given */
    int num_positional;
    const char *positional[ARD_CLI_MAX_POSITIONAL];
    int present[ARD_CLI_MAX_OPTIONS];
    const char *value[ARD_CLI_MAX_OPTIONS];
} ard_cli_args;

/* A command's self-description, used for parsing messages and --help. */
typedef struct ard_cli_spec {
    const char *command; /* "parquet meta" */
    const char *usage;   /* "FILE [--json]" */
    const char *summary; /* one paragraph */
    const ard_cli_option *options;
    int num_options;
} ard_cli_spec;

/* Parses argv[1..argc) (argv[0] is the command word): "--name value", "--name=value", flags, "--"
 * ending the options, and positional arguments. Returns 0, or 2 after printing a usage error
 * (unknown option, missing value, value given to a flag, too many arguments). */
int ard_cli_parse(const ard_cli_spec *spec, int argc, char **argv, ard_cli_args *out);

/* The CLI's one set of number parsers (args.c): the whole of `text` must be the number. 0 on
 * success (*out set), -1 otherwise (the caller reports the usage error, naming its option).
 * ard_cli_parse_i64: a decimal integer in [lo, hi]. ard_cli_parse_u64: a decimal integer >= 0.
 * ard_cli_parse_double: a finite number in [lo, hi]. ard_cli_parse_size: a byte count > 0 with
 * an optional K, M or G suffix (binary multiples; "1.5G" allowed), at most 9e18. */
int ard_cli_parse_i64(const char *text, int64_t lo, int64_t hi, int64_t *out);
int ard_cli_parse_u64(const char *text, uint64_t *out);
int ard_cli_parse_double(const char *text, double lo, double hi, double *out);
int ard_cli_parse_size(const char *text, int64_t *out);
/* ard_cli_parse_i64 into an int32_t ([lo, hi] must lie inside int32_t). */
int ard_cli_parse_i32(const char *text, int32_t lo, int32_t hi, int32_t *out);
/* Prints the command's help to stdout. */
void ard_cli_print_help(const ard_cli_spec *spec);

/* ---- command entry points: argv[0] is the command word ---- */
int ard_cmd_parquet_meta(int argc, char **argv);
int ard_cmd_parquet_cat(int argc, char **argv);
int ard_cmd_parquet_convert(int argc, char **argv);

/* ---- rendering Parquet metadata (pq_render.c) ---- */
/* "DECIMAL(18,3)", "TIMESTAMP(MICROS,utc)", "INT(8,unsigned)", "STRING"; "" when there is none. */
void ard_cli_logical_str(const ard_pq_logical *lt, char *out, size_t cap);
/* ColumnOrder name: "TYPE_DEFINED_ORDER", "IEEE_754_TOTAL_ORDER" or "UNDEFINED". */
const char *ard_cli_column_order_name(int32_t order);

/* A statistics value decoded by physical and logical type. */
typedef enum ard_cli_value_kind {
    ARD_CLI_VAL_NUMBER,    /* text is a JSON number */
    ARD_CLI_VAL_NONFINITE, /* text is "NaN", "inf" or "-inf"; JSON null */
    ARD_CLI_VAL_BOOL,      /* text is "true"/"false" */
    ARD_CLI_VAL_TEXT,      /* bytes are valid UTF-8 */
    ARD_CLI_VAL_HEX        /* other bytes, rendered "0x.." */
} ard_cli_value_kind;

typedef struct ard_cli_value {
    ard_cli_value_kind kind;
    char text[64]; /* NUMBER, NONFINITE, BOOL */
    const uint8_t *bytes;
    size_t len;
} ard_cli_value;

void ard_cli_decode_value(const ard_pq_schema_node *leaf, ard_pq_type type, const uint8_t *bytes,
                          size_t len, ard_cli_value *out);
/* Text mode: numbers bare, strings quoted and escaped, cut to max_bytes (0 = no limit). */
void ard_cli_value_text(const ard_cli_value *v, ard_buf *out, size_t max_bytes);
void ard_cli_value_json(const ard_cli_value *v, ard_json *j);
/* A byte string quoted and escaped as in JSON, cut at a character boundary after max_bytes. */
void ard_cli_quoted(ard_buf *out, const char *s, size_t len, size_t max_bytes);

/* Writes the --json document (cmd_parquet_meta_json.c). */
void ard_cli_meta_json(const ard_parquet_file *file, ard_json *j);

#endif
