/* Parquet writer public append calls: checks each batch against its column's declaration (kind of
 * column, nulls where the schema forbids them, monotonic offsets) before any state changes, then
 * hands it to the common append path. */
#include "writer_int.h"

#include <string.h>

static ard_status check_call(ard_pq_writer *w, int32_t col, int64_t rows, ard_error *err) {
    if (!w) {
        return ard_error_set(err, ARD_EINVAL, "parquet writer: NULL writer");
    }
    if (w->failed) {
        return ard_error_set(err, w->failed, "%s", w->failed_err.msg);
    }
    if (col < 0 || col >= w->schema.num_cols) {
        return ard_error_set(err, ARD_EINVAL, "parquet writer: no column %d", (int)col);
    }
    if (rows < 0) {
        return ard_error_set(err, ARD_EINVAL, "parquet writer: negative row count");
    }
    return ARD_OK;
}

static int all_valid(const uint8_t *bits, int64_t offset, int64_t n) {
    for (int64_t i = 0; bits && i < n; i++) {
        if (!ard__bit_get(bits, offset + i)) {
            return 0;
        }
    }
    return 1;
}

static ard_status kind_error(const ard__pqw_column *c, const char *want, ard_error *err) {
    return ard_error_set(err, ARD_EINVAL, "parquet writer: column '%s' (%s%s) needs %s", c->name,
                         c->is_list ? "list of " : "", ard_pq_type_name(c->type), want);
}

static int64_t off_at(const int64_t *o64, const int32_t *o32, int64_t i) {
    return o64 ? o64[i] : o32[i];
}

static int offsets_ok(const int64_t *o64, const int32_t *o32, int64_t rows) {
    if (!o64 && !o32) {
        return 0;
    }
    if (off_at(o64, o32, 0) < 0) {
        return 0;
    }
    for (int64_t i = 0; i < rows; i++) {
        if (off_at(o64, o32, i + 1) < off_at(o64, o32, i)) {
            return 0;
        }
    }
    return 1;
}

/* Element nulls of a list batch where the element is REQUIRED: only inside valid rows matter. */
static int list_elems_valid(const ard__pqw_input *in, int64_t rows) {
    if (!in->elem_validity) {
        return 1;
    }
    for (int64_t r = 0; r < rows; r++) {
        if (in->row_validity && !ard__bit_get(in->row_validity, in->row_validity_offset + r)) {
            continue;
        }
        int64_t a = in->list_offsets || in->list_offsets32
                        ? off_at(in->list_offsets, in->list_offsets32, r)
                        : r * in->width;
        int64_t b = in->list_offsets || in->list_offsets32
                        ? off_at(in->list_offsets, in->list_offsets32, r + 1)
                        : (r + 1) * in->width;
        if (!all_valid(in->elem_validity, in->elem_validity_offset + a, b - a)) {
            return 0;
        }
    }
    return 1;
}

/* Checks a prepared input against column c; shared with the Arrow import. */
ard_status ard__pqw_check_input(const ard__pqw_column *c, const ard__pqw_input *in, int64_t rows,
                                ard_error *err) {
    if (c->is_list) {
        if (!in->list_offsets && !in->list_offsets32 && in->width < 0) {
            return ard_error_set(err, ARD_EINVAL, "parquet writer: column '%s': negative width",
                                 c->name);
        }
        if ((in->list_offsets || in->list_offsets32) &&
            !offsets_ok(in->list_offsets, in->list_offsets32, rows)) {
            return ard_error_set(err, ARD_EINVAL,
                                 "parquet writer: column '%s': list offsets decrease", c->name);
        }
        if (c->type == ARD_PQ_BYTE_ARRAY &&
            !offsets_ok(in->bin_offsets, in->bin_offsets32,
                        rows ? off_at(in->list_offsets, in->list_offsets32, rows) : 0)) {
            return ard_error_set(err, ARD_EINVAL,
                                 "parquet writer: column '%s': element offsets decrease", c->name);
        }
        if (c->repetition == ARD_PQ_REQUIRED &&
            !all_valid(in->row_validity, in->row_validity_offset, rows)) {
            return ard_error_set(err, ARD_EINVAL,
                                 "parquet writer: column '%s': null list in a REQUIRED list",
                                 c->name);
        }
        if (c->elem_repetition == ARD_PQ_REQUIRED && !list_elems_valid(in, rows)) {
            return ard_error_set(err, ARD_EINVAL,
                                 "parquet writer: column '%s': null element but elements are "
                                 "REQUIRED",
                                 c->name);
        }
        return ARD_OK;
    }
    if (c->type == ARD_PQ_BYTE_ARRAY && !offsets_ok(in->bin_offsets, in->bin_offsets32, rows)) {
        return ard_error_set(err, ARD_EINVAL,
                             "parquet writer: column '%s': binary offsets missing or decreasing",
                             c->name);
    }
    if (c->repetition == ARD_PQ_REQUIRED &&
        !all_valid(in->elem_validity, in->elem_validity_offset, rows)) {
        return ard_error_set(err, ARD_EINVAL,
                             "parquet writer: column '%s': null in a REQUIRED column", c->name);
    }
    return ARD_OK;
}

static ard_status run(ard_pq_writer *w, int32_t col, const ard__pqw_input *in, int64_t rows,
                      ard_error *err) {
    ard_status st = ard__pqw_check_input(&w->schema.cols[col], in, rows, err);
    if (st != ARD_OK || rows == 0) {
        return st;
    }
    return ard__pqw_append_checked(w, col, in, rows, err);
}

ard_status ard_pq_writer_write_column(ard_pq_writer *w, int32_t col, const void *values,
                                      const uint8_t *validity, int64_t rows, ard_error *err) {
    ard_status st = check_call(w, col, rows, err);
    if (st != ARD_OK) {
        return st;
    }
    const ard__pqw_column *c = &w->schema.cols[col];
    if (c->is_list || c->type == ARD_PQ_BYTE_ARRAY) {
        return kind_error(c, c->is_list ? "write_list" : "write_binary", err);
    }
    if (!values && rows > 0) {
        return ard_error_set(err, ARD_EINVAL, "parquet writer: column '%s': NULL values", c->name);
    }
    ard__pqw_input in;
    memset(&in, 0, sizeof in);
    in.values = values;
    in.elem_validity = validity;
    in.input_width = c->input_width;
    return run(w, col, &in, rows, err);
}

ard_status ard_pq_writer_write_binary(ard_pq_writer *w, int32_t col, const int64_t *offsets,
                                      const uint8_t *data, const uint8_t *validity, int64_t rows,
                                      ard_error *err) {
    ard_status st = check_call(w, col, rows, err);
    if (st != ARD_OK) {
        return st;
    }
    const ard__pqw_column *c = &w->schema.cols[col];
    if (c->is_list || c->type != ARD_PQ_BYTE_ARRAY) {
        return kind_error(c, "write_column or write_list", err);
    }
    ard__pqw_input in;
    memset(&in, 0, sizeof in);
    in.bin_offsets = offsets;
    in.bin_data = data;
    in.elem_validity = validity;
    return run(w, col, &in, rows, err);
}

static ard_status list_call(ard_pq_writer *w, int32_t col, ard__pqw_input *in, int64_t rows,
                            ard_error *err);

ard_status ard_pq_writer_write_list_binary(ard_pq_writer *w, int32_t col,
                                           const int64_t *list_offsets, const int64_t *offsets,
                                           const uint8_t *data, const uint8_t *elem_validity,
                                           const uint8_t *row_validity, int64_t rows,
                                           ard_error *err) {
    ard__pqw_input in;
    memset(&in, 0, sizeof in);
    in.list_offsets = list_offsets;
    in.bin_offsets = offsets;
    in.bin_data = data;
    in.elem_validity = elem_validity;
    in.row_validity = row_validity;
    if (!list_offsets || !offsets) {
        return ard_error_set(err, ARD_EINVAL, "parquet writer: write_list_binary needs offsets");
    }
    return list_call(w, col, &in, rows, err);
}

static ard_status list_call(ard_pq_writer *w, int32_t col, ard__pqw_input *in, int64_t rows,
                            ard_error *err) {
    ard_status st = check_call(w, col, rows, err);
    if (st != ARD_OK) {
        return st;
    }
    const ard__pqw_column *c = &w->schema.cols[col];
    if (!c->is_list) {
        return kind_error(c, "write_column or write_binary", err);
    }
    if ((c->type == ARD_PQ_BYTE_ARRAY) != (in->bin_offsets != NULL)) {
        return kind_error(c,
                          c->type == ARD_PQ_BYTE_ARRAY ? "write_list_binary"
                                                       : "write_list or write_list_matrix",
                          err);
    }
    in->input_width = c->input_width;
    return run(w, col, in, rows, err);
}

ard_status ard_pq_writer_write_list_matrix(ard_pq_writer *w, int32_t col, const void *values,
                                           int64_t rows, int64_t width,
                                           const uint8_t *elem_validity,
                                           const uint8_t *row_validity, ard_error *err) {
    ard__pqw_input in;
    memset(&in, 0, sizeof in);
    in.values = values;
    in.width = width;
    in.elem_validity = elem_validity;
    in.row_validity = row_validity;
    if (width < 0 || (!values && rows > 0 && width > 0)) {
        return ard_error_set(err, ARD_EINVAL, "parquet writer: bad matrix (width %lld)",
                             (long long)width);
    }
    return list_call(w, col, &in, rows, err);
}

ard_status ard_pq_writer_write_list(ard_pq_writer *w, int32_t col, const int64_t *offsets,
                                    const void *values, const uint8_t *elem_validity,
                                    const uint8_t *row_validity, int64_t rows, ard_error *err) {
    ard__pqw_input in;
    memset(&in, 0, sizeof in);
    in.values = values;
    in.list_offsets = offsets;
    in.elem_validity = elem_validity;
    in.row_validity = row_validity;
    if (!offsets) {
        return ard_error_set(err, ARD_EINVAL, "parquet writer: write_list needs offsets");
    }
    return list_call(w, col, &in, rows, err);
}
