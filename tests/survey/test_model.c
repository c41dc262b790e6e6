/* Data model tests: dataset paths, catalog schema, the shipped DR1 tables. */
#include "survey_int.h"
#include "sv_util.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <string.h>

static void test_paths(void **state) {
    (void)state;
    char buf[256], survey[16], program[16];
    int64_t pix = 0;
    assert_int_equal(ard_dataset_tile_path("/d", "main", "dark", 27247, buf, sizeof buf, NULL),
                     ARD_OK);
    assert_string_equal(buf, "/d/tiles/main/dark/272/27247.parquet");
    assert_int_equal(ard_dataset_tile_path("d", "main", "dark", 7, buf, sizeof buf, NULL), ARD_OK);
    assert_string_equal(buf, "d/tiles/main/dark/0/7.parquet");
    assert_int_equal(ard_dataset_parse_tile_path(buf, survey, program, &pix, NULL), ARD_OK);
    assert_string_equal(survey, "main");
    assert_string_equal(program, "dark");
    assert_int_equal(pix, 7);
    assert_int_equal(
        ard_dataset_parse_tile_path("x/tiles/main/dark/3/7.parquet", survey, program, &pix, NULL),
        ARD_EINVAL);
    assert_int_equal(
        ard_dataset_parse_tile_path("x/mytiles/main/dark/0/7.parquet", survey, program, &pix, NULL),
        ARD_EINVAL);
    assert_int_equal(ard_dataset_tile_path("d", "../x", "dark", 7, buf, sizeof buf, NULL),
                     ARD_EINVAL);
    assert_int_equal(ard_dataset_tile_path("d", "main", "dark", -1, buf, sizeof buf, NULL),
                     ARD_EINVAL);
    assert_int_equal(ard_dataset_tile_path("d", "main", "dark", 7, buf, 10, NULL), ARD_ERANGE);
    assert_int_equal(ard_dataset_catalog_path("d", 3, buf, sizeof buf, NULL), ARD_OK);
    assert_string_equal(buf, "d/catalog/zcatalog-0003.parquet");
    assert_int_equal(ard_dataset_catalog_path("d", 10000, buf, sizeof buf, NULL), ARD_EINVAL);
}

static void test_catalog_schema(void **state) {
    (void)state;
    assert_true(ard_dataset_catalog_num_columns() >= 20);
    assert_string_equal(ard_dataset_catalog_column(0)->name, "TARGETID");
    assert_int_equal(ard_dataset_catalog_column_index("SPECTYPE") >= 0, 1);
    assert_int_equal(ard_dataset_catalog_column(ard_dataset_catalog_column_index("Z"))->type,
                     ARD_COLTYPE_DOUBLE);
    assert_int_equal(ard_dataset_catalog_column_index("NOPE"), -1);
    assert_null(ard_dataset_catalog_column(-1));
    assert_string_equal(ard_target_class_name(ARD_CLASS_ELG), "ELG");
    assert_int_equal(ard_target_class_from_name("QSO"), ARD_CLASS_QSO);
    assert_int_equal(ard_target_class_from_name("qso"), -1);
    assert_string_equal(ard_anomaly_name(ARD_ANOMALY_Z_BLUNDER), "redshift_blunder");
}

/* The shipped DR1 tables match the totals in desi-facts.md. */
static void test_dr1_tables(void **state) {
    (void)state;
    assert_int_equal(ard__dr1_class_totals[ARD_CLASS_BGS], 6280198);
    assert_int_equal(ard__dr1_class_totals[ARD_CLASS_LRG], 2829611);
    assert_int_equal(ard__dr1_class_totals[ARD_CLASS_ELG], 3926345);
    assert_int_equal(ard__dr1_class_totals[ARD_CLASS_QSO], 1338945);
    int64_t sum = 0;
    for (int i = 0; i < ard__dr1_nofz_nbins; i++) {
        sum += ard__dr1_nofz_counts[ARD_CLASS_LRG][i];
    }
    assert_int_equal(sum, 2829611);
    int bright = 0, dark = 0;
    for (int i = 0; i < ard__dr1_density_npix; i++) {
        bright += ard__dr1_density_bright[i] > 0;
        dark += ard__dr1_density_dark[i] > 0;
        assert_true(i == 0 || ard__dr1_density_pix[i] > ard__dr1_density_pix[i - 1]);
    }
    assert_int_equal(bright, 13967); /* desi-facts.md: main-bright touches 13,967 pixels */
    assert_int_equal(dark, 13458);
    /* medians of the sampled n(z) near the DR1 medians (BGS 0.24, LRG 0.71, ELG 1.05, QSO 1.73) */
    sv_assert_near(ard__dr1_sample_z(ARD_CLASS_BGS, 0.5), 0.24, 0.02);
    sv_assert_near(ard__dr1_sample_z(ARD_CLASS_LRG, 0.5), 0.71, 0.02);
    sv_assert_near(ard__dr1_sample_z(ARD_CLASS_ELG, 0.5), 1.05, 0.02);
    sv_assert_near(ard__dr1_sample_z(ARD_CLASS_QSO, 0.5), 1.73, 0.03);
}

int sv_run_model_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_catalog_schema),
        cmocka_unit_test(test_dr1_tables),
    };
    return cmocka_run_group_tests_name("survey_model", tests, NULL, NULL);
}
