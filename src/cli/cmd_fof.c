/* `ard fof DATASET [--where EXPR] [--db DSN] [linking options]`: maps the flags onto the fof stage's
 * options (ard_fof_stage_run in ard/science.h, which loads, links, scores and records the run) and
 * prints its report. */
#include "cli.h"

#include "ard/science.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int ard_cmd_fof(int argc, char **argv);

enum {
    OPT_WHERE,
    OPT_DB,
    OPT_MODE,
    OPT_LINK,
    OPT_B,
    OPT_BPERP,
    OPT_BPAR,
    OPT_MAXPERP,
    OPT_MAXPAR,
    OPT_H,
    OPT_OM,
    OPT_AREA,
    OPT_NZBIN,
    OPT_THREADS,
    OPT_RUNID,
    OPT_NOINDEX,
    OPT_MINSIZE,
    OPT_JSON,
    NUM_OPTS
};

static const ard_cli_option fof_options[NUM_OPTS] = {
    [OPT_WHERE] = {"where", "EXPR",
                   "SQL predicate over galaxies, e.g. \"ZWARN = 0\" (needs the index)"},
    [OPT_DB] = {"db", "DSN", "index database (default DATASET/ard.db); see ard sync --help"},
    [OPT_MODE] = {"mode", "redshift|isotropic", "linking mode (default redshift)"},
    [OPT_LINK] = {"link", "MPC", "isotropic: fixed comoving linking length in Mpc"},
    [OPT_B] = {"b", "B", "isotropic: length = B x mean separation (default 0.2)"},
    [OPT_BPERP] = {"b-perp", "B", "redshift: projected length / l(z) (default 0.14)"},
    [OPT_BPAR] = {"b-par", "B", "redshift: line-of-sight length / l(z) (default 0.75)"},
    [OPT_MAXPERP] = {"max-perp", "MPC", "redshift: cap on the projected length (default none)"},
    [OPT_MAXPAR] = {"max-par", "MPC", "redshift: cap on the line-of-sight length (default none)"},
    [OPT_H] = {"h", "H", "H0 / 100 km/s/Mpc (default 0.6766, Planck 2018)"},
    [OPT_OM] = {"omega-m", "OM", "matter density, flat LambdaCDM (default 0.3111)"},
    [OPT_AREA] = {"area", "DEG2", "survey area for n(z) (default: estimated from the galaxies)"},
    [OPT_NZBIN] = {"nz-bin", "MPC", "comoving width of the n(z) shells (default 25)"},
    [OPT_THREADS] = {"threads", "N", "worker threads (default: all CPUs)"},
    [OPT_RUNID] = {"run-id", "ID",
                   "name of this run ([A-Za-z0-9_-]; default UTC YYYYMMDDTHHMMSSZ)"},
    [OPT_NOINDEX] = {"no-index", NULL, "write Parquet only; read the catalog Parquet files"},
    [OPT_MINSIZE] = {"min-size", "N", "smallest group scored against the truth (default 5)"},
    [OPT_JSON] = {"json", NULL, "print the summary as JSON"},
};

static const ard_cli_spec fof_spec = {
    "fof", "DATASET [--where EXPR] [--db DSN] [--mode redshift|isotropic] [options]",
    "Finds galaxy groups by friends-of-friends (exact KD-tree linking, multithreaded).\n"
    "redshift mode (GAMA/Nessie-like): a pair links when its projected separation is within\n"
    "b_perp x l(z) and its line-of-sight separation within b_par x l(z), l(z) = n(z)^(-1/3) the\n"
    "mean inter-galaxy separation from the survey's own n(z) (each pair uses the mean of its two\n"
    "lengths). isotropic mode: a fixed comoving length (--link) or b x the mean separation.\n"
    "Only galaxies with Z > 0 are used. Groups (>= 2 members) are numbered 1..G by decreasing "
    "size,\n"
    "ties by smallest TARGETID; isolated galaxies get GROUP_ID 0. Results: DATASET/results/\n"
    "fof-RUN-galaxies.parquet and fof-RUN-groups.parquet, and index tables "
    "galaxy_groups(targetid,\n"
    "group_id, group_size, run_id), groups(...) and fof_runs (run id + parameters), so that\n"
    "SELECT * FROM galaxies JOIN galaxy_groups USING (targetid) WHERE group_id = 1 works; the run\n"
    "is recorded all or nothing (see `ard results`).\n"
    "If DATASET/truth/ exists (ard generate), the groups are scored against the true haloes.",
    fof_options, NUM_OPTS};

static int parse_num(const char *name, const char *text, double *out) {
    if (ard_cli_parse_double(text, 0.0, HUGE_VAL, out) != 0) {
        return ard_cli_usage("fof", "--%s takes a non-negative number, not '%s'", name, text);
    }
    return 0;
}

static int parse_params(const ard_cli_args *a, ard_fof_params *p, int64_t *min_size) {
    ard_fof_params_init(p);
    if (a->present[OPT_MODE]) {
        const char *m = a->value[OPT_MODE];
        if (strcmp(m, "redshift") == 0) {
            p->mode = ARD_FOF_REDSHIFT;
        } else if (strcmp(m, "isotropic") == 0) {
            p->mode = ARD_FOF_ISOTROPIC;
        } else {
            return ard_cli_usage("fof", "--mode is redshift or isotropic, not '%s'", m);
        }
    }
    struct {
        int opt;
        double *dst;
    } nums[] = {{OPT_LINK, &p->link_mpc},
                {OPT_B, &p->b},
                {OPT_BPERP, &p->b_perp},
                {OPT_BPAR, &p->b_par},
                {OPT_MAXPERP, &p->max_perp_mpc},
                {OPT_MAXPAR, &p->max_par_mpc},
                {OPT_H, &p->h},
                {OPT_OM, &p->omega_m},
                {OPT_AREA, &p->area_deg2},
                {OPT_NZBIN, &p->nz_bin_mpc}};
    for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++) {
        if (a->present[nums[k].opt] &&
            parse_num(fof_options[nums[k].opt].name, a->value[nums[k].opt], nums[k].dst) != 0) {
            return ARD_CLI_USAGE;
        }
    }
    double threads = 0.0, ms = 5.0;
    if (a->present[OPT_THREADS] && parse_num("threads", a->value[OPT_THREADS], &threads) != 0) {
        return ARD_CLI_USAGE;
    }
    if (a->present[OPT_MINSIZE] &&
        (parse_num("min-size", a->value[OPT_MINSIZE], &ms) != 0 || ms < 2.0)) {
        return ard_cli_usage("fof", "--min-size takes an integer >= 2");
    }
    p->threads = (int32_t)(threads > 1024.0 ? 1024.0 : threads);
    *min_size = (int64_t)ms;
    return 0;
}

static void print_text(const ard_fof_stage_report *r, const char *dataset) {
    printf("fof %s: %lld galaxies (%s; %lld rows skipped: z <= 0 or no coordinates)\n", r->run_id,
           (long long)r->galaxies, r->from_index ? "from the index" : "from catalog/*.parquet",
           (long long)r->skipped);
    printf("  linking: %s, r_perp %.3f Mpc, r_par %.3f Mpc (medians), area %.1f deg2\n",
           r->mode == ARD_FOF_ISOTROPIC ? "isotropic" : "redshift-space", r->link_mpc, r->par_mpc,
           r->area_deg2);
    printf("  groups (>= 2 members): %lld holding %lld galaxies (%.1f%%); largest %lld members\n",
           (long long)r->groups, (long long)r->grouped,
           r->galaxies ? 100.0 * (double)r->grouped / (double)r->galaxies : 0.0,
           (long long)r->largest);
    printf("  groups with >= 5 members: %lld\n", (long long)r->groups_ge5);
    printf("  time: reading catalog %.2f s, linking %.2f s, writing results %.2f s, total %.2f s\n",
           r->seconds_load, r->seconds_link, r->seconds_write, r->seconds_total);
    if (r->scored) {
        printf("  vs truth (groups >= %lld): %lld true, %lld found, %lld bijective; completeness "
               "%.3f, purity %.3f, members in matched groups %.3f\n",
               (long long)r->min_size, (long long)r->score.true_groups,
               (long long)r->score.found_groups, (long long)r->score.bijective,
               r->score.completeness, r->score.purity, r->score.members_matched);
    }
    printf("  results: %s/results/fof-%s-{galaxies,groups}.parquet%s\n", dataset, r->run_id,
           r->indexed ? "; index tables galaxy_groups, groups, fof_runs" : "");
}

static void print_json(const ard_fof_stage_report *r) {
    ard_buf b;
    ard_buf_init(&b);
    ard_json j;
    ard_json_init(&j, &b, 1);
    ard_json_begin_object(&j);
    ard_json_key(&j, "run_id");
    ard_json_string(&j, r->run_id);
    ard_json_key(&j, "params");
    ard_json_raw(&j, r->params_json[0] ? r->params_json : "null");
    const char *keys[] = {"galaxies", "groups", "grouped", "skipped"};
    const int64_t ints[] = {r->galaxies, r->groups, r->grouped, r->skipped};
    for (int k = 0; k < 4; k++) {
        ard_json_key(&j, keys[k]);
        ard_json_int(&j, ints[k]);
    }
    const char *tkeys[] = {"seconds_link", "seconds_load", "seconds_write", "seconds_total"};
    const double secs[] = {r->seconds_link, r->seconds_load, r->seconds_write, r->seconds_total};
    for (int k = 0; k < 4; k++) {
        ard_json_key(&j, tkeys[k]);
        ard_json_double(&j, secs[k]);
    }
    ard_json_key(&j, "indexed");
    ard_json_bool(&j, r->indexed);
    if (r->scored) {
        ard_json_key(&j, "truth");
        ard_json_begin_object(&j);
        const char *skeys[] = {"true_groups", "found_groups", "bijective"};
        const int64_t sints[] = {r->score.true_groups, r->score.found_groups, r->score.bijective};
        for (int k = 0; k < 3; k++) {
            ard_json_key(&j, skeys[k]);
            ard_json_int(&j, sints[k]);
        }
        ard_json_key(&j, "completeness");
        ard_json_double(&j, r->score.completeness);
        ard_json_key(&j, "purity");
        ard_json_double(&j, r->score.purity);
        ard_json_key(&j, "members_matched");
        ard_json_double(&j, r->score.members_matched);
        ard_json_end_object(&j);
    }
    ard_json_end_object(&j);
    printf("%.*s\n", (int)b.len, (const char *)b.data);
    ard_buf_reset(&b);
}

/* mpirun hooks (cmd_fof_cluster.c) */
int ard_cli_fof_cluster_begin(ard_fof_params *p);
int ard_cli_fof_cluster_lead(void);
int ard_cli_fof_cluster_worker(void);
ard_status ard_cli_fof_cluster_serve(int32_t threads, ard_error *err);
ard_status ard_cli_fof_cluster_agree(ard_status st, ard_error *err);
int ard_cli_fof_cluster_end(int rc, ard_status st, const ard_error *err);

static int run(const char *dataset, const ard_cli_args *a, const ard_fof_params *p,
               int64_t min_size) {
    ard_fof_stage_options o;
    ard_fof_stage_options_init(&o);
    o.dataset = dataset;
    o.dsn = a->present[OPT_DB] ? a->value[OPT_DB] : NULL;
    o.where = a->present[OPT_WHERE] ? a->value[OPT_WHERE] : NULL;
    o.run_id = a->present[OPT_RUNID] ? a->value[OPT_RUNID] : NULL;
    o.no_index = a->present[OPT_NOINDEX];
    o.min_size = min_size;
    o.params = *p;
    ard_fof_stage_report rep;
    ard_error err;
    ard_error_init(&err);
    /* Under mpirun rank 0 runs the stage, whose linking step is distributed through
     * params.linker; the other ranks read nothing and link the slab rank 0 sends them. */
    int lead = ard_cli_fof_cluster_lead();
    o.write_results = lead;
    ard_status st = ard_cli_fof_cluster_worker() ? ard_cli_fof_cluster_serve(p->threads, &err)
                                                 : ard_fof_stage_run(&o, &rep, NULL, NULL, &err);
    st = ard_cli_fof_cluster_agree(st, &err);
    if (st == ARD_OK && lead) {
        if (a->present[OPT_JSON]) {
            print_json(&rep);
        } else {
            print_text(&rep, dataset);
        }
    }
    return ard_cli_fof_cluster_end(ARD_CLI_OK, st, &err);
}

int ard_cmd_fof(int argc, char **argv) {
    ard_cli_args a;
    int rc = ard_cli_parse(&fof_spec, argc, argv, &a);
    if (rc != 0) {
        return rc;
    }
    if (a.help) {
        ard_cli_print_help(&fof_spec);
        return ARD_CLI_OK;
    }
    if (a.num_positional != 1) {
        return ard_cli_usage("fof", "expected one DATASET directory");
    }
    if (a.present[OPT_RUNID]) {
        const char *id = a.value[OPT_RUNID];
        size_t len = strlen(id);
        if (len == 0 || len > 64 ||
            strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                       "0123456789_-") != len) {
            return ard_cli_usage("fof", "--run-id takes 1-64 characters of [A-Za-z0-9_-]");
        }
    }
    ard_fof_params p;
    int64_t min_size = 5;
    rc = parse_params(&a, &p, &min_size);
    if (rc == 0) {
        rc = ard_cli_fof_cluster_begin(&p);
    }
    if (rc != 0) {
        return rc;
    }
    return run(a.positional[0], &a, &p, min_size);
}
