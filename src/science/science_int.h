/* Private header of the science module: the KD-tree layout shared by the public tree API and the
 * friends-of-friends linker, union-find, and the helpers that turn a catalog into linking inputs. */
#ifndef ARD_SCIENCE_INT_H
#define ARD_SCIENCE_INT_H

#include "ard/astro.h"
#include "ard/core.h"
#include "ard/index.h"
#include "ard/nn.h"
#include "ard/science.h"

#include <stdint.h>

/* Points per leaf at most. Small leaves keep the pair loops short; the per-leaf traversal amortises. */
#define SCI_LEAF_SIZE 12
/* Depth of the top subtrees that are built (and linked) as independent tasks: 2^depth tasks. The
 * partition never depends on it; it only sets the parallel grain. */
#define SCI_TASK_DEPTH 7
#define SCI_MAX_DEPTH 64

/* A node covers tree positions [begin, end). Internal nodes: left child = this + 1, right child =
 * `right`; leaves: right = -1. lo/hi: bounding box over the tree's dims (unused dims are 0). */
typedef struct sci_node {
    double lo[4];
    double hi[4];
    int64_t begin;
    int64_t end;
    int64_t right;
} sci_node;

/* A top subtree built and linked as one task (a contiguous range of positions). */
typedef struct sci_task {
    int64_t node;
    int64_t begin;
    int64_t end;
    int32_t depth;
} sci_task;

typedef struct sci_tree {
    int32_t dims; /* 3 (Cartesian) or 4 (unit vector + comoving distance) */
    int64_t n;
    double *pts;     /* n x 4, tree order (owned) */
    int64_t *idx;    /* original index at each position (owned) */
    sci_node *nodes; /* preorder (owned) */
    int64_t num_nodes;
    int64_t *leaves; /* node indices of the leaves, in position order (owned) */
    int64_t num_leaves;
    sci_task *tasks; /* cover [0, n) in order (owned) */
    int64_t num_tasks;
    double scale[4]; /* split-axis weights: the widest of (hi - lo) * scale is split */
} sci_tree;

/* Builds over pts (n x 4 doubles, taken over: freed by ard__tree_reset even on failure). pool may
 * be NULL (serial). ARD_ENOMEM. */
ard_status ard__tree_build(sci_tree *t, double *pts, int64_t n, int32_t dims, const double scale[4],
                           ard_pool *pool, ard_error *err);
void ard__tree_reset(sci_tree *t);

/* Squared distance between two boxes over the first `dims` axes (0 when they overlap) and the
 * largest squared distance between any two points of them. Both are exact bounds in floating point
 * (rounding is monotone), so pruning with them never drops a pair the brute force would link. */
double ard__box_min_d2(const sci_node *a, const sci_node *b, int32_t dims);
double ard__box_max_d2(const sci_node *a, const sci_node *b, int32_t dims);

/* ---- k nearest neighbours (kdtree_knn.c) ---- */
typedef struct sci_knn_hit {
    double d2;
    int64_t idx; /* original index */
} sci_knn_hit;

/* The min(k, n) points nearest to q over the first 3 dims, sorted by (d2, idx) into out (k slots).
 * Returns the count. Thread-safe on a built tree. */
int32_t ard__tree_knn(const sci_tree *t, const double q[3], int32_t k, sci_knn_hit *out);
const sci_tree *ard__kdtree_tree(const ard_kdtree *tree);

/* ---- union-find with path halving and union by size (positions 0..n-1) ----
 * parent[x] >= 0: x's parent; parent[x] < 0: x is a root of a set of -parent[x] members (one array:
 * sizes live in the roots). */
typedef struct sci_uf {
    int64_t *parent;
} sci_uf;

ard_status ard__uf_init(sci_uf *uf, int64_t n, ard_error *err);
void ard__uf_reset(sci_uf *uf);

static inline int64_t ard__uf_find(const sci_uf *uf, int64_t x) {
    int64_t *parent = uf->parent;
    while (parent[x] >= 0) {
        int64_t up = parent[x];
        if (parent[up] >= 0) {
            parent[x] = parent[up];
        }
        x = up;
    }
    return x;
}

static inline void ard__uf_union(const sci_uf *uf, int64_t a, int64_t b) {
    a = ard__uf_find(uf, a);
    b = ard__uf_find(uf, b);
    if (a == b) {
        return;
    }
    if (uf->parent[a] > uf->parent[b]) { /* a is the smaller set */
        int64_t tmp = a;
        a = b;
        b = tmp;
    }
    uf->parent[a] += uf->parent[b];
    uf->parent[b] = a;
}

/* ---- the linker (fof_link.c) ---- */
typedef struct sci_link_input {
    int32_t mode;      /* ARD_FOF_ISOTROPIC or ARD_FOF_REDSHIFT */
    double link;       /* isotropic length */
    const double *ang; /* redshift mode, by ORIGINAL index */
    const double *los;
} sci_link_input;

/* Links the points of a built tree and writes labels[original index] = smallest original index of
 * its component. */
ard_status ard__fof_link_tree(const sci_tree *t, const sci_link_input *in, ard_pool *pool,
                              int64_t *labels, ard_error *err);

/* Builds a tree over pts (n x 4, taken over) and links it (see ard__fof_link_tree). */
ard_status ard__fof_link_built(double *pts, int64_t n, int32_t dims, const double scale[4],
                               const sci_link_input *in, ard_pool *pool, int64_t *labels,
                               ard_error *err);

/* ---- catalog runs (fof_catalog.c, fof_nz.c, fof_groups.c) ---- */
typedef struct fof_sample {
    int64_t n;
    double *unit; /* n x 3 */
    double *dist; /* comoving distance, Mpc */
    double dmin, dmax;
    double area_deg2;
    double fsky;
} fof_sample;

void ard__fof_sample_reset(fof_sample *s);

struct ard_fof_result {
    int64_t n;
    int64_t *group_id;
    int64_t num_groups;
    int64_t num_grouped;
    ard_fof_group *groups;
    ard_fof_params params; /* copy; the n(z) table pointers are cleared */
    double link_used;
    double par_used;
    double area_used;
    double seconds_link;
};

/* Mean inter-galaxy separation l(z) = n(z)^(-1/3) per galaxy (Mpc) into sep. */
ard_status ard__fof_mean_separation(const fof_sample *s, const double *z, const ard_fof_params *p,
                                    double *sep, ard_error *err);

/* Group numbering and the group catalog from component labels. */
ard_status ard__fof_groups(ard_fof_result *r, const int64_t *labels, const int64_t *targetid,
                           const double *z, const fof_sample *s, ard_error *err);

/* Checks that v[0..count) are finite; names the first bad one ("%s of point %lld"). */
ard_status ard__check_finite(const double *v, int64_t count, int64_t stride, const char *what,
                             ard_error *err);

/* A pool of `threads` workers (<= 0: all CPUs). */
ard_status ard__sci_pool(int32_t threads, ard_pool **out, ard_error *err);

/* Seconds on the monotonic clock. */
double ard__sci_now(void);

/* ---- nn (nn_*.c): the seeded generator shared by nn initialisation and the cosmic-web sampler ----
 * astro's counter-based generator (ard_rng, stream ARD_SCI_RNG_STREAM, index 0): the same seed gives
 * the same stream on every machine. */
#define ARD_SCI_RNG_STREAM 0x5c1e9ce5ULL
typedef ard_rng sci_rng;

void ard__sci_rng_seed(sci_rng *r, uint64_t seed);
uint64_t ard__sci_rng_next(sci_rng *r);
double ard__sci_rng_uniform(sci_rng *r); /* (0, 1), 53 bits (ard_rng_u01) */
double ard__sci_rng_normal(sci_rng *r);  /* N(0, 1), Box-Muller (ard_rng_normal) */
/* Uniform integer in [0, n) (n >= 1), Lemire's multiply-shift with rejection (unbiased). */
uint64_t ard__sci_rng_below(sci_rng *r, uint64_t n);
/* splitmix64: ard_rng_mix64(x + golden gamma), a well-mixed 64-bit hash of x. */
uint64_t ard__sci_mix64(uint64_t x);

/* Eigen-decomposition of the symmetric 3 x 3 matrix t (xx, yy, zz, xy, xz, yz) in closed form
 * (sym3_eigen.c): eigenvalues descending into w, unit eigenvectors as the columns of v
 * (v[row * 3 + col], orthonormal; for a repeated eigenvalue any orthonormal basis of its space).
 * Accurate to rounding relative to the deviator's largest entry at any scale; a multiple of I gives
 * v = I; a non-finite t gives NaN eigenvalues and v = I. Pure: thread-safe, the same bits anywhere. */
void ard__sci_sym3_eigen(const double t[6], double w[3], double v[9]);

/* Metadata entries of a parameter set in insertion order (nn_params.c, for the safetensors writer). */
/* nn's elementwise kernels (activations, losses, Adam, chi2) are written once as an always-inline
 * body and compiled twice: for the baseline ISA and for AVX2 (8 float lanes; FMA is not enabled,
 * and the build is ISO C without -ffp-contract, so both give the same bits), picked at run time by
 * NN_HAVE_AVX2(). Elsewhere than x86-64 GCC/clang the baseline is all there is. */
#define NN_INLINE static inline __attribute__((always_inline))
#if defined(__x86_64__) && defined(__GNUC__)
#define NN_AVX2 __attribute__((target("avx2")))
#define NN_HAVE_AVX2() __builtin_cpu_supports("avx2")
#else
#define NN_AVX2
#define NN_HAVE_AVX2() 0
#endif

int64_t ard__nn_meta_count(const ard_nn_params *params);
void ard__nn_meta_at(const ard_nn_params *params, int64_t i, const char **key, const char **value);
/* The parsed safetensors header (nn_stjson.c): one entry per tensor, in file order. */
typedef struct sci_st_entry {
    char name[ARD_NN_NAME_MAX];
    char dtype[16]; /* truncated if longer (then it is not a supported dtype anyway) */
    int32_t ndim;
    int64_t shape[ARD_NN_MAX_DIMS];
    int64_t begin; /* data_offsets, relative to the end of the header */
    int64_t end;
} sci_st_entry;

typedef struct sci_st_header {
    sci_st_entry *entries;
    int64_t count;
    int64_t cap;
} sci_st_header;

/* Parses the JSON header (len bytes, not NUL-terminated) of the file `path` (for messages): tensor
 * entries into h, __metadata__ entries into meta. ARD_ECORRUPT (bad JSON or layout, naming the
 * header byte), ARD_ELIMIT (too many tensors or dimensions, a long name), ARD_ENOMEM. */
ard_status ard__nn_st_parse(const char *json, size_t len, const char *path, sci_st_header *h,
                            ard_nn_params *meta, ard_error *err);
void ard__nn_st_header_reset(sci_st_header *h);
/* ---- BLAS (nn_blas.c): OpenBLAS, opened on first use ----
 * ard__nn_need_blas opens OpenBLAS once per process (thread-safe) and returns ARD_OK when it is
 * there; ARD_ENOTSUP naming `what` when ard was built without BLAS or the library (or one of its
 * functions) cannot be opened, the message naming the library and dlerror(). Every nn function that
 * does arithmetic calls it first; the two below may only be called after it returned ARD_OK. */
ard_status ard__nn_need_blas(const char *what, ard_error *err);
/* Switches OpenBLAS's own threading off (process-wide) when it is on: see ard/nn.h, "Threads". */
void ard__nn_blas_one_thread(void);
/* Row-major C = op(A) op(B) + beta C (alpha 1): cblas_sgemm, with op(X) = X^T when trans_x. */
void ard__nn_sgemm(int trans_a, int trans_b, int m, int n, int k, const float *a, int lda,
                   const float *b, int ldb, float beta, float *c, int ldc);

/* ---- cosmic web (cosmicweb_*.c) ---- */
#define CW_F ARD_COSMICWEB_FEATURES
#define CW_C ARD_COSMICWEB_CLASSES
/* Features per node: CW_F, plus latent_dim + 1 (latents and the has-latent flag) with latents. */
#define CW_NF(latent_dim) (CW_F + ((latent_dim) > 0 ? (latent_dim) + 1 : 0))
#define CW_NF_MAX CW_NF(ARD_COSMICWEB_LATENT_MAX)

/* The k-NN graph: neighbours of node i at nbr[i k .. i k + k), nearest first (ties by index). */
typedef struct cw_graph {
    int64_t n;
    int32_t k;
    int32_t *nbr;
    float *dist;        /* Mpc, same layout */
    const double *xyz;  /* n x 3 positions (borrowed from the builder's caller) */
    const float *reach; /* n x CW_RB(bins) normalised reach basis (borrowed), NULL without reach */
    const float *reach_inv; /* or (prediction) n x CW_REACH_OUT reach invariants (borrowed) */
} cw_graph;

/* Builds the graph in parallel on pool (may be NULL). n must exceed k. ARD_EINVAL (non-finite
 * coordinates naming the galaxy, n <= k), ARD_ELIMIT (n >= 2^31), ARD_ENOMEM. */
ard_status ard__cw_graph_build(const double *xyz, int64_t n, int32_t k, ard_pool *pool, cw_graph *g,
                               ard_error *err);
/* As ard__cw_graph_build, but finds the neighbours of rows [first, end) only (the others stay 0:
 * a share of a prediction split among processes). */
ard_status ard__cw_graph_build_rows(const double *xyz, int64_t n, int32_t k, int64_t first,
                                    int64_t end, ard_pool *pool, cw_graph *g, ard_error *err);
void ard__cw_graph_reset(cw_graph *g);
/* Raw features (n x CW_NF(in->latent_dim), see science.h) of in's galaxies into a new array.
 * ARD_EINVAL (k < 16), ARD_ENOMEM. */
ard_status ard__cw_features(const cw_graph *g, const ard_cosmicweb_input *in, float **out,
                            ard_error *err);

/* Up to `fanout` neighbours of `node` sampled without replacement (all k when k <= fanout) into
 * out; the draw depends only on (seed, epoch, hop, node). Returns the count. */
int32_t ard__cw_sample_neighbors(const cw_graph *g, uint64_t seed, int64_t epoch, int32_t hop,
                                 int64_t node, int32_t fanout, int64_t *out);

/* One sampled minibatch. Local ids index `nodes`: the seeds are 0..seeds-1, the first-hop set
 * (seeds and their sampled neighbours) 0..n1-1, every node 0..n0-1. */
typedef struct cw_batch {
    int64_t seq; /* minibatch number */
    int32_t seeds;
    int64_t n1, n0;
    int64_t *nodes;     /* n0 global ids */
    int64_t *off1;      /* n1 + 1: layer-1 neighbour lists of the first-hop nodes ... */
    int64_t *idx1;      /* ... local ids < n0 */
    int64_t *off2;      /* seeds + 1: layer-2 neighbour lists of the seeds ... */
    int64_t *idx2;      /* ... local ids < n1 */
    float *x;           /* n0 x nf normalised features */
    double *pos;        /* n0 x 3 positions */
    int32_t *labels;    /* seeds */
    float *weights;     /* seeds */
    const float *reach; /* the graph's reach basis (global rows: nodes[i]), NULL without */
    int64_t room_seeds, room_f1, room_f2; /* the buffers fit this many seeds at these fan-outs */
    int64_t room_nf;                      /* ... and this many features per node */
    int64_t *hash;                        /* open addressing: global id + 1, 0 = empty */
    int64_t *hash_local;                  /* local id per slot */
    int64_t hash_cap;
} cw_batch;

typedef struct cw_sampler {
    const cw_graph *g;
    const float *features; /* n x nf, normalised */
    int32_t nf;
    const int32_t *labels;
    const float *class_weight; /* CW_C */
    int32_t fanout1, fanout2;
    uint64_t seed;
} cw_sampler;

/* Samples the minibatch of `count` seeds (global ids) for `epoch` into b (buffers reused).
 * ARD_ENOMEM. */
ard_status ard__cw_sample_batch(const cw_sampler *s, int64_t epoch, const int64_t *seeds,
                                int32_t count, cw_batch *b, ard_error *err);
void ard__cw_batch_reset(cw_batch *b);

struct ard_cosmicweb_model {
    ard_nn_params *params;
    /* w1 [hidden, 2F + 3G], w2 [C, 2 hidden + 3G]; p1 [G, F + 2], p2 [G, hidden + 3] (NULL when
     * G = geo = 0): the geometric aggregator's per-neighbour weights (science.h "Model") */
    ard_nn_tensor *w1, *b1, *w2, *b2, *mean, *std, *p1, *p2;
    int32_t k, hidden, geo, fanout1, fanout2;
    int32_t latent; /* latent_dim S of the inputs (0: none) */
    int32_t nf;     /* features per node: CW_NF(latent) */
    /* reach aggregator: pr [reach, 2 bins] (tensor then monopole profile), rscale [2 bins] */
    ard_nn_tensor *pr, *rscale;
    int32_t reach, reach_bins, reach_fanout, reach_randoms;
    float reach_mpc;
    uint64_t reach_seed;
};

/* A new model with initialised weights (Kaiming for w1, p1, p2, pr, Xavier for w2, seeds from
 * `seed`); the reach settings from o (o->reach 0: none; o NULL: none). */
ard_status ard__cw_model_new(int32_t k, int32_t hidden, int32_t geo, int32_t latent,
                             int32_t fanout1, int32_t fanout2, uint64_t seed,
                             const ard_cosmicweb_options *o, ard_cosmicweb_model **out,
                             ard_error *err);

/* ---- the reach aggregator (cosmicweb_reach.c; science.h "Reach") ---- */
#define CW_REACH_BINS_MAX 32
#define CW_REACH_CHANNELS_MAX 32
#define CW_REACH_OUT 5 /* invariants per channel: monopole, 3 eigenvalues, line of sight */
#define CW_RB(bins) (7 * (bins)) /* basis floats per galaxy: D_0..D_B-1, then M_b (6 each) */
/* ARD_EINVAL unless the reach options are in range (see science.h). */
ard_status ard__cw_reach_check(int32_t channels, int32_t bins, float radius, int32_t fanout,
                               int32_t randoms, ard_error *err);
/* The raw basis (n x CW_RB(bins), rows outside [first, end) zero) of the galaxies xyz (n x 3) into
 * a new array. ARD_EINVAL (options, non-finite coordinates, a galaxy at the origin), ARD_ENOMEM. */
ard_status ard__cw_reach_basis(const double *xyz, int64_t n, int32_t bins, float radius,
                               int32_t fanout, int32_t randoms, uint64_t seed, int64_t first,
                               int64_t end, ard_pool *pool, float **out, ard_error *err);
/* Prediction's form: the model's reach invariants (n x CW_REACH_OUT m->reach, rows outside
 * [first, end) zero) computed block by block with m's settings, scale and profiles, so that the
 * n x CW_RB basis never exists (memory n 5 G 4 bytes instead of n 7 B 4). Errors as above. */
ard_status ard__cw_reach_invariants(const ard_cosmicweb_model *m, const double *xyz, int64_t n,
                                    int64_t first, int64_t end, ard_pool *pool, float **out,
                                    ard_error *err);
/* Per-bin rms (2 bins: monopoles, then tensors) over the given rows; 1 where it is ~0. */
void ard__cw_reach_fit_scale(const float *basis, int32_t bins, const int64_t *rows, int64_t count,
                             float *scale);
void ard__cw_reach_normalise(float *basis, int32_t bins, int64_t n, const float *scale);
/* The CW_REACH_OUT invariants per channel of one normalised basis row (p: [channels, 2 bins]);
 * with vec non-NULL also each channel's eigenvectors (9 doubles per channel, columns in the
 * eigenvalues' order) for the backward pass. */
void ard__cw_reach_forward(const float *p, int32_t channels, int32_t bins, const float *row,
                           const double pos[3], float *out, double *vec);
/* Adds d/dp of the invariants' gradient dout (CW_REACH_OUT per channel) into dp; vec: the
 * eigenvectors ard__cw_reach_forward gave for this row and the same p (the eigenvalues' gradient
 * is v v^T: the solver does not run twice). */
void ard__cw_reach_backward(int32_t channels, int32_t bins, const float *row, const double pos[3],
                            const float *dout, const double *vec, float *dp);

/* The geometric aggregator (cosmicweb_geo.c) of destination node `self` over its `count`
 * neighbours nbr (ids into h, rows of dim floats, into pos, n x 3, and into tin): tensors t (geo x
 * 6: xx, yy, zz, xy, xz, yz; kept for the backward pass) and the 3 geo invariants into out.
 * tin NULL (layer 1): p is [geo, dim + 2]; else (layer 2) tin holds the neighbours' layer-1
 * tensors (geo x 6 per node), added with the weight p_g[dim + 2] (p is [geo, dim + 3]): the
 * second hop's shapes reach the tensor, oriented, not only as invariants. */
void ard__cw_geo_forward(const float *p, int32_t geo, int64_t dim, const float *h, const float *tin,
                         const double *pos, int64_t self, const int64_t *nbr, int32_t count,
                         float *t, float *out);
/* Its backward pass: from dout (3 geo) and dt (NULL, or the gradient of t from above, geo x 6 in
 * the full-matrix convention) adds d/dp into dp, d/dh into the neighbours' rows of dh (when not
 * NULL) and d/dtin into the neighbours' rows of dtin (when tin is not NULL). */
void ard__cw_geo_backward(const float *p, int32_t geo, int64_t dim, const float *h,
                          const float *tin, const double *pos, int64_t self, const int64_t *nbr,
                          int32_t count, const float *t, const float *dout, const float *dt,
                          float *dp, float *dh, float *dtin);

/* Scratch buffers of the batch forward/backward pass (grown as needed). */
typedef struct cw_work {
    float *c1, *z1, *h1, *dh1, *c2, *dc2, *logits, *dlogits, *agg, *dc1, *t1, *t2, *dt1;
    double *rvec; /* the first-hop nodes' reach eigenvectors (9 per channel), forward to backward */
    int64_t cap1, cap2;
} cw_work;
void ard__cw_work_reset(cw_work *w);

/* Forward + backward of one minibatch: adds the gradient of scale * sum_i w_i CE_i (over its seeds)
 * into the model's parameter gradients; *loss receives that scaled sum. ARD_ENOMEM, ARD_ENOTSUP. */
ard_status ard__cw_batch_grad(ard_cosmicweb_model *m, const cw_batch *b, float scale,
                              ard_pool *pool, cw_work *w, double *loss, ard_error *err);

/* The density-only baseline (cosmicweb_baseline.c): multinomial logistic regression on the
 * normalised features (n x nf, nf <= CW_NF_MAX) of the `train` rows (labels >= 0, weighted by
 * class_weight), then prob (n x CW_C) for every node. Deterministic; no allocation. */
void ard__cw_baseline(const float *features, int32_t nf, int64_t n, const int64_t *train,
                      int64_t train_count, const int32_t *label, const float *class_weight,
                      float *prob);

/* Full-neighbourhood inference over every node: prob (n x CW_C). features normalised. */
ard_status ard__cw_infer(const ard_cosmicweb_model *m, const cw_graph *g, const float *features,
                         ard_pool *pool, float *prob, ard_error *err);

/* ard__cw_infer shared among processes (share non-NULL): this one computes the rows
 * [bounds[rank], bounds[rank + 1]) of each layer and share->exchange fills in the others' (bounds
 * are multiples of the inference chunk, so every row is computed as one process computes it). The
 * exchanges run whatever st is (st is passed in; the agreed status is returned). */
ard_status ard__cw_infer_share(const ard_cosmicweb_model *m, const cw_graph *g,
                               const float *features, ard_pool *pool,
                               const ard_cosmicweb_share *share, const int64_t *bounds,
                               ard_status st, float *prob, ard_error *err);
/* The chunk-aligned row bounds (size + 1 entries) of a prediction of n rows shared by size. */
void ard__cw_share_bounds(int64_t n, int32_t size, int64_t *bounds);
/* Standardises raw features in place with the model's mean / std. */
void ard__cw_normalise(const ard_cosmicweb_model *m, float *features, int64_t n);
/* Latents of the selected galaxies from an anomaly score run (cosmicweb_latent.c). */
typedef struct cw_latent {
    int32_t dim;   /* S */
    float *values; /* n x S (zeros where has is 0) */
    uint8_t *has;  /* n */
    int64_t with;  /* galaxies with a latent */
} cw_latent;
/* Reads DATASET/results/anomaly-RUN-scores.parquet and matches its rows to targetid (n): a galaxy
 * without a row, or with a non-finite latent, gets has 0. ARD_EINVAL (a bad run id, more than
 * ARD_COSMICWEB_LATENT_MAX latents), ARD_ENOENT (no such run), ARD_ECORRUPT (no TARGETID or
 * LATENT_0), read errors, ARD_ENOMEM. *out is empty on failure. */
ard_status ard__cw_latent_load(const char *dataset, const char *run, const int64_t *targetid,
                               int64_t n, cw_latent *out, ard_error *err);
void ard__cw_latent_reset(cw_latent *l); /* safe twice */
/* ---- anomaly autoencoder (anomaly_model.c) ---- */
struct ard_anomaly_model {
    ard_anomaly_arch a;
    ard_nn_params *params;
    ard_nn_tensor *t[10]; /* embed, enc1, enc2, dec1, dec2: weight, bias each */
    ard_nn_tensor *wave;
    ard_nn_tensor *ref; /* ref.latent [R, latent] or NULL */
    ard_pool *pool;
    int32_t knn_k, frame;
    float density_weight;
    double mu_chi2, sd_chi2, mu_dens, sd_dens, rest_zmin, rest_zmax;
    ard_nn_adam adam; /* ard_anomaly_model_train_step's optimiser state */
    float *pe;        /* [num_patches][embed]: the positional encoding of wave (fixed) */
    int64_t cap;      /* workspace rows */
    float *e, *a1, *h1, *z, *a2, *h2, *rec, *d_rec, *d_h2, *d_z, *d_h1, *d_e;
};
/* The sinusoidal encoding PE [num_patches][embed] of the patch centres. */
void ard__anomaly_posenc(const float *wave, int32_t num_patches, int32_t embed, float *pe);
/* Forward + backward of one batch: gradients ADDED into the model's tensors; *loss = mean weighted
 * chi^2 per valid pixel of the batch. */
ard_status ard__anomaly_loss_grad(ard_anomaly_model *m, const float *tokens, const uint8_t *mask,
                                  const float *weights, int64_t n, double *loss, ard_error *err);
ard_nn_params *ard__anomaly_params(ard_anomaly_model *m);
/* Results of a scoring run (anomaly_results.c): the Parquet file and the index tables. */
typedef ard_anomaly_rows ard__anomaly_rows;
ard_status ard__anomaly_write_results(const ard_anomaly_options *o, const char *model_run,
                                      const char *params_json, ard__anomaly_rows *rows,
                                      int with_index, char *score_run, size_t run_cap,
                                      char *scores_path, size_t cap, ard_error *err);
/* Indices 0..n-1 ordered by score descending (NaN last), ties by targetid ascending. */
void ard__anomaly_order(const double *score, const int64_t *targetid, int64_t n, int64_t *order);
/* DATASET/models/anomaly-RUN.safetensors (creates models/). */
/* anomaly_stage.c, for anomaly_merge.c: the run's parameters as JSON (NUL-terminated in out), and
 * the newest models/anomaly-RUN.safetensors by run name (ARD_ENOENT when there is none). */
void ard__anomaly_params_json(const ard_anomaly_options *o, const ard_anomaly_model *m,
                              ard_buf *out);
ard_status ard__anomaly_latest_run(const char *dataset, char *out, size_t cap, ard_error *err);
ard_status ard__anomaly_model_path(const char *dataset, const char *run, char *out, size_t cap,
                                   ard_error *err);
/* The training run: results/anomaly-RUN-training.parquet (EPOCH, LOSS) + an anomaly_runs row. */
ard_status ard__anomaly_record_training(const ard_anomaly_options *o, const char *run,
                                        const char *params_json, const double *loss, int32_t epochs,
                                        int64_t spectra, ard_error *err);
/* ---- the fof stage's data (fof_stage_io.c) ---- */

/* The catalog arrays the stage links. */
typedef struct sci_catalog {
    int64_t n, cap;
    double *ra, *dec, *z;
    int64_t *tid;
    int64_t skipped; /* rows without usable coordinates or with z <= 0 */
} sci_catalog;
void ard__sci_catalog_reset(sci_catalog *c);
/* Galaxies with z > 0 AND (where) from the index (typed reads), ascending TARGETID. */
ard_status ard__sci_load_index(ard_index *idx, const char *where, sci_catalog *c, ard_error *err);
/* Every DATASET/catalog/ *.parquet in name order, rows with Z > 0. ARD_ENOENT without files. */
ard_status ard__sci_load_files(const char *dataset, sci_catalog *c, ard_error *err);
/* The generator's GROUP_ID per catalog row, matched by TARGETID; *found = 0 without truth files. */
ard_status ard__sci_load_truth(const char *dataset, const sci_catalog *c, int64_t **truth,
                               int *found, ard_error *err);

/* ---- the preamble of every stage call (stage_begin.c) ----
 * Zeroes report (report_size bytes; NULL: none), sets *t0 to ard__sci_now() (NULL: not) and checks
 * the options every stage has: dataset set, run_id NULL or ard_result_run_id_valid. ARD_EINVAL with
 * "<stage>: ..." otherwise. */
ard_status ard__sci_stage_begin(const char *stage, const char *dataset, const char *run_id,
                                void *report, size_t report_size, double *t0, ard_error *err);
/* ARD_EINVAL "<stage>: <what> '<id>' is not 1-64 bytes of [A-Za-z0-9_-]" unless run_id is NULL or
 * valid for a result run. */
ard_status ard__sci_check_run_id(const char *stage, const char *what, const char *run_id,
                                 ard_error *err);
/* out = given, or the result runs' default id (UTC now) when given is NULL. */
void ard__sci_run_id(const char *given, char *out, size_t cap);
/* fof_stage.c: the result tables of a FoF run added to `run` ("galaxies": TARGETID, GROUP_ID,
 * GROUP_SIZE, index table galaxy_groups when indexed; "groups": the group catalog, index table
 * groups). targetid NULL: row numbers. Used by the stage and by ard_fof_write_parquet. */
ard_status ard__fof_add_galaxies(ard_result_run *run, const ard_fof_result *r,
                                 const int64_t *targetid, int64_t n, int indexed, ard_error *err);
ard_status ard__fof_add_groups(ard_result_run *run, const ard_fof_result *r, int indexed,
                               ard_error *err);

#endif
