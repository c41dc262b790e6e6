/* Pieces the cosmic-web SAGE tests share (test_cosmicweb.c, test_cosmicweb_reach.c): a model and
 * sampler made ready on a feature matrix, a batch whose first hop sits off every ReLU kink, the
 * finite-difference check of its gradients, and the accumulation check. */
#ifndef CW_TEST_UTIL_H
#define CW_TEST_UTIL_H

#include "science_int.h"

#include <stdint.h>

/* Fits each of the nf features' mean and standard deviation into m (so activations are O(1)),
 * normalises features in place, sets class_weight to {0.5, 1, 1.5, 2} and *s to a sampler over g
 * with fan-out [5, 3] and seed 11. */
void cwt_prepare(ard_cosmicweb_model *m, const cw_graph *g, float *features, int64_t n, int32_t nf,
                 const int32_t *labels, float class_weight[4], cw_sampler *s);

/* Samples into *b the first of up to 50 seed sets (7 seeds, shifted by 17 per trial, modulo n)
 * whose first-hop nodes all sit at least 0.015 from a ReLU kink (a kink inside a finite-difference
 * step spoils the comparison), and leaves the parameters' gradients of its loss in m (zeroed
 * first). `hidden` is the model's first-layer width. Fails the test when no set qualifies. */
void cwt_kinkless_batch(const cw_sampler *s, ard_cosmicweb_model *m, int64_t n, int32_t hidden,
                        cw_batch *b, cw_work *w);

/* Compares each of the nt tensors' gradient (as cwt_kinkless_batch left it) with central finite
 * differences of the loss of b: at most 1 entry in 50 may differ by more than 2e-3 relative (a kink
 * crossed), and every tensor must have a gradient above 1e-5 (it takes part in the loss). */
void cwt_check_gradients(ard_cosmicweb_model *m, const cw_batch *b, cw_work *w,
                         ard_nn_tensor *const *ts, int nt);

/* The loss and every gradient of `total` seeds in one batch equal those of the same seeds in
 * minibatches of `per` (the last one short), each scaled by `scale`, to 1e-5 of the largest
 * gradient, which must exceed 1e-4. Returns the one-batch gradients (all parameters in order;
 * caller frees) and their largest magnitude in *norm; m's gradients hold the minibatches' sum. */
float *cwt_check_accumulation(ard_cosmicweb_model *m, const cw_sampler *s, const int64_t *seeds,
                              int32_t total, int32_t per, float scale, cw_batch *b, cw_work *w,
                              double *norm);

#endif
