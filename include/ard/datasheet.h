/* ard datasheet: the living data dictionary. Writes DATASET/DATA_README.md (a "Datasheet for
 * Datasets", Gebru et al.) and DATASET/figures/ (SVG) from the index's aggregates and the Parquet
 * footers it records; no spectrum is ever read. `ard sync` calls ard_datasheet_write at its end, so
 * the datasheet always describes the data as it is.
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

/* As ard_datasheet_write but opens the index itself (dsn as ard_index_open: NULL = DATASET/ard.db)
 * read-only. */
ARD_API ard_status ard_datasheet_write_dsn(const char *dataset, const char *dsn,
                                           const ard_datasheet_options *opts, ard_error *err);

/* Renders the Markdown only (no files written) into out (appended). For tests and tools. */
ARD_API ard_status ard_datasheet_render(const char *dataset, ard_index *idx,
                                        const ard_datasheet_options *opts, ard_buf *out,
                                        ard_error *err);

/* The built-in default template (static, NUL-terminated). */
ARD_API const char *ard_datasheet_default_template(void);

/* Appends the placeholder names the renderer knows, one per line ("name" for scalars,
 * "#table: col1 col2 ..." for repeated sections) to out. */
ARD_API void ard_datasheet_placeholders(ard_buf *out);

#ifdef __cplusplus
}
#endif
#endif
