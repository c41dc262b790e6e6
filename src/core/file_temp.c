/* Temporary files of the atomic writer, and removing those of dead writers. A temporary is named
 * ".<name>.tmp.<boot>.<pid>.<start>.<n>": the machine's boot id (8 hex digits), the writer's pid
 * and start time (clock ticks after boot, /proc/PID/stat field 22) and a counter. A temporary is
 * stale only when its boot id is this machine's current one and no process with that pid and that
 * start time exists: a live writer (this process included) or a writer on another machine sharing
 * the file system is never touched, and a reused pid does not make a dead writer's file look live.
 * Names in any other form (older versions, other tools) are left alone. */
#include "core_int.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { SWEEP_MAX_DEPTH = 8 };

/* Reads up to cap - 1 bytes of a small /proc file into out (NUL-terminated); 0 on success. */
static int read_small(const char *path, char *out, size_t cap) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    ssize_t n = read(fd, out, cap - 1);
    close(fd);
    if (n <= 0) {
        return -1;
    }
    out[n] = '\0';
    return 0;
}

/* The first 8 hex digits of the boot id, or -1 when unknown. */
static int boot_id(char out[9]) {
    char text[64];
    if (read_small("/proc/sys/kernel/random/boot_id", text, sizeof text) != 0) {
        return -1;
    }
    for (int i = 0; i < 8; i++) {
        if (!isxdigit((unsigned char)text[i])) {
            return -1;
        }
        out[i] = (char)tolower((unsigned char)text[i]);
    }
    out[8] = '\0';
    return 0;
}

/* Start time of process `pid` (field 22 of /proc/PID/stat); -1 when there is no such process. */
static long long start_time(long pid) {
    char path[64], text[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    if (read_small(path, text, sizeof text) != 0) {
        return -1;
    }
    const char *p = strrchr(text, ')'); /* the command name may hold spaces and parentheses */
    if (!p) {
        return -1;
    }
    p++;
    for (int field = 3; field < 22 && *p; field++) { /* skip fields 3..21 */
        while (*p == ' ') {
            p++;
        }
        while (*p && *p != ' ') {
            p++;
        }
    }
    char *end = NULL;
    long long t = strtoll(p, &end, 10);
    return end != p ? t : -1;
}

int ard__temp_tag(char *out, size_t cap) {
    char boot[9];
    long pid = (long)getpid();
    long long start = start_time(pid);
    if (boot_id(boot) != 0 || start < 0) {
        snprintf(out, cap, "x.%ld", pid); /* no /proc: a name no sweep will ever remove */
        return -1;
    }
    snprintf(out, cap, "%s.%ld.%lld", boot, pid, start);
    return 0;
}

/* Parses "<boot>.<pid>.<start>.<n>" (the part after ".tmp."); 0 when it has that form. */
static int parse_tag(const char *s, char boot[9], long *pid, long long *start) {
    size_t i = 0;
    for (; i < 8; i++) {
        if (!isxdigit((unsigned char)s[i])) {
            return -1;
        }
        boot[i] = s[i];
    }
    boot[8] = '\0';
    if (s[8] != '.') {
        return -1;
    }
    char *end = NULL;
    *pid = strtol(s + 9, &end, 10);
    if (end == s + 9 || *end != '.' || *pid <= 0) {
        return -1;
    }
    const char *t = end + 1;
    *start = strtoll(t, &end, 10);
    if (end == t || *end != '.' || *start < 0) {
        return -1;
    }
    t = end + 1;
    strtoul(t, &end, 10);
    return end != t && *end == '\0' && isdigit((unsigned char)*t) ? 0 : -1;
}

/* This process's start time, read once (a batch's deferred temporaries are seen by every later
 * open in their directory: a /proc read each made a 9,262-tile survey quadratic). */
static long long own_start_time(void) {
    static atomic_llong cached = -2;
    long long t = atomic_load(&cached);
    if (t == -2) {
        t = start_time((long)getpid());
        atomic_store(&cached, t);
    }
    return t;
}

/* 1 when `name` is a temporary of a writer that is dead on this machine. */
static int is_stale(const char *name, const char *our_boot) {
    if (name[0] != '.') {
        return 0;
    }
    const char *tmp = NULL;
    for (const char *p = strstr(name, ".tmp."); p; p = strstr(p + 1, ".tmp.")) {
        tmp = p; /* the last one: the file's own name may contain ".tmp." */
    }
    char boot[9];
    long pid = 0;
    long long start = 0;
    if (!tmp || tmp == name || parse_tag(tmp + 5, boot, &pid, &start) != 0) {
        return 0;
    }
    if (strcmp(boot, our_boot) != 0) {
        return 0;
    }
    /* this process (pid and start time match): alive, without reading /proc */
    return pid == (long)getpid() && start == own_start_time() ? 0 : start_time(pid) != start;
}

void ard_atomic_sweeper_init(ard_atomic_sweeper *s) {
    memset(s, 0, sizeof *s);
    s->active = boot_id(s->boot) == 0; /* no boot id: no temporary can be proven stale */
}

int32_t ard_atomic_sweep_entry(const ard_atomic_sweeper *s, int dirfd, const char *name) {
    struct stat sb;
    if (!s->active || !is_stale(name, s->boot) || /* cheap for every other name: no stat */
        fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(sb.st_mode)) {
        return 0;
    }
    return unlinkat(dirfd, name, 0) == 0;
}

static ard_status sweep(int dirfd, const char *dir, int depth, int32_t recursive,
                        const ard_atomic_sweeper *s, int64_t *removed, ard_error *err) {
    DIR *d = fdopendir(dirfd);
    if (!d) {
        close(dirfd);
        return ard_error_set_errno(err, ARD_EIO, errno, "%s: opendir", dir);
    }
    ard_status st = ARD_OK;
    struct dirent *e;
    while (st == ARD_OK && (e = readdir(d)) != NULL) {
        const char *n = e->d_name;
        if (n[0] == '.') { /* a temporary, or hidden: hidden directories are not entered */
            *removed += ard_atomic_sweep_entry(s, dirfd, n);
            continue;
        }
        if (!recursive || depth >= SWEEP_MAX_DEPTH ||
            (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN)) {
            continue; /* only directories are descended into: readdir's type spares the lstat */
        }
        int sub = openat(dirfd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub >= 0) {
            st = sweep(sub, dir, depth + 1, recursive, s, removed, err);
        } else if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP) {
            /* (not a directory, a link, or vanished: nothing to sweep) */
            st = ard_error_set_errno(err, ARD_EIO, errno, "%s: opendir of %s below it", dir, n);
        }
    }
    closedir(d);
    return st;
}

ard_status ard_atomic_sweep(const char *dir, int32_t recursive, int64_t *removed, ard_error *err) {
    int64_t count = 0;
    if (removed) {
        *removed = 0;
    }
    if (!dir) {
        return ard_error_set(err, ARD_EINVAL, "ard_atomic_sweep: dir is NULL");
    }
    ard_atomic_sweeper s;
    ard_atomic_sweeper_init(&s);
    if (!s.active) {
        return ARD_OK;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return errno == ENOENT ? ARD_OK
                               : ard_error_set_errno(err, ARD_EIO, errno, "%s: opendir", dir);
    }
    ard_status st = sweep(fd, dir, 0, recursive, &s, &count, err);
    if (removed) {
        *removed = count;
    }
    return st;
}
