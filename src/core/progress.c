/* Progress bar on stderr. Drawn only when stderr is a terminal and ARD_NO_PROGRESS is unset, so
 * logs and pipes never see control characters; redraws are rate-limited to about ten a second.
 * When stderr is not a terminal and ARD_PROGRESS_LINES=SECONDS is set (the CLI sets it on rank 0
 * under mpirun, whose ranks never have a terminal on stderr), plain lines "label: 42% 12/34 5.6/s"
 * are written at most every SECONDS instead, and one last line when the count moved since. */
#include "ard/core.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PROGRESS_BAR_WIDTH 24
#define PROGRESS_MIN_INTERVAL 0.1 /* seconds between redraws */

struct ard_progress {
    pthread_mutex_t lock;
    char *label;
    int64_t total; /* <= 0: unknown */
    int64_t done;
    double started;
    double last_draw;
    int enabled;
    int drawn;
    double line_interval; /* >= 0: plain lines at most this often; < 0: the bar (or nothing) */
    int64_t line_done;    /* the count of the last line written */
};

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

ard_progress *ard_progress_new(const char *label, int64_t total) {
    ard_progress *p = ard_calloc(1, sizeof *p);
    if (!p) {
        return NULL;
    }
    p->label = ard_strdup(label ? label : "");
    if (!p->label) {
        ard_free(p);
        return NULL;
    }
    pthread_mutex_init(&p->lock, NULL);
    p->total = total;
    p->started = now_seconds();
    p->enabled = isatty(STDERR_FILENO) && getenv("ARD_NO_PROGRESS") == NULL;
    p->line_interval = -1.0;
    p->line_done = -1;
    const char *lines = getenv("ARD_PROGRESS_LINES");
    if (!p->enabled && lines && *lines && getenv("ARD_NO_PROGRESS") == NULL) {
        char *end = NULL;
        double seconds = strtod(lines, &end);
        if (end && *end == '\0' && seconds >= 0) {
            p->line_interval = seconds;
            p->last_draw = p->started;
        }
    }
    return p;
}

/* Writes "<label>: 42% 1234/5678 98.7/s\n" (or "<label>: 1234 98.7/s\n" without a total). */
static void write_line(ard_progress *p, double now) {
    char line[256];
    double elapsed = now - p->started;
    double rate = elapsed > 0 ? (double)p->done / elapsed : 0.0;
    int n;
    if (p->total > 0) {
        int pct = (int)((double)p->done * 100.0 / (double)p->total);
        n = snprintf(line, sizeof line, "%s: %d%% %lld/%lld %.1f/s\n", p->label, pct,
                     (long long)p->done, (long long)p->total, rate);
    } else {
        n = snprintf(line, sizeof line, "%s: %lld %.1f/s\n", p->label, (long long)p->done, rate);
    }
    if (n > 0) {
        size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
        ssize_t ignored = write(STDERR_FILENO, line, len);
        (void)ignored;
    }
    p->last_draw = now;
    p->line_done = p->done;
}

/* Renders "\r<label> [#####     ]  42% 1234/5678 98.7/s" and writes it with one call. */
static void draw(ard_progress *p, double now) {
    char line[256];
    double elapsed = now - p->started;
    double rate = elapsed > 0 ? (double)p->done / elapsed : 0.0;
    int n;
    if (p->total > 0) {
        double frac = (double)p->done / (double)p->total;
        frac = frac < 0 ? 0 : (frac > 1 ? 1 : frac);
        char bar[PROGRESS_BAR_WIDTH + 1];
        int filled = (int)(frac * PROGRESS_BAR_WIDTH);
        memset(bar, '#', (size_t)filled);
        memset(bar + filled, ' ', (size_t)(PROGRESS_BAR_WIDTH - filled));
        bar[PROGRESS_BAR_WIDTH] = '\0';
        n = snprintf(line, sizeof line, "\r%s [%s] %3d%% %lld/%lld %.1f/s\033[K", p->label, bar,
                     (int)(frac * 100.0), (long long)p->done, (long long)p->total, rate);
    } else {
        n = snprintf(line, sizeof line, "\r%s %lld %.1f/s\033[K", p->label, (long long)p->done,
                     rate);
    }
    if (n > 0) {
        size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
        ssize_t ignored = write(STDERR_FILENO, line, len);
        (void)ignored;
    }
    p->last_draw = now;
    p->drawn = 1;
}

void ard_progress_add(ard_progress *p, int64_t done) {
    if (!p) {
        return;
    }
    pthread_mutex_lock(&p->lock);
    p->done += done;
    if (p->enabled) {
        double now = now_seconds();
        if (now - p->last_draw >= PROGRESS_MIN_INTERVAL) {
            draw(p, now);
        }
    } else if (p->line_interval >= 0) {
        double now = now_seconds();
        if (now - p->last_draw >= p->line_interval) {
            write_line(p, now);
        }
    }
    pthread_mutex_unlock(&p->lock);
}

void ard_progress_done(ard_progress *p) {
    if (!p) {
        return;
    }
    if (p->enabled && p->drawn) {
        static const char clear[] = "\r\033[K";
        ssize_t ignored = write(STDERR_FILENO, clear, sizeof clear - 1);
        (void)ignored;
    }
    if (p->line_interval >= 0 && p->line_done >= 0 && p->line_done != p->done) {
        write_line(p, now_seconds());
    }
    pthread_mutex_destroy(&p->lock);
    ard_free(p->label);
    ard_free(p);
}
