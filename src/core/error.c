/* Status names and the first-message-wins error record. */
#include "ard/core.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *ard_status_str(ard_status status) {
    switch (status) {
#define ARD__STATUS_TEXT(name, value, text)                                                        \
    case name:                                                                                     \
        return text;
        ARD_STATUS_LIST(ARD__STATUS_TEXT)
#undef ARD__STATUS_TEXT
    }
    return "unknown status";
}

const char *ard_status_name(ard_status status) {
    switch (status) {
#define ARD__STATUS_NAME(name, value, text)                                                        \
    case name:                                                                                     \
        return #name;
        ARD_STATUS_LIST(ARD__STATUS_NAME)
#undef ARD__STATUS_NAME
    }
    return "ARD_UNKNOWN";
}

void ard_error_init(ard_error *err) {
    if (err) {
        memset(err, 0, sizeof *err);
    }
}

__attribute__((format(printf, 4, 0))) static void
error_vset(ard_error *err, ard_status code, int sys_errno, const char *fmt, va_list ap) {
    if (!err || err->msg[0] != '\0') {
        return;
    }
    err->code = code;
    err->sys_errno = sys_errno;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    if (sys_errno != 0) {
        size_t used = strlen(err->msg);
        snprintf(err->msg + used, sizeof err->msg - used, ": %s", strerror(sys_errno));
    }
}

ard_status ard_error_set(ard_error *err, ard_status code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    error_vset(err, code, 0, fmt, ap);
    va_end(ap);
    return code;
}

ard_status ard_error_set_errno(ard_error *err, ard_status code, int sys_errno, const char *fmt,
                               ...) {
    va_list ap;
    va_start(ap, fmt);
    error_vset(err, code, sys_errno, fmt, ap);
    va_end(ap);
    return code;
}

void ard_error_prefix(ard_error *err, const char *fmt, ...) {
    if (!err) {
        return;
    }
    char prefix[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    /* Shift the root cause right and put the prefix in front; the tail is cut if it no longer fits. */
    size_t plen = strlen(prefix);
    size_t cap = sizeof err->msg - 1;
    if (plen > cap) {
        plen = cap;
    }
    size_t keep = strnlen(err->msg, cap);
    if (keep > cap - plen) {
        keep = cap - plen;
    }
    memmove(err->msg + plen, err->msg, keep);
    memcpy(err->msg, prefix, plen);
    err->msg[plen + keep] = '\0';
}
