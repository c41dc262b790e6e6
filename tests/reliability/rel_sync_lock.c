/* Syncs of one index run one at a time (issue 15, item 6): a sync that finds the lock held says
 * so through ard_sync_options.on_notice, waits, and then sees what the other indexed. */
#include "rel.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

typedef struct sync_job {
    const rel_env *env;
    atomic_int noticed;
    char message[600];
    ard_status st;
    ard_sync_report rep;
} sync_job;

static void on_notice(void *ctx, const char *message) {
    sync_job *job = ctx;
    snprintf(job->message, sizeof job->message, "%s", message);
    atomic_store(&job->noticed, 1);
}

static void *run_sync(void *arg) {
    sync_job *job = arg;
    ard_index *idx = NULL;
    job->st = ard_index_open(job->env->dir, NULL, 0, &idx, NULL);
    if (job->st == ARD_OK) {
        ard_sync_options o = {0};
        o.quiet = 1;
        o.threads = 1;
        o.on_notice = on_notice;
        o.notice_ctx = job;
        job->st = ard_index_sync(idx, job->env->dir, &o, &job->rep, NULL);
    }
    ard_index_close(idx);
    return NULL;
}

static void test_sync_waits(void **state) {
    (void)state;
    rel_env *env = rel_env_new(1); /* synced once: ard.db exists */
    char lock_path[400];
    snprintf(lock_path, sizeof lock_path, "%s/ard.db.sync-lock", env->dir);
    int fd = open(lock_path, O_RDWR | O_CREAT, 0644);
    assert_true(fd >= 0);
    assert_int_equal(flock(fd, LOCK_EX), 0); /* "another sync" */
    sync_job job = {.env = env};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, run_sync, &job), 0);
    for (int i = 0; i < 3000 && !atomic_load(&job.noticed); i++) {
        usleep(10000);
    }
    assert_true(atomic_load(&job.noticed));
    assert_non_null(strstr(job.message, "waiting for another sync"));
    assert_non_null(strstr(job.message, env->dir));
    usleep(100000);
    assert_int_equal(job.rep.run_id, 0); /* still waiting: nothing done yet */
    close(fd);                           /* the other sync ends */
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(job.st, ARD_OK);
    assert_int_equal(job.rep.files_failed, 0);
    assert_int_equal(job.rep.files_added, 0);
    assert_int_equal(job.rep.files_unchanged, job.rep.files_seen);
    rel_env_free(env);
}

int rel_sync_lock_run(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sync_waits),
    };
    return cmocka_run_group_tests_name("sync lock", tests, NULL, NULL);
}
