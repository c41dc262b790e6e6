/* test_astro: wavelength grids, HEALPix, cosmology, random numbers and the T-web. */
#include "astro_test.h"

int main(void) {
    int failed = 0;
    failed += as_run_sky_tests();
    failed += as_run_normal_tests();
    failed += as_run_tweb_points_tests();
    failed += as_run_field_tests();
    return failed ? 1 : 0;
}
