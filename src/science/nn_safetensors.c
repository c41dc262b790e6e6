/* safetensors files for nn parameter sets: an atomic writer and a validating reader (F32 only). The
 * header JSON is parsed by nn_stjson.c; here are the layout checks (lengths, offsets, dtypes, shapes)
 * and the little-endian tensor bytes. */
#include "ard/nn.h"
#include "science_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ST_CHUNK_FLOATS 16384

static int host_is_le(void) {
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

static uint64_t read_le64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

/* ---- writer ---- */

static void header_json(const ard_nn_params *params, ard_buf *out) {
    ard_json j;
    ard_json_init(&j, out, 0);
    ard_json_begin_object(&j);
    int64_t meta = ard__nn_meta_count(params);
    if (meta > 0) {
        ard_json_key(&j, "__metadata__");
        ard_json_begin_object(&j);
        for (int64_t i = 0; i < meta; i++) {
            const char *key, *value;
            ard__nn_meta_at(params, i, &key, &value);
            ard_json_key(&j, key);
            ard_json_string(&j, value);
        }
        ard_json_end_object(&j);
    }
    int64_t offset = 0;
    for (int64_t i = 0; i < ard_nn_params_count(params); i++) {
        const ard_nn_tensor *t = ard_nn_params_at(params, i);
        ard_json_key(&j, t->name);
        ard_json_begin_object(&j);
        ard_json_key(&j, "dtype");
        ard_json_string(&j, "F32");
        ard_json_key(&j, "shape");
        ard_json_begin_array(&j);
        for (int32_t d = 0; d < t->ndim; d++) {
            ard_json_int(&j, t->shape[d]);
        }
        ard_json_end_array(&j);
        ard_json_key(&j, "data_offsets");
        ard_json_begin_array(&j);
        ard_json_int(&j, offset);
        offset += t->count * 4;
        ard_json_int(&j, offset);
        ard_json_end_array(&j);
        ard_json_end_object(&j);
    }
    ard_json_end_object(&j);
    while ((out->len + 8) % 8 != 0) { /* the data starts 8-byte aligned, as safetensors writes */
        ard_buf_append(out, " ", 1);
    }
}

static ard_status write_floats(ard_atomic_file *f, const float *v, int64_t count, float *chunk,
                               ard_error *err) {
    for (int64_t at = 0; at < count; at += ST_CHUNK_FLOATS) {
        int64_t n = count - at < ST_CHUNK_FLOATS ? count - at : ST_CHUNK_FLOATS;
        const void *src = v + at;
        if (!host_is_le()) {
            for (int64_t i = 0; i < n; i++) {
                uint32_t u;
                memcpy(&u, v + at + i, 4);
                u = __builtin_bswap32(u);
                memcpy(chunk + i, &u, 4);
            }
            src = chunk;
        }
        ard_status st = ard_atomic_write(f, src, (size_t)n * 4, err);
        if (st != ARD_OK) {
            return st;
        }
    }
    return ARD_OK;
}

ard_status ard_nn_save_safetensors(const ard_nn_params *params, const char *path, ard_error *err) {
    if (!params || !path) {
        return ard_error_set(err, ARD_EINVAL, "nn: saving safetensors needs params and a path");
    }
    ard_buf header;
    ard_buf_init(&header);
    header_json(params, &header);
    float *chunk = ard_malloc(ST_CHUNK_FLOATS * sizeof *chunk);
    if (header.failed || !chunk) {
        ard_buf_reset(&header);
        ard_free(chunk);
        return ard_error_set(err, ARD_ENOMEM, "%s: out of memory writing safetensors", path);
    }
    uint8_t len_le[8];
    for (int i = 0; i < 8; i++) {
        len_le[i] = (uint8_t)((uint64_t)header.len >> (8 * i));
    }
    ard_atomic_file *f = NULL;
    ard_status st = ard_atomic_open(path, &f, err);
    if (st == ARD_OK) {
        st = ard_atomic_write(f, len_le, 8, err);
    }
    if (st == ARD_OK) {
        st = ard_atomic_write(f, header.data, header.len, err);
    }
    for (int64_t i = 0; st == ARD_OK && i < ard_nn_params_count(params); i++) {
        const ard_nn_tensor *t = ard_nn_params_at(params, i);
        st = write_floats(f, t->value, t->count, chunk, err);
    }
    if (st == ARD_OK) {
        st = ard_atomic_commit(f, err);
    } else {
        ard_atomic_abort(f);
    }
    ard_buf_reset(&header);
    ard_free(chunk);
    return st;
}

/* ---- reader ---- */

typedef struct st_span {
    int64_t begin;
    int64_t end;
    int64_t entry;
} st_span;

static int span_cmp(const void *a, const void *b) {
    const st_span *x = a, *y = b;
    return x->begin < y->begin   ? -1
           : x->begin > y->begin ? 1
                                 : (x->entry > y->entry) - (x->entry < y->entry);
}

/* dtype, shape and offsets of one entry against data_len bytes of tensor data. */
static ard_status check_entry(const sci_st_entry *e, int64_t data_len, const char *path,
                              ard_error *err) {
    if (strcmp(e->dtype, "F32") != 0) {
        return ard_error_set(err, ARD_ENOTSUP,
                             "%s: tensor '%s' has dtype %s (ard reads F32 tensors only)", path,
                             e->name, e->dtype);
    }
    int64_t count = 1;
    for (int32_t d = 0; d < e->ndim; d++) {
        if (e->shape[d] > 0 && count > ((int64_t)1 << 31) / e->shape[d]) {
            return ard_error_set(err, ARD_ELIMIT, "%s: tensor '%s' has more than 2^31 elements",
                                 path, e->name);
        }
        count *= e->shape[d];
    }
    if (e->begin > e->end || e->end - e->begin != count * 4) {
        return ard_error_set(err, ARD_ECORRUPT,
                             "%s: tensor '%s': data_offsets [%lld, %lld] do not hold the %lld "
                             "bytes its F32 shape needs",
                             path, e->name, (long long)e->begin, (long long)e->end,
                             (long long)(count * 4));
    }
    if (e->end > data_len) {
        return ard_error_set(
            err, ARD_ECORRUPT,
            "%s: tensor '%s': data_offsets [%lld, %lld] beyond the %lld data bytes "
            "of the file (truncated?)",
            path, e->name, (long long)e->begin, (long long)e->end, (long long)data_len);
    }
    return ARD_OK;
}

static ard_status check_overlap(const sci_st_header *h, const char *path, ard_error *err) {
    st_span *spans = ard_malloc((size_t)(h->count ? h->count : 1) * sizeof *spans);
    if (!spans) {
        return ard_error_set(err, ARD_ENOMEM, "%s: out of memory checking offsets", path);
    }
    for (int64_t i = 0; i < h->count; i++) {
        spans[i] = (st_span){h->entries[i].begin, h->entries[i].end, i};
    }
    qsort(spans, (size_t)h->count, sizeof *spans, span_cmp);
    ard_status st = ARD_OK;
    for (int64_t i = 1; i < h->count && st == ARD_OK; i++) {
        if (spans[i].begin < spans[i - 1].end) {
            st = ard_error_set(err, ARD_ECORRUPT, "%s: the data of tensors '%s' and '%s' overlap",
                               path, h->entries[spans[i - 1].entry].name,
                               h->entries[spans[i].entry].name);
        }
    }
    ard_free(spans);
    return st;
}

static void copy_floats(float *dst, const uint8_t *src, int64_t count) {
    memcpy(dst, src, (size_t)count * 4);
    if (!host_is_le()) {
        for (int64_t i = 0; i < count; i++) {
            uint32_t u;
            memcpy(&u, dst + i, 4);
            u = __builtin_bswap32(u);
            memcpy(dst + i, &u, 4);
        }
    }
}

static ard_status load_mapped(const ard_mapped_file *file, const char *path, ard_nn_params *params,
                              ard_error *err) {
    if (file->size < 8) {
        return ard_error_set(err, ARD_ECORRUPT,
                             "%s: truncated safetensors file: %lld bytes, no 8-byte header length",
                             path, (long long)file->size);
    }
    uint64_t header_len = read_le64(file->data);
    if (header_len > ARD_NN_SAFETENSORS_MAX_HEADER) {
        return ard_error_set(err, ARD_ELIMIT, "%s: safetensors header of %llu bytes (at most %d)",
                             path, (unsigned long long)header_len, ARD_NN_SAFETENSORS_MAX_HEADER);
    }
    if ((int64_t)header_len > file->size - 8) {
        return ard_error_set(err, ARD_ECORRUPT,
                             "%s: truncated safetensors file: header of %llu bytes, %lld follow",
                             path, (unsigned long long)header_len, (long long)(file->size - 8));
    }
    sci_st_header h;
    ard_status st =
        ard__nn_st_parse((const char *)file->data + 8, (size_t)header_len, path, &h, params, err);
    if (st != ARD_OK) {
        return st;
    }
    const uint8_t *data = file->data + 8 + header_len;
    int64_t data_len = file->size - 8 - (int64_t)header_len;
    for (int64_t i = 0; i < h.count && st == ARD_OK; i++) {
        st = check_entry(&h.entries[i], data_len, path, err);
    }
    if (st == ARD_OK) {
        st = check_overlap(&h, path, err);
    }
    for (int64_t i = 0; i < h.count && st == ARD_OK; i++) {
        const sci_st_entry *e = &h.entries[i];
        ard_nn_tensor *t = NULL;
        st = ard_nn_params_add(params, e->name, e->ndim, e->shape, &t, err);
        if (st == ARD_OK) {
            copy_floats(t->value, data + e->begin, t->count);
        }
    }
    ard__nn_st_header_reset(&h);
    return st;
}

ard_status ard_nn_load_safetensors(const char *path, ard_nn_params **out, ard_error *err) {
    if (!out || !path) {
        return ard_error_set(err, ARD_EINVAL, "nn: loading safetensors needs a path and out");
    }
    *out = NULL;
    ard_mapped_file file;
    ard_status st = ard_file_map(path, &file, err);
    if (st != ARD_OK) {
        return st;
    }
    ard_nn_params *params = NULL;
    st = ard_nn_params_new(&params, err);
    if (st == ARD_OK) {
        st = load_mapped(&file, path, params, err);
    }
    ard_file_unmap(&file);
    if (st != ARD_OK) {
        ard_nn_params_free(params);
        return st;
    }
    *out = params;
    return ARD_OK;
}

static int same_shape(const ard_nn_tensor *a, const ard_nn_tensor *b) {
    if (a->ndim != b->ndim) {
        return 0;
    }
    for (int32_t d = 0; d < a->ndim; d++) {
        if (a->shape[d] != b->shape[d]) {
            return 0;
        }
    }
    return 1;
}

static void shape_text(const ard_nn_tensor *t, char *buf, size_t cap) {
    size_t at = 0;
    at += (size_t)snprintf(buf, cap, "[");
    for (int32_t d = 0; d < t->ndim && at < cap; d++) {
        at += (size_t)snprintf(buf + at, cap - at, d ? ", %lld" : "%lld", (long long)t->shape[d]);
    }
    if (at < cap) {
        snprintf(buf + at, cap - at, "]");
    }
}

static ard_status match_tensors(ard_nn_params *params, const ard_nn_params *file, const char *path,
                                ard_error *err) {
    for (int64_t i = 0; i < ard_nn_params_count(params); i++) {
        const ard_nn_tensor *want = ard_nn_params_at(params, i);
        const ard_nn_tensor *got = ard_nn_params_find(file, want->name);
        if (!got) {
            return ard_error_set(err, ARD_EINVAL, "%s: tensor '%s' is missing from the file", path,
                                 want->name);
        }
        if (!same_shape(want, got)) {
            char a[96], b[96];
            shape_text(want, a, sizeof a);
            shape_text(got, b, sizeof b);
            return ard_error_set(err, ARD_EINVAL,
                                 "%s: tensor '%s' has shape %s in the file, the model needs %s",
                                 path, want->name, b, a);
        }
    }
    for (int64_t i = 0; i < ard_nn_params_count(file); i++) {
        const ard_nn_tensor *extra = ard_nn_params_at(file, i);
        if (!ard_nn_params_find(params, extra->name)) {
            return ard_error_set(err, ARD_EINVAL,
                                 "%s: tensor '%s' of the file is not part of the model", path,
                                 extra->name);
        }
    }
    return ARD_OK;
}

ard_status ard_nn_params_load_into(ard_nn_params *params, const char *path, ard_error *err) {
    if (!params) {
        return ard_error_set(err, ARD_EINVAL, "nn: loading into a NULL parameter set");
    }
    ard_nn_params *file = NULL;
    ard_status st = ard_nn_load_safetensors(path, &file, err);
    if (st == ARD_OK) {
        st = match_tensors(params, file, path, err);
    }
    for (int64_t i = 0; st == ARD_OK && i < ard_nn_params_count(params); i++) {
        ard_nn_tensor *t = ard_nn_params_at(params, i);
        memcpy(t->value, ard_nn_params_find(file, t->name)->value, (size_t)t->count * 4);
    }
    for (int64_t i = 0; st == ARD_OK && i < ard__nn_meta_count(file); i++) {
        const char *key, *value;
        ard__nn_meta_at(file, i, &key, &value);
        st = ard_nn_params_set_meta(params, key, value, err);
    }
    ard_nn_params_free(file);
    return st;
}
