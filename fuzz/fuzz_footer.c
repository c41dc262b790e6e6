/* libFuzzer target: the footer reader. Opens the input as a Parquet file held in memory, walks all
 * decoded metadata, and decodes the page header / page index each column chunk points to. */
#include "file_int.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile size_t sink;

static void walk_chunk(const ard_parquet_file *f, const ard_pq_column_chunk *c, ard__arena *arena) {
    const uint8_t *file = f->mem;
    ard__pq_page_header ph;
    ard__pq_offset_index oi;
    ard__pq_column_index ci;
    sink += c->stats.min_value_len + c->stats.max_value_len + (size_t)c->num_encodings;
    if (c->stats.has_min_value && c->stats.min_value_len) {
        sink += c->stats.min_value[c->stats.min_value_len - 1];
    }
    for (int32_t i = 0; i < c->path_len; i++) {
        sink += strlen(c->path_in_schema[i]);
    }
    if (c->has_meta_data && c->chunk_start < f->size) {
        size_t avail = (size_t)(f->size - c->chunk_start);
        ard__pq_decode_page_header(file + c->chunk_start, avail, c->chunk_start, "fuzz", &ph, NULL);
    }
    if (c->has_offset_index) {
        ard__pq_decode_offset_index(file + c->offset_index_offset, (size_t)c->offset_index_length,
                                    c->offset_index_offset, "fuzz", arena, &oi, NULL);
    }
    if (c->has_column_index) {
        ard__pq_decode_column_index(file + c->column_index_offset, (size_t)c->column_index_length,
                                    c->column_index_offset, "fuzz", arena, &ci, NULL);
    }
}

static void walk(const ard_parquet_file *f) {
    const ard_pq_metadata *md = ard_parquet_metadata(f);
    ard__arena arena;
    ard__arena_init(&arena, (size_t)64 << 20);
    for (int32_t i = 0; i < md->num_nodes; i++) {
        const ard_pq_schema_node *n = &md->nodes[i];
        sink += strlen(n->path) + strlen(n->name) + (size_t)n->max_def;
        for (int32_t k = 0; k < n->num_children; k++) {
            sink += (size_t)md->nodes[n->children[k]].parent;
        }
    }
    for (int32_t i = 0; i < md->num_leaves; i++) {
        const char *path = md->nodes[md->leaves[i]].path;
        sink += (size_t)ard_parquet_find_leaf(f, path);
    }
    for (int32_t i = 0; i < md->num_kv; i++) {
        sink += ard_parquet_kv_get(f, md->kv[i].key) != NULL;
    }
    for (int32_t rg = 0; rg < md->num_row_groups; rg++) {
        for (int32_t c = 0; c < md->row_groups[rg].num_columns; c++) {
            walk_chunk(f, &md->row_groups[rg].columns[c], &arena);
        }
    }
    ard__arena_reset(&arena);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ard_parquet_file *f = NULL;
    ard_error err;
    ard_error_init(&err);
    if (ard_parquet_open_memory(data, size, "fuzz", NULL, &f, &err) == ARD_OK) {
        walk(f);
    }
    ard_parquet_close(f);
    return 0;
}
