/* Tile pixel statistics in sync: parses a tile footer's `ard.pixel_stats` (per TARGET_CLASS rows,
 * FLUX pixels, null FLUX pixels and IVAR = 0 pixels; format in ard/dataset.h), checks it against
 * what the footer itself proves (row count, the FLUX column's value and null counts), and loads
 * the rows into tile_pixel_stats. A malformed or contradicted value fails the file (a sync error
 * naming the file and the key), so the datasheet can trust every row it finds. */
#include "index_int.h"

#include "ard/dataset.h"

#include <stdio.h>
#include <string.h>

typedef struct ps_parser {
    const char *p;
    const char *why; /* first problem, static text */
} ps_parser;

static void skip_ws(ps_parser *ps) {
    while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r') {
        ps->p++;
    }
}

static int expect(ps_parser *ps, char c, const char *why) {
    skip_ws(ps);
    if (*ps->p != c) {
        ps->why = ps->why ? ps->why : why;
        return 0;
    }
    ps->p++;
    return 1;
}

/* A string without escapes into out (cap bytes). */
static int parse_name(ps_parser *ps, char *out, size_t cap) {
    if (!expect(ps, '"', "expected a quoted name")) {
        return 0;
    }
    size_t len = strcspn(ps->p, "\"\\");
    if (ps->p[len] != '"' || len == 0 || len >= cap) {
        ps->why = "a name is empty, too long, unterminated or has an escape";
        return 0;
    }
    memcpy(out, ps->p, len);
    out[len] = '\0';
    ps->p += len + 1;
    return 1;
}

/* A non-negative decimal integer below 10^18 (no sign, fraction or exponent). */
static int parse_count(ps_parser *ps, int64_t *out) {
    skip_ws(ps);
    int64_t v = 0;
    int digits = 0;
    for (; *ps->p >= '0' && *ps->p <= '9'; ps->p++, digits++) {
        if (digits == 18) {
            ps->why = "a count has more than 18 digits";
            return 0;
        }
        v = v * 10 + (*ps->p - '0');
    }
    if (digits == 0 || *ps->p == '.' || *ps->p == 'e' || *ps->p == 'E') {
        ps->why = "a count is not a non-negative integer";
        return 0;
    }
    *out = v;
    return 1;
}

/* {"rows":R,"pixels":P,"flux_null":N,"ivar_zero":Z}, members in any order, each exactly once. */
static int parse_counts(ps_parser *ps, sync_pixel_class *c) {
    static const char *const fields[4] = {"rows", "pixels", "flux_null", "ivar_zero"};
    int64_t *dest[4] = {&c->rows, &c->pixels, &c->flux_null, &c->ivar_zero};
    int seen[4] = {0, 0, 0, 0};
    if (!expect(ps, '{', "a class's value is not an object")) {
        return 0;
    }
    for (int n = 0; n < 4; n++) {
        char key[32];
        if ((n > 0 && !expect(ps, ',', "expected ',' between counts")) ||
            !parse_name(ps, key, sizeof key) || !expect(ps, ':', "expected ':' after a name")) {
            return 0;
        }
        int f = 0;
        while (f < 4 && strcmp(fields[f], key) != 0) {
            f++;
        }
        if (f == 4 || seen[f]) {
            ps->why = f == 4 ? "unknown count (expected rows, pixels, flux_null, ivar_zero)"
                             : "a count appears twice";
            return 0;
        }
        seen[f] = 1;
        if (!parse_count(ps, dest[f])) {
            return 0;
        }
    }
    return expect(ps, '}', "a class has more than the four counts");
}

static int known_class(const char *name) {
    for (int32_t c = 0; c < ARD_CLASS_COUNT; c++) {
        if (strcmp(name, ard_target_class_name(c)) == 0) {
            return 1;
        }
    }
    return strcmp(name, ARD_CLASS_OTHER_NAME) == 0;
}

static int parse_object(ps_parser *ps, sync_item *it) {
    if (!expect(ps, '{', "not a JSON object")) {
        return 0;
    }
    skip_ws(ps);
    for (int first = 1; *ps->p != '}'; first = 0) {
        if (!first && !expect(ps, ',', "expected ',' between classes")) {
            return 0;
        }
        if (it->num_pixel_classes == SYNC_PIXEL_CLASSES) {
            ps->why = "more classes than BGS, LRG, ELG, QSO, OTHER";
            return 0;
        }
        sync_pixel_class *c = &it->pixel_classes[it->num_pixel_classes];
        if (!parse_name(ps, c->name, sizeof c->name) ||
            !expect(ps, ':', "expected ':' after a class")) {
            return 0;
        }
        if (!known_class(c->name)) {
            ps->why = "unknown class (expected BGS, LRG, ELG, QSO or OTHER)";
            return 0;
        }
        for (int32_t k = 0; k < it->num_pixel_classes; k++) {
            if (strcmp(it->pixel_classes[k].name, c->name) == 0) {
                ps->why = "a class appears twice";
                return 0;
            }
        }
        if (!parse_counts(ps, c)) {
            return 0;
        }
        it->num_pixel_classes++;
        skip_ws(ps);
    }
    ps->p++;
    skip_ws(ps);
    if (*ps->p) {
        ps->why = "text after the object";
        return 0;
    }
    return 1;
}

/* FLUX values and nulls over the row groups; *nulls = -1 when a chunk has no null count. */
static ard_status flux_counts(const sync_item *it, int64_t *values, int64_t *nulls,
                              ard_error *err) {
    const ard_pq_metadata *md = ard_parquet_metadata(it->pq);
    int32_t leaf = ard_dataset_list_leaf(it->pq, ARD_COL_FLUX);
    if (leaf < 0) {
        return ard_error_set(err, ARD_ECORRUPT, "%s: key %s: the tile has no %s column", it->full,
                             ARD_KV_PIXEL_STATS, ARD_COL_FLUX);
    }
    *values = 0;
    *nulls = 0;
    for (int32_t g = 0; g < md->num_row_groups; g++) {
        const ard_pq_row_group *rg = &md->row_groups[g];
        const ard_pq_column_chunk *ch = leaf < rg->num_columns ? &rg->columns[leaf] : NULL;
        if (!ch || !ch->has_meta_data) {
            return ard_error_set(err, ARD_ECORRUPT,
                                 "%s: key %s: row group %d has no %s chunk metadata to check it",
                                 it->full, ARD_KV_PIXEL_STATS, g, ARD_COL_FLUX);
        }
        *values += ch->num_values;
        if (*nulls >= 0 && ch->stats.present && ch->stats.has_null_count) {
            *nulls += ch->stats.null_count;
        } else {
            *nulls = -1;
        }
    }
    return ARD_OK;
}

/* The parsed classes against the footer: every count within the class's pixels, pixels = rows x
 * the list width, and the sums equal to the row count and the FLUX value/null counts. */
static ard_status check_footer(const sync_item *it, ard_error *err) {
    int64_t values = 0, nulls = 0, rows = 0, pixels = 0, flux_null = 0;
    ard_status st = flux_counts(it, &values, &nulls, err);
    int64_t width = it->num_rows > 0 ? values / it->num_rows : 0;
    if (st == ARD_OK && it->num_rows > 0 && width * it->num_rows != values) {
        return ard_error_set(
            err, ARD_ECORRUPT, "%s: key %s: FLUX holds %lld values for %lld rows (ragged lists)",
            it->full, ARD_KV_PIXEL_STATS, (long long)values, (long long)it->num_rows);
    }
    for (int32_t k = 0; k < it->num_pixel_classes && st == ARD_OK; k++) {
        const sync_pixel_class *c = &it->pixel_classes[k];
        if (c->flux_null > c->pixels || c->ivar_zero > c->pixels || c->pixels != c->rows * width) {
            st = ard_error_set(err, ARD_ECORRUPT,
                               "%s: key %s: class %s: %lld rows, %lld pixels, %lld null, %lld "
                               "IVAR = 0 do not fit lists of %lld pixels",
                               it->full, ARD_KV_PIXEL_STATS, c->name, (long long)c->rows,
                               (long long)c->pixels, (long long)c->flux_null,
                               (long long)c->ivar_zero, (long long)width);
        }
        rows += c->rows;
        pixels += c->pixels;
        flux_null += c->flux_null;
    }
    if (st == ARD_OK &&
        (rows != it->num_rows || pixels != values || (nulls >= 0 && flux_null != nulls))) {
        st = ard_error_set(err, ARD_ECORRUPT,
                           "%s: key %s: %lld rows, %lld pixels, %lld null contradict the footer "
                           "(%lld rows, %lld FLUX values, %lld null)",
                           it->full, ARD_KV_PIXEL_STATS, (long long)rows, (long long)pixels,
                           (long long)flux_null, (long long)it->num_rows, (long long)values,
                           (long long)nulls);
    }
    return st;
}

ard_status ard__sync_read_pixel_stats(sync_item *it, ard_error *err) {
    it->num_pixel_classes = 0;
    const char *text = ard_parquet_kv_get(it->pq, ARD_KV_PIXEL_STATS);
    if (!text) {
        return ARD_OK; /* another writer: the tile simply has no statistics */
    }
    ps_parser ps = {text, NULL};
    if (!parse_object(&ps, it)) {
        it->num_pixel_classes = 0;
        return ard_error_set(err, ARD_ECORRUPT, "%s: key %s: malformed value at byte %lld: %s",
                             it->full, ARD_KV_PIXEL_STATS, (long long)(ps.p - text), ps.why);
    }
    ard_status st = check_footer(it, err);
    if (st != ARD_OK) {
        it->num_pixel_classes = 0;
    }
    return st;
}

ard_status ard__sync_write_pixel_stats(ard_index *idx, const sync_item *items, int64_t count,
                                       ard_error *err) {
    static const char *const cols[] = {"file_id", "target_class", "num_rows",
                                       "pixels",  "flux_null",    "ivar_zero"};
    const idx_backend_ops *ops = idx->be->ops;
    ard_status st = ops->bulk_begin(idx->be, "tile_pixel_stats", cols, 6, err);
    for (int64_t i = 0; i < count && st == ARD_OK; i++) {
        const sync_item *it = &items[i];
        for (int32_t k = 0; it->st == ARD_OK && k < it->num_pixel_classes && st == ARD_OK; k++) {
            const sync_pixel_class *c = &it->pixel_classes[k];
            idx_value v[6] = {{IDX_INT, it->new_id, 0, NULL},   {IDX_TEXT, 0, 0, c->name},
                              {IDX_INT, c->rows, 0, NULL},      {IDX_INT, c->pixels, 0, NULL},
                              {IDX_INT, c->flux_null, 0, NULL}, {IDX_INT, c->ivar_zero, 0, NULL}};
            st = ops->bulk_row(idx->be, v, err);
        }
    }
    ard_status end = ops->bulk_end(idx->be, st == ARD_OK ? err : NULL);
    return st != ARD_OK ? st : end;
}
