/* libFuzzer target: the page decoder. The input is a whole Parquet file held in memory (seeded with
 * small files whose bytes are mostly pages, so most mutations land in page headers, levels, values
 * and compressed streams). Every column of every row group is decoded through the generic path (levels
 * + values), the Arrow export (record assembly) and, for float lists, the spectra fast path. */
#include "ard/parquet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void decode_row_group(const ard_parquet_file *f, int32_t rg) {
    const ard_pq_metadata *md = ard_parquet_metadata(f);
    for (int32_t leaf = 0; leaf < md->num_leaves; leaf++) {
        ard_pq_column_data col;
        if (ard_parquet_read_column(f, rg, leaf, &col, NULL) == ARD_OK) {
            ard_pq_column_data_reset(&col);
        }
        if (ard_parquet_read_column_rows(f, rg, leaf, 1, 3, &col, NULL) == ARD_OK) {
            ard_pq_column_data_reset(&col);
        }
        ard_pq_f32_matrix m;
        if (ard_parquet_read_f32_matrix(f, rg, leaf, &m, NULL) == ARD_OK) {
            ard_pq_matrix_reset(&m);
        }
    }
    struct ArrowSchema schema;
    struct ArrowArray array;
    if (ard_parquet_read_arrow(f, rg, NULL, 0, &schema, &array, NULL) == ARD_OK) {
        array.release(&array);
        schema.release(&schema);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ard_parquet_open_options opts = {.memory_cap = 64 << 20};
    ard_parquet_file *f = NULL;
    if (ard_parquet_open_memory(data, size, "fuzz", &opts, &f, NULL) != ARD_OK) {
        return 0;
    }
    const ard_pq_metadata *md = ard_parquet_metadata(f);
    for (int32_t rg = 0; rg < md->num_row_groups && rg < 4; rg++) {
        decode_row_group(f, rg);
    }
    ard_parquet_close(f);
    return 0;
}
