/* Bump allocator for footer metadata: one arena per open file, freed in one go at close.
 * The cap bounds how much a hostile footer can make us allocate. */
#include "parquet_int.h"

#include <string.h>

#define ARENA_ALIGN 16
#define ARENA_MIN_BLOCK (64 * 1024)

struct ard__arena_block {
    ard__arena_block *next;
    size_t size; /* usable bytes after the header */
    size_t used;
    /* data follows, 16-byte aligned */
};

/* Size of the block header rounded up so the data that follows is 16-byte aligned. */
#define ARENA_HEADER ((sizeof(ard__arena_block) + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1))

void ard__arena_init(ard__arena *a, size_t cap) {
    a->head = NULL;
    a->used_total = 0;
    a->cap = cap;
}

void ard__arena_reset(ard__arena *a) {
    ard__arena_block *b = a->head;
    while (b) {
        ard__arena_block *next = b->next;
        ard_free(b);
        b = next;
    }
    a->head = NULL;
    a->used_total = 0;
}

static uint8_t *block_data(ard__arena_block *b) {
    return (uint8_t *)b + ARENA_HEADER;
}

static ard__arena_block *arena_new_block(ard__arena *a, size_t need) {
    size_t size = need > ARENA_MIN_BLOCK ? need : ARENA_MIN_BLOCK;
    if (a->cap != 0 && size > need && a->used_total + size > a->cap) {
        size = need; /* near the cap: do not over-reserve */
    }
    ard__arena_block *b = ard_malloc(ARENA_HEADER + size);
    if (!b) {
        return NULL;
    }
    b->next = a->head;
    b->size = size;
    b->used = 0;
    a->head = b;
    return b;
}

void *ard__arena_alloc(ard__arena *a, size_t size) {
    size_t rounded = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (rounded < size || rounded > SIZE_MAX / 2) {
        return NULL;
    }
    if (rounded == 0) {
        rounded = ARENA_ALIGN; /* a unique, non-NULL pointer */
    }
    if (a->cap != 0 && (rounded > a->cap || a->used_total > a->cap - rounded)) {
        return NULL;
    }
    ard__arena_block *b = a->head;
    if (!b || b->size - b->used < rounded) {
        b = arena_new_block(a, rounded);
        if (!b) {
            return NULL;
        }
    }
    uint8_t *p = block_data(b) + b->used;
    b->used += rounded;
    a->used_total += rounded;
    memset(p, 0, rounded);
    return p;
}

char *ard__arena_strndup(ard__arena *a, const char *s, size_t len) {
    if (len == SIZE_MAX) {
        return NULL;
    }
    char *copy = ard__arena_alloc(a, len + 1);
    if (!copy) {
        return NULL;
    }
    if (len) {
        memcpy(copy, s, len);
    }
    copy[len] = '\0';
    return copy;
}
