/* Scratch directories, whole-file I/O and the corpus/source directories for every test (see
 * ard_test.h). Tests may use libc allocation directly: these buffers never cross into libard. */
#include "ard_test.h"

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *ard_test_tmpdir(const char *tag) {
    const char *base = getenv("TMPDIR");
    if (!base || !*base) {
        base = "/tmp";
    }
    size_t len = strlen(base) + strlen(tag ? tag : "test") + 16;
    char *p = malloc(len);
    if (!p) {
        return NULL;
    }
    snprintf(p, len, "%s/ard-%s-XXXXXX", base, tag ? tag : "test");
    if (!mkdtemp(p)) {
        free(p);
        return NULL;
    }
    return p;
}

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void ard_test_rmtree(const char *path) {
    if (path) {
        nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    }
}

uint8_t *ard_test_read_file(const char *path, size_t *size) {
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        return NULL;
    }
    uint8_t *data = NULL;
    long len = -1;
    if (fseek(fp, 0, SEEK_END) == 0) {
        len = ftell(fp);
    }
    if (len >= 0 && fseek(fp, 0, SEEK_SET) == 0) {
        data = malloc((size_t)len + 1);
    }
    if (data && len > 0 && fread(data, 1, (size_t)len, fp) != (size_t)len) {
        free(data);
        data = NULL;
    }
    fclose(fp);
    if (data) {
        data[len] = 0;
        if (size) {
            *size = (size_t)len;
        }
    }
    return data;
}

int ard_test_write_file(const char *path, const void *data, size_t len) {
    FILE *fp = fopen(path, "wb");
    if (!fp) {
        return -1;
    }
    int ok = len == 0 || fwrite(data, 1, len, fp) == len;
    return fclose(fp) == 0 && ok ? 0 : -1;
}

int ard_test_write_text(const char *path, const char *text) {
    return ard_test_write_file(path, text, strlen(text));
}

const char *ard_test_shared_dir(void) {
    const char *env = getenv("ARD_SHARED_DIR");
    return env && *env ? env : ARD_SHARED_DIR;
}

const char *ard_test_source_dir(void) {
    const char *env = getenv("ARD_SOURCE_DIR");
    return env && *env ? env : ARD_SOURCE_DIR;
}

int ard_test_count_entries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) {
        return -1;
    }
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    }
    closedir(d);
    return n;
}
