/* A progress counter summed over the ranks. Ranks other than 0 send their running count and their
 * share of the total to rank 0 at most every 100 ms (small eager messages, never waiting for rank
 * 0); rank 0 folds them in whenever it adds its own, and the final counts are collected when every
 * rank finishes. */
#include "cluster_int.h"

#if ARD_HAVE_MPI

struct ard_cluster_progress {
    ard_cluster *cl;
    int64_t done, total; /* this rank's; on rank 0 the sums */
    int64_t own;         /* rank 0: its own count */
    int64_t *seen;       /* rank 0: latest count of each rank */
    int64_t *totals;     /* rank 0: latest share of the total of each rank */
    char *heard;         /* rank 0: 1 once rank r sent anything */
    int32_t num_heard;   /* rank 0: ranks heard from (rank 0 counts as heard) */
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
    size_t ranks = (size_t)cluster->size;
    if (p && cluster->rank == 0) {
        p->seen = ard_calloc(ranks, sizeof *p->seen);
        p->totals = ard_calloc(ranks, sizeof *p->totals);
        p->heard = ard_calloc(ranks, 1);
        ok = p->seen && p->totals && p->heard;
    }
    long long mine = total;
    long long *all = cluster->rank == 0 && ok ? ard_calloc(ranks, sizeof *all) : NULL;
    static long long scratch[1];
    int mpi_ok = MPI_Gather(&mine, 1, MPI_LONG_LONG, all ? all : scratch, 1, MPI_LONG_LONG, 0,
                            cluster->comm) == MPI_SUCCESS;
    ok = ok && (cluster->rank != 0 || all);
    int all_ok = 0;
    mpi_ok =
        mpi_ok && MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, cluster->comm) == MPI_SUCCESS;
    if (!mpi_ok || !all_ok) {
        if (p) {
            ard_free(p->seen);
            ard_free(p->totals);
            ard_free(p->heard);
        }
        ard_free(p);
        ard_free(all);
        return ard_error_set(err, mpi_ok ? ARD_ENOMEM : ARD_EIO, "cluster: progress counter");
    }
    p->cl = cluster;
    p->total = total;
    if (cluster->rank == 0) {
        p->total = 0;
        for (size_t r = 0; r < ranks; r++) {
            p->totals[r] = (int64_t)all[r];
            p->total += (int64_t)all[r];
        }
        p->heard[0] = 1;
        p->num_heard = 1;
    }
    ard_free(all);
    if (cluster->rank == 0 && show_bar) {
        p->bar = ard_progress_new(label ? label : "", p->total);
    }
    *out = p;
    return ARD_OK;
}

/* Rank 0: receives one progress message from `source` (or any) and folds it in. */
static int fold(ard_cluster_progress *p, int source) {
    long long msg[3] = {0, 0, 0};
    MPI_Status status;
    if (MPI_Recv(msg, 3, MPI_LONG_LONG, source, CL_TAG_PROGRESS, p->cl->comm, &status) !=
        MPI_SUCCESS) {
        return -1;
    }
    int from = status.MPI_SOURCE;
    int64_t delta = (int64_t)msg[0] - p->seen[from];
    p->seen[from] = (int64_t)msg[0];
    p->done += delta;
    p->total += (int64_t)msg[1] - p->totals[from];
    p->totals[from] = (int64_t)msg[1];
    p->num_heard += !p->heard[from];
    p->heard[from] = 1;
    p->finals += msg[2] != 0;
    if (delta != 0) {
        ard_progress_add(p->bar, delta);
    }
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
        if (done != 0) {
            ard_progress_add(p->bar, done);
        }
        collect(p);
        return;
    }
    p->done += done;
    double now = ard__cl_now();
    if (now - p->last_send >= 0.1) {
        long long msg[3] = {(long long)p->done, (long long)p->total, 0};
        MPI_Send(msg, 3, MPI_LONG_LONG, 0, CL_TAG_PROGRESS, p->cl->comm);
        p->last_send = now;
    }
}

void ard_cluster_progress_set_total(ard_cluster_progress *p, int64_t total) {
    if (!p) {
        return;
    }
    if (p->cl->rank == 0) {
        p->total += total - p->totals[0];
        p->totals[0] = total;
        return;
    }
    p->total = total;
    p->last_send = 0; /* the next add tells rank 0 at once */
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
        long long msg[3] = {(long long)p->done, (long long)p->total, 1};
        MPI_Send(msg, 3, MPI_LONG_LONG, 0, CL_TAG_PROGRESS, c->comm);
    } else {
        /* every rank's last message is its final one (messages from one rank arrive in order) */
        while (p->finals < c->size - 1 && fold(p, MPI_ANY_SOURCE) == 0) {
        }
    }
    int64_t done = p->done;
    ard_progress_done(p->bar);
    ard_free(p->seen);
    ard_free(p->totals);
    ard_free(p->heard);
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
    return ard__cl_no_mpi("cluster", NULL, err);
}

void ard_cluster_progress_add(ard_cluster_progress *p, int64_t done) {
    (void)p;
    (void)done;
}

void ard_cluster_progress_set_total(ard_cluster_progress *p, int64_t total) {
    (void)p;
    (void)total;
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
