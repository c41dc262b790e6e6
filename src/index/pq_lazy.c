/* libpq opened on first use: the table of pq_lazy.h filled with dlsym, once per process. */
#include "index_int.h"

#if ARD_HAVE_POSTGRES

#define IDX_PQ_LAZY_IMPL /* the table's names, not the renaming */
#include "pq_lazy.h"

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

static void fill(void *const *slots) {
    int32_t i = 0;
#define IDX_PQ_SET(name) ard__pq.name = (__typeof__(name) *)slots[i++];
    IDX_PQ_FUNCTIONS(IDX_PQ_SET)
#undef IDX_PQ_SET
}

static const char *const names[] = {ARD_LIBPQ_PATH, ARD_LIBPQ_SONAME, "libpq.so.5"};
static void *slots[PQ_COUNT];
static ard_dynlib_once libpq = {.what = "PostgreSQL support",
                                .names = names,
                                .name_count = 3,
                                .symbols = symbols,
                                .slots = slots,
                                .symbol_count = PQ_COUNT,
                                .fill = fill};

ard_status ard__pq_load(ard_error *err) {
    return ard_dynlib_load(&libpq, err);
}

#endif
