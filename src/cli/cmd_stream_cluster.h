/* The options of `ard stream serve` that concern ranks, CPUs and the link, handed from
 * cmd_stream.c (which parses them) to cmd_stream_cluster.c. Values are the raw option strings
 * (NULL when absent), borrowed from argv. */
#ifndef ARD_CMD_STREAM_CLUSTER_H
#define ARD_CMD_STREAM_CLUSTER_H

#include "ard/stream.h"

typedef struct stream_cluster_args {
    const char *dataset, *where, *dsn;
    const char *consumer_rank, *wire, *cpus, *peer_timeout;
} stream_cluster_args;

/* Under mpirun with 2+ ranks: the distributed serve on every rank; returns the exit code. Returns
 * -1 when the job has one rank (serve in this process). */
int ard_cmd_stream_serve_cluster(const stream_cluster_args *ca, const ard_loader_options *o,
                                 const ard_read_item *items, int64_t num_items);
/* A serve in this process: checks --wire/--consumer-rank/--peer-timeout, applies --cpus and
 * prints the layout. Returns 0 or the exit code. */
int ard_cmd_stream_serve_local(const stream_cluster_args *ca);

#endif
