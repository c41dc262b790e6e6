/* The flags of `ard stream serve` and `ard stream bench` mapped onto ard_loader_options, and the
 * skipped row groups of a loader listed for the user. */
#include "cmd_stream.h"

#include <stddef.h>
#include <string.h>

const ard_cli_option ard_cli_stream_options[OPT_STREAM_COUNT] = {
    [OPT_NAME] = {"name", "NAME", "serve: the store's name (shm /NAME)"},
    [OPT_CONNECT] = {"connect", "NAME", "bench: consume the stream NAME served by another process"},
    [OPT_PLAN] = {"plan", "FILE",
                  "read plan written by `ard query DATASET --format plan` (- = stdin)"},
    [OPT_WHERE] = {"where", "SQL", "catalog predicate, run read-only by the dataset's index"},
    [OPT_BATCH] = {"batch-size", "N", "spectra per batch (default 256)"},
    [OPT_PREFETCH] = {"prefetch", "N", "batch slots in the store (default 10)"},
    [OPT_SHUFFLE] = {"shuffle", NULL, "shuffle row groups per epoch"},
    [OPT_BUFFER] = {"shuffle-buffer", "N", "local shuffle buffer in rows (implies --shuffle)"},
    [OPT_SEED] = {"seed", "N", "shuffle seed (default 0)"},
    [OPT_EPOCHS] = {"epochs", "N", "passes over the data (default 1)"},
    [OPT_DROP_LAST] = {"drop-last", NULL, "drop a short last batch per epoch"},
    [OPT_RANK] = {"rank", "R", "this shard (default 0)"},
    [OPT_WORLD] = {"world", "W", "number of shards (default 1)"},
    [OPT_THREADS] = {"threads", "N", "producer threads (default 2)"},
    [OPT_MEMORY] = {"memory", "SIZE", "cap on store + cache bytes (K/M/G suffixes)"},
    [OPT_CACHE] = {"cache", NULL, "keep tokenized spectra in memory after epoch 1"},
    [OPT_PATCH] = {"patch", "P", "bins per token (32..128, default 64)"},
    [OPT_NORM] = {"norm", "MODE", "median (default), spectrum-median or none"},
    [OPT_JSON] = {"json", NULL, "bench: print the figures as JSON"},
    [OPT_DB] = {"db", "DSN", "index database for --where and --columns (default DATASET/ard.db)"},
    [OPT_COLUMNS] = {"columns", "LIST",
                     "catalog columns added to every batch from the index (e.g. Z,SPECTYPE)"},
    [OPT_TEXT_WIDTH] = {"text-width", "N", "bytes per text column value (default 16)"},
    [OPT_CONSUMER_RANK] = {"consumer-rank", "R",
                           "serve under mpirun: the rank that owns the store (default 0); the "
                           "others read and tokenize"},
    [OPT_WIRE] = {"wire", "FMT", "serve under mpirun: tokens cross the link as f32, f16 or bf16"},
    [OPT_CPUS] = {"cpus", "LIST", "serve: pin to CPUs (0-3,6; per rank: 0:1-3)"},
    [OPT_PEER_TIMEOUT] = {"peer-timeout", "SEC",
                          "serve under mpirun: a silent rank is dead after SEC s (default 10)"},
    [OPT_WEIGHTS] = {"weights", NULL, "add per-pixel weights (IVAR x scale^2) beside the tokens"},
    [OPT_FRAME] = {"frame", "observed|rest", "rest: align spectra by the catalog Z (index)"},
    [OPT_ON_ERROR] = {"on-error", "POLICY",
                      "fail (default): an unreadable row group ends the stream; skip: leave it "
                      "out, go on and report it"},
};

const char *ard_cli_stream_flag(const ard_cli_args *a, int opt) {
    return a->present[opt] ? a->value[opt] : NULL;
}

const char *ard_cli_stream_plan(const ard_cli_args *a) {
    const char *plan = ard_cli_stream_flag(a, OPT_PLAN);
    return plan && strcmp(plan, "-") == 0 ? "/dev/stdin" : plan;
}

typedef struct int_flag {
    int id;
    int64_t lo, hi;
    size_t offset; /* of the int32_t / int64_t field in ard_loader_options */
    int wide;      /* 1: int64_t field */
} int_flag;

#define INT_FLAG(id, lo, hi, field, wide)                                                          \
    { id, lo, hi, offsetof(ard_loader_options, field), wide }

static int apply_ints(const ard_cli_args *a, const char *cmd, ard_loader_options *o) {
    static const int_flag ints[] = {
        INT_FLAG(OPT_BATCH, 1, 1 << 20, batch_size, 0),
        INT_FLAG(OPT_PREFETCH, 1, 4096, prefetch_batches, 0),
        INT_FLAG(OPT_BUFFER, 0, INT64_MAX, local_shuffle_buffer, 1),
        INT_FLAG(OPT_SEED, 0, INT64_MAX, seed, 1),
        INT_FLAG(OPT_EPOCHS, 1, 1000000, epochs, 0),
        INT_FLAG(OPT_RANK, 0, 1 << 20, rank, 0),
        INT_FLAG(OPT_WORLD, 1, 1 << 20, world, 0),
        INT_FLAG(OPT_THREADS, 1, 256, threads, 0),
        INT_FLAG(OPT_TEXT_WIDTH, 1, 1024, text_width, 0),
        INT_FLAG(OPT_PATCH, ARD_PATCH_MIN, ARD_PATCH_MAX, tokenize.patch, 0)};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        int64_t v;
        if (!a->present[ints[i].id]) {
            continue;
        }
        if (ard_cli_parse_i64(a->value[ints[i].id], ints[i].lo, ints[i].hi, &v) != 0) {
            return ard_cli_usage(cmd, "--%s: expected an integer in %lld..%lld",
                                 ard_cli_stream_options[ints[i].id].name, (long long)ints[i].lo,
                                 (long long)ints[i].hi);
        }
        char *field = (char *)o + ints[i].offset;
        if (ints[i].wide) { /* int64_t, or the uint64_t seed (v >= 0) */
            memcpy(field, &v, sizeof v);
        } else {
            int32_t v32 = (int32_t)v;
            memcpy(field, &v32, sizeof v32);
        }
    }
    o->shuffle |= a->present[OPT_BUFFER];
    if (a->present[OPT_PATCH]) {
        o->tokenize.min_valid = o->tokenize.patch / 4;
    }
    return 0;
}

/* "a|b|c" -> the index of text among names; -1 when absent. */
static int32_t pick(const char *text, const char *const *names, int32_t count) {
    for (int32_t i = 0; i < count; i++) {
        if (strcmp(text, names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

static int apply_words(const ard_cli_args *a, const char *cmd, ard_loader_options *o) {
    static const char *const norms[] = {"median", "none", "spectrum-median"};
    static const int32_t norm_values[] = {ARD_NORM_MEDIAN, ARD_NORM_NONE, ARD_NORM_SPECTRUM_MEDIAN};
    static const char *const frames[] = {"observed", "rest"};
    static const char *const policies[] = {"fail", "skip"};
    if (a->present[OPT_NORM]) {
        int32_t k = pick(a->value[OPT_NORM], norms, 3);
        if (k < 0) {
            return ard_cli_usage(cmd, "--norm: median, spectrum-median or none");
        }
        o->tokenize.norm = norm_values[k];
    }
    if (a->present[OPT_FRAME]) {
        int32_t k = pick(a->value[OPT_FRAME], frames, 2);
        if (k < 0) {
            return ard_cli_usage(cmd, "--frame: observed or rest");
        }
        o->frame = k == 1 ? ARD_FRAME_REST : ARD_FRAME_OBSERVED;
    }
    if (a->present[OPT_ON_ERROR]) {
        int32_t k = pick(a->value[OPT_ON_ERROR], policies, 2);
        if (k < 0) {
            return ard_cli_usage(cmd, "--on-error: fail or skip");
        }
        o->on_error = k == 1 ? ARD_ON_ERROR_SKIP : ARD_ON_ERROR_FAIL;
    }
    return 0;
}

int ard_cli_stream_loader_options(const ard_cli_args *a, const char *cmd, ard_loader_options *o) {
    ard_loader_options_init(o);
    int rc = apply_ints(a, cmd, o);
    if (rc == 0) {
        rc = apply_words(a, cmd, o);
    }
    if (rc != 0) {
        return rc;
    }
    o->drop_last = a->present[OPT_DROP_LAST];
    o->cache = a->present[OPT_CACHE];
    o->weights = a->present[OPT_WEIGHTS];
    if (a->present[OPT_MEMORY] && ard_cli_parse_size(a->value[OPT_MEMORY], &o->memory_cap) != 0) {
        return ard_cli_usage(cmd, "--memory: expected a size such as 512M or 4G");
    }
    o->columns = ard_cli_stream_flag(a, OPT_COLUMNS);
    if (a->present[OPT_COLUMNS] || a->present[OPT_FRAME]) { /* both read the index */
        o->index_dataset = a->num_positional == 1 ? a->positional[0] : NULL;
        o->index_dsn = ard_cli_stream_flag(a, OPT_DB);
    }
    if (o->rank >= o->world) {
        return ard_cli_usage(cmd, "--rank must be below --world");
    }
    if (a->present[OPT_WHERE] && a->present[OPT_PLAN]) {
        return ard_cli_usage(cmd, "--where and --plan exclude each other");
    }
    return 0;
}

static void skipped_json(ard_json *j, const char *path, int32_t rg, int32_t status, int64_t times,
                         const char *msg) {
    ard_json_begin_object(j);
    ard_json_key(j, "path");
    ard_json_string(j, path);
    ard_json_key(j, "row_group");
    ard_json_int(j, rg);
    ard_json_key(j, "status");
    ard_json_string(j, ard_status_name((ard_status)status));
    ard_json_key(j, "batches");
    ard_json_int(j, times);
    ard_json_key(j, "error");
    ard_json_string(j, msg);
    ard_json_end_object(j);
}

int64_t ard_cli_stream_skipped(ard_loader *l, ard_buf *json) {
    int64_t n = ard_loader_num_skipped(l);
    ard_json j;
    if (json) {
        ard_json_init(&j, json, 0);
        ard_json_begin_array(&j);
    }
    for (int64_t i = 0; i < n; i++) {
        char path[1024], msg[512];
        int32_t rg = 0, status = 0;
        int64_t times = 0;
        if (ard_loader_skipped(l, i, path, sizeof path, &rg, &status, msg, sizeof msg, &times,
                               NULL) != ARD_OK) {
            break;
        }
        fprintf(stderr, "ard: skipped %s row group %d (%s, left out of %lld batches): %s\n", path,
                rg, ard_status_name((ard_status)status), (long long)times, msg);
        if (json) {
            skipped_json(&j, path, rg, status, times, msg);
        }
    }
    if (json) {
        ard_json_end_array(&j);
    }
    return n;
}
