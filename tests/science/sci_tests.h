/* The science test groups (one function per file, called from main.c). */
#ifndef SCI_TESTS_H
#define SCI_TESTS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

int sci_run_exact_tests(void);
int sci_run_catalog_tests(void);
int sci_run_scipy_tests(void);
int sci_run_nn_tests(void);
int sci_run_nn_safetensors_tests(void);
int sci_run_cosmicweb_tests(void);
int sci_run_cosmicweb_reach_tests(void);
int sci_run_anomaly_tests(void);

/* Writes the safetensors fixture read by nn_numpy.sh; 0 on success, 77 without BLAS. */
int sci_nn_write_fixture(const char *path);
int sci_run_stage_tests(void);
int sci_run_stage_begin_tests(void);

#endif
