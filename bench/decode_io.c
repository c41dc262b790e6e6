/* bench_decode_io: how to bring a column chunk of a file (in the page cache) into memory, by the
 * numbers, for the reader's choice in src/parquet/column_chunk.c (view_chunk): mmap (plain,
 * MAP_POPULATE, MADV_WILLNEED, MADV_SEQUENTIAL) + memcpy into a reused destination, pread into a
 * reused buffer + memcpy, pread straight into the destination, and memcpy alone; at chunk sizes from
 * 16 KiB to 32 MiB. Prints RESULT lines in GB per CPU-second of this process (user + system), which
 * a shared machine's load does not inflate the way it inflates wall time.
 *
 *   bench_decode_io [--reps R] [--bytes B] FILE
 *
 * Reads the first B bytes of FILE (default 256 MiB, at most the file's size). Timing is reported,
 * never asserted. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum method {
    MMAP,
    MMAP_POPULATE,
    MMAP_WILLNEED,
    MMAP_SEQUENTIAL,
    PREAD_COPY,
    PREAD_DIRECT,
    MEMCPY
};
static const char *const method_names[] = {
    "mmap",       "mmap_populate", "mmap_willneed", "mmap_sequential",
    "pread_copy", "pread_direct",  "memcpy"};

static double cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void escape(void *p) {
    __asm__ volatile("" : : "r"(p) : "memory");
}

static int read_all(int fd, char *dst, size_t len, off_t off) {
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(fd, dst + done, len - done, off + (off_t)done);
        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    return 0;
}

/* One chunk by `method` into dst (buf: the reused read buffer, src: memcpy's source). */
static int one_chunk(int fd, enum method m, size_t len, off_t off, char *dst, char *buf,
                     const char *src) {
    if (m == PREAD_COPY) {
        if (read_all(fd, buf, len, off) != 0)
            return -1;
        memcpy(dst, buf, len);
        return 0;
    }
    if (m == PREAD_DIRECT)
        return read_all(fd, dst, len, off);
    if (m == MEMCPY) {
        memcpy(dst, src, len);
        return 0;
    }
    char *p =
        mmap(NULL, len, PROT_READ, MAP_PRIVATE | (m == MMAP_POPULATE ? MAP_POPULATE : 0), fd, off);
    if (p == MAP_FAILED)
        return -1;
    if (m == MMAP_WILLNEED)
        madvise(p, len, MADV_WILLNEED);
    if (m == MMAP_SEQUENTIAL)
        madvise(p, len, MADV_SEQUENTIAL);
    memcpy(dst, p, len);
    munmap(p, len);
    return 0;
}

int main(int argc, char **argv) {
    long reps = 3;
    size_t total = (size_t)256 << 20;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = strtol(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--bytes") && i + 1 < argc)
            total = (size_t)strtoll(argv[++i], NULL, 10);
        else
            path = argv[i];
    }
    int fd = path ? open(path, O_RDONLY) : -1;
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        fprintf(stderr, "usage: bench_decode_io [--reps R] [--bytes B] FILE\n");
        return 2;
    }
    if ((off_t)total > sb.st_size)
        total = (size_t)sb.st_size;
    const size_t max_chunk = (size_t)32 << 20;
    char *dst = malloc(max_chunk), *buf = malloc(max_chunk), *src = malloc(max_chunk);
    if (!dst || !buf || !src)
        return 1;
    memset(dst, 1, max_chunk); /* pre-faulted: a decoder's reused output and read buffer */
    memset(buf, 1, max_chunk);
    memset(src, 2, max_chunk);
    const size_t sizes[] = {(size_t)16 << 10, (size_t)256 << 10, (size_t)1 << 20, (size_t)4 << 20,
                            max_chunk};
    for (long rep = 0; rep < reps; rep++) {
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            size_t chunk = sizes[k], chunks = total / chunk;
            for (int m = MMAP; m <= MEMCPY; m++) {
                double c0 = cpu_seconds();
                for (size_t i = 0; i < chunks; i++) {
                    if (one_chunk(fd, (enum method)m, chunk, (off_t)(i * chunk), dst, buf, src) !=
                        0) {
                        fprintf(stderr, "bench_decode_io: %s failed\n", method_names[m]);
                        return 1;
                    }
                    escape(dst);
                }
                double cpu = cpu_seconds() - c0;
                printf("RESULT tool=io bench=chunk_io method=%s chunk=%zu run=%ld bytes=%zu "
                       "cpu_seconds=%.6f gb_per_cpu_s=%.3f\n",
                       method_names[m], chunk, rep, chunks * chunk, cpu,
                       cpu > 0 ? (double)(chunks * chunk) / cpu / 1e9 : 0.0);
                fflush(stdout);
            }
        }
    }
    free(dst);
    free(buf);
    free(src);
    close(fd);
    return 0;
}
