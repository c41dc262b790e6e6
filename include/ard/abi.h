/* ard abi: the layout of the public structs as this build of libard compiled them.
 *
 * A binding that declares ard's structs by hand (Python's ctypes) compares its own sizes and field
 * offsets with these at load time and refuses a library whose layout differs, instead of reading
 * garbage. Every function here is thread-safe and never fails: an unknown name gives -1 or NULL.
 *
 * Structs described (by their C names): ard_error, ard_tokenize_options, ard_read_item, ard_batch,
 * ard_loader_options, ard_stream_column, ard_pq_f32_matrix, ard_sync_options, ard_sync_report,
 * ard_plan_chunk, ard_fetch_batch, ard_index_column, ard_fof_params, ard_fof_group, ard_fof_score,
 * ard_fof_stage_options, ard_fof_stage_report, ard_datasheet_options, ard_datasheet_sync_options,
 * ard_datasheet_sync_report, ard_query_options, ard_query_report, ard_fetch_options, ard_fetch_report,
 * ard_pq_writer_options, ard_parquet_rewrite_options, ard_parquet_rewrite_report,
 * ard_stream_serve_report, ard_stream_serve_options, ard_anomaly_arch, ard_anomaly_options,
 * ard_anomaly_report, ard_cosmicweb_options, ard_cosmicweb_report, ard_cosmicweb_stage_options,
 * ard_cosmicweb_stage_report, ard_grid, ard_generate_options, ard_generate_report,
 * ard_ingest_options, ard_ingest_report. */
#ifndef ARD_ABI_H
#define ARD_ABI_H

#include "ard/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Number of described structs; ard_abi_struct_name(i) for i in [0, count) names them (static
 * strings; NULL out of range). */
ARD_API int32_t ard_abi_num_structs(void);
ARD_API const char *ard_abi_struct_name(int32_t i);

/* sizeof(struct_name) in bytes, or -1 when the struct is not described. */
ARD_API int64_t ard_abi_struct_size(const char *struct_name);

/* Number of fields of a described struct (-1 when unknown) and the name of field i (static; NULL
 * out of range), in declaration order. */
ARD_API int32_t ard_abi_num_fields(const char *struct_name);
ARD_API const char *ard_abi_field_name(const char *struct_name, int32_t i);

/* offsetof(struct_name, field) and sizeof of the field in bytes, or -1 when the struct or the field
 * is unknown. */
ARD_API int64_t ard_abi_field_offset(const char *struct_name, const char *field);
ARD_API int64_t ard_abi_field_size(const char *struct_name, const char *field);

#ifdef __cplusplus
}
#endif
#endif
