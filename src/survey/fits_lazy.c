/* cfitsio opened on first use: the table of fits_lazy.h filled with dlsym, once per process. */
#include "survey_int.h"

#define SV_FITS_LAZY_IMPL /* the table's names, not the renaming */
#include "fits_lazy.h"

/* Set by CMakeLists.txt from the library pkg-config found (objdump's SONAME). */
#ifndef ARD_CFITSIO_PATH
#define ARD_CFITSIO_PATH "libcfitsio.so.10"
#endif
#ifndef ARD_CFITSIO_SONAME
#define ARD_CFITSIO_SONAME "libcfitsio.so.10"
#endif

#define SV_FITS_NAME(name) #name,
static const char *const symbols[] = {SV_FITS_FUNCTIONS(SV_FITS_NAME)};
#undef SV_FITS_NAME
#define FITS_COUNT ((int32_t)(sizeof symbols / sizeof symbols[0]))

sv_fits ard__fits;

static void fill(void *const *slots) {
    int32_t i = 0;
#define SV_FITS_SET(name) ard__fits.name = (__typeof__(name) *)slots[i++];
    SV_FITS_FUNCTIONS(SV_FITS_SET)
#undef SV_FITS_SET
}

static const char *const names[] = {ARD_CFITSIO_PATH, ARD_CFITSIO_SONAME};
static void *slots[FITS_COUNT];
static ard_dynlib_once cfitsio = {.what = "reading FITS",
                                  .names = names,
                                  .name_count = 2,
                                  .symbols = symbols,
                                  .slots = slots,
                                  .symbol_count = FITS_COUNT,
                                  .fill = fill};

ard_status ard__fits_load(ard_error *err) {
    return ard_dynlib_load(&cfitsio, err);
}
