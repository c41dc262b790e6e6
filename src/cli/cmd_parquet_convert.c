/* `ard parquet convert IN OUT [--codec C] [--level N] [--row-group-size BYTES]
 * [--rows-per-row-group N] [--byte-stream-split] [--page-version 1|2]`: flags into the writer's
 * options, then ard_parquet_rewrite (the library reads IN one row group at a time and rewrites it
 * atomically; flat columns and lists of primitives). */
#include "cli.h"

#include "ard/parquet_write.h"

#include <string.h>

enum {
    OPT_CODEC,
    OPT_LEVEL,
    OPT_RG_SIZE,
    OPT_RG_ROWS,
    OPT_BSS,
    OPT_NO_BSS,
    OPT_PAGE_VERSION,
    OPT_PAGE_SIZE,
    NUM_OPTS
};

static const ard_cli_option convert_options[NUM_OPTS] = {
    [OPT_CODEC] = {"codec", "NAME", "snappy (default), zstd, gzip, lz4_raw, brotli or none"},
    [OPT_LEVEL] = {"level", "N", "compression level (codec-specific; default: the codec's)"},
    [OPT_RG_SIZE] = {"row-group-size", "BYTES", "target row group size, suffixes K/M/G (256M)"},
    [OPT_RG_ROWS] = {"rows-per-row-group", "N", "exactly N rows per row group"},
    [OPT_BSS] = {"byte-stream-split", NULL, "BYTE_STREAM_SPLIT for FLOAT/DOUBLE columns (default)"},
    [OPT_NO_BSS] = {"no-byte-stream-split", NULL, "PLAIN for FLOAT/DOUBLE columns"},
    [OPT_PAGE_VERSION] = {"page-version", "1|2", "data page version (default 1)"},
    [OPT_PAGE_SIZE] = {"page-size", "BYTES", "target data page size, suffixes K/M/G (1M)"},
};

static const ard_cli_spec convert_spec = {
    "parquet convert",
    "IN OUT [--codec NAME] [--level N] [--row-group-size BYTES] [--rows-per-row-group N] "
    "[--[no-]byte-stream-split] [--page-version 1|2] [--page-size BYTES]",
    "Rewrites a Parquet file in ard's layout: dictionary encoding for strings and small integers,\n"
    "statistics, page index and CRCs, the chosen codec. OUT appears atomically. Flat columns and\n"
    "lists of primitives are supported.",
    convert_options, NUM_OPTS};

static int parse_codec(const char *s, ard_pq_codec *out) {
    static const struct {
        const char *name;
        ard_pq_codec codec;
    } codecs[] = {{"snappy", ARD_PQ_SNAPPY},
                  {"zstd", ARD_PQ_ZSTD},
                  {"gzip", ARD_PQ_GZIP},
                  {"lz4_raw", ARD_PQ_LZ4_RAW},
                  {"brotli", ARD_PQ_BROTLI},
                  {"none", ARD_PQ_UNCOMPRESSED},
                  {"uncompressed", ARD_PQ_UNCOMPRESSED}};
    for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++) {
        if (strcmp(s, codecs[i].name) == 0) {
            *out = codecs[i].codec;
            return 0;
        }
    }
    return -1;
}

static int parse_options(const ard_cli_args *a, ard_pq_writer_options *o) {
    int64_t v;
    ard_pq_writer_options_init(o);
    if (a->present[OPT_CODEC] && parse_codec(a->value[OPT_CODEC], &o->codec) != 0) {
        return ard_cli_usage(convert_spec.command, "unknown codec '%s'", a->value[OPT_CODEC]);
    }
    if (a->present[OPT_LEVEL]) {
        if (ard_cli_parse_i32(a->value[OPT_LEVEL], -131072, 22, &o->compression_level) != 0) {
            return ard_cli_usage(convert_spec.command, "bad --level '%s'", a->value[OPT_LEVEL]);
        }
    }
    const int size_opts[3] = {OPT_RG_SIZE, OPT_RG_ROWS, OPT_PAGE_SIZE};
    int64_t *dst[3] = {&o->target_row_group_bytes, &o->rows_per_row_group, &o->page_size_bytes};
    for (int i = 0; i < 3; i++) {
        if (a->present[size_opts[i]]) {
            if (ard_cli_parse_size(a->value[size_opts[i]], &v) != 0) {
                return ard_cli_usage(convert_spec.command, "bad --%s '%s'",
                                     convert_options[size_opts[i]].name, a->value[size_opts[i]]);
            }
            *dst[i] = v;
        }
    }
    if (a->present[OPT_BSS] && a->present[OPT_NO_BSS]) {
        return ard_cli_usage(convert_spec.command,
                             "--byte-stream-split and --no-byte-stream-split exclude each other");
    }
    o->byte_stream_split = !a->present[OPT_NO_BSS];
    if (a->present[OPT_PAGE_VERSION]) {
        const char *pv = a->value[OPT_PAGE_VERSION];
        if (strcmp(pv, "1") != 0 && strcmp(pv, "2") != 0) {
            return ard_cli_usage(convert_spec.command, "--page-version must be 1 or 2");
        }
        o->page_version = pv[0] - '0';
    }
    return 0;
}

static void print_notice(void *ctx, const char *message) {
    (void)ctx;
    fprintf(stderr, "ard: note: %s\n", message);
}

int ard_cmd_parquet_convert(int argc, char **argv) {
    ard_cli_args args;
    int rc = ard_cli_parse(&convert_spec, argc, argv, &args);
    if (rc != 0) {
        return rc;
    }
    if (args.help) {
        ard_cli_print_help(&convert_spec);
        return ARD_CLI_OK;
    }
    if (args.num_positional != 2) {
        return ard_cli_usage(convert_spec.command, "expected IN and OUT");
    }
    ard_parquet_rewrite_options o;
    ard_parquet_rewrite_options_init(&o);
    if ((rc = parse_options(&args, &o.writer)) != 0) {
        return rc;
    }
    o.on_notice = print_notice;
    ard_error err;
    ard_error_init(&err);
    ard_status st = ard_parquet_rewrite(args.positional[0], args.positional[1], &o, NULL, &err);
    return st == ARD_OK ? ARD_CLI_OK : ard_cli_fail(st, &err);
}
