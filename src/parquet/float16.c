/* FLOAT16: half-precision values as doubles (statistics, Arrow rendering). */
#include "parquet_int.h"

#include <math.h>

double ard_parquet_half_to_double(uint16_t h) {
    int e = (h >> 10) & 0x1F, f = h & 0x3FF;
    double v = e == 0 ? ldexp(f, -24) : e == 31 ? (f ? NAN : INFINITY) : ldexp(f + 1024, e - 25);
    return (h & 0x8000) ? -v : v;
}
