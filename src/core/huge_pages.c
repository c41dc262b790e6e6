/* The transparent huge page hint for big buffers (ard_advise_huge): one place for the madvise that
 * the sort buffers of a fresh load and the decode buffers kept across row groups both use. */
#include "ard/core.h"

#include <stdint.h>
#include <sys/mman.h>

void ard_advise_huge(void *p, size_t bytes) {
#ifdef MADV_HUGEPAGE
    const uintptr_t huge = (uintptr_t)2 << 20;
    uintptr_t lo = ((uintptr_t)p + huge - 1) & ~(huge - 1);
    uintptr_t hi = ((uintptr_t)p + bytes) & ~(huge - 1);
    if (p && hi > lo) {
        (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
    }
#else
    (void)p;
    (void)bytes;
#endif
}
