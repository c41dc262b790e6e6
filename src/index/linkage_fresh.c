/* The per-class linkage of a catalog loaded into an empty galaxies, counted in the client. After
 * such a load the stored catalog_linkage is stale for every class, and recounting it on the server
 * is an anti-join of galaxies against spectra (6.4M x 6.4M rows: 9.3 s on PostgreSQL, 1.7 s on
 * SQLite, bench/results/index.md). Every catalog row passed through the client on its way in, so
 * sync keeps their TARGETIDs per TARGET_CLASS here; the spectra's TARGETIDs come from
 * row_groups.targetids (13 MB of text for 6.4M spectra, the same rows delete_spectra relies on),
 * and two sorted lists are merged. The count is exact: every galaxies row is one entry (the key
 * makes TARGETIDs unique there), spectra TARGETIDs are deduplicated first, and a TARGETID present
 * on one side only counts (catalog) or does not (spectra) as the anti-join would.
 *
 * The lists describe galaxies only while nothing else changed it: they are started when a load
 * finds galaxies empty, extended by each later catalog load of the same sync, and dropped for good
 * by anything else (a window rolled back, a catalog file changed or removed, a class value that is
 * not text or NULL, too many classes, out of memory); the recount then runs on the server as
 * before. A partitioned sync (size > 1) never keeps them: other ranks load galaxies too.
 *
 * The count can be split so that its CPU part overlaps the server's index builds (sync.c):
 * prepare reads the spectra TARGETIDs' stored text (the connection's last use before the builds;
 * the server idles meanwhile, so it only copies), tally decodes, sorts and merges without touching
 * the connection (on another thread meanwhile), count then only writes. Row groups cannot change between prepare and count: sync holds the sync lock. When sync has settled the row groups
 * (no tile left to write or remove), the catalog load runs prepare before its first row, while
 * the first row group decodes (sync_catalog.c), instead of between the index builds. */
#include "index_int.h"

#include <string.h>

enum { CAT_TIDS_MAX_CLASSES = 64 };

typedef struct cat_class {
    char *name;      /* NULL: the NULL class */
    int64_t n;       /* its rows */
    int64_t missing; /* tallied: rows without a spectrum */
} cat_class;

/* The spectra TARGETIDs: prepare keeps each row group's stored text (texts, one NUL-terminated
 * string per row group, and parts: its offset and row count), tally decodes them into tids. */
typedef struct spectra_tids {
    ard_buf texts;
    int64_t *parts; /* offset, rows; per row group */
    int64_t num_parts, parts_cap;
    int64_t *tids;
    int64_t n;
    int unknown; /* a row group without stored TARGETIDs */
    int failed;  /* out of memory */
} spectra_tids;

/* What the count has done so far (prepare, tally, count). */
enum { CT_NONE, CT_READ, CT_TALLIED };

/* The catalog rows are kept in one list (a TARGETID and a class per row, in load order until a
 * tally groups them by class), sized once for the load (ard__cat_tids_reserve: per-class lists
 * grown by realloc were copied and faulted in again, a tenth of the client's CPU). */
struct idx_cat_tids {
    int32_t active;  /* the lists hold exactly galaxies' rows so far */
    int32_t settled; /* row_groups will not change in this sync (set once, kept by drop) */
    int32_t col_class;
    cat_class classes[CAT_TIDS_MAX_CLASSES];
    int32_t num_classes;
    int64_t *tids;     /* every row's TARGETID */
    uint8_t *class_of; /* its class (an index into classes) */
    int64_t n, cap;
    int32_t stage;     /* CT_*: spectra read (prepare), counts tallied */
    spectra_tids spec; /* the spectra TARGETIDs, sorted and distinct once tallied */
};

ard_status ard__cat_tids_new(idx_cat_tids **out, ard_error *err) {
    *out = ard_calloc(1, sizeof **out);
    if (!*out) {
        return ard_error_set(err, ARD_ENOMEM, "out of memory");
    }
    (*out)->col_class = ard__catalog_column("target_class");
    return ARD_OK;
}

static void spectra_reset(spectra_tids *s) {
    ard_buf_reset(&s->texts);
    ard_free(s->parts);
    ard_free(s->tids);
    memset(s, 0, sizeof *s);
}

void ard__cat_tids_drop(idx_cat_tids *c) {
    if (!c) {
        return;
    }
    for (int32_t k = 0; k < c->num_classes; k++) {
        ard_free(c->classes[k].name);
    }
    memset(c->classes, 0, sizeof c->classes);
    c->num_classes = 0;
    ard_free(c->tids);
    ard_free(c->class_of);
    c->tids = NULL;
    c->class_of = NULL;
    c->n = c->cap = 0;
    c->active = 0;
    spectra_reset(&c->spec);
    c->stage = CT_NONE;
}

void ard__cat_tids_free(idx_cat_tids *c) {
    ard__cat_tids_drop(c);
    ard_free(c);
}

void ard__cat_tids_start(idx_cat_tids *c) {
    if (c) {
        ard__cat_tids_drop(c);
        c->active = 1;
    }
}

void ard__cat_tids_columns(uint8_t *read) {
    read[0] = 1; /* TARGETID */
    int32_t cls = ard__catalog_column("target_class");
    if (cls >= 0) {
        read[cls] = 1;
    }
}

/* The class index of a name (NULL: the NULL class), its entry created when new; -1 when it cannot
 * be tracked. */
static int32_t class_named(idx_cat_tids *c, const char *name) {
    for (int32_t k = 0; k < c->num_classes; k++) {
        const char *have = c->classes[k].name;
        if (have == name || (have && name && strcmp(have, name) == 0)) {
            return k;
        }
    }
    if (c->num_classes == CAT_TIDS_MAX_CLASSES) {
        return -1;
    }
    cat_class *k = &c->classes[c->num_classes];
    memset(k, 0, sizeof *k);
    if (name && !(k->name = ard_strdup(name))) {
        return -1;
    }
    return c->num_classes++;
}

/* The class index of a value; -1 when it cannot be tracked. */
static int32_t class_index(idx_cat_tids *c, const idx_value *v) {
    const char *name = v->type == IDX_TEXT ? v->s : NULL;
    if (v->type != IDX_NULL && !(v->type == IDX_TEXT && name)) {
        return -1; /* a number: its text form in the table is the backend's */
    }
    return class_named(c, name);
}

/* Room for `cap` rows in the list; 0, or -1 when out of memory (the list is unchanged). */
static int grow_list(idx_cat_tids *c, int64_t cap) {
    int64_t *tids = ard_realloc(c->tids, (size_t)cap * sizeof *tids);
    if (!tids) {
        return -1;
    }
    c->tids = tids;
    uint8_t *class_of = ard_realloc(c->class_of, (size_t)cap);
    if (!class_of) {
        return -1;
    }
    c->class_of = class_of;
    c->cap = cap;
    ard_advise_huge(c->tids, (size_t)cap * sizeof *c->tids);
    ard_advise_huge(c->class_of, (size_t)cap);
    return 0;
}

void ard__cat_tids_reserve(idx_cat_tids *c, int64_t rows) {
    if (c && c->active && rows > 0 && c->cap - c->n < rows && grow_list(c, c->n + rows) != 0) {
        ard__cat_tids_drop(c); /* the server recounts */
    }
}

void ard__cat_tids_add(idx_cat_tids *c, const idx_value *row) {
    if (!c || !c->active) {
        return;
    }
    int32_t k = c->col_class >= 0 ? class_index(c, &row[c->col_class]) : -1;
    if (k < 0 || (c->n == c->cap && grow_list(c, c->cap ? c->cap * 2 : 4096) != 0)) {
        ard__cat_tids_drop(c); /* the server recounts */
        return;
    }
    c->tids[c->n] = row[0].i;
    c->class_of[c->n++] = (uint8_t)k;
    c->classes[k].n++;
}

void ard__cat_tids_add_rows(idx_cat_tids *c, const idx_column *tid, const idx_text_codes *cls,
                            int64_t rows) {
    if (!c || !c->active) {
        return;
    }
    int32_t *index = ard_malloc(((size_t)cls->count + 1) * sizeof *index);
    if (!index || (c->cap - c->n < rows && grow_list(c, c->n + rows) != 0)) {
        ard_free(index);
        ard__cat_tids_drop(c); /* the server recounts */
        return;
    }
    for (int32_t k = 0; k < cls->count; k++) {
        index[k] = -2; /* looked up at its first row, so classes are numbered in row order */
    }
    for (int64_t r = 0; r < rows; r++) {
        int32_t *k = &index[cls->code[r]];
        *k = *k == -2 ? class_named(c, cls->names[cls->code[r]]) : *k;
        if (*k < 0) {
            ard_free(index);
            ard__cat_tids_drop(c);
            return;
        }
        c->tids[c->n] = tid->kind == IDX_COL_INT32 ? ((const int32_t *)tid->values)[r]
                                                   : ((const int64_t *)tid->values)[r];
        c->class_of[c->n++] = (uint8_t)*k;
        c->classes[*k].n++;
    }
    ard_free(index);
}

int ard__cat_tids_active(const idx_cat_tids *c) {
    return c && c->active;
}

void ard__cat_tids_settle(idx_cat_tids *c) {
    if (c) {
        c->settled = 1;
    }
}

int ard__cat_tids_settled(const idx_cat_tids *c) {
    return c && c->settled;
}

/* ---- the count ---- */

/* Keeps a row group's TARGETID text; decoded by the tally (off the connection's thread). */
static int spectra_row(void *ctx, int32_t n, const char *const *names, const idx_value *v) {
    (void)names;
    spectra_tids *s = ctx;
    if (n < 2 || v[0].type != IDX_INT || v[0].i <= 0) {
        return 0;
    }
    if (v[1].type != IDX_TEXT) {
        s->unknown = 1;
        return 1;
    }
    if (s->num_parts == s->parts_cap) {
        int64_t cap = s->parts_cap ? s->parts_cap * 2 : 4096;
        int64_t *grown = ard_realloc(s->parts, (size_t)cap * 2 * sizeof *grown);
        if (!grown) {
            s->failed = 1;
            return 1;
        }
        s->parts = grown;
        s->parts_cap = cap;
    }
    s->parts[2 * s->num_parts] = (int64_t)s->texts.len;
    s->parts[2 * s->num_parts + 1] = v[0].i;
    s->num_parts++;
    ard_buf_append(&s->texts, v[1].s, strlen(v[1].s) + 1);
    s->failed = s->texts.failed;
    return s->failed;
}

/* Every kept row group's TARGETIDs into s->tids (the text is freed). */
static void spectra_decode(spectra_tids *s) {
    int64_t total = 0;
    for (int64_t k = 0; k < s->num_parts; k++) {
        total += s->parts[2 * k + 1];
    }
    s->tids = ard_malloc((size_t)(total ? total : 1) * sizeof *s->tids);
    s->failed = !s->tids;
    ard_advise_huge(s->tids, (size_t)total * sizeof *s->tids);
    for (int64_t k = 0; k < s->num_parts && !s->failed && !s->unknown; k++) {
        const char *text = (const char *)s->texts.data + s->parts[2 * k];
        int64_t rows = s->parts[2 * k + 1];
        s->unknown = ard__rg_targetids_decode(text, strlen(text), s->tids + s->n, rows) != 0;
        s->n += s->unknown ? 0 : rows;
    }
    ard_buf_reset(&s->texts);
}

/* Catalog rows of a sorted class list whose TARGETID is not in the sorted, distinct spectra. */
static int64_t without_spectrum(const int64_t *cat, int64_t n, const int64_t *spec, int64_t m) {
    int64_t missing = 0, j = 0;
    for (int64_t i = 0; i < n; i++) {
        while (j < m && spec[j] < cat[i]) {
            j++;
        }
        missing += j == m || spec[j] != cat[i];
    }
    return missing;
}

/* Groups the list by class into `grouped` (room for c->cap rows; the list takes it over and the
 * old list is the sorts' scratch, then freed), each class's TARGETIDs sorted; first[k] is where
 * class k starts. 0, or -1 when out of memory (the rows are all there, not all sorted). */
static int sort_classes(idx_cat_tids *c, int64_t *grouped, int64_t *first) {
    int64_t at[CAT_TIDS_MAX_CLASSES], sum = 0;
    for (int32_t k = 0; k < c->num_classes; k++) {
        first[k] = at[k] = sum;
        sum += c->classes[k].n;
    }
    for (int64_t i = 0; i < c->n; i++) {
        grouped[at[c->class_of[i]]++] = c->tids[i];
    }
    int failed = 0;
    for (int32_t k = 0; k < c->num_classes; k++) {
        int64_t a = first[k];
        failed = failed || ard__ids_radix_sort(grouped + a, c->tids + a, c->classes[k].n) != 0;
        memset(c->class_of + a, k, (size_t)c->classes[k].n);
    }
    ard_free(c->tids);
    c->tids = grouped; /* in class order now; later rows are appended after them */
    return failed ? -1 : 0;
}

static ard_status write_counts(ard_index *idx, const idx_cat_tids *c, ard_error *err) {
    static const char *const cols[] = {"target_class", "without_spectrum"};
    const idx_backend_ops *ops = idx->be->ops;
    ard_status st = ard__idx_exec(idx, "DELETE FROM catalog_linkage", err);
    st = st == ARD_OK ? ops->bulk_begin(idx->be, "catalog_linkage", cols, 2, err) : st;
    for (int32_t k = 0; k < c->num_classes && st == ARD_OK; k++) {
        const cat_class *cl = &c->classes[k];
        int64_t missing = cl->missing;
        idx_value v[2] = {{cl->name ? IDX_TEXT : IDX_NULL, 0, 0, cl->name},
                          {IDX_INT, missing, 0, NULL}};
        st = missing > 0 ? ops->bulk_row(idx->be, v, err) : ARD_OK; /* as GROUP BY: no 0 rows */
    }
    if (st == ARD_OK) {
        return ops->bulk_end(idx->be, err);
    }
    ops->bulk_end(idx->be, NULL);
    return st;
}

ard_status ard__cat_tids_prepare(ard_index *idx, idx_cat_tids *c, ard_error *err) {
    if (!c || !c->active || c->stage != CT_NONE) {
        return ARD_OK;
    }
    ard_status st = idx->be->ops->select_values(
        idx->be,
        "SELECT r.num_rows, r.targetids FROM row_groups r JOIN files f ON f.id = r.file_id"
        " WHERE f.kind = 'tile'",
        0, spectra_row, &c->spec, err);
    c->stage = CT_READ;
    return st;
}

void ard__cat_tids_tally(idx_cat_tids *c) {
    if (!c || !c->active || c->stage != CT_READ || c->spec.unknown || c->spec.failed) {
        return;
    }
    spectra_tids *s = &c->spec;
    spectra_decode(s);
    if (s->unknown || s->failed) {
        return; /* not tallied: the server recounts */
    }
    /* one scratch for the spectra's sort, then kept as the grouped catalog list (fresh pages are
     * costly: each 6.4M-row array faulted in is ~0.1 CPU s) */
    int64_t most = s->n > c->cap ? s->n : c->cap;
    int64_t *scratch = ard_malloc((size_t)(most ? most : 1) * sizeof *scratch);
    s->failed = !scratch;
    if (s->failed) {
        return;
    }
    ard_advise_huge(scratch, (size_t)most * sizeof *scratch);
    s->n = ard__ids_sort_unique_in(s->tids, scratch, s->n);
    if (s->n < 0) {
        ard_free(scratch);
        s->failed = 1;
        return;
    }
    int64_t first[CAT_TIDS_MAX_CLASSES];
    s->failed = sort_classes(c, scratch, first) != 0;
    for (int32_t k = 0; k < c->num_classes && !s->failed; k++) {
        cat_class *cl = &c->classes[k];
        cl->missing = without_spectrum(c->tids + first[k], cl->n, s->tids, s->n);
    }
    c->stage = CT_TALLIED;
}

ard_status ard__cat_tids_count(ard_index *idx, idx_cat_tids *c, int *done, int64_t *distinct,
                               ard_error *err) {
    *done = 0;
    ard_status st = ard__cat_tids_prepare(idx, c, err);
    if (st == ARD_OK) {
        ard__cat_tids_tally(c);
    }
    if (st == ARD_OK && c->stage == CT_TALLIED && !c->spec.unknown && !c->spec.failed) {
        st = write_counts(idx, c, err);
        *done = st == ARD_OK;
        *distinct = c->spec.n;
    }
    spectra_reset(&c->spec); /* the lists stay: a later count reads the spectra again */
    c->stage = CT_NONE;
    return st;
}
