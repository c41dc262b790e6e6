/* `ard fof DATASET [--where EXPR] [--db DSN] [linking options]`: friends-of-friends galaxy groups on
 * the catalog, written to DATASET/results/ as Parquet and into the index (galaxy_groups, groups,
 * fof_runs); scored against the generator's truth when the dataset has one. */
#include "cmd_fof.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

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
    [OPT_RUNID] = {"run-id", "ID", "name of this run ([A-Za-z0-9_-]; default fof-UTCDATETIME)"},
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
    "SELECT * FROM galaxies JOIN galaxy_groups USING (targetid) WHERE group_id = 1 works.\n"
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

static void default_run_id(char *buf, size_t cap) {
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, cap, "fof-%Y%m%dT%H%M%SZ", &tm);
}

typedef struct fof_summary {
    const char *source;
    const char *run_id;
    const char *results_dir;
    int indexed;
    int scored;
    ard_fof_score score;
    double seconds_total;
    double seconds_load;
    double seconds_write;
    int64_t skipped;
    int64_t min_size;
} fof_summary;

static void print_text(const ard_fof_result *r, const fof_summary *s) {
    int64_t n = ard_fof_num_galaxies(r), g = ard_fof_num_groups(r);
    const ard_fof_group *big = ard_fof_group_at(r, 0);
    printf("fof %s: %lld galaxies (%s; %lld rows skipped: z <= 0 or no coordinates)\n", s->run_id,
           (long long)n, s->source, (long long)s->skipped);
    printf("  linking: %s, r_perp %.3f Mpc, r_par %.3f Mpc (medians), area %.1f deg2\n",
           ard_fof_result_params(r)->mode == ARD_FOF_ISOTROPIC ? "isotropic" : "redshift-space",
           ard_fof_link_used(r), ard_fof_median_par_used(r), ard_fof_area_used(r));
    printf("  groups (>= 2 members): %lld holding %lld galaxies (%.1f%%); largest %lld members\n",
           (long long)g, (long long)ard_fof_num_grouped(r),
           n ? 100.0 * (double)ard_fof_num_grouped(r) / (double)n : 0.0,
           (long long)(big ? big->members : 0));
    int64_t ge5 = 0;
    for (int64_t k = 0; k < g && ard_fof_group_at(r, k)->members >= 5; k++) {
        ge5++;
    }
    printf("  groups with >= 5 members: %lld\n", (long long)ge5);
    printf("  time: reading catalog %.2f s, linking %.2f s, writing results %.2f s, total %.2f s\n",
           s->seconds_load, ard_fof_seconds_link(r), s->seconds_write, s->seconds_total);
    if (s->scored) {
        printf("  vs truth (groups >= %lld): %lld true, %lld found, %lld bijective; completeness "
               "%.3f, "
               "purity %.3f, members in matched groups %.3f\n",
               (long long)s->min_size, (long long)s->score.true_groups,
               (long long)s->score.found_groups, (long long)s->score.bijective,
               s->score.completeness, s->score.purity, s->score.members_matched);
    }
    printf("  results: %s/fof-%s-{galaxies,groups}.parquet%s\n", s->results_dir, s->run_id,
           s->indexed ? "; index tables galaxy_groups, groups, fof_runs" : "");
}

static void print_json(const ard_fof_result *r, const fof_summary *s) {
    ard_buf b;
    ard_buf_init(&b);
    ard_json j;
    ard_json_init(&j, &b, 1);
    ard_json_begin_object(&j);
    ard_json_key(&j, "run_id");
    ard_json_string(&j, s->run_id);
    ard_json_key(&j, "params");
    ard_buf params;
    ard_buf_init(&params);
    ard_fof_params_json(r, &params);
    ard_buf_append(&params, "", 1);
    ard_json_raw(&j, params.failed ? "null" : (const char *)params.data);
    ard_buf_reset(&params);
    ard_json_key(&j, "galaxies");
    ard_json_int(&j, ard_fof_num_galaxies(r));
    ard_json_key(&j, "groups");
    ard_json_int(&j, ard_fof_num_groups(r));
    ard_json_key(&j, "grouped");
    ard_json_int(&j, ard_fof_num_grouped(r));
    ard_json_key(&j, "seconds_link");
    ard_json_double(&j, ard_fof_seconds_link(r));
    ard_json_key(&j, "seconds_load");
    ard_json_double(&j, s->seconds_load);
    ard_json_key(&j, "seconds_write");
    ard_json_double(&j, s->seconds_write);
    ard_json_key(&j, "seconds_total");
    ard_json_double(&j, s->seconds_total);
    ard_json_key(&j, "indexed");
    ard_json_bool(&j, s->indexed);
    if (s->scored) {
        ard_json_key(&j, "truth");
        ard_json_begin_object(&j);
        ard_json_key(&j, "true_groups");
        ard_json_int(&j, s->score.true_groups);
        ard_json_key(&j, "found_groups");
        ard_json_int(&j, s->score.found_groups);
        ard_json_key(&j, "bijective");
        ard_json_int(&j, s->score.bijective);
        ard_json_key(&j, "completeness");
        ard_json_double(&j, s->score.completeness);
        ard_json_key(&j, "purity");
        ard_json_double(&j, s->score.purity);
        ard_json_key(&j, "members_matched");
        ard_json_double(&j, s->score.members_matched);
        ard_json_end_object(&j);
    }
    ard_json_end_object(&j);
    printf("%.*s\n", (int)b.len, (const char *)b.data);
    ard_buf_reset(&b);
}

/* Loads the catalog: from the index when there is one (or a DSN), else from the Parquet files. */
static ard_status load(const char *dataset, const ard_cli_args *a, fof_catalog *cat, int *use_index,
                       ard_error *err) {
    const char *dsn = a->present[OPT_DB] ? a->value[OPT_DB] : NULL;
    const char *where = a->present[OPT_WHERE] ? a->value[OPT_WHERE] : NULL;
    *use_index = 0;
    if (!a->present[OPT_NOINDEX]) {
        ard_index *idx = NULL;
        ard_status st = ard_index_open(dataset, dsn, ARD_INDEX_READ_ONLY, &idx, err);
        if (st == ARD_OK) {
            *use_index = 1;
            st = fof_load_index(idx, where, cat, err);
            ard_index_close(idx);
            return st;
        }
        if (st != ARD_ENOENT || dsn) {
            return st;
        }
        ard_error_init(err); /* no index yet: fall back to the catalog files */
    }
    if (where) {
        return ard_error_set(err, ARD_EINVAL, "--where needs the index (run 'ard sync %s' first)",
                             dataset);
    }
    return fof_load_parquet(dataset, cat, err);
}

static ard_status write_results(const char *dataset, const ard_cli_args *a, const ard_fof_result *r,
                                const fof_catalog *cat, fof_summary *s, int use_index,
                                ard_error *err) {
    static char dir[4096];
    int len = snprintf(dir, sizeof dir, "%s/results", dataset);
    if (len < 0 || (size_t)len >= sizeof dir) {
        return ard_error_set(err, ARD_EINVAL, "dataset path too long");
    }
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        return ard_error_set_errno(err, ARD_EIO, errno, "creating %s", dir);
    }
    s->results_dir = dir;
    ard_status st = ard_fof_write_parquet(r, cat->tid, dir, s->run_id, err);
    if (st != ARD_OK || !use_index) {
        return st;
    }
    ard_index *idx = NULL;
    st = ard_index_open(dataset, a->present[OPT_DB] ? a->value[OPT_DB] : NULL, 0, &idx, err);
    if (st == ARD_OK) {
        st = fof_write_index(idx, r, cat, s->run_id,
                             a->present[OPT_WHERE] ? a->value[OPT_WHERE] : NULL, err);
        s->indexed = st == ARD_OK;
    }
    ard_index_close(idx);
    return st;
}

static ard_status score(const char *dataset, const fof_catalog *cat, const ard_fof_result *r,
                        int64_t min_size, fof_summary *s, ard_error *err) {
    int64_t *truth = NULL;
    int found = 0;
    ard_status st = fof_load_truth(dataset, cat, &truth, &found, err);
    if (st == ARD_OK && found) {
        st = ard_fof_score_truth(ard_fof_group_ids(r), truth, cat->n, min_size, &s->score, err);
        s->scored = st == ARD_OK;
    }
    ard_free(truth);
    return st;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int run(const char *dataset, const ard_cli_args *a, const ard_fof_params *p,
               int64_t min_size) {
    double t0 = now_s();
    char run_id[80];
    if (a->present[OPT_RUNID]) {
        snprintf(run_id, sizeof run_id, "%s", a->value[OPT_RUNID]);
    } else {
        default_run_id(run_id, sizeof run_id);
    }
    fof_catalog cat;
    memset(&cat, 0, sizeof cat);
    fof_summary s;
    memset(&s, 0, sizeof s);
    s.run_id = run_id;
    s.min_size = min_size;
    ard_error err;
    ard_error_init(&err);
    ard_fof_result *r = NULL;
    int use_index = 0;
    ard_status st = load(dataset, a, &cat, &use_index, &err);
    s.seconds_load = now_s() - t0;
    s.source = use_index ? "from the index" : "from catalog/*.parquet";
    s.skipped = cat.skipped;
    if (st == ARD_OK) {
        st = ard_fof_run(cat.ra, cat.dec, cat.z, cat.tid, cat.n, p, &r, &err);
    }
    if (st == ARD_OK) {
        st = score(dataset, &cat, r, min_size, &s, &err);
    }
    if (st == ARD_OK) {
        double tw = now_s();
        st = write_results(dataset, a, r, &cat, &s, use_index, &err);
        s.seconds_write = now_s() - tw;
    }
    s.seconds_total = now_s() - t0;
    if (st == ARD_OK) {
        if (a->present[OPT_JSON]) {
            print_json(r, &s);
        } else {
            print_text(r, &s);
        }
    }
    ard_fof_result_free(r);
    fof_catalog_reset(&cat);
    return st == ARD_OK ? ARD_CLI_OK : ard_cli_fail(st, &err);
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
    if (rc != 0) {
        return rc;
    }
    return run(a.positional[0], &a, &p, min_size);
}
