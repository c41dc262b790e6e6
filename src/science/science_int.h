/* Private header of the science module: the KD-tree layout shared by the public tree API and the
 * friends-of-friends linker, union-find, and the helpers that turn a catalog into linking inputs. */
#ifndef ARD_SCIENCE_INT_H
#define ARD_SCIENCE_INT_H

#include "ard/core.h"
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
 * xoshiro256** seeded through splitmix64: the same seed gives the same stream on every machine. */
typedef struct sci_rng {
    uint64_t s[4];
} sci_rng;

void ard__sci_rng_seed(sci_rng *r, uint64_t seed);
uint64_t ard__sci_rng_next(sci_rng *r);
double ard__sci_rng_uniform(sci_rng *r); /* [0, 1), 53 bits */
double ard__sci_rng_normal(sci_rng *r);  /* N(0, 1), Box-Muller (one value per call) */
/* Uniform integer in [0, n) (n >= 1), Lemire's multiply-shift with rejection (unbiased). */
uint64_t ard__sci_rng_below(sci_rng *r, uint64_t n);
/* splitmix64 finaliser: a well-mixed 64-bit hash of x. */
uint64_t ard__sci_mix64(uint64_t x);

/* Metadata entries of a parameter set in insertion order (nn_params.c, for the safetensors writer). */
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
/* ARD_ENOTSUP naming `what` when ard was built without BLAS, else ARD_OK. */
ard_status ard__nn_need_blas(const char *what, ard_error *err);

#endif
