/* ard cluster: the MPI front end. MPI is the only way ard spans machines: under `mpirun`, every rank
 * runs the same stage on its share of the work. This header holds
 *   - the world: ard_cluster_init / ard_cluster_finalize (process-wide MPI state) and handles on it
 *     (ard_cluster_open: a private duplicate of MPI_COMM_WORLD), rank and size;
 *   - partitions: contiguous, byte-balanced, deterministic (no MPI needed);
 *   - collectives for reports: agreeing on a status with every rank's error gathered on rank 0,
 *     gathering text lines on rank 0, a progress counter summed on rank 0;
 *   - CPU pinning (sched_setaffinity; no MPI needed);
 *   - the distributed stream: producer ranks read and tokenize their share of the plan and send
 *     finished batches to the consumer rank, which publishes them into its local shared-memory
 *     store (consumers of the store, in C and Python, do not change).
 *
 * Built without MPI (-DARD_WITH_MPI=OFF), every call that needs MPI returns ARD_ENOTSUP with a
 * message saying so; ard_cluster_launched() still reports a launcher so the CLI can say why. The
 * functions marked "no MPI" work in every build.
 *
 * Threads: MPI is initialized with MPI_THREAD_FUNNELED; call the MPI functions of this header from
 * the thread that called ard_cluster_init. "Collective" means every rank of the handle must call
 * it, in the same order. */
#ifndef ARD_CLUSTER_H
#define ARD_CLUSTER_H

#include "ard/core.h"
#include "ard/datasheet.h"
#include "ard/index.h"
#include "ard/science.h"
#include "ard/stream.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ard_cluster ard_cluster;

/* 1 when this library was built with MPI. No MPI. */
ARD_API int32_t ard_cluster_available(void);
/* 1 when the process was started by an MPI launcher with more than zero ranks: OpenMPI's
 * OMPI_COMM_WORLD_SIZE or a PMI launcher's PMI_SIZE is set in the environment. Makes no MPI call:
 * `ard` run without mpirun never touches MPI. No MPI. */
ARD_API int32_t ard_cluster_launched(void);

/* Initializes MPI for this process (MPI_Init_thread, MPI_THREAD_FUNNELED) unless it already is;
 * argc/argv may be NULL. Errors return from MPI calls (MPI_ERRORS_RETURN on the world) instead of
 * aborting. ARD_ENOTSUP without MPI, ARD_EIO when MPI fails to start. */
ARD_API ard_status ard_cluster_init(int *argc, char ***argv, ard_error *err);
/* Finalizes MPI if ard_cluster_init started it and it is still running. Collective. Safe to call
 * more than once and without MPI. */
ARD_API void ard_cluster_finalize(void);

/* A handle on every rank of the job: a private duplicate of MPI_COMM_WORLD, so ard's messages never
 * mix with the application's. Collective. ARD_ENOTSUP without MPI, ARD_EINVAL when MPI is not
 * initialized (call ard_cluster_init first), ARD_ENOMEM, ARD_EIO. */
ARD_API ard_status ard_cluster_open(ard_cluster **out, ard_error *err);
/* Frees the handle (collective). When a peer was lost on this handle (a rank that stopped
 * answering: see ard_cluster_stream_serve), no collective can complete any more, so closing it
 * aborts the whole MPI job (MPI_Abort with exit code 1) instead of hanging. Accepts NULL. */
ARD_API void ard_cluster_close(ard_cluster *cluster);
/* This process's rank (0 for NULL) and the number of ranks (1 for NULL). */
ARD_API int32_t ard_cluster_rank(const ard_cluster *cluster);
ARD_API int32_t ard_cluster_size(const ard_cluster *cluster);
/* 1 when a peer of this handle was declared dead (see ard_cluster_close). */
ARD_API int32_t ard_cluster_broken(const ard_cluster *cluster);

/* ---- partitions (no MPI) ------------------------------------------------------------------------
 * Items 0..n-1 weigh bytes[i] (>= 0). Rank `rank` of `size` gets the contiguous run
 * [*first, *first + *count): item i goes to the rank whose equal share of the total bytes holds the
 * item's byte midpoint, so a rank's bytes differ from total/size by at most one item's size. The
 * result depends only on (bytes, size): every rank computes the same boundaries. When every item
 * weighs 0 the items are split by count. Ranks may get no item. ARD_EINVAL (n < 0, negative bytes,
 * rank outside 0..size-1, bytes NULL with n > 0). Thread-safe. The same function as
 * ard_partition_bytes (core.h), which lower modules (the index's sync) call. */
ARD_API ard_status ard_cluster_partition(const int64_t *bytes, int64_t n, int32_t rank,
                                         int32_t size, int64_t *first, int64_t *count,
                                         ard_error *err);

/* ---- reports ------------------------------------------------------------------------------------ */

/* Collective: every rank passes its own status (and err, whose message is used when st != ARD_OK).
 * Returns, on every rank, the status of the lowest failing rank (ARD_OK when none failed); err then
 * holds "rank R: <message>" of that rank. When report is non-NULL, rank 0 receives in *report a
 * text with one line "rank R: <message>\n" per failing rank, in rank order (NULL when none failed
 * and on the other ranks; free with ard_free). ARD_ENOTSUP without MPI. */
ARD_API ard_status ard_cluster_agree(ard_cluster *cluster, ard_status st, ard_error *err,
                                     char **report);
/* Collective: rank 0 receives in *all the concatenation of every rank's `line` (NULL = empty) in
 * rank order (free with ard_free); the other ranks get NULL. ARD_ENOTSUP, ARD_ENOMEM, ARD_EIO. */
ARD_API ard_status ard_cluster_gather_text(ard_cluster *cluster, const char *line, char **all,
                                           ard_error *err);

/* A progress counter summed over the ranks: every rank adds its own progress, rank 0 sees the sum
 * (the other ranks send theirs at most every 100 ms, never blocking). */
typedef struct ard_cluster_progress ard_cluster_progress;
/* Collective. total: this rank's share; rank 0 learns the sum of the totals. ard_progress bar on
 * rank 0 when show_bar is 1 (drawn only when stderr is a TTY). ARD_ENOTSUP, ARD_ENOMEM. */
ARD_API ard_status ard_cluster_progress_new(ard_cluster *cluster, const char *label, int64_t total,
                                            int32_t show_bar, ard_cluster_progress **out,
                                            ard_error *err);
/* Adds `done` units of this rank's progress; on rank 0 also collects the others'. Not collective. */
ARD_API void ard_cluster_progress_add(ard_cluster_progress *p, int64_t done);
/* Sets this rank's share of the total, for work whose size a rank learns only once it started
 * (rank 0's total becomes the sum of the latest shares it heard of). Not collective. */
ARD_API void ard_cluster_progress_set_total(ard_cluster_progress *p, int64_t total);
/* Rank 0: the sum of every rank's progress seen so far, and of the totals; other ranks: their own. */
ARD_API int64_t ard_cluster_progress_done(const ard_cluster_progress *p);
ARD_API int64_t ard_cluster_progress_total(const ard_cluster_progress *p);
/* Collective: flushes every rank's final count to rank 0 and frees the counter. Returns, on rank 0,
 * the exact sum of every rank's progress; elsewhere this rank's own. Accepts NULL (returns 0); pass
 * NULL on every rank or on none. */
ARD_API int64_t ard_cluster_progress_finish(ard_cluster_progress *p);

/* ---- distributed friends-of-friends linking ---------------------------------------------------
 * Collective: the points are rank 0's (as ard_fof_link_isotropic / ard_fof_link_redshift in
 * science.h; the other ranks' arrays and n are ignored: pass the same arrays, or NULL and 0), and
 * every rank that passes labels (rank 0 must, unless n is 0) receives labels[i] = the smallest
 * index of i's component, identical to the one-process kernel for any number of ranks. A rank
 * that holds no points calls ard_cluster_fof_link_serve instead (`mpirun ard fof`: only rank 0
 * reads the catalog). The work is split spatially: slabs of equal point counts along one axis
 * (isotropic: the axis of largest extent; redshift space: comoving distance or a unit-vector
 * component, whichever needs the thinner ghost zone relative to its extent), each extended by a
 * ghost zone of one linking length (the largest per-galaxy length in redshift space). Rank 0 sorts
 * the points along the axis and sends every other rank its slab and ghosts (point-to-point, in
 * chunks of 65,536 points); each rank links its slab with `threads` threads and sends rank 0 its
 * (point, local root) pairs, which rank 0 merges with one union-find; the labels then go to the
 * ranks that asked. Memory: rank 0, its inputs plus 24 bytes per point (the sort) and 16 bytes
 * per point in a local group (the merge); any other rank, about 56 (isotropic) or 80 (redshift)
 * bytes per point of its slab and ghosts (1/N of the points each, plus ghosts) besides the
 * kernel's own, and 8 bytes per point of the whole set when it asks for the labels. Progress: one counter "fof" on rank 0 of the points linked
 * (each rank adds its slab's own points). Errors (the same on every rank): ARD_EINVAL (n < 0, NULL
 * arrays, non-finite coordinates, negative or non-finite linking lengths, rank 0 without labels),
 * ARD_ENOMEM, ARD_ELIMIT (more than 2^31 merged pairs), ARD_EIO (MPI), the kernel's errors
 * prefixed by the failing rank, ARD_ENOTSUP without MPI. */
ARD_API ard_status ard_cluster_fof_link_isotropic(ard_cluster *cluster, const double *xyz,
                                                  int64_t n, double link, int32_t threads,
                                                  int64_t *labels, ard_error *err);
ARD_API ard_status ard_cluster_fof_link_redshift(ard_cluster *cluster, const double *unit,
                                                 const double *dist, const double *ang,
                                                 const double *los, int64_t n, int32_t threads,
                                                 int64_t *labels, ard_error *err);
/* Collective, on ranks other than 0 while rank 0 calls ard_cluster_fof_link_isotropic or
 * _redshift (the mode comes from rank 0): links this rank's slab with `threads` threads; no labels
 * are returned here. Errors as above; ARD_EINVAL on rank 0. */
ARD_API ard_status ard_cluster_fof_link_serve(ard_cluster *cluster, int32_t threads,
                                              ard_error *err);

/* ---- distributed sync ---------------------------------------------------------------------------
 * Collective: `mpirun -n N ard sync`, the sync stage (ard_datasheet_sync: index, then datasheet)
 * across ranks. Rank 0 passes the index it opened writable (idx; ignored elsewhere, may be NULL);
 * its backend decides how the work is shared:
 *   - SQLite (one writer): rank 0 lists and classifies the files; the tiles to (re)read are split
 *     among all ranks, rank 0 included, in contiguous runs of equal bytes (ard_cluster_partition
 *     over file sizes); every rank reads the footers and TARGETID columns of its run with
 *     opts->sync.threads threads and sends the records to rank 0 (at most 256 MiB in flight per
 *     rank), which writes them window by window in the one-process order. The index content
 *     (every table, file ids included) equals a one-process sync's; sync_runs records size N.
 *     Catalog files are read by rank 0 (loading galaxies reads their data).
 *   - PostgreSQL (concurrent writers): every rank opens its own connection (dataset, dsn) and
 *     syncs its share in its own transactions (ard_index_sync with rank/size: each file whole or
 *     not at all; shares of equal file bytes, ard_partition_bytes over the tiles' and the
 *     catalog files' sizes, each list split alone), then rank 0 runs an unpartitioned sync that
 *     finds those files indexed, removes vanished ones and writes the datasheet. Progress: one
 *     counter of files on rank 0 (unless opts->sync.quiet), to which each rank adds its share's
 *     files when the share is committed.
 * report (rank 0) is the sync stage's report; on other ranks it is zeroed. Returns the agreed
 * status (the lowest failing rank's, "rank R: ..."); when failures is non-NULL rank 0 receives
 * one line "rank R: <message>\n" per failing rank (NULL when none; free with ard_free).
 * Errors: ARD_EINVAL (rank 0 without idx, options already partitioned), the sync's and the
 * datasheet's errors, ARD_EIO (MPI), ARD_ENOTSUP without MPI. */
ARD_API ard_status ard_cluster_sync(ard_cluster *cluster, ard_index *idx, const char *dataset,
                                    const char *dsn, const ard_datasheet_sync_options *opts,
                                    ard_datasheet_sync_report *report, char **failures,
                                    ard_error *err);

/* ---- distributed scoring ------------------------------------------------------------------------
 * Collective: `mpirun -n N ard anomaly score`. Every rank scores its share with opts (rank and
 * size are set from the handle): a contiguous run of the one-process batches (ceil(B / N) of the B
 * batches each, so equal spectra and equal bytes: every spectrum has the grid's width; whole
 * batches, so the scores are bit for bit the one-process scores); the score rows (40 + 4 S bytes
 * per spectrum) are gathered on rank 0 in rank order, which writes the run exactly as one process
 * writes it: the same Parquet files and index tables (anomalies, anomaly_runs), no "-part-RANK". report: rank 0's is the run's; elsewhere the rank's share. Progress callbacks run
 * on rank 0 only (its own share). Returns the agreed status; failures as ard_cluster_sync. Errors:
 * those of ard_anomaly_score, ARD_ELIMIT (more than 2^31 bytes in one gathered array), ARD_EIO
 * (MPI), ARD_ENOTSUP without MPI. */
ARD_API ard_status ard_cluster_anomaly_score(ard_cluster *cluster, const ard_anomaly_options *opts,
                                             ard_anomaly_report *report, char **failures,
                                             ard_error *err);

/* ---- distributed fetch ---------------------------------------------------------------------------
 * Collective: `mpirun -n N ard fetch`. Rank 0 runs the fetch stage with opts (ard_fetch_run: plans
 * with the index, writes out_path atomically); the plan is broadcast and its row groups are split
 * among all ranks, rank 0 included, in contiguous runs of equal compressed bytes
 * (ard_cluster_partition over the plan's chunks). Every rank decodes its run from the tiles under
 * its own opts->query.dataset with opts->threads threads (the same path on every node, or a shared
 * file system) and sends the decoded batches to rank 0 (at most 256 MiB in flight per rank), which
 * writes them in plan order through an ard_fetch_source: the file (Parquet or .npy) is
 * byte-identical to one process's. Only rank 0 reads --targetids files and the index. Progress:
 * one counter "fetch" of decoded spectra summed on rank 0 (a bar or ARD_PROGRESS_LINES lines).
 * report: rank 0's is the stage's; elsewhere only rows (the spectra this rank decoded). Returns the
 * agreed status ("rank R: ..." of the lowest failing rank); failures as ard_cluster_sync (one line
 * per failing rank on rank 0). Errors: those of ard_fetch_run, ARD_ELIMIT (a row group over 2 GiB
 * decoded, a plan over 2 GiB), ARD_EIO (MPI), ARD_EINVAL (opts->source set), ARD_ENOTSUP without
 * MPI. */
ARD_API ard_status ard_cluster_fetch(ard_cluster *cluster, const ard_fetch_options *opts,
                                     ard_fetch_report *report, char **failures, ard_error *err);

/* ---- distributed cosmic-web prediction --------------------------------------------------------
 * Collective: `mpirun -n N ard cosmicweb predict`. Every rank passes the same options; every rank
 * loads the selection and the model (the graph spans every galaxy, so the catalog is read whole
 * on each rank), then finds the neighbours of, and runs both layers for, its share of the
 * galaxies only (ard_cosmicweb_stage_predict_share: contiguous runs of whole 2048-galaxy
 * inference chunks, equal in galaxies and so in bytes); the normalised features (44 bytes per
 * galaxy) and the hidden layer (4 hidden bytes per galaxy) are exchanged between the steps with
 * MPI_Allgatherv. Rank 0 writes the run exactly as one process does (cosmic_web table, results
 * file, cosmicweb_runs row): the predictions are bit for bit the one-process ones. Progress: one
 * counter "cosmicweb" of galaxies on rank 0 (half a share counts after the first layer). report: every
 * rank's carries the counts; only rank 0's names the run. Returns the agreed status ("rank R: ..."
 * of the lowest failing rank); failures as ard_cluster_sync. Errors: those of
 * ard_cosmicweb_stage_predict, ARD_ELIMIT (an exchanged array over 2 GiB), ARD_EIO (MPI),
 * ARD_ENOTSUP without MPI. */
ARD_API ard_status ard_cluster_cosmicweb_predict(ard_cluster *cluster,
                                                 const ard_cosmicweb_stage_options *opts,
                                                 ard_cosmicweb_stage_report *report,
                                                 char **failures, ard_error *err);

/* ---- distributed datasheet ---------------------------------------------------------------------
 * Collective: `mpirun -n N ard datasheet`. Every rank opens the index (dsn as ard_index_open)
 * read-only and computes the aggregates -- SQL over the index plus a few Parquet footers, no
 * spectrum read, so there are no file bytes to split --; the five SVG figures are shared round
 * robin (figure i on rank i % N) and rank 0 writes DATA_README.md once every figure is in place
 * (ard_datasheet_write_share): the files equal one process's. Progress: one counter "datasheet"
 * on rank 0 of N + 1 parts (each rank's aggregates and figures, then the Markdown). Returns the
 * agreed status;
 * failures as ard_cluster_sync. Errors: those of ard_datasheet_write_dsn, ARD_EIO (MPI),
 * ARD_ENOTSUP without MPI. */
ARD_API ard_status ard_cluster_datasheet(ard_cluster *cluster, const char *dataset, const char *dsn,
                                         const ard_datasheet_options *opts, char **failures,
                                         ard_error *err);

/* ---- CPU pinning (no MPI) -------------------------------------------------------------------------
 * `list`: CPUs as "0-3,6"; groups separated by ':' give each rank its own set ("0:1-3": rank 0 on
 * CPU 0, rank 1 on CPUs 1-3; rank r takes group r modulo the number of groups). Applies the set to
 * the calling thread with sched_setaffinity (threads created afterwards inherit it: call before
 * starting producer threads) and writes the CPUs actually allowed afterwards, as a list, into
 * applied[cap] (may be NULL). ARD_EINVAL (malformed list, CPU >= CPU_SETSIZE, or the kernel refuses
 * the set, with errno). Thread-safe. */
ARD_API ard_status ard_cluster_pin_cpus(const char *list, int32_t rank, char *applied, size_t cap,
                                        ard_error *err);

/* ---- the distributed stream ----------------------------------------------------------------------
 * One consumer rank owns the named shared-memory store (as `ard stream serve` would); every other
 * rank is a producer. The stream is the one a single process would serve with the same loader
 * options: global batch g holds the same spectra, in the same order, whatever the number of
 * producers (the consumer publishes batches strictly by g). Batches are dealt to producers in
 * chunks of `chunk_batches` consecutive batches, round robin, so a producer decodes mostly whole
 * row groups; each producer tokenizes only its own batches (epoch cache included, which therefore
 * lives on the producers).
 *
 * Backpressure (credits): the consumer claims a free slot of its store, then grants the batch's
 * producer one credit; a producer sends only against credits and tokenizes at most its own
 * prefetch depth ahead. So the consumer's --memory cap and prefetch depth hold across the link and a
 * slow consumer never makes anyone buffer without bound.
 *
 * Wire formats: tokens cross the link as float32, float16 (IEEE half, round to nearest even;
 * |values| > 65504 become inf) or bfloat16 (round to nearest even), and the consumer's store keeps
 * them in that format (ard_store_options.token_dtype = the wire: ard_batch.token_dtype tells C
 * consumers; Python's TOKENS are float16, or bfloat16 through Stream.iter_torch_batches). Scales,
 * masks, TARGETIDs, flags and catalog columns (the loader's float32 "weights" included) always
 * travel exactly.
 *
 * Failures: every rank sends a heartbeat every 200 ms. A producer that fails sends its error; a
 * producer silent for peer_timeout_ms (killed, stopped) is declared dead. Either way the consumer
 * fails its store at once (store consumers get the error, not a hang), tells the other producers to
 * stop, and returns the error (ARD_EIO "rank R: ..." for a dead one; the handle is then broken).
 * A consumer silent for peer_timeout_ms makes the producers stop and return ARD_EIO. Note that
 * plain `mpirun` also terminates the whole job when one rank dies; the consumer rank then fails its
 * store on SIGTERM through `cancel` (the CLI sets it from its signal handler). */
enum { ARD_WIRE_F32 = 0, ARD_WIRE_F16 = 1, ARD_WIRE_BF16 = 2 };

typedef struct ard_cluster_stream_options {
    ard_loader_options loader; /* as for a single process; store_name is the consumer's store */
    /* The plan, read on every producer: items (copied; NULL = none) when num_items > 0, else the
     * spectra `where` selects through DATASET's index (dsn: as ard_loader_new_query), else every
     * tile of `dataset`. */
    const ard_read_item *items;
    int64_t num_items;
    const char *dataset;
    const char *where;
    const char *dsn;
    int32_t consumer_rank;   /* default 0 */
    int32_t wire;            /* ARD_WIRE_* (default ARD_WIRE_F32) */
    int32_t chunk_batches;   /* 0 = about one row group's worth of batches */
    int64_t peer_timeout_ms; /* default 10000 */
    const char *cpus;        /* NULL or a list for ard_cluster_pin_cpus (every rank) */
    /* Set to non-zero (e.g. by a signal handler) to stop: the consumer fails its store with
     * ARD_EIO "interrupted" and the producers stop. May be NULL. */
    volatile int32_t *cancel;
    /* Called on rank 0 once every rank is set up, with one layout line per rank. May be NULL. */
    void (*on_layout)(void *ctx, const char *layout);
    /* Called on rank 0 when the stream failed, with one line "rank R: <message>" per failing
     * rank (every rank's error, not only the first). May be NULL. */
    void (*on_failures)(void *ctx, const char *lines);
    void *ctx;
} ard_cluster_stream_options;

typedef struct ard_cluster_stream_report {
    int32_t rank, size, consumer_rank;
    int32_t role;  /* 0 consumer, 1 producer */
    int32_t slots; /* consumer: store slots (after the memory cap); producer: local prefetch */
    int64_t rows_per_epoch, batches_per_epoch;
    int64_t batches; /* consumer: published into the store; producer: sent */
    int64_t spectra;
    int64_t wire_bytes;        /* batch payload bytes received (consumer) or sent (producer) */
    double seconds;            /* from the first batch to the last */
    double bytes_per_spectrum; /* wire_bytes / spectra */
    char cpus[256];            /* CPUs this rank runs on ("" when not pinned) */
    /* Backpressure, as measured (the bounds of "Backpressure" above): */
    int64_t store_bytes;    /* this rank's store: the consumer's shared one, a producer's local one
                              (slots x slot bytes, within loader.memory_cap) */
    int64_t max_credits;    /* consumer: most batches granted (credit sent, receive posted) and not
                              yet published at once, <= its slots; producer: most credits it held
                              unused at once, <= the consumer's slots */
    int64_t max_in_flight;  /* producer: most batches handed to MPI and not yet sent at once (each
                              holds a local slot or staging buffer), <= its slots; consumer: 0 */
    int64_t peak_rss_bytes; /* this process's peak resident memory (getrusage) */
} ard_cluster_stream_report;

/* Defaults above (loader options by ard_loader_options_init). No MPI. */
ARD_API void ard_cluster_stream_options_init(ard_cluster_stream_options *opts);
/* "f32", "f16", "bf16" -> ARD_WIRE_*; -1 otherwise. No MPI. */
ARD_API int32_t ard_cluster_wire_parse(const char *text);

/* Collective over every rank of `cluster` (at least 2). Producers build their loader (errors on any
 * rank stop every rank: the agreed status is returned), the consumer creates the store
 * loader.store_name with the producers' geometry (loader.prefetch_batches slots within
 * loader.memory_cap), then batches flow until the stream ends and, on the consumer, until every
 * published batch was consumed (ard_store_drained) -- or until cancel/failure. report (may be NULL)
 * is this rank's. Returns the agreed status: ARD_OK, the first failing rank's status with its
 * message prefixed "rank R: ", or ARD_EIO for a lost peer (without a final agreement).
 * ARD_EINVAL (options, fewer than 2 ranks, consumer_rank out of range), ARD_ENOTSUP without MPI,
 * the loader's and store's errors. */
ARD_API ard_status ard_cluster_stream_serve(ard_cluster *cluster,
                                            const ard_cluster_stream_options *opts,
                                            ard_cluster_stream_report *report, ard_error *err);

/* ---- the serve stage: `ard stream serve` in one process or under mpirun -----------------------
 * One call for the CLI and Python: under mpirun with 2+ ranks (collective over every rank) the
 * distributed serve above, with the plan file read into items on every rank and every rank's
 * report line gathered on rank 0; otherwise (no launcher, or a 1-rank job) CPU pinning (cpus) and
 * ard_stream_serve in this process. */
typedef struct ard_cluster_serve_options {
    /* The source, loader options (loader.store_name required), stop flag and the single-process
     * callbacks (on_started, on_finished), exactly as for ard_stream_serve; serve.stop also
     * cancels a distributed serve. */
    ard_stream_serve_options serve;
    int32_t consumer_rank;   /* distributed: default 0 */
    int32_t wire;            /* distributed: ARD_WIRE_* (default ARD_WIRE_F32) */
    int32_t chunk_batches;   /* distributed: 0 = about one row group's worth */
    int64_t peer_timeout_ms; /* distributed: default 10000 */
    const char *cpus; /* NULL or a list for ard_cluster_pin_cpus (every rank / this process) */
    /* Optional, on rank 0 (or the one process): the layout applied (one line per rank); the
     * report, one line per rank ("rank R consumer|producer: N batches, ..."); the errors of every
     * failing rank, one line "rank R: <message>" each. A rank that lost its peers calls
     * on_failures with its own line before the job is aborted. */
    void (*on_layout)(void *ctx, const char *lines);
    void (*on_report)(void *ctx, const char *lines);
    void (*on_failures)(void *ctx, const char *lines);
    void *ctx;
} ard_cluster_serve_options;

typedef struct ard_cluster_serve_report {
    int32_t distributed;       /* 1: served by 2+ ranks under mpirun */
    int32_t rank, size;        /* this process (0, 1 without a launcher) */
    int32_t failures_reported; /* 1: the errors reached on_failures (the caller need not print) */
    ard_stream_serve_report local;     /* one process */
    ard_cluster_stream_report cluster; /* distributed: this rank's */
} ard_cluster_serve_report;

/* Defaults above (serve by ard_stream_serve_options_init). No MPI. */
ARD_API void ard_cluster_serve_options_init(ard_cluster_serve_options *opts);
/* The serve stage (see above). Blocks until the stream was consumed, stopped or failed. report may
 * be NULL. Errors: ARD_EINVAL (options; cpus), those of ard_stream_serve (one process) or of
 * ard_cluster_open, ard_plan_load, ard_read_items_from_plan and ard_cluster_stream_serve
 * (distributed; every rank returns the agreed status). */
ARD_API ard_status ard_cluster_serve(const ard_cluster_serve_options *opts,
                                     ard_cluster_serve_report *report, ard_error *err);

#ifdef __cplusplus
}
#endif
#endif
