/* The consumer rank of a distributed stream: claims a free slot of its store for the next global
 * batch, posts the receive from that batch's producer straight into the slot (or into a staging
 * buffer when a narrow wire's token array is not a whole number of 64-byte blocks) and grants the
 * producer one credit; the store holds the tokens in the wire's dtype (no widening); publishes completed batches in
 * global order. Heartbeats both ways detect a lost producer; a producer's error, a lost producer or
 * a cancel fails the store at once and stops every producer. */
#include "cluster_int.h"

#include <string.h>

#if ARD_HAVE_MPI

typedef struct pending {
    int64_t g;     /* global batch */
    int64_t k;     /* k-th batch posted for its producer */
    int32_t owner; /* producer index */
    ard_batch b;
    MPI_Request req;
    int32_t open; /* receive posted and not completed */
    uint8_t *staging;
} pending;

typedef struct consumer {
    cl_stream *s;
    ard_store *store;
    MPI_Comm comm;
    pending *win;
    int32_t cap;
    int64_t next_post, next_pub;
    int32_t *index_of; /* rank -> producer index, -1 for the consumer */
    double *last_seen;
    int32_t *done, *dead;
    int64_t *sent, *posted;
    int64_t token_bytes; /* of the tokens in the store (4 or 2 bytes each) */
    int64_t rest_offset, msg_bytes, slot_bytes;
    int32_t inplace; /* the message is the slot's bytes: received straight into it */
    double last_beat, timeout_s;
    ard_status st;
    ard_error *err;
} consumer;

static void fail(consumer *c, ard_status st, ard_error *e) {
    if (c->st == ARD_OK) {
        c->st = st;
        if (c->err && e) {
            *c->err = *e;
        }
    }
}

static int poll_heartbeats(consumer *c, double now) {
    int any = 0;
    for (;;) {
        int flag = 0;
        MPI_Status ps;
        if (MPI_Iprobe(MPI_ANY_SOURCE, CL_TAG_HEARTBEAT, c->comm, &flag, &ps) != MPI_SUCCESS ||
            !flag) {
            return any;
        }
        MPI_Recv(NULL, 0, MPI_BYTE, ps.MPI_SOURCE, CL_TAG_HEARTBEAT, c->comm, MPI_STATUS_IGNORE);
        int32_t q = c->index_of[ps.MPI_SOURCE];
        if (q >= 0) {
            c->last_seen[q] = now;
        }
        any = 1;
    }
}

static int poll_done(consumer *c, double now) {
    int any = 0;
    for (;;) {
        int flag = 0;
        MPI_Status ps;
        if (MPI_Iprobe(MPI_ANY_SOURCE, CL_TAG_DONE, c->comm, &flag, &ps) != MPI_SUCCESS || !flag) {
            return any;
        }
        uint8_t msg[CL_DONE_BYTES];
        memset(msg, 0, sizeof msg);
        MPI_Recv(msg, CL_DONE_BYTES, MPI_BYTE, ps.MPI_SOURCE, CL_TAG_DONE, c->comm,
                 MPI_STATUS_IGNORE);
        int32_t q = c->index_of[ps.MPI_SOURCE];
        int64_t head[2];
        memcpy(head, msg, sizeof head);
        if (q >= 0) {
            c->done[q] = 1;
            c->sent[q] = head[1];
            c->last_seen[q] = now;
        }
        if (head[0] != ARD_OK) {
            ard_error e;
            ard_error_init(&e);
            msg[CL_DONE_BYTES - 1] = '\0';
            ard_error_set(&e, (ard_status)head[0], "rank %d: %s", ps.MPI_SOURCE,
                          (const char *)msg + 16);
            fail(c, (ard_status)head[0], &e);
        }
        any = 1;
    }
}

static void heartbeat(consumer *c, double now) {
    if (now - c->last_beat < CL_HEARTBEAT_MS / 1000.0) {
        return;
    }
    c->last_beat = now;
    for (int32_t q = 0; q < c->s->num_prod; q++) {
        if (!c->dead[q]) {
            MPI_Send(NULL, 0, MPI_BYTE, c->s->prod[q], CL_TAG_HEARTBEAT, c->comm);
        }
    }
}

/* Producers still expected to talk that have been silent too long are dead. */
static void check_alive(consumer *c, double now) {
    for (int32_t q = 0; q < c->s->num_prod; q++) {
        if (c->done[q] || c->dead[q] || now - c->last_seen[q] <= c->timeout_s) {
            continue;
        }
        c->dead[q] = 1;
        c->s->cl->broken = 1;
        ard_error e;
        ard_error_init(&e);
        ard_error_set(&e, ARD_EIO,
                      "producer rank %d silent for %.1f s (killed or stopped?); the stream fails",
                      c->s->prod[q], now - c->last_seen[q]);
        fail(c, ARD_EIO, &e);
    }
}

static int post_receives(consumer *c) {
    int any = 0;
    const cl_geometry *g = &c->s->geo;
    while (c->st == ARD_OK && c->next_post < g->total_batches &&
           c->next_post - c->next_pub < c->cap) {
        ard_batch b;
        ard_error e;
        ard_error_init(&e);
        ard_status st = ard_store_begin_fill(c->store, 0, &b, &e);
        if (st == ARD_ELIMIT) {
            break; /* every slot is in use: the store's consumers set the pace */
        }
        if (st != ARD_OK || b.seq != c->next_post) {
            fail(c, st != ARD_OK ? st : ARD_EINTERNAL, &e);
            break;
        }
        pending *p = &c->win[c->next_post % c->cap];
        int32_t rank = ard__cl_owner(g, c->s->prod, c->s->num_prod, c->next_post);
        p->g = c->next_post;
        p->owner = c->index_of[rank];
        p->k = c->posted[p->owner]++;
        p->b = b;
        uint8_t *slot = ard_batch_bytes(c->store, &b, NULL);
        void *dst = c->inplace ? slot : (void *)p->staging;
        int credit = 1;
        if (MPI_Irecv(dst, (int)c->msg_bytes, MPI_BYTE, rank, CL_TAG_BATCH, c->comm, &p->req) !=
                MPI_SUCCESS ||
            MPI_Send(&credit, 1, MPI_INT, rank, CL_TAG_CREDIT, c->comm) != MPI_SUCCESS) {
            ard_error_set(&e, ARD_EIO, "rank %d: posting batch %lld", rank, (long long)p->g);
            fail(c, ARD_EIO, &e);
            break;
        }
        p->open = 1;
        c->next_post++;
        if (c->next_post - c->next_pub > c->s->rep->max_credits) {
            c->s->rep->max_credits = c->next_post - c->next_pub;
        }
        any = 1;
    }
    return any;
}

static int publish_ready(consumer *c, double now) {
    int any = 0;
    const cl_geometry *g = &c->s->geo;
    while (c->st == ARD_OK && c->next_pub < c->next_post) {
        pending *p = &c->win[c->next_pub % c->cap];
        int flag = 0;
        MPI_Status ms;
        if (MPI_Test(&p->req, &flag, &ms) != MPI_SUCCESS || !flag) {
            break;
        }
        p->open = 0;
        int bytes = 0;
        MPI_Get_count(&ms, MPI_BYTE, &bytes);
        ard_error e;
        ard_error_init(&e);
        if (bytes != c->msg_bytes) {
            ard_error_set(&e, ARD_ECORRUPT, "rank %d: batch %lld has %d bytes, expected %lld",
                          ms.MPI_SOURCE, (long long)p->g, bytes, (long long)c->msg_bytes);
            fail(c, ARD_ECORRUPT, &e);
            break;
        }
        if (!c->inplace) { /* [tokens][rest] -> the slot's [tokens, padding][rest] */
            uint8_t *slot = ard_batch_bytes(c->store, &p->b, NULL);
            memcpy(slot, p->staging, (size_t)c->token_bytes);
            memcpy(slot + c->rest_offset, p->staging + c->token_bytes,
                   (size_t)(c->slot_bytes - c->rest_offset));
        }
        int32_t rows = ard__cl_batch_rows(g, p->g);
        ard_status st =
            ard_store_publish(c->store, &p->b, rows, (int32_t)(p->g / g->batches_per_epoch), &e);
        if (st != ARD_OK) {
            fail(c, st, &e);
            break;
        }
        c->last_seen[p->owner] = now;
        c->s->rep->batches++;
        c->s->rep->spectra += rows;
        c->s->rep->wire_bytes += bytes;
        c->next_pub++;
        any = 1;
    }
    return any;
}

static void stop_producers(consumer *c) {
    for (int32_t q = 0; q < c->s->num_prod; q++) {
        if (!c->dead[q]) {
            MPI_Send(NULL, 0, MPI_BYTE, c->s->prod[q], CL_TAG_STOP, c->comm);
        }
    }
}

static int all_done(const consumer *c) {
    for (int32_t q = 0; q < c->s->num_prod; q++) {
        if (!c->done[q] && !c->dead[q]) {
            return 0;
        }
    }
    return 1;
}

/* After a failure: every live producer finishes its sends (their receives are posted) and reports
 * how many it sent; receives nobody will match are cancelled. */
static void drain_after_failure(consumer *c) {
    stop_producers(c);
    while (!all_done(c)) {
        double now = ard__cl_now();
        int any = poll_heartbeats(c, now) | poll_done(c, now);
        for (int32_t i = 0; i < c->cap; i++) {
            pending *p = &c->win[i];
            int flag = 0;
            if (p->open && MPI_Test(&p->req, &flag, MPI_STATUS_IGNORE) == MPI_SUCCESS && flag) {
                p->open = 0;
                any = 1;
            }
        }
        heartbeat(c, now);
        check_alive(c, now);
        if (!any) {
            ard__cl_nap(500);
        }
    }
    if (c->s->cl->broken) {
        return; /* a dead producer: the job is aborted on close, nothing to tidy */
    }
    for (int32_t i = 0; i < c->cap; i++) {
        pending *p = &c->win[i];
        if (p->open && p->k >= c->sent[p->owner]) {
            MPI_Cancel(&p->req);
        }
        if (p->open) {
            MPI_Wait(&p->req, MPI_STATUS_IGNORE);
            p->open = 0;
        }
    }
}

/* After the last batch: every producer reports, then the store's consumers drain it. */
static void finish_success(consumer *c) {
    ard_store_finish(c->store, ARD_OK, NULL);
    while (c->st == ARD_OK && !(all_done(c) && ard_store_drained(c->store))) {
        double now = ard__cl_now();
        int any = poll_heartbeats(c, now) | poll_done(c, now);
        heartbeat(c, now);
        check_alive(c, now);
        if (ard__cl_cancelled(c->s->o)) {
            ard_error e;
            ard_error_init(&e);
            ard_error_set(&e, ARD_EIO, "interrupted while the store drained");
            fail(c, ARD_EIO, &e);
        }
        if (!any) {
            ard__cl_nap(2000);
        }
    }
}

static ard_status setup(consumer *c, ard_error *err) {
    int32_t n = c->s->num_prod, size = c->s->cl->size;
    c->cap = ard_store_num_slots(c->store);
    c->win = ard_calloc((size_t)c->cap, sizeof *c->win);
    c->index_of = ard_calloc((size_t)size, sizeof *c->index_of);
    c->last_seen = ard_calloc((size_t)n, sizeof *c->last_seen);
    c->done = ard_calloc((size_t)n, sizeof *c->done);
    c->dead = ard_calloc((size_t)n, sizeof *c->dead);
    c->sent = ard_calloc((size_t)n, sizeof *c->sent);
    c->posted = ard_calloc((size_t)n, sizeof *c->posted);
    if (!c->win || !c->index_of || !c->last_seen || !c->done || !c->dead || !c->sent ||
        !c->posted) {
        return ard_error_set(err, ARD_ENOMEM, "cluster stream: consumer tables");
    }
    for (int32_t r = 0; r < size; r++) {
        c->index_of[r] = -1;
    }
    double now = ard__cl_now();
    for (int32_t q = 0; q < n; q++) {
        c->index_of[c->s->prod[q]] = q;
        c->last_seen[q] = now;
    }
    const cl_geometry *g = &c->s->geo;
    c->token_bytes = g->batch_size * g->num_patches * g->patch * (c->s->o->wire ? 2 : 4);
    ard_batch b;
    memset(&b, 0, sizeof b);
    ard_batch_bytes(c->store, &b, &c->slot_bytes); /* slot 0: every slot has the same size */
    /* tokens at offset 0, then the other arrays from the next 64-byte boundary (stream.h); the
     * message packs them without the padding (wire.c) */
    c->rest_offset = (c->token_bytes + 63) / 64 * 64;
    c->msg_bytes = c->token_bytes + (c->slot_bytes - c->rest_offset);
    if (c->msg_bytes > INT32_MAX) {
        return ard_error_set(err, ARD_ELIMIT, "cluster stream: batches of %lld bytes (max 2 GiB)",
                             (long long)c->msg_bytes);
    }
    c->inplace = c->s->o->wire == ARD_WIRE_F32 || c->rest_offset == c->token_bytes;
    if (!c->inplace) {
        for (int32_t i = 0; i < c->cap; i++) {
            c->win[i].staging = ard_malloc((size_t)c->msg_bytes);
            if (!c->win[i].staging) {
                return ard_error_set(err, ARD_ENOMEM, "cluster stream: staging buffers");
            }
        }
    }
    return ARD_OK;
}

static void teardown(consumer *c) {
    for (int32_t i = 0; c->win && i < c->cap; i++) {
        ard_free(c->win[i].staging);
    }
    ard_free(c->win);
    ard_free(c->index_of);
    ard_free(c->last_seen);
    ard_free(c->done);
    ard_free(c->dead);
    ard_free(c->sent);
    ard_free(c->posted);
}

ard_status ard__cl_consume(cl_stream *s, ard_store *store, ard_error *err) {
    consumer c;
    memset(&c, 0, sizeof c);
    c.s = s;
    c.store = store;
    c.comm = s->cl->comm;
    c.err = err;
    c.timeout_s = (double)s->o->peer_timeout_ms / 1000.0;
    ard_error e;
    ard_error_init(&e);
    ard_status st = setup(&c, &e);
    if (st != ARD_OK) {
        fail(&c, st, &e);
    }
    double t0 = ard__cl_now();
    while (c.st == ARD_OK && c.next_pub < s->geo.total_batches) {
        double now = ard__cl_now();
        int any = poll_heartbeats(&c, now) | poll_done(&c, now);
        any |= post_receives(&c);
        any |= publish_ready(&c, now);
        heartbeat(&c, now);
        check_alive(&c, now);
        if (ard__cl_cancelled(s->o)) {
            ard_error_init(&e);
            ard_error_set(&e, ARD_EIO,
                          "interrupted (SIGINT/SIGTERM; mpirun sends SIGTERM when "
                          "a rank of the job dies)");
            fail(&c, ARD_EIO, &e);
        }
        if (!any) {
            ard__cl_nap(200);
        }
    }
    s->rep->seconds = ard__cl_now() - t0;
    if (c.st == ARD_OK) {
        finish_success(&c);
    }
    if (c.st != ARD_OK) {
        ard_store_finish(store, c.st, err && err->msg[0] ? err->msg : ard_status_str(c.st));
        if (c.win) {
            drain_after_failure(&c);
        }
    } else {
        stop_producers(&c);
    }
    teardown(&c);
    return c.st;
}

#endif /* ARD_HAVE_MPI */
