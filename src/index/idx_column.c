/* Reading a column handed whole (idx_column) the way a row's cell reads it: shared by the bulk
 * writer that renders it (backend_pg.c) and the aggregates that code it (sync_catalog.c). */
#include "index_int.h"

#include <string.h>

const uint8_t *ard__column_text(const idx_column *c, int64_t j, size_t *len) {
    const uint8_t *s = c->kind == IDX_COL_TEXT ? c->data + c->offsets[j]
                                               : (const uint8_t *)c->values + j * c->width;
    size_t n =
        c->kind == IDX_COL_TEXT ? (size_t)(c->offsets[j + 1] - c->offsets[j]) : (size_t)c->width;
    const uint8_t *nul = n ? memchr(s, 0, n) : NULL;
    *len = nul ? (size_t)(nul - s) : n;
    return s;
}
