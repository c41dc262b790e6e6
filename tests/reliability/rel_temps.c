/* Stale temporary files (issue 15): a killed atomic writer leaves ".NAME.tmp.<boot>.<pid>.<start>.<n>"
 * behind. ard_atomic_sweep removes exactly those of writers that are dead on this machine: a live
 * process's (pid and start time match), another boot's or machine's, a name in another form, a
 * link, a directory or a file that is not hidden stays. The sweep runs where the issue asks: the
 * next atomic write into the directory, the next sync of the dataset, the next producer run over a
 * killed producer's directory. */
#include "rel.h"

#include "ard/dataset.h"
#include "common/ard_test.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void read_text(const char *path, char *out, size_t cap) {
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(out, 1, cap - 1, f);
    fclose(f);
    out[n] = '\0';
}

static void our_boot(char boot[9]) {
    char text[64];
    read_text("/proc/sys/kernel/random/boot_id", text, sizeof text);
    memcpy(boot, text, 8);
    boot[8] = '\0';
}

static long long start_of(pid_t pid) {
    char path[64], text[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    read_text(path, text, sizeof text);
    const char *p = strrchr(text, ')') + 2; /* field 3 */
    for (int field = 3; field < 22; field++) {
        p = strchr(p, ' ') + 1;
    }
    return strtoll(p, NULL, 10);
}

static pid_t dead_pid(void) {
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        _exit(0);
    }
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    return pid;
}

static pid_t live_child(void) {
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlives a failed test */
        pause();
        _exit(0);
    }
    return pid;
}

static void end_child(pid_t pid) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static void touch(const char *dir, const char *name) {
    char path[1024];
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_true(n > 0 && (size_t)n < sizeof path);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("partial", f);
    fclose(f);
}

static int exists(const char *dir, const char *name) {
    char path[1024];
    struct stat sb;
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_true(n > 0 && (size_t)n < sizeof path);
    return lstat(path, &sb) == 0;
}

static char *scratch(void) {
    char *dir = ard_test_tmpdir("rel-temps");
    assert_non_null(dir);
    return dir;
}

static void test_sweep_rules(void **state) {
    (void)state;
    char *dir = scratch();
    char boot[9], other[9], name[32][160], sub[1024], hid[1024];
    our_boot(boot);
    memcpy(other, boot, 9);
    other[0] = other[0] == 'f' ? '0' : 'f';
    pid_t dead = dead_pid(), live = live_child();
    long long live_start = start_of(live), self_start = start_of(getpid());
    long dp = (long)dead, lp = (long)live, sp = (long)getpid();
    /* removed */
    snprintf(name[0], 160, ".a.parquet.tmp.%s.%ld.%lld.0", boot, dp, 12345LL);
    snprintf(name[1], 160, ".b.parquet.tmp.%s.%ld.%lld.4", boot, lp, live_start + 1); /* reused */
    snprintf(name[2], 160, ".x.tmp.y.tmp.%s.%ld.1.0", boot, dp); /* ".tmp." in the name */
    /* kept */
    snprintf(name[3], 160, ".c.parquet.tmp.%s.%ld.%lld.0", boot, lp, live_start);
    snprintf(name[4], 160, ".d.parquet.tmp.%s.%ld.%lld.0", boot, sp, self_start);
    snprintf(name[5], 160, ".e.parquet.tmp.%s.%ld.1.0", other, dp); /* another machine/boot */
    snprintf(name[6], 160, ".f.parquet.tmp.%ld.3", dp);             /* an older version's */
    snprintf(name[7], 160, "g.parquet.tmp.%s.%ld.1.0", boot, dp);   /* not hidden */
    snprintf(name[8], 160, ".h.parquet.tmp.%s.%ld.1.x", boot, dp);  /* not the form */
    snprintf(name[9], 160, ".tmp.%s.%ld.1.0", boot, dp);            /* no file name */
    for (int i = 0; i < 10; i++) {
        touch(dir, name[i]);
    }
    char link[1024], dlink[160], ddir[160], path[1024];
    snprintf(dlink, sizeof dlink, ".l.tmp.%s.%ld.1.0", boot, dp);
    snprintf(link, sizeof link, "%s/%s", dir, dlink);
    assert_int_equal(symlink(name[3], link), 0);
    snprintf(ddir, sizeof ddir, ".m.tmp.%s.%ld.1.0", boot, dp);
    snprintf(path, sizeof path, "%s/%s", dir, ddir);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(sub, sizeof sub, "%s/tiles", dir);
    snprintf(hid, sizeof hid, "%s/.hidden", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    assert_int_equal(mkdir(hid, 0755), 0);
    touch(sub, name[0]);
    touch(hid, name[0]);

    int64_t removed = -1;
    assert_int_equal(ard_atomic_sweep(dir, 0, &removed, NULL), ARD_OK);
    assert_int_equal(removed, 3);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(exists(dir, name[i]), i >= 3);
    }
    assert_true(exists(dir, dlink) && exists(dir, ddir));
    assert_true(exists(sub, name[0])); /* not recursive */
    assert_int_equal(ard_atomic_sweep(dir, 1, &removed, NULL), ARD_OK);
    assert_int_equal(removed, 1);
    assert_false(exists(sub, name[0]));
    assert_true(exists(hid, name[0])); /* hidden directories are not entered */
    end_child(live);
    assert_int_equal(ard_atomic_sweep(dir, 0, &removed, NULL), ARD_OK); /* its writer died now */
    assert_int_equal(removed, 1);
    assert_false(exists(dir, name[3]));
    assert_int_equal(ard_atomic_sweep(NULL, 0, &removed, NULL), ARD_EINVAL);
    snprintf(path, sizeof path, "%s/missing", dir);
    assert_int_equal(ard_atomic_sweep(path, 1, &removed, NULL), ARD_OK);
    assert_int_equal(removed, 0);
    ard_test_rmtree(dir);
    free(dir);
}

/* A live atomic writer's own temporary has the new form and survives every sweep; once the writer
 * is gone (here: the name of a dead process), the next atomic write into the directory removes it. */
static void test_next_write_sweeps(void **state) {
    (void)state;
    char *dir = scratch();
    char boot[9], path[1024], stale[160], prefix[160];
    our_boot(boot);
    snprintf(path, sizeof path, "%s/out.parquet", dir);
    ard_atomic_file *f = NULL;
    assert_int_equal(ard_atomic_open(path, &f, NULL), ARD_OK);
    snprintf(prefix, sizeof prefix, ".out.parquet.tmp.%s.%ld.%lld.", boot, (long)getpid(),
             start_of(getpid()));
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "test -f '%s'/'%s'*", dir, prefix);
    assert_int_equal(rel_system(cmd), 0); /* the live temporary, in the documented form */
    int64_t removed = -1;
    assert_int_equal(ard_atomic_sweep(dir, 1, &removed, NULL), ARD_OK);
    assert_int_equal(removed, 0);
    assert_int_equal(ard_atomic_write(f, "abc", 3, NULL), ARD_OK);
    assert_int_equal(ard_atomic_commit(f, NULL), ARD_OK);

    snprintf(stale, sizeof stale, ".other.parquet.tmp.%s.%ld.7.0", boot, (long)dead_pid());
    touch(dir, stale);
    assert_int_equal(ard_file_write_atomic(path, "abcd", 4, NULL), ARD_OK);
    assert_false(exists(dir, stale));
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A '%s' | grep -v '^out.parquet$')\"", dir);
    assert_int_equal(rel_system(cmd), 0); /* nothing else left */
    ard_test_rmtree(dir);
    free(dir);
}

/* The next sync of a dataset, and the next producer run over a killed producer's directory,
 * remove the temporaries killed writers left anywhere in it. */
static void test_sync_and_producer_sweep(void **state) {
    (void)state;
    rel_env *env = rel_env_new(0);
    char boot[9], stale[160], tiles[512];
    our_boot(boot);
    snprintf(stale, sizeof stale, ".9.parquet.tmp.%s.%ld.7.0", boot, (long)dead_pid());
    snprintf(tiles, sizeof tiles, "%s/tiles", env->dir);
    touch(env->dir, stale);
    touch(tiles, stale);
    /* sync's one walk sweeps every directory, not only the parts it lists; never through a link
     * (a directory linked into tiles/ is listed, not swept) */
    char figures[600], away[600], link[700];
    snprintf(figures, sizeof figures, "%s/figures", env->dir);
    snprintf(away, sizeof away, "%s.away", env->dir);
    snprintf(link, sizeof link, "%s/linked", tiles);
    assert_int_equal(mkdir(figures, 0755) == 0 || errno == EEXIST, 1);
    assert_int_equal(mkdir(away, 0755), 0);
    assert_int_equal(symlink(away, link), 0);
    touch(figures, stale);
    touch(away, stale);
    ard_error err;
    ard_error_init(&err);
    ard_sync_report rep;
    assert_int_equal(rel_sync(env, &rep, &err), ARD_OK);
    assert_false(exists(env->dir, stale));
    assert_false(exists(tiles, stale));
    assert_false(exists(figures, stale));
    assert_true(exists(away, stale));
    assert_int_equal(rep.files_failed, 0);
    assert_int_equal(unlink(link), 0);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", away);
    assert_int_equal(rel_system(cmd), 0);

    touch(tiles, stale);
    assert_int_equal(ard_dataset_check_fresh(env->dir, &err), ARD_EEXIST);
    assert_false(exists(tiles, stale));
    rel_env_free(env);
}

int rel_temps_run(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sweep_rules),
        cmocka_unit_test(test_next_write_sweeps),
        cmocka_unit_test(test_sync_and_producer_sweep),
    };
    return cmocka_run_group_tests_name("temps", tests, NULL, NULL);
}
