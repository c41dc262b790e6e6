/* ard science: kernels that read the catalog and write results back (Parquet + index tables).
 *
 * This header is organised by stage; each stage owns its own prefix:
 *   ard_kdtree_*   3-D KD-tree (exact radius queries), shared by the stages below
 *   ard_fof_*      friends-of-friends galaxy groups (isotropic or redshift-space linking)
 * Later stages (anomaly scores, cosmic web) add their own sections.
 *
 * Coordinates: (RA, Dec, z) become comoving Cartesian positions in Mpc (not Mpc/h) with the flat
 * LambdaCDM cosmology of ard/astro.h (ard_cosmology: default Planck 2018, h = 0.6766, Om = 0.3111);
 * x = D_C cos(dec) cos(ra), y = D_C cos(dec) sin(ra), z = D_C sin(dec).
 *
 * Threads: every function taking `threads` runs on its own ard_pool (threads <= 0: all CPUs); results
 * never depend on the thread count. */
#ifndef ARD_SCIENCE_H
#define ARD_SCIENCE_H

#include "ard/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- KD-tree --------------------------------------------------------------------------------------
 * Built once over n points in O(n log n) (exact median splits on the widest axis, 7-13 points
 * per leaf; the top levels and then 128 subtrees are built in parallel); memory is the points (copied
 * into tree order, 32 bytes each), one int64 index per point and about n/6 nodes of 88 bytes, in a
 * few large arrays (no per-point allocations). The tree is read-only after the build: queries are
 * thread-safe. */
typedef struct ard_kdtree ard_kdtree;

/* Builds a tree over xyz (n x 3 doubles, row-major; copied). n may be 0. threads <= 0: all CPUs.
 * Errors: ARD_EINVAL (n < 0, NULL xyz with n > 0, a NaN or infinite coordinate: the message names the
 * point), ARD_ENOMEM. On failure *out is NULL. */
ARD_API ard_status ard_kdtree_build(const double *xyz, int64_t n, int32_t threads, ard_kdtree **out,
                                    ard_error *err);
ARD_API void ard_kdtree_free(ard_kdtree *tree); /* accepts NULL */
ARD_API int64_t ard_kdtree_size(const ard_kdtree *tree);

/* Every point within Euclidean distance r of q (dx^2 + dy^2 + dz^2 <= r^2, so points at exactly r are
 * included). Writes up to `cap` original point indexes into out (any order) and the total number
 * found into *count (which may exceed cap: call again with a larger buffer).
 * Errors: ARD_EINVAL (r < 0 or NaN, NULL arguments). Thread-safe. */
ARD_API ard_status ard_kdtree_query_radius(const ard_kdtree *tree, const double q[3], double r,
                                           int64_t *out, int64_t cap, int64_t *count,
                                           ard_error *err);

/* The min(k, n) points nearest to q, sorted by distance, ties by the smaller index (so the answer is
 * unique): their original indexes into idx (k slots) and distances into dist (may be NULL). *count
 * receives the number found. Errors: ARD_EINVAL (NULL arguments, k < 0, a non-finite q), ARD_ENOMEM.
 * Thread-safe. */
ARD_API ard_status ard_kdtree_query_knn(const ard_kdtree *tree, const double q[3], int32_t k,
                                        int64_t *idx, double *dist, int32_t *count, ard_error *err);

/* ---- friends-of-friends: the linking core on arrays -----------------------------------------------
 * Both functions write labels[i] = the smallest index j of the connected component that holds point i
 * (a singleton gets labels[i] = i). Components are exact: identical to linking every pair by brute
 * force with the same rule, for any thread count. */

/* Isotropic linking: points i and j are friends when dx^2 + dy^2 + dz^2 <= link^2 (a pair at exactly
 * `link` is linked; duplicate positions are always linked). xyz is n x 3 doubles.
 * Errors: ARD_EINVAL (n < 0, link < 0 or not finite, NaN/infinite coordinates naming the point),
 * ARD_ENOMEM. */
ARD_API ard_status ard_fof_link_isotropic(const double *xyz, int64_t n, double link,
                                          int32_t threads, int64_t *labels, ard_error *err);

/* Redshift-space linking (GAMA / Nessie rule) with per-galaxy linking lengths:
 *   unit: n x 3 unit vectors towards each galaxy; dist: comoving distance (Mpc);
 *   ang: angular linking length of the galaxy (radians, compared with the chord |u_i - u_j|);
 *   los: line-of-sight linking length (Mpc).
 * i and j are friends when, with ta = 0.5 * (ang_i + ang_j) and tl = 0.5 * (los_i + los_j),
 *   |u_i - u_j|^2 <= ta * ta   and   |dist_i - dist_j| <= tl.
 * Errors: ARD_EINVAL (n < 0, non-finite values, negative linking lengths; the message names the
 * galaxy), ARD_ENOMEM. */
ARD_API ard_status ard_fof_link_redshift(const double *unit, const double *dist, const double *ang,
                                         const double *los, int64_t n, int32_t threads,
                                         int64_t *labels, ard_error *err);

/* ---- friends-of-friends on a galaxy catalog -------------------------------------------------------- */

typedef enum ard_fof_mode {
    ARD_FOF_ISOTROPIC = 0, /* 3-D comoving linking length */
    ARD_FOF_REDSHIFT = 1   /* projected (b_perp) and line-of-sight (b_par) lengths */
} ard_fof_mode;

/* Caller-filled; call ard_fof_params_init first. Lengths are comoving Mpc.
 *
 * Mean inter-galaxy separation l(z) = n(z)^(-1/3), with n(z) the survey's number density: from the
 * caller's table (nz_z / nz_density, linearly interpolated in z) or estimated from the galaxies
 * themselves (counts in comoving-distance bins of nz_bin_mpc, divided by the shell volume times the
 * sky fraction; area_deg2 = 0 estimates the footprint from occupied cells of an equal-area grid).
 *
 * ARD_FOF_ISOTROPIC: link = link_mpc if > 0, else b x the mean separation of the whole sample
 *   (N / volume of the survey shell between the smallest and largest distance).
 * ARD_FOF_REDSHIFT (Berlind et al. 2006 convention): per galaxy, r_perp = b_perp l(z), capped at
 *   max_perp_mpc when > 0; r_par = b_par l(z), capped at max_par_mpc when > 0; then the rule of
 *   ard_fof_link_redshift with ang = r_perp / D_C and los = r_par. */
typedef struct ard_fof_params {
    int32_t mode;             /* ard_fof_mode; default ARD_FOF_REDSHIFT */
    double link_mpc;          /* isotropic fixed length; default 0 (use b) */
    double b;                 /* isotropic, in units of the mean separation; default 0.2 */
    double b_perp;            /* default 0.14 */
    double b_par;             /* default 0.75 */
    double max_perp_mpc;      /* cap on r_perp; 0 = none; default 0 */
    double max_par_mpc;       /* cap on r_par; 0 = none; default 0 */
    double h;                 /* H0 / 100; default 0.6766 (Planck 2018) */
    double omega_m;           /* default 0.3111 */
    double area_deg2;         /* survey area; 0 = estimate from the galaxies (default) */
    double nz_bin_mpc;        /* n(z) estimate bin width; default 25 */
    const double *nz_z;       /* optional n(z) table: redshifts (increasing) ... */
    const double *nz_density; /* ... and densities in Mpc^-3 (> 0) */
    int64_t nz_len;           /* table length (0 = estimate; otherwise >= 2) */
    int32_t threads;          /* <= 0: all CPUs */
    /* Optional replacement of the one-process linking step (NULL = the built-in kernel), e.g.
     * ard_cluster's distributed linker under mpirun. It must give the labels of
     * ard_fof_link_isotropic / ard_fof_link_redshift for the same arrays. */
    const struct ard_fof_linker *linker;
} ard_fof_params;

/* A linking step: called once per ard_fof_run with the arrays of the public kernels above
 * (xyz: comoving Cartesian positions in Mpc; unit/dist/ang/los: the redshift-space rule). */
typedef struct ard_fof_linker {
    ard_status (*isotropic)(void *ctx, const double *xyz, int64_t n, double link, int32_t threads,
                            int64_t *labels, ard_error *err);
    ard_status (*redshift)(void *ctx, const double *unit, const double *dist, const double *ang,
                           const double *los, int64_t n, int32_t threads, int64_t *labels,
                           ard_error *err);
    void *ctx;
} ard_fof_linker;

ARD_API void ard_fof_params_init(ard_fof_params *p);

/* One row of the group catalog. Centre: the mean comoving position of the members (x, y, z in Mpc),
 * its direction gives ra/dec (degrees, ra in [0, 360)); z_centre is the median member redshift.
 * radius_mpc: rms projected comoving distance of members from the centre's line of sight
 * (projected = D_C(centre) x angle); radius_max_mpc the largest. sigma_v: line-of-sight velocity
 * dispersion (km/s) by the gapper estimator (Beers et al. 1990) on v = c (z - z_centre) / (1 + z_centre),
 * without redshift-error subtraction. */
typedef struct ard_fof_group {
    int64_t group_id; /* 1..G, by decreasing size, ties by smallest member TARGETID */
    int64_t members;
    int64_t first_targetid; /* smallest member TARGETID */
    double ra, dec, z_centre;
    double x, y, z;
    double radius_mpc, radius_max_mpc;
    double sigma_v;
} ard_fof_group;

typedef struct ard_fof_result ard_fof_result;

/* Finds groups among n galaxies (ra, dec in degrees; z > 0; targetid unique, or NULL to use the row
 * number). Groups of >= 2 members are numbered 1..G by decreasing size, ties broken by the smallest
 * member TARGETID; isolated galaxies get group id 0.
 * Errors: ARD_EINVAL (bad parameters; NaN or infinite RA/Dec, z outside (0, 20], naming the row and
 * TARGETID; |dec| > 90), ARD_ENOMEM. On failure *out is NULL. */
ARD_API ard_status ard_fof_run(const double *ra, const double *dec, const double *z,
                               const int64_t *targetid, int64_t n, const ard_fof_params *params,
                               ard_fof_result **out, ard_error *err);
ARD_API void ard_fof_result_free(ard_fof_result *r); /* accepts NULL */

ARD_API int64_t ard_fof_num_galaxies(const ard_fof_result *r);
/* Group id of each input row (n entries, borrowed until ard_fof_result_free). */
ARD_API const int64_t *ard_fof_group_ids(const ard_fof_result *r);
ARD_API int64_t ard_fof_num_groups(const ard_fof_result *r);
/* Galaxies in groups of >= 2 members. */
ARD_API int64_t ard_fof_num_grouped(const ard_fof_result *r);
/* Group g (0-based; group_id = g + 1), or NULL when out of range. Borrowed. */
ARD_API const ard_fof_group *ard_fof_group_at(const ard_fof_result *r, int64_t g);
/* The parameters of the run (the n(z) table pointers are NULL in this copy). Borrowed. */
ARD_API const ard_fof_params *ard_fof_result_params(const ard_fof_result *r);
/* The isotropic linking length used (Mpc), or the median r_perp / r_par in redshift mode. */
ARD_API double ard_fof_link_used(const ard_fof_result *r);
ARD_API double ard_fof_median_par_used(const ard_fof_result *r);
/* Footprint area used for n(z) (deg^2; estimated or given). */
ARD_API double ard_fof_area_used(const ard_fof_result *r);
/* Wall time of the linking step alone (KD-tree build + linking), seconds. */
ARD_API double ard_fof_seconds_link(const ard_fof_result *r);

/* Records the result as a Parquet-only result run of stage "fof" in DIR (ard_result_run_begin
 * with no index, index.h): DIR/results/fof-RUN-galaxies.parquet (TARGETID, GROUP_ID, GROUP_SIZE)
 * and DIR/results/fof-RUN-groups.parquet (the group catalog, upper-case columns as in
 * ard_fof_group), with the footers' ard.stage, ard.run_id, ard.params (ard_fof_params_json),
 * ard.inputs_hash and ard.version; all or nothing. `targetid` as given to ard_fof_run (NULL = row
 * numbers). run_id: 1-64 bytes of [A-Za-z0-9_-]. The fof stage (ard_fof_stage_run) records its
 * runs the same way, with index tables. Errors: ARD_EINVAL, ARD_EEXIST (the run id exists),
 * ARD_EIO, ARD_ENOMEM. */
ARD_API ard_status ard_fof_write_parquet(const ard_fof_result *r, const int64_t *targetid,
                                         const char *dir, const char *run_id, ard_error *err);

/* The parameters as a JSON object (mode, lengths, cosmology, area) appended to out. */
ARD_API void ard_fof_params_json(const ard_fof_result *r, ard_buf *out);

/* ---- scoring against a truth catalogue -------------------------------------------------------------
 * Robotham et al. 2011 (GAMA) bijective matching: a found group F and a true group T match when more
 * than half of F's members are in T and more than half of T's members are in F. Input: per galaxy the
 * found group id (0 = none) and the true group id (<= 0 = field); groups smaller than min_size (on
 * either side) are ignored. Caller-filled output. */
typedef struct ard_fof_score {
    int64_t true_groups;    /* true groups with >= min_size members */
    int64_t found_groups;   /* found groups with >= min_size members */
    int64_t bijective;      /* bijectively matched pairs */
    double completeness;    /* bijective / true_groups (E_tot-like) */
    double purity;          /* bijective / found_groups */
    double members_matched; /* fraction of galaxies in those true groups that sit in the found group
                               bijectively matched to their true group */
} ard_fof_score;

/* Errors: ARD_EINVAL (n < 0, min_size < 2), ARD_ENOMEM. */
ARD_API ard_status ard_fof_score_truth(const int64_t *found, const int64_t *truth, int64_t n,
                                       int64_t min_size, ard_fof_score *out, ard_error *err);

/* ---- cosmic web: GraphSAGE environment classifier (void / sheet / filament / knot) ----------------
 * Galaxies are nodes of a k-nearest-neighbour graph in comoving redshift-space coordinates (the
 * caller's xyz, Mpc). Node features (ARD_COSMICWEB_FEATURES, in this order): log10 of the distance to
 * the 1st, 2nd, 4th, 8th, 16th and k-th neighbour (local densities at several scales), the redshift,
 * and a one-hot of the target class (BGS, LRG, ELG, QSO; other values: all zero). Optionally
 * (input latent_dim S > 0; multi-modal: spectra + positions) S more: the anomaly stage's latent
 * vector of the galaxy's spectrum, and a has-latent flag (1, or 0 with zero latents for a galaxy
 * without one): F = 11 + S + 1 features then. A model records S; predict needs the same S (a model
 * trained with latents refuses an input without them, and the reverse). Features are
 * standardised with the training nodes' mean and standard deviation (stored in the model).
 *
 * Model: two GraphSAGE layers with the mean aggregator and, when `geo` > 0, a geometric aggregator,
 *   h = ReLU(W1 [x_v, mean_{u in N1(v)} x_u, geo1(v)] + b1),
 *   logits = W2 [h_v, mean_{u in N2(v)} h_u, geo2(v)] + b2,
 * hidden width `hidden`, 4 classes. The node features are isotropic (distances), but the T-web class
 * is set by the anisotropy of the tidal field; geo carries the shape of the neighbourhood into the
 * layer. For each of `geo` channels g, a learned scalar per neighbour u of v,
 *   w_g(u) = P_g [h_u, log10 r_vu, 1]          (h_u: the layer's input of u, r_vu: distance, Mpc),
 * weighs the traceless tensor of the unit offset e_vu = (x_u - x_v) / r_vu into a tidal-like tensor
 *   T_g(v) = mean_{u in N(v)} w_g(u) (3 e_vu e_vu^T - I),
 * and geo(v) holds its rotation-invariant summaries, three per channel: log(1 + tr T^2),
 * asinh(tr T^3) (with tr T^2 they fix T's eigenvalues: prolate vs oblate) and l^T T l, l the unit
 * line of sight of v (the observer at the origin; redshift-space distortions lie along l). The
 * second layer's tensor also averages its neighbours' first-layer tensors, a_g mean_u T1_g(u) (a_g
 * learned, starting at 1): oriented shapes from two hops, a scale the node's own k neighbours do
 * not reach. geo = 0 is the plain mean-aggregator GraphSAGE of earlier versions (its model files
 * load unchanged). Training samples neighbours (fan-out [fanout1, fanout2]: fanout1
 * neighbours of each seed, fanout2 of each of those; all of them when the node has fewer, without
 * replacement otherwise) on producer threads that run ahead of the trainer through a bounded queue.
 * A sample depends only on (seed, epoch, hop, node), so batches are identical for any thread count.
 * Minibatches of `batch` seed nodes; gradients accumulate over `accum` minibatches before one Adam
 * step; the loss of a step is the class-weighted mean over all its seeds:
 *   L = sum_i w_{y_i} CE_i / sum_i w_{y_i}   (i over the seeds of the `accum` minibatches)
 * so a short last minibatch or step counts each seed exactly once (w = 1, or n / (4 n_c) when
 * balanced). Prediction aggregates over all k graph neighbours (no sampling).
 *
 * Labels: 0 void, 1 sheet, 2 filament, 3 knot (the generator's WEB_CLASS); -1 = unknown.
 *
 * Threads and memory: `threads` T gives a pool of T (the trainer plus T - 1 helpers for the dense
 * layers' sgemm blocks, see ard/nn.h) and max(1, T - 1) sampler threads; results are bit-identical
 * for any T. Memory: the graph n k 8 bytes, features n 44 bytes, the input arrays, `queue` sampled
 * minibatches (about batch (1 + f1)(1 + f2) 100 bytes each) and one minibatch's activations; it
 * does not grow with `accum`. Prediction adds n (hidden + 6 geo) 4 bytes (the first layer of every
 * galaxy).
 *
 * Reach: the k-NN hops never reach the tidal field's smoothing scale (hundreds of galaxies within
 * 10-40 Mpc). With `reach` = G > 0 channels the first layer also sees a radius neighbourhood:
 * every galaxy within reach_mpc of v (a uniform sample of reach_fanout of them when there are more,
 * the sum rescaled by count / fanout: an unbiased estimate of the full sum), and the same sum over a
 * random catalogue (reach_randoms per galaxy, uniform on the galaxies' own HEALPix footprint,
 * radii drawn from the galaxies' own distances, i.e. their n(z); deterministic from the seed)
 * subtracted with weight alpha = n_gal / n_ran, per radial hat-function bin b of B = reach_bins
 * (knots at b reach_mpc / B):
 *   D_b(v) = (sum_gal h_b(r) - alpha sum_ran h_b(r)) / (alpha sum_ran h_b(r) + 1),
 *   M_b(v) = (sum_gal h_b(r) (3 e e^T - I) - alpha sum_ran ...) / (alpha sum_ran h_b(r) + 1)
 * (e the unit offset): a density-contrast monopole and traceless tidal-like tensor per shell, each
 * bin scaled by its rms over the training galaxies (stored in the model). Channel g learns radial
 * profiles a_g(r), c_g(r) (piecewise linear over the knots): T_g = sum_b a_gb M_b, d_g = sum_b
 * c_gb D_b, and the layer's input gains 5 rotation invariants per channel: d_g, T_g's eigenvalues
 * (descending) and l^T T_g l (l: the line of sight). Memory: training n 7 B 4 bytes (the basis,
 * computed once, in parallel, deterministic for any thread count) plus the randoms' tree while it
 * is built; prediction n 5 G 4 bytes (the invariants, the basis computed in blocks of 65,536
 * galaxies). The model file records the reach settings; predict recomputes the basis with them on
 * its own galaxies' footprint. The
 * default (4 channels, 8 bins, 35 Mpc, fan-out 512, 2 randoms per galaxy) scored 0.613 held-out
 * balanced accuracy on 500k galaxies against 0.580 without it (bench/results/cosmicweb.md). */

#define ARD_COSMICWEB_CLASSES 4
#define ARD_COSMICWEB_FEATURES 11   /* the node features without latents */
#define ARD_COSMICWEB_LATENT_MAX 64 /* largest latent_dim */

typedef struct ard_cosmicweb_options {
    int32_t k;        /* graph neighbours per galaxy; default 32 (>= 16) */
    int32_t fanout1;  /* neighbours sampled per seed; default 25 */
    int32_t fanout2;  /* neighbours sampled per first-hop node; default 10 */
    int32_t hidden;   /* hidden width; default 64 */
    int32_t batch;    /* seed nodes per minibatch; default 64 */
    int32_t accum;    /* minibatches per optimizer step; default 64 */
    int32_t epochs;   /* default 10 */
    float lr;         /* Adam learning rate; default 1e-2 */
    int32_t balanced; /* 1: class-balanced loss (default); 0: plain mean */
    uint64_t seed;    /* initialisation, shuffling and sampling; default 1 */
    int32_t threads;  /* <= 0: all CPUs; see "Threads and memory" above */
    int32_t queue;    /* minibatches sampled ahead; default 16 */
    int32_t geo;      /* geometric aggregator channels per layer (see "Model"), 0..64; default 0 */
    /* The reach aggregator (see "Reach"): channels 0..32 (default 4; 0: off), radial bins 2..32
     * (default 8),
     * reach radius in Mpc (default 35, about 3 R for the truth's R = 8 Mpc/h), points sampled per
     * galaxy and catalogue (0: all; else >= 16; default 512), randoms per galaxy 1..64 (default 2). */
    int32_t reach;
    int32_t reach_bins;
    float reach_mpc;
    int32_t reach_fanout;
    int32_t reach_randoms;
} ard_cosmicweb_options;

ARD_API void ard_cosmicweb_options_init(ard_cosmicweb_options *opt);

/* The galaxies (arrays of n, borrowed for the call). */
typedef struct ard_cosmicweb_input {
    int64_t n;
    const double *xyz;           /* n x 3 comoving redshift-space positions, Mpc */
    const double *z;             /* redshift */
    const int32_t *target_class; /* 0 BGS, 1 LRG, 2 ELG, 3 QSO, other: unknown; may be NULL */
    const int32_t *label;        /* web class 0..3 or -1; training (and scoring) only */
    const int32_t *split;        /* 0 train, 1 validation, 2 test; training only */
    int32_t latent_dim;          /* 0: no latent features; else 1..ARD_COSMICWEB_LATENT_MAX */
    const float *latent;         /* n x latent_dim (the anomaly stage's latents); NULL if dim 0 */
    const uint8_t *has_latent;   /* n: 0 = the galaxy has no latent (its row is ignored: zeros,
                                    flag 0), 1 = it has; NULL = every galaxy has one */
} ard_cosmicweb_input;

/* What training measured. Balanced accuracy = mean over the classes present of the recall. */
typedef struct ard_cosmicweb_report {
    int64_t train_nodes, val_nodes, test_nodes;
    int64_t steps;     /* optimizer steps */
    double final_loss; /* mean training loss of the last epoch */
    double val_balanced_accuracy;
    double test_balanced_accuracy;
    int64_t test_confusion[ARD_COSMICWEB_CLASSES][ARD_COSMICWEB_CLASSES]; /* [true][predicted] */
    double seconds_graph;                                                 /* graph + features */
    double seconds_train;
    double cpu_seconds_train; /* process CPU time (all threads) of the training epochs */
    double train_nodes_per_s; /* seed nodes processed per second of training (wall) */
    /* The reference in the same run: a density-only baseline (multinomial logistic regression on
     * the same standardised node features, no graph, the same class weights; full-batch Adam),
     * trained on the train split and scored on the test split. */
    double baseline_test_balanced_accuracy;
    int64_t baseline_test_confusion[ARD_COSMICWEB_CLASSES][ARD_COSMICWEB_CLASSES];
} ard_cosmicweb_report;

typedef struct ard_cosmicweb_model ard_cosmicweb_model;

/* Trains a model on the labelled train-split galaxies. report may be NULL.
 * Errors: ARD_EINVAL (bad options; n < 1 or missing arrays; no labelled training galaxy: "no truth
 * for training"; a label outside -1..3 or a split outside 0..2, naming the row; non-finite
 * coordinates; latent_dim outside 0..ARD_COSMICWEB_LATENT_MAX, latent NULL with latent_dim > 0, a
 * non-finite latent of a galaxy that has one), ARD_ENOMEM, ARD_ENOTSUP without BLAS. On failure
 * *out is NULL. */
ARD_API ard_status ard_cosmicweb_train(const ard_cosmicweb_input *in,
                                       const ard_cosmicweb_options *opt, ard_cosmicweb_model **out,
                                       ard_cosmicweb_report *report, ard_error *err);

/* Classifies every galaxy of `in` (label and split are ignored): cls (n; may be NULL) and
 * probabilities prob (n x 4: void, sheet, filament, knot; may be NULL). threads <= 0: all CPUs.
 * Deterministic for any thread count. Errors: ARD_EINVAL (n < 1: "empty selection", missing arrays,
 * fewer galaxies than k + 1; an input whose latent_dim differs from the model's: "the model was
 * trained with S anomaly latents"), ARD_ENOMEM, ARD_ENOTSUP without BLAS. */
ARD_API ard_status ard_cosmicweb_predict(const ard_cosmicweb_model *model,
                                         const ard_cosmicweb_input *in, int32_t threads,
                                         int32_t *cls, float *prob, ard_error *err);

/* One prediction shared by several processes (MPI ranks: ard_cluster_cosmicweb_predict; a
 * (rank, size) partition of the galaxies). Every process passes the same galaxies; process `rank`
 * of `size` finds the neighbours of, and runs both layers for, its run of galaxies only (contiguous
 * runs of whole inference chunks of 2048 galaxies: equal shares, every row computed as one process
 * computes it). exchange is collective over the processes: each passes its status st and `rows`,
 * an array of bounds[size] rows of row_bytes of which this process filled rows [bounds[rank],
 * bounds[rank + 1]); it returns the status of the lowest failing process (its message in err) and,
 * when that is ARD_OK, leaves every row filled on every process. rows and bounds are NULL (and
 * row_bytes 0) for a pure agreement. The calls come in the same order on every process, whatever fails. */
typedef struct ard_cosmicweb_share {
    int32_t rank, size;
    ard_status (*exchange)(void *ctx, ard_status st, void *rows, int64_t row_bytes,
                           const int64_t *bounds, ard_error *err);
    void *ctx;
} ard_cosmicweb_share;

/* ard_cosmicweb_predict with a share (NULL: one process): every process receives every galaxy's
 * cls / prob. Errors as ard_cosmicweb_predict (agreed through exchange), ARD_EINVAL (a bad share). */
ARD_API ard_status ard_cosmicweb_predict_share(const ard_cosmicweb_model *model,
                                               const ard_cosmicweb_input *in, int32_t threads,
                                               const ard_cosmicweb_share *share, int32_t *cls,
                                               float *prob, ard_error *err);

/* Saves the weights, feature normalisation and hyper-parameters (safetensors metadata
 * "ard.stage" = "cosmicweb", "features", "k", "geo", "fanout", and "latent" = S when S > 0: its
 * "features" then end in latent_0..latent_S-1,has_latent) atomically. Errors as
 * ard_nn_save_safetensors. */
ARD_API ard_status ard_cosmicweb_model_save(const ard_cosmicweb_model *model, const char *path,
                                            ard_error *err);
/* Loads a saved model. Errors: those of ard_nn_load_safetensors; ARD_EINVAL naming the file when it
 * is not a cosmicweb model or was trained on other features (the "features" metadata differs from
 * this build's feature list), or a tensor has the wrong shape. */
ARD_API ard_status ard_cosmicweb_model_load(const char *path, ard_cosmicweb_model **out,
                                            ard_error *err);
ARD_API void ard_cosmicweb_model_free(ard_cosmicweb_model *model); /* accepts NULL */
/* The latent dimension S the model was trained with (0: none; predict inputs must match). */
ARD_API int32_t ard_cosmicweb_model_latent_dim(const ard_cosmicweb_model *model);

/* Train / validation / test split by sky pixel (never by galaxy): every pixel id goes wholly to one
 * split by a hash of (seed, pixel): validation with probability val_frac, test with test_frac, else
 * train. split[i] receives 0, 1 or 2. Errors: ARD_EINVAL (fractions outside [0, 1] or summing > 1). */
ARD_API ard_status ard_cosmicweb_split_by_pixel(const int64_t *pixel, int64_t n, double val_frac,
                                                double test_frac, uint64_t seed, int32_t *split,
                                                ard_error *err);

/* The galaxies of a dataset, ready for the calls above: catalog/zcatalog-NNNN.parquet rows with Z > 0
 * and finite RA/Dec (TARGETID, TARGET_RA, TARGET_DEC, Z, TARGET_CLASS), comoving redshift-space
 * positions (Planck 2018, Mpc), and the generator's truth WEB_CODE from the row-matched
 * truth/galaxies-NNNN.parquet when it exists (else label -1). pixel: HEALPix nested at split_nside,
 * the coarsest of 8, 16, ..., 256 at which the galaxies cover at least 32 pixels (a full survey
 * splits by 53.7 deg^2 pixels, a small sky cap by finer ones), for ard_cosmicweb_split_by_pixel.
 * Arrays owned; free with ard_cosmicweb_data_reset. */
typedef struct ard_cosmicweb_data {
    int64_t n;
    int64_t skipped;   /* catalog rows left out (Z <= 0 or no position) */
    int32_t has_truth; /* 1 when every catalog file had its truth file */
    int64_t *targetid;
    double *xyz; /* n x 3 */
    double *z;
    int32_t *target_class; /* 0 BGS, 1 LRG, 2 ELG, 3 QSO, -1 other */
    int32_t *label;        /* 0..3 or -1 */
    int64_t *pixel;
    int32_t split_nside; /* the nside of pixel (see above) */
} ard_cosmicweb_data;

/* Errors: ARD_ENOENT (no catalog file), ARD_ECORRUPT (a missing column or a truth file that is not
 * row-matched, naming the file), ARD_EIO, ARD_ENOMEM. On failure *out is empty. */
ARD_API ard_status ard_cosmicweb_data_load(const char *dataset, ard_cosmicweb_data *out,
                                           ard_error *err);
ARD_API void ard_cosmicweb_data_reset(ard_cosmicweb_data *d); /* safe twice */

/* ---- the cosmicweb stage: a dataset -> a model / predictions -> result runs (cosmicweb_stage.c) ---
 * The calls `ard cosmicweb train|predict` and Python's Dataset.cosmicweb_train / cosmicweb_predict
 * make. Galaxies: ard_cosmicweb_data_load's (catalog files, Z > 0), narrowed by `where` (a predicate
 * over the index's galaxies, guarded as in ard_index_query; it needs an index) to those whose
 * TARGETID the index selects with "z > 0 AND (where)". The graph is built over the selection only.
 *
 * train: labels are the generator's truth (label NULL or "truth") or the classes of an earlier
 *   predict run (label = its run id: results/cosmicweb-RUN-galaxies.parquet, matched by TARGETID);
 *   split by HEALPix pixel (ard_cosmicweb_split_by_pixel at the data's split_nside, val_frac /
 *   test_frac, seed of the training options); trains (ard_cosmicweb_train); saves
 *   DATASET/models/cosmicweb-RUN.safetensors; then records result run RUN of stage "cosmicweb":
 *   results/cosmicweb-RUN-confusion.parquet (TRUE_CLASS, VOID, SHEET, FILAMENT, KNOT: the test
 *   split's confusion matrix, rows true, counts predicted) and, with an index, a row of
 *   cosmicweb_runs whose summary is {"kind":"train", "where", "label", "model", "galaxies", "train",
 *   "val", "test", "split_nside", "steps", "final_loss", "val_balanced_accuracy",
 *   "test_balanced_accuracy", "baseline_test_balanced_accuracy", "test_confusion"}.
 * predict: classifies the selection with the model `model` (a train run id -> its models/ file, or a
 *   path; NULL = the newest models/cosmicweb-*.safetensors by modification time) as result run RUN:
 *   results/cosmicweb-RUN-galaxies.parquet (TARGETID, CLASS 0 void .. 3 knot, P_VOID, P_SHEET,
 *   P_FILAMENT, P_KNOT) loaded into the index table cosmic_web(targetid, class, p_void, p_sheet,
 *   p_filament, p_knot, run_id) (replaced: it holds the latest predict run), and a cosmicweb_runs row
 *   (summary {"kind":"predict", "model", "where", "galaxies", "fractions", "labelled",
 *   "balanced_accuracy", "confusion"}; the truth comparison covers every labelled galaxy, training
 *   ones included).
 * reach (predict): train.reach > 0 asks that the model's reach settings equal train's (reach,
 *   reach_bins, reach_mpc, reach_fanout, reach_randoms; else ARD_EINVAL naming both); 0 predicts
 *   with the model's own. ard_cosmicweb_stage_options_init leaves the training default (4) in:
 *   set train.reach = 0 to accept any model (the CLI and Python do when no reach option is given).
 * latent (train and predict): an anomaly score run id; its results/anomaly-RUN-scores.parquet
 *   (TARGETID, LATENT_0..S-1) gives each selected galaxy its spectrum's latent vector as node
 *   features (matched by TARGETID; a galaxy without a scored spectrum: zeros and has-latent 0; see
 *   "Node features" above). A model trained with latents needs `latent` at predict (and one
 *   trained without refuses it): ARD_EINVAL naming both. The run's parameters record it.
 * Without an index (and no dsn) both runs are Parquet-only. All or nothing as ard_result_run_*. */
typedef struct ard_cosmicweb_stage_options {
    const char *dataset;         /* required */
    const char *dsn;             /* NULL: DATASET/ard.db when it exists */
    const char *where;           /* NULL or a predicate over galaxies (needs the index) */
    const char *run_id;          /* NULL: UTC "YYYYMMDDTHHMMSSZ"; [A-Za-z0-9_-], <= 64 */
    const char *model;           /* predict: train run id or model path; NULL = newest model */
    const char *label;           /* train: NULL / "truth", or a predict run id */
    double val_frac;             /* train: share of split pixels for validation; default 0.15 */
    double test_frac;            /* train: default 0.15 */
    int32_t no_index;            /* 1: Parquet-only run even with an index (no where then) */
    ard_cosmicweb_options train; /* hyper-parameters (ard_cosmicweb_options_init); predict uses
                                    train.threads */
    const char *latent; /* NULL or an anomaly score run id (latent node features); "" is refused */
} ard_cosmicweb_stage_options;

ARD_API void ard_cosmicweb_stage_options_init(ard_cosmicweb_stage_options *o);

typedef struct ard_cosmicweb_stage_report {
    char run_id[72];
    char model_path[1024];
    char results_path[1024]; /* predict: the galaxies file; train: the confusion file */
    int32_t indexed;         /* 1: recorded in the index */
    int32_t split_nside;
    int64_t galaxies; /* in the selection */
    int64_t skipped;  /* catalog rows without a position */
    int64_t labelled; /* galaxies with a label (train) or with truth (predict) */
    int64_t counts[ARD_COSMICWEB_CLASSES]; /* predict: galaxies per predicted class */
    double balanced_accuracy; /* predict: against the truth (0 without); train: test split */
    double baseline_balanced_accuracy; /* train: the density-only baseline, test split */
    int64_t confusion[ARD_COSMICWEB_CLASSES][ARD_COSMICWEB_CLASSES]; /* [true][predicted] */
    ard_cosmicweb_report train; /* train: what ard_cosmicweb_train measured */
    double seconds;
    int32_t latent_dim;  /* latent features used (0: none) */
    int64_t with_latent; /* selected galaxies that have a latent */
} ard_cosmicweb_stage_report;

/* Errors: ARD_EINVAL (options; no truth for training: "no truth for training"; an empty selection:
 * "empty selection"; a predicate without an index; a model for other features; a latent run that
 * does not match the model's latents), ARD_ENOENT (no catalog, no model, an unknown label run, an
 * unknown latent run), ARD_ECORRUPT (a latent run's scores file without TARGETID or LATENT_0), ARD_EEXIST (run id used), those of the index, the
 * result runs and ard_cosmicweb_train / _predict. report may be NULL. */
ARD_API ard_status ard_cosmicweb_stage_train(const ard_cosmicweb_stage_options *o,
                                             ard_cosmicweb_stage_report *report, ard_error *err);
ARD_API ard_status ard_cosmicweb_stage_predict(const ard_cosmicweb_stage_options *o,
                                               ard_cosmicweb_stage_report *report, ard_error *err);
/* The predict stage with a share (see ard_cosmicweb_predict_share; NULL: one process): every
 * process loads the selection and the model and predicts its share; process 0 alone writes the
 * run (the same files and index rows as one process); the others' reports carry the counts but no
 * run. The status before the prediction is agreed through the share's exchange; the run's own
 * outcome is process 0's (agree on it afterwards). */
ARD_API ard_status ard_cosmicweb_stage_predict_share(const ard_cosmicweb_stage_options *o,
                                                     const ard_cosmicweb_share *share,
                                                     ard_cosmicweb_stage_report *report,
                                                     ard_error *err);

/* ---- anomaly detection: an autoencoder stage over the stream (anomaly_*.c) ----------------------
 * Model (a patch-token MLP autoencoder):
 *   embed   e[p] = valid_p * (x[p] We^T + be + PE(wave_p))      x[p]: patch p's `patch` token values,
 *           We [embed, patch]; PE: sin/cos pairs of 1000 ln(wave_p / 3000 A) at frequencies
 *           10000^(-2i/embed) (fixed); valid_p = patch mask != 0 (patches without a valid pixel
 *           contribute nothing)
 *   encoder h1 = GELU(flatten(e) W1^T + b1) [hidden],  z = h1 W2^T + b2 [latent]
 *   decoder h2 = GELU(z W3^T + b3) [hidden],  r = h2 W4^T + b4 [num_patches * patch]
 * Loss: the IVAR-weighted squared error in token units, sum w (r - x)^2 / (valid pixels of the
 * batch), with the stream's per-pixel weights w = IVAR x scale^2 (0 where masked): i.e. the mean
 * chi^2 per valid pixel. Tensors (safetensors, numpy-readable): embed.weight/bias, enc1.*, enc2.*,
 * dec1.*, dec2.* (weights [out, in] as torch.nn.Linear), wave [num_patches] (the patch centres the
 * model was trained on), ref.latent [R, latent] (the reference sample of the density score);
 * metadata ard.anomaly.* (architecture, frame, score calibration).
 *
 * Scores of a spectrum: chi2 = sum w (r - x)^2 / (valid pixels); density = the distance of its
 * latent z to the k-th nearest latent of the reference sample (R training spectra scored after
 * training; k = knn_k); score = (ln chi2 - mu_c) / sd_c + density_weight * (ln density - mu_d) /
 * sd_d, with mu/sd the mean and standard deviation of ln chi2 and of the leave-one-out ln density
 * over the reference sample. Higher = more anomalous. */
typedef struct ard_anomaly_arch {
    int32_t num_patches; /* set from the data */
    int32_t patch;       /* bins per patch (default 64) */
    int32_t embed;       /* d, even (default 16) */
    int32_t hidden;      /* default 256 */
    int32_t latent;      /* S (default 8) */
} ard_anomaly_arch;

typedef struct ard_anomaly_model ard_anomaly_model;

ARD_API void ard_anomaly_arch_init(ard_anomaly_arch *a);
/* A model with weights initialised from seed (Kaiming normal for layers followed by GELU, Xavier for
 * the linear outputs, biases 0); wave: num_patches patch centres (NULL = zeros). threads: the dense
 * layers' pool (results are identical for any count). ARD_EINVAL (architecture), ARD_ENOTSUP
 * (no BLAS), ARD_ENOMEM. */
ARD_API ard_status ard_anomaly_model_new(const ard_anomaly_arch *a, const float *wave,
                                         uint64_t seed, int32_t threads, ard_anomaly_model **out,
                                         ard_error *err);
/* Loads models/anomaly-RUN.safetensors (or any path). Errors name the file: those of
 * ard_nn_load_safetensors (ARD_ECORRUPT truncated, ARD_ENOENT, ...), ARD_EINVAL when the file is
 * not an anomaly model or a tensor disagrees with its architecture. */
ARD_API ard_status ard_anomaly_model_load(const char *path, int32_t threads,
                                          ard_anomaly_model **out, ard_error *err);
ARD_API ard_status ard_anomaly_model_save(ard_anomaly_model *m, const char *path, ard_error *err);
ARD_API void ard_anomaly_model_free(ard_anomaly_model *m); /* accepts NULL */
ARD_API void ard_anomaly_model_arch(const ard_anomaly_model *m, ard_anomaly_arch *out);
ARD_API const float *ard_anomaly_model_wave(const ard_anomaly_model *m);
/* Forward pass of n spectra: tokens [n][num_patches][patch], mask [n][num_patches] (NULL = every
 * patch valid), weights [n][num_patches * patch] (may be NULL unless chi2 is asked for). Outputs
 * (each may be NULL): latent [n][latent], recon [n][num_patches * patch], chi2 [n] (NaN for a
 * spectrum without a valid pixel). Not thread-safe on one model. ARD_EINVAL: a non-finite token or
 * a negative / non-finite weight (the message names the spectrum and value), NULL inputs. */
ARD_API ard_status ard_anomaly_model_forward(ard_anomaly_model *m, const float *tokens,
                                             const uint8_t *mask, const float *weights, int64_t n,
                                             float *latent, float *recon, double *chi2,
                                             ard_error *err);

/* One training step on n spectra held in memory (the step ard_anomaly_train takes per batch):
 * forward, the IVAR-weighted loss, backward, and one Adam step at learning rate lr (the moments live
 * in the model; the first call starts them). Inputs as ard_anomaly_model_forward; weights are
 * required. *loss (may be NULL) = the batch's mean weighted chi^2 per valid pixel before the step.
 * Lets a user train on tokens from elsewhere (a torch DataLoader, numpy). Same results for any
 * thread count. Not thread-safe on one model. ARD_EINVAL (NULL inputs, n < 1, lr <= 0, a bad token
 * or weight as in ard_anomaly_model_forward), ARD_ENOMEM. */
ARD_API ard_status ard_anomaly_model_train_step(ard_anomaly_model *m, const float *tokens,
                                                const uint8_t *mask, const float *weights,
                                                int64_t n, float lr, double *loss, ard_error *err);

/* Progress of a stage: done of total units (spectra). */
typedef void (*ard_stage_progress_fn)(void *ctx, int64_t done, int64_t total);

/* Score rows of a scoring run, in the order the stage writes them (arrays of n; z is n x latent). */
typedef struct ard_anomaly_rows {
    int64_t n;
    int32_t latent;
    int64_t *targetid;
    double *score, *chi2, *density;
    float *z;
} ard_anomaly_rows;

/* Combining the shares of processes that score parts of one selection (MPI ranks:
 * ard_cluster_anomaly_score). ard_anomaly_score calls fn once on every process after scoring its
 * share (rank of size: a contiguous run of whole batches of the one-process stream, ceil(B / size)
 * of the B batches each), with its status so far (fn must be reached by every process, failed or
 * not) and its rows; fn returns the status agreed by all and sets *writer to 1 on the one process
 * that writes the run: there *rows must then hold every share in rank order (fn may replace the
 * arrays: ard_malloc'd, the old ones freed by fn), and the run is written as one process writes it
 * (index tables included, no "-part-RANK"). */
typedef struct ard_anomaly_gather {
    ard_status (*fn)(void *ctx, ard_status st, ard_anomaly_rows *rows, int32_t *writer,
                     ard_error *err);
    void *ctx;
} ard_anomaly_gather;

typedef struct ard_anomaly_options {
    const char *dataset;   /* DATASET directory (tiles, index, results/, models/) */
    const char *dsn;       /* index DSN (NULL = DATASET/ard.db) */
    const char *where;     /* SQL predicate over the catalog (NULL = every indexed spectrum) */
    const char *run;       /* train: the new run id ([A-Za-z0-9_-], <= 64; NULL = UTC timestamp
                            YYYYMMDDTHHMMSSZ, ard_result_run_id_now); score: the model's run (NULL = the newest
                            models/anomaly-*.safetensors by name) */
    ard_anomaly_arch arch; /* train (num_patches comes from the data) */
    /* tokens: ARD_NORM_SPECTRUM_MEDIAN (one scale per spectrum keeps the continuum shape) */
    int32_t epochs;     /* train (default 10) */
    int32_t batch_size; /* default 128 */
    float lr;           /* Adam learning rate (default 2e-3) */
    uint64_t seed;      /* weights and shuffle (default 1) */
    /* ard_frame of the tokens (train; score uses the model's): ARD_FRAME_REST (default: aligned
     * by the catalog Z; a spectrum without a usable Z is all masked, NaN score, ranked last) or
     * ARD_FRAME_OBSERVED (as measured) */
    int32_t frame;
    double rest_zmin, rest_zmax; /* rest frame range (default 0, 1.6) */
    int32_t reference;      /* train: reference sample size for the density score (default 4096) */
    int32_t knn_k;          /* default 10 */
    float density_weight;   /* default 0.5 */
    int32_t threads;        /* dense-layer pool (default 2; results do not depend on it) */
    int32_t loader_threads; /* producer threads (default 2) */
    int32_t rank, size;     /* score: this process's share (default 0, 1); size > 1 writes
                              results/anomaly-RUN-scores-part-RANK.parquet and no index tables */
    ard_stage_progress_fn progress; /* optional */
    void *progress_ctx;
    const char *score_run;            /* score: the id of the scoring run (NULL = UTC timestamp
                              YYYYMMDDTHHMMSSZ); with size > 1, "-part-RANK" is appended */
    const ard_anomaly_gather *gather; /* score: NULL, or the shares are combined (above) */
} ard_anomaly_options;

typedef struct ard_anomaly_report {
    char run[72];
    char model_path[1024];
    char scores_path[1024];
    int64_t spectra; /* trained on (per epoch) / scored */
    int64_t params;  /* trainable parameters */
    int32_t epochs;
    double first_loss, final_loss; /* mean weighted chi^2 per valid pixel, first / last epoch */
    double seconds;
    double spectra_per_second; /* training: spectra x epochs / s; scoring: spectra / s */
    double score_median, score_p99, score_max;
    char score_run[96]; /* score: the result run written (anomaly_runs, results/anomaly-ID-*) */
} ard_anomaly_report;

ARD_API void ard_anomaly_options_init(ard_anomaly_options *o);
/* Trains on the selected spectra, streamed from the loader's shared-memory store (weights on, the
 * given frame), deterministic from seed for any thread counts; then scores a reference sample and
 * saves DATASET/models/anomaly-RUN.safetensors, and records the training as result run RUN of stage
 * "anomaly" (ard_result_run_*: results/anomaly-RUN-training.parquet with EPOCH, LOSS, and a row of
 * anomaly_runs whose summary says {"kind":"train",...}). Errors: ARD_EINVAL (options; an empty
 * selection: "selects no spectra"), ARD_EEXIST (run id already used), the loader's and index's,
 * ARD_ECORRUPT when the loss becomes non-finite. */
ARD_API ard_status ard_anomaly_train(const ard_anomaly_options *o, ard_anomaly_report *rep,
                                     ard_error *err);
/* Scores every selected spectrum with the model of o->run as one result run of stage "anomaly"
 * (id o->score_run, all or nothing): results/anomaly-ID-scores.parquet (TARGETID, SCORE, CHI2,
 * DENSITY, RANK, LATENT_0..S-1 as double), results/anomaly-ID-anomalies.parquet loaded into the
 * index table anomalies (targetid, score, chi2, density, rank, run_id; rank 1 = highest score,
 * replaced by each scoring run), and a row of anomaly_runs (summary {"kind":"score","model_run":..}).
 * The model is streamed over batches (memory independent of the dataset size except the per-spectrum
 * score rows, 40 + 8 S bytes each). With size > 1 the run is Parquet-only (no index tables).
 * Errors: those of train, ARD_ENOENT (no model), ARD_EINVAL when the model's grid (patch size,
 * number of patches or wavelengths) differs from the data's. */
ARD_API ard_status ard_anomaly_score(const ard_anomaly_options *o, ard_anomaly_report *rep,
                                     ard_error *err);
/* Merges the parts of a sharded scoring run into one run. Processes that scored with (rank, size)
 * and no gather (separate `ard anomaly score --rank R --size N --run ID` jobs, anywhere) each wrote
 * the Parquet-only run ID-part-R; this reads results/anomaly-ID-part-R-scores.parquet for R = 0 ..
 * o->size - 1 (o->score_run = ID) and writes run ID as one process writes it: scores and anomalies
 * Parquet files with RANK over all parts, the index table anomalies and a row of anomaly_runs (all or
 * nothing; the part files are left as they are). o->run: the model's run (NULL = the newest model),
 * which sets the latent size and the recorded parameters; o->dataset, o->dsn and o->where (recorded
 * only) are the other options read. Scores equal the one-process scores to float rounding (a
 * spectrum's score does not depend on its batch; BLAS edge kernels may round differently). Under
 * mpirun, ard_cluster_anomaly_score gathers the shares over MPI instead and needs no merge.
 * Memory: the rows of all parts (40 + 8 S bytes per spectrum). Not thread-safe with other writers of
 * the same run id. Errors: ARD_EINVAL (no score_run, size < 2, a TARGETID in two parts, a part with
 * another latent size: the message names the file or the TARGETID), ARD_ENOENT (a part file or the
 * model missing: the message names it), ARD_EEXIST (run ID already written), the index's, ARD_ENOMEM. */
ARD_API ard_status ard_anomaly_merge(const ard_anomaly_options *o, ard_anomaly_report *rep,
                                     ard_error *err);

/* The top k rows of the index table `anomalies` (rank 1..k) joined with their catalog rows: fn is
 * called once per row with the cells (text, NULL for NULL) of rank, targetid, score, chi2, density,
 * run_id, z, spectype, target_class, target_ra, target_dec; a nonzero return stops. ARD_EINVAL
 * (k < 1), ARD_ENOENT / ARD_EDB (no index or no anomalies table: run ard anomaly score). */
typedef int (*ard_anomaly_row_fn)(void *ctx, int32_t num_columns, const char *const *names,
                                  const char *const *values);
ARD_API ard_status ard_anomaly_top(const char *dataset, const char *dsn, int64_t k,
                                   ard_anomaly_row_fn fn, void *ctx, ard_error *err);

/* ---- the fof stage: catalog -> groups -> scored -> results ------------------------------------
 * One call runs the whole stage over a dataset, as `ard fof` does:
 *   1. load (TARGETID, TARGET_RA, TARGET_DEC, Z) of the galaxies with Z > 0: from the index
 *      (typed reads, ard_index_read_columns, with `where` ANDed) when the dataset has one or `dsn`
 *      names one, else from DATASET/catalog/ *.parquet (every file, in name order); rows without
 *      coordinates are skipped and counted;
 *   2. link (ard_fof_run with `params`);
 *   3. score against the generator's truth (DATASET/truth/galaxies-*.parquet, GROUP_ID matched by
 *      TARGETID) when the dataset has one;
 *   4. record the run through the index's result runs (ard_result_run_begin, stage "fof"):
 *      results/fof-RUN-galaxies.parquet (TARGETID, GROUP_ID, GROUP_SIZE) and
 *      results/fof-RUN-groups.parquet (the group catalog: GROUP_ID, N_MEMBERS, FIRST_TARGETID, RA,
 *      DEC, Z, X_MPC, Y_MPC, Z_MPC, RADIUS_MPC, RADIUS_MAX_MPC, SIGMA_V); with an index also the
 *      index tables galaxy_groups(targetid, group_id, group_size, run_id) and groups(...) (the
 *      latest run) and a row in fof_runs (params = ard_fof_params_json, summary = {"where",
 *      "source", "galaxies", "groups", "grouped"}); all or nothing. A catalog read from the files
 *      gives a Parquet-only run. */

/* Progress: phase is "load", "link", "score" or "write"; fraction in [0, 1] of that phase. Called
 * on the caller's thread. */
typedef void (*ard_fof_progress_fn)(void *ctx, const char *phase, double fraction);

/* Caller-filled; call ard_fof_stage_options_init first. Strings are borrowed for the call. */
typedef struct ard_fof_stage_options {
    const char *dataset; /* required: the dataset directory */
    const char *dsn;     /* NULL: DATASET/ard.db if it exists; else the index DSN (see index.h) */
    const char *where;   /* NULL or a predicate over galaxies (needs the index; guarded as in
                            ard_index_query) */
    const char *run_id;  /* NULL: the result run's default (UTC "YYYYMMDDTHHMMSSZ") */
    int32_t no_index;    /* 1: read the catalog files and write Parquet only, even with an index */
    int32_t write_results;        /* default 1; 0: load, link and score only (nothing is written) */
    int64_t min_size;             /* smallest group scored against the truth; default 5 (>= 2) */
    int32_t rank, size;           /* partition: FoF links the whole catalog on one process, so only
                              size <= 1 is accepted here (distributed FoF lives in the cluster
                              module); default 0, 1 */
    ard_fof_params params;        /* linking parameters (ard_fof_params_init defaults) */
    ard_fof_progress_fn progress; /* NULL: none */
    void *progress_ctx;
} ard_fof_stage_options;

ARD_API void ard_fof_stage_options_init(ard_fof_stage_options *o);

/* What a stage run did; filled by ard_fof_stage_run (zeroed first). */
typedef struct ard_fof_stage_report {
    char run_id[72];
    int32_t from_index; /* 1: catalog read from the index, 0: from the catalog files */
    int32_t indexed;    /* 1: results recorded in the index (else Parquet only or not written) */
    int32_t written;    /* 1: results written */
    int32_t scored;     /* 1: score holds the comparison with the truth */
    int32_t mode;       /* ard_fof_mode used */
    int64_t galaxies;   /* galaxies linked */
    int64_t skipped;    /* rows skipped (Z <= 0 in the files, or no coordinates) */
    int64_t groups;     /* groups of >= 2 members */
    int64_t grouped;    /* galaxies in them */
    int64_t largest;    /* members of the largest group */
    int64_t groups_ge5; /* groups of >= 5 members */
    double link_mpc, par_mpc, area_deg2; /* ard_fof_link_used / _median_par_used / _area_used */
    ard_fof_score score;
    int64_t min_size;
    char params_json[1024]; /* ard_fof_params_json of the run ("" if it did not fit) */
    double seconds_load, seconds_link, seconds_score, seconds_write, seconds_total;
} ard_fof_stage_report;

/* Runs the fof stage (above). The group id of every galaxy is also kept when `groups_out` is not
 * NULL: *groups_out receives a new ard_fof_result (free with ard_fof_result_free) and *targetids_out
 * (may be NULL) the TARGETIDs of its rows (ard_free), in the order the result's group ids follow
 * (ascending TARGETID from the index; file order from the catalog files).
 * Errors: ARD_EINVAL (options, a predicate without an index, parameters), ARD_ENOTSUP (size > 1),
 * ARD_ENOENT (no index and no catalog files), those of ard_index_read_columns (ARD_EPERM, ARD_EDB
 * for the predicate), ard_fof_run, and of ard_result_run_* (ARD_EEXIST for a run id already used,
 * ARD_EIO, ARD_EDB). Thread-safety: distinct calls are independent. */
ARD_API ard_status ard_fof_stage_run(const ard_fof_stage_options *o, ard_fof_stage_report *report,
                                     ard_fof_result **groups_out, int64_t **targetids_out,
                                     ard_error *err);

#ifdef __cplusplus
}
#endif
#endif
