/* Writer Arrow C Data Interface import: a hand-built record batch with struct, child and list
 * offsets, struct-level and child-level nulls, int32 offsets, a fixed-size list and bit-packed
 * booleans; and the status codes of mismatched or unsupported input. */
#include "tw_util.h"

#include "ard/arrow_abi.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

typedef struct batch {
    struct ArrowSchema s, cs[5], flux_elem, mask_elem;
    struct ArrowSchema *sp[5], *flux_ep, *mask_ep;
    struct ArrowArray a, ca[5], flux_child, mask_child;
    struct ArrowArray *ap[5], *flux_cp, *mask_cp;
    const void *bufs[5][3], *sbufs[1], *fbufs[2], *mbufs[2];
} batch;

static const int64_t IDS[5] = {10, 11, 12, 13, 14};
static const uint8_t ID_VALID = 0x0f;     /* row 4 null */
static const uint8_t STRUCT_VALID = 0x1b; /* physical row 2 null */
static const int32_t NAME_OFFS[6] = {0, 1, 3, 3, 6, 8};
static const char NAME_DATA[] = "abbcccdd";
static const int32_t FLUX_OFFS[6] = {0, 2, 2, 5, 6, 9};
static const float FLUX[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
static const uint8_t FLUX_VALID[2] = {0xf7, 0x01}; /* element 3 null */
static const uint8_t MASK[15] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 255};
static const uint8_t FLAGS = 0x15;

static void child(batch *b, int i, const char *fmt, int64_t nbuf, int64_t null_count) {
    b->cs[i] = (struct ArrowSchema){.format = fmt, .flags = ARROW_FLAG_NULLABLE};
    b->sp[i] = &b->cs[i];
    b->ca[i] = (struct ArrowArray){
        .length = 5, .null_count = null_count, .n_buffers = nbuf, .buffers = b->bufs[i]};
    b->ap[i] = &b->ca[i];
}

static void build(batch *b) {
    memset(b, 0, sizeof *b);
    child(b, 0, "l", 2, 1);
    b->bufs[0][0] = &ID_VALID;
    b->bufs[0][1] = IDS;
    child(b, 1, "u", 3, 0);
    b->bufs[1][1] = NAME_OFFS;
    b->bufs[1][2] = NAME_DATA;
    child(b, 2, "+l", 2, 0);
    b->bufs[2][1] = FLUX_OFFS;
    b->flux_elem = (struct ArrowSchema){.format = "f"};
    b->flux_ep = &b->flux_elem;
    b->cs[2].n_children = 1;
    b->cs[2].children = &b->flux_ep;
    b->fbufs[0] = FLUX_VALID;
    b->fbufs[1] = FLUX;
    b->flux_child =
        (struct ArrowArray){.length = 9, .null_count = 1, .n_buffers = 2, .buffers = b->fbufs};
    b->flux_cp = &b->flux_child;
    b->ca[2].n_children = 1;
    b->ca[2].children = &b->flux_cp;
    child(b, 3, "+w:3", 1, 0);
    b->mask_elem = (struct ArrowSchema){.format = "C"};
    b->mask_ep = &b->mask_elem;
    b->cs[3].n_children = 1;
    b->cs[3].children = &b->mask_ep;
    b->mbufs[1] = MASK;
    b->mask_child = (struct ArrowArray){.length = 15, .n_buffers = 2, .buffers = b->mbufs};
    b->mask_cp = &b->mask_child;
    b->ca[3].n_children = 1;
    b->ca[3].children = &b->mask_cp;
    child(b, 4, "b", 2, 0);
    b->bufs[4][1] = &FLAGS;
    b->s = (struct ArrowSchema){.format = "+s", .n_children = 5, .children = b->sp};
    b->sbufs[0] = &STRUCT_VALID;
    b->a = (struct ArrowArray){.length = 4,
                               .offset = 1,
                               .null_count = 1,
                               .n_buffers = 1,
                               .buffers = b->sbufs,
                               .n_children = 5,
                               .children = b->ap};
}

static ard_pq_schema_builder *arrow_schema(ard_pq_repetition id_rep) {
    ard_pq_schema_builder *sb = NULL;
    ard_pq_logical str = {.kind = ARD_PQ_LT_STRING};
    ard_pq_logical u8 = {.kind = ARD_PQ_LT_INTEGER, .bit_width = 8};
    assert_int_equal(ard_pq_schema_new(&sb, NULL), ARD_OK);
    ard_pq_schema_add_column(sb, "id", ARD_PQ_INT64, id_rep, NULL, 0, NULL, NULL);
    ard_pq_schema_add_column(sb, "name", ARD_PQ_BYTE_ARRAY, ARD_PQ_OPTIONAL, &str, 0, NULL, NULL);
    ard_pq_schema_add_list(sb, "flux", ARD_PQ_FLOAT, ARD_PQ_OPTIONAL, ARD_PQ_OPTIONAL, NULL, NULL,
                           NULL);
    ard_pq_schema_add_list(sb, "mask", ARD_PQ_INT32, ARD_PQ_OPTIONAL, ARD_PQ_REQUIRED, &u8, NULL,
                           NULL);
    ard_pq_schema_add_column(sb, "flag", ARD_PQ_BOOLEAN, ARD_PQ_OPTIONAL, NULL, 0, NULL, NULL);
    assert_int_equal(ard_pq_schema_num_columns(sb), 5);
    return sb;
}

static void read_leaf(ard_parquet_file *f, int32_t leaf, ard_pq_column_data *cd) {
    memset(cd, 0, sizeof *cd);
    assert_int_equal(ard_parquet_read_column(f, 0, leaf, cd, NULL), ARD_OK);
}

static void check_written(const char *path) {
    ard_parquet_file *f = NULL;
    assert_int_equal(ard_parquet_open(path, NULL, &f, NULL), ARD_OK);
    assert_int_equal(ard_parquet_metadata(f)->num_rows, 4);
    ard_pq_column_data cd;
    read_leaf(f, 0, &cd); /* physical rows 1..4: 11, struct-null, 13, own null */
    const int16_t want_def[4] = {1, 0, 1, 0};
    assert_memory_equal(cd.def_levels, want_def, sizeof want_def);
    assert_int_equal(((const int64_t *)cd.values)[0], 11);
    assert_int_equal(((const int64_t *)cd.values)[1], 13);
    ard_pq_column_data_reset(&cd);
    read_leaf(f, 1, &cd); /* "bb", null, "ccc", "dd" */
    assert_int_equal(cd.num_values, 3);
    assert_memory_equal(cd.data, "bbcccdd", 7);
    ard_pq_column_data_reset(&cd);
    read_leaf(f, 2, &cd); /* [], null, [null? no: 6], [7,8,9]: rows 1..4 of the lists */
    const int16_t fdef[6] = {1, 0, 3, 3, 3, 3};
    const int16_t frep[6] = {0, 0, 0, 0, 1, 1};
    assert_int_equal(cd.num_levels, 6);
    assert_memory_equal(cd.def_levels, fdef, sizeof fdef);
    assert_memory_equal(cd.rep_levels, frep, sizeof frep);
    const float fwant[4] = {6, 7, 8, 9};
    assert_memory_equal(cd.values, fwant, sizeof fwant);
    ard_pq_column_data_reset(&cd);
    read_leaf(f, 3, &cd); /* rows 1, 3, 4 of the fixed lists; row 2 null */
    const int32_t mwant[9] = {3, 4, 5, 9, 10, 11, 12, 13, 255};
    assert_int_equal(cd.num_values, 9);
    assert_memory_equal(cd.values, mwant, sizeof mwant);
    ard_pq_column_data_reset(&cd);
    read_leaf(f, 4, &cd); /* bits 1..4 of 0x15 = 0,1,0,1 with row 2 null */
    const uint8_t bwant[3] = {0, 0, 1};
    assert_int_equal(cd.num_values, 3);
    assert_memory_equal(cd.values, bwant, 3);
    ard_pq_column_data_reset(&cd);
    ard_parquet_close(f);
}

void tw_test_arrow_import(void **state) {
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/arrow.parquet", tw_dir());
    batch b;
    build(&b);
    ard_pq_schema_builder *sb = arrow_schema(ARD_PQ_OPTIONAL);
    ard_pq_writer *w = NULL;
    assert_int_equal(ard_pq_writer_open(path, sb, NULL, &w, NULL), ARD_OK);
    ard_error err;
    ard_error_init(&err);
    ard_status st = ard_pq_writer_write_arrow(w, &b.s, &b.a, &err);
    if (st != ARD_OK) {
        fprintf(stderr, "%s\n", err.msg);
    }
    assert_int_equal(st, ARD_OK);
    assert_int_equal(ard_pq_writer_close(w, NULL), ARD_OK);
    ard_pq_schema_free(sb);
    check_written(path);
}

void tw_test_arrow_errors(void **state) {
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/arrow_err.parquet", tw_dir());
    batch b;
    build(&b);
    ard_pq_schema_builder *sb = arrow_schema(ARD_PQ_REQUIRED);
    ard_pq_writer *w = NULL;
    assert_int_equal(ard_pq_writer_open(path, sb, NULL, &w, NULL), ARD_OK);
    assert_int_equal(ard_pq_writer_write_arrow(w, &b.s, &b.a, NULL),
                     ARD_EINVAL); /* nulls, REQUIRED */
    b.a.null_count = 0;
    b.ca[0].null_count = 0;
    b.cs[2].children[0]->format = "g"; /* double elements for a float list */
    assert_int_equal(ard_pq_writer_write_arrow(w, &b.s, &b.a, NULL), ARD_EINVAL);
    b.cs[2].children[0]->format = "f";
    b.cs[4].format = "e"; /* float16: not supported */
    assert_int_equal(ard_pq_writer_write_arrow(w, &b.s, &b.a, NULL), ARD_ENOTSUP);
    b.cs[4].format = "b";
    b.s.n_children = 4;
    assert_int_equal(ard_pq_writer_write_arrow(w, &b.s, &b.a, NULL), ARD_EINVAL);
    b.s.n_children = 5;
    b.s.format = "+l";
    assert_int_equal(ard_pq_writer_write_arrow(w, &b.s, &b.a, NULL), ARD_EINVAL);
    b.s.format = "+s";
    /* nothing was appended by the rejected batches; a good one still works */
    assert_int_equal(ard_pq_writer_num_rows(w), 0);
    assert_int_equal(ard_pq_writer_write_arrow(w, &b.s, &b.a, NULL), ARD_OK);
    assert_int_equal(ard_pq_writer_num_rows(w), 4);
    assert_int_equal(ard_pq_writer_close(w, NULL), ARD_OK);
    ard_pq_schema_free(sb);
}
