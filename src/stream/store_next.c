/* The consumer's one-call step (ard_store_next): hand back the batch held, take the next. Bindings
 * that pay per foreign call (ctypes: ~1 us each) make one call per batch instead of two. */
#include "stream_int.h"

ard_status ard_store_next(ard_store *store, int64_t timeout_ms, ard_batch *batch, ard_error *err) {
    if (!store || !batch) {
        return ard_error_set(err, ARD_EINVAL, "store: next needs a store and a batch");
    }
    if (batch->slot >= 0) {
        ard_status st = ard_store_release(store, batch, err);
        if (st != ARD_OK) {
            return st;
        }
        batch->slot = -1; /* released: a failed acquire below leaves nothing held */
    }
    return ard_store_acquire(store, timeout_ms, batch, err);
}
