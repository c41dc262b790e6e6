/* Optional libraries opened on first use (dlopen), so commands that do not need OpenBLAS or libpq
 * do not pay for loading them (see ard_dynlib_open in ard/core.h). */
#include "core_int.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static const char *last_dlerror(void) {
    const char *reason = dlerror();
    return reason ? reason : "unknown dlopen error";
}

/* 1 when names[i] is one of names[0 .. i): a build's path, soname and default name may agree. */
static int tried_before(const char *const *names, int32_t i) {
    for (int32_t j = 0; j < i; j++) {
        if (strcmp(names[j], names[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Opens the first name that loads; else the message names the first (the build's) library and its
 * error, then each fallback's. */
static void *open_first(const char *what, const char *const *names, int32_t name_count,
                        const char **opened, ard_error *err) {
    char first[200] = "", others[200] = "";
    size_t used = 0;
    for (int32_t i = 0; i < name_count; i++) {
        if (tried_before(names, i)) {
            continue;
        }
        void *handle = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (handle) {
            *opened = names[i];
            return handle;
        }
        if (i == 0) {
            snprintf(first, sizeof first, "%s", last_dlerror());
        } else if (used < sizeof others) {
            int n =
                snprintf(others + used, sizeof others - used, "; %s: %s", names[i], last_dlerror());
            used += n > 0 ? (size_t)n : 0;
        }
    }
    ard_error_set(err, ARD_ENOTSUP, "%s needs %s: %s%s", what, names[0], first, others);
    return NULL;
}

ard_status ard_dynlib_open(const char *what, const char *const *names, int32_t name_count,
                           const char *const *symbols, void **slots, int32_t symbol_count,
                           ard_error *err) {
    if (!what || !names || name_count < 1 || !symbols || !slots || symbol_count < 1) {
        return ard_error_set(err, ARD_EINVAL, "dynlib: missing library names or symbols");
    }
    const char *opened = NULL;
    void *handle = open_first(what, names, name_count, &opened, err);
    if (!handle) {
        return ARD_ENOTSUP;
    }
    for (int32_t i = 0; i < symbol_count; i++) {
        (void)dlerror();
        slots[i] = dlsym(handle, symbols[i]);
        if (!slots[i]) {
            ard_status st = ard_error_set(err, ARD_ENOTSUP, "%s: %s has no %s: %s", what, opened,
                                          symbols[i], last_dlerror());
            memset(slots, 0, (size_t)symbol_count * sizeof *slots);
            dlclose(handle);
            return st;
        }
    }
    return ARD_OK;
}

static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER; /* every library's first opening */

ard_status ard_dynlib_load(ard_dynlib_once *lib, ard_error *err) {
    if (!lib) {
        return ard_error_set(err, ARD_EINVAL, "dynlib: NULL library");
    }
    int32_t state = __atomic_load_n(&lib->state, __ATOMIC_ACQUIRE);
    if (state == 0) {
        pthread_mutex_lock(&load_lock);
        state = lib->state;
        if (state == 0) {
            ard_error_init(&lib->error);
            state = ard_dynlib_open(lib->what, lib->names, lib->name_count, lib->symbols,
                                    lib->slots, lib->symbol_count, &lib->error) == ARD_OK
                        ? 1
                        : 2;
            if (state == 1 && lib->fill) {
                lib->fill(lib->slots);
            }
            __atomic_store_n(&lib->state, state, __ATOMIC_RELEASE);
        }
        pthread_mutex_unlock(&load_lock);
    }
    if (state != 1) {
        return ard_error_set(err, lib->error.code, "%s", lib->error.msg);
    }
    return ARD_OK;
}
