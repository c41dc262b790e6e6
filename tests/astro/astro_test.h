/* Declarations shared by the astro tests (one group per file). */
#ifndef ASTRO_TEST_H
#define ASTRO_TEST_H

#include "ard/astro.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>

/* |a - b| <= eps in double precision (cmocka's float variant is single precision). */
#define as_assert_near(a, b, eps) assert_true(fabs((double)(a) - (double)(b)) <= (double)(eps))

int as_run_sky_tests(void);
int as_run_normal_tests(void);
int as_run_tweb_points_tests(void);
int as_run_field_tests(void);

#endif
