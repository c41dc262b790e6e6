/* The reach aggregator of the cosmic-web GraphSAGE (science.h "Reach"): a radius neighbourhood at
 * the tidal scale with a random catalogue subtracted. Per galaxy and radial bin b (hat functions
 * h_b(r) on knots b * reach / B), the contrast monopole D_b and the contrast traceless tensor M_b
 *   D_b = (sum_gal h_b - alpha sum_ran h_b) / (alpha sum_ran h_b + 1)
 *   M_b = (sum_gal h_b (3 e e^T - I) - alpha sum_ran h_b (3 e e^T - I)) / (alpha sum_ran h_b + 1)
 * (alpha = n_gal / n_ran, each sum over a uniform sample of at most `fanout` of the points within
 * the reach, scaled by count / fanout), and the learned layer over them: per channel g a radial
 * profile w_g(r) = sum_b a_gb h_b(r) for the tensor and c_g(r) for the monopole, whose rotation
 * invariants (the monopole, the tensor's three sorted eigenvalues in closed form: sym3_eigen.c,
 * its line-of-sight component) enter the first SAGE layer. The randoms are uniform on the galaxies'
 * own HEALPix footprint with radii drawn from the galaxies' own distances (their n(z)),
 * deterministic from the seed. */
#include "science_int.h"

#include <math.h>
#include <string.h>

enum { CW_REACH_CHUNK = 256, CW_RAND_CHUNK = 8192 };
#define CW_PI 3.14159265358979323846

/* ---- the random catalogue ---- */

typedef struct rand_job {
    const double *xyz;
    int64_t n, count;
    double center[3], e1[3], e2[3], cosmax;
    int64_t nside;
    const uint8_t *occupied;
    uint64_t key;
    double *out; /* count x 4 (x, y, z, 0) for the tree */
} rand_job;

static int64_t pixel_of(int64_t nside, const double v[3]) {
    double ra = atan2(v[1], v[0]) * 180.0 / CW_PI;
    if (ra < 0.0) {
        ra += 360.0;
    }
    double zc = v[2] > 1.0 ? 1.0 : (v[2] < -1.0 ? -1.0 : v[2]);
    double dec = asin(zc) * 180.0 / CW_PI;
    return ard_healpix_ang2pix_nest(nside, ra, dec);
}

static void rand_chunk(void *arg, int64_t chunk, int thread_id) {
    (void)thread_id;
    const rand_job *job = arg;
    int64_t a = chunk * CW_RAND_CHUNK;
    int64_t end = a + CW_RAND_CHUNK < job->count ? a + CW_RAND_CHUNK : job->count;
    for (int64_t j = a; j < end; j++) {
        sci_rng r;
        ard__sci_rng_seed(&r, ard__sci_mix64(job->key ^ (uint64_t)j));
        double v[3] = {job->center[0], job->center[1], job->center[2]};
        for (int tries = 0; tries < 100000; tries++) {
            double ct = job->cosmax + (1.0 - job->cosmax) * ard__sci_rng_uniform(&r);
            double st = sqrt(fmax(0.0, 1.0 - ct * ct));
            double ph = 2.0 * CW_PI * ard__sci_rng_uniform(&r);
            double cp = cos(ph) * st, sp = sin(ph) * st;
            for (int d = 0; d < 3; d++) {
                v[d] = ct * job->center[d] + cp * job->e1[d] + sp * job->e2[d];
            }
            if (job->occupied[pixel_of(job->nside, v)]) {
                break;
            }
        }
        const double *src = job->xyz + 3 * (int64_t)ard__sci_rng_below(&r, (uint64_t)job->n);
        double rad = sqrt(src[0] * src[0] + src[1] * src[1] + src[2] * src[2]);
        for (int d = 0; d < 3; d++) {
            job->out[4 * j + d] = rad * v[d];
        }
        job->out[4 * j + 3] = 0.0;
    }
}

/* The finest HEALPix nside (8..1024) at which the galaxies' occupied pixels hold >= 20 galaxies on
 * average, and its occupancy map (12 nside^2 bytes, owned by the caller). */
static ard_status footprint(const double *xyz, int64_t n, int64_t *nside_out, uint8_t **occ_out,
                            ard_error *err) {
    *occ_out = NULL;
    int64_t *pix = ard_malloc((size_t)n * sizeof *pix);
    uint8_t *occ = ard_malloc((size_t)(12 * 1024 * 1024));
    if (!pix || !occ) {
        ard_free(pix);
        ard_free(occ);
        return ard_error_set(err, ARD_ENOMEM, "cosmicweb: out of memory for the footprint");
    }
    for (int64_t i = 0; i < n; i++) {
        const double *p = xyz + 3 * i;
        double r = sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2]);
        double v[3] = {p[0] / r, p[1] / r, p[2] / r};
        pix[i] = pixel_of(1024, v);
    }
    int64_t nside = 1024;
    for (; nside >= 8; nside /= 2) {
        int shift = 0;
        for (int64_t s = nside; s < 1024; s *= 2) {
            shift += 2;
        }
        int64_t npix = 12 * nside * nside, occupied = 0;
        memset(occ, 0, (size_t)npix);
        for (int64_t i = 0; i < n; i++) {
            int64_t q = pix[i] >> shift;
            occupied += !occ[q];
            occ[q] = 1;
        }
        if (nside == 8 || (double)n >= 20.0 * (double)occupied) {
            break;
        }
    }
    ard_free(pix);
    *nside_out = nside;
    *occ_out = occ;
    return ARD_OK;
}

/* count randoms (x, y, z, 0 rows, new array into *out). */
static ard_status make_randoms(const double *xyz, int64_t n, int64_t count, uint64_t seed,
                               ard_pool *pool, double **out, ard_error *err) {
    *out = NULL;
    rand_job job = {.xyz = xyz, .n = n, .count = count};
    double sum[3] = {0.0, 0.0, 0.0};
    for (int64_t i = 0; i < n; i++) {
        const double *p = xyz + 3 * i;
        double r = sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2]);
        for (int d = 0; d < 3; d++) {
            sum[d] += p[d] / r;
        }
    }
    double len = sqrt(sum[0] * sum[0] + sum[1] * sum[1] + sum[2] * sum[2]);
    if (len < 1e-3 * (double)n) { /* (nearly) the whole sky: no cap */
        job.center[2] = 1.0;
        job.cosmax = -1.0;
    } else {
        job.cosmax = 1.0;
        for (int d = 0; d < 3; d++) {
            job.center[d] = sum[d] / len;
        }
        for (int64_t i = 0; i < n; i++) {
            const double *p = xyz + 3 * i;
            double r = sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2]);
            double c = (p[0] * job.center[0] + p[1] * job.center[1] + p[2] * job.center[2]) / r;
            job.cosmax = c < job.cosmax ? c : job.cosmax;
        }
        job.cosmax = job.cosmax - 0.02 * (1.0 - job.cosmax) - 1e-9; /* the edge pixels' rim */
        job.cosmax = job.cosmax < -1.0 ? -1.0 : job.cosmax;
    }
    /* an orthonormal frame around the centre */
    const double *c = job.center;
    double ax[3] = {0.0, 0.0, 1.0};
    if (fabs(c[2]) > 0.9) {
        ax[0] = 1.0;
        ax[2] = 0.0;
    }
    double e1[3] = {c[1] * ax[2] - c[2] * ax[1], c[2] * ax[0] - c[0] * ax[2],
                    c[0] * ax[1] - c[1] * ax[0]};
    double l1 = sqrt(e1[0] * e1[0] + e1[1] * e1[1] + e1[2] * e1[2]);
    for (int d = 0; d < 3; d++) {
        job.e1[d] = e1[d] / l1;
    }
    job.e2[0] = c[1] * job.e1[2] - c[2] * job.e1[1];
    job.e2[1] = c[2] * job.e1[0] - c[0] * job.e1[2];
    job.e2[2] = c[0] * job.e1[1] - c[1] * job.e1[0];
    uint8_t *occ = NULL;
    ard_status st = footprint(xyz, n, &job.nside, &occ, err);
    if (st != ARD_OK) {
        return st;
    }
    job.occupied = occ;
    job.key = ard__sci_mix64(seed ^ 0x7a6e64726e64ULL);
    job.out = ard_malloc((size_t)count * 4 * sizeof *job.out);
    if (!job.out) {
        ard_free(occ);
        return ard_error_set(err, ARD_ENOMEM, "cosmicweb: out of memory for %lld randoms",
                             (long long)count);
    }
    int64_t chunks = (count + CW_RAND_CHUNK - 1) / CW_RAND_CHUNK;
    if (pool) {
        ard_pool_for(pool, chunks, rand_chunk, &job);
    } else {
        for (int64_t i = 0; i < chunks; i++) {
            rand_chunk(&job, i, 0);
        }
    }
    ard_free(occ);
    *out = job.out;
    return ARD_OK;
}

/* ---- the radius sums ---- */

typedef struct reach_buf {
    int64_t *pos;
    int64_t cap;
    int failed;
} reach_buf;

typedef struct reach_job {
    const double *xyz;
    const sci_tree *gal, *ran;
    double radius, alpha;
    int32_t bins, fanout;
    uint64_t key;
    int64_t first, end;
    reach_buf *bufs;   /* 2 per thread */
    float *out;        /* rows [out_first, end) x CW_RB(bins) */
    int64_t out_first; /* the global row of out's first row */
} reach_job;

/* The tree positions of the points of t within r2 of q (d2 < r2) into b (grown). Returns the
 * count, or -1 out of memory. */
static int64_t within(const sci_tree *t, const double q[3], double r2, reach_buf *b) {
    int64_t stack[2 * SCI_MAX_DEPTH + 8];
    int top = 0, count = 0;
    stack[top++] = 0;
    while (top > 0) {
        const sci_node *nd = &t->nodes[stack[--top]];
        double d2 = 0.0;
        for (int d = 0; d < 3; d++) {
            double v =
                q[d] < nd->lo[d] ? nd->lo[d] - q[d] : (q[d] > nd->hi[d] ? q[d] - nd->hi[d] : 0);
            d2 += v * v;
        }
        if (d2 >= r2) {
            continue;
        }
        if (nd->right < 0) {
            for (int64_t p = nd->begin; p < nd->end; p++) {
                const double *x = t->pts + 4 * p;
                double dx = x[0] - q[0], dy = x[1] - q[1], dz = x[2] - q[2];
                if (dx * dx + dy * dy + dz * dz < r2) {
                    if (count >= b->cap) {
                        int64_t cap = b->cap ? 2 * b->cap : 4096;
                        int64_t *grown = ard_realloc(b->pos, (size_t)cap * sizeof *grown);
                        if (!grown) {
                            return -1;
                        }
                        b->pos = grown;
                        b->cap = cap;
                    }
                    b->pos[count++] = p;
                }
            }
        } else {
            int64_t self = nd - t->nodes;
            stack[top++] = nd->right;
            stack[top++] = self + 1;
        }
    }
    return count;
}

/* Adds the hat-binned monopole (s[b]) and tensor (m[b * 6 ..]) sums of the sampled points. */
static void accumulate(const sci_tree *t, const double q[3], int64_t self, reach_buf *b,
                       int64_t count, int32_t fanout, uint64_t key, double radius, int32_t bins,
                       double *s, double *m) {
    int64_t use = count;
    double weight = 1.0;
    if (fanout > 0 && count > fanout) { /* partial Fisher-Yates: a uniform sample of `fanout` */
        sci_rng r;
        ard__sci_rng_seed(&r, key);
        for (int64_t j = 0; j < fanout; j++) {
            int64_t pick = j + (int64_t)ard__sci_rng_below(&r, (uint64_t)(count - j));
            int64_t tmp = b->pos[j];
            b->pos[j] = b->pos[pick];
            b->pos[pick] = tmp;
        }
        use = fanout;
        weight = (double)count / (double)fanout;
    }
    double step = radius / bins;
    for (int64_t j = 0; j < use; j++) {
        int64_t p = b->pos[j];
        if (self >= 0 && t->idx[p] == self) {
            continue;
        }
        const double *x = t->pts + 4 * p;
        double d[3] = {x[0] - q[0], x[1] - q[1], x[2] - q[2]};
        double r = sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
        if (!(r > 1e-6) || r >= radius) {
            continue;
        }
        double u = r / step;
        int32_t b0 = (int32_t)u;
        b0 = b0 >= bins ? bins - 1 : b0;
        double frac = u - b0, e[3] = {d[0] / r, d[1] / r, d[2] / r};
        double tens[6] = {3 * e[0] * e[0] - 1, 3 * e[1] * e[1] - 1, 3 * e[2] * e[2] - 1,
                          3 * e[0] * e[1],     3 * e[0] * e[2],     3 * e[1] * e[2]};
        for (int side = 0; side < 2; side++) {
            int32_t bin = b0 + side;
            double w = weight * (side ? frac : 1.0 - frac);
            if (bin >= bins || w == 0.0) {
                continue;
            }
            s[bin] += w;
            for (int c = 0; c < 6; c++) {
                m[bin * 6 + c] += w * tens[c];
            }
        }
    }
}

static void reach_chunk(void *arg, int64_t chunk, int thread_id) {
    reach_job *job = arg;
    reach_buf *bg = &job->bufs[2 * thread_id], *br = &job->bufs[2 * thread_id + 1];
    int32_t B = job->bins, rb = CW_RB(B);
    int64_t a = job->first + chunk * CW_REACH_CHUNK;
    int64_t end = a + CW_REACH_CHUNK < job->end ? a + CW_REACH_CHUNK : job->end;
    double sg[CW_REACH_BINS_MAX], sr[CW_REACH_BINS_MAX];
    double mg[6 * CW_REACH_BINS_MAX], mr[6 * CW_REACH_BINS_MAX];
    double r2 = job->radius * job->radius;
    for (int64_t i = a; i < end && !bg->failed && !br->failed; i++) {
        const double *q = job->xyz + 3 * i;
        memset(sg, 0, sizeof sg);
        memset(sr, 0, sizeof sr);
        memset(mg, 0, sizeof mg);
        memset(mr, 0, sizeof mr);
        int64_t cg = within(job->gal, q, r2, bg);
        int64_t cr = cg < 0 ? -1 : within(job->ran, q, r2, br);
        if (cg < 0 || cr < 0) {
            bg->failed = 1;
            return;
        }
        uint64_t key = ard__sci_mix64(job->key ^ (uint64_t)i);
        accumulate(job->gal, q, i, bg, cg, job->fanout, key, job->radius, B, sg, mg);
        accumulate(job->ran, q, -1, br, cr, job->fanout, ard__sci_mix64(key ^ 1u), job->radius, B,
                   sr, mr);
        float *row = job->out + (i - job->out_first) * rb;
        for (int32_t b = 0; b < B; b++) {
            double expect = job->alpha * sr[b], norm = 1.0 / (expect + 1.0);
            row[b] = (float)((sg[b] - expect) * norm);
            for (int c = 0; c < 6; c++) {
                row[B + 6 * b + c] = (float)((mg[6 * b + c] - job->alpha * mr[6 * b + c]) * norm);
            }
        }
    }
}

static double *tree_points(const double *xyz, int64_t n) {
    double *pts = ard_malloc((size_t)(n > 0 ? n : 1) * 4 * sizeof *pts);
    for (int64_t i = 0; pts && i < n; i++) {
        memcpy(pts + 4 * i, xyz + 3 * i, 3 * sizeof *pts);
        pts[4 * i + 3] = 0.0;
    }
    return pts;
}

ard_status ard__cw_reach_check(int32_t channels, int32_t bins, float radius, int32_t fanout,
                               int32_t randoms, ard_error *err) {
    if (channels < 0 || channels > CW_REACH_CHANNELS_MAX ||
        (channels > 0 &&
         (bins < 2 || bins > CW_REACH_BINS_MAX || !(radius > 0.0f) || !(radius <= 1000.0f) ||
          (fanout != 0 && fanout < 16) || fanout > 1000000 || randoms < 1 || randoms > 64))) {
        return ard_error_set(err, ARD_EINVAL,
                             "cosmicweb: reach options out of range (channels 0..%d; with "
                             "channels > 0: bins 2..%d, reach 0 < R <= 1000 Mpc, fanout 0 (all) "
                             "or 16..1000000, randoms 1..64 per galaxy)",
                             CW_REACH_CHANNELS_MAX, CW_REACH_BINS_MAX);
    }
    return ARD_OK;
}

/* Receives the basis rows [a, a + rows) of one block (reach_run with a block size). */
typedef void (*reach_sink)(void *ctx, int64_t a, int64_t rows, float *basis);

/* The randoms, both trees, and the basis rows [first, end): into out (n x CW_RB(bins), global rows)
 * when block is 0, else block by block through buf (block x CW_RB(bins)) and sink. */
static ard_status reach_run(const double *xyz, int64_t n, int32_t bins, float radius,
                            int32_t fanout, int32_t randoms, uint64_t seed, int64_t first,
                            int64_t end, ard_pool *pool, float *out, int64_t block, float *buf,
                            reach_sink sink, void *ctx, ard_error *err) {
    int64_t nr = n * randoms;
    int32_t threads = pool ? ard_pool_threads(pool) : 1;
    double *rpts = NULL;
    reach_buf *bufs = ard_calloc((size_t)(2 * threads), sizeof *bufs);
    if (!bufs) {
        return ard_error_set(err, ARD_ENOMEM, "cosmicweb: out of memory for the reach of %lld",
                             (long long)n);
    }
    ard_status st = make_randoms(xyz, n, nr, seed, pool, &rpts, err);
    sci_tree gal, ran;
    memset(&gal, 0, sizeof gal);
    memset(&ran, 0, sizeof ran);
    static const double scale[4] = {1.0, 1.0, 1.0, 0.0};
    int built = 0;
    if (st == ARD_OK) {
        double *gpts = tree_points(xyz, n);
        st = gpts ? ard__tree_build(&gal, gpts, n, 3, scale, pool, err)
                  : ard_error_set(err, ARD_ENOMEM, "cosmicweb: out of memory for the reach tree");
        built |= gpts ? 1 : 0;
    }
    if (st == ARD_OK) {
        st = ard__tree_build(&ran, rpts, nr, 3, scale, pool, err);
        rpts = NULL; /* taken over */
        built |= 2;
    }
    int64_t step = block > 0 ? block : (end - first > 0 ? end - first : 1);
    for (int64_t a = first; st == ARD_OK && a < end; a += step) {
        int64_t b = end - a < step ? end : a + step;
        reach_job job = {xyz,
                         &gal,
                         &ran,
                         radius,
                         (double)n / (double)nr,
                         bins,
                         fanout,
                         ard__sci_mix64(seed ^ 0x72656163ULL),
                         a,
                         b,
                         bufs,
                         block > 0 ? buf : out,
                         block > 0 ? a : 0};
        int64_t chunks = (b - a + CW_REACH_CHUNK - 1) / CW_REACH_CHUNK;
        if (pool) {
            ard_pool_for(pool, chunks, reach_chunk, &job);
        } else {
            for (int64_t c = 0; c < chunks; c++) {
                reach_chunk(&job, c, 0);
            }
        }
        for (int32_t t = 0; t < 2 * threads; t++) {
            if (bufs[t].failed && st == ARD_OK) {
                st = ard_error_set(err, ARD_ENOMEM, "cosmicweb: out of memory for reach lists");
            }
        }
        if (st == ARD_OK && block > 0) {
            sink(ctx, a, b - a, buf);
        }
    }
    ard_free(rpts);
    if (built & 1) {
        ard__tree_reset(&gal);
    }
    if (built & 2) {
        ard__tree_reset(&ran);
    }
    for (int32_t t = 0; t < 2 * threads; t++) {
        ard_free(bufs[t].pos);
    }
    ard_free(bufs);
    return st;
}

static ard_status reach_inputs(const double *xyz, int64_t n, int32_t bins, float radius,
                               int32_t fanout, int32_t randoms, int64_t first, int64_t end,
                               ard_error *err) {
    ard_status st = ard__cw_reach_check(1, bins, radius, fanout, randoms, err);
    if (st != ARD_OK) {
        return st;
    }
    if (n < 1 || first < 0 || end > n || first > end) {
        return ard_error_set(err, ARD_EINVAL, "cosmicweb: reach rows [%lld, %lld) of %lld",
                             (long long)first, (long long)end, (long long)n);
    }
    st = ard__check_finite(xyz, n, 3, "coordinate", err);
    if (st != ARD_OK) {
        return st;
    }
    for (int64_t i = 0; i < n; i++) {
        const double *p = xyz + 3 * i;
        if (!(p[0] * p[0] + p[1] * p[1] + p[2] * p[2] > 0.0)) {
            return ard_error_set(err, ARD_EINVAL,
                                 "cosmicweb: galaxy %lld sits at the observer (no direction)",
                                 (long long)i);
        }
    }
    return ARD_OK;
}

ard_status ard__cw_reach_basis(const double *xyz, int64_t n, int32_t bins, float radius,
                               int32_t fanout, int32_t randoms, uint64_t seed, int64_t first,
                               int64_t end, ard_pool *pool, float **out, ard_error *err) {
    *out = NULL;
    ard_status st = reach_inputs(xyz, n, bins, radius, fanout, randoms, first, end, err);
    if (st != ARD_OK) {
        return st;
    }
    float *f = ard_calloc((size_t)n * (size_t)CW_RB(bins), sizeof *f);
    if (!f) {
        return ard_error_set(err, ARD_ENOMEM, "cosmicweb: out of memory for the reach of %lld",
                             (long long)n);
    }
    st = reach_run(xyz, n, bins, radius, fanout, randoms, seed, first, end, pool, f, 0, NULL, NULL,
                   NULL, err);
    if (st != ARD_OK) {
        ard_free(f);
        return st;
    }
    *out = f;
    return ARD_OK;
}

typedef struct inv_sink {
    const ard_cosmicweb_model *m;
    const double *xyz;
    float *inv; /* n x CW_REACH_OUT reach */
} inv_sink;

static void invariants_of_block(void *ctx, int64_t a, int64_t rows, float *basis) {
    const inv_sink *k = ctx;
    const ard_cosmicweb_model *m = k->m;
    int64_t width = CW_REACH_OUT * (int64_t)m->reach;
    ard__cw_reach_normalise(basis, m->reach_bins, rows, m->rscale->value);
    for (int64_t i = 0; i < rows; i++) {
        ard__cw_reach_forward(m->pr->value, m->reach, m->reach_bins,
                              basis + i * CW_RB(m->reach_bins), k->xyz + 3 * (a + i),
                              k->inv + (a + i) * width, NULL);
    }
}

ard_status ard__cw_reach_invariants(const ard_cosmicweb_model *m, const double *xyz, int64_t n,
                                    int64_t first, int64_t end, ard_pool *pool, float **out,
                                    ard_error *err) {
    *out = NULL;
    ard_status st = reach_inputs(xyz, n, m->reach_bins, m->reach_mpc, m->reach_fanout,
                                 m->reach_randoms, first, end, err);
    if (st != ARD_OK) {
        return st;
    }
    enum { BLOCK = 65536 };
    float *inv = ard_calloc((size_t)n * (size_t)(CW_REACH_OUT * m->reach), sizeof *inv);
    float *buf = ard_malloc((size_t)BLOCK * (size_t)CW_RB(m->reach_bins) * sizeof *buf);
    if (!inv || !buf) {
        ard_free(inv);
        ard_free(buf);
        return ard_error_set(err, ARD_ENOMEM, "cosmicweb: out of memory for the reach of %lld",
                             (long long)n);
    }
    inv_sink k = {m, xyz, inv};
    st = reach_run(xyz, n, m->reach_bins, m->reach_mpc, m->reach_fanout, m->reach_randoms,
                   m->reach_seed, first, end, pool, NULL, BLOCK, buf, invariants_of_block, &k, err);
    ard_free(buf);
    if (st != ARD_OK) {
        ard_free(inv);
        return st;
    }
    *out = inv;
    return ARD_OK;
}

void ard__cw_reach_fit_scale(const float *basis, int32_t bins, const int64_t *rows, int64_t count,
                             float *scale) {
    int32_t rb = CW_RB(bins);
    for (int32_t b = 0; b < 2 * bins; b++) {
        double sum = 0.0;
        int64_t terms = 0;
        for (int64_t i = 0; i < count; i++) {
            const float *row = basis + rows[i] * rb;
            if (b < bins) {
                sum += (double)row[b] * row[b];
                terms++;
            } else {
                for (int c = 0; c < 6; c++) {
                    double v = row[bins + 6 * (b - bins) + c];
                    sum += v * v;
                }
                terms += 6;
            }
        }
        double rms = terms > 0 ? sqrt(sum / (double)terms) : 0.0;
        scale[b] = rms > 1e-6 && isfinite(rms) ? (float)rms : 1.0f;
    }
}

void ard__cw_reach_normalise(float *basis, int32_t bins, int64_t n, const float *scale) {
    int32_t rb = CW_RB(bins);
    for (int64_t i = 0; i < n; i++) {
        float *row = basis + i * rb;
        for (int32_t b = 0; b < bins; b++) {
            row[b] /= scale[b];
            for (int c = 0; c < 6; c++) {
                row[bins + 6 * b + c] /= scale[bins + b];
            }
        }
    }
}

/* ---- the learned layer over the basis ---- */

/* The channel's tensor and monopole from the basis row. */
static void channel(const float *p, int32_t bins, const float *row, double t[6], double *mono) {
    memset(t, 0, 6 * sizeof *t);
    *mono = 0.0;
    for (int32_t b = 0; b < bins; b++) {
        *mono += (double)p[bins + b] * row[b];
        for (int c = 0; c < 6; c++) {
            t[c] += (double)p[b] * row[bins + 6 * b + c];
        }
    }
}

static void line_of_sight(const double pos[3], double l[3]) {
    double r = sqrt(pos[0] * pos[0] + pos[1] * pos[1] + pos[2] * pos[2]);
    double inv = r > 0.0 ? 1.0 / r : 0.0;
    for (int d = 0; d < 3; d++) {
        l[d] = pos[d] * inv;
    }
}

void ard__cw_reach_forward(const float *p, int32_t channels, int32_t bins, const float *row,
                           const double pos[3], float *out, double *vec) {
    double l[3];
    line_of_sight(pos, l);
    for (int32_t g = 0; g < channels; g++) {
        double t[6], mono, w[3], scratch[9], *v = vec ? vec + 9 * g : scratch;
        channel(p + g * 2 * bins, bins, row, t, &mono);
        ard__sci_sym3_eigen(t, w, v);
        double los = t[0] * l[0] * l[0] + t[1] * l[1] * l[1] + t[2] * l[2] * l[2] +
                     2.0 * (t[3] * l[0] * l[1] + t[4] * l[0] * l[2] + t[5] * l[1] * l[2]);
        float *o = out + g * CW_REACH_OUT;
        o[0] = (float)mono;
        o[1] = (float)w[0];
        o[2] = (float)w[1];
        o[3] = (float)w[2];
        o[4] = (float)los;
    }
}

void ard__cw_reach_backward(int32_t channels, int32_t bins, const float *row, const double pos[3],
                            const float *dout, const double *vec, float *dp) {
    double l[3];
    line_of_sight(pos, l);
    for (int32_t g = 0; g < channels; g++) {
        const float *o = dout + g * CW_REACH_OUT;
        const double *v = vec + 9 * g;
        /* dL/dT (full symmetric matrix): sum_i dw_i v_i v_i^T + dlos l l^T */
        double G[6];
        for (int c = 0; c < 6; c++) {
            static const int ia[6] = {0, 1, 2, 0, 0, 1}, ib[6] = {0, 1, 2, 1, 2, 2};
            double s = o[4] * l[ia[c]] * l[ib[c]];
            for (int i = 0; i < 3; i++) {
                s += o[1 + i] * v[ia[c] * 3 + i] * v[ib[c] * 3 + i];
            }
            G[c] = s;
        }
        float *d = dp + g * 2 * bins;
        for (int32_t b = 0; b < bins; b++) {
            const float *m = row + bins + 6 * b;
            double s = G[0] * m[0] + G[1] * m[1] + G[2] * m[2] +
                       2.0 * (G[3] * m[3] + G[4] * m[4] + G[5] * m[5]);
            d[b] += (float)s;
            d[bins + b] += (float)((double)o[0] * row[b]);
        }
    }
}
