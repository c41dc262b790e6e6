/* The datasheet's entry points: gather the aggregates, render the template and write DATA_README.md
 * and the SVG figures in figures/ atomically next to it. */
#include "datasheet_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define TEMPLATE_MAX (4 << 20) /* a template larger than 4 MiB is surely not one */

void ard__ds_agg_reset(ds_agg *a) {
    for (int64_t i = 0; a->tiles && i < a->num_tiles; i++) {
        ard_free(a->tiles[i].path);
    }
    ard_free(a->tiles);
    ard_free(a->cw_points);
    memset(a, 0, sizeof *a);
}

static void dataset_name(ds_model *m, const char *dataset) {
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", dataset && *dataset ? dataset : ".");
    size_t len = strlen(buf);
    while (len > 1 && buf[len - 1] == '/') {
        buf[--len] = '\0';
    }
    const char *slash = strrchr(buf, '/');
    ard__ds_set(m, "dataset_name", "%s", slash && slash[1] ? slash + 1 : buf);
}

ard_status ard__ds_aggregate(const char *dataset, ard_index *idx, int32_t worst_tiles, ds_model *m,
                             ds_agg *a, ard_error *err) {
    dataset_name(m, dataset);
    ard_status st = ard__ds_agg_catalog(idx, m, a, err);
    if (st == ARD_OK) {
        st = ard__ds_agg_files(dataset, idx, worst_tiles > 0 ? worst_tiles : 10, m, a, err);
    }
    if (st == ARD_OK) {
        st = ard__ds_agg_history(dataset, idx, m, err);
    }
    if (st == ARD_OK) {
        st = ard__ds_agg_cosmicweb(idx, m, a, err);
    }
    if (st == ARD_OK) {
        st = ard__ds_agg_anomaly(idx, m, a, err);
    }
    if (st == ARD_OK && m->failed) {
        st = ard_error_set(err, ARD_ENOMEM, "out of memory building the datasheet");
    }
    if (st != ARD_OK) {
        ard_error_prefix(err, "datasheet: ");
    }
    return st;
}

static ard_status read_template(const char *path, char **out, ard_error *err) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        return ard_error_set_errno(err, errno == ENOENT ? ARD_ENOENT : ARD_EIO, errno,
                                   "opening template %s", path);
    }
    char *text = ard_malloc(TEMPLATE_MAX + 1);
    size_t n = text ? fread(text, 1, TEMPLATE_MAX + 1, f) : 0;
    int bad = text && ferror(f);
    fclose(f);
    if (!text) {
        return ard_error_set(err, ARD_ENOMEM, "out of memory reading template %s", path);
    }
    if (bad || n > TEMPLATE_MAX) {
        ard_free(text);
        return ard_error_set(err, bad ? ARD_EIO : ARD_ELIMIT,
                             bad ? "reading template %s" : "template %s is larger than 4 MiB",
                             path);
    }
    text[n] = '\0';
    if (strlen(text) != n) {
        ard_free(text);
        return ard_error_set(err, ARD_EINVAL, "template %s holds a NUL byte (not text)", path);
    }
    *out = text;
    return ARD_OK;
}

/* Aggregates + rendered Markdown; on success the caller resets *agg. */
static ard_status render(const char *dataset, ard_index *idx, const ard_datasheet_options *opts,
                         ard_buf *out, ds_agg *agg, ard_error *err) {
    ard_datasheet_options none;
    memset(&none, 0, sizeof none);
    opts = opts ? opts : &none;
    memset(agg, 0, sizeof *agg);
    char *tmpl = NULL;
    if (!idx) {
        return ard_error_set(err, ARD_EINVAL, "ard_datasheet: no index handle");
    }
    ard_status st = opts->template_path ? read_template(opts->template_path, &tmpl, err) : ARD_OK;
    ds_model m;
    if (st == ARD_OK) {
        st = ard__ds_model_init(&m, err);
        if (st != ARD_OK) {
            ard_free(tmpl);
            return st;
        }
        st = ard__ds_aggregate(dataset, idx, opts->worst_tiles, &m, agg, err);
        if (st == ARD_OK) {
            st = ard__ds_render(&m, tmpl ? tmpl : ard_datasheet_default_template(),
                                opts->template_path ? opts->template_path : "default template", out,
                                err);
        }
        ard__ds_model_reset(&m);
    }
    ard_free(tmpl);
    if (st != ARD_OK) {
        ard__ds_agg_reset(agg);
    }
    return st;
}

ard_status ard_datasheet_render(const char *dataset, ard_index *idx,
                                const ard_datasheet_options *opts, ard_buf *out, ard_error *err) {
    ds_agg agg;
    ard_status st = render(dataset, idx, opts, out, &agg, err);
    if (st == ARD_OK) {
        ard__ds_agg_reset(&agg);
    }
    return st;
}

ard_status ard_datasheet_write(const char *dataset, ard_index *idx,
                               const ard_datasheet_options *opts, ard_error *err) {
    return ard_datasheet_write_share(dataset, idx, opts, NULL, err);
}

/* This share's figures: figure i when i % size == rank (all of them without a share). */
static ard_status write_share_figures(const ds_agg *agg, const char *fig_dir,
                                      const ard_datasheet_share *share, ard_error *err) {
    ard_status st = ARD_OK;
    for (int32_t i = 0; i < DS_NUM_FIGURES && st == ARD_OK; i++) {
        if (!share || i % share->size == share->rank) {
            st = ard__ds_write_figure(agg, fig_dir, i, err);
        }
    }
    return st;
}

ard_status ard_datasheet_write_share(const char *dataset, ard_index *idx,
                                     const ard_datasheet_options *opts,
                                     const ard_datasheet_share *share, ard_error *err) {
    if (share &&
        (share->size < 1 || share->rank < 0 || share->rank >= share->size || !share->agree)) {
        return ard_error_set(err, ARD_EINVAL, "datasheet: a bad share (rank %d of %d)",
                             share ? (int)share->rank : 0, share ? (int)share->size : 0);
    }
    char out_path[4096], fig_dir[4096];
    if (opts && opts->out_path) {
        snprintf(out_path, sizeof out_path, "%s", opts->out_path);
    } else if (dataset) {
        snprintf(out_path, sizeof out_path, "%s/DATA_README.md", dataset);
    } else {
        ard_status st =
            ard_error_set(err, ARD_EINVAL, "ard_datasheet_write: no dataset and no out_path");
        return share ? share->agree(share->ctx, st, err) : st;
    }
    const char *slash = strrchr(out_path, '/');
    snprintf(fig_dir, sizeof fig_dir, "%.*s%sfigures", slash ? (int)(slash - out_path) : 0,
             out_path, slash ? "/" : "");
    ard_buf md;
    ard_buf_init(&md);
    ds_agg agg;
    ard_status st = render(dataset, idx, opts, &md, &agg, err);
    int rendered = st == ARD_OK;
    if (st == ARD_OK && !(opts && opts->no_figures)) {
        st = write_share_figures(&agg, fig_dir, share, err);
    }
    if (share) { /* every share's figures are in place before the Markdown links them */
        st = share->agree(share->ctx, st, err);
    }
    if (st == ARD_OK && (!share || share->rank == 0)) {
        st = ard_file_write_atomic(out_path, md.data, md.len, err);
    }
    if (rendered) {
        ard__ds_agg_reset(&agg);
    }
    ard_buf_reset(&md);
    return st;
}

ard_status ard_datasheet_write_dsn(const char *dataset, const char *dsn,
                                   const ard_datasheet_options *opts, ard_error *err) {
    ard_index *idx = NULL;
    ard_status st = ard_index_open(dataset, dsn, ARD_INDEX_READ_ONLY, &idx, err);
    if (st == ARD_OK) {
        st = ard_datasheet_write(dataset, idx, opts, err);
    }
    ard_index_close(idx);
    return st;
}

void ard_datasheet_placeholders(ard_buf *out) {
    for (int32_t i = 0; i < ard__ds_num_scalars(); i++) {
        ard_buf_appendf(out, "%s\n", ard__ds_scalar_name(i));
    }
    for (int32_t i = 0; i < ard__ds_num_tables(); i++) {
        ard_buf_appendf(out, "#%s:", ard__ds_table_name(i));
        for (int32_t c = 0; c < ard__ds_table_ncols(i); c++) {
            ard_buf_appendf(out, " %s", ard__ds_table_cols(i)[c]);
        }
        ard_buf_appendf(out, "\n");
    }
}
