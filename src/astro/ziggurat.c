/* Standard normal deviates by the ziggurat method (Marsaglia & Tsang 2000, 256 layers), drawn
 * from a counter-based word stream: exact N(0,1) up to the double tables, no trig, and one hash
 * per deviate on the fast path (~99% of draws). The layer index, the sign and the 53-bit uniform
 * come from disjoint bits of one word (Doornik 2005: no layer/value correlation). */
#include "astro_int.h"

#define ZIG_R 3.6541528853610088 /* start of the tail for 256 layers of equal area */
_Static_assert(ARD_ZIG_LAYERS == 1 << 8, "ard_zig_normal takes the sign from bit 8");

static double gauss(double x) {
    return exp(-0.5 * x * x);
}

void ard_zig_init(ard_zig *t) {
    /* Area of every layer: the base strip is the rectangle [0, r] x [0, f(r)] plus the tail. */
    double v = ZIG_R * gauss(ZIG_R) + sqrt(M_PI / 2.0) * erfc(ZIG_R / M_SQRT2);
    t->x[0] = v / gauss(ZIG_R);
    t->x[1] = ZIG_R;
    for (int i = 1; i < ARD_ZIG_LAYERS - 1; i++) {
        t->x[i + 1] = sqrt(-2.0 * log(v / t->x[i] + gauss(t->x[i])));
    }
    t->x[ARD_ZIG_LAYERS] = 0.0;
    for (int i = 0; i <= ARD_ZIG_LAYERS; i++) {
        t->f[i] = gauss(t->x[i]);
    }
}

double ard_zig_normal_slow(const ard_zig *t, ard_rng_words *s, uint64_t h) {
    for (;;) {
        int i = (int)(h & (ARD_ZIG_LAYERS - 1));
        double sign = (h & ARD_ZIG_LAYERS) ? -1.0 : 1.0;
        double x = ard_rng_to_u01(h) * t->x[i];
        if (x < t->x[i + 1]) {
            return sign * x;
        }
        if (i == 0) { /* tail beyond r (Marsaglia 1964) */
            double a, b;
            do {
                a = -log(ard_rng_to_u01(ard_rng_words_next(s))) / ZIG_R;
                b = -log(ard_rng_to_u01(ard_rng_words_next(s)));
            } while (b + b < a * a);
            return sign * (ZIG_R + a);
        }
        /* wedge between the layer's rectangle and the curve */
        double y = t->f[i] + ard_rng_to_u01(ard_rng_words_next(s)) * (t->f[i + 1] - t->f[i]);
        if (y < gauss(x)) {
            return sign * x;
        }
        h = ard_rng_words_next(s);
    }
}
