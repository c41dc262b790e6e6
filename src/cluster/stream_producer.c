/* A producer rank of a distributed stream: its loader tokenizes this rank's batches into a local
 * anonymous store (at most its prefetch depth ahead); each finished batch is sent to the consumer
 * against one credit, straight from the local slot (f32) or narrowed into a staging buffer, in
 * global order. Ends with a DONE message (status, batches sent), then waits for the consumer's
 * STOP so every rank enters the final agreement together. */
#include "cluster_int.h"

#include <string.h>

#if ARD_HAVE_MPI

typedef struct inflight {
    ard_batch b; /* held local slot (f32 wire) */
    int32_t holds_slot;
    MPI_Request req;
    uint8_t *staging;
} inflight;

typedef struct producer {
    cl_stream *s;
    ard_loader *loader;
    ard_store *local; /* consumer handle on the loader's store */
    MPI_Comm comm;
    int32_t consumer;
    inflight *q;
    int32_t cap, head, count;
    int64_t credits, sent, next_global;
    int32_t stop, got_stop, produced_all;
    double last_seen, last_beat, timeout_s;
    int64_t token_bytes, rest_offset, slot_bytes, msg_bytes;
    int32_t inplace; /* narrow wire: tokens narrowed inside the local slot, sent from there */
    ard_status st;
    ard_error err;
} producer;

static void fail(producer *p, ard_status st, const ard_error *e) {
    if (p->st == ARD_OK) {
        p->st = st;
        p->err = *e;
    }
    p->stop = 1;
}

static int poll_consumer(producer *p, double now) {
    int any = 0;
    for (int tag = CL_TAG_CREDIT; tag <= CL_TAG_STOP; tag++) {
        if (tag == CL_TAG_DONE) {
            continue;
        }
        for (;;) {
            int flag = 0;
            if (MPI_Iprobe(p->consumer, tag, p->comm, &flag, MPI_STATUS_IGNORE) != MPI_SUCCESS ||
                !flag) {
                break;
            }
            int credit = 0;
            MPI_Recv(tag == CL_TAG_CREDIT ? &credit : NULL, tag == CL_TAG_CREDIT ? 1 : 0,
                     tag == CL_TAG_CREDIT ? MPI_INT : MPI_BYTE, p->consumer, tag, p->comm,
                     MPI_STATUS_IGNORE);
            p->credits += credit;
            if (p->credits > p->s->rep->max_credits) {
                p->s->rep->max_credits = p->credits;
            }
            p->got_stop |= tag == CL_TAG_STOP;
            p->stop |= tag == CL_TAG_STOP;
            p->last_seen = now;
            any = 1;
        }
    }
    return any;
}

static int complete_sends(producer *p) {
    int any = 0;
    while (p->count > 0) {
        inflight *f = &p->q[p->head];
        int flag = 0;
        if (MPI_Test(&f->req, &flag, MPI_STATUS_IGNORE) != MPI_SUCCESS || !flag) {
            break;
        }
        if (f->holds_slot) {
            ard_store_release(p->local, &f->b, NULL);
            f->holds_slot = 0;
        }
        p->head = (p->head + 1) % p->cap;
        p->count--;
        any = 1;
    }
    return any;
}

static int send_next(producer *p) {
    if (!p->produced_all && p->sent == ard_loader_total_batches(p->loader)) {
        p->produced_all = 1; /* every batch of this rank went out (no credit will come) */
        return 1;
    }
    if (p->stop || p->produced_all || p->credits <= 0 || p->count == p->cap) {
        return 0;
    }
    ard_batch b;
    ard_error e;
    ard_error_init(&e);
    ard_status st = ard_store_acquire(p->local, 0, &b, &e);
    if (st == ARD_ELIMIT) {
        return 0; /* the loader has not finished the next batch yet */
    }
    if (st == ARD_EEOF) {
        p->produced_all = 1;
        return 1;
    }
    if (st != ARD_OK) {
        fail(p, st, &e); /* the loader failed: its status and message */
        return 1;
    }
    int64_t g = ard_loader_global_batch(p->loader, b.seq);
    inflight *f = &p->q[(p->head + p->count) % p->cap];
    uint8_t *slot = ard_batch_bytes(p->local, &b, NULL);
    const void *src = slot;
    if (p->s->o->wire == ARD_WIRE_F32) {
        f->b = b;
        f->holds_slot = 1;
    } else if (p->inplace) {
        ard__wire_narrow_inplace(p->s->o->wire, slot, p->token_bytes);
        f->b = b;
        f->holds_slot = 1;
        src = slot + p->token_bytes / 2;
    } else {
        ard__wire_pack(p->s->o->wire, slot, p->slot_bytes, p->token_bytes, p->rest_offset,
                       f->staging);
        ard_store_release(p->local, &b, NULL);
        src = f->staging;
    }
    if (MPI_Isend(src, (int)p->msg_bytes, MPI_BYTE, p->consumer, CL_TAG_BATCH, p->comm, &f->req) !=
        MPI_SUCCESS) {
        if (f->holds_slot) {
            ard_store_release(p->local, &b, NULL);
            f->holds_slot = 0;
        }
        ard_error_set(&e, ARD_EIO, "sending batch %lld to rank %d", (long long)g, p->consumer);
        fail(p, ARD_EIO, &e);
        return 1;
    }
    p->count++;
    if (p->count > p->s->rep->max_in_flight) {
        p->s->rep->max_in_flight = p->count;
    }
    p->credits--;
    p->sent++;
    p->s->rep->batches++;
    p->s->rep->spectra += ard__cl_batch_rows(&p->s->geo, g);
    p->s->rep->wire_bytes += p->msg_bytes;
    return 1;
}

static void heartbeat(producer *p, double now) {
    if (now - p->last_beat >= CL_HEARTBEAT_MS / 1000.0) {
        MPI_Send(NULL, 0, MPI_BYTE, p->consumer, CL_TAG_HEARTBEAT, p->comm);
        p->last_beat = now;
    }
}

static int consumer_lost(producer *p, double now) {
    if (now - p->last_seen <= p->timeout_s) {
        return 0;
    }
    ard_error e;
    ard_error_init(&e);
    ard_error_set(&e, ARD_EIO, "consumer rank %d silent for %.1f s (killed or stopped?)",
                  p->consumer, now - p->last_seen);
    fail(p, ARD_EIO, &e);
    p->s->cl->broken = 1;
    return 1;
}

static void cancel_check(producer *p) {
    if (ard__cl_cancelled(p->s->o) && !p->stop) {
        ard_error e;
        ard_error_init(&e);
        ard_error_set(&e, ARD_EIO, "interrupted");
        fail(p, ARD_EIO, &e);
    }
}

static void run_loop(producer *p) {
    for (;;) {
        double now = ard__cl_now();
        int any = poll_consumer(p, now);
        any |= complete_sends(p);
        any |= send_next(p);
        heartbeat(p, now);
        cancel_check(p);
        if (consumer_lost(p, now)) {
            return;
        }
        if ((p->stop || p->produced_all) && p->count == 0) {
            return;
        }
        if (!any) {
            ard__cl_nap(200);
        }
    }
}

/* Reports the outcome, then waits for the consumer's STOP. */
static void report_done(producer *p) {
    uint8_t msg[CL_DONE_BYTES];
    memset(msg, 0, sizeof msg);
    int64_t head[2] = {p->st, p->sent};
    memcpy(msg, head, sizeof head);
    snprintf((char *)msg + 16, CL_DONE_BYTES - 16, "%s",
             p->err.msg[0] ? p->err.msg : ard_status_str(p->st));
    MPI_Send(msg, CL_DONE_BYTES, MPI_BYTE, p->consumer, CL_TAG_DONE, p->comm);
    while (!p->got_stop) {
        double now = ard__cl_now();
        int any = poll_consumer(p, now);
        heartbeat(p, now);
        if (consumer_lost(p, now)) {
            return;
        }
        if (!any) {
            ard__cl_nap(2000);
        }
    }
}

static ard_status setup(producer *p, ard_error *err) {
    ard_status st = ard_store_attach(ard_loader_store(p->loader), &p->local, err);
    if (st != ARD_OK) {
        return st;
    }
    const cl_geometry *g = &p->s->geo;
    p->cap = ard_store_num_slots(p->local);
    p->q = ard_calloc((size_t)p->cap, sizeof *p->q);
    if (!p->q) {
        return ard_error_set(err, ARD_ENOMEM, "cluster stream: send queue");
    }
    ard_batch b;
    memset(&b, 0, sizeof b);
    ard_batch_bytes(p->local, &b, &p->slot_bytes);
    p->token_bytes = g->batch_size * g->num_patches * g->patch * 4;
    p->rest_offset = (p->token_bytes + 63) / 64 * 64;
    p->msg_bytes =
        ard__wire_message_bytes(p->s->o->wire, p->slot_bytes, p->token_bytes, p->rest_offset);
    if (p->msg_bytes > INT32_MAX) {
        return ard_error_set(err, ARD_ELIMIT, "cluster stream: batches of %lld bytes (max 2 GiB)",
                             (long long)p->msg_bytes);
    }
    p->inplace = p->rest_offset == p->token_bytes;
    for (int32_t i = 0; p->s->o->wire != ARD_WIRE_F32 && !p->inplace && i < p->cap; i++) {
        p->q[i].staging = ard_malloc((size_t)p->msg_bytes);
        if (!p->q[i].staging) {
            return ard_error_set(err, ARD_ENOMEM, "cluster stream: staging buffers");
        }
    }
    return ard_loader_start(p->loader, err);
}

ard_status ard__cl_produce(cl_stream *s, ard_loader *loader, ard_error *err) {
    producer p;
    memset(&p, 0, sizeof p);
    p.s = s;
    p.loader = loader;
    p.comm = s->cl->comm;
    p.consumer = s->o->consumer_rank;
    p.timeout_s = (double)s->o->peer_timeout_ms / 1000.0;
    p.last_seen = ard__cl_now();
    ard_error_init(&p.err);
    ard_error e;
    ard_error_init(&e);
    ard_status st = setup(&p, &e);
    if (st != ARD_OK) {
        fail(&p, st, &e);
    }
    double t0 = ard__cl_now();
    if (p.st == ARD_OK) {
        run_loop(&p);
    }
    s->rep->seconds = ard__cl_now() - t0;
    if (!s->cl->broken) {
        report_done(&p);
    }
    for (int32_t i = 0; p.q && i < p.cap; i++) {
        if (p.q[i].holds_slot) {
            ard_store_release(p.local, &p.q[i].b, NULL);
        }
        ard_free(p.q[i].staging);
    }
    ard_free(p.q);
    ard_store_close(p.local);
    if (p.st != ARD_OK && err) {
        *err = p.err;
    }
    return p.st;
}

#endif /* ARD_HAVE_MPI */
