/* ard datasheet: the living data dictionary. Writes DATASET/DATA_README.md (a "Datasheet for
 * Datasets", Gebru et al.) and DATASET/figures/ (SVG) from the index's aggregates and the Parquet
 * footers it records; no spectrum is ever read. The sync stage (ard_datasheet_sync, which `ard sync`
 * runs) rewrites it after every sync that changed the index, so the datasheet always describes the
 * data as it is.
 *
 * Reproducibility: the output depends only on the indexed data (files, footers, catalog rows,
 * result tables and the sync runs that changed data), never on when or on which backend it was
 * generated: two datasheets of the same data are byte-identical. The provenance footer carries a
 * content hash (FNV-1a 64 over path, size and footer hash of every indexed file, in path order), so
 * any changed file changes it.
 *
 * Template: Markdown with placeholders `{{name}}` and repeated sections `{{#table}} ... {{/table}}`
 * (the text between is emitted once per row; inside, `{{column}}` names a column of that row, and
 * other names fall back to the scalars). `ard datasheet --list-placeholders` prints them all. An
 * unknown name, an unclosed or mismatched section -> ARD_EINVAL with "TEMPLATE:LINE: ..." in the
 * message.
 *
 * Thread-safety: functions use only their arguments; an ard_index handle is one thread's at a time.
 */
#ifndef ARD_DATASHEET_H
#define ARD_DATASHEET_H

#include "ard/core.h"
#include "ard/index.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Caller-filled; zero-initialise (all zero/NULL = the defaults). */
typedef struct ard_datasheet_options {
    const char *template_path; /* Markdown template; NULL = the built-in default */
    const char *out_path;      /* NULL = DATASET/DATA_README.md; figures go to DIR(out)/figures/ */
    int32_t no_figures;        /* 1: write no SVG files (the Markdown still links them) */
    int32_t worst_tiles;       /* tiles listed as least complete; <= 0: 10 */
} ard_datasheet_options;

/* Computes the aggregates of `dataset` from `idx` (opened by the caller, read-only is enough) and
 * writes the Markdown and the figures atomically (each file appears whole or not at all).
 * dataset: the dataset directory (its catalog/ footers give the source; results/ footers the
 * science parameters). Errors: ARD_EINVAL (template: message "FILE:LINE: unknown placeholder {{x}}"
 * and friends), ARD_ENOENT (template missing), ARD_EDB (index), ARD_EIO (writing), ARD_ENOMEM. */
ARD_API ard_status ard_datasheet_write(const char *dataset, ard_index *idx,
                                       const ard_datasheet_options *opts, ard_error *err);

/* One datasheet written by several processes (MPI ranks: ard_cluster_datasheet): every process
 * computes the aggregates from its own read-only handle on the index and renders the Markdown;
 * process `rank` of `size` writes the figures i (of the five: redshift, sky, completeness,
 * cosmicweb, anomaly-scores) with i % size == rank; then agree(ctx, st, err) -- collective: returns
 * the status of the lowest failing process, its message in err -- and, when every process
 * succeeded, process 0 writes DATA_README.md (after every figure it links). The files are those
 * ard_datasheet_write writes. */
typedef struct ard_datasheet_share {
    int32_t rank, size;
    ard_status (*agree)(void *ctx, ard_status st, ard_error *err);
    void *ctx;
} ard_datasheet_share;

/* ard_datasheet_write with a share (NULL: one process, all files). Errors as ard_datasheet_write
 * (agreed), ARD_EINVAL (a bad share, not agreed). */
ARD_API ard_status ard_datasheet_write_share(const char *dataset, ard_index *idx,
                                             const ard_datasheet_options *opts,
                                             const ard_datasheet_share *share, ard_error *err);

/* As ard_datasheet_write but opens the index itself (dsn as ard_index_open: NULL = DATASET/ard.db)
 * read-only. */
ARD_API ard_status ard_datasheet_write_dsn(const char *dataset, const char *dsn,
                                           const ard_datasheet_options *opts, ard_error *err);

/* Renders the Markdown only (no files written) into out (appended). For tests and tools. */
ARD_API ard_status ard_datasheet_render(const char *dataset, ard_index *idx,
                                        const ard_datasheet_options *opts, ard_buf *out,
                                        ard_error *err);

/* ---- the sync stage with its datasheet rule ----------------------------------------------------
 * "The datasheet follows every sync" is library behaviour: ard_datasheet_sync is the sync stage a
 * CLI, C or Python caller runs. It lives here, not in the index, because the index may not use the
 * datasheet (DESIGN.md module table); ard_index_sync alone leaves DATA_README.md as it was. */

/* Caller-filled; call ard_datasheet_sync_options_init first. */
typedef struct ard_datasheet_sync_options {
    ard_sync_options sync;           /* passed to ard_index_sync (zeroed by init: its defaults) */
    int32_t no_datasheet;            /* 1: never write the datasheet */
    ard_datasheet_options datasheet; /* how to write it (zeroed by init: the defaults) */
} ard_datasheet_sync_options;

ARD_API void ard_datasheet_sync_options_init(ard_datasheet_sync_options *o);

typedef struct ard_datasheet_sync_report {
    ard_sync_report sync;      /* ard_index_sync's report */
    int32_t synced;            /* 1: ard_index_sync succeeded (a later error is the datasheet's) */
    int32_t datasheet_written; /* 1: the datasheet was (re)written by this call */
    char datasheet_path[4096]; /* where ("" when not written) */
} ard_datasheet_sync_report;

/* Runs ard_index_sync(idx, dataset, &o->sync, ...) and then, unless o->no_datasheet, rewrites the
 * datasheet (ard_datasheet_write with o->datasheet) when the sync changed the index (a file
 * added, changed, removed or failed) or the datasheet file does not exist yet; an unchanged index
 * would give the same bytes, so it is left alone. With o->sync.size > 1 (one rank of an MPI
 * sync) no rank sees the whole run: the datasheet is not written; run ard_datasheet_write once
 * after all ranks finished. o may be NULL (defaults). The sync's own outcome counts first: on a
 * sync error nothing is written. Errors: those of ard_index_sync, then of ard_datasheet_write.
 * Like ard_index_sync, a sync with failed files returns ARD_OK: check report->sync.files_failed.
 */
ARD_API ard_status ard_datasheet_sync(ard_index *idx, const char *dataset,
                                      const ard_datasheet_sync_options *o,
                                      ard_datasheet_sync_report *report, ard_error *err);

/* The built-in default template (static, NUL-terminated). */
ARD_API const char *ard_datasheet_default_template(void);

/* Appends the placeholder names the renderer knows, one per line ("name" for scalars,
 * "#table: col1 col2 ..." for repeated sections) to out. */
ARD_API void ard_datasheet_placeholders(ard_buf *out);

#ifdef __cplusplus
}
#endif
#endif
