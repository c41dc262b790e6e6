/* A friends-of-friends result as Parquet without an index: a Parquet-only result run
 * (DIR/results/fof-RUN-galaxies.parquet and -groups.parquet, written all or nothing by the index
 * module's result-run API, with the run id and parameters in the footers), and the parameters as
 * JSON. */
#include "science_int.h"

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

ard_status ard_fof_write_parquet(const ard_fof_result *r, const int64_t *targetid, const char *dir,
                                 const char *run_id, ard_error *err) {
    if (!r || !dir || !ard_result_run_id_valid(run_id)) {
        return ard_error_set(err, ARD_EINVAL, "fof: bad result, directory or run id '%s'",
                             run_id ? run_id : "(null)");
    }
    ard_buf params;
    ard_buf_init(&params);
    ard_fof_params_json(r, &params);
    ard_buf_append(&params, "", 1);
    if (params.failed) {
        ard_buf_reset(&params);
        return ard_error_set(err, ARD_ENOMEM, "fof: out of memory");
    }
    ard_result_run *run = NULL;
    ard_status st =
        ard_result_run_begin(NULL, dir, "fof", run_id, (const char *)params.data, &run, err);
    ard_buf_reset(&params);
    if (st == ARD_OK && targetid) {
        ard_result_run_hash_input(run, targetid, (size_t)r->n * sizeof *targetid);
    }
    if (st == ARD_OK) {
        st = ard__fof_add_galaxies(run, r, targetid, r->n, 0, err);
    }
    if (st == ARD_OK) {
        st = ard__fof_add_groups(run, r, 0, err);
    }
    if (st == ARD_OK) {
        return ard_result_run_commit(run, err); /* frees run */
    }
    ard_result_run_abort(run);
    return st;
}
