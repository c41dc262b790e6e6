/* `mpirun -n N ard fof DATASET ...`: rank 0 runs the stage (loads the catalog, scores, writes the
 * results and prints); its linking step runs across the ranks (ard_cluster_fof_link_*: rank 0
 * sends every other rank a slab with ghost zones, merges what they linked), the other ranks read
 * nothing and only link their slab (ard_cluster_fof_link_serve); every rank's error is printed on
 * rank 0 with its rank. Without a launcher these hooks do nothing and `ard fof` runs in one
 * process. */
#include "cli.h"

#include "ard/cluster.h"
#include "ard/science.h"

#include <string.h>

/* The job's handle for the duration of one `ard fof` (CLI state, not library state). */
static ard_cluster *g_fof_cluster;
static int g_fof_reported; /* rank 0 printed the failing ranks' lines */
static int g_fof_agreed;   /* a failure was agreed before the linking step */
static int g_fof_linked;   /* rank 0: the stage ran the (collective) linking step */
static char *g_fof_report; /* rank 0: its lines, printed by ard_cli_fof_cluster_agree */

/* Before the (collective) linking step every rank agrees that it loaded its input: a rank whose
 * load failed skips the linker and agrees in ard_cli_fof_cluster_agree, which meets this call. */
static ard_status loaded(ard_cluster *cl, ard_error *err) {
    char *report = NULL;
    ard_status st = ard_cluster_agree(cl, ARD_OK, err, &report);
    if (st != ARD_OK) {
        g_fof_agreed = 1;
        g_fof_report = report;
        return st;
    }
    ard_free(report);
    return ARD_OK;
}

static ard_status link_iso(void *ctx, const double *xyz, int64_t n, double link, int32_t threads,
                           int64_t *labels, ard_error *err) {
    g_fof_linked = 1;
    ard_status st = loaded(ctx, err);
    return st != ARD_OK ? st
                        : ard_cluster_fof_link_isotropic(ctx, xyz, n, link, threads, labels, err);
}

static ard_status link_z(void *ctx, const double *unit, const double *dist, const double *ang,
                         const double *los, int64_t n, int32_t threads, int64_t *labels,
                         ard_error *err) {
    g_fof_linked = 1;
    ard_status st = loaded(ctx, err);
    return st != ARD_OK
               ? st
               : ard_cluster_fof_link_redshift(ctx, unit, dist, ang, los, n, threads, labels, err);
}

static ard_fof_linker g_linker = {link_iso, link_z, NULL};

int ard_cli_fof_cluster_begin(ard_fof_params *p);
int ard_cli_fof_cluster_lead(void);
int ard_cli_fof_cluster_worker(void);
ard_status ard_cli_fof_cluster_serve(int32_t threads, ard_error *err);
ard_status ard_cli_fof_cluster_agree(ard_status st, ard_error *err);
int ard_cli_fof_cluster_end(int rc, ard_status st, const ard_error *err);

/* Under mpirun with 2+ ranks: opens the job and routes the linking step through it. Returns 0 or
 * an exit code. */
int ard_cli_fof_cluster_begin(ard_fof_params *p) {
    if (!ard_cluster_launched() || !ard_cluster_available()) {
        return 0;
    }
    ard_error err;
    ard_error_init(&err);
    ard_status st = ard_cluster_open(&g_fof_cluster, &err);
    if (st != ARD_OK) {
        return ard_cli_fail(st, &err);
    }
    if (ard_cluster_size(g_fof_cluster) < 2) {
        ard_cluster_close(g_fof_cluster);
        g_fof_cluster = NULL;
        return 0;
    }
    g_linker.ctx = g_fof_cluster;
    p->linker = &g_linker;
    return 0;
}

/* 1 on the rank that writes and prints (rank 0, or the only process). */
int ard_cli_fof_cluster_lead(void) {
    return ard_cluster_rank(g_fof_cluster) == 0;
}

/* 1 on a rank that only links (under mpirun, not rank 0). */
int ard_cli_fof_cluster_worker(void) {
    return g_fof_cluster && ard_cluster_rank(g_fof_cluster) != 0;
}

/* Ranks other than 0: instead of the stage, the linking step of rank 0's stage (this rank's
 * slab); a failure of rank 0 before it is agreed here. */
ard_status ard_cli_fof_cluster_serve(int32_t threads, ard_error *err) {
    ard_status st = loaded(g_fof_cluster, err);
    return st != ARD_OK ? st : ard_cluster_fof_link_serve(g_fof_cluster, threads, err);
}

/* Every rank's status agreed (the lowest failing rank's, "rank R: ..."); rank 0 prints every
 * failing rank's line. Identity without a cluster. */
ard_status ard_cli_fof_cluster_agree(ard_status st, ard_error *err) {
    if (!g_fof_cluster) {
        return st;
    }
    if (ard_cluster_rank(g_fof_cluster) == 0 && !g_fof_linked && !g_fof_agreed && st == ARD_OK) {
        /* the stage succeeded without a linking step: the other ranks wait for one (a failure
         * meets them in the agreement below) */
        g_fof_linked = 1;
        st = loaded(g_fof_cluster, err);
        if (st == ARD_OK) {
            st = ard_cluster_fof_link_isotropic(g_fof_cluster, NULL, 0, 0.0, 1, NULL, err);
        }
    }
    char *report = g_fof_report;
    g_fof_report = NULL;
    ard_status agreed = g_fof_agreed ? st : ard_cluster_agree(g_fof_cluster, st, err, &report);
    for (const char *line = report; line && *line;) {
        const char *nl = strchr(line, '\n');
        int len = nl ? (int)(nl - line) : (int)strlen(line);
        fprintf(stderr, "ard: %.*s\n", len, line);
        line += len + (nl != NULL);
        g_fof_reported = 1;
    }
    ard_free(report);
    return agreed;
}

/* Closes the job's handle; the other ranks stay silent on failure (rank 0 printed theirs). */
int ard_cli_fof_cluster_end(int rc, ard_status st, const ard_error *err) {
    if (!g_fof_cluster) {
        return st == ARD_OK ? rc : ard_cli_fail(st, err);
    }
    int lead = ard_cluster_rank(g_fof_cluster) == 0;
    ard_cluster_close(g_fof_cluster);
    g_fof_cluster = NULL;
    g_fof_agreed = 0;
    g_fof_linked = 0;
    if (st != ARD_OK) {
        return lead && !g_fof_reported ? ard_cli_fail(st, err) : ARD_CLI_FAILURE;
    }
    return rc;
}
