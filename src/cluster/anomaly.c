/* `mpirun -n N ard anomaly score`: every rank scores its share of the selection (a contiguous run
 * of the one-process batches, equal in spectra and so in bytes, since every spectrum has the
 * grid's width), the rows are gathered on rank 0 in rank order -- the
 * one-process order -- and rank 0 writes the run as one process does (ard_anomaly_gather). */
#include "cluster_int.h"

#include "ard/science.h"

#include <limits.h>
#include <string.h>

#if ARD_HAVE_MPI

typedef struct rows_gather {
    ard_cluster *cl;
    char **failures;
    ard_cluster_progress *meter;     /* every rank's spectra, summed on rank 0 */
    const ard_anomaly_options *user; /* its progress callback gets the sums, on rank 0 only */
    int64_t done;                    /* this rank's latest count */
    int64_t total;                   /* rank 0: the selection's spectra */
    int64_t shown;                   /* rank 0: the count last passed to the callback (-1: none) */
} rows_gather;

/* Every process's stage reports the whole selection as its total (the loader's rows per epoch,
 * before the share is selected), so rank 0 shows the sum of the counts against its own total. */
static void on_progress(void *ctx, int64_t done, int64_t total) {
    rows_gather *g = ctx;
    ard_cluster_progress_add(g->meter, done - g->done);
    g->done = done;
    if (g->cl->rank == 0) {
        g->total = total;
        int64_t sum = ard_cluster_progress_done(g->meter);
        if (sum != g->shown) {
            g->shown = sum;
            g->user->progress(g->user->progress_ctx, sum, total);
        }
    }
}

/* Gathers one array of `width` bytes per row on rank 0 (counts[r] rows from rank r). */
static int gather_array(ard_cluster *cl, const void *mine, int64_t n, size_t width,
                        const int64_t *counts, void *all) {
    int *bytes = NULL, *displs = NULL;
    if (cl->rank == 0) {
        bytes = ard_calloc((size_t)cl->size, sizeof *bytes);
        displs = ard_calloc((size_t)cl->size, sizeof *displs);
        int64_t at = 0;
        for (int32_t r = 0; bytes && displs && r < cl->size; r++) {
            bytes[r] = (int)(counts[r] * (int64_t)width);
            displs[r] = (int)at;
            at += counts[r] * (int64_t)width;
        }
    }
    int ok = MPI_Gatherv(mine, (int)(n * (int64_t)width), MPI_BYTE, all, bytes, displs, MPI_BYTE, 0,
                         cl->comm) == MPI_SUCCESS;
    ard_free(bytes);
    ard_free(displs);
    return ok;
}

static ard_status gather_rows(void *ctx, ard_status st, ard_anomaly_rows *rows, int32_t *writer,
                              ard_error *err) {
    rows_gather *g = ctx;
    ard_cluster *cl = g->cl;
    *writer = cl->rank == 0;
    if (g->meter) { /* every rank's final count (all scored: done is the total) */
        int64_t done = ard_cluster_progress_finish(g->meter);
        g->meter = NULL;
        if (cl->rank == 0 && st == ARD_OK && done != g->shown) {
            g->user->progress(g->user->progress_ctx, done, g->total > 0 ? g->total : done);
        }
    }
    st = ard_cluster_agree(cl, st, err, g->failures);
    if (st != ARD_OK) {
        return st;
    }
    int64_t *counts = ard_calloc((size_t)cl->size, sizeof *counts);
    int64_t total = 0;
    int ok = counts != NULL;
    if (MPI_Allgather(&rows->n, 1, MPI_INT64_T, counts, ok ? 1 : 0, MPI_INT64_T, cl->comm) !=
        MPI_SUCCESS) {
        ok = 0;
    }
    for (int32_t r = 0; ok && r < cl->size; r++) {
        total += counts[r];
    }
    size_t zw = (size_t)rows->latent * sizeof(float);
    /* MPI counts are int: the whole run's largest array must fit */
    int fits = total * (int64_t)(zw > 8 ? zw : 8) < INT_MAX;
    ard_anomaly_rows all = {total, rows->latent, NULL, NULL, NULL, NULL, NULL};
    if (cl->rank == 0 && ok && fits) {
        size_t n = (size_t)(total ? total : 1);
        all.targetid = ard_malloc(n * 8);
        all.score = ard_malloc(n * 8);
        all.chi2 = ard_malloc(n * 8);
        all.density = ard_malloc(n * 8);
        all.z = ard_malloc(n * zw + 1);
        ok = all.targetid && all.score && all.chi2 && all.density && all.z;
    }
    st = !ok     ? ard_error_set(err, ARD_ENOMEM, "anomaly: gathering the scores on rank 0")
         : !fits ? ard_error_set(err, ARD_ELIMIT, "anomaly: %lld scored rows exceed one gather",
                                 (long long)total)
                 : ARD_OK;
    st = ard_cluster_agree(cl, st, err, NULL); /* rank 0's allocation decides for everyone */
    if (st == ARD_OK && !(gather_array(cl, rows->targetid, rows->n, 8, counts, all.targetid) &&
                          gather_array(cl, rows->score, rows->n, 8, counts, all.score) &&
                          gather_array(cl, rows->chi2, rows->n, 8, counts, all.chi2) &&
                          gather_array(cl, rows->density, rows->n, 8, counts, all.density) &&
                          gather_array(cl, rows->z, rows->n, zw, counts, all.z))) {
        st = ard_error_set(err, ARD_EIO, "anomaly: gathering the scores on rank 0 failed (MPI)");
    }
    ard_free(counts);
    if (st == ARD_OK && cl->rank == 0) {
        ard_anomaly_rows mine = *rows;
        *rows = all;
        all = mine; /* freed below */
    }
    ard_free(all.targetid);
    ard_free(all.score);
    ard_free(all.chi2);
    ard_free(all.density);
    ard_free(all.z);
    return st;
}

ard_status ard_cluster_anomaly_score(ard_cluster *cluster, const ard_anomaly_options *opts,
                                     ard_anomaly_report *report, char **failures, ard_error *err) {
    if (failures) {
        *failures = NULL;
    }
    if (!cluster || !opts) {
        return ard_error_set(err, ARD_EINVAL, "ard_cluster_anomaly_score: NULL argument");
    }
    rows_gather g = {cluster, failures, NULL, opts, 0, 0, -1};
    ard_anomaly_gather hook = {gather_rows, &g};
    ard_anomaly_options o = *opts;
    o.rank = cluster->rank;
    o.size = cluster->size;
    o.gather = &hook;
    /* rank 0's callback decides for every rank: one display, on rank 0, of the job's spectra */
    int32_t wanted = cluster->rank == 0 && opts->progress != NULL;
    if (MPI_Bcast(&wanted, 1, MPI_INT32_T, 0, cluster->comm) != MPI_SUCCESS) {
        return ard_error_set(err, ARD_EIO, "anomaly: agreeing on progress failed (MPI)");
    }
    o.progress = NULL;
    if (wanted) {
        ard_status st = ard_cluster_progress_new(cluster, NULL, 0, 0, &g.meter, err);
        if (st != ARD_OK) {
            return st;
        }
        o.progress = on_progress;
        o.progress_ctx = &g;
    }
    ard_status st = ard_anomaly_score(&o, report, err);
    if (g.meter) { /* a failure before the gather: the counter is still every rank's to finish */
        ard_cluster_progress_finish(g.meter);
    }
    return st;
}

#else

ard_status ard_cluster_anomaly_score(ard_cluster *cluster, const ard_anomaly_options *opts,
                                     ard_anomaly_report *report, char **failures, ard_error *err) {
    (void)cluster;
    (void)opts;
    (void)report;
    return ard__cl_no_mpi("cluster", failures, err);
}

#endif
