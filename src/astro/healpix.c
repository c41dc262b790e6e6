/* HEALPix nested scheme (Gorski et al. 2005): ang2pix and pix2ang for power-of-two NSIDE. */
#include "astro_int.h"

static const double k_pi = 3.14159265358979323846;

static int order_of(int64_t nside) {
    if (nside < 1 || nside > (INT64_C(1) << 29) || (nside & (nside - 1)) != 0) {
        return -1;
    }
    int order = 0;
    while ((INT64_C(1) << order) < nside) {
        order++;
    }
    return order;
}

/* Spreads the low 32 bits of v into the even bits. */
static uint64_t spread_bits(uint64_t v) {
    v &= 0xffffffffULL;
    v = (v | (v << 16)) & 0x0000ffff0000ffffULL;
    v = (v | (v << 8)) & 0x00ff00ff00ff00ffULL;
    v = (v | (v << 4)) & 0x0f0f0f0f0f0f0f0fULL;
    v = (v | (v << 2)) & 0x3333333333333333ULL;
    v = (v | (v << 1)) & 0x5555555555555555ULL;
    return v;
}

static uint64_t compress_bits(uint64_t v) {
    v &= 0x5555555555555555ULL;
    v = (v | (v >> 1)) & 0x3333333333333333ULL;
    v = (v | (v >> 2)) & 0x0f0f0f0f0f0f0f0fULL;
    v = (v | (v >> 4)) & 0x00ff00ff00ff00ffULL;
    v = (v | (v >> 8)) & 0x0000ffff0000ffffULL;
    v = (v | (v >> 16)) & 0x00000000ffffffffULL;
    return v;
}

int64_t ard_healpix_ang2pix_nest(int64_t nside, double ra_deg, double dec_deg) {
    int order = order_of(nside);
    if (order < 0 || !isfinite(ra_deg) || !isfinite(dec_deg) || dec_deg < -90.0 || dec_deg > 90.0) {
        return -1;
    }
    double phi = fmod(ra_deg, 360.0);
    if (phi < 0.0) {
        phi += 360.0;
    }
    double z = sin(dec_deg * k_pi / 180.0);
    double za = fabs(z);
    double tt = phi / 90.0; /* in [0, 4) */
    if (tt >= 4.0) {
        tt = 0.0;
    }
    int64_t face, ix, iy;
    double ns = (double)nside;
    if (za <= 2.0 / 3.0) {
        double t1 = ns * (0.5 + tt), t2 = ns * z * 0.75;
        int64_t jp = (int64_t)(t1 - t2), jm = (int64_t)(t1 + t2);
        int64_t ifp = jp >> order, ifm = jm >> order;
        face = (ifp == ifm) ? (ifp | 4) : ((ifp < ifm) ? ifp : ifm + 8);
        ix = jm & (nside - 1);
        iy = nside - (jp & (nside - 1)) - 1;
    } else {
        int64_t ntt = (int64_t)tt;
        if (ntt > 3) {
            ntt = 3;
        }
        double tp = tt - (double)ntt;
        double tmp = ns * sqrt(3.0 * (1.0 - za));
        int64_t jp = (int64_t)(tp * tmp), jm = (int64_t)((1.0 - tp) * tmp);
        jp = jp < nside - 1 ? jp : nside - 1;
        jm = jm < nside - 1 ? jm : nside - 1;
        if (z >= 0) {
            face = ntt;
            ix = nside - jm - 1;
            iy = nside - jp - 1;
        } else {
            face = ntt + 8;
            ix = jp;
            iy = jm;
        }
    }
    return (face << (2 * order)) +
           (int64_t)(spread_bits((uint64_t)ix) | (spread_bits((uint64_t)iy) << 1));
}

static const int jrll[12] = {2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4};
static const int jpll[12] = {1, 3, 5, 7, 0, 2, 4, 6, 1, 3, 5, 7};

ard_status ard_healpix_pix2ang_nest(int64_t nside, int64_t pix, double *ra_deg, double *dec_deg,
                                    ard_error *err) {
    int order = order_of(nside);
    int64_t npface = nside * nside;
    if (order < 0 || pix < 0 || pix >= 12 * npface) {
        return ard_error_set(err, ARD_EINVAL, "healpix: bad nside %lld or pixel %lld",
                             (long long)nside, (long long)pix);
    }
    int face = (int)(pix >> (2 * order));
    uint64_t local = (uint64_t)(pix & (npface - 1));
    int64_t ix = (int64_t)compress_bits(local), iy = (int64_t)compress_bits(local >> 1);
    int64_t jr = ((int64_t)jrll[face] << order) - ix - iy - 1;
    double fact2 = 4.0 / (double)(12 * npface), fact1 = (double)(2 * nside) * fact2;
    int64_t nr, kshift;
    double z;
    if (jr < nside) {
        nr = jr;
        z = 1.0 - (double)(nr * nr) * fact2;
        kshift = 0;
    } else if (jr > 3 * nside) {
        nr = 4 * nside - jr;
        z = (double)(nr * nr) * fact2 - 1.0;
        kshift = 0;
    } else {
        nr = nside;
        z = (double)(2 * nside - jr) * fact1;
        kshift = (jr - nside) & 1;
    }
    int64_t jp = ((int64_t)jpll[face] * nr + ix - iy + 1 + kshift) / 2;
    if (jp > 4 * nside) {
        jp -= 4 * nside;
    }
    if (jp < 1) {
        jp += 4 * nside;
    }
    double phi = ((double)jp - (double)(kshift + 1) * 0.5) * (90.0 / (double)nr);
    *ra_deg = phi;
    *dec_deg = asin(z > 1.0 ? 1.0 : (z < -1.0 ? -1.0 : z)) * 180.0 / k_pi;
    return ARD_OK;
}

double ard_healpix_pixel_area_deg2(int64_t nside) {
    if (order_of(nside) < 0) {
        return 0.0;
    }
    double sky = 4.0 * k_pi * (180.0 / k_pi) * (180.0 / k_pi);
    return sky / (12.0 * (double)nside * (double)nside);
}
