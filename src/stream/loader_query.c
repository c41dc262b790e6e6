/* The loader over a read plan (dataset.h) or an index query: `where` runs read-only against the
 * dataset's index (ard_index_query) and the plan (file, row group, sorted rows) becomes read items,
 * one per run of consecutive rows, so the loader reads exactly the selected spectra. */
#include "stream_int.h"

#include "ard/index.h"

#include <string.h>

static ard_status push_item(ard_read_items *l, const char *path, int32_t rg, int64_t first,
                            int64_t count, ard_error *err) {
    if (l->count == l->cap) {
        int64_t cap = l->cap ? l->cap * 2 : 256;
        ard_read_item *grown = ard_realloc(l->items, (size_t)cap * sizeof *grown);
        if (!grown) {
            return ard_error_set(err, ARD_ENOMEM, "loader: plan items");
        }
        l->items = grown;
        l->cap = cap;
    }
    l->items[l->count++] = (ard_read_item){path, rg, first, count};
    return ARD_OK;
}

/* Paths of the plan's files, confined to the dataset (the plan's come from the index). */
static ard_status plan_paths(const char *dataset, const ard_plan *plan, ard_read_items *l,
                             ard_error *err) {
    int32_t n = ard_plan_num_files(plan);
    l->paths = ard_calloc((size_t)n + 1, sizeof *l->paths);
    if (!l->paths) {
        return ard_error_set(err, ARD_ENOMEM, "loader: plan paths");
    }
    l->num_paths = n;
    for (int32_t i = 0; i < n; i++) {
        char what[64];
        snprintf(what, sizeof what, "index files row of plan file %d", (int)i);
        ard_status st = ard_path_confine(dataset, ard_plan_file(plan, i), what, &l->paths[i], err);
        if (st != ARD_OK) {
            return st;
        }
    }
    return ARD_OK;
}

static ard_status plan_items(const char *dataset, const ard_plan *plan, ard_read_items *l,
                             ard_error *err) {
    ard_status st = plan_paths(dataset, plan, l, err);
    for (int64_t c = 0; st == ARD_OK && c < ard_plan_num_chunks(plan); c++) {
        const ard_plan_chunk *ch = ard_plan_chunk_at(plan, c);
        if (ch->file < 0 || ch->file >= l->num_paths) {
            return ard_error_set(err, ARD_ECORRUPT, "read plan chunk %lld names file %d",
                                 (long long)c, ch->file);
        }
        for (int64_t i = 0; st == ARD_OK && i < ch->num_rows;) {
            int64_t j = i + 1;
            while (j < ch->num_rows && ch->rows[j] == ch->rows[j - 1] + 1) {
                j++;
            }
            st = push_item(l, l->paths[ch->file], ch->row_group, ch->rows[i], j - i, err);
            i = j;
        }
    }
    return st;
}

void ard_read_items_reset(ard_read_items *l) {
    if (!l) {
        return;
    }
    for (int32_t i = 0; i < l->num_paths; i++) {
        ard_free(l->paths[i]);
    }
    ard_free(l->paths);
    ard_free(l->items);
    memset(l, 0, sizeof *l);
}

ard_status ard_read_items_from_plan(const char *dataset, const ard_plan *plan, ard_read_items *out,
                                    ard_error *err) {
    if (!out || !dataset || !plan) {
        return ard_error_set(err, ARD_EINVAL, "ard_read_items_from_plan: bad arguments");
    }
    memset(out, 0, sizeof *out);
    ard_status st = plan_items(dataset, plan, out, err);
    if (st != ARD_OK) {
        ard_read_items_reset(out);
    }
    return st;
}

ard_status ard_loader_new_plan(const ard_loader_options *opts, const char *dataset,
                               const ard_plan *plan, ard_loader **out, ard_error *err) {
    *out = NULL;
    if (!dataset || !plan || !opts) {
        return ard_error_set(err, ARD_EINVAL, "loader: a plan needs options and its dataset");
    }
    ard_read_items l = {0};
    ard_status st = plan_items(dataset, plan, &l, err);
    if (st == ARD_OK && l.count == 0) {
        st = ard_error_set(err, ARD_EINVAL, "loader: the read plan selects no spectra");
    }
    if (st == ARD_OK) {
        ard_loader_options o = *opts;
        if (!o.index_dataset && !o.index_dsn) {
            o.index_dataset = dataset; /* catalog columns from DATASET/ard.db */
        }
        st = ard_loader_new(&o, l.items, l.count, out, err);
    }
    ard_read_items_reset(&l);
    return st;
}

ard_status ard_loader_new_query(const ard_loader_options *opts, const char *dataset,
                                const char *dsn, const char *where, ard_loader **out,
                                ard_error *err) {
    *out = NULL;
    if (!dataset) {
        return ard_error_set(err, ARD_EINVAL, "loader: a query needs the dataset directory");
    }
    ard_index *idx = NULL;
    ard_plan *plan = NULL;
    ard_status st = ard_index_open(dataset, dsn, ARD_INDEX_READ_ONLY, &idx, err);
    if (st == ARD_OK) {
        st = ard_index_query(idx, where, 0, &plan, err);
    }
    if (st == ARD_OK && ard_plan_num_rows(plan) == 0) {
        st = ard_error_set(err, ARD_EINVAL, "loader: the query \"%.200s\" selects no spectra",
                           where ? where : "");
    }
    if (st == ARD_OK) {
        ard_loader_options o = *opts;
        if (!o.index_dataset && !o.index_dsn) {
            o.index_dataset = dataset; /* catalog columns from the queried index */
            o.index_dsn = dsn;
        }
        st = ard_loader_new_plan(&o, dataset, plan, out, err);
    }
    ard_plan_free(plan);
    ard_index_close(idx);
    return st;
}
