/* Allocation wrappers: one place to count allocations and to inject failures in tests. */
#include "ard/core.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static atomic_long alloc_count;
static atomic_long fail_after; /* 0: never fail; n: the n-th allocation from now fails */

void ard_alloc_fail_after(long n) {
    atomic_store(&fail_after, n);
}

long ard_alloc_count(void) {
    return atomic_load(&alloc_count);
}

static int injected_failure(void) {
    atomic_fetch_add(&alloc_count, 1);
    long n = atomic_load(&fail_after);
    if (n <= 0) {
        return 0;
    }
    if (atomic_fetch_sub(&fail_after, 1) == 1) {
        return 1;
    }
    return 0;
}

void *ard_malloc(size_t size) {
    if (injected_failure()) {
        return NULL;
    }
    return malloc(size ? size : 1);
}

void *ard_calloc(size_t count, size_t size) {
    if (injected_failure()) {
        return NULL;
    }
    if (count == 0 || size == 0) {
        return calloc(1, 1);
    }
    return calloc(count, size);
}

void *ard_realloc(void *ptr, size_t size) {
    if (injected_failure()) {
        return NULL;
    }
    return realloc(ptr, size ? size : 1);
}

void ard_free(void *ptr) {
    free(ptr);
}

char *ard_strdup(const char *s) {
    size_t len = strlen(s);
    char *copy = ard_malloc(len + 1);
    if (copy) {
        memcpy(copy, s, len + 1);
    }
    return copy;
}
