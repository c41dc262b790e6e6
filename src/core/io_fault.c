/* I/O fault injection (see ard_io_fail_nth in ard/core.h): tests make the nth open, read, write,
 * fsync or rename of core's file functions fail, to check that every writer reports the file and
 * leaves the previous state intact. Disarmed it costs one relaxed atomic load per system call. */
#include "core_int.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static atomic_int armed_ops;
static atomic_llong fail_at, calls;
static atomic_int fail_errno;
static pthread_once_t env_once = PTHREAD_ONCE_INIT;

static int32_t parse_ops(const char *s, size_t n) {
    static const char *const names[] = {"open", "read", "write", "fsync", "rename"};
    int32_t ops = 0;
    while (n > 0) {
        const char *plus = memchr(s, '+', n);
        size_t len = plus ? (size_t)(plus - s) : n;
        if (len == 3 && strncmp(s, "any", 3) == 0) {
            ops |= ARD_IO_ANY;
        }
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            if (strlen(names[i]) == len && strncmp(s, names[i], len) == 0) {
                ops |= 1 << i;
            }
        }
        s += len + (plus != NULL);
        n -= len + (plus != NULL);
    }
    return ops;
}

static int parse_errno(const char *s) {
    return strcmp(s, "kill") == 0     ? ARD_IO_KILL
           : strcmp(s, "EIO") == 0    ? EIO
           : strcmp(s, "EDQUOT") == 0 ? EDQUOT
           : strcmp(s, "short") == 0  ? ARD_IO_SHORT_WRITE
                                      : ENOSPC;
}

/* ARD_IO_FAIL="KINDS:N:ERRNO" */
static void arm_from_env(void) {
    const char *v = getenv("ARD_IO_FAIL");
    const char *c1 = v ? strchr(v, ':') : NULL;
    if (!c1) {
        return;
    }
    char *end = NULL;
    long long nth = strtoll(c1 + 1, &end, 10);
    if (end == c1 + 1 || nth < 0) {
        return;
    }
    int e = *end == ':' ? parse_errno(end + 1) : ENOSPC;
    atomic_store(&fail_errno, e);
    atomic_store(&fail_at, nth);
    atomic_store(&calls, 0);
    atomic_store(&armed_ops, parse_ops(v, (size_t)(c1 - v)));
}

void ard_io_fail_nth(int32_t ops, int64_t nth, int32_t sys_errno) {
    pthread_once(&env_once, arm_from_env);
    atomic_store(&armed_ops, 0);
    atomic_store(&fail_errno, sys_errno);
    atomic_store(&fail_at, nth);
    atomic_store(&calls, 0);
    atomic_store(&armed_ops, ops);
}

int64_t ard_io_calls(void) {
    return atomic_load(&calls);
}

int ard__io_fault(int32_t op, int *short_write) {
    pthread_once(&env_once, arm_from_env);
    if (!(atomic_load_explicit(&armed_ops, memory_order_relaxed) & op)) {
        return 0;
    }
    int64_t k = atomic_fetch_add(&calls, 1) + 1;
    if (k != atomic_load(&fail_at)) {
        return 0;
    }
    int e = atomic_load(&fail_errno);
    if (e == ARD_IO_KILL) { /* a kill -9 at a chosen point of the I/O: nothing runs after it */
        raise(SIGKILL);
    }
    if (e == ARD_IO_SHORT_WRITE) {
        if (short_write) {
            *short_write = op == ARD_IO_WRITE;
        }
        return ENOSPC;
    }
    return e > 0 ? e : EIO;
}
