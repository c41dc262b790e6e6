/* ard_cluster_stream_serve: sets up the distributed stream -- producers build their loader over
 * their share of the global batches, the first producer broadcasts the geometry, the consumer
 * creates the named store -- agreeing on the status after each step, prints the layout through the
 * caller's callback, then hands over to the consumer or producer loop and agrees on the outcome. */
#include "cluster_int.h"

#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

void ard_cluster_stream_options_init(ard_cluster_stream_options *opts) {
    memset(opts, 0, sizeof *opts);
    ard_loader_options_init(&opts->loader);
    opts->wire = ARD_WIRE_F32;
    opts->peer_timeout_ms = 10000;
}

#if ARD_HAVE_MPI

int ard__cl_cancelled(const ard_cluster_stream_options *o) {
    return o->cancel && *o->cancel;
}

int32_t ard__cl_owner(const cl_geometry *g, const int32_t *producers, int32_t num_producers,
                      int64_t batch) {
    return producers[(batch / g->chunk) % num_producers];
}

int32_t ard__cl_batch_rows(const cl_geometry *g, int64_t batch) {
    int64_t left = g->rows_per_epoch - batch % g->batches_per_epoch * g->batch_size;
    return (int32_t)(left < g->batch_size ? left : g->batch_size);
}

static const char *wire_name(int32_t wire) {
    return wire == ARD_WIRE_F16 ? "f16" : wire == ARD_WIRE_BF16 ? "bf16" : "f32";
}

static ard_status check_options(const ard_cluster *cl, const ard_cluster_stream_options *o,
                                ard_error *err) {
    if (!cl || !o) {
        return ard_error_set(err, ARD_EINVAL, "cluster stream: NULL handle or options");
    }
    if (cl->size < 2) {
        return ard_error_set(err, ARD_EINVAL,
                             "cluster stream: needs at least 2 ranks (one consumer, producers)");
    }
    if (o->consumer_rank < 0 || o->consumer_rank >= cl->size) {
        return ard_error_set(err, ARD_EINVAL, "cluster stream: --consumer-rank %d of %d ranks",
                             o->consumer_rank, cl->size);
    }
    if (o->wire < ARD_WIRE_F32 || o->wire > ARD_WIRE_BF16 || o->peer_timeout_ms <= 0 ||
        o->chunk_batches < 0) {
        return ard_error_set(err, ARD_EINVAL, "cluster stream: wire, timeout or chunk");
    }
    if (!o->loader.store_name) {
        return ard_error_set(err, ARD_EINVAL, "cluster stream: the consumer's store needs a name");
    }
    if (o->num_items <= 0 && !o->dataset) {
        return ard_error_set(err, ARD_EINVAL, "cluster stream: no dataset and no read plan");
    }
    return ARD_OK;
}

static ard_status build_loader(const ard_cluster_stream_options *o, int32_t part, int32_t parts,
                               ard_loader **out, ard_error *err) {
    ard_loader_options lo = o->loader;
    lo.store_name = NULL; /* the producer's local buffer: an anonymous store */
    ard_status st;
    if (o->num_items > 0) {
        st = ard_loader_new(&lo, o->items, o->num_items, out, err);
    } else if (o->where) {
        st = ard_loader_new_query(&lo, o->dataset, o->dsn, o->where, out, err);
    } else {
        st = ard_loader_new_dataset(&lo, o->dataset, out, err);
    }
    if (st == ARD_OK) {
        st = ard_loader_select_batches(*out, part, parts, o->chunk_batches, err);
    }
    if (st != ARD_OK) {
        ard_loader_free(*out);
        *out = NULL;
    }
    return st;
}

enum { GEO_INTS = 8, GEO_COLUMN = ARD_STREAM_COLUMN_NAME + 8 };

/* The first producer describes the stream; every rank receives it. */
static ard_status share_geometry(cl_stream *s, ard_loader *loader, ard_error *err) {
    cl_geometry *g = &s->geo;
    int root = s->prod[0], me = s->cl->rank == root;
    long long len = 0;
    uint8_t *buf = NULL;
    if (me) {
        ard_store *st = ard_loader_store(loader);
        int64_t head[GEO_INTS] = {ard_store_batch_size(st),
                                  ard_store_num_patches(st),
                                  ard_store_patch(st),
                                  ard_store_num_columns(st),
                                  ard_loader_rows_per_epoch(loader),
                                  ard_loader_batches_per_epoch(loader),
                                  ard_loader_batches_per_epoch(loader) * s->o->loader.epochs,
                                  s->o->chunk_batches > 0 ? s->o->chunk_batches
                                                          : ard_loader_default_chunk(loader)};
        len = (long long)(sizeof head + (size_t)head[1] * 4 + (size_t)head[3] * GEO_COLUMN);
        buf = ard_calloc(1, (size_t)len);
        if (buf) {
            memcpy(buf, head, sizeof head);
            memcpy(buf + sizeof head, ard_store_wave(st), (size_t)head[1] * 4);
            uint8_t *c = buf + sizeof head + head[1] * 4;
            for (int32_t i = 0; i < head[3]; i++, c += GEO_COLUMN) {
                snprintf((char *)c, ARD_STREAM_COLUMN_NAME, "%s", ard_store_column_name(st, i));
                int32_t tw[2] = {ard_store_column_type(st, i), ard_store_column_width(st, i)};
                memcpy(c + ARD_STREAM_COLUMN_NAME, tw, 8);
            }
        } else {
            len = -1;
        }
    }
    if (MPI_Bcast(&len, 1, MPI_LONG_LONG, root, s->cl->comm) != MPI_SUCCESS || len < 0) {
        ard_free(buf);
        return ard_error_set(err, len < 0 ? ARD_ENOMEM : ARD_EIO, "cluster stream: geometry");
    }
    if (!me) {
        buf = ard_malloc((size_t)len);
    }
    int ok = buf != NULL, all_ok = 0;
    MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, s->cl->comm);
    if (!all_ok || MPI_Bcast(buf, (int)len, MPI_BYTE, root, s->cl->comm) != MPI_SUCCESS) {
        ard_free(buf);
        return ard_error_set(err, all_ok ? ARD_EIO : ARD_ENOMEM, "cluster stream: geometry");
    }
    int64_t head[GEO_INTS];
    memcpy(head, buf, sizeof head);
    g->batch_size = head[0];
    g->num_patches = head[1];
    g->patch = head[2];
    g->num_columns = head[3];
    g->rows_per_epoch = head[4];
    g->batches_per_epoch = head[5];
    g->total_batches = head[6];
    g->chunk = head[7];
    g->wave = ard_malloc((size_t)g->num_patches * 4 + 4);
    if (g->wave) {
        memcpy(g->wave, buf + sizeof head, (size_t)g->num_patches * 4);
    }
    const uint8_t *c = buf + sizeof head + g->num_patches * 4;
    for (int32_t i = 0; i < g->num_columns; i++, c += GEO_COLUMN) {
        memcpy(g->names[i], c, ARD_STREAM_COLUMN_NAME);
        g->names[i][ARD_STREAM_COLUMN_NAME - 1] = '\0';
        int32_t tw[2];
        memcpy(tw, c + ARD_STREAM_COLUMN_NAME, 8);
        g->columns[i] = (ard_stream_column){g->names[i], tw[0], tw[1]};
    }
    ard_free(buf);
    return g->wave ? ARD_OK : ard_error_set(err, ARD_ENOMEM, "cluster stream: wave");
}

static ard_status make_store(cl_stream *s, ard_store **out, ard_error *err) {
    const cl_geometry *g = &s->geo;
    ard_store_options so;
    ard_store_options_init(&so);
    so.name = s->o->loader.store_name;
    so.slots = s->o->loader.prefetch_batches;
    so.memory_cap = s->o->loader.memory_cap;
    so.batch_size = (int32_t)g->batch_size;
    so.num_patches = (int32_t)g->num_patches;
    so.patch = (int32_t)g->patch;
    so.wave = g->wave;
    so.num_columns = (int32_t)g->num_columns;
    so.columns = g->columns;
    so.token_dtype = s->o->wire; /* the store keeps what the wire carries (ARD_TOKENS_*) */
    return ard_store_create(&so, out, err);
}

static void layout_line(const cl_stream *s, const ard_loader *loader, const ard_store *store,
                        char *out, size_t cap) {
    char host[64] = "?";
    gethostname(host, sizeof host - 1);
    const ard_cluster_stream_report *r = s->rep;
    const char *cpus = r->cpus[0] ? r->cpus : "not pinned";
    if (r->role == 0) {
        snprintf(out, cap,
                 "rank %d pid %d host %s: consumer, store /%s, %d slots of %lld bytes, wire %s, "
                 "cpus %s\n",
                 r->rank, (int)getpid(), host, s->o->loader.store_name, r->slots,
                 (long long)ard_store_size(store) / (r->slots > 0 ? r->slots : 1),
                 wire_name(s->o->wire), cpus);
    } else {
        snprintf(out, cap,
                 "rank %d pid %d host %s: producer, %lld of %lld batches (chunks of %lld), %d "
                 "threads, %d slots, cpus %s\n",
                 r->rank, (int)getpid(), host, (long long)ard_loader_total_batches(loader),
                 (long long)s->geo.total_batches, (long long)s->geo.chunk, s->o->loader.threads,
                 r->slots, cpus);
    }
}

/* Agrees on st; on rank 0 hands the failure lines to the caller's callback. */
static ard_status agree(cl_stream *s, ard_status st, ard_error *err) {
    char *report = NULL;
    st = ard_cluster_agree(s->cl, st, err, &report);
    if (report && s->o->on_failures) {
        s->o->on_failures(s->o->ctx, report);
    }
    ard_free(report);
    return st;
}

static ard_status run(cl_stream *s, ard_loader **loader, ard_store **store, ard_error *err) {
    int32_t me = s->cl->rank, producer = me != s->o->consumer_rank;
    ard_status st = ARD_OK;
    if (s->o->cpus) {
        st = ard_cluster_pin_cpus(s->o->cpus, me, s->rep->cpus, sizeof s->rep->cpus, err);
    }
    if (st == ARD_OK && producer) {
        int32_t part = 0;
        while (s->prod[part] != me) {
            part++;
        }
        st = build_loader(s->o, part, s->num_prod, loader, err);
    }
    if ((st = agree(s, st, err)) != ARD_OK) {
        return st;
    }
    st = share_geometry(s, *loader, err);
    if (st == ARD_OK && !producer) {
        st = make_store(s, store, err);
    }
    if (st == ARD_OK && (s->geo.total_batches <= 0 || s->geo.chunk <= 0)) {
        st = ard_error_set(err, ARD_EINVAL, "cluster stream: the plan gives no batch");
    }
    if ((st = agree(s, st, err)) != ARD_OK) {
        return st;
    }
    s->rep->slots =
        producer ? ard_store_num_slots(ard_loader_store(*loader)) : ard_store_num_slots(*store);
    s->rep->store_bytes = (int64_t)ard_store_size(producer ? ard_loader_store(*loader) : *store);
    s->rep->rows_per_epoch = s->geo.rows_per_epoch;
    s->rep->batches_per_epoch = s->geo.batches_per_epoch;
    char line[512], *all = NULL;
    layout_line(s, *loader, *store, line, sizeof line);
    st = ard_cluster_gather_text(s->cl, line, &all, err);
    if (st == ARD_OK && all && s->o->on_layout) {
        s->o->on_layout(s->o->ctx, all);
    }
    ard_free(all);
    if ((st = agree(s, st, err)) != ARD_OK) {
        return st;
    }
    st = producer ? ard__cl_produce(s, *loader, err) : ard__cl_consume(s, *store, err);
    if (s->cl->broken) {
        return st; /* a lost peer: no collective can complete */
    }
    return agree(s, st, err);
}

ard_status ard_cluster_stream_serve(ard_cluster *cluster, const ard_cluster_stream_options *opts,
                                    ard_cluster_stream_report *report, ard_error *err) {
    ard_cluster_stream_report local;
    ard_cluster_stream_report *rep = report ? report : &local;
    memset(rep, 0, sizeof *rep);
    ard_status st = check_options(cluster, opts, err);
    if (st != ARD_OK) {
        return st;
    }
    cl_stream s;
    memset(&s, 0, sizeof s);
    s.cl = cluster;
    s.o = opts;
    s.rep = rep;
    rep->rank = cluster->rank;
    rep->size = cluster->size;
    rep->consumer_rank = opts->consumer_rank;
    rep->role = cluster->rank != opts->consumer_rank;
    s.prod = ard_calloc((size_t)cluster->size, sizeof *s.prod);
    int ok = s.prod != NULL, all_ok = 0;
    MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, cluster->comm);
    if (!all_ok) {
        ard_free(s.prod);
        return ard_error_set(err, ARD_ENOMEM, "cluster stream: producer table");
    }
    for (int32_t r = 0; r < cluster->size; r++) {
        if (r != opts->consumer_rank) {
            s.prod[s.num_prod++] = r;
        }
    }
    ard_loader *loader = NULL;
    ard_store *store = NULL;
    st = run(&s, &loader, &store, err);
    ard_store_close(store);
    ard_loader_free(loader);
    ard_free(s.geo.wave);
    ard_free(s.prod);
    rep->bytes_per_spectrum = rep->spectra > 0 ? (double)rep->wire_bytes / (double)rep->spectra : 0;
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        rep->peak_rss_bytes = (int64_t)ru.ru_maxrss * 1024; /* Linux: KiB */
    }
    return st;
}

#else

ard_status ard_cluster_stream_serve(ard_cluster *cluster, const ard_cluster_stream_options *opts,
                                    ard_cluster_stream_report *report, ard_error *err) {
    (void)cluster;
    (void)opts;
    if (report) {
        memset(report, 0, sizeof *report);
    }
    return ard__cl_no_mpi("cluster stream", NULL, err);
}

#endif
