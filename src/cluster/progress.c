/* A progress counter summed over the ranks. Ranks other than 0 send their running count to rank 0
 * at most every 100 ms (small eager messages, never waiting for rank 0); rank 0 folds them in
 * whenever it adds its own, and the final counts are collected when every rank finishes. */
#include "cluster_int.h"

#if ARD_HAVE_MPI

struct ard_cluster_progress {
    ard_cluster *cl;
    int64_t done, total; /* this rank's; on rank 0 the sums */
    int64_t own;         /* rank 0: its own count */
    int64_t *seen;       /* rank 0: latest count of each rank */
    int32_t finals;      /* rank 0: ranks whose final count arrived */
    double last_send;
    ard_progress *bar;
};

ard_status ard_cluster_progress_new(ard_cluster *cluster, const char *label, int64_t total,
                                    int32_t show_bar, ard_cluster_progress **out, ard_error *err) {
    *out = NULL;
    if (!cluster) {
        return ard_error_set(err, ARD_EINVAL, "cluster: NULL handle");
    }
    ard_cluster_progress *p = ard_calloc(1, sizeof *p);
    int ok = p != NULL;
    if (p && cluster->rank == 0) {
        p->seen = ard_calloc((size_t)cluster->size, sizeof *p->seen);
        ok = p->seen != NULL;
    }
    long long mine = total, sum = 0;
    int mpi_ok =
        MPI_Allreduce(&mine, &sum, 1, MPI_LONG_LONG, MPI_SUM, cluster->comm) == MPI_SUCCESS;
    int all_ok = 0;
    mpi_ok =
        mpi_ok && MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, cluster->comm) == MPI_SUCCESS;
    if (!mpi_ok || !all_ok) {
        if (p) {
            ard_free(p->seen);
        }
        ard_free(p);
        return ard_error_set(err, mpi_ok ? ARD_ENOMEM : ARD_EIO, "cluster: progress counter");
    }
    p->cl = cluster;
    p->total = cluster->rank == 0 ? (int64_t)sum : total;
    if (cluster->rank == 0 && show_bar) {
        p->bar = ard_progress_new(label ? label : "", p->total);
    }
    *out = p;
    return ARD_OK;
}

/* Rank 0: receives one progress message from `source` (or any) and folds it in. */
static int fold(ard_cluster_progress *p, int source) {
    long long msg[2] = {0, 0};
    MPI_Status status;
    if (MPI_Recv(msg, 2, MPI_LONG_LONG, source, CL_TAG_PROGRESS, p->cl->comm, &status) !=
        MPI_SUCCESS) {
        return -1;
    }
    int64_t delta = (int64_t)msg[0] - p->seen[status.MPI_SOURCE];
    p->seen[status.MPI_SOURCE] = (int64_t)msg[0];
    p->done += delta;
    p->finals += msg[1] != 0;
    ard_progress_add(p->bar, delta);
    return 0;
}

static void collect(ard_cluster_progress *p) {
    for (;;) {
        int flag = 0;
        MPI_Status probe;
        if (MPI_Iprobe(MPI_ANY_SOURCE, CL_TAG_PROGRESS, p->cl->comm, &flag, &probe) !=
                MPI_SUCCESS ||
            !flag) {
            return;
        }
        fold(p, probe.MPI_SOURCE);
    }
}

void ard_cluster_progress_add(ard_cluster_progress *p, int64_t done) {
    if (!p) {
        return;
    }
    if (p->cl->rank == 0) {
        p->own += done;
        p->done += done;
        ard_progress_add(p->bar, done);
        collect(p);
        return;
    }
    p->done += done;
    double now = ard__cl_now();
    if (now - p->last_send >= 0.1) {
        long long msg[2] = {(long long)p->done, 0};
        MPI_Send(msg, 2, MPI_LONG_LONG, 0, CL_TAG_PROGRESS, p->cl->comm);
        p->last_send = now;
    }
}

int64_t ard_cluster_progress_done(const ard_cluster_progress *p) {
    return p ? p->done : 0;
}

int64_t ard_cluster_progress_total(const ard_cluster_progress *p) {
    return p ? p->total : 0;
}

int64_t ard_cluster_progress_finish(ard_cluster_progress *p) {
    if (!p) {
        return 0;
    }
    ard_cluster *c = p->cl;
    if (c->rank != 0) {
        long long msg[2] = {(long long)p->done, 1};
        MPI_Send(msg, 2, MPI_LONG_LONG, 0, CL_TAG_PROGRESS, c->comm);
    } else {
        /* every rank's last message is its final one (messages from one rank arrive in order) */
        while (p->finals < c->size - 1 && fold(p, MPI_ANY_SOURCE) == 0) {
        }
    }
    int64_t done = p->done;
    ard_progress_done(p->bar);
    ard_free(p->seen);
    ard_free(p);
    return done;
}

#else

ard_status ard_cluster_progress_new(ard_cluster *cluster, const char *label, int64_t total,
                                    int32_t show_bar, ard_cluster_progress **out, ard_error *err) {
    (void)cluster;
    (void)label;
    (void)total;
    (void)show_bar;
    *out = NULL;
    return ard_error_set(err, ARD_ENOTSUP, "cluster: this ard was built without MPI");
}

void ard_cluster_progress_add(ard_cluster_progress *p, int64_t done) {
    (void)p;
    (void)done;
}

int64_t ard_cluster_progress_done(const ard_cluster_progress *p) {
    (void)p;
    return 0;
}

int64_t ard_cluster_progress_total(const ard_cluster_progress *p) {
    (void)p;
    return 0;
}

int64_t ard_cluster_progress_finish(ard_cluster_progress *p) {
    (void)p;
    return 0;
}

#endif
