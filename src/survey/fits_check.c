/* Pre-validation of a FITS file's HDU layout before cfitsio parses it (issue 15: a crash inside
 * cfitsio on a hostile file is a crash of ard). cfitsio trusts the header: a TFIELDS or NAXISn of
 * 10^14 makes it allocate petabytes, a data size beyond the end of the file makes ard allocate
 * what the file cannot hold. This walks every HDU with positional reads (a special file is refused
 * without blocking) and insists on what the FITS standard (4.0, sections 3-4) requires of a
 * header: printable ASCII cards, the mandatory keywords in their order (SIMPLE or XTENSION,
 * BITPIX, NAXIS, NAXIS1..n, then PCOUNT and GCOUNT in an extension), bounded values, an END card,
 * and data that lie inside the file. Anything else is ARD_ECORRUPT naming the file, the HDU and
 * the keyword. */
#include "survey_int.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define FITS_BLOCK 2880
#define FITS_CARD 80
#define FITS_MAX_HDUS 4096
#define FITS_MAX_HEADER_BLOCKS 4096 /* 11.8 MB of header cards: far beyond any survey file */

typedef struct fits_walk {
    int fd;
    const char *path;
    int64_t size;
    int32_t hdu; /* 1-based, for messages */
    int32_t card;
    ard_error *err;
} fits_walk;

static ard_status bad(fits_walk *w, const char *what, const char *key) {
    return ard_error_set(w->err, ARD_ECORRUPT, "%s: not a valid FITS file: HDU %d: %s%s%s", w->path,
                         (int)w->hdu, what, key ? " " : "", key ? key : "");
}

/* 1 when the card's keyword (columns 1-8, blank padded) is `key` and it has a value indicator. */
static int card_is(const char *card, const char *key) {
    size_t n = strlen(key);
    if (memcmp(card, key, n) != 0) {
        return 0;
    }
    for (size_t i = n; i < 8; i++) {
        if (card[i] != ' ') {
            return 0;
        }
    }
    return card[8] == '=' && card[9] == ' ';
}

/* The integer value of a card (columns 11-80: blanks, an optional sign, digits, then blanks or a
 * comment). 0 when it is not such an integer or does not fit in [lo, hi]. */
static int card_int(const char *card, int64_t lo, int64_t hi, int64_t *out) {
    const char *p = card + 10, *end = card + FITS_CARD;
    while (p < end && *p == ' ') {
        p++;
    }
    int neg = p < end && (*p == '-' || *p == '+') ? *p++ == '-' : 0;
    int64_t v = 0;
    const char *digits = p;
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
        if (v > (INT64_MAX - 9) / 10) {
            return 0;
        }
        v = v * 10 + (*p - '0');
    }
    while (p < end && *p == ' ') {
        p++;
    }
    if (p == digits || (p < end && *p != '/')) {
        return 0;
    }
    v = neg ? -v : v;
    if (v < lo || v > hi) {
        return 0;
    }
    *out = v;
    return 1;
}

/* The values of the mandatory keywords of one HDU, as the header walk finds them. */
typedef struct fits_hdu {
    int64_t bitpix, naxis, pcount, gcount, tfields;
    int64_t product; /* of NAXIS1..n, capped above the file size */
    int32_t next_axis;
    int is_table, seen_end;
} fits_hdu;

/* Card number w->card of the HDU's header (0-based). */
static ard_status header_card(fits_walk *w, const char *card, fits_hdu *h) {
    for (int i = 0; i < FITS_CARD; i++) {
        if (card[i] < 32 || card[i] > 126) {
            return bad(w, "a header card holds a byte that is not printable ASCII", NULL);
        }
    }
    int32_t c = w->card;
    int64_t v = 0;
    if (c == 0) {
        int ok = w->hdu == 1 ? card_is(card, "SIMPLE") : card_is(card, "XTENSION");
        if (!ok) {
            return bad(w, "the header does not start with", w->hdu == 1 ? "SIMPLE" : "XTENSION");
        }
        h->is_table = w->hdu > 1 && (strncmp(card + 10, "'BINTABLE'", 10) == 0 ||
                                     strncmp(card + 10, "'TABLE   '", 10) == 0);
        return ARD_OK;
    }
    if (c == 1) {
        if (!card_is(card, "BITPIX") || !card_int(card, -64, 64, &v) ||
            (v != 8 && v != 16 && v != 32 && v != 64 && v != -32 && v != -64)) {
            return bad(w, "card 2 is not a valid", "BITPIX");
        }
        h->bitpix = v;
        return ARD_OK;
    }
    if (c == 2) {
        if (!card_is(card, "NAXIS") || !card_int(card, 0, 999, &h->naxis)) {
            return bad(w, "card 3 is not a valid", "NAXIS");
        }
        h->product = h->naxis > 0 ? 1 : 0;
        return ARD_OK;
    }
    if (h->next_axis < h->naxis) {
        char key[24];
        snprintf(key, sizeof key, "NAXIS%d", (int)(h->next_axis + 1));
        if (!card_is(card, key) || !card_int(card, 0, INT64_MAX, &v)) {
            return bad(w, "a missing or invalid", key);
        }
        h->next_axis++;
        /* capped: any product above the file size fails the size check the same way */
        h->product = v == 0 || h->product == 0        ? 0
                     : h->product > (w->size + 1) / v ? w->size + 1
                                                      : h->product * v;
        return ARD_OK;
    }
    int32_t after = 3 + (int32_t)h->naxis;
    if (w->hdu > 1 && c == after) {
        if (!card_is(card, "PCOUNT") || !card_int(card, 0, w->size, &h->pcount)) {
            return bad(w, "a missing or invalid", "PCOUNT");
        }
        return ARD_OK;
    }
    if (w->hdu > 1 && c == after + 1) {
        if (!card_is(card, "GCOUNT") || !card_int(card, 1, w->size + 1, &h->gcount)) {
            return bad(w, "a missing or invalid", "GCOUNT");
        }
        return ARD_OK;
    }
    if (card_is(card, "TFIELDS") && (!card_int(card, 0, 999, &h->tfields))) {
        return bad(w, "an invalid (0..999)", "TFIELDS");
    }
    if (memcmp(card, "END     ", 8) == 0) {
        h->seen_end = 1;
    }
    return ARD_OK;
}

/* Reads the header of the HDU at *offset; on return *offset is where its data start. */
static ard_status read_header(fits_walk *w, int64_t *offset, fits_hdu *h) {
    char block[FITS_BLOCK];
    memset(h, 0, sizeof *h);
    h->gcount = 1;
    w->card = 0;
    for (int32_t b = 0; !h->seen_end; b++) {
        if (b >= FITS_MAX_HEADER_BLOCKS) {
            return bad(w, "a header of more than 4096 blocks, or no", "END");
        }
        if (*offset + FITS_BLOCK > w->size) {
            return bad(w, "the file ends inside the header (no END card)", NULL);
        }
        ard_status st = ard_pread_full(w->fd, block, FITS_BLOCK, *offset, w->path, w->err);
        if (st != ARD_OK) {
            return st;
        }
        *offset += FITS_BLOCK;
        for (int i = 0; i < FITS_BLOCK / FITS_CARD && !h->seen_end && st == ARD_OK; i++) {
            st = header_card(w, block + i * FITS_CARD, h);
            w->card++;
        }
        if (st != ARD_OK) {
            return st;
        }
    }
    if (w->card < 3 + h->naxis + (w->hdu > 1 ? 2 : 0)) {
        return bad(w, "END before the mandatory keywords", NULL);
    }
    return ARD_OK;
}

/* 1 when the bytes from `offset` on are zero padding (or nothing): the walk stops there. */
static int only_padding(fits_walk *w, int64_t offset) {
    char block[FITS_BLOCK];
    while (offset < w->size) {
        size_t n = (size_t)(w->size - offset < FITS_BLOCK ? w->size - offset : FITS_BLOCK);
        if (ard_pread_full(w->fd, block, n, offset, w->path, NULL) != ARD_OK) {
            return 0;
        }
        for (size_t i = 0; i < n; i++) {
            if (block[i] != '\0') {
                return 0;
            }
        }
        offset += (int64_t)n;
    }
    return 1;
}

static ard_status walk_hdus(fits_walk *w) {
    int64_t offset = 0;
    for (w->hdu = 1; w->hdu == 1 || (offset < w->size && !only_padding(w, offset)); w->hdu++) {
        if (w->hdu > FITS_MAX_HDUS) {
            return bad(w, "more than 4096 HDUs", NULL);
        }
        fits_hdu h;
        ard_status st = read_header(w, &offset, &h);
        if (st != ARD_OK) {
            return st;
        }
        if (h.is_table && h.tfields == 0 && h.naxis == 2 && h.product > 0) {
            return bad(w, "a table without", "TFIELDS");
        }
        int64_t bytes = (h.bitpix < 0 ? -h.bitpix : h.bitpix) / 8;
        int64_t units = h.naxis > 0 ? h.product + h.pcount : 0;
        int64_t room = w->size - offset;
        if (units > room ||
            (units > 0 && (h.gcount > room / units || bytes * units * h.gcount > room))) {
            return ard_error_set(w->err, ARD_ECORRUPT,
                                 "%s: not a valid FITS file: HDU %d declares more data than the "
                                 "%lld bytes left in the file (truncated?)",
                                 w->path, (int)w->hdu, (long long)room);
        }
        int64_t data = bytes * units * h.gcount;
        offset += (data + FITS_BLOCK - 1) / FITS_BLOCK * FITS_BLOCK;
    }
    return ARD_OK;
}

ard_status ard__fits_check(const char *path, ard_error *err) {
    fits_walk w = {-1, path, 0, 0, 0, err};
    ard_status st = ard_file_open_regular(path, &w.fd, &w.size, err);
    if (st != ARD_OK) {
        return st;
    }
    st = walk_hdus(&w);
    close(w.fd);
    return st;
}
