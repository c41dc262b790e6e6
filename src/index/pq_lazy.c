/* libpq opened on first use: the table of pq_lazy.h filled with dlsym, once per process. */
#include "index_int.h"

#if ARD_HAVE_POSTGRES

#define IDX_PQ_LAZY_IMPL /* the table's names, not the renaming */
#include "pq_lazy.h"

#include <pthread.h>

/* Set by CMakeLists.txt from the library pkg-config found (objdump's SONAME). */
#ifndef ARD_LIBPQ_PATH
#define ARD_LIBPQ_PATH "libpq.so.5"
#endif
#ifndef ARD_LIBPQ_SONAME
#define ARD_LIBPQ_SONAME "libpq.so.5"
#endif

#define IDX_PQ_NAME(name) #name,
static const char *const symbols[] = {IDX_PQ_FUNCTIONS(IDX_PQ_NAME)};
#undef IDX_PQ_NAME
#define PQ_COUNT ((int32_t)(sizeof symbols / sizeof symbols[0]))

idx_pq ard__pq;
static ard_error load_error; /* the loading's outcome, code ARD_OK when it worked */
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load(void) {
    static const char *const names[] = {ARD_LIBPQ_PATH, ARD_LIBPQ_SONAME, "libpq.so.5"};
    void *slots[PQ_COUNT];
    ard_error_init(&load_error);
    if (ard_dynlib_open("PostgreSQL support", names, 3, symbols, slots, PQ_COUNT, &load_error) ==
        ARD_OK) {
        int32_t i = 0;
#define IDX_PQ_SET(name) ard__pq.name = (__typeof__(name) *)slots[i++];
        IDX_PQ_FUNCTIONS(IDX_PQ_SET)
#undef IDX_PQ_SET
    }
}

ard_status ard__pq_load(ard_error *err) {
    pthread_once(&load_once, load);
    if (load_error.code != ARD_OK) {
        return ard_error_set(err, load_error.code, "%s", load_error.msg);
    }
    return ARD_OK;
}

#endif
