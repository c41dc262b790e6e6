/* One instance of the small-median kernel (median.c includes this file once per instruction
 * set). Before including, define MS_NAME (the function's name), MS_VB (bytes per vector: 16 for
 * SSE2/NEON, 32 for AVX2) and MS_ATTR (a target attribute, or nothing).
 *
 * The kernel counts ranks instead of moving values: for every value x_i, lt_i = #{j : x_j < x_i};
 * the q-th smallest value (0-based) is then max{x_i : lt_i <= q}, whatever the ties. Counting is
 * branch-free, compares 16 lanes against one broadcast value per step, and vectorises with gcc's
 * generic vectors on any instruction set. To avoid ranking all n^2 pairs, a sample of 16 values
 * gives two pivots around the middle; one counting pass tells which of the intervals bounded by
 * {-inf, p1, p2, +inf} is the narrowest holding both middle ranks, and only the values inside it
 * are ranked against each other (exact whatever the sample). */

#define MS_CAT2(a, b) a##b
#define MS_CAT(a, b) MS_CAT2(a, b)
#define MS_(suffix) MS_CAT(MS_NAME, suffix)

typedef float MS_(_vf) __attribute__((vector_size(MS_VB)));
typedef int32_t MS_(_vi) __attribute__((vector_size(MS_VB)));

/* buf[0..lanes): lanes a multiple of MS_GROUP, entries past nj are +inf. Sets *lo / *hi to the
 * klo-th / khi-th smallest of buf[0..nj) (-inf when a rank is < 0). */
static MS_ATTR void MS_(_rank)(const float *buf, int32_t lanes, int32_t nj, int32_t klo,
                               int32_t khi, float *lo, float *hi) {
    enum { L = MS_VB / 4, G = MS_GROUP / L };
    typedef MS_(_vf) vf;
    typedef MS_(_vi) vi;
    const vi ninf = (vi)((vf){0} - INFINITY);
    vi best_hi = ninf, best_lo = ninf;
    for (int32_t g = 0; g < lanes; g += MS_GROUP) {
        vf x[G];
        vi lt[G]; /* minus the counts: a true comparison is -1 */
        for (int b = 0; b < G; b++) {
            memcpy(&x[b], buf + g + b * L, sizeof x[b]);
            lt[b] = (vi){0};
        }
        for (int32_t j = 0; j < nj; j++) {
            vf y = (vf){0} + buf[j];
            for (int b = 0; b < G; b++) {
                lt[b] += (vi)(y < x[b]);
            }
        }
        for (int b = 0; b < G; b++) {
            vi take_hi = lt[b] >= -khi, take_lo = lt[b] >= -klo;
            vi h = ((vi)x[b] & take_hi) | (ninf & ~take_hi);
            vi o = ((vi)x[b] & take_lo) | (ninf & ~take_lo);
            vi more_hi = (vi)((vf)h > (vf)best_hi), more_lo = (vi)((vf)o > (vf)best_lo);
            best_hi = (h & more_hi) | (best_hi & ~more_hi);
            best_lo = (o & more_lo) | (best_lo & ~more_lo);
        }
    }
    float hs[L], os[L];
    memcpy(hs, &best_hi, sizeof hs);
    memcpy(os, &best_lo, sizeof os);
    float h = -INFINITY, o = -INFINITY;
    for (int l = 0; l < L; l++) {
        h = hs[l] > h ? hs[l] : h;
        o = os[l] > o ? os[l] : o;
    }
    *hi = h;
    *lo = o;
}

/* Bit l set when lane l of m is true. */
static MS_ATTR uint32_t MS_(_bits)(MS_(_vi) m) {
#if ARD_STREAM_X86 && MS_VB == 32
    return (uint32_t)_mm256_movemask_ps((__m256)m);
#elif ARD_STREAM_X86 && MS_VB == 16
    return (uint32_t)_mm_movemask_ps((__m128)m);
#else
    int32_t lane[MS_VB / 4];
    uint32_t bits = 0;
    memcpy(lane, &m, sizeof lane);
    for (int l = 0; l < MS_VB / 4; l++) {
        bits |= (uint32_t)(lane[l] & 1) << l;
    }
    return bits;
#endif
}

static MS_ATTR int32_t MS_(_sum)(MS_(_vi) v) {
    int32_t lane[MS_VB / 4], sum = 0;
    memcpy(lane, &v, sizeof lane);
    for (int l = 0; l < MS_VB / 4; l++) {
        sum += lane[l];
    }
    return sum;
}

/* The values of ranks klo and khi (0-based) among keys[0..len), len <= MS_MAX (keys: no NaN). */
static MS_ATTR void MS_(_select2)(const float *keys, int32_t len, int32_t klo, int32_t khi,
                                  float *lo, float *hi) {
    enum { L = MS_VB / 4 };
    typedef MS_(_vf) vf;
    typedef MS_(_vi) vi;
    float all[MS_MAX] __attribute__((aligned(64)));
    int32_t lanes = (len + MS_GROUP - 1) / MS_GROUP * MS_GROUP;
    memcpy(all, keys, (size_t)len * sizeof *keys);
    for (int32_t i = len; i < lanes; i++) {
        all[i] = INFINITY;
    }
    if (len > 2 * MS_GROUP) {
        float sample[MS_GROUP], p1, p2;
        for (int32_t i = 0; i < MS_GROUP; i++) {
            sample[i] = all[(2 * i + 1) * len / (2 * MS_GROUP)];
        }
        /* the sample ranks where klo and khi are expected, widened by MS_MARGIN */
        double scale = (double)(MS_GROUP + 1) / (double)(len + 1);
        int32_t r1 = (int32_t)floor((klo + 1) * scale - 1.0 - MS_MARGIN);
        int32_t r2 = (int32_t)ceil((khi + 1) * scale - 1.0 + MS_MARGIN);
        MS_(_rank)(sample, MS_GROUP, MS_GROUP, r1, r2, &p1, &p2);
        p2 = r2 >= MS_GROUP ? INFINITY : p2;
        /* values below / up to each pivot, in one pass */
        vf v1 = (vf){0} + p1, v2 = (vf){0} + p2;
        vi lt1 = (vi){0}, le1 = (vi){0}, lt2 = (vi){0}, le2 = (vi){0};
        for (int32_t i = 0; i < lanes; i += L) {
            vf x;
            memcpy(&x, all + i, sizeof x);
            lt1 += (vi)(x < v1);
            le1 += (vi)(x <= v1);
            lt2 += (vi)(x < v2);
            le2 += (vi)(x <= v2);
        }
        /* the narrowest [a, b] of {-inf, p1, p2, +inf} that holds ranks klo and khi; `skip`
         * values lie below a. Never everything: p1 and p2 are values (or infinite). */
        int32_t skip = 0, below2 = -MS_(_sum)(lt2), below1 = -MS_(_sum)(lt1);
        float a = -INFINITY, b = INFINITY;
        if (below2 <= klo) {
            a = p2, skip = below2;
        } else if (below1 <= klo) {
            a = p1, skip = below1;
        }
        if (-MS_(_sum)(le1) > khi) {
            b = p1;
        } else if (-MS_(_sum)(le2) > khi) {
            b = p2;
        }
        /* a bit per value inside [a, b]; +inf padding excluded */
        vf va = (vf){0} + a, vb = (vf){0} + b;
        uint64_t inside[MS_MAX / 64] = {0};
        for (int32_t i = 0; i < lanes; i += L) {
            vf x;
            memcpy(&x, all + i, sizeof x);
            inside[i / 64] |= (uint64_t)MS_(_bits)((vi)(x >= va) & (vi)(x <= vb)) << (i % 64);
        }
        if (len % 64) {
            inside[len / 64] &= (UINT64_C(1) << (len % 64)) - 1;
        }
        float buf[MS_MAX] __attribute__((aligned(64)));
        int32_t n = 0;
        for (int32_t w = 0; w < MS_MAX / 64; w++) {
            for (uint64_t bits = inside[w]; bits; bits &= bits - 1) {
                buf[n++] = all[w * 64 + __builtin_ctzll(bits)];
            }
        }
        int32_t cand_lanes = (n + MS_GROUP - 1) / MS_GROUP * MS_GROUP;
        for (int32_t i = n; i < cand_lanes; i++) {
            buf[i] = INFINITY;
        }
        MS_(_rank)(buf, cand_lanes, n, klo - skip, khi - skip, lo, hi);
        return;
    }
    MS_(_rank)(all, lanes, len, klo, khi, lo, hi);
}

static MS_ATTR float MS_NAME(const float *keys, int32_t len, int32_t count) {
    int32_t k = count / 2, klo = count % 2 ? k : k - 1;
    float lo, hi;
    MS_(_select2)(keys, len, klo, k, &lo, &hi);
    return median_of_middles(lo, hi, count);
}

#undef MS_
#undef MS_CAT
#undef MS_CAT2
#undef MS_NAME
#undef MS_VB
#undef MS_ATTR
