/* Unit tests of the dataset module: paths, the walker, the read plan (builder, text format written
 * and read back, bad input with exact statuses) and the spectrum reader (one tile, and a plan). */
/* cmocka needs these headers included before it. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "ard/dataset.h"
#include "ard/parquet_write.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { ROWS = 5, WIDTH = 6, ROWS_PER_GROUP = 3 };

static char *scratch_dir(void) {
    char tmpl[] = "/tmp/ard_dataset_test_XXXXXX";
    char *dir = mkdtemp(tmpl);
    assert_non_null(dir);
    return strdup(dir);
}

static void remove_tree(const char *dir) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void touch(const char *dir, const char *rel) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    assert_int_equal(ard_dataset_mkdirs_for(path, NULL), ARD_OK);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
}

static int64_t tid(int64_t row) {
    return 39000000000000000ll + 7 * row;
}

static float flux_of(int64_t row, int64_t k) {
    return row == 1 && k == 2 ? NAN : (float)(row * 10 + k);
}

/* A tile: TARGETID, FLUX (one null element), IVAR, MASK list<uint8>; ROWS_PER_GROUP rows per row
 * group, "ard.grid" metadata. */
static void write_tile(const char *path) {
    ard_pq_schema_builder *sb = NULL;
    assert_int_equal(ard_pq_schema_new(&sb, NULL), ARD_OK);
    assert_int_equal(ard_pq_schema_add_column(sb, "TARGETID", ARD_PQ_INT64, ARD_PQ_REQUIRED, NULL,
                                              0, NULL, NULL),
                     ARD_OK);
    ard_pq_schema_add_list(sb, "FLUX", ARD_PQ_FLOAT, ARD_PQ_OPTIONAL, ARD_PQ_OPTIONAL, NULL, NULL,
                           NULL);
    ard_pq_schema_add_list(sb, "IVAR", ARD_PQ_FLOAT, ARD_PQ_OPTIONAL, ARD_PQ_OPTIONAL, NULL, NULL,
                           NULL);
    ard_pq_logical u8;
    memset(&u8, 0, sizeof u8);
    u8.kind = ARD_PQ_LT_INTEGER;
    u8.bit_width = 8;
    ard_pq_schema_add_list(sb, "MASK", ARD_PQ_INT32, ARD_PQ_REQUIRED, ARD_PQ_REQUIRED, &u8, NULL,
                           NULL);
    ard_pq_writer_options wo;
    ard_pq_writer_options_init(&wo);
    wo.rows_per_row_group = ROWS_PER_GROUP;
    const char *keys[1] = {ARD_KV_GRID};
    const char *vals[1] = {"kind=log;start=3600;stop=9824;n=6"};
    wo.num_kv = 1;
    wo.kv_keys = keys;
    wo.kv_values = vals;
    ard_pq_writer *w = NULL;
    assert_int_equal(ard_dataset_mkdirs_for(path, NULL), ARD_OK);
    assert_int_equal(ard_pq_writer_open(path, sb, &wo, &w, NULL), ARD_OK);
    ard_pq_schema_free(sb);
    int64_t ids[ROWS];
    float flux[ROWS * WIDTH], ivar[ROWS * WIDTH];
    uint8_t valid[(ROWS * WIDTH + 7) / 8] = {0};
    uint8_t mask[ROWS * WIDTH];
    for (int64_t r = 0; r < ROWS; r++) {
        ids[r] = tid(r);
        for (int64_t k = 0; k < WIDTH; k++) {
            int64_t i = r * WIDTH + k;
            flux[i] = flux_of(r, k);
            ivar[i] = 1.0f;
            mask[i] = (uint8_t)(isnan(flux[i]) ? 1 : 0);
            if (!isnan(flux[i])) {
                valid[i >> 3] = (uint8_t)(valid[i >> 3] | (1u << (i & 7)));
            }
        }
    }
    assert_int_equal(ard_pq_writer_write_column(w, 0, ids, NULL, ROWS, NULL), ARD_OK);
    assert_int_equal(ard_pq_writer_write_list_matrix(w, 1, flux, ROWS, WIDTH, valid, NULL, NULL),
                     ARD_OK);
    assert_int_equal(ard_pq_writer_write_list_matrix(w, 2, ivar, ROWS, WIDTH, NULL, NULL, NULL),
                     ARD_OK);
    assert_int_equal(ard_pq_writer_write_list_matrix(w, 3, mask, ROWS, WIDTH, NULL, NULL, NULL),
                     ARD_OK);
    assert_int_equal(ard_pq_writer_close(w, NULL), ARD_OK);
}

static void test_paths(void **state) {
    (void)state;
    char buf[256], survey[16], program[16];
    int64_t pix = 0;
    assert_int_equal(ard_dataset_tile_path("D", "main", "dark", 9378, buf, sizeof buf, NULL),
                     ARD_OK);
    assert_string_equal(buf, "D/tiles/main/dark/93/9378.parquet");
    assert_int_equal(ard_dataset_parse_tile_path(buf, survey, program, &pix, NULL), ARD_OK);
    assert_string_equal(survey, "main");
    assert_string_equal(program, "dark");
    assert_int_equal(pix, 9378);
    assert_int_equal(ard_dataset_tile_path("D", "Main", "dark", 1, buf, sizeof buf, NULL),
                     ARD_EINVAL);
    assert_int_equal(ard_dataset_tile_path("D", "main", "dark", 1, buf, 8, NULL), ARD_ERANGE);
    assert_int_equal(ard_dataset_catalog_path("D", 3, buf, sizeof buf, NULL), ARD_OK);
    assert_string_equal(buf, "D/catalog/zcatalog-0003.parquet");
    assert_int_equal(ard_dataset_parse_tile_path("D/tiles/main/dark/94/9378.parquet", survey,
                                                 program, &pix, NULL),
                     ARD_EINVAL);
    assert_int_equal(ard_dataset_catalog_column_index(ARD_CAT_Z), 3);
    assert_string_equal(ard_dataset_catalog_column(0)->name, ARD_CAT_TARGETID);
}

/* ard_dataset_scan: several parts in one walk, each file's stat, and whether it was reached
 * without a symbolic link (a linked directory, a linked file, the part directory itself). */
static void test_scan(void **state) {
    (void)state;
    char *dir = scratch_dir();
    char path[512], other[512];
    touch(dir, "tiles/main/dark/1/150.parquet");
    touch(dir, "tiles/main/dark/1/.hidden.parquet");
    touch(dir, "store/9/9.parquet");
    touch(dir, "store/f.parquet");
    touch(dir, "catalog/zcatalog-0000.parquet");
    touch(dir, "results/r.parquet");
    snprintf(path, sizeof path, "%s/tiles/main/dark/1/150.parquet", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("12345", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/tiles/main/linked", dir);
    snprintf(other, sizeof other, "%s/store/9", dir);
    assert_int_equal(symlink(other, path), 0); /* a linked directory */
    snprintf(path, sizeof path, "%s/tiles/main/dark/1/f.parquet", dir);
    snprintf(other, sizeof other, "%s/store/f.parquet", dir);
    assert_int_equal(symlink(other, path), 0); /* a linked file */
    snprintf(path, sizeof path, "%s/tiles/main/dark/1/gone.parquet", dir);
    assert_int_equal(symlink("nowhere.parquet", path), 0); /* dangling: not listed */

    ard_dataset_files out[ARD_DATASET_NUM_PARTS];
    memset(out, 0, sizeof out);
    uint32_t parts = (1u << ARD_DATASET_TILES) | (1u << ARD_DATASET_CATALOG);
    int64_t removed = -1;
    assert_int_equal(ard_dataset_scan(dir, parts, 1, out, &removed, NULL), ARD_OK);
    assert_int_equal(removed, 0);
    ard_dataset_files *t = &out[ARD_DATASET_TILES];
    assert_int_equal(t->count, 3);
    assert_non_null(t->stats);
    assert_string_equal(t->paths[0], "tiles/main/dark/1/150.parquet");
    assert_int_equal(t->stats[0].direct, 1);
    assert_int_equal(t->stats[0].size, 5);
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s", dir, t->paths[0]);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(t->stats[0].mtime_ns,
                     (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec);
    assert_string_equal(t->paths[1], "tiles/main/dark/1/f.parquet");
    assert_int_equal(t->stats[1].direct, 0);
    assert_string_equal(t->paths[2], "tiles/main/linked/9.parquet");
    assert_int_equal(t->stats[2].direct, 0);
    assert_int_equal(t->stats[2].size, -1);
    assert_int_equal(out[ARD_DATASET_CATALOG].count, 1);
    assert_int_equal(out[ARD_DATASET_CATALOG].stats[0].direct, 1);
    assert_int_equal(out[ARD_DATASET_RESULTS].count, 0); /* not asked for */
    /* the same lists as ard_dataset_list */
    ard_dataset_files one = {0};
    assert_int_equal(ard_dataset_list(dir, ARD_DATASET_TILES, &one, NULL), ARD_OK);
    assert_int_equal(one.count, 3);
    assert_null(one.stats);
    for (int64_t i = 0; i < one.count; i++) {
        assert_string_equal(one.paths[i], t->paths[i]);
    }
    ard_dataset_files_reset(&one);

    /* the part's directory itself a link: listed, nothing direct */
    snprintf(path, sizeof path, "%s/tiles", dir);
    snprintf(other, sizeof other, "%s/store/tiles", dir);
    assert_int_equal(rename(path, other), 0);
    assert_int_equal(symlink("store/tiles", path), 0);
    assert_int_equal(ard_dataset_scan(dir, parts, 0, out, NULL, NULL), ARD_OK);
    assert_int_equal(t->count, 3);
    for (int64_t i = 0; i < t->count; i++) {
        assert_int_equal(t->stats[i].direct, 0);
    }
    ard_error err;
    ard_error_init(&err);
    snprintf(path, sizeof path, "%s/missing", dir);
    assert_int_equal(ard_dataset_scan(path, parts, 1, out, NULL, &err), ARD_ENOENT);
    assert_int_equal(t->count, 0);
    assert_int_equal(ard_dataset_scan(NULL, parts, 1, out, NULL, NULL), ARD_EINVAL);
    for (int32_t p = 0; p < ARD_DATASET_NUM_PARTS; p++) {
        ard_dataset_files_reset(&out[p]);
    }
    remove_tree(dir);
    free(dir);
}

static void test_walker(void **state) {
    (void)state;
    char *dir = scratch_dir();
    touch(dir, "tiles/main/dark/1/150.parquet");
    touch(dir, "tiles/main/bright/0/2.parquet");
    touch(dir, "tiles/main/dark/1/.150.parquet.tmp");
    touch(dir, "tiles/main/dark/1/notes.txt");
    touch(dir, "catalog/zcatalog-0001.parquet");
    touch(dir, "catalog/zcatalog-0000.parquet");
    touch(dir, "truth/groups.parquet");
    ard_dataset_files files = {0};
    assert_int_equal(ard_dataset_list(dir, ARD_DATASET_TILES, &files, NULL), ARD_OK);
    assert_int_equal(files.count, 2);
    assert_string_equal(files.paths[0], "tiles/main/bright/0/2.parquet");
    assert_string_equal(files.paths[1], "tiles/main/dark/1/150.parquet");
    assert_int_equal(ard_dataset_list(dir, ARD_DATASET_CATALOG, &files, NULL), ARD_OK);
    assert_int_equal(files.count, 2);
    assert_string_equal(files.paths[0], "catalog/zcatalog-0000.parquet");
    assert_int_equal(ard_dataset_list(dir, ARD_DATASET_TRUTH, &files, NULL), ARD_OK);
    assert_int_equal(files.count, 1);
    assert_int_equal(ard_dataset_list(dir, ARD_DATASET_RESULTS, &files, NULL), ARD_OK);
    assert_int_equal(files.count, 0); /* no results/ directory: empty, not an error */
    ard_error err;
    ard_error_init(&err);
    assert_int_equal(ard_dataset_list(dir, 7, &files, &err), ARD_EINVAL);
    assert_int_equal(files.count, 0);
    assert_null(ard_dataset_part_dir(7));
    ard_dataset_files_reset(&files);
    ard_dataset_files_reset(&files); /* safe twice */
    assert_int_equal(ard_dataset_check_fresh(dir, NULL), ARD_EEXIST);
    remove_tree(dir);
    assert_int_equal(ard_dataset_check_fresh(dir, NULL), ARD_OK);
    free(dir);
}

/* Two files, entries given out of order with one duplicate. */
static ard_plan *sample_plan(void) {
    const char *files[2] = {"tiles/a/b/0/1.parquet", "tiles/a/b/0/2.parquet"};
    ard_plan_entry e[5] = {
        {1, 0, 2, 902, 0, 4, 100}, {0, 1, 0, 103, 3, 200, 50}, {0, 0, 2, 102, 0, 4, 100},
        {0, 0, 0, 100, 0, 4, 100}, {0, 0, 2, 102, 0, 4, 100},
    };
    ard_plan *plan = NULL;
    assert_int_equal(ard_plan_new(files, 2, e, 5, &plan, NULL), ARD_OK);
    return plan;
}

static void test_plan_build(void **state) {
    (void)state;
    ard_plan *plan = sample_plan();
    assert_int_equal(ard_plan_num_files(plan), 2);
    assert_int_equal(ard_plan_num_rows(plan), 4);
    assert_int_equal(ard_plan_num_chunks(plan), 3);
    const ard_plan_chunk *c0 = ard_plan_chunk_at(plan, 0);
    assert_int_equal(c0->file, 0);
    assert_int_equal(c0->row_group, 0);
    assert_int_equal(c0->num_rows, 2);
    assert_int_equal(c0->rows[0], 0);
    assert_int_equal(c0->rows[1], 2);
    assert_int_equal(c0->targetids[1], 102);
    assert_int_equal(ard_plan_chunk_at(plan, 1)->byte_offset, 200);
    assert_int_equal(ard_plan_chunk_at(plan, 2)->file, 1);
    assert_null(ard_plan_chunk_at(plan, 3));
    ard_plan_free(plan);

    const char *files[1] = {"x"};
    ard_plan_entry bad = {1, 0, 0, 1, 0, 0, 0};
    ard_error err;
    ard_error_init(&err);
    plan = (ard_plan *)&bad;
    assert_int_equal(ard_plan_new(files, 1, &bad, 1, &plan, &err), ARD_EINVAL);
    assert_null(plan);
    assert_int_equal(ard_plan_new(files, 0, NULL, 0, &plan, NULL), ARD_OK);
    assert_int_equal(ard_plan_num_rows(plan), 0);
    ard_plan_free(plan);
}

static void assert_same_plan(const ard_plan *a, const ard_plan *b) {
    assert_int_equal(ard_plan_num_files(a), ard_plan_num_files(b));
    assert_int_equal(ard_plan_num_chunks(a), ard_plan_num_chunks(b));
    for (int32_t i = 0; i < ard_plan_num_files(a); i++) {
        assert_string_equal(ard_plan_file(a, i), ard_plan_file(b, i));
    }
    for (int64_t c = 0; c < ard_plan_num_chunks(a); c++) {
        const ard_plan_chunk *x = ard_plan_chunk_at(a, c), *y = ard_plan_chunk_at(b, c);
        assert_int_equal(x->file, y->file);
        assert_int_equal(x->row_group, y->row_group);
        assert_int_equal(x->byte_offset, y->byte_offset);
        assert_int_equal(x->bytes, y->bytes);
        assert_int_equal(x->num_rows, y->num_rows);
        assert_memory_equal(x->rows, y->rows, (size_t)x->num_rows * 8);
        assert_memory_equal(x->targetids, y->targetids, (size_t)x->num_rows * 8);
        assert_int_equal(x->num_ranges, y->num_ranges);
        assert_memory_equal(x->ranges, y->ranges, (size_t)x->num_ranges * 16);
    }
}

/* The ranges of every chunk are the maximal runs of its rows. */
static void assert_ranges_match_rows(const ard_plan *p) {
    for (int64_t c = 0; c < ard_plan_num_chunks(p); c++) {
        const ard_plan_chunk *ch = ard_plan_chunk_at(p, c);
        int64_t at = 0;
        for (int64_t g = 0; g < ch->num_ranges; g++) {
            if (g > 0) { /* maximal: a gap before every run but the first */
                assert_true(ch->ranges[2 * g] > ch->ranges[2 * g - 2] + ch->ranges[2 * g - 1]);
            }
            assert_true(ch->ranges[2 * g + 1] > 0);
            for (int64_t k = 0; k < ch->ranges[2 * g + 1]; k++) {
                assert_int_equal(ch->rows[at++], ch->ranges[2 * g] + k);
            }
        }
        assert_int_equal(at, ch->num_rows);
    }
}

static void test_plan_text(void **state) {
    (void)state;
    ard_plan *plan = sample_plan();
    ard_buf b;
    ard_buf_init(&b);
    ard_plan_format(plan, &b);
    const char *want = ARD_PLAN_HEADER_V2 "\n"
                                          "tiles/a/b/0/1.parquet\t0\t4\t100\t2\t0,2\t100,2\n"
                                          "tiles/a/b/0/1.parquet\t1\t200\t50\t1\t0\t103\n"
                                          "tiles/a/b/0/2.parquet\t0\t4\t100\t1\t2\t902\n";
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);
    ard_plan *back = NULL;
    assert_int_equal(ard_plan_parse((const char *)b.data, b.len, &back, NULL), ARD_OK);
    assert_same_plan(plan, back);
    ard_plan_free(back);
    /* version 1 (plans saved before ranges) still reads, to the same plan */
    const char *v1 = ARD_PLAN_HEADER "\n"
                                     "tiles/a/b/0/1.parquet\t0\t4\t100\t2\t0,2\t100,102\n"
                                     "tiles/a/b/0/1.parquet\t1\t200\t50\t1\t0\t103\n"
                                     "tiles/a/b/0/2.parquet\t0\t4\t100\t1\t2\t902\n";
    b.len = 0;
    ard_plan_format_v1(plan, &b);
    assert_int_equal(b.len, strlen(v1));
    assert_memory_equal(b.data, v1, b.len);
    assert_int_equal(ard_plan_parse(v1, strlen(v1), &back, NULL), ARD_OK);
    assert_same_plan(plan, back);
    ard_plan_free(back);

    char *dir = scratch_dir();
    char path[512];
    snprintf(path, sizeof path, "%s/q.plan", dir);
    assert_int_equal(ard_plan_save(plan, path, NULL), ARD_OK);
    assert_int_equal(ard_plan_load(path, &back, NULL), ARD_OK);
    assert_same_plan(plan, back);
    ard_plan_free(back);
    snprintf(path, sizeof path, "%s/missing.plan", dir);
    assert_int_equal(ard_plan_load(path, &back, NULL), ARD_ENOENT);
    assert_null(back);
    remove_tree(dir);
    free(dir);
    ard_buf_reset(&b);
    ard_plan_free(plan);
}

/* Adversarial selections of a 64-row row group (and a second row group, and a file): none, every
 * other row, first and last row only, one run, everything, and a random one: each plan has exact
 * ranges and goes through both text versions unchanged, with TARGETIDs that jump both ways. */
static void test_plan_ranges(void **state) {
    (void)state;
    const char *files[2] = {"tiles/a/b/0/1.parquet", "tiles/a/b/0/2.parquet"};
    uint64_t seed = 12345;
    for (int kind = 0; kind < 7; kind++) {
        ard_plan_entry e[200];
        int64_t n = 0;
        for (int32_t f = 0; f < 2; f++) {
            for (int32_t g = 0; g < 2; g++) {
                for (int64_t r = 0; r < 64; r++) {
                    seed = seed * 6364136223846793005u + 1442695040888963407u;
                    int take = kind == 1   ? r % 2 == 0
                               : kind == 2 ? r == 0 || r == 63
                               : kind == 3 ? r >= 10 && r < 30
                               : kind == 4 ? 1
                               : kind == 5 ? (seed >> 60) < 6
                               : kind == 6 ? r < 9
                                           : 0;
                    if (take && n < 200) {
                        /* kind 6: differences as wide as int64 (version 2 only); else >= 0
                         * and below 9.2e18 as version 1 requires */
                        int64_t id = kind == 6    ? (r % 2 ? INT64_MAX - r : INT64_MIN + r)
                                     : r % 3 == 0 ? INT64_MAX / 2 - r * 1000003
                                                  : r * 7;
                        e[n++] = (ard_plan_entry){f, g, r, id, g * 64, 4 + g * 1000, 1000};
                    }
                }
            }
        }
        ard_plan *plan = NULL;
        /* (a plan's text lists only files with rows: an empty plan reads back with none) */
        assert_int_equal(ard_plan_new(files, n ? 2 : 0, e, n, &plan, NULL), ARD_OK);
        assert_int_equal(ard_plan_num_rows(plan), n);
        assert_ranges_match_rows(plan);
        if (kind == 2 || kind == 3) {
            assert_int_equal(ard_plan_chunk_at(plan, 0)->num_ranges, kind == 2 ? 2 : 1);
        }
        for (int v = kind == 6 ? 2 : 1; v <= 2; v++) {
            ard_buf b;
            ard_buf_init(&b);
            if (v == 1) {
                ard_plan_format_v1(plan, &b);
            } else {
                ard_plan_format(plan, &b);
            }
            ard_plan *back = NULL;
            assert_int_equal(ard_plan_parse((const char *)b.data, b.len, &back, NULL), ARD_OK);
            assert_same_plan(plan, back);
            ard_plan_free(back);
            ard_buf_reset(&b);
        }
        ard_plan_free(plan);
    }
}

/* ard_plan_new_chunks (the index's broad plans) gives what ard_plan_new gives, and refuses chunks
 * out of plan order. */
static void test_plan_new_chunks(void **state) {
    (void)state;
    ard_plan *plan = sample_plan();
    int64_t n = ard_plan_num_chunks(plan);
    ard_plan_chunk in[8] = {0};
    const char *paths[2] = {ard_plan_file(plan, 0), ard_plan_file(plan, 1)};
    for (int64_t c = 0; c < n; c++) {
        in[c] = *ard_plan_chunk_at(plan, c);
        in[c].num_ranges = 99; /* ignored */
    }
    ard_plan *back = NULL;
    assert_int_equal(ard_plan_new_chunks(paths, 2, in, n, &back, NULL), ARD_OK);
    assert_same_plan(plan, back);
    assert_ranges_match_rows(back);
    ard_plan_free(back);
    assert_int_equal(ard_plan_new_chunks(paths, 0, NULL, 0, &back, NULL), ARD_OK);
    assert_int_equal(ard_plan_num_rows(back), 0);
    ard_plan_free(back);

    int64_t unsorted[2] = {2, 0}, negative[1] = {-1};
    for (int bad = 0; bad < 6; bad++) {
        ard_plan_chunk b[8];
        memcpy(b, in, sizeof b);
        const char *bpaths[2] = {paths[0], bad == 5 ? NULL : paths[1]};
        if (bad == 0) { /* the two chunks of file 0 swapped */
            b[0] = in[1];
            b[1] = in[0];
        } else if (bad == 1) {
            b[1].num_rows = 0;
        } else if (bad == 2) {
            b[0].rows = unsorted;
        } else if (bad == 3) {
            b[2].file = 2;
        } else if (bad == 4) {
            b[0].num_rows = 1;
            b[0].rows = negative;
        }
        ard_error err;
        ard_error_init(&err);
        back = (ard_plan *)&err;
        assert_int_equal(ard_plan_new_chunks(bpaths, 2, b, n, &back, &err), ARD_EINVAL);
        assert_null(back);
    }
    ard_plan_free(plan);
}

static void test_plan_text_bad(void **state) {
    (void)state;
    static const char *const bad[] = {
        "",
        "path\trow_group\tbyte_offset\tbytes\tnum_rows\trows\n",    /* the old 6-field header */
        ARD_PLAN_HEADER "\nt.parquet\t0\t4\t100\t2\t0\t100\n",      /* count vs list */
        ARD_PLAN_HEADER "\nt.parquet\t0\t4\t100\t2\t3,1\t1,2\n",    /* rows unsorted */
        ARD_PLAN_HEADER "\nt.parquet\t0\t4\t100\t1\t0\t1\textra\n", /* 8 fields */
        ARD_PLAN_HEADER "\nt.parquet\t-1\t4\t100\t1\t0\t1\n",       /* negative */
        ARD_PLAN_HEADER "\nt.parquet\t0\t4\t100\t1\t0\tx\n",        /* not a number */
        ARD_PLAN_HEADER "\na\t0\t4\t1\t1\t0\t1\nb\t0\t4\t1\t1\t0\t2\na\t1\t4\t1\t1\t0\t3\n",
        ARD_PLAN_HEADER "\n\t0\t4\t100\t1\t0\t1\n",                     /* no path */
        ARD_PLAN_HEADER_V2 "\nt.parquet\t0\t4\t100\t3\t0-1\t1,1\n",     /* 2 rows, count 3 */
        ARD_PLAN_HEADER_V2 "\nt.parquet\t0\t4\t100\t2\t0-3\t1,1\n",     /* 4 rows, count 2 */
        ARD_PLAN_HEADER_V2 "\nt.parquet\t0\t4\t100\t2\t3-2\t1,1\n",     /* reversed run */
        ARD_PLAN_HEADER_V2 "\nt.parquet\t0\t4\t100\t3\t0-1,1\t1,1,1\n", /* overlapping */
        ARD_PLAN_HEADER_V2 "\nt.parquet\t0\t4\t100\t2\t5,2\t1,1\n",     /* unsorted */
        ARD_PLAN_HEADER_V2 "\nt.parquet\t0\t4\t100\t2\t0-1\t1\n",       /* a delta short */
        ARD_PLAN_HEADER_V2 "\nt.parquet\t0\t4\t100\t2\t0-1\t1,1,1\n",   /* a delta more */
        ARD_PLAN_HEADER_V2 "\nt.parquet\t0\t4\t100\t2\t0-1\t1,--1\n",   /* not a number */
        ARD_PLAN_HEADER_V2 "\nt.parquet\t0\t4\t100\t1\t0-\t1\n",        /* open run */
        ARD_PLAN_HEADER_V2 "\nt.parquet\t0\t4\t100\t2\t0,1\t1\t1\n",    /* 8 fields */
        ARD_PLAN_HEADER_V2 "\nt.parquet\t0\t4\t100\t1\t0-9223372036854775807\t1\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ard_plan *plan = NULL;
        ard_error err;
        ard_error_init(&err);
        assert_int_equal(ard_plan_parse(bad[i], strlen(bad[i]), &plan, &err), ARD_EINVAL);
        assert_null(plan);
        assert_non_null(strstr(err.msg, "line"));
    }
    static const char *const escaping[] = {
        ARD_PLAN_HEADER "\n../../etc/passwd\t0\t4\t100\t1\t0\t1\n",
        ARD_PLAN_HEADER "\n/etc/passwd\t0\t4\t100\t1\t0\t1\n",
        ARD_PLAN_HEADER "\ntiles/../../x.parquet\t0\t4\t100\t1\t0\t1\n",
        ARD_PLAN_HEADER "\ntiles/a.parquet\t0\t4\t1\t1\t0\t1\ntiles/..\t0\t4\t1\t1\t0\t2\n",
    };
    for (size_t i = 0; i < sizeof escaping / sizeof escaping[0]; i++) {
        ard_plan *plan = NULL;
        ard_error err;
        ard_error_init(&err);
        assert_int_equal(ard_plan_parse(escaping[i], strlen(escaping[i]), &plan, &err), ARD_EPERM);
        assert_null(plan);
        assert_non_null(strstr(err.msg, i == 3 ? "line 3" : "line 2"));
    }
    /* ".." inside a name is not a component: allowed */
    const char *ok = ARD_PLAN_HEADER "\ntiles/a..b.parquet\t0\t4\t100\t1\t0\t1\n";
    ard_plan *plan = NULL;
    assert_int_equal(ard_plan_parse(ok, strlen(ok), &plan, NULL), ARD_OK);
    ard_plan_free(plan);
}

static void test_tile_reader(void **state) {
    (void)state;
    char *dir = scratch_dir();
    char path[512];
    snprintf(path, sizeof path, "%s/tiles/main/dark/0/7.parquet", dir);
    write_tile(path);
    ard_tile *tile = NULL;
    assert_int_equal(ard_tile_open(path, &tile, NULL), ARD_OK);
    assert_int_equal(ard_tile_num_row_groups(tile), 2);
    assert_int_equal(ard_tile_row_group_rows(tile, 0), 3);
    assert_int_equal(ard_tile_row_group_rows(tile, 1), 2);
    assert_int_equal(ard_tile_row_group_rows(tile, 2), -1);
    assert_string_equal(ard_tile_kv(tile, ARD_KV_GRID), "kind=log;start=3600;stop=9824;n=6");
    assert_int_equal(ard_tile_column_kind(tile, "FLUX"), ARD_TILE_LIST_F32);
    assert_int_equal(ard_tile_column_kind(tile, "MASK"), ARD_TILE_LIST_U8);
    assert_int_equal(ard_tile_column_kind(tile, "TARGETID"), ARD_TILE_INT64);
    assert_int_equal(ard_tile_column_kind(tile, "NOPE"), ARD_TILE_MISSING);

    int64_t ids[3] = {0};
    assert_int_equal(ard_tile_read_int64(tile, 1, NULL, 0, 2, ids, NULL), ARD_OK);
    assert_int_equal(ids[0], tid(3));
    assert_int_equal(ids[1], tid(4));
    assert_int_equal(ard_tile_read_int64(tile, 0, NULL, 1, 2, ids, NULL), ARD_OK);
    assert_int_equal(ids[0], tid(1));
    assert_int_equal(ard_tile_read_int64(tile, 0, NULL, 2, 2, ids, NULL), ARD_EINVAL);
    assert_int_equal(ard_tile_read_int64(tile, 0, "FLUX", 0, 1, ids, NULL), ARD_EINVAL);

    float values[3 * WIDTH];
    int64_t rows = 0, width = 0;
    int32_t nulls = 0;
    assert_int_equal(
        ard_tile_read_f32(tile, 0, "FLUX", values, 3 * WIDTH, &rows, &width, &nulls, NULL), ARD_OK);
    assert_int_equal(rows, 3);
    assert_int_equal(width, WIDTH);
    assert_int_equal(nulls, 1);
    assert_true(isnan(values[1 * WIDTH + 2]));
    assert_true(values[2 * WIDTH + 5] == flux_of(2, 5));
    assert_int_equal(ard_tile_read_f32(tile, 0, "FLUX", values, WIDTH, &rows, &width, NULL, NULL),
                     ARD_ELIMIT);
    assert_int_equal(
        ard_tile_read_f32(tile, 0, "MASK", values, 3 * WIDTH, &rows, &width, NULL, NULL),
        ARD_EINVAL);
    assert_int_equal(
        ard_tile_read_f32(tile, 5, "FLUX", values, 3 * WIDTH, &rows, &width, NULL, NULL),
        ARD_EINVAL);
    assert_int_equal(ard_tile_list_width(tile, 1, "IVAR", &width, NULL), ARD_OK);
    assert_int_equal(width, WIDTH);
    ard_tile_close(tile);
    ard_tile_close(NULL);
    snprintf(path, sizeof path, "%s/tiles/none.parquet", dir);
    assert_int_equal(ard_tile_open(path, &tile, NULL), ARD_ENOENT);
    assert_null(tile);
    remove_tree(dir);
    free(dir);
}

/* A catalog-like file: TARGETID int64, RA double, W float, CODE int32, CLASS string (2 row groups),
 * key-value ard.source; FLAG an optional int32 with a null (refused with ARD_ECORRUPT). */
static void write_flat(const char *path) {
    ard_pq_schema_builder *sb = NULL;
    assert_int_equal(ard_pq_schema_new(&sb, NULL), ARD_OK);
    const char *names[6] = {"TARGETID", "RA", "W", "CODE", "CLASS", "FLAG"};
    const ard_pq_type types[6] = {ARD_PQ_INT64, ARD_PQ_DOUBLE,     ARD_PQ_FLOAT,
                                  ARD_PQ_INT32, ARD_PQ_BYTE_ARRAY, ARD_PQ_INT32};
    for (int c = 0; c < 6; c++) {
        assert_int_equal(ard_pq_schema_add_column(sb, names[c], types[c],
                                                  c == 5 ? ARD_PQ_OPTIONAL : ARD_PQ_REQUIRED, NULL,
                                                  0, NULL, NULL),
                         ARD_OK);
    }
    ard_pq_writer_options wo;
    ard_pq_writer_options_init(&wo);
    wo.rows_per_row_group = ROWS_PER_GROUP;
    const char *keys[2] = {ARD_KV_SOURCE, "ard.test"};
    const char *vals[2] = {"generate seed=5", "x"};
    wo.num_kv = 2;
    wo.kv_keys = keys;
    wo.kv_values = vals;
    ard_pq_writer *w = NULL;
    assert_int_equal(ard_dataset_mkdirs_for(path, NULL), ARD_OK);
    assert_int_equal(ard_pq_writer_open(path, sb, &wo, &w, NULL), ARD_OK);
    ard_pq_schema_free(sb);
    int64_t ids[ROWS];
    double ra[ROWS];
    float wgt[ROWS];
    int32_t code[ROWS], flag[ROWS];
    const char *cls_data = "BGSLRGQSOELG";
    const int64_t cls_off[ROWS + 1] = {0, 3, 6, 6, 9, 12}; /* BGS LRG "" QSO ELG */
    uint8_t valid[1] = {0x1b};                             /* row 2 null */
    for (int r = 0; r < ROWS; r++) {
        ids[r] = tid(r);
        ra[r] = 10.5 * r;
        wgt[r] = 0.25f * (float)r;
        code[r] = 3 - r;
        flag[r] = r;
    }
    const void *cols[6] = {ids, ra, wgt, code, NULL, flag};
    for (int c = 0; c < 6; c++) {
        assert_int_equal(
            c == 4 ? ard_pq_writer_write_binary(w, c, cls_off, (const uint8_t *)cls_data, NULL,
                                                ROWS, NULL)
                   : ard_pq_writer_write_column(w, c, cols[c], c == 5 ? valid : NULL, ROWS, NULL),
            ARD_OK);
    }
    assert_int_equal(ard_pq_writer_close(w, NULL), ARD_OK);
}

static void test_tile_flat(void **state) {
    (void)state;
    char *dir = scratch_dir();
    char path[512];
    snprintf(path, sizeof path, "%s/catalog/zcatalog-0000.parquet", dir);
    write_flat(path);
    ard_tile *t = NULL;
    assert_int_equal(ard_tile_open(path, &t, NULL), ARD_OK);
    assert_int_equal(ard_tile_num_row_groups(t), 2);
    double d[3];
    assert_int_equal(ard_tile_read_double(t, 1, "RA", d, NULL), ARD_OK);
    assert_true(d[0] == 31.5 && d[1] == 42.0);
    assert_int_equal(ard_tile_read_double(t, 0, "W", d, NULL), ARD_OK); /* FLOAT widened */
    assert_true(d[0] == 0.0 && d[1] == 0.25 && d[2] == 0.5);
    int32_t i32[3];
    assert_int_equal(ard_tile_read_int32(t, 0, "CODE", i32, NULL), ARD_OK);
    assert_true(i32[0] == 3 && i32[1] == 2 && i32[2] == 1);
    ard_buf chars;
    ard_buf_init(&chars);
    int64_t off[4];
    assert_int_equal(ard_tile_read_text(t, 0, "CLASS", &chars, off, NULL), ARD_OK);
    assert_int_equal(off[0], 0);
    assert_int_equal(off[3], 6);
    assert_int_equal(off[2] - off[1], 3);
    assert_int_equal(off[3] - off[2], 0);
    assert_memory_equal(chars.data, "BGSLRG", 6);
    assert_int_equal(ard_tile_read_text(t, 1, "CLASS", &chars, off, NULL), ARD_OK);
    assert_int_equal(chars.len, 6); /* cleared, then QSO + ELG */
    assert_memory_equal(chars.data, "QSOELG", 6);
    ard_buf_reset(&chars);
    ard_error err;
    ard_error_init(&err);
    /* wrong type, missing column, bad row group, nulls */
    assert_int_equal(ard_tile_read_double(t, 0, "CODE", d, &err), ARD_EINVAL);
    assert_non_null(strstr(err.msg, "CODE"));
    assert_int_equal(ard_tile_read_int32(t, 0, "RA", i32, NULL), ARD_EINVAL);
    assert_int_equal(ard_tile_read_int32(t, 0, "NOPE", i32, NULL), ARD_EINVAL);
    assert_int_equal(ard_tile_read_double(t, 2, "RA", d, NULL), ARD_EINVAL);
    assert_int_equal(ard_tile_read_text(t, 0, "RA", &chars, off, NULL), ARD_EINVAL);
    assert_int_equal(ard_tile_read_int32(t, 0, "FLAG", i32, NULL), ARD_ECORRUPT);
    assert_int_equal(ard_tile_read_int32(t, 1, "FLAG", i32, NULL), ARD_OK);
    /* footer */
    assert_string_equal(ard_tile_kv(t, ARD_KV_SOURCE), "generate seed=5");
    assert_non_null(strstr(ard_tile_created_by(t), "ard"));
    assert_int_equal(ard_tile_num_kv(t), 2);
    const char *key = NULL, *val = NULL;
    int64_t len = 0;
    assert_int_equal(ard_tile_kv_at(t, 1, &key, &val, &len, NULL), ARD_OK);
    assert_string_equal(key, "ard.test");
    assert_int_equal(len, 1);
    assert_memory_equal(val, "x", 1);
    assert_int_equal(ard_tile_kv_at(t, 2, &key, &val, &len, NULL), ARD_EINVAL);
    ard_tile_close(t);
    remove_tree(dir);
    free(dir);
}

static void test_tile_sky(void **state) {
    (void)state;
    assert_true(fabs(ard_dataset_tile_area_deg2() - 0.83929) < 1e-4);
    double ra = -1, dec = -100;
    assert_int_equal(ard_dataset_tile_center(0, &ra, &dec, NULL), ARD_OK);
    assert_true(ra >= 0 && ra < 360 && dec > 0 && dec < 90);
    assert_int_equal(ard_dataset_tile_center(12 * 64 * 64 - 1, &ra, &dec, NULL), ARD_OK);
    assert_true(dec < 0);
    assert_int_equal(ard_dataset_tile_center(12 * 64 * 64, &ra, &dec, NULL), ARD_EINVAL);
    assert_int_equal(ard_dataset_tile_center(-1, &ra, &dec, NULL), ARD_EINVAL);
}

/* The plan reader over the tile: planned rows and TARGETIDs come back; a plan whose TARGETID
 * disagrees with the tile is ARD_ECORRUPT. */
static void test_fetch_plan(void **state) {
    (void)state;
    char *dir = scratch_dir();
    char path[512];
    snprintf(path, sizeof path, "%s/tiles/main/dark/0/7.parquet", dir);
    write_tile(path);
    const char *files[1] = {"tiles/main/dark/0/7.parquet"};
    ard_plan_entry e[3] = {
        {0, 0, 1, tid(1), 0, 0, 0}, {0, 1, 1, tid(4), 3, 0, 0}, {0, 0, 2, tid(2), 0, 0, 0}};
    ard_plan *plan = NULL;
    assert_int_equal(ard_plan_new(files, 1, e, 3, &plan, NULL), ARD_OK);
    const char *cols[2] = {"FLUX", "MASK"};
    ard_fetch *f = NULL;
    assert_int_equal(ard_fetch_open(dir, plan, cols, 2, 1, &f, NULL), ARD_OK);
    const ard_fetch_batch *b = NULL;
    assert_int_equal(ard_fetch_next(f, &b, NULL), ARD_OK);
    assert_int_equal(b->rows, 2);
    assert_int_equal(b->targetids[0], tid(1));
    assert_true(isnan(b->columns[0].values[2]));
    assert_true(b->columns[0].values[WIDTH + 1] == flux_of(2, 1));
    assert_int_equal(b->column_types[1], ARD_FETCH_U8);
    assert_int_equal(b->u8_values[1][2], 1);
    assert_int_equal(ard_fetch_next(f, &b, NULL), ARD_OK);
    assert_int_equal(b->rows, 1);
    assert_true(b->columns[0].values[0] == flux_of(4, 0));
    assert_int_equal(ard_fetch_next(f, &b, NULL), ARD_EEOF);
    ard_fetch_close(f);
    ard_plan_free(plan);

    e[0] = (ard_plan_entry){0, 0, 1, tid(1) + 1, 0, 0, 0};
    assert_int_equal(ard_plan_new(files, 1, e, 1, &plan, NULL), ARD_OK);
    assert_int_equal(ard_fetch_open(dir, plan, NULL, 0, 1, &f, NULL), ARD_OK);
    assert_int_equal(ard_fetch_next(f, &b, NULL), ARD_ECORRUPT);
    ard_fetch_close(f);
    ard_plan_free(plan);
    remove_tree(dir);
    free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_walker),
        cmocka_unit_test(test_scan),
        cmocka_unit_test(test_plan_build),
        cmocka_unit_test(test_plan_text),
        cmocka_unit_test(test_plan_text_bad),
        cmocka_unit_test(test_tile_reader),
        cmocka_unit_test(test_plan_ranges),
        cmocka_unit_test(test_plan_new_chunks),
        cmocka_unit_test(test_fetch_plan),
        cmocka_unit_test(test_tile_flat),
        cmocka_unit_test(test_tile_sky),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
