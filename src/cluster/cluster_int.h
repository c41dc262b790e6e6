/* Private header of the cluster module: the handle, message tags, the wire conversions and the
 * pieces of the distributed stream shared by its consumer and producer halves. */
#ifndef ARD_CLUSTER_INT_H
#define ARD_CLUSTER_INT_H

#include "ard/cluster.h"

#include <stddef.h>
#include <stdio.h>

#if ARD_HAVE_MPI
#include <mpi.h>

struct ard_cluster {
    MPI_Comm comm;
    int32_t rank, size;
    int32_t broken; /* a peer was declared dead: no collective may run on comm */
};
#endif

/* Message tags of the stream transport (on the handle's private communicator). */
enum {
    CL_TAG_BATCH = 11,     /* producer -> consumer: one batch (slot bytes, maybe narrowed) */
    CL_TAG_CREDIT = 12,    /* consumer -> producer: int32 credits */
    CL_TAG_HEARTBEAT = 13, /* both ways, empty */
    CL_TAG_DONE = 14,      /* producer -> consumer: int64 {status, batches sent} + message */
    CL_TAG_STOP = 15,      /* consumer -> producer: stop producing, empty */
    CL_TAG_PROGRESS = 16   /* ard_cluster_progress: int64 {done, total, final} */
};

#define CL_HEARTBEAT_MS 200
#define CL_DONE_BYTES 528 /* 2 int64 + a 512-byte message */

#if !ARD_HAVE_MPI
/* What every cluster function of a build without MPI returns: ARD_ENOTSUP, "<what>: this ard was
 * built without MPI (configure with ...)"; *failures (when given) NULL. */
ard_status ard__cl_no_mpi(const char *what, char **failures, ard_error *err);
#endif

/* Seconds on CLOCK_MONOTONIC. */
double ard__cl_now(void);
/* Sleeps about `us` microseconds (a polling loop that made no progress). */
void ard__cl_nap(long us);

/* float32 <-> float16 / bfloat16, round to nearest even (wire.c). */
uint16_t ard__f32_to_f16(float v);
float ard__f16_to_f32(uint16_t h);
uint16_t ard__f32_to_bf16(float v);
float ard__bf16_to_f32(uint16_t h);
/* Bytes of a slot of slot_bytes whose first token_bytes (float32 tokens) travel as `wire`. */
int64_t ard__wire_message_bytes(int32_t wire, int64_t slot_bytes, int64_t token_bytes,
                                int64_t rest_offset);
/* slot -> message and back; rest_offset: where the non-token arrays start in the slot. */
void ard__wire_pack(int32_t wire, const uint8_t *slot, int64_t slot_bytes, int64_t token_bytes,
                    int64_t rest_offset, uint8_t *msg);
void ard__wire_unpack(int32_t wire, const uint8_t *msg, int64_t slot_bytes, int64_t token_bytes,
                      int64_t rest_offset, uint8_t *slot);
/* In place (rest_offset == token_bytes): narrow the float32 tokens at slot[0..token_bytes) into
 * 16-bit values at slot[token_bytes / 2 ..), and back. */
void ard__wire_narrow_inplace(int32_t wire, uint8_t *slot, int64_t token_bytes);
void ard__wire_widen_inplace(int32_t wire, uint8_t *slot, int64_t token_bytes);

#if ARD_HAVE_MPI
/* The stream's shared geometry, sent by the first producer to every rank. */
typedef struct cl_geometry {
    int64_t batch_size, num_patches, patch, num_columns;
    int64_t rows_per_epoch, batches_per_epoch, total_batches, chunk;
    float *wave; /* num_patches, owned */
    ard_stream_column columns[ARD_STREAM_MAX_COLUMNS];
    char names[ARD_STREAM_MAX_COLUMNS][ARD_STREAM_COLUMN_NAME];
} cl_geometry;

/* Which producer rank sends global batch g. */
int32_t ard__cl_owner(const cl_geometry *g, const int32_t *producers, int32_t num_producers,
                      int64_t batch);
/* Rows and epoch of global batch g. */
int32_t ard__cl_batch_rows(const cl_geometry *g, int64_t batch);

/* The consumer / producer halves of ard_cluster_stream_serve (stream_consumer.c,
 * stream_producer.c), after setup. */
typedef struct cl_stream {
    ard_cluster *cl;
    const ard_cluster_stream_options *o;
    cl_geometry geo;
    int32_t *prod; /* producer ranks, ascending */
    int32_t num_prod;
    ard_cluster_stream_report *rep;
} cl_stream;

ard_status ard__cl_consume(cl_stream *s, ard_store *store, ard_error *err);
ard_status ard__cl_produce(cl_stream *s, ard_loader *loader, ard_error *err);
/* 1 when the options' cancel flag is set. */
int ard__cl_cancelled(const ard_cluster_stream_options *o);
#endif

#endif
