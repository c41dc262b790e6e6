/* `mpirun -n N ard fetch`: rank 0 plans (the query stage) and writes the export; the plan's row
 * groups are split among all ranks, rank 0 included, in contiguous runs of equal compressed bytes
 * (ard_cluster_partition over the chunks); every rank decodes its run with the one spectrum reader
 * (ard_fetch) and sends the batches to rank 0, which hands them to the export in plan order through
 * an ard_fetch_source. The batches are the one-process batches, so the file is byte-identical.
 * Progress: one counter of decoded spectra summed on rank 0 (ard_cluster_progress, label "fetch"). */
#include "cluster_int.h"

#include <limits.h>
#include <string.h>

#if ARD_HAVE_MPI

#define FETCH_TAG_BATCH 31
/* Bytes of batches a decoding rank keeps in flight before it waits for rank 0 to take them. */
#define FETCH_INFLIGHT_CAP ((size_t)256 << 20)

enum { MSG_BATCH = 0, MSG_END = 1, MSG_ERROR = 2 };
enum { HEAD = 6, COL_HEAD = 3 }; /* int64 words: {kind, file, row_group, rows, ncols, status} */

static ard_status mpi_fail(ard_error *err, const char *what) {
    return ard_error_set(err, ARD_EIO, "fetch: %s failed (MPI)", what);
}

static size_t pad8(size_t n) {
    return (n + 7) & ~(size_t)7;
}

/* ---- the plan every rank reads a share of ---------------------------------------------------- */

/* The shared setup, broadcast by rank 0: the plan (files, chunks, rows) and the export's columns. */
typedef struct fetch_setup {
    int64_t ok, files_bytes, num_chunks, num_rows, num_columns, names_bytes;
} fetch_setup;

/* Rank 0: the plan's file paths (NUL-separated), chunk table {file, row_group, num_rows,
 * first_row, byte_offset, bytes}, rows and targetids, and the column names, as one buffer. */
static ard_status pack_setup(const ard_plan *plan, const char *const *columns, int32_t ncols,
                             fetch_setup *h, uint8_t **out, ard_error *err) {
    memset(h, 0, sizeof *h);
    h->ok = 1;
    h->num_chunks = ard_plan_num_chunks(plan);
    h->num_rows = ard_plan_num_rows(plan);
    h->num_columns = ncols;
    for (int32_t i = 0; i < ard_plan_num_files(plan); i++) {
        h->files_bytes += (int64_t)strlen(ard_plan_file(plan, i)) + 1;
    }
    for (int32_t c = 0; c < ncols; c++) {
        h->names_bytes += (int64_t)strlen(columns[c]) + 1;
    }
    size_t words = (size_t)(6 * h->num_chunks + 2 * h->num_rows);
    size_t total = words * 8 + (size_t)(h->files_bytes + h->names_bytes);
    uint8_t *buf = ard_malloc(total ? total : 1);
    if (!buf) {
        return ard_error_set(err, ARD_ENOMEM, "fetch: out of memory sharing the plan");
    }
    int64_t *table = (int64_t *)buf, *rows = table + 6 * h->num_chunks;
    int64_t *tids = rows + h->num_rows;
    for (int64_t i = 0, at = 0; i < h->num_chunks; i++) {
        const ard_plan_chunk *c = ard_plan_chunk_at(plan, i);
        int64_t row[6] = {c->file,      c->row_group,   c->num_rows,
                          c->first_row, c->byte_offset, c->bytes};
        memcpy(table + 6 * i, row, sizeof row);
        memcpy(rows + at, c->rows, (size_t)c->num_rows * 8);
        memcpy(tids + at, c->targetids, (size_t)c->num_rows * 8);
        at += c->num_rows;
    }
    char *text = (char *)(buf + words * 8);
    for (int32_t i = 0; i < ard_plan_num_files(plan); i++) {
        size_t len = strlen(ard_plan_file(plan, i)) + 1;
        memcpy(text, ard_plan_file(plan, i), len);
        text += len;
    }
    for (int32_t c = 0; c < ncols; c++) {
        size_t len = strlen(columns[c]) + 1;
        memcpy(text, columns[c], len);
        text += len;
    }
    *out = buf;
    return ARD_OK;
}

/* This rank's share: a plan over the same files holding chunks [first, first + count) of the
 * shared chunk table (so batch file indexes are the whole plan's). */
static ard_status share_plan(const fetch_setup *h, const uint8_t *buf, int32_t rank, int32_t size,
                             ard_plan **out, ard_error *err) {
    *out = NULL;
    const int64_t *table = (const int64_t *)buf, *rows = table + 6 * h->num_chunks;
    const int64_t *tids = rows + h->num_rows;
    const char *text = (const char *)(buf + (size_t)(6 * h->num_chunks + 2 * h->num_rows) * 8);
    int64_t *bytes = ard_malloc((size_t)(h->num_chunks ? h->num_chunks : 1) * 8);
    int32_t nfiles = 0;
    for (int64_t at = 0; at < h->files_bytes; at += (int64_t)strlen(text + at) + 1) {
        nfiles++;
    }
    const char **files = ard_calloc((size_t)(nfiles ? nfiles : 1), sizeof *files);
    if (!bytes || !files) {
        ard_free(bytes);
        ard_free(files);
        return ard_error_set(err, ARD_ENOMEM, "fetch: out of memory planning the share");
    }
    for (int64_t at = 0, i = 0; at < h->files_bytes; at += (int64_t)strlen(text + at) + 1) {
        files[i++] = text + at;
    }
    for (int64_t i = 0; i < h->num_chunks; i++) {
        bytes[i] = table[6 * i + 5];
    }
    int64_t first = 0, count = 0, row0 = 0, nentries = 0;
    ard_status st = ard_cluster_partition(bytes, h->num_chunks, rank, size, &first, &count, err);
    for (int64_t i = 0; i < first + count; i++) {
        row0 += i < first ? table[6 * i + 2] : 0;
        nentries += i >= first ? table[6 * i + 2] : 0;
    }
    ard_plan_entry *e = ard_calloc((size_t)(nentries ? nentries : 1), sizeof *e);
    if (st == ARD_OK && !e) {
        st = ard_error_set(err, ARD_ENOMEM, "fetch: out of memory planning the share");
    }
    for (int64_t i = first, k = 0, r = row0; st == ARD_OK && i < first + count; i++) {
        const int64_t *c = table + 6 * i;
        for (int64_t j = 0; j < c[2]; j++, r++) {
            e[k++] =
                (ard_plan_entry){(int32_t)c[0], (int32_t)c[1], rows[r], tids[r], c[3], c[4], c[5]};
        }
    }
    if (st == ARD_OK) {
        st = ard_plan_new(files, nfiles, e, nentries, out, err);
    }
    ard_free(e);
    ard_free(bytes);
    ard_free(files);
    return st;
}

/* Broadcasts the setup header, then (when ok) its buffer. Every rank calls it. */
static ard_status bcast_setup(ard_cluster *cl, fetch_setup *h, uint8_t **buf, ard_error *err) {
    if (MPI_Bcast(h, 6, MPI_INT64_T, 0, cl->comm) != MPI_SUCCESS) {
        return mpi_fail(err, "broadcasting the plan");
    }
    if (!h->ok) {
        return ARD_OK;
    }
    int64_t total = (6 * h->num_chunks + 2 * h->num_rows) * 8 + h->files_bytes + h->names_bytes;
    if (cl->rank != 0) {
        *buf = ard_malloc((size_t)(total ? total : 1));
    }
    /* every rank takes part in the broadcast; one without memory fails after it */
    static uint8_t scratch[1];
    int fits = total < INT_MAX;
    int mpi_ok = MPI_Bcast(*buf && fits ? *buf : scratch, *buf && fits ? (int)total : 0, MPI_BYTE,
                           0, cl->comm) == MPI_SUCCESS;
    if (!fits) {
        return ard_error_set(err, ARD_ELIMIT, "fetch: a plan of %lld bytes exceeds one broadcast",
                             (long long)total);
    }
    if (!*buf) {
        return ard_error_set(err, ARD_ENOMEM, "fetch: out of memory receiving the plan");
    }
    return mpi_ok ? ARD_OK : mpi_fail(err, "broadcasting the plan");
}

/* The column names at the end of the setup buffer. */
static void setup_names(const fetch_setup *h, const uint8_t *buf, const char **names) {
    const char *text =
        (const char *)(buf + (size_t)(6 * h->num_chunks + 2 * h->num_rows) * 8) + h->files_bytes;
    for (int64_t c = 0; c < h->num_columns && c < 8; c++) {
        names[c] = text;
        text += strlen(text) + 1;
    }
}

/* ---- batches on the wire ------------------------------------------------------------------- */

/* Column c's sections: values, element validity, row validity (0 when absent). */
static void col_sizes(const ard_fetch_batch *b, int32_t c, size_t *vals, size_t *valid,
                      size_t *rowv) {
    const ard_pq_f32_matrix *m = &b->columns[c];
    size_t cells = (size_t)(m->rows * m->width);
    int u8 = b->column_types[c] == ARD_FETCH_U8;
    *vals = pad8(u8 ? cells : cells * sizeof(float));
    *valid = !u8 && m->validity ? pad8((cells + 7) / 8) : 0;
    *rowv = !u8 && m->row_validity ? pad8(((size_t)m->rows + 7) / 8) : 0;
}

static ard_status pack_batch(const ard_fetch_batch *b, uint8_t **out, size_t *len, ard_error *err) {
    size_t total = (size_t)(HEAD + COL_HEAD * b->num_columns) * 8 + (size_t)b->rows * 8;
    for (int32_t c = 0; c < b->num_columns; c++) {
        size_t v, va, rv;
        col_sizes(b, c, &v, &va, &rv);
        total += v + va + rv;
    }
    if (total > INT_MAX) {
        return ard_error_set(err, ARD_ELIMIT, "fetch: a %zu-byte row group exceeds one message",
                             total);
    }
    uint8_t *buf = ard_calloc(total, 1);
    if (!buf) {
        return ard_error_set(err, ARD_ENOMEM, "fetch: out of memory for a %zu-byte batch", total);
    }
    int64_t *head = (int64_t *)buf;
    int64_t h[HEAD] = {MSG_BATCH, b->file, b->row_group, b->rows, b->num_columns, ARD_OK};
    memcpy(head, h, sizeof h);
    uint8_t *at = buf + (size_t)(HEAD + COL_HEAD * b->num_columns) * 8;
    memcpy(at, b->targetids, (size_t)b->rows * 8);
    at += (size_t)b->rows * 8;
    for (int32_t c = 0; c < b->num_columns; c++) {
        const ard_pq_f32_matrix *m = &b->columns[c];
        size_t v, va, rv;
        col_sizes(b, c, &v, &va, &rv);
        int u8 = b->column_types[c] == ARD_FETCH_U8;
        int64_t ch[COL_HEAD] = {b->column_types[c], m->width, (va ? 1 : 0) | (rv ? 2 : 0)};
        memcpy(head + HEAD + COL_HEAD * c, ch, sizeof ch);
        size_t cells = (size_t)(m->rows * m->width);
        memcpy(at, u8 ? (const void *)b->u8_values[c] : (const void *)m->values,
               u8 ? cells : cells * sizeof(float));
        at += v;
        if (va) {
            memcpy(at, m->validity, (cells + 7) / 8);
        }
        at += va;
        if (rv) {
            memcpy(at, m->row_validity, ((size_t)m->rows + 7) / 8);
        }
        at += rv;
    }
    *out = buf;
    *len = total;
    return ARD_OK;
}

/* Rank 0's view of a received batch (pointers into the message buffer). */
typedef struct wire_batch {
    ard_fetch_batch b;
    ard_pq_f32_matrix cols[8];
    int32_t types[8];
    const uint8_t *u8[8];
} wire_batch;

static ard_status unpack_batch(const uint8_t *buf, size_t len, const char *const *names,
                               int32_t ncols, wire_batch *w, ard_error *err) {
    const int64_t *head = (const int64_t *)buf;
    memset(w, 0, sizeof *w);
    if (len < HEAD * 8 || head[4] != ncols || head[3] < 0 ||
        len < (size_t)(HEAD + COL_HEAD * ncols + head[3]) * 8) {
        return ard_error_set(err, ARD_ECORRUPT, "fetch: a malformed batch message");
    }
    w->b = (ard_fetch_batch){(int32_t)head[1], (int32_t)head[2], head[3], NULL, ncols, names,
                             w->cols,          w->types,         w->u8};
    size_t at = (size_t)(HEAD + COL_HEAD * ncols) * 8;
    w->b.targetids = (const int64_t *)(buf + at);
    at += (size_t)head[3] * 8;
    for (int32_t c = 0; c < ncols; c++) {
        const int64_t *ch = head + HEAD + COL_HEAD * c;
        ard_pq_f32_matrix *m = &w->cols[c];
        m->rows = head[3];
        m->width = ch[1];
        w->types[c] = (int32_t)ch[0];
        size_t v, va, rv;
        col_sizes(&w->b, c, &v, &va, &rv);
        va = ch[2] & 1 ? pad8((size_t)(m->rows * m->width + 7) / 8) : 0;
        rv = ch[2] & 2 ? pad8(((size_t)m->rows + 7) / 8) : 0;
        if (m->width < 0 || at + v + va + rv > len) {
            return ard_error_set(err, ARD_ECORRUPT, "fetch: a truncated batch message");
        }
        if (w->types[c] == ARD_FETCH_U8) {
            w->u8[c] = buf + at;
        } else {
            m->values = (float *)(uintptr_t)(buf + at);
        }
        m->validity = va ? (uint8_t *)(uintptr_t)(buf + at + v) : NULL;
        m->row_validity = rv ? (uint8_t *)(uintptr_t)(buf + at + v + va) : NULL;
        at += v + va + rv;
    }
    return ARD_OK;
}

/* ---- a decoding rank (not 0) ---------------------------------------------------------------- */

typedef struct send_queue {
    MPI_Request req[64];
    uint8_t *buf[64];
    size_t len[64];
    int32_t head, count;
    size_t inflight;
} send_queue;

static void queue_wait_oldest(send_queue *q) {
    MPI_Wait(&q->req[q->head], MPI_STATUS_IGNORE);
    q->inflight -= q->len[q->head];
    ard_free(q->buf[q->head]);
    q->head = (q->head + 1) % 64;
    q->count--;
}

/* Queues buf (owned) for rank 0; waits while too much is in flight. */
static void queue_send(ard_cluster *cl, send_queue *q, uint8_t *buf, size_t len) {
    while (q->count == 64 || (q->count > 0 && q->inflight + len > FETCH_INFLIGHT_CAP)) {
        queue_wait_oldest(q);
    }
    int32_t at = (q->head + q->count) % 64;
    q->buf[at] = buf;
    q->len[at] = len;
    q->inflight += len;
    q->count++;
    MPI_Isend(buf, (int)len, MPI_BYTE, 0, FETCH_TAG_BATCH, cl->comm, &q->req[at]);
}

/* The end marker: {MSG_END} or {MSG_ERROR, status} + the message. Blocking. */
static void send_end(ard_cluster *cl, ard_status st, const ard_error *err) {
    uint8_t msg[HEAD * 8 + sizeof(((ard_error *)0)->msg)];
    memset(msg, 0, sizeof msg);
    int64_t h[HEAD] = {st == ARD_OK ? MSG_END : MSG_ERROR, 0, 0, 0, 0, st};
    memcpy(msg, h, sizeof h);
    size_t len = HEAD * 8;
    if (st != ARD_OK) {
        const char *text = err && err->msg[0] ? err->msg : ard_status_str(st);
        size_t n = strlen(text);
        n = n < sizeof msg - len - 1 ? n : sizeof msg - len - 1;
        memcpy(msg + len, text, n);
        len += n + 1;
    }
    MPI_Send(msg, (int)len, MPI_BYTE, 0, FETCH_TAG_BATCH, cl->comm);
}

static ard_status decode_share(ard_cluster *cl, const ard_fetch_options *o, int64_t *rows,
                               ard_error *err) {
    fetch_setup h;
    uint8_t *buf = NULL;
    ard_status st = bcast_setup(cl, &h, &buf, err);
    if (st != ARD_OK || !h.ok) {
        ard_free(buf);
        return st; /* rank 0 failed before reading: its error is the one reported */
    }
    const char *names[8] = {0};
    setup_names(&h, buf, names);
    ard_plan *plan = NULL;
    ard_fetch *f = NULL;
    ard_cluster_progress *meter = NULL; /* rank 0 counts every rank's spectra */
    ard_cluster_progress_new(cl, "fetch", 0, 1, &meter, NULL);
    st = share_plan(&h, buf, cl->rank, cl->size, &plan, err);
    if (st == ARD_OK) {
        st = ard_fetch_open(o->query.dataset, plan, names, (int32_t)h.num_columns, o->threads, &f,
                            err);
    }
    send_queue q;
    memset(&q, 0, sizeof q);
    const ard_fetch_batch *b;
    while (st == ARD_OK && (st = ard_fetch_next(f, &b, err)) == ARD_OK) {
        uint8_t *msg = NULL;
        size_t len = 0;
        st = pack_batch(b, &msg, &len, err);
        if (st == ARD_OK) {
            queue_send(cl, &q, msg, len);
            *rows += b->rows;
            ard_cluster_progress_add(meter, b->rows);
        }
    }
    st = st == ARD_EEOF ? ARD_OK : st;
    while (q.count > 0) {
        queue_wait_oldest(&q);
    }
    send_end(cl, st, err);
    ard_cluster_progress_finish(meter);
    ard_fetch_close(f);
    ard_plan_free(plan);
    ard_free(buf);
    return st;
}

/* ---- rank 0: the export's batch source ------------------------------------------------------ */

typedef struct fetch_writer {
    ard_cluster *cl;
    const ard_fetch_options *o;
    int opened;
    uint8_t *setup;
    const char *names[8];
    int32_t ncols;
    ard_plan *mine;
    ard_fetch *fetch;
    int32_t from; /* the rank whose batches come next (0: this rank's own) */
    uint8_t *msg; /* the last received batch */
    wire_batch wire;
    ard_cluster_progress *meter; /* every rank's decoded spectra, shown here */
    int relayed; /* the run stopped on another rank's failure (that rank reports it) */
} fetch_writer;

static ard_status writer_open(void *ctx, const ard_plan *plan, const char *const *columns,
                              int32_t num_columns, ard_error *err) {
    fetch_writer *w = ctx;
    fetch_setup h;
    w->opened = 1;
    ard_status st = num_columns > 8 ? ard_error_set(err, ARD_EINVAL, "fetch: too many columns")
                                    : pack_setup(plan, columns, num_columns, &h, &w->setup, err);
    if (st != ARD_OK) {
        memset(&h, 0, sizeof h); /* the others learn that nothing is to be read */
    }
    ard_status sent = bcast_setup(w->cl, &h, &w->setup, st == ARD_OK ? err : NULL);
    st = st == ARD_OK ? sent : st;
    if (st != ARD_OK) {
        w->from = w->cl->size; /* no rank sends anything */
        return st;
    }
    w->ncols = num_columns;
    setup_names(&h, w->setup, w->names);
    ard_cluster_progress_new(w->cl, "fetch", h.num_rows, 1, &w->meter, NULL);
    st = share_plan(&h, w->setup, 0, w->cl->size, &w->mine, err);
    if (st == ARD_OK) {
        st = ard_fetch_open(w->o->query.dataset, w->mine, w->names, w->ncols, w->o->threads,
                            &w->fetch, err);
    }
    return st;
}

/* Receives rank `from`'s next message into w->msg. */
static ard_status receive(fetch_writer *w, size_t *len, ard_error *err) {
    MPI_Status status;
    int bytes = 0;
    ard_free(w->msg);
    w->msg = NULL;
    if (MPI_Probe(w->from, FETCH_TAG_BATCH, w->cl->comm, &status) != MPI_SUCCESS ||
        MPI_Get_count(&status, MPI_BYTE, &bytes) != MPI_SUCCESS) {
        return mpi_fail(err, "receiving a batch");
    }
    w->msg = ard_malloc((size_t)(bytes > HEAD * 8 ? bytes : HEAD * 8) + 1);
    if (!w->msg) {
        /* take the message anyway (into nothing would truncate): fail without it */
        return ard_error_set(err, ARD_ENOMEM, "fetch: out of memory for a %d-byte batch", bytes);
    }
    if (MPI_Recv(w->msg, bytes, MPI_BYTE, w->from, FETCH_TAG_BATCH, w->cl->comm,
                 MPI_STATUS_IGNORE) != MPI_SUCCESS) {
        return mpi_fail(err, "receiving a batch");
    }
    w->msg[bytes] = 0;
    *len = (size_t)bytes;
    return ARD_OK;
}

static ard_status writer_next(void *ctx, const ard_fetch_batch **batch, ard_error *err) {
    fetch_writer *w = ctx;
    if (w->from == 0) {
        ard_status st = ard_fetch_next(w->fetch, batch, err);
        if (st != ARD_EEOF) {
            ard_cluster_progress_add(w->meter, st == ARD_OK ? (*batch)->rows : 0);
            return st;
        }
        w->from = 1;
    }
    while (w->from < w->cl->size) {
        ard_cluster_progress_add(w->meter, 0); /* folds in the others' counts */
        size_t len = 0;
        ard_status st = receive(w, &len, err);
        if (st != ARD_OK) {
            return st;
        }
        const int64_t *head = (const int64_t *)w->msg;
        if (len >= HEAD * 8 && head[0] == MSG_BATCH) {
            st = unpack_batch(w->msg, len, w->names, w->ncols, &w->wire, err);
            *batch = &w->wire.b;
            return st;
        }
        int32_t r = w->from++;
        if (len >= HEAD * 8 && head[0] == MSG_ERROR) {
            w->relayed = 1;
            return ard_error_set(err, (ard_status)head[5],
                                 "fetch: rank %d could not decode its share (its error follows)",
                                 r);
        }
    }
    return ARD_EEOF;
}

/* Takes what the decoding ranks still send (each ends with a marker) so none is left waiting. */
static void writer_close(void *ctx, ard_status st) {
    (void)st;
    fetch_writer *w = ctx;
    for (w->from = w->from == 0 ? 1 : w->from; w->from < w->cl->size;) {
        size_t len = 0;
        if (receive(w, &len, NULL) != ARD_OK) {
            break;
        }
        const int64_t *head = (const int64_t *)w->msg;
        w->from += len >= HEAD * 8 && head[0] != MSG_BATCH;
    }
    ard_cluster_progress_finish(w->meter); /* every rank sent its final count after its batches */
    w->meter = NULL;
    ard_free(w->msg);
    w->msg = NULL;
    ard_fetch_close(w->fetch);
    w->fetch = NULL;
    ard_plan_free(w->mine);
    w->mine = NULL;
    ard_free(w->setup);
    w->setup = NULL;
}

ard_status ard_cluster_fetch(ard_cluster *cluster, const ard_fetch_options *opts,
                             ard_fetch_report *report, char **failures, ard_error *err) {
    if (failures) {
        *failures = NULL;
    }
    if (report) {
        memset(report, 0, sizeof *report);
    }
    if (!cluster || !opts || !opts->query.dataset || opts->source) {
        return ard_error_set(err, ARD_EINVAL, "ard_cluster_fetch: %s",
                             opts && opts->source ? "options already have a batch source"
                                                  : "NULL argument");
    }
    ard_status st;
    if (cluster->rank == 0) {
        fetch_writer w;
        memset(&w, 0, sizeof w);
        w.cl = cluster;
        w.o = opts;
        ard_fetch_source src = {writer_open, writer_next, writer_close, &w};
        ard_fetch_options o = *opts;
        o.source = &src;
        st = ard_fetch_run(&o, report, err);
        if (!w.opened) {
            fetch_setup none;
            memset(&none, 0, sizeof none);
            uint8_t *nobuf = NULL;
            bcast_setup(cluster, &none, &nobuf, NULL); /* nothing to read: release the others */
        }
        if (st != ARD_OK && w.relayed) {
            st = ARD_OK; /* not rank 0's failure: the agreement reports the failing rank's */
        }
    } else {
        int64_t rows = 0;
        st = decode_share(cluster, opts, &rows, err);
        if (report) {
            report->rows = rows;
        }
    }
    return ard_cluster_agree(cluster, st, err, failures);
}

#else

ard_status ard_cluster_fetch(ard_cluster *cluster, const ard_fetch_options *opts,
                             ard_fetch_report *report, char **failures, ard_error *err) {
    (void)cluster;
    (void)opts;
    (void)report;
    return ard__cl_no_mpi("cluster", failures, err);
}

#endif
