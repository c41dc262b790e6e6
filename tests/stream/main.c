/* Entry point of test_stream: the tokenizer, store, loader and catalog-column suites. */
#include "st_util.h"

int main(void) {
    int failed = 0;
    failed += st_tokenize_run();
    failed += st_store_run();
    failed += st_ring_run();
    failed += st_loader_run();
    failed += st_catalog_run();
    failed += st_weights_run();
    failed += st_serve_run();
    failed += st_tile_cache_run();
    failed += st_memory_cap_run();
    failed += st_sparse_shuffle_run();
    failed += st_bench_run();
    return failed == 0 ? 0 : 1;
}
