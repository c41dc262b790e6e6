/* Writing a friends-of-friends result as Parquet: DIR/fof-RUN-galaxies.parquet (one row per input
 * galaxy) and DIR/fof-RUN-groups.parquet (the group catalog), each tagged with the run id and the
 * parameters (JSON) in the footer's key-value metadata. */
#include "science_int.h"

#include "ard/parquet_write.h"

#include <stdio.h>
#include <string.h>

void ard_fof_params_json(const ard_fof_result *r, ard_buf *out) {
    const ard_fof_params *p = &r->params;
    ard_json j;
    ard_json_init(&j, out, 0);
    ard_json_begin_object(&j);
    ard_json_key(&j, "mode");
    ard_json_string(&j, p->mode == ARD_FOF_ISOTROPIC ? "isotropic" : "redshift");
    const char *keys[] = {"link_mpc",      "b",           "b_perp",  "b_par",     "max_perp_mpc",
                          "max_par_mpc",   "h",           "omega_m", "area_deg2", "nz_bin_mpc",
                          "link_used_mpc", "par_used_mpc"};
    const double vals[] = {p->link_mpc,     p->b,           p->b_perp,    p->b_par,
                           p->max_perp_mpc, p->max_par_mpc, p->h,         p->omega_m,
                           r->area_used,    p->nz_bin_mpc,  r->link_used, r->par_used};
    for (size_t k = 0; k < sizeof vals / sizeof vals[0]; k++) {
        ard_json_key(&j, keys[k]);
        ard_json_double(&j, vals[k]);
    }
    ard_json_key(&j, "nz_table");
    ard_json_bool(&j, p->nz_len > 0);
    ard_json_key(&j, "galaxies");
    ard_json_int(&j, r->n);
    ard_json_key(&j, "groups");
    ard_json_int(&j, r->num_groups);
    ard_json_end_object(&j);
}

int ard__fof_valid_run_id(const char *s) {
    if (!s || !*s || strlen(s) > 64) {
        return 0;
    }
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-')) {
            return 0;
        }
    }
    return 1;
}

typedef struct out_col {
    const char *name;
    ard_pq_type type;
    const void *values;
} out_col;

static ard_status write_table(const char *path, const out_col *cols, int32_t ncols, int64_t rows,
                              const char *run_id, const char *params, ard_error *err) {
    ard_pq_schema_builder *sb = NULL;
    ard_pq_writer *w = NULL;
    ard_status st = ard_pq_schema_new(&sb, err);
    for (int32_t c = 0; st == ARD_OK && c < ncols; c++) {
        int32_t col = -1;
        ard_pq_schema_add_column(sb, cols[c].name, cols[c].type, ARD_PQ_REQUIRED, NULL, 0, &col,
                                 err);
        if (col < 0) {
            st = err ? err->code : ARD_EINVAL;
        } else if (strcmp(cols[c].name, "TARGETID") == 0 || cols[c].type == ARD_PQ_DOUBLE) {
            st = ard_pq_schema_set_encoding(sb, col, ARD_PQ_PLAIN, err); /* unique values */
        }
    }
    const char *keys[] = {"ard.fof.run_id", "ard.fof.params"};
    const char *vals[] = {run_id, params};
    ard_pq_writer_options o;
    ard_pq_writer_options_init(&o);
    o.codec = ARD_PQ_ZSTD;
    o.num_kv = 2;
    o.kv_keys = keys;
    o.kv_values = vals;
    o.rows_per_row_group = 1 << 20;
    if (st == ARD_OK) {
        st = ard_pq_writer_open(path, sb, &o, &w, err);
    }
    ard_pq_schema_free(sb);
    for (int64_t at = 0; st == ARD_OK && at < rows; at += (int64_t)1 << 20) {
        int64_t len = rows - at < ((int64_t)1 << 20) ? rows - at : ((int64_t)1 << 20);
        for (int32_t c = 0; st == ARD_OK && c < ncols; c++) {
            const char *base = cols[c].values;
            st = ard_pq_writer_write_column(w, c, base + (size_t)at * 8, NULL, len, err);
        }
    }
    if (st != ARD_OK) {
        ard_pq_writer_abort(w);
        return st;
    }
    return ard_pq_writer_close(w, err);
}

static ard_status write_galaxies(const ard_fof_result *r, const int64_t *targetid, const char *path,
                                 const char *run_id, const char *params, ard_error *err) {
    size_t cap = (size_t)(r->n > 0 ? r->n : 1);
    int64_t *tid = ard_malloc(cap * sizeof *tid), *size = ard_malloc(cap * sizeof *size);
    ard_status st = ARD_OK;
    if (!tid || !size) {
        st = ard_error_set(err, ARD_ENOMEM, "fof: out of memory writing %s", path);
    }
    for (int64_t i = 0; st == ARD_OK && i < r->n; i++) {
        tid[i] = targetid ? targetid[i] : i;
        int64_t g = r->group_id[i];
        size[i] = g > 0 ? r->groups[g - 1].members : 1;
    }
    if (st == ARD_OK) {
        out_col cols[] = {{"TARGETID", ARD_PQ_INT64, tid},
                          {"GROUP_ID", ARD_PQ_INT64, r->group_id},
                          {"GROUP_SIZE", ARD_PQ_INT64, size}};
        st = write_table(path, cols, 3, r->n, run_id, params, err);
    }
    ard_free(tid);
    ard_free(size);
    return st;
}

static ard_status write_groups(const ard_fof_result *r, const char *path, const char *run_id,
                               const char *params, ard_error *err) {
    enum { NCOL = 12 };
    static const char *names[NCOL] = {"GROUP_ID", "N_MEMBERS",  "FIRST_TARGETID", "RA",
                                      "DEC",      "Z",          "X_MPC",          "Y_MPC",
                                      "Z_MPC",    "RADIUS_MPC", "RADIUS_MAX_MPC", "SIGMA_V"};
    size_t cap = (size_t)(r->num_groups > 0 ? r->num_groups : 1);
    void *bufs[NCOL] = {0};
    ard_status st = ARD_OK;
    for (int c = 0; c < NCOL; c++) {
        bufs[c] = ard_malloc(cap * 8);
        if (!bufs[c] && st == ARD_OK) {
            st = ard_error_set(err, ARD_ENOMEM, "fof: out of memory writing %s", path);
        }
    }
    for (int64_t g = 0; st == ARD_OK && g < r->num_groups; g++) {
        const ard_fof_group *p = &r->groups[g];
        ((int64_t *)bufs[0])[g] = p->group_id;
        ((int64_t *)bufs[1])[g] = p->members;
        ((int64_t *)bufs[2])[g] = p->first_targetid;
        const double v[] = {p->ra, p->dec,        p->z_centre,       p->x,      p->y,
                            p->z,  p->radius_mpc, p->radius_max_mpc, p->sigma_v};
        for (int c = 3; c < NCOL; c++) {
            ((double *)bufs[c])[g] = v[c - 3];
        }
    }
    if (st == ARD_OK) {
        out_col cols[NCOL];
        for (int c = 0; c < NCOL; c++) {
            cols[c] = (out_col){names[c], c < 3 ? ARD_PQ_INT64 : ARD_PQ_DOUBLE, bufs[c]};
        }
        st = write_table(path, cols, NCOL, r->num_groups, run_id, params, err);
    }
    for (int c = 0; c < NCOL; c++) {
        ard_free(bufs[c]);
    }
    return st;
}

ard_status ard_fof_write_parquet(const ard_fof_result *r, const int64_t *targetid, const char *dir,
                                 const char *run_id, ard_error *err) {
    if (!r || !dir || !ard__fof_valid_run_id(run_id)) {
        return ard_error_set(err, ARD_EINVAL, "fof: bad result, directory or run id '%s'",
                             run_id ? run_id : "(null)");
    }
    char gal_path[4096], grp_path[4096];
    int a = snprintf(gal_path, sizeof gal_path, "%s/fof-%s-galaxies.parquet", dir, run_id);
    int b = snprintf(grp_path, sizeof grp_path, "%s/fof-%s-groups.parquet", dir, run_id);
    if (a < 0 || b < 0 || (size_t)a >= sizeof gal_path || (size_t)b >= sizeof grp_path) {
        return ard_error_set(err, ARD_EINVAL, "fof: output directory path too long");
    }
    ard_buf params;
    ard_buf_init(&params);
    ard_fof_params_json(r, &params);
    ard_buf_append(&params, "", 1);
    if (params.failed) {
        ard_buf_reset(&params);
        return ard_error_set(err, ARD_ENOMEM, "fof: out of memory");
    }
    ard_status st = write_galaxies(r, targetid, gal_path, run_id, (const char *)params.data, err);
    if (st == ARD_OK) {
        st = write_groups(r, grp_path, run_id, (const char *)params.data, err);
    }
    ard_buf_reset(&params);
    return st;
}
