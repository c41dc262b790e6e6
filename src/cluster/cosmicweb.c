/* `mpirun -n N ard cosmicweb predict`: every rank loads the selection and the model, builds the
 * graph rows and runs both layers for its share of the galaxies (ard_cosmicweb_stage_predict_share:
 * contiguous runs of whole inference chunks), the feature and hidden rows are exchanged with
 * MPI_Allgatherv between the layers, and rank 0 writes the run as one process does. Progress:
 * galaxies predicted, summed on rank 0 (ard_cluster_progress, label "cosmicweb"). */
#include "cluster_int.h"

#include <limits.h>
#include <string.h>

#if ARD_HAVE_MPI

typedef struct cw_exchange {
    ard_cluster *cl;
    char **failures;
    int failed; /* a failure was agreed (and reported) in an exchange */
    /* progress: galaxies predicted, summed on rank 0; created at the first row exchange (after
     * layer 1: half of the share counts), completed when the share is done */
    ard_cluster_progress *meter;
    int64_t share, counted;
} cw_exchange;

/* Agrees on st; the first failure agreed fills the report of every failing rank. */
static ard_status agree(cw_exchange *x, ard_status st, ard_error *err) {
    st = ard_cluster_agree(x->cl, st, err, x->failed ? NULL : x->failures);
    x->failed |= st != ARD_OK;
    return st;
}

/* The share's exchange: agree on the status, then every rank's rows to every rank. */
static ard_status exchange_rows(void *ctx, ard_status st, void *rows, int64_t row_bytes,
                                const int64_t *bounds, ard_error *err) {
    cw_exchange *x = ctx;
    ard_cluster *cl = x->cl;
    st = agree(x, st, err);
    if (st == ARD_OK && bounds && !x->meter) { /* every rank is here: the status was agreed */
        x->share = bounds[cl->rank + 1] - bounds[cl->rank];
        ard_cluster_progress_new(cl, "cosmicweb", cl->rank == 0 ? bounds[cl->size] : 0, 1,
                                 &x->meter, NULL);
        x->counted = x->share / 2;
        ard_cluster_progress_add(x->meter, x->counted);
    }
    if (st != ARD_OK || !rows || !bounds) {
        return st;
    }
    int *counts = ard_calloc((size_t)cl->size, sizeof *counts);
    int *displs = ard_calloc((size_t)cl->size, sizeof *displs);
    int ok = counts && displs && bounds[cl->size] * row_bytes < INT_MAX;
    for (int32_t r = 0; ok && r < cl->size; r++) {
        counts[r] = (int)((bounds[r + 1] - bounds[r]) * row_bytes);
        displs[r] = (int)(bounds[r] * row_bytes);
    }
    st = ok ? ARD_OK
            : ard_error_set(err, counts && displs ? ARD_ELIMIT : ARD_ENOMEM,
                            "cosmicweb: exchanging %lld rows of %lld bytes",
                            (long long)bounds[cl->size], (long long)row_bytes);
    st = agree(x, st, err);
    if (st == ARD_OK && MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, rows, counts, displs,
                                       MPI_BYTE, cl->comm) != MPI_SUCCESS) {
        st = ard_error_set(err, ARD_EIO, "cosmicweb: exchanging rows failed (MPI)");
    }
    ard_free(counts);
    ard_free(displs);
    return st;
}

ard_status ard_cluster_cosmicweb_predict(ard_cluster *cluster,
                                         const ard_cosmicweb_stage_options *opts,
                                         ard_cosmicweb_stage_report *report, char **failures,
                                         ard_error *err) {
    if (failures) {
        *failures = NULL;
    }
    if (!cluster || !opts) {
        return ard_error_set(err, ARD_EINVAL, "ard_cluster_cosmicweb_predict: NULL argument");
    }
    cw_exchange x = {cluster, failures, 0, NULL, 0, 0};
    ard_cosmicweb_share share = {cluster->rank, cluster->size, exchange_rows, &x};
    ard_status st = ard_cosmicweb_stage_predict_share(opts, &share, report, err);
    if (x.meter) { /* on every rank or on none (created after an agreement) */
        ard_cluster_progress_add(x.meter, st == ARD_OK ? x.share - x.counted : 0);
        ard_cluster_progress_finish(x.meter);
    }
    /* a failure agreed during the prediction is every rank's already; else rank 0's run */
    return x.failed ? st : ard_cluster_agree(cluster, st, err, failures);
}

#else

ard_status ard_cluster_cosmicweb_predict(ard_cluster *cluster,
                                         const ard_cosmicweb_stage_options *opts,
                                         ard_cosmicweb_stage_report *report, char **failures,
                                         ard_error *err) {
    (void)cluster;
    (void)opts;
    (void)report;
    return ard__cl_no_mpi("cluster", failures, err);
}

#endif
