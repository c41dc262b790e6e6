/* Result runs: a science stage's run (Parquet files under results/ + index tables + a row in
 * <stage>_runs) written all or nothing. Files are staged in results/.run-<stage>-<run>/, index rows
 * go into one open transaction; the transaction's commit (or, without an index, the staging
 * directory's COMMITTED marker) is the commit point, after which the files are renamed into
 * results/. Recovery (result_recover.c) rolls interrupted runs back or forward. */
#include "index_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_TABLES 16

typedef struct run_table {
    char name[48];
    char index_table[64];
    int64_t rows;
} run_table;

struct ard_result_run {
    ard_index *idx; /* NULL: Parquet-only */
    char *dataset;
    char stage[48];
    char run_id[72];
    char *params;
    char *summary;
    char started[32];
    uint64_t hash;
    char results[4096]; /* DATASET/results */
    char staging[4300]; /* DATASET/results/.run-STAGE-RUN */
    int lock_fd;        /* flock'd RUN file of the staging directory: the run is alive */
    int in_txn;
    int committed; /* the commit point is passed: only roll forward */
    run_table tables[MAX_TABLES];
    int32_t num_tables;
    int64_t step, kill_at;
};

/* ---- names and small helpers ---- */

int ard__result_stage_name(const char *s) {
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 40 || !(s[0] >= 'a' && s[0] <= 'z')) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
            return 0;
        }
    }
    return 1;
}

int32_t ard_result_run_id_valid(const char *s) {
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 64) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-')) {
            return 0;
        }
    }
    return 1;
}

ard_status ard__result_fsync_dir(const char *dir, ard_error *err) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0 || fsync(fd) != 0) {
        int e = errno;
        if (fd >= 0) {
            close(fd);
        }
        return ard_error_set_errno(err, ARD_EIO, e, "syncing directory %s", dir);
    }
    close(fd);
    return ARD_OK;
}

/* The test hook: SIGKILL at the k-th step (ARD_RESULT_KILL_AT=k). */
static void step(ard_result_run *run) {
    run->step++;
    if (run->kill_at > 0 && run->step == run->kill_at) {
        raise(SIGKILL);
    }
}

/* UTC now as "2026-12-06T09:30:00.123456Z" (iso = 1: microseconds, so runs sort by start) or
 * "20261206T093000Z". */
static void utc_now(char *buf, size_t cap, int iso) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    if (iso) {
        char secs[32];
        strftime(secs, sizeof secs, "%Y-%m-%dT%H:%M:%S", &tm);
        int n = snprintf(buf, cap, "%s.%06dZ", secs, (int)(ts.tv_nsec / 1000 % 1000000));
        if (n < 0 || (size_t)n >= cap) {
            buf[0] = '\0'; /* callers pass 32 bytes: never happens, but never a cut timestamp */
        }
    } else {
        strftime(buf, cap, "%Y%m%dT%H%M%SZ", &tm);
    }
}

void ard_result_run_id_now(char *out, size_t cap) {
    char id[32]; /* strftime leaves a too small buffer unterminated: format in full, then copy */
    utc_now(id, sizeof id, 0);
    if (out && cap > 0) {
        snprintf(out, cap, "%s", id);
    }
}

static void step_hook(void *ctx) {
    step(ctx);
}

/* ---- <stage>_runs ---- */

static const char *const runs_columns[] = {"run_id",   "stage",       "started",
                                           "finished", "ard_version", "inputs_hash",
                                           "params",   "tables",      "summary"};
enum { NUM_RUNS_COLUMNS = 9 };

static int probe_row(void *ctx, int32_t n, const char *const *names, const idx_value *v) {
    (void)n;
    (void)names;
    (void)v;
    (void)ctx;
    return 1;
}

/* Creates <stage>_runs, or adds the columns an older table (fof_runs before result runs) lacks;
 * in its own short transaction, before the run's. */
static ard_status ensure_runs_table(ard_index *idx, const char *stage, ard_error *err) {
    char sql[512];
    ard_status st = ard__idx_begin_write(idx, err);
    if (st != ARD_OK) {
        return st;
    }
    st = ard__idx_execf(idx, err,
                        "CREATE TABLE IF NOT EXISTS %s_runs (run_id TEXT, stage TEXT, started TEXT,"
                        " finished TEXT, ard_version TEXT, inputs_hash TEXT, params TEXT,"
                        " tables TEXT, summary TEXT)",
                        stage);
    st = st == ARD_OK ? ard__idx_exec(idx, "COMMIT", err) : st;
    if (st != ARD_OK) {
        ard__idx_exec(idx, "ROLLBACK", NULL);
        return st;
    }
    for (int32_t c = 0; c < NUM_RUNS_COLUMNS && st == ARD_OK; c++) {
        snprintf(sql, sizeof sql, "SELECT %s FROM %s_runs WHERE 1 = 0", runs_columns[c], stage);
        if (idx->be->ops->select_values(idx->be, sql, 0, probe_row, NULL, NULL) == ARD_OK) {
            continue;
        }
        st = ard__idx_begin_write(idx, err);
        st = st == ARD_OK ? ard__idx_execf(idx, err, "ALTER TABLE %s_runs ADD COLUMN %s TEXT",
                                           stage, runs_columns[c])
                          : st;
        st = st == ARD_OK ? ard__idx_exec(idx, "COMMIT", err) : st;
        if (st != ARD_OK) {
            ard__idx_exec(idx, "ROLLBACK", NULL);
        }
    }
    return st;
}

static int count_row(void *ctx, int32_t n, const int64_t *v) {
    *(int64_t *)ctx = n > 0 ? v[0] : 0;
    return 1;
}

ard_status ard__result_run_recorded(ard_index *idx, const char *stage, const char *run_id,
                                    int *recorded, ard_error *err) {
    *recorded = 0;
    char table[64];
    snprintf(table, sizeof table, "%s_runs", stage);
    ard_column_set *tables = NULL;
    ard_status st = ard_index_tables(idx, &tables, err);
    int exists = 0;
    const ard_index_column *names = st == ARD_OK ? ard_column_set_column(tables, 0) : NULL;
    for (int64_t r = 0; names && r < ard_column_set_num_rows(tables); r++) {
        exists |= strcmp(((const char *const *)names->values)[r], table) == 0;
    }
    ard_column_set_free(tables);
    if (st != ARD_OK || !exists) {
        return st;
    }
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE run_id = '%s'", table, run_id);
    int64_t n = 0;
    st = idx->be->ops->select_ints(idx->be, sql, 0, count_row, &n, err);
    *recorded = n > 0;
    return st;
}

/* ---- begin ---- */

static ard_status check_begin(ard_index *idx, const char *dataset, const char *stage,
                              const char *run_id, ard_error *err) {
    if (!dataset || !ard__result_stage_name(stage)) {
        return ard_error_set(err, ARD_EINVAL,
                             "result run: a dataset and a stage name ([a-z][a-z0-9_]*, at most "
                             "40 bytes) are required, not '%s'",
                             stage ? stage : "(null)");
    }
    if (run_id && !ard_result_run_id_valid(run_id)) {
        return ard_error_set(err, ARD_EINVAL,
                             "result run: run id '%.80s' is not 1-64 bytes of [A-Za-z0-9_-]",
                             run_id);
    }
    if (idx && idx->read_only) {
        return ard_error_set(err, ARD_EPERM, "result run: the index was opened read-only");
    }
    return ARD_OK;
}

static ard_status make_staging(ard_result_run *run, ard_error *err) {
    if (mkdir(run->results, 0777) != 0 && errno != EEXIST) {
        return ard_error_set_errno(err, ARD_EIO, errno, "creating %s", run->results);
    }
    if (mkdir(run->staging, 0777) != 0) {
        return ard_error_set_errno(err, errno == EEXIST ? ARD_EEXIST : ARD_EIO, errno,
                                   "creating %s (is another run with this id in progress?)",
                                   run->staging);
    }
    char path[4400];
    snprintf(path, sizeof path, "%s/RUN", run->staging);
    run->lock_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (run->lock_fd < 0 || flock(run->lock_fd, LOCK_EX) != 0) {
        return ard_error_set_errno(err, ARD_EIO, errno, "creating %s", path);
    }
    const char *kind = run->idx ? "index\n" : "files\n";
    if (write(run->lock_fd, kind, strlen(kind)) != (ssize_t)strlen(kind) ||
        fsync(run->lock_fd) != 0) {
        return ard_error_set_errno(err, ARD_EIO, errno, "writing %s", path);
    }
    return ard__result_fsync_dir(run->results, err);
}

static ard_status exists_already(ard_result_run *run, ard_error *err) {
    int recorded = 0, files = 0;
    ard_status st =
        run->idx ? ard__result_run_recorded(run->idx, run->stage, run->run_id, &recorded, err)
                 : ARD_OK;
    if (st == ARD_OK) {
        st = ard__result_run_files(run->results, run->stage, run->run_id, 0, &files, err);
    }
    if (st == ARD_OK && (recorded || files)) {
        st = ard_error_set(err, ARD_EEXIST,
                           "result run: %s already has a run '%s' (ard results drop it first)",
                           run->stage, run->run_id);
    }
    return st;
}

ard_status ard_result_run_begin(ard_index *idx, const char *dataset, const char *stage,
                                const char *run_id, const char *params_json, ard_result_run **out,
                                ard_error *err) {
    if (!out) {
        return ard_error_set(err, ARD_EINVAL, "ard_result_run_begin: out is required");
    }
    *out = NULL;
    ard_status st = check_begin(idx, dataset, stage, run_id, err);
    if (st != ARD_OK) {
        return st;
    }
    ard_result_run *run = ard_calloc(1, sizeof *run);
    if (!run || !(run->dataset = ard_strdup(dataset)) ||
        !(run->params = ard_strdup(params_json ? params_json : "{}"))) {
        ard_result_run_abort(run);
        return ard_error_set(err, ARD_ENOMEM, "out of memory");
    }
    run->idx = idx;
    run->lock_fd = -1;
    run->hash = 1469598103934665603ULL;
    snprintf(run->stage, sizeof run->stage, "%s", stage);
    utc_now(run->started, sizeof run->started, 1);
    if (run_id) {
        snprintf(run->run_id, sizeof run->run_id, "%s", run_id);
    } else {
        ard_result_run_id_now(run->run_id, sizeof run->run_id);
    }
    const char *kill_at = getenv("ARD_RESULT_KILL_AT");
    run->kill_at = kill_at ? strtoll(kill_at, NULL, 10) : 0;
    snprintf(run->results, sizeof run->results, "%s/results", dataset);
    snprintf(run->staging, sizeof run->staging, "%s/.run-%s-%s", run->results, run->stage,
             run->run_id);
    st = ard_result_recover(idx, dataset, err);
    if (st == ARD_OK && idx) {
        st = ensure_runs_table(idx, run->stage, err);
    }
    if (st == ARD_OK) {
        st = exists_already(run, err);
    }
    if (st == ARD_OK) {
        st = make_staging(run, err);
    }
    if (st != ARD_OK) {
        ard_result_run_abort(run);
        return st;
    }
    step(run);
    *out = run;
    return ARD_OK;
}

const char *ard_result_run_id(const ard_result_run *run) {
    return run ? run->run_id : NULL;
}

void ard_result_run_hash_input(ard_result_run *run, const void *data, size_t len) {
    const unsigned char *p = data;
    for (size_t i = 0; run && p && i < len; i++) {
        run->hash = (run->hash ^ p[i]) * 1099511628211ULL;
    }
}

ard_status ard_result_run_set_summary(ard_result_run *run, const char *summary_json,
                                      ard_error *err) {
    if (!run) {
        return ard_error_set(err, ARD_EINVAL, "ard_result_run_set_summary: no run");
    }
    char *copy = summary_json ? ard_strdup(summary_json) : NULL;
    if (summary_json && !copy) {
        return ard_error_set(err, ARD_ENOMEM, "out of memory");
    }
    ard_free(run->summary);
    run->summary = copy;
    return ARD_OK;
}

/* ---- tables ---- */

static ard_status check_table(const ard_result_run *run, const char *table,
                              const ard_index_column *cols, int32_t ncols, int64_t nrows,
                              const char *index_table, ard_error *err) {
    if (!ard__result_stage_name(table) || !cols || ncols <= 0 || ncols > 63 || nrows < 0) {
        return ard_error_set(err, ARD_EINVAL,
                             "result run: table '%s': a name ([a-z][a-z0-9_]*), 1-63 columns and "
                             "rows >= 0 are required",
                             table ? table : "(null)");
    }
    if (run->num_tables == MAX_TABLES) {
        return ard_error_set(err, ARD_EINVAL, "result run: at most %d tables", MAX_TABLES);
    }
    for (int32_t t = 0; t < run->num_tables; t++) {
        if (strcmp(run->tables[t].name, table) == 0 ||
            (index_table && strcasecmp(run->tables[t].index_table, index_table) == 0)) {
            return ard_error_set(err, ARD_EINVAL, "result run: table '%s' added twice", table);
        }
    }
    if (index_table && run->idx) {
        size_t n = strlen(index_table);
        if (!ard__idx_identifier(index_table)) {
            return ard_error_set(err, ARD_EINVAL, "result run: '%s' is not a table name",
                                 index_table);
        }
        if (ard__table_reserved(index_table) ||
            (n >= 5 && strcmp(index_table + n - 5, "_runs") == 0)) {
            return ard_error_set(err, ARD_EPERM, "result run: '%s' belongs to the index itself",
                                 index_table);
        }
    }
    for (int32_t c = 0; c < ncols; c++) {
        if (!ard__idx_identifier(cols[c].name) || cols[c].type < ARD_INDEX_INT64 ||
            cols[c].type > ARD_INDEX_TEXT || (!cols[c].values && nrows > 0)) {
            return ard_error_set(err, ARD_EINVAL,
                                 "result run: table %s column %d: bad name, type "
                                 "or no values",
                                 table, (int)c);
        }
    }
    return ARD_OK;
}

/* The index table: the caller's columns plus run_id (unless it has one). */
static ard_status load_index_table(ard_result_run *run, const char *index_table,
                                   const ard_index_column *cols, int32_t ncols, int64_t nrows,
                                   ard_error *err) {
    ard_index_column all[64];
    char lower[64][64];
    int has_run = 0;
    for (int32_t c = 0; c < ncols; c++) {
        all[c] = cols[c];
        size_t n = strlen(cols[c].name); /* an identifier of at most 63 bytes (checked) */
        for (size_t i = 0; i <= n; i++) {
            char ch = cols[c].name[i];
            lower[c][i] = (char)(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
        }
        all[c].name = lower[c];
        has_run |= strcmp(lower[c], "run_id") == 0;
    }
    const char **ids = NULL;
    if (!has_run) {
        ids = ard_malloc((size_t)(nrows > 0 ? nrows : 1) * sizeof *ids);
        if (!ids) {
            return ard_error_set(err, ARD_ENOMEM, "out of memory");
        }
        for (int64_t r = 0; r < nrows; r++) {
            ids[r] = run->run_id;
        }
        all[ncols++] = (ard_index_column){"run_id", ARD_INDEX_TEXT, ids, NULL};
    }
    ard_status st = ARD_OK;
    if (!run->in_txn) {
        st = ard__idx_begin_write(run->idx, err);
        run->in_txn = st == ARD_OK;
        step(run);
    }
    if (st == ARD_OK) {
        st = ard__table_create(run->idx, index_table, all, ncols, ARD_INDEX_REPLACE, err);
        step(run);
    }
    if (st == ARD_OK) {
        st = ard__table_load(run->idx, index_table, all, ncols, nrows, err);
        step(run);
    }
    ard_free(ids);
    return st;
}

/* DIR/STAGE-RUN-TABLE.parquet; ARD_ELIMIT rather than a cut path. */
static ard_status table_path(const ard_result_run *run, const char *dir, const char *table,
                             char *out, size_t cap, ard_error *err) {
    int n = snprintf(out, cap, "%s/%s-%s-%s.parquet", dir, run->stage, run->run_id, table);
    if (n < 0 || (size_t)n >= cap) {
        return ard_error_set(err, ARD_ELIMIT, "result run %s/%s: path of table %s too long in %s",
                             run->stage, run->run_id, table, dir);
    }
    return ARD_OK;
}

ard_status ard_result_run_add_table(ard_result_run *run, const char *table,
                                    const ard_index_column *columns, int32_t num_columns,
                                    int64_t num_rows, const char *index_table, ard_error *err) {
    if (!run) {
        return ard_error_set(err, ARD_EINVAL, "ard_result_run_add_table: no run");
    }
    ard_status st = check_table(run, table, columns, num_columns, num_rows, index_table, err);
    char path[4400], hash[17];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)run->hash);
    if (st == ARD_OK) {
        st = table_path(run, run->staging, table, path, sizeof path, err);
    }
    if (st == ARD_OK) {
        const char *keys[] = {"ard.stage", "ard.run_id", "ard.params", "ard.inputs_hash"};
        const char *vals[] = {run->stage, run->run_id, run->params, hash};
        st = ard__result_write_parquet(path, columns, num_columns, num_rows, keys, vals, 4,
                                       step_hook, run, err);
        step(run);
    }
    if (st == ARD_OK && run->idx && index_table) {
        st = load_index_table(run, index_table, columns, num_columns, num_rows, err);
    }
    if (st != ARD_OK) {
        ard_error_prefix(err, "result run %s/%s: ", run->stage, run->run_id);
        return st;
    }
    run_table *t = &run->tables[run->num_tables++];
    snprintf(t->name, sizeof t->name, "%s", table);
    snprintf(t->index_table, sizeof t->index_table, "%s",
             run->idx && index_table ? index_table : "");
    t->rows = num_rows;
    return ARD_OK;
}

/* ---- commit / abort ---- */

static ard_status tables_json(const ard_result_run *run, ard_buf *out, ard_error *err) {
    ard_json j;
    ard_json_init(&j, out, 0);
    ard_json_begin_array(&j);
    for (int32_t t = 0; t < run->num_tables; t++) {
        char file[300];
        ard_status st = table_path(run, "results", run->tables[t].name, file, sizeof file, err);
        if (st != ARD_OK) {
            return st;
        }
        ard_json_begin_object(&j);
        ard_json_key(&j, "table");
        ard_json_string(&j, run->tables[t].name);
        ard_json_key(&j, "file");
        ard_json_string(&j, file);
        ard_json_key(&j, "index_table");
        ard_json_string(&j, run->tables[t].index_table[0] ? run->tables[t].index_table : NULL);
        ard_json_key(&j, "rows");
        ard_json_int(&j, run->tables[t].rows);
        ard_json_end_object(&j);
    }
    ard_json_end_array(&j);
    ard_buf_append(out, "", 1);
    return out->failed ? ard_error_set(err, ARD_ENOMEM, "out of memory") : ARD_OK;
}

static ard_status insert_run_row(ard_result_run *run, ard_error *err) {
    ard_buf tables;
    ard_buf_init(&tables);
    ard_status st = tables_json(run, &tables, err);
    if (st != ARD_OK) {
        ard_buf_reset(&tables);
        return st;
    }
    char finished[32], hash[17], table[64];
    utc_now(finished, sizeof finished, 1);
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)run->hash);
    snprintf(table, sizeof table, "%s_runs", run->stage);
    const char *values[NUM_RUNS_COLUMNS] = {
        run->run_id,        run->stage, run->started, finished,
        ARD_VERSION_STRING, hash,       run->params,  (const char *)tables.data,
        run->summary};
    ard_index_column cols[NUM_RUNS_COLUMNS];
    for (int32_t c = 0; c < NUM_RUNS_COLUMNS; c++) {
        cols[c] = (ard_index_column){runs_columns[c], ARD_INDEX_TEXT, &values[c], NULL};
    }
    st = ard__table_load(run->idx, table, cols, NUM_RUNS_COLUMNS, 1, err);
    ard_buf_reset(&tables);
    return st;
}

/* Before the commit point: the staged files are durable (the writer fsyncs each) and named in
 * the staging directory. With an index: the runs row and COMMIT. */
static ard_status commit_point(ard_result_run *run, ard_error *err) {
    ard_status st = ard__result_fsync_dir(run->staging, err);
    step(run);
    if (st == ARD_OK && run->idx) {
        if (!run->in_txn) {
            st = ard__idx_begin_write(run->idx, err);
            run->in_txn = st == ARD_OK;
        }
        st = st == ARD_OK ? insert_run_row(run, err) : st;
        step(run);
        st = st == ARD_OK ? ard__idx_exec(run->idx, "COMMIT", err) : st;
        run->in_txn = st != ARD_OK && run->in_txn;
        run->committed = st == ARD_OK;
        step(run);
    }
    if (st == ARD_OK) {
        char marker[4400];
        snprintf(marker, sizeof marker, "%s/COMMITTED", run->staging);
        st = ard_file_write_atomic(marker, "committed\n", 10, err);
        if (run->committed) {
            st = ARD_OK; /* the index already holds the commit; recovery asks it, not the marker */
        }
        run->committed = st == ARD_OK;
        step(run);
    }
    return st;
}

ard_status ard_result_run_commit(ard_result_run *run, ard_error *err) {
    if (!run) {
        return ard_error_set(err, ARD_EINVAL, "ard_result_run_commit: no run");
    }
    ard_status st = run->num_tables > 0
                        ? commit_point(run, err)
                        : ard_error_set(err, ARD_EINVAL, "result run: no table was added");
    if (st != ARD_OK && !run->committed) {
        ard_error_prefix(err, "result run %s/%s: ", run->stage, run->run_id);
        ard_result_run_abort(run);
        return st;
    }
    /* committed: from here on only roll forward (recovery finishes what a crash leaves) */
    for (int32_t t = 0; t < run->num_tables && st == ARD_OK; t++) {
        char from[4400], to[4400];
        st = table_path(run, run->staging, run->tables[t].name, from, sizeof from, err);
        if (st == ARD_OK) {
            st = table_path(run, run->results, run->tables[t].name, to, sizeof to, err);
        }
        if (st == ARD_OK && rename(from, to) != 0) {
            st = ard_error_set_errno(err, ARD_EIO, errno, "renaming %s", from);
        }
        step(run);
    }
    if (st == ARD_OK) {
        st = ard__result_fsync_dir(run->results, err);
    }
    if (st == ARD_OK) {
        st = ard__result_remove_dir(run->staging, err);
        step(run);
    }
    if (run->lock_fd >= 0) {
        close(run->lock_fd);
        run->lock_fd = -1;
    }
    run->staging[0] = '\0'; /* nothing left for abort to remove */
    ard_result_run_abort(run);
    return st;
}

void ard_result_run_abort(ard_result_run *run) {
    if (!run) {
        return;
    }
    if (run->in_txn) {
        ard__idx_exec(run->idx, "ROLLBACK", NULL);
    }
    if (run->staging[0] && run->lock_fd >= 0 && !run->committed) {
        ard__result_remove_dir(run->staging, NULL);
    }
    if (run->lock_fd >= 0) {
        close(run->lock_fd);
    }
    ard_free(run->dataset);
    ard_free(run->params);
    ard_free(run->summary);
    ard_free(run);
}
