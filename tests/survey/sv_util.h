/* Helpers shared by the survey tests: temporary directories and whole-column Parquet reads. */
#ifndef SV_UTIL_H
#define SV_UTIL_H

#include "ard/parquet.h"
#include "ard/survey.h"

#include <stddef.h>
#include <stdint.h>

/* mkdtemp under TMPDIR; returns a malloc'd path (free with sv_rmtree + free). */
char *sv_tmpdir(const char *tag);
void sv_rmtree(const char *path);
/* Reads every row group of column `name` (numeric, fixed width elem bytes) into a malloc'd array.
 * Returns rows, or -1 on error. */
int64_t sv_read_numeric(const char *path, const char *name, size_t elem, void **out);
/* Reads a string column: malloc'd array of malloc'd strings (free with sv_free_strings). */
int64_t sv_read_strings(const char *path, const char *name, char ***out);
void sv_free_strings(char **s, int64_t n);
/* 1 if the two files have identical bytes. */
int sv_same_file(const char *a, const char *b);
/* Lists regular files under dir (relative paths, sorted); returns count; *out malloc'd. */
int64_t sv_list_files(const char *dir, char ***out);
/* The shared test corpus directory (ARD_SHARED_DIR env or the compiled default). */
const char *sv_shared_dir(void);

/* |a - b| <= eps in double precision (cmocka's float variant is single precision). */
#define sv_assert_near(a, b, eps) assert_true(fabs((double)(a) - (double)(b)) <= (double)(eps))

/* Test groups (one per file). */
int sv_run_model_tests(void);
int sv_run_generate_tests(void);
int sv_run_ingest_tests(void);
int sv_run_pixel_stats_tests(void);
int sv_run_web_tests(void);
int sv_run_anomaly_kind_tests(void);

#endif
