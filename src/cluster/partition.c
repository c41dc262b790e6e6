/* Work partitions (the public name of core's byte partitioner, ard_partition_bytes) and CPU
 * pinning: pure local computations every rank repeats identically, so neither needs MPI. */
#include "cluster_int.h"

#include <errno.h>
#include <sched.h>
#include <string.h>

ard_status ard_cluster_partition(const int64_t *bytes, int64_t n, int32_t rank, int32_t size,
                                 int64_t *first, int64_t *count, ard_error *err) {
    return ard_partition_bytes(bytes, n, rank, size, first, count, err);
}

/* Parses one group "0-3,6" into set. */
static ard_status parse_group(const char *s, size_t len, cpu_set_t *set, ard_error *err) {
    CPU_ZERO(set);
    size_t i = 0;
    int any = 0;
    while (i < len) {
        long a = -1, b = -1;
        size_t start = i;
        while (i < len && s[i] >= '0' && s[i] <= '9' && a < 100000) {
            a = (a < 0 ? 0 : a * 10) + (s[i++] - '0');
        }
        if (i < len && s[i] == '-') {
            i++;
            while (i < len && s[i] >= '0' && s[i] <= '9' && b < 100000) {
                b = (b < 0 ? 0 : b * 10) + (s[i++] - '0');
            }
        } else {
            b = a;
        }
        if (a < 0 || b < a || b >= CPU_SETSIZE || (i < len && s[i] != ',')) {
            return ard_error_set(err, ARD_EINVAL, "--cpus: bad CPU list \"%.*s\" at \"%.*s\"",
                                 (int)len, s, (int)(len - start), s + start);
        }
        for (long c = a; c <= b; c++) {
            CPU_SET((int)c, set);
        }
        any = 1;
        i += i < len; /* the comma */
    }
    return any ? ARD_OK : ard_error_set(err, ARD_EINVAL, "--cpus: empty CPU list");
}

/* "0-2,5" from a set. */
static void format_set(const cpu_set_t *set, char *out, size_t cap) {
    size_t at = 0;
    out[0] = '\0';
    for (int c = 0; c < CPU_SETSIZE && at + 1 < cap; c++) {
        if (!CPU_ISSET(c, set)) {
            continue;
        }
        int end = c;
        while (end + 1 < CPU_SETSIZE && CPU_ISSET(end + 1, set)) {
            end++;
        }
        int n = end > c ? snprintf(out + at, cap - at, "%s%d-%d", at ? "," : "", c, end)
                        : snprintf(out + at, cap - at, "%s%d", at ? "," : "", c);
        at += n > 0 ? (size_t)n : 0;
        at = at < cap ? at : cap - 1;
        c = end;
    }
}

ard_status ard_cluster_pin_cpus(const char *list, int32_t rank, char *applied, size_t cap,
                                ard_error *err) {
    if (!list || rank < 0) {
        return ard_error_set(err, ARD_EINVAL, "--cpus: no CPU list");
    }
    int32_t groups = 1;
    for (const char *p = list; *p; p++) {
        groups += *p == ':';
    }
    const char *g = list;
    for (int32_t k = rank % groups; k > 0; k--) {
        g = strchr(g, ':') + 1;
    }
    const char *end = strchr(g, ':');
    size_t len = end ? (size_t)(end - g) : strlen(g);
    cpu_set_t set;
    ard_status st = parse_group(g, len, &set, err);
    if (st != ARD_OK) {
        return st;
    }
    if (sched_setaffinity(0, sizeof set, &set) != 0) {
        return ard_error_set_errno(err, ARD_EINVAL, errno, "--cpus %.*s: sched_setaffinity",
                                   (int)len, g);
    }
    if (applied && cap > 0) {
        cpu_set_t now;
        CPU_ZERO(&now);
        if (sched_getaffinity(0, sizeof now, &now) != 0) {
            now = set;
        }
        format_set(&now, applied, cap);
    }
    return ARD_OK;
}
