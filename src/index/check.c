/* Consistency check of an index: every file whole (its spectra, row groups, galaxies and pixel
 * statistics match its files row) and no row pointing at a file the index does not know. Used by
 * `ard sync --check` and by the kill -9 tests. */
#include "index_int.h"

#include <stdio.h>
#include <string.h>

typedef struct check_ctx {
    int64_t bad;
    char first[400];
} check_ctx;

static int bad_row(void *ctx, int32_t n, const char *const *names, const char *const *v) {
    (void)names;
    check_ctx *c = ctx;
    if (c->bad++ == 0) {
        snprintf(c->first, sizeof c->first, "%s", n > 0 && v[0] ? v[0] : "?");
    }
    return 0;
}

static const char *const checks[] = {
    /* one pass over spectra (keyed by targetid since schema 6, so no seek by file) */
    "SELECT f.path || ': ' || f.num_rows || ' rows in files, ' || coalesce(c.n, 0)"
    " || ' in spectra' FROM files f LEFT JOIN (SELECT file_id, count(*) AS n FROM spectra"
    " GROUP BY file_id) c ON c.file_id = f.id WHERE f.kind = 'tile'"
    " AND f.num_rows <> coalesce(c.n, 0)",
    "SELECT f.path || ': ' || f.num_row_groups || ' row groups in files, '"
    " || (SELECT count(*) FROM row_groups r WHERE r.file_id = f.id) || ' in row_groups'"
    " FROM files f WHERE f.num_row_groups <>"
    " (SELECT count(*) FROM row_groups r WHERE r.file_id = f.id)",
    "SELECT f.path || ': ' || f.num_rows || ' rows in files, '"
    " || (SELECT count(*) FROM galaxies g WHERE g.catalog_file_id = f.id) || ' in galaxies'"
    " FROM files f WHERE f.kind = 'catalog' AND f.num_rows <>"
    " (SELECT count(*) FROM galaxies g WHERE g.catalog_file_id = f.id)",
    "SELECT 'spectra rows of unknown file ' || s.file_id FROM spectra s"
    " WHERE NOT EXISTS (SELECT 1 FROM files f WHERE f.id = s.file_id)",
    "SELECT 'row_groups rows of unknown file ' || r.file_id FROM row_groups r"
    " WHERE NOT EXISTS (SELECT 1 FROM files f WHERE f.id = r.file_id)",
    "SELECT 'galaxies rows of unknown file ' || g.catalog_file_id FROM galaxies g"
    " WHERE NOT EXISTS (SELECT 1 FROM files f WHERE f.id = g.catalog_file_id)",
    "SELECT f.path || ': ' || f.num_rows || ' rows in files, ' || sum(p.num_rows)"
    " || ' in tile_pixel_stats' FROM files f JOIN tile_pixel_stats p ON p.file_id = f.id"
    " GROUP BY f.id, f.path, f.num_rows HAVING sum(p.num_rows) <> f.num_rows",
    "SELECT 'tile_pixel_stats rows of unknown file ' || p.file_id FROM tile_pixel_stats p"
    " WHERE NOT EXISTS (SELECT 1 FROM files f WHERE f.id = p.file_id)",
    /* the datasheet's catalog aggregates (catalog_summary.c) against the catalog files */
    "SELECT f.path || ': ' || f.num_rows || ' rows in files, ' || coalesce(sum(c.num_rows), 0)"
    " || ' in catalog_summary' FROM files f LEFT JOIN catalog_summary c ON c.file_id = f.id"
    " WHERE f.kind = 'catalog' GROUP BY f.id, f.path, f.num_rows"
    " HAVING coalesce(sum(c.num_rows), 0) <> f.num_rows",
    "SELECT f.path || ': ' || (SELECT coalesce(sum(c.z_count), 0) FROM catalog_summary c"
    " WHERE c.file_id = f.id) || ' redshifts in catalog_summary, '"
    " || (SELECT coalesce(sum(h.num), 0) FROM catalog_zhist h WHERE h.file_id = f.id)"
    " || ' in catalog_zhist' FROM files f WHERE f.kind = 'catalog' AND"
    " (SELECT coalesce(sum(c.z_count), 0) FROM catalog_summary c WHERE c.file_id = f.id) <>"
    " (SELECT coalesce(sum(h.num), 0) FROM catalog_zhist h WHERE h.file_id = f.id)",
    "SELECT 'catalog_summary rows of unknown file ' || c.file_id FROM catalog_summary c"
    " WHERE NOT EXISTS (SELECT 1 FROM files f WHERE f.id = c.file_id)",
    "SELECT 'catalog_zhist rows of unknown file ' || h.file_id FROM catalog_zhist h"
    " WHERE NOT EXISTS (SELECT 1 FROM files f WHERE f.id = h.file_id)",
    /* paths that would leave the dataset (readers refuse them: ard_path_confine) */
    "SELECT 'files row ' || f.id || ': path ' || f.path || ' leaves the dataset' FROM files f"
    " WHERE f.path = '' OR f.path LIKE '/%' OR f.path = '..' OR f.path LIKE '../%'"
    " OR f.path LIKE '%/../%' OR f.path LIKE '%/..'",
};

/* One row of PRAGMA integrity_check: "ok" alone means the database file is sound. */
static int integrity_row(void *ctx, int32_t n, const char *const *names, const char *const *v) {
    if (n > 0 && v[0] && strcmp(v[0], "ok") == 0) {
        return 0;
    }
    char line[400];
    snprintf(line, sizeof line, "sqlite integrity_check: %s", n > 0 && v[0] ? v[0] : "?");
    const char *cell = line;
    return bad_row(ctx, 1, names, &cell);
}

/* The database engine's own check of the file (SQLite's PRAGMA integrity_check: b-trees, free
 * list, NOT NULL and UNIQUE constraints, indexes against their tables). PostgreSQL keeps its own
 * pages consistent (checksums, WAL) and has no equivalent without an extension. */
static ard_status engine_check(ard_index *idx, check_ctx *c, ard_error *err) {
    const char *sql = idx->be->ops->integrity_check_sql;
    return sql ? idx->be->ops->select(idx->be, sql, 0, integrity_row, c, err) : ARD_OK;
}

ard_status ard_index_check(ard_index *idx, int64_t *bad_files, ard_error *err) {
    check_ctx c = {0, ""};
    if (!idx) {
        return ard_error_set(err, ARD_EINVAL, "ard_index_check: no index");
    }
    ard_status est = engine_check(idx, &c, err);
    if (est != ARD_OK) {
        return est;
    }
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        ard_status st = idx->be->ops->select(idx->be, checks[i], 0, bad_row, &c, err);
        if (st != ARD_OK) {
            return st;
        }
    }
    if (bad_files) {
        *bad_files = c.bad;
    }
    if (c.bad) {
        return ard_error_set(err, ARD_ECORRUPT, "index inconsistent (%lld problems), first: %s",
                             (long long)c.bad, c.first);
    }
    return ARD_OK;
}
