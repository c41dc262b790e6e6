/* Rendering of Arrow arrays (as exported by ard_parquet_read_arrow) to JSON values and CSV cells. */
#ifndef ARD_CLI_ARROW_RENDER_H
#define ARD_CLI_ARROW_RENDER_H

#include "ard/arrow_abi.h"
#include "ard/core.h"

/* Appends element `i` of array `a` (schema `s`) as a JSON value to `out`. Dates, times and timestamps
 * become strings ("1999-12-31 01:00:00", with "+00" when in UTC), decimals exact numbers, binary
 * strings with \xHH escapes for bytes outside printable ASCII, UUIDs canonical text, maps objects,
 * NaN/Infinity the bare tokens Python's json module reads. */
void ard_cli_render_json(const struct ArrowSchema *s, const struct ArrowArray *a, int64_t i,
                         ard_buf *out);
/* Appends element `i` as a CSV cell (quoted when needed; nested values as JSON text; null = empty). */
void ard_cli_render_csv(const struct ArrowSchema *s, const struct ArrowArray *a, int64_t i,
                        ard_buf *out);

#endif
