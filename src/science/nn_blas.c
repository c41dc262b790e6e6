/* OpenBLAS for the nn layers, opened on first use rather than linked: Debian's default (pthread)
 * OpenBLAS starts a worker thread when it is loaded, which spun ~0.1 CPU s in sched_yield in every
 * ard process, BLAS or not. The first nn call opens the library the build found (its path, then its
 * soname), once per process; a missing library is an ARD_ENOTSUP naming it, never a crash. */
#include "science_int.h"

#if ARD_HAVE_BLAS

#include <cblas.h>

/* Set by CMakeLists.txt from the library pkg-config found (objdump's SONAME). */
#ifndef ARD_OPENBLAS_PATH
#define ARD_OPENBLAS_PATH "libopenblas.so.0"
#endif
#ifndef ARD_OPENBLAS_SONAME
#define ARD_OPENBLAS_SONAME "libopenblas.so.0"
#endif

static __typeof__(cblas_sgemm) *blas_sgemm;
static __typeof__(openblas_get_num_threads) *blas_get_threads;
static __typeof__(openblas_set_num_threads) *blas_set_threads;

static void fill(void *const *slots) {
    blas_sgemm = (__typeof__(cblas_sgemm) *)slots[0];
    blas_get_threads = (__typeof__(openblas_get_num_threads) *)slots[1];
    blas_set_threads = (__typeof__(openblas_set_num_threads) *)slots[2];
}

static const char *const names[] = {ARD_OPENBLAS_PATH, ARD_OPENBLAS_SONAME, "libopenblas.so.0"};
static const char *const symbols[] = {"cblas_sgemm", "openblas_get_num_threads",
                                      "openblas_set_num_threads"};
static void *slots[3];
static ard_dynlib_once openblas = {.what = "BLAS (OpenBLAS)",
                                   .names = names,
                                   .name_count = 3,
                                   .symbols = symbols,
                                   .slots = slots,
                                   .symbol_count = 3,
                                   .fill = fill};

ard_status ard__nn_need_blas(const char *what, ard_error *err) {
    ard_error loaded;
    ard_error_init(&loaded);
    if (ard_dynlib_load(&openblas, &loaded) != ARD_OK) {
        return ard_error_set(err, loaded.code, "nn: %s: %s", what, loaded.msg);
    }
    return ARD_OK;
}

void ard__nn_blas_one_thread(void) {
    if (blas_get_threads() != 1) {
        blas_set_threads(1);
    }
}

void ard__nn_sgemm(int trans_a, int trans_b, int m, int n, int k, const float *a, int lda,
                   const float *b, int ldb, float beta, float *c, int ldc) {
    blas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
               trans_b ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc);
}

#else

ard_status ard__nn_need_blas(const char *what, ard_error *err) {
    return ard_error_set(err, ARD_ENOTSUP, "nn: %s needs BLAS (ard was built without OpenBLAS)",
                         what);
}

void ard__nn_blas_one_thread(void) {}

void ard__nn_sgemm(int trans_a, int trans_b, int m, int n, int k, const float *a, int lda,
                   const float *b, int ldb, float beta, float *c, int ldc) {
    (void)trans_a, (void)trans_b, (void)m, (void)n, (void)k, (void)a, (void)lda, (void)b;
    (void)ldb, (void)beta, (void)c, (void)ldc;
}

#endif

int ard_nn_available(void) {
    return ard__nn_need_blas("availability", NULL) == ARD_OK;
}
