/* Helpers shared by the ring wait/wake tests (test_ring_wake.c). */
#ifndef ARD_TESTS_ST_RING_H
#define ARD_TESTS_ST_RING_H

#include "stream_int.h"

/* A small store geometry: `slots` slots of 4 rows x 3 patches of 32. */
void st_ring_geometry(ard_store_options *o, int32_t slots);
/* Reads a header field under the store lock. */
int32_t st_locked_read(store_header *h, const int32_t *field);
/* Waits (up to 5 s) until a header field read under the store lock is not 0; returns it. */
int32_t st_wait_nonzero(store_header *h, const int32_t *field);
/* A producer's step: claims a slot (waiting up to timeout_ms), sets targetid[0] to its sequence
 * number and publishes it full. */
ard_status st_produce(ard_store *s, int64_t timeout_ms);
/* CLOCK_MONOTONIC in milliseconds. */
int64_t st_now_ms(void);

/* A consumer thread (st_sleeper_main): one acquire (10 s timeout) on `c`; the batch's targetid[0]
 * (-1 when none), the status and how long the acquire took; the batch is released. */
typedef struct st_sleeper {
    ard_store *c;
    ard_status st;
    int64_t seq, took_ms;
} st_sleeper;
void *st_sleeper_main(void *arg);

#endif
