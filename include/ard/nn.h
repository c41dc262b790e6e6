/* ard nn: a small float32 neural-network layer for the science stages (anomaly autoencoder,
 * cosmic-web GraphSAGE), on OpenBLAS cblas_sgemm.
 *
 * What is here:
 *   parameters   named float32 tensors (value, gradient, Adam moments) in a parameter set with a
 *                string metadata map; deterministic Kaiming / Xavier initialisation from a seed
 *   layers       dense (y = x W^T + b, W is [out, in] like torch.nn.Linear), ReLU, GELU (tanh
 *                approximation, as torch's approximate="tanh"), PReLU, layer norm, mean aggregation
 *                over index lists (the GraphSAGE mean aggregator) and its scatter-add backward
 *   losses       softmax cross-entropy with per-sample weights; squared error with per-element weights
 *   optimiser    Adam (bias-corrected, optional decoupled weight decay)
 *   files        safetensors read/write (F32 tensors + __metadata__), readable by numpy alone
 *
 * Conventions:
 *   - Layers are stateless functions on caller-owned row-major arrays (rows = samples). Forward
 *     functions overwrite their output. Backward functions overwrite the input gradient (dx) and ADD
 *     into parameter gradients (dW, db, dgamma, ...), so gradients accumulate across minibatches
 *     until ard_nn_params_zero_grad. Any gradient output may be NULL when it is not wanted.
 *   - Losses return their value scaled by the caller's `scale` (e.g. 1 / total weight of the
 *     effective batch): loss = scale * sum_i w_i * l_i, and the gradient is of that scaled sum. This
 *     makes gradient accumulation over short last batches exact.
 *   - OpenBLAS is not linked: the first function that does arithmetic opens it (dlopen, once per
 *     process), so programs that never use these layers do not load it (its pthread build starts a
 *     worker thread when loaded). Without BLAS (ARD_HAVE_BLAS=0 at build time, or the library
 *     missing at run time: the message names it and dlerror()) every function that does arithmetic
 *     returns ARD_ENOTSUP; the parameter set and safetensors I/O still work.
 *
 * Threads and determinism: only the dense layers are parallel. They take an ard_pool (NULL: run in
 * the calling thread) and cut the output matrix into blocks chosen from the shape alone (at most 16,
 * of >= 64 rows or columns, multiples of 16), one single-threaded cblas_sgemm per block. OpenBLAS's
 * own threading is switched off by these calls (openblas_set_num_threads(1), process-wide) because
 * it splits the work by thread count and its edge kernels round differently, which changes results
 * with the thread count. So every result is bit-identical for any pool size (the tests check 1 and 2
 * threads). Every other loop is serial with a fixed order (long sums in double). No function keeps
 * hidden state; all are thread-safe on distinct outputs (a pool runs one loop at a time). */
#ifndef ARD_NN_H
#define ARD_NN_H

#include "ard/core.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when the layers work (ard was built with BLAS and OpenBLAS opens; the first call opens it),
 * else 0 (they return ARD_ENOTSUP). Thread-safe. */
ARD_API int ard_nn_available(void);

/* ---- parameters ------------------------------------------------------------------------------- */

#define ARD_NN_MAX_DIMS 4
#define ARD_NN_NAME_MAX 128 /* bytes including the terminating NUL */

/* One named float32 tensor. value and grad have `count` floats (grad zeroed at creation); adam_m /
 * adam_v are NULL until the first Adam step. All owned by the parameter set. */
typedef struct ard_nn_tensor {
    char name[ARD_NN_NAME_MAX];
    int32_t ndim;
    int64_t shape[ARD_NN_MAX_DIMS];
    int64_t count; /* product of shape (1 for ndim 0) */
    float *value;
    float *grad;
    float *adam_m;
    float *adam_v;
} ard_nn_tensor;

/* An ordered set of tensors plus a metadata map of strings (saved as safetensors __metadata__).
 * Tensor pointers stay valid until the set is freed. Not thread-safe for concurrent adds. */
typedef struct ard_nn_params ard_nn_params;

ARD_API ard_status ard_nn_params_new(ard_nn_params **out, ard_error *err); /* ARD_ENOMEM */
ARD_API void ard_nn_params_free(ard_nn_params *params);                    /* accepts NULL */

/* Adds a zero-filled tensor. Errors: ARD_EINVAL (empty or too long name, a name already used,
 * ndim outside 0..ARD_NN_MAX_DIMS, a negative dimension), ARD_ELIMIT (more than 2^31 elements or
 * 65536 tensors), ARD_ENOMEM. *out (may be NULL) receives the tensor. */
ARD_API ard_status ard_nn_params_add(ard_nn_params *params, const char *name, int32_t ndim,
                                     const int64_t *shape, ard_nn_tensor **out, ard_error *err);
ARD_API int64_t ard_nn_params_count(const ard_nn_params *params);
/* The i-th tensor in insertion order (NULL when out of range). */
ARD_API ard_nn_tensor *ard_nn_params_at(const ard_nn_params *params, int64_t i);
/* The tensor called `name`, or NULL. */
ARD_API ard_nn_tensor *ard_nn_params_find(const ard_nn_params *params, const char *name);
/* Zeroes every gradient. */
ARD_API void ard_nn_params_zero_grad(ard_nn_params *params);
/* Total number of parameters (sum of counts). */
ARD_API int64_t ard_nn_params_size(const ard_nn_params *params);

/* Sets (or replaces) a metadata entry; key and value are copied. ARD_EINVAL (NULL/empty key, key
 * "__metadata__"), ARD_ENOMEM. */
ARD_API ard_status ard_nn_params_set_meta(ard_nn_params *params, const char *key, const char *value,
                                          ard_error *err);
/* The metadata value of `key` (owned by the set, valid until it changes), or NULL. */
ARD_API const char *ard_nn_params_get_meta(const ard_nn_params *params, const char *key);

/* ---- deterministic initialisation ------------------------------------------------------------
 * The generator is xoshiro256** seeded through splitmix64 from `seed`; the same seed gives the same
 * values on every machine and thread count. Use ard_nn_seed_for to give each tensor its own stream. */

/* A per-tensor seed: a hash of (seed, name). */
ARD_API uint64_t ard_nn_seed_for(uint64_t seed, const char *name);
/* Kaiming (He) normal for ReLU-family layers: N(0, 2 / fan_in). ARD_EINVAL (fan_in < 1). */
ARD_API ard_status ard_nn_init_kaiming(ard_nn_tensor *t, int64_t fan_in, uint64_t seed,
                                       ard_error *err);
/* Xavier (Glorot) uniform: U(-a, a), a = sqrt(6 / (fan_in + fan_out)). ARD_EINVAL (fans < 1). */
ARD_API ard_status ard_nn_init_xavier(ard_nn_tensor *t, int64_t fan_in, int64_t fan_out,
                                      uint64_t seed, ard_error *err);
/* Sets every value to `v` (biases: 0, layer-norm gains: 1, PReLU slopes: 0.25). */
ARD_API void ard_nn_fill(ard_nn_tensor *t, float v);

/* ---- layers -----------------------------------------------------------------------------------
 * Every layer returns ARD_EINVAL on a negative size or a NULL required array, ARD_ENOTSUP without
 * BLAS, ARD_OK otherwise. */

/* Dense: y[n, out] = x[n, in] W[out, in]^T + b[out] (b may be NULL). pool: see "Threads" above. */
ARD_API ard_status ard_nn_dense_forward(ard_pool *pool, const float *x, int64_t n, int64_t in,
                                        const float *w, const float *b, int64_t out, float *y,
                                        ard_error *err);
/* Dense backward from dy[n, out]: dx = dy W (overwritten), dW += dy^T x, db += column sums of dy. */
ARD_API ard_status ard_nn_dense_backward(ard_pool *pool, const float *x, int64_t n, int64_t in,
                                         const float *w, int64_t out, const float *dy, float *dx,
                                         float *dw, float *db, ard_error *err);

/* ReLU over count values (y may equal x). Backward: dx = dy where x > 0, else 0 (dx may equal dy). */
ARD_API ard_status ard_nn_relu_forward(const float *x, int64_t count, float *y, ard_error *err);
ARD_API ard_status ard_nn_relu_backward(const float *x, const float *dy, int64_t count, float *dx,
                                        ard_error *err);

/* GELU, tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (torch
 * gelu(approximate="tanh")). y may equal x; dx may equal dy. */
ARD_API ard_status ard_nn_gelu_forward(const float *x, int64_t count, float *y, ard_error *err);
ARD_API ard_status ard_nn_gelu_backward(const float *x, const float *dy, int64_t count, float *dx,
                                        ard_error *err);

/* PReLU on x[n, c]: y = x if x > 0 else a * x, with one slope per channel (slopes == c) or one
 * shared slope (slopes == 1); other slope counts: ARD_EINVAL. Backward: dx overwritten (may equal
 * dy), da += sum over the rows of dy * x where x <= 0. */
ARD_API ard_status ard_nn_prelu_forward(const float *x, int64_t n, int64_t c, const float *a,
                                        int64_t slopes, float *y, ard_error *err);
ARD_API ard_status ard_nn_prelu_backward(const float *x, const float *dy, int64_t n, int64_t c,
                                         const float *a, int64_t slopes, float *dx, float *da,
                                         ard_error *err);

/* Layer norm over the last dimension of x[n, c]: y = (x - mean) * rstd * gamma + beta, with
 * rstd = 1 / sqrt(var + eps) (biased variance, as torch). mean and rstd (n floats each) are written
 * for the backward pass. eps must be > 0 (ARD_EINVAL). */
ARD_API ard_status ard_nn_layernorm_forward(const float *x, int64_t n, int64_t c,
                                            const float *gamma, const float *beta, float eps,
                                            float *y, float *mean, float *rstd, ard_error *err);
/* dx overwritten; dgamma += sum dy * xhat, dbeta += sum dy (over rows). */
ARD_API ard_status ard_nn_layernorm_backward(const float *x, const float *dy, int64_t n, int64_t c,
                                             const float *gamma, const float *mean,
                                             const float *rstd, float *dx, float *dgamma,
                                             float *dbeta, ard_error *err);

/* Mean aggregation (GraphSAGE): out[i, :] = mean of x[index[j], :] for j in
 * [offsets[i], offsets[i + 1]), i < rows; an empty list gives zeros. x has x_rows rows of dim floats.
 * Errors: ARD_EINVAL (offsets not non-decreasing from 0, an index outside [0, x_rows): the message
 * names the row). */
ARD_API ard_status ard_nn_mean_gather(const float *x, int64_t x_rows, int64_t dim,
                                      const int64_t *offsets, const int64_t *index, int64_t rows,
                                      float *out, ard_error *err);
/* Its backward: dx[index[j], :] += dout[i, :] / (list length), in index order (deterministic). */
ARD_API ard_status ard_nn_mean_scatter(const float *dout, int64_t rows, int64_t dim,
                                       const int64_t *offsets, const int64_t *index, int64_t x_rows,
                                       float *dx, ard_error *err);

/* ---- losses ----------------------------------------------------------------------------------- */

/* Softmax cross-entropy over logits[n, classes] with labels in [0, classes) and optional per-sample
 * weights (NULL: all 1; class-balanced losses pass w_i = weight of label_i):
 *   *loss = scale * sum_i w_i * (-log softmax(logits_i)[label_i])
 * dlogits (may be NULL) = scale * w_i * (softmax_i - onehot_i), overwritten; probs (may be NULL)
 * receives the softmax. Errors: ARD_EINVAL (a label out of range or a negative/non-finite weight,
 * naming the sample; a non-finite logit). */
ARD_API ard_status ard_nn_softmax_xent(const float *logits, int64_t n, int64_t classes,
                                       const int32_t *labels, const float *weights, float scale,
                                       double *loss, float *dlogits, float *probs, ard_error *err);

/* Weighted squared error over count elements (IVAR-weighted reconstruction; weight 0 = masked):
 *   *loss = scale * sum_j w_j (pred_j - target_j)^2,  dpred = 2 scale w_j (pred_j - target_j).
 * weights may be NULL (all 1). Errors: ARD_EINVAL (a negative or non-finite weight, naming it). */
ARD_API ard_status ard_nn_weighted_sq_error(const float *pred, const float *target,
                                            const float *weights, int64_t count, float scale,
                                            double *loss, float *dpred, ard_error *err);

/* ---- Adam ---------------------------------------------------------------------------------------
 * For every tensor, with g its gradient and t the step number after increment:
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
 *   value -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps) + lr * weight_decay * value
 * (weight decay decoupled, AdamW; 0 = plain Adam, the default). Gradients are not cleared. */
typedef struct ard_nn_adam {
    float lr;           /* 1e-3 */
    float beta1;        /* 0.9 */
    float beta2;        /* 0.999 */
    float eps;          /* 1e-8 */
    float weight_decay; /* 0 */
    int64_t step;       /* steps taken so far (0 after init) */
    ard_pool *pool;     /* NULL (init): update in the calling thread; else in fixed chunks on this
                           pool (borrowed; the same result for any thread count) */
} ard_nn_adam;

ARD_API void ard_nn_adam_init(ard_nn_adam *adam);
/* One step over every tensor of params (allocates the moments on first use). Errors: ARD_EINVAL
 * (lr <= 0, betas outside [0, 1), eps <= 0), ARD_ENOMEM, ARD_ENOTSUP without BLAS. */
ARD_API ard_status ard_nn_adam_step(ard_nn_adam *adam, ard_nn_params *params, ard_error *err);

/* ---- safetensors ------------------------------------------------------------------------------
 * Layout (https://github.com/huggingface/safetensors): 8-byte little-endian header length N, N bytes
 * of JSON {"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...,
 * "__metadata__": {"key": "value", ...}}, padded with spaces to a multiple of 8, then the raw
 * little-endian tensor bytes (offsets relative to the end of the header). */

#define ARD_NN_SAFETENSORS_MAX_HEADER (100 * 1024 * 1024) /* bytes of JSON header */
#define ARD_NN_SAFETENSORS_MAX_TENSORS 65536

/* Writes every tensor (value only) and the metadata to `path` atomically (a temporary file renamed
 * over the path: a failed or killed write leaves the previous file). Tensors are written in
 * insertion order. Errors: ARD_EIO / ARD_ENOENT (naming the path), ARD_ENOMEM. */
ARD_API ard_status ard_nn_save_safetensors(const ard_nn_params *params, const char *path,
                                           ard_error *err);

/* Reads a safetensors file into a new parameter set (values copied; gradients zero). Every error
 * message names the file and, where one is involved, the tensor:
 *   ARD_ENOENT / ARD_EIO    the file cannot be opened or read
 *   ARD_ECORRUPT            truncated (shorter than its header or than a tensor's data), the header is
 *                           not valid JSON or not the layout above, data_offsets out of range or
 *                           disagreeing with dtype x shape, overlapping or unordered tensor data
 *   ARD_ENOTSUP             a dtype other than F32
 *   ARD_ELIMIT              header longer than ARD_NN_SAFETENSORS_MAX_HEADER, too many tensors,
 *                           more than ARD_NN_MAX_DIMS dimensions
 *   ARD_ENOMEM
 * On failure *out is NULL. */
ARD_API ard_status ard_nn_load_safetensors(const char *path, ard_nn_params **out, ard_error *err);

/* Loads `path` into an existing set: every tensor of `params` must be in the file with the same
 * shape; its value is overwritten (gradients and moments untouched); metadata entries of the file are
 * copied in. Extra tensors in the file are an error too (a model for another architecture).
 * Errors: those of ard_nn_load_safetensors, and ARD_EINVAL naming the tensor and the file when a
 * tensor is missing, has another shape, or is not part of params. */
ARD_API ard_status ard_nn_params_load_into(ard_nn_params *params, const char *path, ard_error *err);

#ifdef __cplusplus
}
#endif
#endif
