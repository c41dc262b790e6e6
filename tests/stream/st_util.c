/* Helpers of the stream tests (see st_util.h); the tile fixture is in tests/common. */
#include "st_util.h"

#include <stdio.h>
#include <unistd.h>

uint64_t st_next(st_rng *r) {
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double st_unit(st_rng *r) {
    return (double)(st_next(r) >> 11) / 9007199254740992.0;
}

void st_shm_name(char *out, size_t cap) {
    static int counter;
    snprintf(out, cap, "ardtest-%d-%d", (int)getpid(), counter++);
}
