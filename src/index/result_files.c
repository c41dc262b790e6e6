/* Result runs on disk and in the index: typed columns -> Parquet, the staging directories'
 * recovery (roll back before the commit point, forward after it), and the listing and dropping of
 * runs. */
#include "index_int.h"

#include "ard/parquet_write.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK_ROWS ((int64_t)1 << 20) /* a multiple of 8: validity bitmaps stay byte-aligned */

/* ---- typed columns -> Parquet ---- */

static int has_null_text(const ard_index_column *c, int64_t nrows) {
    const char *const *v = c->values;
    for (int64_t r = 0; r < nrows; r++) {
        if (!v[r]) {
            return 1;
        }
    }
    return 0;
}

static ard_status build_schema(const ard_index_column *cols, int32_t ncols, int64_t nrows,
                               ard_pq_schema_builder **out, ard_error *err) {
    static const ard_pq_type types[] = {ARD_PQ_INT64, ARD_PQ_DOUBLE, ARD_PQ_BYTE_ARRAY};
    ard_pq_logical str;
    memset(&str, 0, sizeof str);
    str.kind = ARD_PQ_LT_STRING;
    ard_status st = ard_pq_schema_new(out, err);
    for (int32_t c = 0; c < ncols && st == ARD_OK; c++) {
        int text = cols[c].type == ARD_INDEX_TEXT;
        int optional = cols[c].validity || (text && has_null_text(&cols[c], nrows));
        ard_error e;
        ard_error_init(&e);
        if (ard_pq_schema_add_column(*out, cols[c].name, types[cols[c].type],
                                     optional ? ARD_PQ_OPTIONAL : ARD_PQ_REQUIRED,
                                     text ? &str : NULL, 0, NULL, &e) != ARD_OK) {
            st = ard_error_set(err, e.code != ARD_OK ? e.code : ARD_EINVAL, "%s", e.msg);
        }
    }
    return st;
}

/* Rows [at, at + n) of a text column: offsets + bytes (+ validity when it has NULLs). */
static ard_status write_text(ard_pq_writer *w, int32_t col, const ard_index_column *c, int64_t at,
                             int64_t n, ard_error *err) {
    const char *const *v = (const char *const *)c->values + at;
    int64_t *offsets = ard_malloc((size_t)(n + 1) * sizeof *offsets);
    uint8_t *valid = ard_calloc((size_t)(n + 7) / 8 + 1, 1);
    ard_buf data;
    ard_buf_init(&data);
    ard_status st = offsets && valid ? ARD_OK : ard_error_set(err, ARD_ENOMEM, "out of memory");
    int nulls = 0;
    for (int64_t r = 0; st == ARD_OK && r < n; r++) {
        offsets[r] = (int64_t)data.len;
        int ok = v[r] && (!c->validity || ((c->validity[(at + r) >> 3] >> ((at + r) & 7)) & 1));
        nulls |= !ok;
        if (ok) {
            valid[r >> 3] |= (uint8_t)(1u << (r & 7));
            ard_buf_append(&data, v[r], strlen(v[r]));
        }
    }
    if (st == ARD_OK) {
        offsets[n] = (int64_t)data.len;
        st = data.failed ? ard_error_set(err, ARD_ENOMEM, "out of memory")
                         : ard_pq_writer_write_binary(w, col, offsets,
                                                      data.data ? data.data : (const uint8_t *)"",
                                                      nulls ? valid : NULL, n, err);
    }
    ard_free(offsets);
    ard_free(valid);
    ard_buf_reset(&data);
    return st;
}

ard_status ard__result_write_parquet(const char *path, const ard_index_column *cols, int32_t ncols,
                                     int64_t nrows, const char *const *kv_keys,
                                     const char *const *kv_values, int32_t num_kv,
                                     void (*step)(void *), void *ctx, ard_error *err) {
    const char *keys[16], *values[16];
    int32_t nkv = 0;
    for (; nkv < num_kv && nkv < 15; nkv++) {
        keys[nkv] = kv_keys[nkv];
        values[nkv] = kv_values[nkv];
    }
    keys[nkv] = "ard.version";
    values[nkv++] = ARD_VERSION_STRING;
    ard_pq_writer_options o;
    ard_pq_writer_options_init(&o);
    o.codec = ARD_PQ_ZSTD;
    o.rows_per_row_group = CHUNK_ROWS;
    o.num_kv = nkv;
    o.kv_keys = keys;
    o.kv_values = values;
    ard_pq_schema_builder *sb = NULL;
    ard_pq_writer *w = NULL;
    ard_status st = build_schema(cols, ncols, nrows, &sb, err);
    st = st == ARD_OK ? ard_pq_writer_open(path, sb, &o, &w, err) : st;
    ard_pq_schema_free(sb);
    for (int64_t at = 0; st == ARD_OK && at < nrows; at += CHUNK_ROWS) {
        int64_t n = nrows - at < CHUNK_ROWS ? nrows - at : CHUNK_ROWS;
        for (int32_t c = 0; st == ARD_OK && c < ncols; c++) {
            if (cols[c].type == ARD_INDEX_TEXT) {
                st = write_text(w, c, &cols[c], at, n, err);
            } else {
                const char *base = cols[c].values;
                st = ard_pq_writer_write_column(w, c, base + (size_t)at * 8,
                                                cols[c].validity ? cols[c].validity + at / 8 : NULL,
                                                n, err);
            }
            if (step) {
                step(ctx);
            }
        }
    }
    if (st != ARD_OK) {
        ard_pq_writer_abort(w);
        return st;
    }
    return ard_pq_writer_close(w, err);
}

/* ---- directories ---- */

ard_status ard__result_remove_dir(const char *dir, ard_error *err) {
    DIR *d = opendir(dir);
    if (!d) {
        return errno == ENOENT ? ARD_OK : ard_error_set_errno(err, ARD_EIO, errno, "%s", dir);
    }
    struct dirent *e;
    char path[4400];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    }
    closedir(d);
    if (rmdir(dir) != 0 && errno != ENOENT) {
        return ard_error_set_errno(err, ARD_EIO, errno, "removing %s", dir);
    }
    return ARD_OK;
}

/* name is "<stage>-<run>-<table>.parquet" of this stage and run (a table has no '-'). */
static int is_run_file(const char *name, const char *stage, const char *run_id) {
    size_t ls = strlen(stage), lr = strlen(run_id), n = strlen(name);
    if (n < ls + lr + 3 + 8 || strncmp(name, stage, ls) != 0 || name[ls] != '-' ||
        strncmp(name + ls + 1, run_id, lr) != 0 || name[ls + 1 + lr] != '-' ||
        strcmp(name + n - 8, ".parquet") != 0) {
        return 0;
    }
    const char *table = name + ls + lr + 2;
    size_t lt = (size_t)(name + n - 8 - table);
    return lt > 0 && memchr(table, '-', lt) == NULL;
}

ard_status ard__result_run_files(const char *results_dir, const char *stage, const char *run_id,
                                 int remove, int *count, ard_error *err) {
    *count = 0;
    DIR *d = opendir(results_dir);
    if (!d) {
        return errno == ENOENT ? ARD_OK
                               : ard_error_set_errno(err, ARD_EIO, errno, "%s", results_dir);
    }
    ard_status st = ARD_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && st == ARD_OK) {
        if (!is_run_file(e->d_name, stage, run_id)) {
            continue;
        }
        (*count)++;
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", results_dir, e->d_name);
        if (remove && unlink(path) != 0 && errno != ENOENT) {
            st = ard_error_set_errno(err, ARD_EIO, errno, "removing %s", path);
        }
    }
    closedir(d);
    return st;
}

/* ---- recovery ---- */

static int file_exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* Moves the staged *.parquet files of a committed run into results/ (those already moved are
 * gone from the staging directory), then removes it. */
static ard_status roll_forward(const char *results, const char *staging, ard_error *err) {
    DIR *d = opendir(staging);
    if (!d) {
        return ard_error_set_errno(err, ARD_EIO, errno, "%s", staging);
    }
    ard_status st = ARD_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && st == ARD_OK) {
        size_t n = strlen(e->d_name);
        if (n > 8 && strcmp(e->d_name + n - 8, ".parquet") == 0 && e->d_name[0] != '.') {
            char from[4400], to[4400];
            int nf = snprintf(from, sizeof from, "%s/%s", staging, e->d_name);
            int nt = snprintf(to, sizeof to, "%s/%s", results, e->d_name);
            if (nf < 0 || (size_t)nf >= sizeof from || nt < 0 || (size_t)nt >= sizeof to) {
                st = ard_error_set(err, ARD_ELIMIT, "%s: path of %s too long", staging, e->d_name);
            } else if (rename(from, to) != 0) {
                st = ard_error_set_errno(err, ARD_EIO, errno, "renaming %s", from);
            }
        }
    }
    closedir(d);
    st = st == ARD_OK ? ard__result_fsync_dir(results, err) : st;
    return st == ARD_OK ? ard__result_remove_dir(staging, err) : st;
}

/* One staging directory ".run-STAGE-RUN": alive (locked) -> left alone; committed -> forward;
 * else -> removed. Indexed runs need idx to decide. */
static ard_status recover_one(ard_index *idx, const char *results, const char *name,
                              ard_error *err) {
    char staging[4400], path[4500], stage[64], run_id[80];
    snprintf(staging, sizeof staging, "%s/%s", results, name);
    const char *dash = strchr(name + 5, '-');
    if (!dash || (size_t)(dash - (name + 5)) >= sizeof stage || strlen(dash + 1) >= sizeof run_id) {
        return ARD_OK; /* not ours */
    }
    snprintf(stage, sizeof stage, "%.*s", (int)(dash - (name + 5)), name + 5);
    snprintf(run_id, sizeof run_id, "%s", dash + 1);
    if (!ard__result_stage_name(stage) || !ard_result_run_id_valid(run_id)) {
        return ARD_OK;
    }
    snprintf(path, sizeof path, "%s/RUN", staging);
    char kind[16] = "";
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            close(fd);
            return ARD_OK; /* a live run */
        }
        ssize_t got = read(fd, kind, sizeof kind - 1);
        kind[got > 0 ? got : 0] = '\0';
    }
    int indexed = strncmp(kind, "index", 5) == 0;
    ard_status st = ARD_OK;
    snprintf(path, sizeof path, "%s/COMMITTED", staging);
    int committed = file_exists(path);
    if (!committed && indexed) {
        if (!idx) {
            if (fd >= 0) {
                close(fd);
            }
            return ARD_OK; /* only the index knows */
        }
        st = ard__result_run_recorded(idx, stage, run_id, &committed, err);
    }
    if (st == ARD_OK) {
        st = committed ? roll_forward(results, staging, err) : ard__result_remove_dir(staging, err);
    }
    if (fd >= 0) {
        close(fd);
    }
    return st;
}

ard_status ard_result_recover(ard_index *idx, const char *dataset, ard_error *err) {
    if (!dataset) {
        return ard_error_set(err, ARD_EINVAL, "ard_result_recover: no dataset");
    }
    char results[4096];
    snprintf(results, sizeof results, "%s/results", dataset);
    DIR *d = opendir(results);
    if (!d) {
        return ARD_OK;
    }
    char *names[256];
    int32_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 256) {
        if (strncmp(e->d_name, ".run-", 5) == 0 && (names[n] = ard_strdup(e->d_name)) != NULL) {
            n++;
        }
    }
    closedir(d);
    ard_status st = ARD_OK;
    for (int32_t i = 0; i < n; i++) {
        if (st == ARD_OK) {
            st = recover_one(idx, results, names[i], err);
        }
        ard_free(names[i]);
    }
    return st;
}

/* ---- listing and dropping ---- */

ard_status ard_result_stages(ard_index *idx, ard_column_set **out, ard_error *err) {
    if (!idx || !out) {
        return ard_error_set(err, ARD_EINVAL, "ard_result_stages: bad arguments");
    }
    *out = NULL;
    ard_column_set *tables = NULL;
    ard_status st = ard_index_tables(idx, &tables, err);
    if (st != ARD_OK) {
        return st;
    }
    ard_buf sql;
    ard_buf_init(&sql);
    const char *const *names = ard_column_set_column(tables, 0)->values;
    int32_t found = 0;
    for (int64_t r = 0; r < ard_column_set_num_rows(tables); r++) {
        size_t len = strlen(names[r]);
        if (len > 5 && strcmp(names[r] + len - 5, "_runs") == 0 &&
            strcmp(names[r], "sync_runs") != 0) {
            ard_buf_appendf(&sql, "%sSELECT '%.*s'", found++ ? " UNION ALL " : "", (int)(len - 5),
                            names[r]);
        }
    }
    if (!found) {
        ard_buf_appendf(&sql, "SELECT 'none' WHERE 1 = 0");
    }
    ard_buf_appendf(&sql, " ORDER BY 1");
    ard_buf_append(&sql, "", 1);
    int32_t type = ARD_INDEX_TEXT;
    st = sql.failed ? ard_error_set(err, ARD_ENOMEM, "out of memory")
                    : ard_index_select_columns(idx, (const char *)sql.data, &type, 1, out, err);
    ard_buf_reset(&sql);
    ard_column_set_free(tables);
    return st;
}

ard_status ard_result_runs(ard_index *idx, const char *stage, ard_column_set **out,
                           ard_error *err) {
    if (!idx || !out || !ard__result_stage_name(stage)) {
        return ard_error_set(err, ARD_EINVAL, "ard_result_runs: bad arguments");
    }
    *out = NULL;
    int exists = 0;
    char table[64];
    snprintf(table, sizeof table, "%s_runs", stage);
    ard_column_set *tables = NULL;
    ard_status st = ard_index_tables(idx, &tables, err);
    for (int64_t r = 0; st == ARD_OK && r < ard_column_set_num_rows(tables); r++) {
        exists |=
            strcmp(((const char *const *)ard_column_set_column(tables, 0)->values)[r], table) == 0;
    }
    ard_column_set_free(tables);
    if (st == ARD_OK && !exists) {
        return ard_error_set(err, ARD_ENOENT, "no runs of stage %s in the index", stage);
    }
    char sql[512];
    snprintf(
        sql, sizeof sql,
        "SELECT run_id, stage, started, finished, ard_version, inputs_hash, params, tables,"
        " summary FROM %s ORDER BY CASE WHEN started IS NULL THEN 0 ELSE 1 END, started, run_id",
        table);
    int32_t types[9] = {ARD_INDEX_TEXT, ARD_INDEX_TEXT, ARD_INDEX_TEXT,
                        ARD_INDEX_TEXT, ARD_INDEX_TEXT, ARD_INDEX_TEXT,
                        ARD_INDEX_TEXT, ARD_INDEX_TEXT, ARD_INDEX_TEXT};
    return st == ARD_OK ? ard_index_select_columns(idx, sql, types, 9, out, err) : st;
}

/* The DELETE statements that remove a run: its rows in every index table it wrote (named in its
 * tables JSON as "index_table":"NAME") and its <stage>_runs row. Read before the write
 * transaction (typed reads run under their own read-only guards). */
static ard_status drop_sql(ard_index *idx, const char *stage, const char *run_id, ard_buf *sql,
                           ard_error *err) {
    ard_column_set *tables = NULL, *runs = NULL;
    ard_status st = ard_index_tables(idx, &tables, err);
    st = st == ARD_OK ? ard_result_runs(idx, stage, &runs, err) : st;
    const char *json = NULL;
    for (int64_t r = 0; st == ARD_OK && r < ard_column_set_num_rows(runs); r++) {
        const char *const *ids = ard_column_set_column(runs, 0)->values;
        const char *const *jsons = ard_column_set_column(runs, 7)->values;
        if (ids[r] && strcmp(ids[r], run_id) == 0) {
            json = jsons[r];
        }
    }
    const char *const *names = st == ARD_OK ? ard_column_set_column(tables, 0)->values : NULL;
    for (int64_t t = 0; json && st == ARD_OK && t < ard_column_set_num_rows(tables); t++) {
        char key[128];
        snprintf(key, sizeof key, "\"index_table\":\"%s\"", names[t]);
        if (strstr(json, key) && !ard__table_reserved(names[t])) {
            ard_buf_appendf(sql, "DELETE FROM %s WHERE run_id = '%s'; ", names[t], run_id);
        }
    }
    ard_buf_appendf(sql, "DELETE FROM %s_runs WHERE run_id = '%s'", stage, run_id);
    ard_buf_append(sql, "", 1);
    ard_column_set_free(runs);
    ard_column_set_free(tables);
    if (st == ARD_OK && sql->failed) {
        st = ard_error_set(err, ARD_ENOMEM, "out of memory");
    }
    return st;
}

ard_status ard_result_run_drop(ard_index *idx, const char *dataset, const char *stage,
                               const char *run_id, int64_t *files_removed, ard_error *err) {
    if (files_removed) {
        *files_removed = 0;
    }
    if (!dataset || !ard__result_stage_name(stage) || !ard_result_run_id_valid(run_id)) {
        return ard_error_set(err, ARD_EINVAL, "ard_result_run_drop: bad dataset, stage or run");
    }
    if (idx && idx->read_only) {
        return ard_error_set(err, ARD_EPERM, "results drop: the index was opened read-only");
    }
    ard_status st = ard_result_recover(idx, dataset, err);
    int recorded = 0;
    if (st == ARD_OK && idx) {
        st = ard__result_run_recorded(idx, stage, run_id, &recorded, err);
    }
    if (st == ARD_OK && recorded) {
        ard_buf sql;
        ard_buf_init(&sql);
        st = drop_sql(idx, stage, run_id, &sql, err);
        int in_txn = 0;
        if (st == ARD_OK) {
            st = ard__idx_begin_write(idx, err);
            in_txn = st == ARD_OK;
        }
        st = st == ARD_OK ? ard__idx_exec(idx, (const char *)sql.data, err) : st;
        st = st == ARD_OK ? ard__idx_exec(idx, "COMMIT", err) : st;
        if (st != ARD_OK && in_txn) {
            ard__idx_exec(idx, "ROLLBACK", NULL);
        }
        ard_buf_reset(&sql);
    }
    char results[4096];
    snprintf(results, sizeof results, "%s/results", dataset);
    int files = 0;
    if (st == ARD_OK) {
        st = ard__result_run_files(results, stage, run_id, 1, &files, err);
    }
    if (st == ARD_OK && !recorded && files == 0) {
        st = ard_error_set(err, ARD_ENOENT, "no run '%s' of stage %s", run_id, stage);
    }
    if (files_removed) {
        *files_removed = files;
    }
    return st;
}
