/* The MPI world: detecting a launcher, starting and stopping MPI, handles on a private duplicate of
 * MPI_COMM_WORLD, and the collectives behind reports (an agreed status with every rank's error
 * gathered on rank 0, text gathered on rank 0). Without MPI every call returns ARD_ENOTSUP. */
#include "cluster_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

int32_t ard_cluster_available(void) {
    return ARD_HAVE_MPI;
}

int32_t ard_cluster_launched(void) {
    const char *names[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = getenv(names[i]);
        if (v && *v) {
            return 1;
        }
    }
    return 0;
}

double ard__cl_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void ard__cl_nap(long us) {
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

int32_t ard_cluster_rank(const ard_cluster *cluster);
int32_t ard_cluster_size(const ard_cluster *cluster);

#if ARD_HAVE_MPI

static int g_started_mpi; /* MPI_Init was ours: process-wide, like MPI's own state */

ard_status ard_cluster_init(int *argc, char ***argv, ard_error *err) {
    int initialized = 0, finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    if (finalized) {
        return ard_error_set(err, ARD_EINVAL, "cluster: MPI was already finalized");
    }
    if (!initialized) {
        int provided = 0;
        if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
            return ard_error_set(err, ARD_EIO, "cluster: MPI_Init_thread failed");
        }
        g_started_mpi = 1;
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    return ARD_OK;
}

void ard_cluster_finalize(void) {
    int initialized = 0, finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    if (g_started_mpi && initialized && !finalized) {
        MPI_Finalize();
    }
}

ard_status ard_cluster_open(ard_cluster **out, ard_error *err) {
    *out = NULL;
    int initialized = 0, finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    if (!initialized || finalized) {
        return ard_error_set(err, ARD_EINVAL, "cluster: MPI is not initialized (ard_cluster_init)");
    }
    ard_cluster *c = ard_calloc(1, sizeof *c);
    if (!c) {
        return ard_error_set(err, ARD_ENOMEM, "cluster: handle");
    }
    if (MPI_Comm_dup(MPI_COMM_WORLD, &c->comm) != MPI_SUCCESS) {
        ard_free(c);
        return ard_error_set(err, ARD_EIO, "cluster: MPI_Comm_dup failed");
    }
    MPI_Comm_set_errhandler(c->comm, MPI_ERRORS_RETURN);
    int rank = 0, size = 1;
    MPI_Comm_rank(c->comm, &rank);
    MPI_Comm_size(c->comm, &size);
    c->rank = rank;
    c->size = size;
    *out = c;
    return ARD_OK;
}

void ard_cluster_close(ard_cluster *cluster) {
    if (!cluster) {
        return;
    }
    if (cluster->broken) {
        MPI_Abort(MPI_COMM_WORLD, 1); /* a dead peer: nothing collective can finish */
    }
    MPI_Comm_free(&cluster->comm);
    ard_free(cluster);
}

int32_t ard_cluster_rank(const ard_cluster *cluster) {
    return cluster ? cluster->rank : 0;
}

int32_t ard_cluster_size(const ard_cluster *cluster) {
    return cluster ? cluster->size : 1;
}

int32_t ard_cluster_broken(const ard_cluster *cluster) {
    return cluster ? cluster->broken : 0;
}

/* Gathers `len` bytes of every rank on rank 0: *all (rank 0 only) holds them in rank order,
 * NUL-terminated. Rank 0 broadcasts whether it could allocate, so every rank returns the same way. */
static ard_status gather_bytes(ard_cluster *c, const char *data, int len, char **all,
                               ard_error *err) {
    *all = NULL;
    int root = c->rank == 0;
    int *counts = root ? ard_calloc((size_t)c->size, sizeof *counts) : NULL;
    int *displs = root ? ard_calloc((size_t)c->size, sizeof *displs) : NULL;
    int ok = !root || (counts && displs);
    int scratch = 0;
    int mpi_ok = MPI_Gather(&len, 1, MPI_INT, counts ? counts : &scratch, counts ? 1 : 0, MPI_INT,
                            0, c->comm) == MPI_SUCCESS;
    int64_t total = 0;
    for (int32_t r = 0; root && ok && r < c->size; r++) {
        displs[r] = (int)total;
        total += counts[r];
    }
    if (root && ok) {
        *all = total < INT32_MAX ? ard_malloc((size_t)total + 1) : NULL;
        ok = *all != NULL;
    }
    mpi_ok = mpi_ok && MPI_Bcast(&ok, 1, MPI_INT, 0, c->comm) == MPI_SUCCESS;
    if (ok && mpi_ok) {
        mpi_ok = MPI_Gatherv(data, len, MPI_CHAR, *all, counts, displs, MPI_CHAR, 0, c->comm) ==
                 MPI_SUCCESS;
        if (root && mpi_ok) {
            (*all)[total] = '\0';
        }
    }
    ard_free(counts);
    ard_free(displs);
    if (!ok || !mpi_ok) {
        ard_free(*all);
        *all = NULL;
        return ard_error_set(err, ok ? ARD_EIO : ARD_ENOMEM, "cluster: gathering text on rank 0");
    }
    return ARD_OK;
}

ard_status ard_cluster_gather_text(ard_cluster *cluster, const char *line, char **all,
                                   ard_error *err) {
    *all = NULL;
    if (!cluster) {
        return ard_error_set(err, ARD_EINVAL, "cluster: NULL handle");
    }
    const char *text = line ? line : "";
    return gather_bytes(cluster, text, (int)strlen(text), all, err);
}

/* Appends "rank R: msg\n" for every failing rank to a report (rank 0). */
static char *failure_report(const int *codes, const char *msgs, int32_t size) {
    size_t cap = 1;
    for (int32_t r = 0; r < size; r++) {
        cap += codes[r] != ARD_OK ? 32 + sizeof(((ard_error *)0)->msg) : 0;
    }
    char *out = ard_malloc(cap);
    if (!out) {
        return NULL;
    }
    size_t at = 0;
    out[0] = '\0';
    for (int32_t r = 0; r < size; r++) {
        if (codes[r] == ARD_OK) {
            continue;
        }
        const char *m = msgs + (size_t)r * sizeof(((ard_error *)0)->msg);
        int n = snprintf(out + at, cap - at, "rank %d: %s\n", r,
                         m[0] ? m : ard_status_str((ard_status)codes[r]));
        at += n > 0 ? (size_t)n : 0;
        at = at < cap ? at : cap - 1;
    }
    return out;
}

ard_status ard_cluster_agree(ard_cluster *cluster, ard_status st, ard_error *err, char **report) {
    if (report) {
        *report = NULL;
    }
    if (!cluster) {
        return ard_error_set(err, ARD_EINVAL, "cluster: NULL handle");
    }
    enum { MSG = sizeof(((ard_error *)0)->msg) };
    int32_t size = cluster->size;
    int *codes = ard_calloc((size_t)size, sizeof *codes);
    char *msgs = ard_calloc((size_t)size, MSG);
    char mine[MSG];
    memset(mine, 0, sizeof mine);
    if (st != ARD_OK && err) {
        snprintf(mine, sizeof mine, "%s", err->msg[0] ? err->msg : ard_status_str(st));
    }
    int code = (int)st;
    int ok = codes && msgs;
    /* collectives run even without memory (on a scratch buffer) so no rank is left waiting */
    int scratch_codes[1];
    if (MPI_Allgather(&code, 1, MPI_INT, ok ? codes : scratch_codes, ok ? 1 : 0, MPI_INT,
                      cluster->comm) != MPI_SUCCESS) {
        ok = 0;
    }
    int32_t first = -1;
    for (int32_t r = 0; ok && r < size && first < 0; r++) {
        first = codes[r] != ARD_OK ? r : -1;
    }
    if (MPI_Allgather(mine, MSG, MPI_CHAR, msgs ? msgs : mine, msgs ? MSG : 0, MPI_CHAR,
                      cluster->comm) != MPI_SUCCESS) {
        ok = 0;
    }
    ard_status result = ARD_OK;
    if (!ok) {
        result = ard_error_set(err, ARD_EIO, "cluster: agreeing on the status failed");
    } else if (first >= 0) {
        ard_error e;
        ard_error_init(&e);
        const char *m = msgs + (size_t)first * MSG;
        ard_error_set(&e, (ard_status)codes[first], "rank %d: %s", first,
                      m[0] ? m : ard_status_str((ard_status)codes[first]));
        if (err) {
            *err = e;
        }
        result = (ard_status)codes[first];
        if (report && cluster->rank == 0) {
            *report = failure_report(codes, msgs, size);
        }
    }
    ard_free(codes);
    ard_free(msgs);
    return result;
}

#else /* no MPI */

ard_status ard__cl_no_mpi(const char *what, char **failures, ard_error *err) {
    if (failures) {
        *failures = NULL;
    }
    return ard_error_set(err, ARD_ENOTSUP,
                         "%s: this ard was built without MPI (configure with "
                         "-DARD_WITH_MPI=ON and an MPI implementation installed)",
                         what);
}

static ard_status no_mpi(ard_error *err) {
    return ard__cl_no_mpi("cluster", NULL, err);
}

ard_status ard_cluster_init(int *argc, char ***argv, ard_error *err) {
    (void)argc;
    (void)argv;
    return no_mpi(err);
}

void ard_cluster_finalize(void) {}

ard_status ard_cluster_open(ard_cluster **out, ard_error *err) {
    *out = NULL;
    return no_mpi(err);
}

void ard_cluster_close(ard_cluster *cluster) {
    (void)cluster;
}

int32_t ard_cluster_rank(const ard_cluster *cluster) {
    (void)cluster;
    return 0;
}

int32_t ard_cluster_size(const ard_cluster *cluster) {
    (void)cluster;
    return 1;
}

int32_t ard_cluster_broken(const ard_cluster *cluster) {
    (void)cluster;
    return 0;
}

ard_status ard_cluster_gather_text(ard_cluster *cluster, const char *line, char **all,
                                   ard_error *err) {
    (void)cluster;
    (void)line;
    *all = NULL;
    return no_mpi(err);
}

ard_status ard_cluster_agree(ard_cluster *cluster, ard_status st, ard_error *err, char **report) {
    (void)cluster;
    (void)st;
    if (report) {
        *report = NULL;
    }
    return no_mpi(err);
}

#endif
