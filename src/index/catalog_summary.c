/* Per catalog file aggregates, computed while sync loads the file into `galaxies` (every row passes
 * through C at that moment, so they cost a hash look-up per row) and written beside its rows in
 * the same transaction: catalog_summary holds one row per (TARGET_CLASS, SPECTYPE) with counts and
 * Z/RA/Dec ranges, catalog_zhist the Z histogram per TARGET_CLASS on the fixed bins of width
 * ARD_INDEX_ZBIN_WIDTH. The datasheet then reads O(files x classes) rows instead of scanning
 * galaxies. The values follow SQL's view of the loaded rows: NaN is stored as NULL by both
 * backends, so it counts as NULL here too. */
#include "index_int.h"

#include <math.h>
#include <string.h>

/* One (TARGET_CLASS, SPECTYPE) group; NULL strings are SQL NULLs. */
typedef struct cs_group {
    char *class_name, *spectype;
    uint64_t hash;
    int64_t class_id; /* index of the first group of this class: the histogram's key */
    int64_t rows, zwarn, nz;
    double zmin, zmax, ramin, ramax, decmin, decmax;
} cs_group;

/* One histogram bin of one class (an open-addressing slot; count 0 = empty). */
typedef struct cs_bin {
    int64_t class_id, bin, count;
} cs_bin;

struct idx_cat_summary {
    int32_t col_class, col_spectype, col_z, col_zwarn, col_ra, col_dec;
    cs_group *groups;
    int64_t num_groups, groups_cap;
    int64_t *slots; /* group index + 1 per slot, 0 = empty; size slots_cap (a power of two) */
    int64_t slots_cap;
    cs_bin *bins;
    int64_t num_bins, bins_cap; /* bins_cap a power of two */
};

/* The columns add reads: class, spectype, z, zwarn, ra, dec (the col_* fields, in this order). */
static const char *const used_columns[] = {"target_class", "spectype",  "z",
                                           "zwarn",        "target_ra", "target_dec"};

ard_status ard__cat_summary_new(idx_cat_summary **out, ard_error *err) {
    idx_cat_summary *s = ard_calloc(1, sizeof *s);
    if (!s) {
        *out = NULL;
        return ard_error_set(err, ARD_ENOMEM, "out of memory");
    }
    s->col_class = ard__catalog_column(used_columns[0]);
    s->col_spectype = ard__catalog_column(used_columns[1]);
    s->col_z = ard__catalog_column(used_columns[2]);
    s->col_zwarn = ard__catalog_column(used_columns[3]);
    s->col_ra = ard__catalog_column(used_columns[4]);
    s->col_dec = ard__catalog_column(used_columns[5]);
    *out = s;
    return ARD_OK;
}

void ard__cat_summary_free(idx_cat_summary *s) {
    if (!s) {
        return;
    }
    for (int64_t g = 0; g < s->num_groups; g++) {
        ard_free(s->groups[g].class_name);
        ard_free(s->groups[g].spectype);
    }
    ard_free(s->groups);
    ard_free(s->slots);
    ard_free(s->bins);
    ard_free(s);
}

int64_t ard__zbin(double z) {
    const double w = ARD_INDEX_ZBIN_WIDTH, lim = 1125899906842624.0; /* 2^50 */
    double q = floor(z / w);
    int64_t j = q < -lim ? (int64_t)-lim : q > lim ? (int64_t)lim : (int64_t)q;
    /* the division may round across an edge: settle on the edges exactly as SQL compares them */
    while (j > (int64_t)-lim && z < (double)j * w) {
        j--;
    }
    while (j < (int64_t)lim && z >= (double)(j + 1) * w) {
        j++;
    }
    return j;
}

static uint64_t fnv(uint64_t h, const char *s) {
    if (!s) {
        return (h ^ 0xffu) * 1099511628211u; /* NULL differs from every string */
    }
    for (; *s; s++) {
        h = (h ^ (uint8_t)*s) * 1099511628211u;
    }
    return (h ^ 0u) * 1099511628211u;
}

static int same(const char *a, const char *b) {
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* Text of a row value, NULL when it is not text (SQL NULL). */
static const char *text_of(const idx_value *v) {
    return v->type == IDX_TEXT ? v->s : NULL;
}

/* Numeric value, NaN when NULL or text. */
static double num_of(const idx_value *v) {
    return v->type == IDX_DOUBLE ? v->d : v->type == IDX_INT ? (double)v->i : NAN;
}

static ard_status grow_slots(idx_cat_summary *s, ard_error *err) {
    int64_t cap = s->slots_cap ? s->slots_cap * 2 : 64;
    int64_t *slots = ard_calloc((size_t)cap, sizeof *slots);
    if (!slots) {
        return ard_error_set(err, ARD_ENOMEM, "out of memory");
    }
    for (int64_t g = 0; g < s->num_groups; g++) {
        uint64_t at = s->groups[g].hash & (uint64_t)(cap - 1);
        while (slots[at]) {
            at = (at + 1) & (uint64_t)(cap - 1);
        }
        slots[at] = g + 1;
    }
    ard_free(s->slots);
    s->slots = slots;
    s->slots_cap = cap;
    return ARD_OK;
}

/* Appends the group (cls, spectype) and files it in slot `at` (the empty slot its probe ended on),
 * or rehashes every group when the table would be more than half full. */
static ard_status add_group(idx_cat_summary *s, const char *cls, const char *spectype, uint64_t h,
                            uint64_t at, int64_t *out, ard_error *err) {
    if (s->num_groups == s->groups_cap) {
        int64_t cap = s->groups_cap ? s->groups_cap * 2 : 16;
        cs_group *grown = ard_realloc(s->groups, (size_t)cap * sizeof *grown);
        if (!grown) {
            return ard_error_set(err, ARD_ENOMEM, "out of memory");
        }
        s->groups = grown;
        s->groups_cap = cap;
    }
    cs_group *g = &s->groups[s->num_groups];
    memset(g, 0, sizeof *g);
    g->class_name = cls ? ard_strdup(cls) : NULL;
    g->spectype = spectype ? ard_strdup(spectype) : NULL;
    if ((cls && !g->class_name) || (spectype && !g->spectype)) {
        ard_free(g->class_name);
        ard_free(g->spectype);
        return ard_error_set(err, ARD_ENOMEM, "out of memory");
    }
    g->hash = h;
    g->class_id = s->num_groups;
    for (int64_t k = 0; k < s->num_groups; k++) { /* a new group is rare: a scan is fine */
        if (same(s->groups[k].class_name, cls)) {
            g->class_id = s->groups[k].class_id;
            break;
        }
    }
    g->zmin = g->zmax = g->ramin = g->ramax = g->decmin = g->decmax = NAN;
    *out = s->num_groups++;
    if (s->num_groups * 2 > s->slots_cap) {
        return grow_slots(s, err); /* re-files every group, the new one included */
    }
    s->slots[at] = *out + 1;
    return ARD_OK;
}

static ard_status find_group(idx_cat_summary *s, const char *cls, const char *spectype,
                             int64_t *out, ard_error *err) {
    uint64_t h = fnv(fnv(14695981039346656037u, cls), spectype);
    if (!s->slots_cap) {
        ard_status st = grow_slots(s, err);
        if (st != ARD_OK) {
            return st;
        }
    }
    uint64_t at = h & (uint64_t)(s->slots_cap - 1);
    for (; s->slots[at]; at = (at + 1) & (uint64_t)(s->slots_cap - 1)) {
        const cs_group *g = &s->groups[s->slots[at] - 1];
        if (g->hash == h && same(g->class_name, cls) && same(g->spectype, spectype)) {
            *out = s->slots[at] - 1;
            return ARD_OK;
        }
    }
    return add_group(s, cls, spectype, h, at, out, err);
}

static uint64_t bin_hash(int64_t class_id, int64_t bin) {
    uint64_t h = (uint64_t)class_id * 0x9E3779B97F4A7C15u ^ (uint64_t)bin * 0xC2B2AE3D27D4EB4Fu;
    return h ^ (h >> 29);
}

static ard_status grow_bins(idx_cat_summary *s, ard_error *err) {
    int64_t cap = s->bins_cap ? s->bins_cap * 2 : 256;
    cs_bin *bins = ard_calloc((size_t)cap, sizeof *bins);
    if (!bins) {
        return ard_error_set(err, ARD_ENOMEM, "out of memory");
    }
    for (int64_t i = 0; i < s->bins_cap; i++) {
        if (s->bins[i].count) {
            uint64_t at = bin_hash(s->bins[i].class_id, s->bins[i].bin) & (uint64_t)(cap - 1);
            while (bins[at].count) {
                at = (at + 1) & (uint64_t)(cap - 1);
            }
            bins[at] = s->bins[i];
        }
    }
    ard_free(s->bins);
    s->bins = bins;
    s->bins_cap = cap;
    return ARD_OK;
}

static ard_status count_bin(idx_cat_summary *s, int64_t class_id, int64_t bin, ard_error *err) {
    if ((s->num_bins + 1) * 2 > s->bins_cap) {
        ard_status st = grow_bins(s, err);
        if (st != ARD_OK) {
            return st;
        }
    }
    uint64_t at = bin_hash(class_id, bin) & (uint64_t)(s->bins_cap - 1);
    for (; s->bins[at].count; at = (at + 1) & (uint64_t)(s->bins_cap - 1)) {
        if (s->bins[at].class_id == class_id && s->bins[at].bin == bin) {
            s->bins[at].count++;
            return ARD_OK;
        }
    }
    s->bins[at] = (cs_bin){class_id, bin, 1};
    s->num_bins++;
    return ARD_OK;
}

static void widen(double *lo, double *hi, double v) {
    if (!isnan(v)) {
        *lo = isnan(*lo) || v < *lo ? v : *lo;
        *hi = isnan(*hi) || v > *hi ? v : *hi;
    }
}

void ard__cat_summary_columns(uint8_t *read) {
    for (size_t i = 0; i < sizeof used_columns / sizeof used_columns[0]; i++) {
        int32_t c = ard__catalog_column(used_columns[i]);
        if (c >= 0) {
            read[c] = 1;
        }
    }
}

/* Adds a row of group gi with these values (NaN: NULL). */
static ard_status add_to_group(idx_cat_summary *s, int64_t gi, double z, double zwarn, double ra,
                               double dec, ard_error *err) {
    cs_group *g = &s->groups[gi];
    g->rows++;
    g->zwarn += !isnan(zwarn) && zwarn != 0;
    widen(&g->ramin, &g->ramax, ra);
    widen(&g->decmin, &g->decmax, dec);
    if (isnan(z)) {
        return ARD_OK;
    }
    g->nz++;
    widen(&g->zmin, &g->zmax, z);
    return count_bin(s, g->class_id, ard__zbin(z), err);
}

ard_status ard__cat_summary_add(idx_cat_summary *s, const idx_value *row, ard_error *err) {
    int64_t gi = 0;
    ard_status st =
        find_group(s, text_of(&row[s->col_class]), text_of(&row[s->col_spectype]), &gi, err);
    if (st != ARD_OK) {
        return st;
    }
    return add_to_group(s, gi, num_of(&row[s->col_z]), num_of(&row[s->col_zwarn]),
                        num_of(&row[s->col_ra]), num_of(&row[s->col_dec]), err);
}

/* Row r of a column as num_of reads its cell (NaN: NULL or text); *next: its next value. */
static double column_number(const idx_column *c, int64_t r, int64_t *next) {
    if (c->kind == IDX_COL_NULL || (c->def && c->def[r] < c->max_def)) {
        return NAN;
    }
    int64_t j = (*next)++;
    switch (c->kind) {
    case IDX_COL_CONST:
        return (double)c->constant;
    case IDX_COL_BOOL:
        return ((const uint8_t *)c->values)[j];
    case IDX_COL_INT32:
        return ((const int32_t *)c->values)[j];
    case IDX_COL_INT64:
        return (double)((const int64_t *)c->values)[j];
    case IDX_COL_FLOAT:
        return ((const float *)c->values)[j];
    case IDX_COL_DOUBLE:
        return ((const double *)c->values)[j];
    default:
        return NAN;
    }
}

/* The pairs of codes remembered per row group (their groups found once); more distinct pairs than
 * this are looked up row by row. */
enum { PAIR_MEMO_MAX = 1 << 16 };

ard_status ard__cat_summary_add_rows(idx_cat_summary *s, const idx_column *cols,
                                     const idx_text_codes *cls, const idx_text_codes *spectype,
                                     int64_t rows, ard_error *err) {
    int64_t pairs = (int64_t)cls->count * spectype->count;
    int64_t *memo = pairs <= PAIR_MEMO_MAX ? ard_calloc((size_t)pairs + 1, sizeof *memo) : NULL;
    int64_t next[4] = {0, 0, 0, 0};
    const idx_column *num[4] = {&cols[s->col_z], &cols[s->col_zwarn], &cols[s->col_ra],
                                &cols[s->col_dec]};
    ard_status st = ARD_OK;
    for (int64_t r = 0; r < rows && st == ARD_OK; r++) {
        int32_t a = cls->code[r], b = spectype->code[r];
        int64_t *m = memo ? &memo[(int64_t)a * spectype->count + b] : NULL, gi = 0;
        if (m && *m) {
            gi = *m - 1;
        } else {
            st = find_group(s, cls->names[a], spectype->names[b], &gi, err);
            if (m) {
                *m = gi + 1;
            }
        }
        double v[4];
        for (int i = 0; i < 4; i++) {
            v[i] = column_number(num[i], r, &next[i]);
        }
        st = st == ARD_OK ? add_to_group(s, gi, v[0], v[1], v[2], v[3], err) : st;
    }
    ard_free(memo);
    return st;
}

static idx_value text_value(const char *s) {
    return (idx_value){s ? IDX_TEXT : IDX_NULL, 0, 0, s};
}

static idx_value double_value(double d) {
    return (idx_value){isnan(d) ? IDX_NULL : IDX_DOUBLE, 0, d, NULL};
}

static ard_status write_groups(ard_index *idx, const idx_cat_summary *s, int64_t file_id,
                               ard_error *err) {
    static const char *const cols[] = {"file_id",       "target_class", "spectype", "num_rows",
                                       "zwarn_nonzero", "z_count",      "z_min",    "z_max",
                                       "ra_min",        "ra_max",       "dec_min",  "dec_max"};
    const idx_backend_ops *ops = idx->be->ops;
    ard_status st = ops->bulk_begin(idx->be, "catalog_summary", cols, 12, err);
    for (int64_t i = 0; i < s->num_groups && st == ARD_OK; i++) {
        const cs_group *g = &s->groups[i];
        idx_value v[12] = {
            {IDX_INT, file_id, 0, NULL}, text_value(g->class_name),    text_value(g->spectype),
            {IDX_INT, g->rows, 0, NULL}, {IDX_INT, g->zwarn, 0, NULL}, {IDX_INT, g->nz, 0, NULL},
            double_value(g->zmin),       double_value(g->zmax),        double_value(g->ramin),
            double_value(g->ramax),      double_value(g->decmin),      double_value(g->decmax)};
        st = ops->bulk_row(idx->be, v, err);
    }
    ard_status end = ops->bulk_end(idx->be, st == ARD_OK ? err : NULL);
    return st != ARD_OK ? st : end;
}

static ard_status write_bins(ard_index *idx, const idx_cat_summary *s, int64_t file_id,
                             ard_error *err) {
    static const char *const cols[] = {"file_id", "target_class", "z_bin", "num"};
    const idx_backend_ops *ops = idx->be->ops;
    ard_status st = ops->bulk_begin(idx->be, "catalog_zhist", cols, 4, err);
    for (int64_t i = 0; i < s->bins_cap && st == ARD_OK; i++) {
        const cs_bin *b = &s->bins[i];
        if (b->count) {
            idx_value v[4] = {{IDX_INT, file_id, 0, NULL},
                              text_value(s->groups[b->class_id].class_name),
                              {IDX_INT, b->bin, 0, NULL},
                              {IDX_INT, b->count, 0, NULL}};
            st = ops->bulk_row(idx->be, v, err);
        }
    }
    ard_status end = ops->bulk_end(idx->be, st == ARD_OK ? err : NULL);
    return st != ARD_OK ? st : end;
}

ard_status ard__cat_summary_write(ard_index *idx, const idx_cat_summary *s, int64_t file_id,
                                  ard_error *err) {
    ard_status st = write_groups(idx, s, file_id, err);
    return st == ARD_OK ? write_bins(idx, s, file_id, err) : st;
}
