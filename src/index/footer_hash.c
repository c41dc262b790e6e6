/* Fingerprinting a Parquet file by its footer bytes without decoding anything (sync's change
 * detection). */
#include "index_int.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uint64_t fnv1a(uint64_t h, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        h = (h ^ p[i]) * 1099511628211ull;
    }
    return h;
}

ard_status ard__footer_hash(const char *path, char out[17], ard_error *err) {
    int fd = -1;
    ard_status st = ard_file_open_regular(path, &fd, NULL, err); /* never blocks on a FIFO */
    if (st != ARD_OK) {
        return st;
    }
    struct stat sb;
    uint8_t tail[8];
    uint8_t *footer = NULL;
    if (fstat(fd, &sb) != 0 || sb.st_size < 12) {
        st = ard_error_set(err, ARD_ECORRUPT, "%s: too small to be a Parquet file", path);
    } else if ((st = ard_pread_full(fd, tail, 8, sb.st_size - 8, path, err)) == ARD_OK) {
        uint32_t len = (uint32_t)tail[0] | (uint32_t)tail[1] << 8 | (uint32_t)tail[2] << 16 |
                       (uint32_t)tail[3] << 24;
        if (memcmp(tail + 4, "PAR1", 4) != 0 || (int64_t)len + 12 > sb.st_size) {
            st = ard_error_set(err, ARD_ECORRUPT, "%s: no Parquet footer at byte %lld", path,
                               (long long)sb.st_size - 8);
        } else if (!(footer = ard_malloc(len ? len : 1))) {
            st = ard_error_set(err, ARD_ENOMEM, "out of memory");
        } else {
            st = ard_pread_full(fd, footer, len, sb.st_size - 8 - len, path, err);
        }
        if (st == ARD_OK) {
            uint64_t h = fnv1a(fnv1a(1469598103934665603ull, footer, len), tail, 8);
            for (int i = 15; i >= 0; i--, h >>= 4) {
                out[i] = "0123456789abcdef"[h & 15];
            }
            out[16] = '\0';
        }
    }
    ard_free(footer);
    close(fd);
    return st;
}
