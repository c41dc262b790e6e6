/* The preamble every science stage call shares (src/science/stage_begin.c): fof, anomaly
 * train/score and cosmicweb train/predict refuse missing options, a missing dataset and a run id
 * the result-run API would refuse, before any work, with ARD_EINVAL naming the stage, and zero the
 * caller's report first. */
#include "sci_tests.h"

#include "ard/science.h"

#include <string.h>

static void assert_msg(const ard_error *err, const char *part) {
    if (!strstr(err->msg, part)) {
        fail_msg("expected '%s' in '%s'", part, err->msg);
    }
}

static void test_fof_preamble(void **state) {
    (void)state;
    ard_error err;
    ard_error_init(&err);
    ard_fof_stage_report rep;
    memset(&rep, 0xab, sizeof rep);
    assert_int_equal(ard_fof_stage_run(NULL, &rep, NULL, NULL, &err), ARD_EINVAL);
    assert_msg(&err, "fof: the dataset is not set");
    assert_int_equal(rep.galaxies, 0); /* zeroed */
    ard_fof_stage_options o;
    ard_fof_stage_options_init(&o);
    o.dataset = "/nonexistent/ard-stage-begin";
    o.run_id = "a/b";
    ard_error_init(&err);
    assert_int_equal(ard_fof_stage_run(&o, NULL, NULL, NULL, &err), ARD_EINVAL);
    assert_msg(&err, "fof: run id 'a/b' is not 1-64 bytes");
}

static void test_anomaly_preamble(void **state) {
    (void)state;
    ard_error err;
    ard_error_init(&err);
    ard_anomaly_report rep;
    memset(&rep, 0xab, sizeof rep);
    assert_int_equal(ard_anomaly_train(NULL, &rep, &err), ARD_EINVAL);
    assert_msg(&err, "anomaly: the dataset is not set");
    assert_int_equal(rep.spectra, 0);
    assert_int_equal(rep.run[0], '\0');
    ard_anomaly_options o;
    ard_anomaly_options_init(&o);
    o.dataset = "/nonexistent/ard-stage-begin";
    o.run = "x y";
    ard_error_init(&err);
    assert_int_equal(ard_anomaly_train(&o, &rep, &err), ARD_EINVAL);
    assert_msg(&err, "anomaly: run id 'x y' is not 1-64 bytes");
    ard_error_init(&err);
    assert_int_equal(ard_anomaly_score(&o, NULL, &err), ARD_EINVAL);
    assert_msg(&err, "anomaly: run id 'x y'");
    o.run = NULL;
    o.score_run = "../up";
    ard_error_init(&err);
    assert_int_equal(ard_anomaly_score(&o, &rep, &err), ARD_EINVAL);
    assert_msg(&err, "anomaly: score run id '../up' is not 1-64 bytes");
}

static void test_cosmicweb_preamble(void **state) {
    (void)state;
    ard_error err;
    ard_error_init(&err);
    ard_cosmicweb_stage_report rep;
    memset(&rep, 0xab, sizeof rep);
    assert_int_equal(ard_cosmicweb_stage_train(NULL, &rep, &err), ARD_EINVAL);
    assert_msg(&err, "cosmicweb: the dataset is not set");
    assert_int_equal(rep.galaxies, 0);
    memset(&rep, 0xab, sizeof rep);
    assert_int_equal(ard_cosmicweb_stage_predict(NULL, &rep, NULL), ARD_EINVAL);
    assert_int_equal(rep.galaxies, 0);
    ard_cosmicweb_stage_options o;
    ard_cosmicweb_stage_options_init(&o);
    o.dataset = "/nonexistent/ard-stage-begin";
    o.run_id = "";
    ard_error_init(&err);
    assert_int_equal(ard_cosmicweb_stage_predict(&o, NULL, &err), ARD_EINVAL);
    assert_msg(&err, "cosmicweb: run id '' is not 1-64 bytes");
    o.run_id = "ok";
    o.val_frac = 0.9;
    o.test_frac = 0.9;
    ard_error_init(&err);
    assert_int_equal(ard_cosmicweb_stage_train(&o, NULL, &err), ARD_EINVAL);
    assert_msg(&err, "split fractions");
}

int sci_run_stage_begin_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fof_preamble),
        cmocka_unit_test(test_anomaly_preamble),
        cmocka_unit_test(test_cosmicweb_preamble),
    };
    return cmocka_run_group_tests_name("stage_begin", tests, NULL, NULL);
}
