/* cfitsio opened on first use: the table of fits_lazy.h filled with dlsym, once per process. */
#include "survey_int.h"

#define SV_FITS_LAZY_IMPL /* the table's names, not the renaming */
#include "fits_lazy.h"

#include <pthread.h>

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
static ard_error load_error; /* the loading's outcome, code ARD_OK when it worked */
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load(void) {
    static const char *const names[] = {ARD_CFITSIO_PATH, ARD_CFITSIO_SONAME};
    void *slots[FITS_COUNT];
    ard_error_init(&load_error);
    if (ard_dynlib_open("reading FITS", names, 2, symbols, slots, FITS_COUNT, &load_error) ==
        ARD_OK) {
        int32_t i = 0;
#define SV_FITS_SET(name) ard__fits.name = (__typeof__(name) *)slots[i++];
        SV_FITS_FUNCTIONS(SV_FITS_SET)
#undef SV_FITS_SET
    }
}

ard_status ard__fits_load(ard_error *err) {
    pthread_once(&load_once, load);
    if (load_error.code != ARD_OK) {
        return ard_error_set(err, load_error.code, "%s", load_error.msg);
    }
    return ARD_OK;
}
