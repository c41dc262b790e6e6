/* Helpers shared by the footer tests (test_footer.c, test_footer_damage.c, test_fuzz_replay.c). */
#ifndef ARD_TESTS_PARQUET_FOOTER_TEST_UTIL_H
#define ARD_TESTS_PARQUET_FOOTER_TEST_UTIL_H

#include "ard/parquet.h"
#include "common/ard_test.h"

#include <stddef.h>
#include <stdint.h>

/* Corpus and source directories and whole-file reads are tests/common's (ard_test.h). */
#define ftu_shared_dir ard_test_shared_dir
#define ftu_source_dir ard_test_source_dir
#define ftu_read_file ard_test_read_file
/* Undoes footer_expect.py's %XX escaping ("%" alone is the empty string). */
void ftu_unescape(const char *in, char *out, size_t cap);
/* Next space-separated token of *cursor (modified in place), or "" at the end. */
char *ftu_token(char **cursor);
/* Calls fn on every *.parquet / *.parquet.encrypted file under dir (recursively, sorted);
 * returns the sum of fn's results. */
int ftu_walk(const char *dir, int (*fn)(const char *path, void *arg), void *arg);
/* Every regular file under dir, recursively. */
int ftu_walk_tree(const char *dir, int (*fn)(const char *path, void *arg), void *arg);
/* Every regular file directly in dir (not recursive). */
int ftu_walk_all(const char *dir, int (*fn)(const char *path, void *arg), void *arg);
/* The two numbers footer_expect.txt records per logical type (see footer_expect.py). */
void ftu_logical_params(const ard_pq_logical *lt, long *a, long *b);
/* "PAR1" + footer + LE length + "PAR1" in a malloc'd buffer. */
uint8_t *ftu_wrap_footer(const uint8_t *footer, size_t len, size_t *size);

int ard_test_footer_damage_run(void);

#endif
