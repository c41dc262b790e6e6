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
} ard_fof_params;

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

/* Writes DIR/fof-RUN-galaxies.parquet (TARGETID, GROUP_ID, GROUP_SIZE) and DIR/fof-RUN-groups.parquet
 * (the group catalog, upper-case columns as in ard_fof_group), each with key-value metadata
 * "ard.fof.run_id" and "ard.fof.params" (JSON). Files appear atomically.
 * `targetid` as given to ard_fof_run (NULL = row numbers). run_id: [A-Za-z0-9_-]+.
 * Errors: ARD_EINVAL, ARD_EIO, ARD_ENOMEM. */
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

#ifdef __cplusplus
}
#endif
#endif
