/* `ard parquet convert IN OUT [--codec C] [--level N] [--row-group-size BYTES]
 * [--rows-per-row-group N]
 * [--byte-stream-split] [--page-version 1|2]`: reads IN with the reader, one row group at a time,
 * and rewrites it with ard's writer (atomically). Flat columns of every physical type and lists of
 * a primitive (3-level, 2-level and bare repeated fields) are supported; other nesting is
 * ARD_ENOTSUP. */
#include "cli.h"

#include "ard/parquet_write.h"

#include <errno.h>
#include <stdlib.h>
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

/* How one input top-level field maps to an output column. */
typedef struct conv_col {
    int32_t leaf;
    int is_list;
    int16_t group_def; /* list: def below which the list is null (0 = list never null) */
    int16_t rep_def;   /* list: def at which an element slot exists */
    int16_t elem_def;  /* def of a present value */
    int32_t width;     /* reader's stored value width (0: BYTE_ARRAY) */
    int32_t in_width;  /* writer's input width */
} conv_col;

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

static int32_t stored_width(const ard_pq_schema_node *leaf) {
    static const int32_t widths[] = {1, 4, 8, 12, 4, 8, 0, 0};
    return leaf->type == ARD_PQ_FIXED_LEN_BYTE_ARRAY ? leaf->type_length : widths[leaf->type];
}

/* A list field: group (LIST) { repeated group { element } } or group { repeated leaf } or a bare
 * repeated leaf. Returns the leaf node or -1. */
static int32_t list_leaf(const ard_pq_metadata *md, int32_t n, conv_col *cc) {
    const ard_pq_schema_node *g = &md->nodes[n];
    if (g->is_leaf) { /* repeated primitive: required list of required elements */
        cc->group_def = 0;
        cc->rep_def = cc->elem_def = g->max_def;
        return g->repetition == ARD_PQ_REPEATED ? n : -1;
    }
    if (g->num_children != 1 || g->repetition == ARD_PQ_REPEATED) {
        return -1;
    }
    const ard_pq_schema_node *r = &md->nodes[g->children[0]];
    if (r->repetition != ARD_PQ_REPEATED) {
        return -1;
    }
    cc->group_def = g->repetition == ARD_PQ_OPTIONAL ? g->max_def : 0;
    cc->rep_def = r->max_def;
    if (r->is_leaf) {
        cc->elem_def = r->max_def;
        return g->children[0];
    }
    const ard_pq_schema_node *e = &md->nodes[r->children[0]];
    if (r->num_children != 1 || !e->is_leaf || e->repetition == ARD_PQ_REPEATED) {
        return -1;
    }
    cc->elem_def = e->max_def;
    return r->children[0];
}

static int declare(ard_pq_schema_builder *sb, const ard_pq_metadata *md, int32_t field,
                   conv_col *cc, ard_error *err) {
    const ard_pq_schema_node *f = &md->nodes[field];
    int flat = f->is_leaf && f->repetition != ARD_PQ_REPEATED;
    int32_t leaf = flat ? field : list_leaf(md, field, cc);
    if (leaf < 0) {
        ard_error_set(err, ARD_ENOTSUP,
                      "parquet convert: column '%s': nested type not supported (flat columns and "
                      "lists of fixed-width primitives only)",
                      f->name);
        return -1;
    }
    const ard_pq_schema_node *l = &md->nodes[leaf];
    cc->leaf = l->leaf_index;
    cc->is_list = !flat;
    cc->width = stored_width(l);
    const ard_pq_logical *lt = l->logical.kind == ARD_PQ_LT_NONE ? NULL : &l->logical;
    for (int attempt = 0; attempt < 2; attempt++) {
        ard_pq_repetition lrep = cc->group_def ? ARD_PQ_OPTIONAL : ARD_PQ_REQUIRED;
        ard_pq_repetition erep = cc->elem_def > cc->rep_def ? ARD_PQ_OPTIONAL : ARD_PQ_REQUIRED;
        int32_t id;
        if (!cc->is_list) {
            ard_pq_schema_add_column(sb, f->name, l->type, f->repetition, lt, l->type_length, &id,
                                     err);
        } else if (l->type == ARD_PQ_FIXED_LEN_BYTE_ARRAY) {
            ard_pq_schema_add_list_fixed(sb, f->name, l->type_length, lrep, erep, lt, &id, err);
        } else {
            ard_pq_schema_add_list(sb, f->name, l->type, lrep, erep, lt, &id, err);
        }
        if (id >= 0) {
            int narrow = l->type == ARD_PQ_INT32 && lt && lt->kind == ARD_PQ_LT_INTEGER &&
                         lt->bit_width < 32;
            cc->in_width = narrow ? lt->bit_width / 8 : cc->width;
            return 0;
        }
        if (!lt || err->code != ARD_EINVAL) {
            return -1;
        }
        fprintf(stderr, "ard: note: column '%s': logical type %s not carried over\n", f->name,
                ard_pq_logical_name(lt->kind));
        ard_error_init(err);
        lt = NULL;
    }
    return -1;
}

/* Copies value vi of cd into dst at the writer's input width (narrowing INT(8/16)). */
static void put_value(const conv_col *cc, const ard_pq_column_data *cd, int64_t vi, uint8_t *dst) {
    const uint8_t *src = (const uint8_t *)cd->values + vi * cc->width;
    memcpy(dst, src, (size_t)cc->in_width); /* little-endian: the low bytes */
}

static void set_bit(uint8_t *bits, int64_t i) {
    bits[i >> 3] |= (uint8_t)(1u << (i & 7));
}

typedef struct conv_bufs {
    uint8_t *values, *valid, *evalid;
    int64_t *offsets;
} conv_bufs;

static void bufs_free(conv_bufs *b) {
    ard_free(b->values);
    ard_free(b->valid);
    ard_free(b->evalid);
    ard_free(b->offsets);
    memset(b, 0, sizeof *b);
}

static ard_status write_flat(ard_pq_writer *w, int32_t col, const conv_col *cc,
                             const ard_pq_column_data *cd, ard_error *err) {
    int64_t rows = cd->num_levels;
    conv_bufs b = {0};
    b.valid = ard_calloc((size_t)rows / 8 + 1, 1);
    b.values = ard_calloc((size_t)rows + 1, (size_t)(cc->width ? cc->in_width : 1));
    b.offsets = cc->width ? NULL : ard_calloc((size_t)rows + 1, sizeof *b.offsets);
    if (!b.valid || !b.values || (!cc->width && !b.offsets)) {
        bufs_free(&b);
        return ard_error_set(err, ARD_ENOMEM, "parquet convert: out of memory");
    }
    int64_t vi = 0;
    for (int64_t r = 0; r < rows; r++) {
        int present = !cd->def_levels || cd->def_levels[r] == cd->max_def;
        if (present) {
            set_bit(b.valid, r);
            if (cc->width) {
                put_value(cc, cd, vi, b.values + r * cc->in_width);
            }
            vi++;
        }
        if (!cc->width) {
            b.offsets[r + 1] = cd->offsets[vi];
        }
    }
    const uint8_t *valid = cd->max_def > 0 ? b.valid : NULL;
    ard_status st = cc->width
                        ? ard_pq_writer_write_column(w, col, b.values, valid, rows, err)
                        : ard_pq_writer_write_binary(w, col, b.offsets, cd->data, valid, rows, err);
    bufs_free(&b);
    return st;
}

static ard_status write_list(ard_pq_writer *w, int32_t col, const conv_col *cc,
                             const ard_pq_column_data *cd, ard_error *err) {
    int64_t n = cd->num_levels, rows = cd->num_rows;
    conv_bufs b = {0};
    b.valid = ard_calloc((size_t)rows / 8 + 1, 1);
    b.evalid = ard_calloc((size_t)n / 8 + 1, 1);
    b.values = ard_calloc((size_t)n + 1, cc->width ? (size_t)cc->in_width : sizeof(int64_t));
    b.offsets = ard_calloc((size_t)rows + 1, sizeof *b.offsets);
    int64_t *eoffs = cc->width ? NULL : (int64_t *)(void *)b.values; /* element byte offsets */
    if (!b.valid || !b.evalid || !b.values || !b.offsets) {
        bufs_free(&b);
        return ard_error_set(err, ARD_ENOMEM, "parquet convert: out of memory");
    }
    int64_t row = -1, elems = 0, vi = 0;
    for (int64_t l = 0; l < n; l++) {
        int16_t def = cd->def_levels ? cd->def_levels[l] : cd->max_def;
        if (!cd->rep_levels || cd->rep_levels[l] == 0) {
            row++;
            if (row >= rows) {
                break;
            }
            if (def >= cc->group_def) {
                set_bit(b.valid, row);
            }
        }
        if (row < 0) {
            break; /* a chunk must start a row: reported as a mismatch below */
        }
        if (def >= cc->rep_def) {
            if (def == cc->elem_def) {
                set_bit(b.evalid, elems);
                if (cc->width) {
                    put_value(cc, cd, vi, b.values + elems * cc->in_width);
                }
                vi++;
            }
            elems++;
            if (eoffs) {
                eoffs[elems] = cd->offsets[vi];
            }
        }
        b.offsets[row + 1] = elems;
    }
    ard_status st = row + 1 == rows ? ARD_OK
                                    : ard_error_set(err, ARD_ECORRUPT,
                                                    "parquet convert: column %d: row count "
                                                    "mismatch",
                                                    (int)col);
    if (st == ARD_OK) {
        st = cc->width ? ard_pq_writer_write_list(w, col, b.offsets, b.values, b.evalid, b.valid,
                                                  rows, err)
                       : ard_pq_writer_write_list_binary(w, col, b.offsets, eoffs, cd->data,
                                                         b.evalid, b.valid, rows, err);
    }
    bufs_free(&b);
    return st;
}

static ard_status copy_row_group(ard_parquet_file *in, ard_pq_writer *w, const conv_col *cols,
                                 int32_t ncols, int32_t rg, ard_error *err) {
    ard_status st = ARD_OK;
    for (int32_t i = 0; i < ncols && st == ARD_OK; i++) {
        ard_pq_column_data cd;
        memset(&cd, 0, sizeof cd);
        st = ard_parquet_read_column(in, rg, cols[i].leaf, &cd, err);
        if (st == ARD_OK) {
            st = cols[i].is_list ? write_list(w, i, &cols[i], &cd, err)
                                 : write_flat(w, i, &cols[i], &cd, err);
        }
        ard_pq_column_data_reset(&cd);
    }
    return st;
}

static ard_status convert(const char *in_path, const char *out_path, ard_pq_writer_options *o,
                          ard_error *err) {
    ard_parquet_file *in = NULL;
    ard_pq_schema_builder *sb = NULL;
    ard_pq_writer *w = NULL;
    conv_col *cols = NULL;
    const char **keys = NULL, **vals = NULL;
    ard_status st = ard_parquet_open(in_path, NULL, &in, err);
    if (st != ARD_OK) {
        return st;
    }
    const ard_pq_metadata *md = ard_parquet_metadata(in);
    const ard_pq_schema_node *root = &md->nodes[0];
    st = ard_pq_schema_new(&sb, err);
    cols = ard_calloc((size_t)root->num_children + 1, sizeof *cols);
    keys = ard_calloc((size_t)md->num_kv + 1, sizeof *keys);
    vals = ard_calloc((size_t)md->num_kv + 1, sizeof *vals);
    if (st == ARD_OK && (!cols || !keys || !vals)) {
        st = ard_error_set(err, ARD_ENOMEM, "parquet convert: out of memory");
    }
    for (int32_t i = 0; st == ARD_OK && i < root->num_children; i++) {
        st = declare(sb, md, root->children[i], &cols[i], err) == 0 ? ARD_OK : err->code;
    }
    for (int32_t i = 0; st == ARD_OK && i < md->num_kv; i++) {
        keys[i] = md->kv[i].key;
        vals[i] = md->kv[i].value;
    }
    o->num_kv = md->num_kv;
    o->kv_keys = keys;
    o->kv_values = vals;
    if (st == ARD_OK) {
        st = ard_pq_writer_open(out_path, sb, o, &w, err);
    }
    for (int32_t rg = 0; st == ARD_OK && rg < md->num_row_groups; rg++) {
        st = copy_row_group(in, w, cols, root->num_children, rg, err);
    }
    if (st == ARD_OK) {
        st = ard_pq_writer_close(w, err);
    } else {
        ard_pq_writer_abort(w);
    }
    ard_free(cols);
    ard_free(keys);
    ard_free(vals);
    ard_pq_schema_free(sb);
    ard_parquet_close(in);
    return st;
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
    ard_pq_writer_options o;
    if ((rc = parse_options(&args, &o)) != 0) {
        return rc;
    }
    ard_error err;
    ard_error_init(&err);
    ard_status st = convert(args.positional[0], args.positional[1], &o, &err);
    return st == ARD_OK ? ARD_CLI_OK : ard_cli_fail(st, &err);
}
