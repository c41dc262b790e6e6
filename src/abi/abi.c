/* The layout table behind include/ard/abi.h: sizeof and offsetof of every public struct a binding
 * maps by hand, taken from the headers this library was compiled with. A struct added to a public
 * header that Python maps gets a row here. */
#include "ard/abi.h"
#include "ard/core.h"
#include "ard/datasheet.h"
#include "ard/index.h"
#include "ard/parquet.h"
#include "ard/parquet_write.h"
#include "ard/science.h"
#include "ard/stream.h"
#include "ard/survey.h"

#include <stddef.h>
#include <string.h>

typedef struct abi_field {
    const char *name;
    int64_t offset, size;
} abi_field;

typedef struct abi_struct {
    const char *name;
    int64_t size;
    const abi_field *fields;
    int32_t num_fields;
} abi_struct;

#define ABI_FIELD(type, field)                                                                     \
    { #field, (int64_t)offsetof(type, field), (int64_t)sizeof(((type *)0)->field) }
#define ABI_STRUCT(type, fields)                                                                   \
    { #type, (int64_t)sizeof(type), fields, (int32_t)(sizeof fields / sizeof fields[0]) }

static const abi_field error_fields[] = {
    ABI_FIELD(ard_error, code),
    ABI_FIELD(ard_error, sys_errno),
    ABI_FIELD(ard_error, msg),
};

static const abi_field tokenize_fields[] = {
    ABI_FIELD(ard_tokenize_options, patch),
    ABI_FIELD(ard_tokenize_options, norm),
    ABI_FIELD(ard_tokenize_options, min_valid),
    ABI_FIELD(ard_tokenize_options, floor),
};

static const abi_field read_item_fields[] = {
    ABI_FIELD(ard_read_item, path),
    ABI_FIELD(ard_read_item, row_group),
    ABI_FIELD(ard_read_item, first_row),
    ABI_FIELD(ard_read_item, num_rows),
};

static const abi_field batch_fields[] = {
    ABI_FIELD(ard_batch, slot),       ABI_FIELD(ard_batch, count),
    ABI_FIELD(ard_batch, seq),        ABI_FIELD(ard_batch, epoch),
    ABI_FIELD(ard_batch, batch_size), ABI_FIELD(ard_batch, num_patches),
    ABI_FIELD(ard_batch, patch),      ABI_FIELD(ard_batch, tokens),
    ABI_FIELD(ard_batch, scales),     ABI_FIELD(ard_batch, mask),
    ABI_FIELD(ard_batch, targetid),   ABI_FIELD(ard_batch, flags),
    ABI_FIELD(ard_batch, wave),       ABI_FIELD(ard_batch, token_dtype),
};

static const abi_field loader_fields[] = {
    ABI_FIELD(ard_loader_options, batch_size),  ABI_FIELD(ard_loader_options, prefetch_batches),
    ABI_FIELD(ard_loader_options, shuffle),     ABI_FIELD(ard_loader_options, local_shuffle_buffer),
    ABI_FIELD(ard_loader_options, seed),        ABI_FIELD(ard_loader_options, epochs),
    ABI_FIELD(ard_loader_options, drop_last),   ABI_FIELD(ard_loader_options, rank),
    ABI_FIELD(ard_loader_options, world),       ABI_FIELD(ard_loader_options, threads),
    ABI_FIELD(ard_loader_options, memory_cap),  ABI_FIELD(ard_loader_options, cache),
    ABI_FIELD(ard_loader_options, store_name),  ABI_FIELD(ard_loader_options, flux_column),
    ABI_FIELD(ard_loader_options, ivar_column), ABI_FIELD(ard_loader_options, id_column),
    ABI_FIELD(ard_loader_options, tokenize),    ABI_FIELD(ard_loader_options, columns),
    ABI_FIELD(ard_loader_options, text_width),  ABI_FIELD(ard_loader_options, index_dataset),
    ABI_FIELD(ard_loader_options, index_dsn),   ABI_FIELD(ard_loader_options, weights),
    ABI_FIELD(ard_loader_options, frame),       ABI_FIELD(ard_loader_options, rest_zmin),
    ABI_FIELD(ard_loader_options, rest_zmax),   ABI_FIELD(ard_loader_options, on_error),
};

static const abi_field stream_column_fields[] = {
    ABI_FIELD(ard_stream_column, name),
    ABI_FIELD(ard_stream_column, type),
    ABI_FIELD(ard_stream_column, width),
};

static const abi_field f32_matrix_fields[] = {
    ABI_FIELD(ard_pq_f32_matrix, rows),         ABI_FIELD(ard_pq_f32_matrix, width),
    ABI_FIELD(ard_pq_f32_matrix, values),       ABI_FIELD(ard_pq_f32_matrix, validity),
    ABI_FIELD(ard_pq_f32_matrix, row_validity),
};

static const abi_field sync_options_fields[] = {
    ABI_FIELD(ard_sync_options, threads),      ABI_FIELD(ard_sync_options, rank),
    ABI_FIELD(ard_sync_options, size),         ABI_FIELD(ard_sync_options, verify_footers),
    ABI_FIELD(ard_sync_options, skip_catalog), ABI_FIELD(ard_sync_options, files_per_txn),
    ABI_FIELD(ard_sync_options, quiet),        ABI_FIELD(ard_sync_options, on_notice),
    ABI_FIELD(ard_sync_options, notice_ctx),   ABI_FIELD(ard_sync_options, remote),
};

static const abi_field sync_report_fields[] = {
    ABI_FIELD(ard_sync_report, run_id),          ABI_FIELD(ard_sync_report, files_seen),
    ABI_FIELD(ard_sync_report, files_added),     ABI_FIELD(ard_sync_report, files_changed),
    ABI_FIELD(ard_sync_report, files_unchanged), ABI_FIELD(ard_sync_report, files_removed),
    ABI_FIELD(ard_sync_report, files_failed),    ABI_FIELD(ard_sync_report, spectra_rows),
    ABI_FIELD(ard_sync_report, galaxy_rows),     ABI_FIELD(ard_sync_report, data_reads),
    ABI_FIELD(ard_sync_report, footer_reads),    ABI_FIELD(ard_sync_report, seconds),
    ABI_FIELD(ard_sync_report, first_error),
};

static const abi_field plan_chunk_fields[] = {
    ABI_FIELD(ard_plan_chunk, file),        ABI_FIELD(ard_plan_chunk, row_group),
    ABI_FIELD(ard_plan_chunk, num_rows),    ABI_FIELD(ard_plan_chunk, rows),
    ABI_FIELD(ard_plan_chunk, targetids),   ABI_FIELD(ard_plan_chunk, first_row),
    ABI_FIELD(ard_plan_chunk, byte_offset), ABI_FIELD(ard_plan_chunk, bytes),
    ABI_FIELD(ard_plan_chunk, num_ranges),  ABI_FIELD(ard_plan_chunk, ranges),
};

static const abi_field fetch_batch_fields[] = {
    ABI_FIELD(ard_fetch_batch, file),        ABI_FIELD(ard_fetch_batch, row_group),
    ABI_FIELD(ard_fetch_batch, rows),        ABI_FIELD(ard_fetch_batch, targetids),
    ABI_FIELD(ard_fetch_batch, num_columns), ABI_FIELD(ard_fetch_batch, column_names),
    ABI_FIELD(ard_fetch_batch, columns),     ABI_FIELD(ard_fetch_batch, column_types),
    ABI_FIELD(ard_fetch_batch, u8_values),
};

static const abi_field index_column_fields[] = {
    ABI_FIELD(ard_index_column, name),
    ABI_FIELD(ard_index_column, type),
    ABI_FIELD(ard_index_column, values),
    ABI_FIELD(ard_index_column, validity),
};

static const abi_field fof_params_fields[] = {
    ABI_FIELD(ard_fof_params, mode),        ABI_FIELD(ard_fof_params, link_mpc),
    ABI_FIELD(ard_fof_params, b),           ABI_FIELD(ard_fof_params, b_perp),
    ABI_FIELD(ard_fof_params, b_par),       ABI_FIELD(ard_fof_params, max_perp_mpc),
    ABI_FIELD(ard_fof_params, max_par_mpc), ABI_FIELD(ard_fof_params, h),
    ABI_FIELD(ard_fof_params, omega_m),     ABI_FIELD(ard_fof_params, area_deg2),
    ABI_FIELD(ard_fof_params, nz_bin_mpc),  ABI_FIELD(ard_fof_params, nz_z),
    ABI_FIELD(ard_fof_params, nz_density),  ABI_FIELD(ard_fof_params, nz_len),
    ABI_FIELD(ard_fof_params, threads),     ABI_FIELD(ard_fof_params, linker),
};

static const abi_field fof_group_fields[] = {
    ABI_FIELD(ard_fof_group, group_id),
    ABI_FIELD(ard_fof_group, members),
    ABI_FIELD(ard_fof_group, first_targetid),
    ABI_FIELD(ard_fof_group, ra),
    ABI_FIELD(ard_fof_group, dec),
    ABI_FIELD(ard_fof_group, z_centre),
    ABI_FIELD(ard_fof_group, x),
    ABI_FIELD(ard_fof_group, y),
    ABI_FIELD(ard_fof_group, z),
    ABI_FIELD(ard_fof_group, radius_mpc),
    ABI_FIELD(ard_fof_group, radius_max_mpc),
    ABI_FIELD(ard_fof_group, sigma_v),
};

static const abi_field anomaly_arch_fields[] = {
    ABI_FIELD(ard_anomaly_arch, num_patches), ABI_FIELD(ard_anomaly_arch, patch),
    ABI_FIELD(ard_anomaly_arch, embed),       ABI_FIELD(ard_anomaly_arch, hidden),
    ABI_FIELD(ard_anomaly_arch, latent),
};

static const abi_field anomaly_options_fields[] = {
    ABI_FIELD(ard_anomaly_options, dataset),        ABI_FIELD(ard_anomaly_options, dsn),
    ABI_FIELD(ard_anomaly_options, where),          ABI_FIELD(ard_anomaly_options, run),
    ABI_FIELD(ard_anomaly_options, arch),           ABI_FIELD(ard_anomaly_options, epochs),
    ABI_FIELD(ard_anomaly_options, batch_size),     ABI_FIELD(ard_anomaly_options, lr),
    ABI_FIELD(ard_anomaly_options, seed),           ABI_FIELD(ard_anomaly_options, frame),
    ABI_FIELD(ard_anomaly_options, rest_zmin),      ABI_FIELD(ard_anomaly_options, rest_zmax),
    ABI_FIELD(ard_anomaly_options, reference),      ABI_FIELD(ard_anomaly_options, knn_k),
    ABI_FIELD(ard_anomaly_options, density_weight), ABI_FIELD(ard_anomaly_options, threads),
    ABI_FIELD(ard_anomaly_options, loader_threads), ABI_FIELD(ard_anomaly_options, rank),
    ABI_FIELD(ard_anomaly_options, size),           ABI_FIELD(ard_anomaly_options, progress),
    ABI_FIELD(ard_anomaly_options, progress_ctx),   ABI_FIELD(ard_anomaly_options, score_run),
    ABI_FIELD(ard_anomaly_options, gather),
};

static const abi_field anomaly_report_fields[] = {
    ABI_FIELD(ard_anomaly_report, run),          ABI_FIELD(ard_anomaly_report, model_path),
    ABI_FIELD(ard_anomaly_report, scores_path),  ABI_FIELD(ard_anomaly_report, spectra),
    ABI_FIELD(ard_anomaly_report, params),       ABI_FIELD(ard_anomaly_report, epochs),
    ABI_FIELD(ard_anomaly_report, first_loss),   ABI_FIELD(ard_anomaly_report, final_loss),
    ABI_FIELD(ard_anomaly_report, seconds),      ABI_FIELD(ard_anomaly_report, spectra_per_second),
    ABI_FIELD(ard_anomaly_report, score_median), ABI_FIELD(ard_anomaly_report, score_p99),
    ABI_FIELD(ard_anomaly_report, score_max),    ABI_FIELD(ard_anomaly_report, score_run),
};

static const abi_field fof_score_fields[] = {
    ABI_FIELD(ard_fof_score, true_groups), ABI_FIELD(ard_fof_score, found_groups),
    ABI_FIELD(ard_fof_score, bijective),   ABI_FIELD(ard_fof_score, completeness),
    ABI_FIELD(ard_fof_score, purity),      ABI_FIELD(ard_fof_score, members_matched),
};

static const abi_field fof_stage_options_fields[] = {
    ABI_FIELD(ard_fof_stage_options, dataset),  ABI_FIELD(ard_fof_stage_options, dsn),
    ABI_FIELD(ard_fof_stage_options, where),    ABI_FIELD(ard_fof_stage_options, run_id),
    ABI_FIELD(ard_fof_stage_options, no_index), ABI_FIELD(ard_fof_stage_options, write_results),
    ABI_FIELD(ard_fof_stage_options, min_size), ABI_FIELD(ard_fof_stage_options, rank),
    ABI_FIELD(ard_fof_stage_options, size),     ABI_FIELD(ard_fof_stage_options, params),
    ABI_FIELD(ard_fof_stage_options, progress), ABI_FIELD(ard_fof_stage_options, progress_ctx),
};

static const abi_field fof_stage_report_fields[] = {
    ABI_FIELD(ard_fof_stage_report, run_id),        ABI_FIELD(ard_fof_stage_report, from_index),
    ABI_FIELD(ard_fof_stage_report, indexed),       ABI_FIELD(ard_fof_stage_report, written),
    ABI_FIELD(ard_fof_stage_report, scored),        ABI_FIELD(ard_fof_stage_report, mode),
    ABI_FIELD(ard_fof_stage_report, galaxies),      ABI_FIELD(ard_fof_stage_report, skipped),
    ABI_FIELD(ard_fof_stage_report, groups),        ABI_FIELD(ard_fof_stage_report, grouped),
    ABI_FIELD(ard_fof_stage_report, largest),       ABI_FIELD(ard_fof_stage_report, groups_ge5),
    ABI_FIELD(ard_fof_stage_report, link_mpc),      ABI_FIELD(ard_fof_stage_report, par_mpc),
    ABI_FIELD(ard_fof_stage_report, area_deg2),     ABI_FIELD(ard_fof_stage_report, score),
    ABI_FIELD(ard_fof_stage_report, min_size),      ABI_FIELD(ard_fof_stage_report, params_json),
    ABI_FIELD(ard_fof_stage_report, seconds_load),  ABI_FIELD(ard_fof_stage_report, seconds_link),
    ABI_FIELD(ard_fof_stage_report, seconds_score), ABI_FIELD(ard_fof_stage_report, seconds_write),
    ABI_FIELD(ard_fof_stage_report, seconds_total),
};

static const abi_field cosmicweb_options_fields[] = {
    ABI_FIELD(ard_cosmicweb_options, k),
    ABI_FIELD(ard_cosmicweb_options, fanout1),
    ABI_FIELD(ard_cosmicweb_options, fanout2),
    ABI_FIELD(ard_cosmicweb_options, hidden),
    ABI_FIELD(ard_cosmicweb_options, batch),
    ABI_FIELD(ard_cosmicweb_options, accum),
    ABI_FIELD(ard_cosmicweb_options, epochs),
    ABI_FIELD(ard_cosmicweb_options, lr),
    ABI_FIELD(ard_cosmicweb_options, balanced),
    ABI_FIELD(ard_cosmicweb_options, seed),
    ABI_FIELD(ard_cosmicweb_options, threads),
    ABI_FIELD(ard_cosmicweb_options, queue),
    ABI_FIELD(ard_cosmicweb_options, geo),
    ABI_FIELD(ard_cosmicweb_options, reach),
    ABI_FIELD(ard_cosmicweb_options, reach_bins),
    ABI_FIELD(ard_cosmicweb_options, reach_mpc),
    ABI_FIELD(ard_cosmicweb_options, reach_fanout),
    ABI_FIELD(ard_cosmicweb_options, reach_randoms),
};

static const abi_field cosmicweb_report_fields[] = {
    ABI_FIELD(ard_cosmicweb_report, train_nodes),
    ABI_FIELD(ard_cosmicweb_report, val_nodes),
    ABI_FIELD(ard_cosmicweb_report, test_nodes),
    ABI_FIELD(ard_cosmicweb_report, steps),
    ABI_FIELD(ard_cosmicweb_report, final_loss),
    ABI_FIELD(ard_cosmicweb_report, val_balanced_accuracy),
    ABI_FIELD(ard_cosmicweb_report, test_balanced_accuracy),
    ABI_FIELD(ard_cosmicweb_report, test_confusion),
    ABI_FIELD(ard_cosmicweb_report, seconds_graph),
    ABI_FIELD(ard_cosmicweb_report, seconds_train),
    ABI_FIELD(ard_cosmicweb_report, cpu_seconds_train),
    ABI_FIELD(ard_cosmicweb_report, train_nodes_per_s),
    ABI_FIELD(ard_cosmicweb_report, baseline_test_balanced_accuracy),
    ABI_FIELD(ard_cosmicweb_report, baseline_test_confusion),
};

static const abi_field cosmicweb_stage_options_fields[] = {
    ABI_FIELD(ard_cosmicweb_stage_options, dataset),
    ABI_FIELD(ard_cosmicweb_stage_options, dsn),
    ABI_FIELD(ard_cosmicweb_stage_options, where),
    ABI_FIELD(ard_cosmicweb_stage_options, run_id),
    ABI_FIELD(ard_cosmicweb_stage_options, model),
    ABI_FIELD(ard_cosmicweb_stage_options, label),
    ABI_FIELD(ard_cosmicweb_stage_options, val_frac),
    ABI_FIELD(ard_cosmicweb_stage_options, test_frac),
    ABI_FIELD(ard_cosmicweb_stage_options, no_index),
    ABI_FIELD(ard_cosmicweb_stage_options, train),
    ABI_FIELD(ard_cosmicweb_stage_options, latent),
};

static const abi_field cosmicweb_stage_report_fields[] = {
    ABI_FIELD(ard_cosmicweb_stage_report, run_id),
    ABI_FIELD(ard_cosmicweb_stage_report, model_path),
    ABI_FIELD(ard_cosmicweb_stage_report, results_path),
    ABI_FIELD(ard_cosmicweb_stage_report, indexed),
    ABI_FIELD(ard_cosmicweb_stage_report, split_nside),
    ABI_FIELD(ard_cosmicweb_stage_report, galaxies),
    ABI_FIELD(ard_cosmicweb_stage_report, skipped),
    ABI_FIELD(ard_cosmicweb_stage_report, labelled),
    ABI_FIELD(ard_cosmicweb_stage_report, counts),
    ABI_FIELD(ard_cosmicweb_stage_report, balanced_accuracy),
    ABI_FIELD(ard_cosmicweb_stage_report, baseline_balanced_accuracy),
    ABI_FIELD(ard_cosmicweb_stage_report, confusion),
    ABI_FIELD(ard_cosmicweb_stage_report, train),
    ABI_FIELD(ard_cosmicweb_stage_report, seconds),
    ABI_FIELD(ard_cosmicweb_stage_report, latent_dim),
    ABI_FIELD(ard_cosmicweb_stage_report, with_latent),
};

static const abi_field datasheet_options_fields[] = {
    ABI_FIELD(ard_datasheet_options, template_path),
    ABI_FIELD(ard_datasheet_options, out_path),
    ABI_FIELD(ard_datasheet_options, no_figures),
    ABI_FIELD(ard_datasheet_options, worst_tiles),
};

static const abi_field datasheet_sync_options_fields[] = {
    ABI_FIELD(ard_datasheet_sync_options, sync),
    ABI_FIELD(ard_datasheet_sync_options, no_datasheet),
    ABI_FIELD(ard_datasheet_sync_options, datasheet),
};

static const abi_field datasheet_sync_report_fields[] = {
    ABI_FIELD(ard_datasheet_sync_report, sync),
    ABI_FIELD(ard_datasheet_sync_report, synced),
    ABI_FIELD(ard_datasheet_sync_report, datasheet_written),
    ABI_FIELD(ard_datasheet_sync_report, datasheet_path),
};

static const abi_field query_options_fields[] = {
    ABI_FIELD(ard_query_options, dataset),       ABI_FIELD(ard_query_options, dsn),
    ABI_FIELD(ard_query_options, where),         ABI_FIELD(ard_query_options, targetids),
    ABI_FIELD(ard_query_options, num_targetids), ABI_FIELD(ard_query_options, targetids_file),
    ABI_FIELD(ard_query_options, limit),
};

static const abi_field query_report_fields[] = {
    ABI_FIELD(ard_query_report, spectra),
    ABI_FIELD(ard_query_report, row_groups),
    ABI_FIELD(ard_query_report, files),
    ABI_FIELD(ard_query_report, seconds),
};

static const abi_field fetch_options_fields[] = {
    ABI_FIELD(ard_fetch_options, query),   ABI_FIELD(ard_fetch_options, out_path),
    ABI_FIELD(ard_fetch_options, columns), ABI_FIELD(ard_fetch_options, num_columns),
    ABI_FIELD(ard_fetch_options, threads), ABI_FIELD(ard_fetch_options, format),
    ABI_FIELD(ard_fetch_options, source),
};

static const abi_field fetch_report_fields[] = {
    ABI_FIELD(ard_fetch_report, query),
    ABI_FIELD(ard_fetch_report, rows),
    ABI_FIELD(ard_fetch_report, seconds),
};

static const abi_field writer_options_fields[] = {
    ABI_FIELD(ard_pq_writer_options, codec),
    ABI_FIELD(ard_pq_writer_options, compression_level),
    ABI_FIELD(ard_pq_writer_options, page_version),
    ABI_FIELD(ard_pq_writer_options, target_row_group_bytes),
    ABI_FIELD(ard_pq_writer_options, page_size_bytes),
    ABI_FIELD(ard_pq_writer_options, rows_per_row_group),
    ABI_FIELD(ard_pq_writer_options, byte_stream_split),
    ABI_FIELD(ard_pq_writer_options, disable_dictionary),
    ABI_FIELD(ard_pq_writer_options, max_dictionary_bytes),
    ABI_FIELD(ard_pq_writer_options, disable_page_index),
    ABI_FIELD(ard_pq_writer_options, disable_crc),
    ABI_FIELD(ard_pq_writer_options, disable_statistics),
    ABI_FIELD(ard_pq_writer_options, num_kv),
    ABI_FIELD(ard_pq_writer_options, kv_keys),
    ABI_FIELD(ard_pq_writer_options, kv_values),
    ABI_FIELD(ard_pq_writer_options, defer_sync),
    ABI_FIELD(ard_pq_writer_options, buffers),
    ABI_FIELD(ard_pq_writer_options, direct_io),
    ABI_FIELD(ard_pq_writer_options, commit_batch),
};

static const abi_field rewrite_options_fields[] = {
    ABI_FIELD(ard_parquet_rewrite_options, writer),
    ABI_FIELD(ard_parquet_rewrite_options, on_notice),
    ABI_FIELD(ard_parquet_rewrite_options, notice_ctx),
    ABI_FIELD(ard_parquet_rewrite_options, on_progress),
    ABI_FIELD(ard_parquet_rewrite_options, progress_ctx),
};

static const abi_field rewrite_report_fields[] = {
    ABI_FIELD(ard_parquet_rewrite_report, rows),
    ABI_FIELD(ard_parquet_rewrite_report, columns),
    ABI_FIELD(ard_parquet_rewrite_report, row_groups_in),
    ABI_FIELD(ard_parquet_rewrite_report, logical_types_dropped),
};

static const abi_field serve_report_fields[] = {
    ABI_FIELD(ard_stream_serve_report, rows_per_epoch),
    ABI_FIELD(ard_stream_serve_report, batches_per_epoch),
    ABI_FIELD(ard_stream_serve_report, skipped),
    ABI_FIELD(ard_stream_serve_report, interrupted),
};

static const abi_field serve_options_fields[] = {
    ABI_FIELD(ard_stream_serve_options, loader),
    ABI_FIELD(ard_stream_serve_options, dataset),
    ABI_FIELD(ard_stream_serve_options, where),
    ABI_FIELD(ard_stream_serve_options, dsn),
    ABI_FIELD(ard_stream_serve_options, plan_path),
    ABI_FIELD(ard_stream_serve_options, plan),
    ABI_FIELD(ard_stream_serve_options, stop),
    ABI_FIELD(ard_stream_serve_options, poll_ms),
    ABI_FIELD(ard_stream_serve_options, on_started),
    ABI_FIELD(ard_stream_serve_options, on_finished),
    ABI_FIELD(ard_stream_serve_options, ctx),
};

static const abi_field grid_fields[] = {
    ABI_FIELD(ard_grid, kind),
    ABI_FIELD(ard_grid, start),
    ABI_FIELD(ard_grid, stop),
    ABI_FIELD(ard_grid, n),
};

static const abi_field generate_options_fields[] = {
    ABI_FIELD(ard_generate_options, galaxies),
    ABI_FIELD(ard_generate_options, seed),
    ABI_FIELD(ard_generate_options, spectra_fraction),
    ABI_FIELD(ard_generate_options, grid),
    ABI_FIELD(ard_generate_options, threads),
    ABI_FIELD(ard_generate_options, anomaly_fraction),
    ABI_FIELD(ard_generate_options, group_fraction),
    ABI_FIELD(ard_generate_options, progress),
    ABI_FIELD(ard_generate_options, lss),
    ABI_FIELD(ard_generate_options, lss_cells),
    ABI_FIELD(ard_generate_options, lss_box),
    ABI_FIELD(ard_generate_options, region_ra),
    ABI_FIELD(ard_generate_options, region_dec),
    ABI_FIELD(ard_generate_options, region_radius),
    ABI_FIELD(ard_generate_options, web_smoothing),
    ABI_FIELD(ard_generate_options, web_lambda_th),
    ABI_FIELD(ard_generate_options, lss_lpt_order),
    ABI_FIELD(ard_generate_options, buffered_io),
};

static const abi_field generate_report_fields[] = {
    ABI_FIELD(ard_generate_report, galaxies),
    ABI_FIELD(ard_generate_report, groups),
    ABI_FIELD(ard_generate_report, grouped),
    ABI_FIELD(ard_generate_report, spectra),
    ABI_FIELD(ard_generate_report, tiles),
    ABI_FIELD(ard_generate_report, anomalies),
    ABI_FIELD(ard_generate_report, catalog_files),
    ABI_FIELD(ard_generate_report, class_counts),
    ABI_FIELD(ard_generate_report, bytes_written),
    ABI_FIELD(ard_generate_report, seconds_catalog),
    ABI_FIELD(ard_generate_report, seconds_web),
    ABI_FIELD(ard_generate_report, seconds_spectra),
    ABI_FIELD(ard_generate_report, cpu_seconds_spectra),
};

static const abi_field ingest_options_fields[] = {
    ABI_FIELD(ard_ingest_options, grid),     ABI_FIELD(ard_ingest_options, threads),
    ABI_FIELD(ard_ingest_options, progress), ABI_FIELD(ard_ingest_options, survey),
    ABI_FIELD(ard_ingest_options, program),
};

static const abi_field ingest_report_fields[] = {
    ABI_FIELD(ard_ingest_report, files),
    ABI_FIELD(ard_ingest_report, spectra),
    ABI_FIELD(ard_ingest_report, tiles),
    ABI_FIELD(ard_ingest_report, with_redshift),
};

static const abi_struct structs[] = {
    ABI_STRUCT(ard_error, error_fields),
    ABI_STRUCT(ard_tokenize_options, tokenize_fields),
    ABI_STRUCT(ard_read_item, read_item_fields),
    ABI_STRUCT(ard_batch, batch_fields),
    ABI_STRUCT(ard_loader_options, loader_fields),
    ABI_STRUCT(ard_stream_column, stream_column_fields),
    ABI_STRUCT(ard_pq_f32_matrix, f32_matrix_fields),
    ABI_STRUCT(ard_sync_options, sync_options_fields),
    ABI_STRUCT(ard_sync_report, sync_report_fields),
    ABI_STRUCT(ard_plan_chunk, plan_chunk_fields),
    ABI_STRUCT(ard_fetch_batch, fetch_batch_fields),
    ABI_STRUCT(ard_index_column, index_column_fields),
    ABI_STRUCT(ard_fof_params, fof_params_fields),
    ABI_STRUCT(ard_fof_group, fof_group_fields),
    ABI_STRUCT(ard_anomaly_arch, anomaly_arch_fields),
    ABI_STRUCT(ard_anomaly_options, anomaly_options_fields),
    ABI_STRUCT(ard_anomaly_report, anomaly_report_fields),
    ABI_STRUCT(ard_fof_score, fof_score_fields),
    ABI_STRUCT(ard_fof_stage_options, fof_stage_options_fields),
    ABI_STRUCT(ard_fof_stage_report, fof_stage_report_fields),
    ABI_STRUCT(ard_cosmicweb_options, cosmicweb_options_fields),
    ABI_STRUCT(ard_cosmicweb_report, cosmicweb_report_fields),
    ABI_STRUCT(ard_cosmicweb_stage_options, cosmicweb_stage_options_fields),
    ABI_STRUCT(ard_cosmicweb_stage_report, cosmicweb_stage_report_fields),
    ABI_STRUCT(ard_datasheet_options, datasheet_options_fields),
    ABI_STRUCT(ard_datasheet_sync_options, datasheet_sync_options_fields),
    ABI_STRUCT(ard_datasheet_sync_report, datasheet_sync_report_fields),
    ABI_STRUCT(ard_query_options, query_options_fields),
    ABI_STRUCT(ard_query_report, query_report_fields),
    ABI_STRUCT(ard_fetch_options, fetch_options_fields),
    ABI_STRUCT(ard_fetch_report, fetch_report_fields),
    ABI_STRUCT(ard_pq_writer_options, writer_options_fields),
    ABI_STRUCT(ard_parquet_rewrite_options, rewrite_options_fields),
    ABI_STRUCT(ard_parquet_rewrite_report, rewrite_report_fields),
    ABI_STRUCT(ard_stream_serve_report, serve_report_fields),
    ABI_STRUCT(ard_stream_serve_options, serve_options_fields),
    ABI_STRUCT(ard_grid, grid_fields),
    ABI_STRUCT(ard_generate_options, generate_options_fields),
    ABI_STRUCT(ard_generate_report, generate_report_fields),
    ABI_STRUCT(ard_ingest_options, ingest_options_fields),
    ABI_STRUCT(ard_ingest_report, ingest_report_fields),
};

#define NUM_STRUCTS ((int32_t)(sizeof structs / sizeof structs[0]))

static const abi_struct *find_struct(const char *name) {
    for (int32_t i = 0; name && i < NUM_STRUCTS; i++) {
        if (strcmp(structs[i].name, name) == 0) {
            return &structs[i];
        }
    }
    return NULL;
}

static const abi_field *find_field(const char *struct_name, const char *field) {
    const abi_struct *s = find_struct(struct_name);
    for (int32_t i = 0; s && field && i < s->num_fields; i++) {
        if (strcmp(s->fields[i].name, field) == 0) {
            return &s->fields[i];
        }
    }
    return NULL;
}

int32_t ard_abi_num_structs(void) {
    return NUM_STRUCTS;
}

const char *ard_abi_struct_name(int32_t i) {
    return i >= 0 && i < NUM_STRUCTS ? structs[i].name : NULL;
}

int64_t ard_abi_struct_size(const char *struct_name) {
    const abi_struct *s = find_struct(struct_name);
    return s ? s->size : -1;
}

int32_t ard_abi_num_fields(const char *struct_name) {
    const abi_struct *s = find_struct(struct_name);
    return s ? s->num_fields : -1;
}

const char *ard_abi_field_name(const char *struct_name, int32_t i) {
    const abi_struct *s = find_struct(struct_name);
    return s && i >= 0 && i < s->num_fields ? s->fields[i].name : NULL;
}

int64_t ard_abi_field_offset(const char *struct_name, const char *field) {
    const abi_field *f = find_field(struct_name, field);
    return f ? f->offset : -1;
}

int64_t ard_abi_field_size(const char *struct_name, const char *field) {
    const abi_field *f = find_field(struct_name, field);
    return f ? f->size : -1;
}
