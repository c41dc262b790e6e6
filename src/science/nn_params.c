/* nn parameter sets: named float32 tensors with gradients and Adam moments, a metadata string map,
 * the seeded generator (xoshiro256** via splitmix64) and deterministic Kaiming / Xavier init. */
#include "ard/nn.h"
#include "science_int.h"

#include <math.h>
#include <string.h>

#define NN_MAX_ELEMENTS ((int64_t)1 << 31)

typedef struct nn_meta {
    char *key;
    char *value;
} nn_meta;

struct ard_nn_params {
    ard_nn_tensor **tensors;
    int64_t count;
    int64_t cap;
    nn_meta *meta;
    int64_t meta_count;
    int64_t meta_cap;
};

/* ---- generator ---- */

uint64_t ard__sci_mix64(uint64_t x) {
    return ard_rng_mix64(x + 0x9e3779b97f4a7c15ULL);
}

void ard__sci_rng_seed(sci_rng *r, uint64_t seed) {
    ard_rng_init(r, seed, ARD_SCI_RNG_STREAM, 0);
}

uint64_t ard__sci_rng_next(sci_rng *r) {
    return ard_rng_hash4(r->seed, r->stream, r->index, r->k++);
}

double ard__sci_rng_uniform(sci_rng *r) {
    return ard_rng_u01(r);
}

double ard__sci_rng_normal(sci_rng *r) {
    return ard_rng_normal(r);
}

uint64_t ard__sci_rng_below(sci_rng *r, uint64_t n) {
    unsigned __int128 m = (unsigned __int128)ard__sci_rng_next(r) * n;
    uint64_t low = (uint64_t)m;
    if (low < n) {
        uint64_t threshold = (0 - n) % n;
        while (low < threshold) {
            m = (unsigned __int128)ard__sci_rng_next(r) * n;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

uint64_t ard_nn_seed_for(uint64_t seed, const char *name) {
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a of the name, then mixed with the seed */
    for (const char *p = name ? name : ""; *p; p++) {
        h = (h ^ (uint8_t)*p) * 0x100000001b3ULL;
    }
    return ard__sci_mix64(ard__sci_mix64(seed) ^ h);
}

/* ---- the set ---- */

ard_status ard_nn_params_new(ard_nn_params **out, ard_error *err) {
    *out = ard_calloc(1, sizeof **out);
    if (!*out) {
        return ard_error_set(err, ARD_ENOMEM, "nn: out of memory for a parameter set");
    }
    return ARD_OK;
}

static void tensor_free(ard_nn_tensor *t) {
    if (t) {
        ard_free(t->value);
        ard_free(t->grad);
        ard_free(t->adam_m);
        ard_free(t->adam_v);
        ard_free(t);
    }
}

void ard_nn_params_free(ard_nn_params *params) {
    if (!params) {
        return;
    }
    for (int64_t i = 0; i < params->count; i++) {
        tensor_free(params->tensors[i]);
    }
    for (int64_t i = 0; i < params->meta_count; i++) {
        ard_free(params->meta[i].key);
        ard_free(params->meta[i].value);
    }
    ard_free(params->tensors);
    ard_free(params->meta);
    ard_free(params);
}

static ard_status check_shape(const char *name, int32_t ndim, const int64_t *shape, int64_t *count,
                              ard_error *err) {
    if (ndim < 0 || ndim > ARD_NN_MAX_DIMS || (ndim > 0 && !shape)) {
        return ard_error_set(err, ARD_EINVAL, "nn: tensor '%s': %d dimensions (0..%d allowed)",
                             name, (int)ndim, ARD_NN_MAX_DIMS);
    }
    int64_t c = 1;
    for (int32_t d = 0; d < ndim; d++) {
        if (shape[d] < 0) {
            return ard_error_set(err, ARD_EINVAL, "nn: tensor '%s': negative dimension %lld", name,
                                 (long long)shape[d]);
        }
        if (shape[d] > 0 && c > NN_MAX_ELEMENTS / shape[d]) {
            return ard_error_set(err, ARD_ELIMIT, "nn: tensor '%s': more than 2^31 elements", name);
        }
        c *= shape[d];
    }
    *count = c;
    return ARD_OK;
}

ard_status ard_nn_params_add(ard_nn_params *params, const char *name, int32_t ndim,
                             const int64_t *shape, ard_nn_tensor **out, ard_error *err) {
    if (out) {
        *out = NULL;
    }
    if (!params || !name || !name[0] || strlen(name) >= ARD_NN_NAME_MAX ||
        strcmp(name, "__metadata__") == 0) {
        return ard_error_set(err, ARD_EINVAL, "nn: a tensor needs a name of 1..%d bytes",
                             ARD_NN_NAME_MAX - 1);
    }
    if (ard_nn_params_find(params, name)) {
        return ard_error_set(err, ARD_EINVAL, "nn: tensor '%s' is already in the set", name);
    }
    int64_t count = 0;
    ard_status st = check_shape(name, ndim, shape, &count, err);
    if (st != ARD_OK) {
        return st;
    }
    if (params->count >= ARD_NN_SAFETENSORS_MAX_TENSORS) {
        return ard_error_set(err, ARD_ELIMIT, "nn: more than %d tensors",
                             ARD_NN_SAFETENSORS_MAX_TENSORS);
    }
    if (params->count == params->cap) {
        int64_t cap = params->cap ? params->cap * 2 : 16;
        ard_nn_tensor **grown = ard_realloc(params->tensors, (size_t)cap * sizeof *grown);
        if (!grown) {
            return ard_error_set(err, ARD_ENOMEM, "nn: out of memory adding tensor '%s'", name);
        }
        params->tensors = grown;
        params->cap = cap;
    }
    ard_nn_tensor *t = ard_calloc(1, sizeof *t);
    if (t) {
        t->value = ard_calloc((size_t)(count ? count : 1), sizeof(float));
        t->grad = ard_calloc((size_t)(count ? count : 1), sizeof(float));
    }
    if (!t || !t->value || !t->grad) {
        tensor_free(t);
        return ard_error_set(err, ARD_ENOMEM, "nn: out of memory for tensor '%s' (%lld floats)",
                             name, (long long)count);
    }
    memcpy(t->name, name, strlen(name) + 1);
    t->ndim = ndim;
    for (int32_t d = 0; d < ndim; d++) {
        t->shape[d] = shape[d];
    }
    t->count = count;
    params->tensors[params->count++] = t;
    if (out) {
        *out = t;
    }
    return ARD_OK;
}

int64_t ard_nn_params_count(const ard_nn_params *params) {
    return params ? params->count : 0;
}

ard_nn_tensor *ard_nn_params_at(const ard_nn_params *params, int64_t i) {
    return params && i >= 0 && i < params->count ? params->tensors[i] : NULL;
}

ard_nn_tensor *ard_nn_params_find(const ard_nn_params *params, const char *name) {
    if (!params || !name) {
        return NULL;
    }
    for (int64_t i = 0; i < params->count; i++) {
        if (strcmp(params->tensors[i]->name, name) == 0) {
            return params->tensors[i];
        }
    }
    return NULL;
}

void ard_nn_params_zero_grad(ard_nn_params *params) {
    for (int64_t i = 0; params && i < params->count; i++) {
        ard_nn_tensor *t = params->tensors[i];
        memset(t->grad, 0, (size_t)t->count * sizeof(float));
    }
}

int64_t ard_nn_params_size(const ard_nn_params *params) {
    int64_t total = 0;
    for (int64_t i = 0; params && i < params->count; i++) {
        total += params->tensors[i]->count;
    }
    return total;
}

ard_status ard_nn_params_set_meta(ard_nn_params *params, const char *key, const char *value,
                                  ard_error *err) {
    if (!params || !key || !key[0] || !value || strcmp(key, "__metadata__") == 0) {
        return ard_error_set(err, ARD_EINVAL, "nn: metadata needs a key and a value");
    }
    char *v = ard_strdup(value);
    if (!v) {
        return ard_error_set(err, ARD_ENOMEM, "nn: out of memory for metadata '%s'", key);
    }
    for (int64_t i = 0; i < params->meta_count; i++) {
        if (strcmp(params->meta[i].key, key) == 0) {
            ard_free(params->meta[i].value);
            params->meta[i].value = v;
            return ARD_OK;
        }
    }
    if (params->meta_count == params->meta_cap) {
        int64_t cap = params->meta_cap ? params->meta_cap * 2 : 8;
        nn_meta *grown = ard_realloc(params->meta, (size_t)cap * sizeof *grown);
        if (!grown) {
            ard_free(v);
            return ard_error_set(err, ARD_ENOMEM, "nn: out of memory for metadata '%s'", key);
        }
        params->meta = grown;
        params->meta_cap = cap;
    }
    char *k = ard_strdup(key);
    if (!k) {
        ard_free(v);
        return ard_error_set(err, ARD_ENOMEM, "nn: out of memory for metadata '%s'", key);
    }
    params->meta[params->meta_count].key = k;
    params->meta[params->meta_count].value = v;
    params->meta_count++;
    return ARD_OK;
}

const char *ard_nn_params_get_meta(const ard_nn_params *params, const char *key) {
    for (int64_t i = 0; params && key && i < params->meta_count; i++) {
        if (strcmp(params->meta[i].key, key) == 0) {
            return params->meta[i].value;
        }
    }
    return NULL;
}

int64_t ard__nn_meta_count(const ard_nn_params *params) {
    return params ? params->meta_count : 0;
}

void ard__nn_meta_at(const ard_nn_params *params, int64_t i, const char **key, const char **value) {
    *key = params->meta[i].key;
    *value = params->meta[i].value;
}

/* ---- initialisation ---- */

ard_status ard_nn_init_kaiming(ard_nn_tensor *t, int64_t fan_in, uint64_t seed, ard_error *err) {
    if (!t || fan_in < 1) {
        return ard_error_set(err, ARD_EINVAL, "nn: Kaiming init needs a tensor and fan_in >= 1");
    }
    sci_rng r;
    ard__sci_rng_seed(&r, seed);
    double sd = sqrt(2.0 / (double)fan_in);
    for (int64_t i = 0; i < t->count; i++) {
        t->value[i] = (float)(sd * ard__sci_rng_normal(&r));
    }
    return ARD_OK;
}

ard_status ard_nn_init_xavier(ard_nn_tensor *t, int64_t fan_in, int64_t fan_out, uint64_t seed,
                              ard_error *err) {
    if (!t || fan_in < 1 || fan_out < 1) {
        return ard_error_set(err, ARD_EINVAL, "nn: Xavier init needs a tensor and fans >= 1");
    }
    sci_rng r;
    ard__sci_rng_seed(&r, seed);
    double a = sqrt(6.0 / (double)(fan_in + fan_out));
    for (int64_t i = 0; i < t->count; i++) {
        t->value[i] = (float)(a * (2.0 * ard__sci_rng_uniform(&r) - 1.0));
    }
    return ARD_OK;
}

void ard_nn_fill(ard_nn_tensor *t, float v) {
    for (int64_t i = 0; t && i < t->count; i++) {
        t->value[i] = v;
    }
}
