/* `mpirun -n N ard datasheet`: every rank opens the index read-only and computes the aggregates
 * (SQL over the index and a few Parquet footers: no spectrum is read); the five figures are shared
 * round robin among the ranks, and rank 0 writes DATA_README.md once every figure is in place
 * (ard_datasheet_write_share). The files equal one process's. Progress (ard_cluster_progress,
 * label "datasheet"): N + 1 parts, one per rank's aggregates and figures and one for the Markdown. */
#include "cluster_int.h"

#include <string.h>

#if ARD_HAVE_MPI

typedef struct ds_agree {
    ard_cluster *cl;
    char **failures;
    int failed; /* the failure was agreed (and reported) inside the share */
    /* progress in parts, summed on rank 0: one per rank when its aggregates and figures are
     * done, one more for rank 0's Markdown */
    ard_cluster_progress *meter;
    int counted;
} ds_agree;

static ard_status agree(void *ctx, ard_status st, ard_error *err) {
    ds_agree *a = ctx;
    if (!a->counted && st == ARD_OK) {
        ard_cluster_progress_add(a->meter, 1);
    }
    a->counted = 1;
    st = ard_cluster_agree(a->cl, st, err, a->failed ? NULL : a->failures);
    a->failed |= st != ARD_OK;
    return st;
}

ard_status ard_cluster_datasheet(ard_cluster *cluster, const char *dataset, const char *dsn,
                                 const ard_datasheet_options *opts, char **failures,
                                 ard_error *err) {
    if (failures) {
        *failures = NULL;
    }
    if (!cluster || !dataset) {
        return ard_error_set(err, ARD_EINVAL, "ard_cluster_datasheet: NULL argument");
    }
    ds_agree a = {cluster, failures, 0, NULL, 0};
    ard_datasheet_share share = {cluster->rank, cluster->size, agree, &a};
    ard_cluster_progress_new(cluster, "datasheet", cluster->rank == 0 ? cluster->size + 1 : 0, 1,
                             &a.meter, NULL);
    ard_index *idx = NULL;
    ard_status st = ard_index_open(dataset, dsn, ARD_INDEX_READ_ONLY, &idx, err);
    if (st == ARD_OK) {
        st = ard_datasheet_write_share(dataset, idx, opts, &share, err);
    } else {
        st = agree(&a, st, err); /* the others wait in the share's agreement */
    }
    ard_index_close(idx);
    if (st == ARD_OK && cluster->rank == 0) {
        ard_cluster_progress_add(a.meter, 1); /* DATA_README.md */
    }
    ard_cluster_progress_finish(a.meter);
    /* the Markdown is rank 0's alone: agree on it unless a failure was agreed already */
    return a.failed ? st : ard_cluster_agree(cluster, st, err, failures);
}

#else

ard_status ard_cluster_datasheet(ard_cluster *cluster, const char *dataset, const char *dsn,
                                 const ard_datasheet_options *opts, char **failures,
                                 ard_error *err) {
    (void)cluster;
    (void)dataset;
    (void)dsn;
    (void)opts;
    return ard__cl_no_mpi("cluster", failures, err);
}

#endif
