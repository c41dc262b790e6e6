/* `ard parquet meta FILE [--json]`: everything the footer of a Parquet file says, as readable text
 * or as one JSON object. Uses the public parquet API only; no data page is read. */
#include "cli.h"

#include <string.h>

#define KV_TEXT_LIMIT 200   /* key-value values are cut here in text mode (JSON is complete) */
#define STAT_TEXT_LIMIT 200 /* so are string statistics */
#define MAX_INDENT 40

enum { OPT_JSON, OPT_COMPACT, NUM_OPTS };

static const ard_cli_option meta_options[NUM_OPTS] = {
    [OPT_JSON] = {"json", NULL, "print one JSON object instead of text"},
    [OPT_COMPACT] = {"compact", NULL, "with --json: no indentation"},
};

static const ard_cli_spec meta_spec = {
    "parquet meta", "FILE [--json]",
    "Prints the footer of a Parquet file: size, writer, schema tree, row groups with per-column\n"
    "codecs, encodings, sizes and statistics, page index and bloom filter locations, and the\n"
    "key-value metadata.",
    meta_options, NUM_OPTS};

/* Writes the buffer to stdout and empties it. */
static void flush_buf(ard_buf *b) {
    if (b->len) {
        fwrite(b->data, 1, b->len, stdout);
    }
    b->len = 0;
}

static void print_node(const ard_pq_metadata *md, int32_t idx, int depth) {
    const ard_pq_schema_node *n = &md->nodes[idx];
    char logical[96];
    ard_cli_logical_str(&n->logical, logical, sizeof logical);
    int indent = 2 * (depth < MAX_INDENT ? depth + 1 : MAX_INDENT);
    printf("%*s%s:", indent, "", n->name ? n->name : "");
    if (n->is_leaf) {
        printf(" %s", ard_pq_type_name(n->type));
        if (n->type == ARD_PQ_FIXED_LEN_BYTE_ARRAY) {
            printf("(%d)", (int)n->type_length);
        }
    } else {
        printf(" group(%d)", (int)n->num_children);
    }
    printf(" %s", ard_pq_repetition_name(n->repetition));
    if (logical[0]) {
        printf(" %s", logical);
    }
    const char *converted = ard_pq_converted_type_name(n->converted_type);
    if (converted && n->logical.kind == ARD_PQ_LT_NONE) {
        printf(" (converted %s)", converted);
    }
    if (n->has_field_id) {
        printf(" id=%d", (int)n->field_id);
    }
    printf(" def=%d rep=%d\n", (int)n->max_def, (int)n->max_rep);
}

/* Depth of every node from the parent links (the flattened list is depth-first, parents first);
 * iterative so a deeply nested hostile schema cannot exhaust the stack. */
static int print_schema(const ard_pq_metadata *md) {
    if (md->num_nodes <= 0) {
        printf("schema: (empty)\n");
        return 0;
    }
    int *depth = ard_calloc((size_t)md->num_nodes, sizeof *depth);
    if (!depth) {
        return -1;
    }
    printf("schema:\n");
    for (int32_t i = 0; i < md->num_nodes; i++) {
        int32_t parent = md->nodes[i].parent;
        depth[i] = parent >= 0 && parent < i ? depth[parent] + 1 : 0;
        print_node(md, i, depth[i]);
    }
    ard_free(depth);
    return 0;
}

static void print_value(ard_buf *b, const char *label, const ard_pq_schema_node *leaf,
                        ard_pq_type type, const uint8_t *bytes, uint32_t len) {
    ard_cli_value v;
    ard_cli_decode_value(leaf, type, bytes, len, &v);
    ard_buf_appendf(b, " %s=", label);
    ard_cli_value_text(&v, b, STAT_TEXT_LIMIT);
}

static void print_stats(const ard_pq_column_chunk *c, const ard_pq_schema_node *leaf, ard_buf *b) {
    const ard_pq_stats *s = &c->stats;
    if (!s->present) {
        printf("      statistics: none\n");
        return;
    }
    ard_buf_appendf(b, "      statistics:");
    if (s->has_null_count) {
        ard_buf_appendf(b, " null_count=%lld", (long long)s->null_count);
    }
    if (s->has_distinct_count) {
        ard_buf_appendf(b, " distinct_count=%lld", (long long)s->distinct_count);
    }
    if (s->has_nan_count) {
        ard_buf_appendf(b, " nan_count=%lld", (long long)s->nan_count);
    }
    if (s->has_min_value) {
        print_value(b, "min", leaf, c->type, s->min_value, s->min_value_len);
    }
    if (s->has_max_value) {
        print_value(b, "max", leaf, c->type, s->max_value, s->max_value_len);
    }
    if (s->has_legacy_min) {
        print_value(b, "legacy_min", leaf, c->type, s->legacy_min, s->legacy_min_len);
    }
    if (s->has_legacy_max) {
        print_value(b, "legacy_max", leaf, c->type, s->legacy_max, s->legacy_max_len);
    }
    if (s->has_is_min_exact) {
        ard_buf_appendf(b, " min_exact=%s", s->is_min_value_exact ? "yes" : "no");
    }
    if (s->has_is_max_exact) {
        ard_buf_appendf(b, " max_exact=%s", s->is_max_value_exact ? "yes" : "no");
    }
    ard_buf_append(b, "\n", 1);
    flush_buf(b);
}

static void print_locations(const ard_pq_column_chunk *c) {
    printf("      pages: data_page_offset=%lld", (long long)c->data_page_offset);
    if (c->has_dictionary_page_offset) {
        printf(" dictionary_page_offset=%lld", (long long)c->dictionary_page_offset);
    }
    if (c->has_index_page_offset) {
        printf(" index_page_offset=%lld", (long long)c->index_page_offset);
    }
    printf("\n      page index:");
    if (c->has_column_index) {
        printf(" column_index=%lld+%d", (long long)c->column_index_offset,
               (int)c->column_index_length);
    }
    if (c->has_offset_index) {
        printf(" offset_index=%lld+%d", (long long)c->offset_index_offset,
               (int)c->offset_index_length);
    }
    printf("%s\n", c->has_column_index || c->has_offset_index ? "" : " none");
    if (c->has_bloom_filter_offset) {
        printf("      bloom filter: offset=%lld", (long long)c->bloom_filter_offset);
        if (c->has_bloom_filter_length) {
            printf(" length=%d", (int)c->bloom_filter_length);
        }
        printf("\n");
    }
}

static void print_column(const ard_pq_metadata *md, const ard_pq_column_chunk *c, int32_t index,
                         ard_buf *b) {
    const ard_pq_schema_node *leaf = index < md->num_leaves ? &md->nodes[md->leaves[index]] : NULL;
    printf("    column %d: %s\n", (int)index, leaf && leaf->path ? leaf->path : "?");
    if (!c->has_meta_data) {
        printf("      no column metadata%s\n", c->is_encrypted ? " (encrypted)" : "");
        return;
    }
    printf("      type=%s codec=%s encodings=", ard_pq_type_name(c->type),
           ard_pq_codec_name(c->codec));
    for (int32_t e = 0; e < c->num_encodings; e++) {
        printf("%s%s", e ? "," : "", ard_pq_encoding_name(c->encodings[e]));
    }
    printf("\n      num_values=%lld compressed=%lld uncompressed=%lld\n", (long long)c->num_values,
           (long long)c->total_compressed_size, (long long)c->total_uncompressed_size);
    print_stats(c, leaf, b);
    print_locations(c);
    for (int32_t k = 0; k < c->num_kv; k++) {
        ard_buf_appendf(b, "      kv %s = ", c->kv[k].key ? c->kv[k].key : "");
        if (c->kv[k].value) {
            ard_cli_quoted(b, c->kv[k].value, c->kv[k].value_len, KV_TEXT_LIMIT);
        }
        ard_buf_append(b, "\n", 1);
        flush_buf(b);
    }
}

static void print_row_groups(const ard_pq_metadata *md, ard_buf *b) {
    for (int32_t g = 0; g < md->num_row_groups; g++) {
        const ard_pq_row_group *rg = &md->row_groups[g];
        printf("row group %d: rows=%lld total_byte_size=%lld", (int)g, (long long)rg->num_rows,
               (long long)rg->total_byte_size);
        if (rg->has_total_compressed_size) {
            printf(" total_compressed_size=%lld", (long long)rg->total_compressed_size);
        }
        printf(" columns=%d\n", (int)rg->num_columns);
        for (int32_t c = 0; c < rg->num_columns; c++) {
            print_column(md, &rg->columns[c], c, b);
        }
    }
}

static void print_kv(const ard_pq_metadata *md, ard_buf *b) {
    printf("key_value_metadata: %d\n", (int)md->num_kv);
    for (int32_t k = 0; k < md->num_kv; k++) {
        ard_buf_appendf(b, "  %s = ", md->kv[k].key ? md->kv[k].key : "");
        if (md->kv[k].value) {
            ard_cli_quoted(b, md->kv[k].value, md->kv[k].value_len, KV_TEXT_LIMIT);
        } else {
            ard_buf_appendf(b, "(no value)");
        }
        ard_buf_append(b, "\n", 1);
        flush_buf(b);
    }
}

static void print_column_orders(const ard_pq_metadata *md) {
    if (md->num_column_orders == 0) {
        return;
    }
    printf("column_orders:");
    for (int32_t i = 0; i < md->num_column_orders; i++) {
        printf("%s%s", i ? "," : " ", ard_cli_column_order_name(md->column_orders[i]));
    }
    printf("\n");
}

static int print_text(const ard_parquet_file *file) {
    const ard_pq_metadata *md = ard_parquet_metadata(file);
    printf("file: %s\nsize: %lld bytes\n", ard_parquet_path(file),
           (long long)ard_parquet_file_size(file));
    printf("created_by: %s\nversion: %d\n", md->created_by ? md->created_by : "(absent)",
           (int)md->version);
    printf("num_rows: %lld", (long long)md->num_rows);
    if (md->declared_num_rows != md->num_rows) {
        printf(" (footer declares %lld)", (long long)md->declared_num_rows);
    }
    printf("\nrow_groups: %d\ncolumns: %d\n", (int)md->num_row_groups, (int)md->num_leaves);
    if (print_schema(md) != 0) {
        return ard_cli_fail(ARD_ENOMEM, NULL);
    }
    ard_buf b;
    ard_buf_init(&b);
    print_row_groups(md, &b);
    print_kv(md, &b);
    print_column_orders(md);
    int failed = b.failed;
    ard_buf_reset(&b);
    return failed ? ard_cli_fail(ARD_ENOMEM, NULL) : ARD_CLI_OK;
}

static int print_json(const ard_parquet_file *file, int pretty) {
    ard_buf b;
    ard_buf_init(&b);
    ard_json j;
    ard_json_init(&j, &b, pretty);
    ard_cli_meta_json(file, &j);
    ard_buf_append(&b, "\n", 1);
    if (b.failed) {
        ard_buf_reset(&b);
        return ard_cli_fail(ARD_ENOMEM, NULL);
    }
    flush_buf(&b);
    ard_buf_reset(&b);
    return ARD_CLI_OK;
}

int ard_cmd_parquet_meta(int argc, char **argv) {
    ard_cli_args args;
    int rc = ard_cli_parse(&meta_spec, argc, argv, &args);
    if (rc != 0) {
        return rc;
    }
    if (args.help) {
        ard_cli_print_help(&meta_spec);
        return ARD_CLI_OK;
    }
    if (args.num_positional != 1) {
        return ard_cli_usage(meta_spec.command, "%s",
                             args.num_positional ? "expected one FILE" : "missing FILE");
    }
    ard_error err;
    ard_error_init(&err);
    ard_parquet_file *file = NULL;
    ard_status st = ard_parquet_open(args.positional[0], NULL, &file, &err);
    if (st != ARD_OK) {
        return ard_cli_fail(st, &err);
    }
    rc = args.present[OPT_JSON] ? print_json(file, !args.present[OPT_COMPACT]) : print_text(file);
    ard_parquet_close(file);
    return rc;
}
