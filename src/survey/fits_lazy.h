/* cfitsio, opened on first use (fits_lazy.c) instead of linked: only the DESI ingest reads FITS,
 * and loading cfitsio (with the libcurl, TLS, ssh, LDAP and Kerberos libraries it pulls in: 34 of
 * the 49 libraries an ard process loaded) cost every ard process at start. fits_read.c includes
 * this header after <fitsio.h>: the real header still gives the types and the long names
 * (fits_open_diskfile -> ffdkopn, ...), and each short name below is renamed to a call through a
 * table of pointers that ard__fits_load fills with dlsym. A cfitsio function used in fits_read.c
 * must be listed here (else the link fails: cfitsio is not linked). The second private header of
 * src/survey because the renaming must not reach any other file. */
#ifndef ARD_SURVEY_FITS_LAZY_H
#define ARD_SURVEY_FITS_LAZY_H

#include "ard/core.h"

#include <fitsio.h>

// clang-format off
#define SV_FITS_FUNCTIONS(X)                                                                       \
    X(ffdkopn) X(ffclos) X(ffgerr) X(ffcmsg) X(ffgky) X(ffgidm) X(ffgisz) X(ffmnhd) X(ffgcno)      \
    X(ffgnrw) X(ffgpv) X(ffgcv) X(ffgcvs)
// clang-format on

#define SV_FITS_FIELD(name) __typeof__(name) *name;
typedef struct sv_fits {
    SV_FITS_FUNCTIONS(SV_FITS_FIELD)
} sv_fits;
#undef SV_FITS_FIELD

/* The table; valid once ard__fits_load returned ARD_OK. */
extern sv_fits ard__fits;

/* Opens cfitsio once per process (thread-safe): the library the build found (its path, then its
 * soname). ARD_OK, or ARD_ENOTSUP "reading FITS needs libcfitsio.so.N: <dlerror>" (or naming a
 * missing function), the same on every later call. */
ard_status ard__fits_load(ard_error *err);

#ifndef SV_FITS_LAZY_IMPL
#define ffdkopn (ard__fits.ffdkopn)
#define ffclos (ard__fits.ffclos)
#define ffgerr (ard__fits.ffgerr)
#define ffcmsg (ard__fits.ffcmsg)
#define ffgky (ard__fits.ffgky)
#define ffgidm (ard__fits.ffgidm)
#define ffgisz (ard__fits.ffgisz)
#define ffmnhd (ard__fits.ffmnhd)
#define ffgcno (ard__fits.ffgcno)
#define ffgnrw (ard__fits.ffgnrw)
#define ffgpv (ard__fits.ffgpv)
#define ffgcv (ard__fits.ffgcv)
#define ffgcvs (ard__fits.ffgcvs)
#endif

#endif
