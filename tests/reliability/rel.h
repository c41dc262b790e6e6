/* Shared helpers of the reliability tests (hangs, crashes, escapes and lost data under hostile
 * files, faults and concurrency; issue 15): a generated dataset in a temporary directory, its
 * index, and the test groups' entry points. */
#ifndef ARD_TESTS_REL_H
#define ARD_TESTS_REL_H

/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "ard/index.h"
#include "index/tgen.h"

typedef struct rel_env {
    char dir[256]; /* the dataset */
    tgen_opts gen;
} rel_env;

/* A fresh dataset of 2 tiles x 400 spectra x 128 pixels in row groups of 100, synced when
 * `sync` is 1. Asserts success. rel_env_free removes it. */
rel_env *rel_env_new(int sync);
/* The same with `width` pixels per spectrum. */
rel_env *rel_env_make(int sync, int32_t width);
void rel_env_free(rel_env *env);
/* Path of tile t of env (absolute) and relative to the dataset. */
void rel_tile_path(const rel_env *env, int32_t tile, char *out, size_t cap);
/* Syncs env's index (SQLite); returns the status, err filled. */
ard_status rel_sync(const rel_env *env, ard_sync_report *rep, ard_error *err);
/* Runs raw SQL on env's ard.db behind ard's back. Asserts success. */
void rel_raw_sql(const rel_env *env, const char *sql);
/* The first column of every row of a raw SQL query on env's ard.db, one per line (caller frees). */
char *rel_sql_text(const rel_env *env, const char *sql);
/* Runs a shell command; returns its exit status (-1 if it did not exit). */
int rel_system(const char *cmd);

int rel_special_run(void);
int rel_truncate_run(void);
int rel_confine_run(void);
int rel_schema_run(void);
int rel_sync_lock_run(void);
int rel_faults_run(void);
int rel_writer_faults_run(void);
int rel_fuzz_replay_run(void);
int rel_skips_run(void);
int rel_temps_run(void);
int rel_replace_run(void);

#endif
