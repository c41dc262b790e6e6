/* The library's version and the size of the status list, for bindings that check them at load. */
#include "ard/core.h"

#ifndef ARD_PROJECT_VERSION
#error "ARD_PROJECT_VERSION must be defined by the build (CMake's project version)"
#endif

int32_t ard_status_count(void) {
    int32_t count = 0;
#define ARD__STATUS_COUNT(name, value, text) count = (value) + 1 > count ? (value) + 1 : count;
    ARD_STATUS_LIST(ARD__STATUS_COUNT)
#undef ARD__STATUS_COUNT
    return count;
}

const char *ard_version(void) {
    return ARD_PROJECT_VERSION;
}
