/* The loader's error policy (ard_loader_options.on_error): under ARD_ON_ERROR_SKIP a row group
 * that cannot be read is left out of its batch instead of failing the stream, and recorded once
 * (tile, row group, error) for the stream's report. Kept apart from the loader's reading code so
 * that the policy does not depend on how row groups are decoded. */
#include "stream_int.h"

#include <string.h>

typedef struct loader_skip {
    int32_t rg; /* index into ard_loader.rgs */
    int32_t status;
    int64_t times;
    char message[sizeof(((ard_error *)0)->msg)];
} loader_skip;

struct loader_skips {
    loader_skip *items;
    int64_t count, cap;
};

/* The message entry_get gives a thread that finds a row group failed by another thread: a real
 * message (the decoding thread's) replaces it when it arrives. */
static const char secondhand[] = "row group failed in another thread";

int ard__loader_skippable(const ard_loader *l, ard_status st) {
    if (l->o.on_error != ARD_ON_ERROR_SKIP) {
        return 0;
    }
    switch (st) {
    case ARD_EIO:
    case ARD_ECORRUPT:
    case ARD_ECHECKSUM:
    case ARD_EEOF:
    case ARD_ENOTSUP:
    case ARD_EINVAL:
    case ARD_ERANGE:
    case ARD_ENOENT:
        return 1;
    default:
        return 0;
    }
}

static loader_skip *find_skip(struct loader_skips *s, int32_t rg) {
    for (int64_t i = 0; s && i < s->count; i++) {
        if (s->items[i].rg == rg) {
            return &s->items[i];
        }
    }
    return NULL;
}

static loader_skip *add_skip(ard_loader *l, int32_t rg) {
    struct loader_skips *s = l->skips;
    if (!s && !(s = l->skips = ard_calloc(1, sizeof *s))) {
        return NULL;
    }
    if (s->count == s->cap) {
        int64_t cap = s->cap ? 2 * s->cap : 16;
        loader_skip *grown = ard_realloc(s->items, (size_t)cap * sizeof *grown);
        if (!grown) {
            return NULL;
        }
        s->items = grown;
        s->cap = cap;
    }
    loader_skip *k = &s->items[s->count++];
    memset(k, 0, sizeof *k);
    k->rg = rg;
    return k;
}

ard_status ard__loader_skip(ard_loader *l, int32_t rg, ard_status st, ard_error *err) {
    const char *msg = err && err->msg[0] ? err->msg : ard_status_str(st);
    pthread_mutex_lock(&l->lock);
    loader_skip *k = find_skip(l->skips, rg);
    int fresh = k == NULL;
    if (fresh) {
        k = add_skip(l, rg);
    }
    if (k && (fresh || (strstr(k->message, secondhand) && !strstr(msg, secondhand)))) {
        k->status = st;
        snprintf(k->message, sizeof k->message, "%s", msg);
    }
    if (k) {
        k->times++;
    }
    pthread_mutex_unlock(&l->lock);
    if (!k) {
        return ard_error_set(err, ARD_ENOMEM, "loader: skipped row groups");
    }
    if (err) {
        ard_error_init(err); /* handled: the batch goes on without the row group */
    }
    return ARD_OK;
}

ard_status ard__loader_drop_run(ard_loader *l, const int64_t *pairs, int64_t count, int64_t n,
                                uint8_t **keep, ard_status st, ard_error *err) {
    if (!*keep) {
        *keep = ard_malloc((size_t)n + 1);
        if (!*keep) {
            return ard_error_set(err, ARD_ENOMEM, "loader: skipped rows");
        }
        memset(*keep, 1, (size_t)n + 1);
    }
    for (int64_t k = 0; k < count; k++) {
        (*keep)[pairs[3 * k + 1]] = 0;
    }
    return ard__loader_skip(l, (int32_t)pairs[0], st, err);
}

/* Moves the rows of a slot whose keep[i] is set to the front, in order; returns their number. */
int32_t ard__loader_compact(const ard_loader *l, const ard_batch *b, const uint8_t *keep,
                            int32_t n) {
    int64_t np = l->num_patches, p = l->o.tokenize.patch;
    float *weights =
        l->weights_column >= 0 ? (float *)ard_batch_column(l->store, b, l->weights_column) : NULL;
    int32_t out = 0;
    for (int32_t i = 0; i < n; i++) {
        if (!keep[i]) {
            continue;
        }
        if (out != i) {
            memmove(b->tokens + out * np * p, b->tokens + i * np * p, (size_t)(np * p) * 4);
            if (weights) { /* tokenized beside the tokens; catalog columns come after this */
                memmove(weights + out * np * p, weights + i * np * p, (size_t)(np * p) * 4);
            }
            memmove(b->scales + out * np, b->scales + i * np, (size_t)np * 4);
            memmove(b->mask + out * np, b->mask + i * np, (size_t)np);
            b->flags[out] = b->flags[i];
            b->targetid[out] = b->targetid[i];
        }
        out++;
    }
    return out;
}

void ard__loader_skips_free(ard_loader *l) {
    if (l->skips) {
        ard_free(l->skips->items);
        ard_free(l->skips);
        l->skips = NULL;
    }
}

int64_t ard_loader_num_skipped(ard_loader *loader) {
    if (!loader) {
        return 0;
    }
    pthread_mutex_lock(&loader->lock);
    int64_t n = loader->skips ? loader->skips->count : 0;
    pthread_mutex_unlock(&loader->lock);
    return n;
}

ard_status ard_loader_skipped(ard_loader *loader, int64_t i, char *path, size_t path_cap,
                              int32_t *row_group, int32_t *status, char *message,
                              size_t message_cap, int64_t *times, ard_error *err) {
    if (!loader) {
        return ard_error_set(err, ARD_EINVAL, "ard_loader_skipped: loader is NULL");
    }
    ard_status st = ARD_OK;
    pthread_mutex_lock(&loader->lock);
    int64_t n = loader->skips ? loader->skips->count : 0;
    if (i < 0 || i >= n) {
        st = ard_error_set(err, ARD_ERANGE, "ard_loader_skipped: %lld of %lld skipped row groups",
                           (long long)i, (long long)n);
    } else {
        const loader_skip *k = &loader->skips->items[i];
        const loader_rg *rg = &loader->rgs[k->rg];
        if (path && path_cap > 0) {
            snprintf(path, path_cap, "%s", loader->files[rg->file].path);
        }
        if (message && message_cap > 0) {
            snprintf(message, message_cap, "%s", k->message);
        }
        if (row_group) {
            *row_group = rg->row_group;
        }
        if (status) {
            *status = k->status;
        }
        if (times) {
            *times = k->times;
        }
    }
    pthread_mutex_unlock(&loader->lock);
    return st;
}
