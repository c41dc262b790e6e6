/* A small helper to write a flat Parquet table from column arrays (truth tables, ingest catalogs).
 */
#include "survey_int.h"

#include <string.h>

/* Opens a writer for a catalog-like table: ZSTD, 131,072 rows per row group, and ard's version and
 * source in the key-value metadata. */
ard_status ard__open_table_writer(const char *path, const ard_pq_schema_builder *sb,
                                  const char *source, const char *extra_key,
                                  const char *extra_value, ard_pq_writer **out, ard_error *err) {
    const char *keys[3] = {ARD_KV_VERSION, ARD_KV_SOURCE, extra_key};
    const char *vals[3] = {ARD_SCHEMA_VERSION, source, extra_value};
    ard_pq_writer_options o;
    ard_pq_writer_options_init(&o);
    o.codec = ARD_PQ_ZSTD;
    o.rows_per_row_group = 131072;
    o.num_kv = extra_key ? 3 : 2;
    o.kv_keys = keys;
    o.kv_values = vals;
    return ard_pq_writer_open(path, sb, &o, out, err);
}

ard_status ard__write_simple_table(const char *path, const ard__simple_col *cols, int32_t ncols,
                                   int64_t rows, const char *source, const char *extra_key,
                                   const char *extra_value, ard_error *err) {
    ard_pq_schema_builder *sb = NULL;
    ard_pq_writer *w = NULL;
    ard_pq_logical str = {0};
    str.kind = ARD_PQ_LT_STRING;
    ard_status st = ard_survey_mkdirs_for(path, err);
    st = st ? st : ard_pq_schema_new(&sb, err);
    for (int32_t i = 0; st == ARD_OK && i < ncols; i++) {
        int is_str = cols[i].type == ARD_PQ_BYTE_ARRAY;
        if (ard_pq_schema_add_column(sb, cols[i].name, cols[i].type, ARD_PQ_REQUIRED,
                                     is_str ? &str : NULL, 0, err) < 0) {
            st = err && err->code ? err->code : ARD_EINTERNAL;
        } else if (i == 0 && cols[i].sorted) {
            st = ard_pq_schema_set_sorted(sb, 0, 1, err);
        }
    }
    if (st == ARD_OK) {
        st = ard__open_table_writer(path, sb, source, extra_key, extra_value, &w, err);
    }
    for (int32_t i = 0; st == ARD_OK && i < ncols; i++) {
        if (cols[i].type == ARD_PQ_BYTE_ARRAY) {
            st = ard__write_strings(w, i, cols[i].strs, rows, err);
        } else {
            st = ard_pq_writer_write_column(w, i, cols[i].data, NULL, rows, err);
        }
    }
    ard_pq_schema_free(sb);
    if (st != ARD_OK) {
        ard_pq_writer_abort(w);
        ard_error_prefix(err, "writing %s: ", path);
        return st;
    }
    return ard_pq_writer_close(w, err);
}
