/* The flags `ard stream serve` and `ard stream bench` share (cmd_stream_opts.c), handed to the two
 * commands (cmd_stream.c, cmd_stream_bench.c). */
#ifndef ARD_CMD_STREAM_H
#define ARD_CMD_STREAM_H

#include "cli.h"

#include "ard/stream.h"

enum {
    OPT_NAME,
    OPT_CONNECT,
    OPT_PLAN,
    OPT_WHERE,
    OPT_BATCH,
    OPT_PREFETCH,
    OPT_SHUFFLE,
    OPT_BUFFER,
    OPT_SEED,
    OPT_EPOCHS,
    OPT_DROP_LAST,
    OPT_RANK,
    OPT_WORLD,
    OPT_THREADS,
    OPT_MEMORY,
    OPT_CACHE,
    OPT_PATCH,
    OPT_NORM,
    OPT_JSON,
    OPT_DB,
    OPT_COLUMNS,
    OPT_TEXT_WIDTH,
    OPT_CONSUMER_RANK,
    OPT_WIRE,
    OPT_CPUS,
    OPT_PEER_TIMEOUT,
    OPT_WEIGHTS,
    OPT_FRAME,
    OPT_ON_ERROR,
    OPT_STREAM_COUNT
};

extern const ard_cli_option ard_cli_stream_options[OPT_STREAM_COUNT];

/* The loader options from the flags (ard_loader_options_init first). 0 or the usage exit code. */
int ard_cli_stream_loader_options(const ard_cli_args *a, const char *cmd, ard_loader_options *o);
/* The flag value or NULL; --plan - reads stdin. */
const char *ard_cli_stream_flag(const ard_cli_args *a, int opt);
const char *ard_cli_stream_plan(const ard_cli_args *a);

/* The row groups a loader skipped (--on-error skip): one stderr line each; into json (may be NULL)
 * a JSON array of {path, row_group, status, batches, error}. Returns how many. */
int64_t ard_cli_stream_skipped(ard_loader *l, ard_buf *json);

#endif
