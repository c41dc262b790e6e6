/* The loader's optional outputs beside the tokens: per-pixel weights (the store column "weights")
 * and rest-frame tokens (each spectrum placed on the rest grid by its catalog Z). */
#include "stream_int.h"

#include <ctype.h>
#include <math.h>
#include <string.h>

ard_status ard__loader_rest_check(const ard_loader_options *o, ard_error *err) {
    if (o->weights != 0 && o->weights != 1) {
        return ard_error_set(err, ARD_EINVAL, "loader: weights must be 0 or 1");
    }
    if (o->frame != ARD_FRAME_OBSERVED && o->frame != ARD_FRAME_REST) {
        return ard_error_set(err, ARD_EINVAL, "loader: frame %d is neither observed nor rest",
                             o->frame);
    }
    if (o->frame == ARD_FRAME_REST && (!isfinite(o->rest_zmin) || !isfinite(o->rest_zmax) ||
                                       o->rest_zmin <= -1.0 || o->rest_zmax < o->rest_zmin)) {
        return ard_error_set(err, ARD_EINVAL, "loader: rest frame redshift range [%g, %g]",
                             o->rest_zmin, o->rest_zmax);
    }
    return ARD_OK;
}

/* 1 when the comma-separated list names Z (case-insensitive, spaces around names allowed). */
static int lists_z(const char *list) {
    const char *p = list;
    while (p && *p) {
        while (*p == ' ' || *p == ',') {
            p++;
        }
        const char *start = p;
        while (*p && *p != ',') {
            p++;
        }
        const char *end = p;
        while (end > start && end[-1] == ' ') {
            end--;
        }
        if (end - start == 1 && toupper((unsigned char)*start) == 'Z') {
            return 1;
        }
    }
    return 0;
}

ard_status ard__loader_columns(const ard_loader_options *o, char **owned, const char **columns,
                               ard_error *err) {
    *owned = NULL;
    *columns = o->columns;
    if (o->frame != ARD_FRAME_REST || (o->columns && lists_z(o->columns))) {
        return ARD_OK;
    }
    size_t len = o->columns ? strlen(o->columns) : 0;
    char *text = ard_malloc(len + 3);
    if (!text) {
        return ard_error_set(err, ARD_ENOMEM, "loader: columns");
    }
    if (len > 0) {
        memcpy(text, o->columns, len);
        memcpy(text + len, ",Z", 3);
    } else {
        memcpy(text, "Z", 2);
    }
    *owned = text;
    *columns = text;
    return ARD_OK;
}

ard_status ard__loader_rest_setup(ard_loader *l, ard_error *err) {
    l->token_width = l->width;
    if (l->o.frame != ARD_FRAME_REST) {
        return ARD_OK;
    }
    ard_status st =
        ard_rest_grid_make(l->grid_text, l->width, l->o.rest_zmin, l->o.rest_zmax, &l->rest, err);
    if (st != ARD_OK) {
        ard_error_prefix(err, "loader (rest frame): ");
        return st;
    }
    l->token_width = l->rest.n_rest;
    return ARD_OK;
}

void ard__loader_find_columns(ard_loader *l) {
    l->z_column = l->o.frame == ARD_FRAME_REST ? ard_store_column_find(l->store, "Z") : -1;
    l->weights_column = l->o.weights ? ard_store_column_find(l->store, "weights") : -1;
}

ard_stream_column ard__loader_weights_column(const ard_loader *l) {
    ard_stream_column c = {"weights", ARD_COLUMN_FLOAT32,
                           (int32_t)(l->num_patches * l->o.tokenize.patch * 4)};
    return c;
}

size_t ard__loader_work_bytes(const ard_loader *l) {
    size_t n = (size_t)(l->token_width > l->width ? l->token_width : l->width);
    return ard_tokenize_work_bytes((int64_t)n) + (l->rest.n_rest > 0 ? 2 * n * sizeof(float) : 0);
}

ard_status ard__loader_tokenize(const ard_loader *l, const float *flux, const float *ivar,
                                const row_out *out, void *work, ard_error *err) {
    int64_t n = l->width, shift = 0;
    if (l->rest.n_rest > 0) {
        n = l->rest.n_rest;
        float *placed = (float *)((uint8_t *)work + ard_tokenize_work_bytes(n));
        shift = ard_rest_shift(&l->rest, out->z);
        ard_rest_place(&l->rest, shift, flux, ivar, placed, placed + n);
        flux = placed;
        ivar = placed + n;
    }
    ard_status st =
        ard_tokenize_spectrum(&l->o.tokenize, flux, ivar, NULL, NULL, 0, NULL, n, out->tokens,
                              out->scales, out->mask, out->flags, work, err);
    if (st == ARD_OK && shift == INT64_MIN) {
        *out->flags |= ARD_SPEC_NO_Z;
    }
    if (st == ARD_OK && out->weights) {
        st = ard_tokenize_weights(l->o.tokenize.patch, flux, ivar, NULL, NULL, 0, NULL, n,
                                  out->scales, out->weights, err);
    }
    return st;
}
