/* Special files (FIFO, device, socket, directory) are refused at open without blocking: a FIFO
 * without a writer made `open(O_RDONLY)` wait forever (issue 15, item 2). An alarm turns a
 * regression back into a hang into a failing test instead of a stuck suite. */
#include "rel.h"

#include "ard/parquet.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

typedef struct special_dir {
    char dir[256];
    char fifo[300];
} special_dir;

static int special_setup(void **state) {
    special_dir *s = calloc(1, sizeof *s);
    assert_non_null(s);
    const char *base = getenv("TMPDIR");
    snprintf(s->dir, sizeof s->dir, "%s/ard-rel-sp-XXXXXX", base && *base ? base : "/tmp");
    assert_non_null(mkdtemp(s->dir));
    snprintf(s->fifo, sizeof s->fifo, "%s/tile.parquet", s->dir);
    assert_int_equal(mkfifo(s->fifo, 0600), 0);
    alarm(20); /* a hang is a failure (SIGALRM ends the test executable) */
    *state = s;
    return 0;
}

static int special_teardown(void **state) {
    special_dir *s = *state;
    alarm(0);
    unlink(s->fifo);
    rmdir(s->dir);
    free(s);
    return 0;
}

static void test_parquet_open_fifo(void **state) {
    special_dir *s = *state;
    ard_parquet_file *pq = NULL;
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_parquet_open(s->fifo, NULL, &pq, &err), ARD_EIO);
    assert_null(pq);
    assert_non_null(strstr(err.msg, s->fifo));
    assert_non_null(strstr(err.msg, "FIFO"));
}

static void test_open_regular_kinds(void **state) {
    special_dir *s = *state;
    int fd = 7;
    int64_t size = -1;
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_file_open_regular("/dev/null", &fd, &size, &err), ARD_EIO);
    assert_int_equal(fd, -1);
    assert_non_null(strstr(err.msg, "/dev/null: is a character device"));
    ard_error_init(&err);
    assert_int_equal(ard_file_open_regular(s->dir, &fd, &size, &err), ARD_EIO);
    assert_non_null(strstr(err.msg, "is a directory"));

    /* A socket cannot be opened at all (ENXIO): an error, not a wait. */
    char sock[300];
    snprintf(sock, sizeof sock, "%s/sock", s->dir);
    int sfd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(sfd >= 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    assert_true(strlen(sock) < sizeof addr.sun_path);
    memcpy(addr.sun_path, sock, strlen(sock) + 1);
    assert_int_equal(bind(sfd, (struct sockaddr *)&addr, sizeof addr), 0);
    ard_error_init(&err);
    assert_int_equal(ard_file_open_regular(sock, &fd, &size, &err), ARD_EIO);
    assert_non_null(strstr(err.msg, sock));
    close(sfd);
    unlink(sock);

    /* A regular file still opens, blocking I/O, with its size. */
    char reg[300];
    snprintf(reg, sizeof reg, "%s/reg", s->dir);
    FILE *f = fopen(reg, "wb");
    assert_non_null(f);
    fputs("12345", f);
    fclose(f);
    assert_int_equal(ard_file_open_regular(reg, &fd, &size, NULL), ARD_OK);
    assert_true(fd >= 0);
    assert_int_equal(size, 5);
    close(fd);
    unlink(reg);
}

/* ard_file_map reads pipes (documented); a FIFO without a writer is empty, never a wait. */
static void test_file_map_fifo(void **state) {
    special_dir *s = *state;
    ard_mapped_file mf;
    assert_int_equal(ard_file_map(s->fifo, &mf, NULL), ARD_OK);
    assert_int_equal(mf.size, 0);
    ard_file_unmap(&mf);
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_file_map("/dev/zero", &mf, &err), ARD_EINVAL);
    assert_non_null(strstr(err.msg, "character device"));
}

int rel_special_run(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_parquet_open_fifo, special_setup, special_teardown),
        cmocka_unit_test_setup_teardown(test_open_regular_kinds, special_setup, special_teardown),
        cmocka_unit_test_setup_teardown(test_file_map_fifo, special_setup, special_teardown),
    };
    return cmocka_run_group_tests_name("special files", tests, NULL, NULL);
}
