/* The writer options of survey's flat tables (catalog, truth) over parquet's one table writer:
 * ZSTD, 131,072 rows per row group, ard's version and source in the key-value metadata. */
#include "survey_int.h"

#include <string.h>

ard_status ard__write_survey_table(const char *path, const ard_parquet_table_column *cols,
                                   int32_t ncols, int64_t rows, const char *source,
                                   const char *extra_key, const char *extra_value, ard_error *err) {
    const char *keys[3] = {ARD_KV_VERSION, ARD_KV_SOURCE, extra_key};
    const char *vals[3] = {ARD_SCHEMA_VERSION, source, extra_value};
    ard_pq_writer_options o;
    ard_pq_writer_options_init(&o);
    o.codec = ARD_PQ_ZSTD;
    o.rows_per_row_group = 131072;
    o.num_kv = extra_key ? 3 : 2;
    o.kv_keys = keys;
    o.kv_values = vals;
    ard_status st = ard_dataset_mkdirs_for(path, err);
    if (st == ARD_OK) {
        st = ard_parquet_write_table(path, cols, ncols, rows, &o, err);
    }
    if (st != ARD_OK) {
        ard_error_prefix(err, "writing %s: ", path);
    }
    return st;
}
