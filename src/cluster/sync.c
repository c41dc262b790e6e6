/* `mpirun -n N ard sync`: rank 0 lists and classifies the files and writes the index (SQLite has
 * one writer); the tiles to read are split among all ranks by bytes, each rank reads the footers
 * and TARGETID columns of its share (ard_index_sync_read_tile) and sends the records to rank 0,
 * which writes them in the one-process order (ard_sync_remote), so the index content equals a
 * one-process sync's. PostgreSQL takes concurrent writers: there every rank syncs its share in
 * its own transactions, then rank 0 completes the run (vanished files, linkage, datasheet). */
#include "cluster_int.h"

#include <stdio.h>
#include <string.h>

#if ARD_HAVE_MPI

#define SYNC_TAG_RECORD 21
/* Bytes of records a reading rank keeps in flight before it waits for rank 0 to take them. */
#define SYNC_INFLIGHT_CAP ((size_t)256 << 20)

enum { SYNC_MODE_NONE = 0, SYNC_MODE_REMOTE = 1, SYNC_MODE_SHARED = 2 };

/* Rank 0's side of the hook. */
typedef struct sync_writer {
    ard_cluster *cl;
    int64_t count;
    int32_t *owner; /* rank reading plan entry i */
    char *received; /* 1 once entry i arrived */
    const char *const *paths;
    int32_t planned;
} sync_writer;

/* Rank r's byte share of the plan, for every r: owner[i]. */
static ard_status assign_owners(const int64_t *sizes, int64_t n, int32_t ranks, int32_t *owner,
                                ard_error *err) {
    for (int32_t r = 0; r < ranks; r++) {
        int64_t first = 0, count = 0;
        ard_status st = ard_cluster_partition(sizes, n, r, ranks, &first, &count, err);
        if (st != ARD_OK) {
            return st;
        }
        for (int64_t i = first; i < first + count; i++) {
            owner[i] = r;
        }
    }
    return ARD_OK;
}

static ard_status mpi_fail(ard_error *err, const char *what) {
    return ard_error_set(err, ARD_EIO, "sync: %s failed (MPI)", what);
}

/* Broadcasts {mode, count, text bytes}, then the sizes and the NUL-separated paths (rank 0). */
static ard_status bcast_plan(ard_cluster *cl, int64_t mode, int64_t n, const char *const *paths,
                             const int64_t *sizes, ard_error *err) {
    int64_t text = 0;
    for (int64_t i = 0; i < n; i++) {
        text += (int64_t)strlen(paths[i]) + 1;
    }
    int64_t head[3] = {mode, n, text};
    if (MPI_Bcast(head, 3, MPI_INT64_T, 0, cl->comm) != MPI_SUCCESS) {
        return mpi_fail(err, "broadcasting the plan");
    }
    if (n == 0) {
        return ARD_OK;
    }
    char *buf = ard_malloc((size_t)text);
    int ok = buf != NULL; /* the receivers wait for the broadcast whatever happens here */
    for (int64_t i = 0, at = 0; ok && i < n; i++) {
        size_t len = strlen(paths[i]) + 1;
        memcpy(buf + at, paths[i], len);
        at += (int64_t)len;
    }
    static char empty[1];
    int mpi_ok =
        MPI_Bcast((void *)(uintptr_t)sizes, (int)n, MPI_INT64_T, 0, cl->comm) == MPI_SUCCESS &&
        MPI_Bcast(ok ? buf : empty, ok ? (int)text : 0, MPI_CHAR, 0, cl->comm) == MPI_SUCCESS;
    ard_free(buf);
    if (!ok) {
        return ard_error_set(err, ARD_ENOMEM, "sync: out of memory broadcasting the plan");
    }
    return mpi_ok ? ARD_OK : mpi_fail(err, "broadcasting the plan");
}

static ard_status writer_plan(void *ctx, int64_t count, const char *const *paths,
                              const int64_t *sizes, int32_t *local, ard_error *err) {
    sync_writer *w = ctx;
    w->planned = 1;
    w->count = count;
    w->paths = paths; /* borrowed from the sync for its duration */
    w->owner = ard_calloc((size_t)(count ? count : 1), sizeof *w->owner);
    w->received = ard_calloc((size_t)(count ? count : 1), 1);
    ard_status st = w->owner && w->received
                        ? assign_owners(sizes, count, w->cl->size, w->owner, err)
                        : ard_error_set(err, ARD_ENOMEM, "sync: out of memory planning reads");
    /* the readers cannot tell a failed plan from none: on failure they get an empty one */
    ard_status sent = bcast_plan(w->cl, SYNC_MODE_REMOTE, st == ARD_OK ? count : 0, paths, sizes,
                                 st == ARD_OK ? err : NULL);
    st = st == ARD_OK ? sent : st;
    for (int64_t i = 0; st == ARD_OK && i < count; i++) {
        local[i] = w->owner[i] == 0;
    }
    if (st != ARD_OK) {
        w->count = 0;
    }
    return st;
}

static ard_status recv_record(ard_cluster *cl, int32_t src, uint8_t **record, size_t *len,
                              ard_error *err) {
    MPI_Status status;
    int bytes = 0;
    if (MPI_Probe(src, SYNC_TAG_RECORD, cl->comm, &status) != MPI_SUCCESS ||
        MPI_Get_count(&status, MPI_BYTE, &bytes) != MPI_SUCCESS) {
        return mpi_fail(err, "receiving a tile record");
    }
    uint8_t *buf = ard_malloc((size_t)(bytes ? bytes : 1));
    /* receive even without memory (into a scratch byte is impossible): fail after dropping it */
    if (!buf) {
        return ard_error_set(err, ARD_ENOMEM, "sync: out of memory for a %d-byte record", bytes);
    }
    if (MPI_Recv(buf, bytes, MPI_BYTE, src, SYNC_TAG_RECORD, cl->comm, MPI_STATUS_IGNORE) !=
        MPI_SUCCESS) {
        ard_free(buf);
        return mpi_fail(err, "receiving a tile record");
    }
    *record = buf;
    *len = (size_t)bytes;
    return ARD_OK;
}

static ard_status writer_receive(void *ctx, int64_t i, uint8_t **record, size_t *len,
                                 ard_error *err) {
    sync_writer *w = ctx;
    *record = NULL;
    *len = 0;
    if (i < 0 || i >= w->count || w->owner[i] == 0 || w->received[i]) {
        return ard_error_set(err, ARD_EINVAL, "sync: tile %lld is not awaited", (long long)i);
    }
    ard_status st = recv_record(w->cl, w->owner[i], record, len, err);
    w->received[i] = st != ARD_ENOMEM; /* a message left queued is drained later */
    if (st == ARD_OK && *len == 0) {
        st = ard_error_set(err, ARD_EIO, "sync: rank %d could not read %s (its error follows)",
                           w->owner[i], w->paths[i]);
    }
    return st;
}

/* After the sync: the readers end when every record they send was taken, so take the rest. */
static void writer_drain(sync_writer *w) {
    if (!w->planned) {
        bcast_plan(w->cl, SYNC_MODE_NONE, 0, NULL, NULL, NULL);
        return;
    }
    for (int64_t i = 0; i < w->count; i++) {
        uint8_t *rec = NULL;
        size_t len = 0;
        if (w->owner[i] != 0 && !w->received[i] &&
            recv_record(w->cl, w->owner[i], &rec, &len, NULL) == ARD_OK) {
            ard_free(rec);
        }
    }
}

/* ---- a reading rank ---- */

typedef struct sync_reader {
    const char *dataset;
    const char *const *paths; /* this rank's share */
    uint8_t **records;
    size_t *lens;
    ard_status *status;
    ard_error *errors;
} sync_reader;

static void read_task(void *arg, int64_t i, int thread_id) {
    (void)thread_id;
    sync_reader *r = arg;
    ard_error_init(&r->errors[i]);
    r->status[i] = ard_index_sync_read_tile(r->dataset, r->paths[i], &r->records[i], &r->lens[i],
                                            &r->errors[i]);
}

/* Sends this rank's records in plan order; reads a batch ahead with the pool and keeps at most
 * SYNC_INFLIGHT_CAP bytes waiting for rank 0 (whose writes go in plan order). */
static ard_status send_share(ard_cluster *cl, ard_pool *pool, sync_reader *r, int64_t n,
                             ard_error *err) {
    MPI_Request *req = ard_calloc((size_t)(n ? n : 1), sizeof *req);
    ard_status st = req ? ARD_OK : ard_error_set(err, ARD_ENOMEM, "sync: out of memory");
    int64_t batch = 2 * (int64_t)ard_pool_threads(pool), oldest = 0;
    size_t inflight = 0;
    static uint8_t none[1];
    for (int64_t at = 0; req && at < n; at += batch) {
        int64_t k = n - at < batch ? n - at : batch;
        if (st == ARD_OK) {
            ard_pool_for(pool, k, read_task,
                         &(sync_reader){r->dataset, r->paths + at, r->records + at, r->lens + at,
                                        r->status + at, r->errors + at});
        }
        for (int64_t i = at; i < at + k; i++) {
            if (st == ARD_OK && r->status[i] != ARD_OK) {
                st = r->status[i];
                *err = r->errors[i];
            }
            int ok = st == ARD_OK; /* after a failure rank 0 still awaits a (empty) message */
            r->lens[i] = ok ? r->lens[i] : 0;
            MPI_Isend(ok ? r->records[i] : none, ok ? (int)r->lens[i] : 0, MPI_BYTE, 0,
                      SYNC_TAG_RECORD, cl->comm, &req[i]);
            inflight += ok ? r->lens[i] : 0;
        }
        for (; oldest < at + k && inflight > SYNC_INFLIGHT_CAP; oldest++) {
            MPI_Wait(&req[oldest], MPI_STATUS_IGNORE);
            inflight -= r->lens[oldest];
            ard_free(r->records[oldest]);
            r->records[oldest] = NULL;
        }
        int flag = 0;
        MPI_Testall((int)(at + k - oldest), req + oldest, &flag, MPI_STATUSES_IGNORE);
    }
    if (req && MPI_Waitall((int)(n - oldest), req + oldest, MPI_STATUSES_IGNORE) != MPI_SUCCESS &&
        st == ARD_OK) {
        st = mpi_fail(err, "sending tile records");
    }
    ard_free(req);
    return st;
}

static ard_status reader(ard_cluster *cl, const char *dataset, int32_t threads, ard_error *err) {
    int64_t head[3] = {0, 0, 0};
    if (MPI_Bcast(head, 3, MPI_INT64_T, 0, cl->comm) != MPI_SUCCESS) {
        return mpi_fail(err, "receiving the plan");
    }
    int64_t n = head[1], text = head[2];
    if (head[0] != SYNC_MODE_REMOTE || n == 0) {
        return ARD_OK;
    }
    int64_t *sizes = ard_malloc((size_t)n * sizeof *sizes);
    char *buf = ard_malloc((size_t)text);
    static char scratch[1];
    int mpi_ok =
        MPI_Bcast(sizes ? (void *)sizes : scratch, sizes ? (int)n : 0, MPI_INT64_T, 0, cl->comm) ==
            MPI_SUCCESS &&
        MPI_Bcast(buf ? buf : scratch, buf ? (int)text : 0, MPI_CHAR, 0, cl->comm) == MPI_SUCCESS;
    int64_t first = 0, count = 0;
    ard_status st = !sizes || !buf ? ard_error_set(err, ARD_ENOMEM, "sync: out of memory")
                    : !mpi_ok
                        ? mpi_fail(err, "receiving the plan")
                        : ard_cluster_partition(sizes, n, cl->rank, cl->size, &first, &count, err);
    const char **paths = ard_calloc((size_t)(n ? n : 1), sizeof *paths);
    uint8_t **records = ard_calloc((size_t)(count ? count : 1), sizeof *records);
    size_t *lens = ard_calloc((size_t)(count ? count : 1), sizeof *lens);
    ard_status *status = ard_calloc((size_t)(count ? count : 1), sizeof *status);
    ard_error *errors = ard_calloc((size_t)(count ? count : 1), sizeof *errors);
    if (st == ARD_OK && !(paths && records && lens && status && errors)) {
        st = ard_error_set(err, ARD_ENOMEM, "sync: out of memory");
    }
    for (int64_t i = 0, at = 0; st == ARD_OK && i < n; i++) {
        paths[i] = buf + at;
        at += (int64_t)strlen(buf + at) + 1;
    }
    ard_pool *pool = NULL;
    ard_status pst = ard_pool_new(threads, &pool, st == ARD_OK ? err : NULL);
    st = st == ARD_OK ? pst : st;
    if (st == ARD_OK) {
        sync_reader r = {dataset, paths + first, records, lens, status, errors};
        st = send_share(cl, pool, &r, count, err);
    } else {
        /* rank 0 awaits one message per tile of this rank's share whatever happened: the share
         * is computable only from the sizes; without them rank 0's plan cannot have been sent */
        static uint8_t none[1];
        for (int64_t i = 0; sizes && mpi_ok && i < count; i++) {
            MPI_Send(none, 0, MPI_BYTE, 0, SYNC_TAG_RECORD, cl->comm);
        }
    }
    for (int64_t i = 0; records && i < count; i++) {
        ard_free(records[i]);
    }
    ard_pool_free(pool);
    ard_free(paths);
    ard_free(records);
    ard_free(lens);
    ard_free(status);
    ard_free(errors);
    ard_free(sizes);
    ard_free(buf);
    return st;
}

/* ---- PostgreSQL: every rank writes ---- */

/* Every rank syncs its share (opts->sync.rank/size: ard_index_sync's partitioned mode, each file
 * in its own transactions), then rank 0 runs an unpartitioned sync, which finds those files
 * indexed, retries the ones that failed (so they are recorded in sync_errors by that run too),
 * removes vanished ones, refreshes the linkage and writes the datasheet. Rank 0's report counts
 * the shards' additions and changes as such, not as unchanged. */
/* Rank 0: the files the shards will look at (tiles, and catalog files unless skipped), the
 * progress total. */
static int64_t files_to_see(const char *dataset, const ard_datasheet_sync_options *opts) {
    int64_t n = 0;
    for (int32_t part = 0; part < 2; part++) {
        ard_dataset_files list;
        memset(&list, 0, sizeof list);
        int32_t which = part == 0 ? ARD_DATASET_TILES : ARD_DATASET_CATALOG;
        if ((part == 0 || !opts->sync.skip_catalog) &&
            ard_dataset_list(dataset, which, &list, NULL) == ARD_OK) {
            n += list.count;
        }
        ard_dataset_files_reset(&list);
    }
    return n;
}

static ard_status shared_sync(ard_cluster *cl, ard_index *idx, const char *dataset, const char *dsn,
                              const ard_datasheet_sync_options *opts,
                              ard_datasheet_sync_report *report, char **failures, ard_error *err) {
    double t0 = ard__cl_now();
    /* progress: the files of every rank's share, summed on rank 0 (a rank's count arrives when
     * its share is committed: the index's sync reports no progress per file to its caller) */
    ard_cluster_progress *meter = NULL;
    ard_cluster_progress_new(cl, "sync", cl->rank == 0 ? files_to_see(dataset, opts) : 0,
                             !opts->sync.quiet, &meter, NULL);
    ard_datasheet_sync_options part = *opts;
    part.sync.rank = cl->rank;
    part.sync.size = cl->size;
    part.sync.quiet = 1;
    part.sync.remote = NULL;
    ard_index *mine = idx;
    ard_status st = cl->rank == 0 ? ARD_OK : ard_index_open(dataset, dsn, 0, &mine, err);
    ard_datasheet_sync_report shard;
    memset(&shard, 0, sizeof shard);
    st = st == ARD_OK ? ard_datasheet_sync(mine, dataset, &part, &shard, err) : st;
    if (mine != idx) {
        ard_index_close(mine);
    }
    ard_cluster_progress_add(meter, shard.sync.files_seen);
    ard_cluster_progress_finish(meter);
    int64_t mine_counts[5] = {shard.sync.files_added, shard.sync.files_changed,
                              shard.sync.spectra_rows, shard.sync.galaxy_rows,
                              shard.sync.data_reads};
    int64_t sums[5] = {0, 0, 0, 0, 0};
    if (MPI_Reduce(mine_counts, sums, 5, MPI_INT64_T, MPI_SUM, 0, cl->comm) != MPI_SUCCESS) {
        st = st == ARD_OK ? mpi_fail(err, "summing the reports") : st;
    }
    st = ard_cluster_agree(cl, st, err, failures);
    if (st == ARD_OK && cl->rank == 0) {
        ard_datasheet_sync_options last = *opts;
        last.sync.remote = NULL;
        st = ard_datasheet_sync(idx, dataset, &last, report, err);
        ard_sync_report *r = &report->sync;
        r->files_unchanged -= sums[0] + sums[1];
        r->files_added += sums[0];
        r->files_changed += sums[1];
        r->spectra_rows += sums[2];
        r->galaxy_rows += sums[3];
        r->data_reads += sums[4];
        r->seconds = ard__cl_now() - t0;
    }
    return st;
}

ard_status ard_cluster_sync(ard_cluster *cluster, ard_index *idx, const char *dataset,
                            const char *dsn, const ard_datasheet_sync_options *opts,
                            ard_datasheet_sync_report *report, char **failures, ard_error *err) {
    ard_datasheet_sync_report local;
    ard_datasheet_sync_report *rep = report ? report : &local;
    memset(rep, 0, sizeof *rep);
    if (failures) {
        *failures = NULL;
    }
    if (!cluster || !dataset) {
        return ard_error_set(err, ARD_EINVAL, "ard_cluster_sync: NULL cluster or dataset");
    }
    ard_datasheet_sync_options defaults;
    ard_datasheet_sync_options_init(&defaults);
    const ard_datasheet_sync_options *o = opts ? opts : &defaults;
    int32_t rank = cluster->rank;
    /* rank 0 says which way: its index decides (a bad dsn fails every rank alike) */
    int32_t mode = SYNC_MODE_REMOTE;
    ard_status st = ARD_OK;
    if (rank == 0) {
        if (!idx) {
            st = ard_error_set(err, ARD_EINVAL, "ard_cluster_sync: rank 0 needs the index");
        } else if (o->sync.size > 1 || o->sync.remote) {
            st = ard_error_set(err, ARD_EINVAL, "ard_cluster_sync: the options are partitioned");
        } else if (ard_index_concurrent_writers(idx)) {
            mode = SYNC_MODE_SHARED;
        }
        mode = st == ARD_OK ? mode : SYNC_MODE_NONE;
    }
    if (MPI_Bcast(&mode, 1, MPI_INT32_T, 0, cluster->comm) != MPI_SUCCESS) {
        return mpi_fail(err, "agreeing on the mode");
    }
    if (mode == SYNC_MODE_NONE) {
        return ard_cluster_agree(cluster, st, err, failures);
    }
    if (mode == SYNC_MODE_SHARED) {
        return shared_sync(cluster, idx, dataset, dsn, o, rep, failures, err);
    }
    if (rank != 0) {
        st = reader(cluster, dataset, o->sync.threads, err);
        return ard_cluster_agree(cluster, st, err, failures);
    }
    sync_writer w;
    memset(&w, 0, sizeof w);
    w.cl = cluster;
    ard_sync_remote remote = {writer_plan, writer_receive, &w, cluster->size};
    ard_datasheet_sync_options mine = *o;
    mine.sync.remote = &remote;
    st = ard_datasheet_sync(idx, dataset, &mine, rep, err);
    writer_drain(&w);
    ard_free(w.owner);
    ard_free(w.received);
    return ard_cluster_agree(cluster, st, err, failures);
}

#else

ard_status ard_cluster_sync(ard_cluster *cluster, ard_index *idx, const char *dataset,
                            const char *dsn, const ard_datasheet_sync_options *opts,
                            ard_datasheet_sync_report *report, char **failures, ard_error *err) {
    (void)cluster;
    (void)idx;
    (void)dataset;
    (void)dsn;
    (void)opts;
    if (report) {
        memset(report, 0, sizeof *report);
    }
    return ard__cl_no_mpi("cluster", failures, err);
}

#endif
