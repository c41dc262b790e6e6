/* The fof stage (ard_fof_stage_run): load the catalog (index or files), link, score against the
 * truth, record the run through the index's result runs. The CLI and Python call this; neither
 * holds any of these steps. */
#include "science_int.h"

#include <stdio.h>
#include <string.h>

void ard_fof_stage_options_init(ard_fof_stage_options *o) {
    memset(o, 0, sizeof *o);
    o->write_results = 1;
    o->min_size = 5;
    o->size = 1;
    ard_fof_params_init(&o->params);
}

static void progress(const ard_fof_stage_options *o, const char *phase, double fraction) {
    if (o->progress) {
        o->progress(o->progress_ctx, phase, fraction);
    }
}

/* Loads the catalog from the index when there is one (or a DSN names one), else from the files. */
static ard_status load(const ard_fof_stage_options *o, sci_catalog *cat, int32_t *from_index,
                       ard_error *err) {
    *from_index = 0;
    if (!o->no_index) {
        ard_index *idx = NULL;
        ard_status st = ard_index_open(o->dataset, o->dsn, ARD_INDEX_READ_ONLY, &idx, err);
        if (st == ARD_OK) {
            *from_index = 1;
            st = ard__sci_load_index(idx, o->where, cat, err);
            ard_index_close(idx);
            return st;
        }
        if (st != ARD_ENOENT || o->dsn) {
            return st;
        }
        ard_error_init(err); /* no index yet: fall back to the catalog files */
    }
    if (o->where && *o->where) {
        return ard_error_set(err, ARD_EINVAL,
                             "fof: a predicate needs the index (run 'ard sync %s'"
                             " first)",
                             o->dataset);
    }
    return ard__sci_load_files(o->dataset, cat, err);
}

static ard_status score(const ard_fof_stage_options *o, const sci_catalog *cat,
                        const ard_fof_result *r, ard_fof_stage_report *rep, ard_error *err) {
    int64_t *truth = NULL;
    int found = 0;
    ard_status st = ard__sci_load_truth(o->dataset, cat, &truth, &found, err);
    if (st == ARD_OK && found) {
        st =
            ard_fof_score_truth(ard_fof_group_ids(r), truth, cat->n, o->min_size, &rep->score, err);
        rep->scored = st == ARD_OK;
    }
    ard_free(truth);
    return st;
}

/* ---- writing through a result run ---- */

ard_status ard__fof_add_galaxies(ard_result_run *run, const ard_fof_result *r,
                                 const int64_t *targetid, int64_t n, int indexed, ard_error *err) {
    int64_t *size = ard_malloc((size_t)(n > 0 ? n : 1) * sizeof *size);
    int64_t *tid = targetid ? NULL : ard_malloc((size_t)(n > 0 ? n : 1) * sizeof *tid);
    if (!size || (!targetid && !tid)) {
        ard_free(size);
        return ard_error_set(err, ARD_ENOMEM, "fof: out of memory");
    }
    const int64_t *gid = ard_fof_group_ids(r);
    for (int64_t i = 0; i < n; i++) {
        size[i] = gid[i] > 0 ? ard_fof_group_at(r, gid[i] - 1)->members : 1;
        if (tid) {
            tid[i] = i; /* no TARGETIDs: row numbers */
        }
    }
    ard_index_column cols[] = {{"TARGETID", ARD_INDEX_INT64, targetid ? targetid : tid, NULL},
                               {"GROUP_ID", ARD_INDEX_INT64, gid, NULL},
                               {"GROUP_SIZE", ARD_INDEX_INT64, size, NULL}};
    ard_status st = ard_result_run_add_table(run, "galaxies", cols, 3, n,
                                             indexed ? "galaxy_groups" : NULL, err);
    ard_free(size);
    ard_free(tid);
    return st;
}

enum { GROUP_COLS = 12 };

ard_status ard__fof_add_groups(ard_result_run *run, const ard_fof_result *r, int indexed,
                               ard_error *err) {
    static const char *const names[GROUP_COLS] = {
        "GROUP_ID", "N_MEMBERS",  "FIRST_TARGETID", "RA",     "DEC", "Z", "X_MPC", "Y_MPC",
        "Z_MPC",    "RADIUS_MPC", "RADIUS_MAX_MPC", "SIGMA_V"};
    int64_t g = ard_fof_num_groups(r);
    void *bufs[GROUP_COLS] = {0};
    ard_status st = ARD_OK;
    for (int k = 0; k < GROUP_COLS; k++) {
        bufs[k] = ard_malloc((size_t)(g > 0 ? g : 1) * 8);
        st = bufs[k] || st != ARD_OK ? st : ard_error_set(err, ARD_ENOMEM, "fof: out of memory");
    }
    for (int64_t i = 0; st == ARD_OK && i < g; i++) {
        const ard_fof_group *p = ard_fof_group_at(r, i);
        ((int64_t *)bufs[0])[i] = p->group_id;
        ((int64_t *)bufs[1])[i] = p->members;
        ((int64_t *)bufs[2])[i] = p->first_targetid;
        const double v[] = {p->ra, p->dec,        p->z_centre,       p->x,      p->y,
                            p->z,  p->radius_mpc, p->radius_max_mpc, p->sigma_v};
        for (int k = 3; k < GROUP_COLS; k++) {
            ((double *)bufs[k])[i] = v[k - 3];
        }
    }
    if (st == ARD_OK) {
        ard_index_column cols[GROUP_COLS];
        for (int k = 0; k < GROUP_COLS; k++) {
            cols[k] = (ard_index_column){names[k], k < 3 ? ARD_INDEX_INT64 : ARD_INDEX_DOUBLE,
                                         bufs[k], NULL};
        }
        st = ard_result_run_add_table(run, "groups", cols, GROUP_COLS, g, indexed ? "groups" : NULL,
                                      err);
    }
    for (int k = 0; k < GROUP_COLS; k++) {
        ard_free(bufs[k]);
    }
    return st;
}

static ard_status summary(ard_result_run *run, const ard_fof_stage_options *o,
                          const ard_fof_stage_report *rep, ard_error *err) {
    ard_buf b;
    ard_buf_init(&b);
    ard_json j;
    ard_json_init(&j, &b, 0);
    ard_json_begin_object(&j);
    ard_json_key(&j, "where");
    ard_json_string(&j, o->where && *o->where ? o->where : NULL);
    ard_json_key(&j, "source");
    ard_json_string(&j, rep->from_index ? "index" : "catalog files");
    ard_json_key(&j, "galaxies");
    ard_json_int(&j, rep->galaxies);
    ard_json_key(&j, "groups");
    ard_json_int(&j, rep->groups);
    ard_json_key(&j, "grouped");
    ard_json_int(&j, rep->grouped);
    ard_json_end_object(&j);
    ard_buf_append(&b, "", 1);
    ard_status st = b.failed ? ard_error_set(err, ARD_ENOMEM, "out of memory")
                             : ard_result_run_set_summary(run, (const char *)b.data, err);
    ard_buf_reset(&b);
    return st;
}

static ard_status write_run(const ard_fof_stage_options *o, const sci_catalog *cat,
                            const ard_fof_result *r, ard_fof_stage_report *rep, ard_error *err) {
    ard_index *idx = NULL;
    ard_status st = ARD_OK;
    if (rep->from_index) {
        st = ard_index_open(o->dataset, o->dsn, 0, &idx, err);
    }
    ard_result_run *run = NULL;
    if (st == ARD_OK) {
        st = ard_result_run_begin(idx, o->dataset, "fof", o->run_id, rep->params_json, &run, err);
    }
    if (st == ARD_OK) {
        snprintf(rep->run_id, sizeof rep->run_id, "%s", ard_result_run_id(run));
        size_t bytes = (size_t)cat->n * sizeof(double);
        ard_result_run_hash_input(run, cat->tid, (size_t)cat->n * sizeof(int64_t));
        ard_result_run_hash_input(run, cat->ra, bytes);
        ard_result_run_hash_input(run, cat->dec, bytes);
        ard_result_run_hash_input(run, cat->z, bytes);
        st = summary(run, o, rep, err);
    }
    progress(o, "write", 0.1);
    st = st == ARD_OK ? ard__fof_add_galaxies(run, r, cat->tid, cat->n, idx != NULL, err) : st;
    progress(o, "write", 0.5);
    st = st == ARD_OK ? ard__fof_add_groups(run, r, idx != NULL, err) : st;
    if (st == ARD_OK) {
        st = ard_result_run_commit(run, err); /* frees run */
        run = NULL;
    }
    ard_result_run_abort(run);
    ard_index_close(idx);
    rep->written = st == ARD_OK;
    rep->indexed = st == ARD_OK && rep->from_index;
    progress(o, "write", 1.0);
    return st;
}

/* ---- the stage ---- */

static void fill_report(const ard_fof_result *r, ard_fof_stage_report *rep) {
    rep->galaxies = ard_fof_num_galaxies(r);
    rep->groups = ard_fof_num_groups(r);
    rep->grouped = ard_fof_num_grouped(r);
    const ard_fof_group *big = ard_fof_group_at(r, 0);
    rep->largest = big ? big->members : 0;
    for (int64_t k = 0; k < rep->groups && ard_fof_group_at(r, k)->members >= 5; k++) {
        rep->groups_ge5++;
    }
    rep->mode = ard_fof_result_params(r)->mode;
    rep->link_mpc = ard_fof_link_used(r);
    rep->par_mpc = ard_fof_median_par_used(r);
    rep->area_deg2 = ard_fof_area_used(r);
    rep->seconds_link = ard_fof_seconds_link(r);
    ard_buf params;
    ard_buf_init(&params);
    ard_fof_params_json(r, &params);
    if (!params.failed && params.len < sizeof rep->params_json) {
        memcpy(rep->params_json, params.data, params.len);
        rep->params_json[params.len] = '\0';
    }
    ard_buf_reset(&params);
}

static ard_status check_options(const ard_fof_stage_options *o, ard_error *err) {
    if (o->size > 1 || o->rank != 0) {
        return ard_error_set(err, ARD_ENOTSUP,
                             "fof: the stage links on one process (rank %d of %d): distributed "
                             "FoF is the cluster module's",
                             (int)o->rank, (int)o->size);
    }
    if (o->min_size < 2) {
        return ard_error_set(err, ARD_EINVAL, "fof: min_size %lld < 2", (long long)o->min_size);
    }
    return ARD_OK;
}

ard_status ard_fof_stage_run(const ard_fof_stage_options *o, ard_fof_stage_report *report,
                             ard_fof_result **groups_out, int64_t **targetids_out, ard_error *err) {
    ard_fof_stage_report local;
    ard_fof_stage_report *rep = report ? report : &local;
    if (groups_out) {
        *groups_out = NULL;
    }
    if (targetids_out) {
        *targetids_out = NULL;
    }
    double t0 = 0.0;
    ard_status st = ard__sci_stage_begin("fof", o ? o->dataset : NULL, o ? o->run_id : NULL, rep,
                                         sizeof *rep, &t0, err);
    if (st == ARD_OK) {
        st = check_options(o, err);
    }
    if (st != ARD_OK) {
        return st;
    }
    rep->min_size = o->min_size;
    sci_catalog cat;
    memset(&cat, 0, sizeof cat);
    progress(o, "load", 0.0);
    st = load(o, &cat, &rep->from_index, err);
    rep->skipped = cat.skipped;
    rep->seconds_load = ard__sci_now() - t0;
    progress(o, "load", 1.0);
    ard_fof_result *r = NULL;
    if (st == ARD_OK) {
        progress(o, "link", 0.0);
        st = ard_fof_run(cat.ra, cat.dec, cat.z, cat.tid, cat.n, &o->params, &r, err);
        progress(o, "link", 1.0);
    }
    if (st == ARD_OK) {
        fill_report(r, rep);
        double ts = ard__sci_now();
        progress(o, "score", 0.0);
        st = score(o, &cat, r, rep, err);
        rep->seconds_score = ard__sci_now() - ts;
        progress(o, "score", 1.0);
    }
    if (st == ARD_OK && o->write_results) {
        double tw = ard__sci_now();
        st = write_run(o, &cat, r, rep, err);
        rep->seconds_write = ard__sci_now() - tw;
    }
    rep->seconds_total = ard__sci_now() - t0;
    if (st == ARD_OK && groups_out) {
        *groups_out = r;
        r = NULL;
    }
    if (st == ARD_OK && targetids_out) {
        *targetids_out = cat.tid;
        cat.tid = NULL;
    }
    ard_fof_result_free(r);
    ard__sci_catalog_reset(&cat);
    return st;
}
