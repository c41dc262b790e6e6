/* The datasheet template renderer: `{{name}}` is a scalar, `{{#table}} ... {{/table}}` repeats its
 * body once per row of a table (inside, `{{column}}` is that row's cell; other names fall back to
 * the scalars). A section tag alone on its line takes the whole line with it, so Markdown tables
 * stay tidy. Names are checked against the registry, so a typo fails even when a table is empty.
 * Values have '|' escaped and line breaks flattened: they land in Markdown table cells. */
#include "datasheet_int.h"

#include <string.h>

typedef enum { TAG_VAR, TAG_OPEN, TAG_CLOSE } tag_kind;

typedef struct tag {
    tag_kind kind;
    const char *start, *end; /* the tag text "{{...}}" */
    const char *name;
    size_t len;
} tag;

typedef struct render_ctx {
    const ds_model *m;
    const char *tmpl, *tmpl_name;
    ard_buf *out;
    ard_error *err;
} render_ctx;

static long line_of(const render_ctx *c, const char *p) {
    long line = 1;
    for (const char *q = c->tmpl; q < p; q++) {
        line += *q == '\n';
    }
    return line;
}

static int is_name_char(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_';
}

/* Finds the next tag at or after p. 0 = none, 1 = found, -1 = error (reported). */
static int next_tag(render_ctx *c, const char *p, const char *end, tag *t) {
    const char *s = p;
    while (s + 1 < end && !(s[0] == '{' && s[1] == '{')) {
        s++;
    }
    if (s + 1 >= end) {
        return 0;
    }
    const char *q = s + 2;
    t->kind = *q == '#' ? TAG_OPEN : *q == '/' ? TAG_CLOSE : TAG_VAR;
    q += t->kind != TAG_VAR;
    while (q < end && *q == ' ') {
        q++;
    }
    t->name = q;
    while (q < end && is_name_char(*q)) {
        q++;
    }
    t->len = (size_t)(q - t->name);
    while (q < end && *q == ' ') {
        q++;
    }
    if (q + 1 >= end || q[0] != '}' || q[1] != '}' || t->len == 0) {
        ard_error_set(c->err, ARD_EINVAL,
                      "%s:%ld: malformed placeholder (expected {{name}}, "
                      "{{#table}} or {{/table}})",
                      c->tmpl_name, line_of(c, s));
        return -1;
    }
    t->start = s;
    t->end = q + 2;
    return 1;
}

static ard_status unknown(render_ctx *c, const tag *t, const char *what) {
    return ard_error_set(c->err, ARD_EINVAL, "%s:%ld: unknown %s {{%s%.*s}}", c->tmpl_name,
                         line_of(c, t->start), what, t->kind == TAG_OPEN ? "#" : "", (int)t->len,
                         t->name);
}

static void emit_value(ard_buf *out, const char *v) {
    for (const char *p = v ? v : ""; *p; p++) {
        if (*p == '|') {
            ard_buf_append(out, "\\|", 2);
        } else if (*p == '\n' || *p == '\r') {
            ard_buf_append(out, " ", 1);
        } else {
            ard_buf_append(out, p, 1);
        }
    }
}

/* Start of the line holding p if only blanks precede p on it, else NULL. */
static const char *standalone_start(const char *base, const char *p) {
    const char *q = p;
    while (q > base && (q[-1] == ' ' || q[-1] == '\t')) {
        q--;
    }
    return q == base || q[-1] == '\n' ? q : NULL;
}

/* Just past the newline ending the line after p if only blanks follow, else NULL. */
static const char *standalone_end(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r')) {
        p++;
    }
    if (p == end) {
        return p;
    }
    return *p == '\n' ? p + 1 : NULL;
}

/* A variable inside a section (row >= 0 of table ti) or at top level (ti < 0). */
static ard_status emit_var(render_ctx *c, const tag *t, int32_t ti, int64_t row) {
    if (ti >= 0) {
        const ds_table *tb = &c->m->tables[ti];
        for (int32_t k = 0; k < tb->ncols; k++) {
            if (strlen(tb->cols[k]) == t->len && memcmp(tb->cols[k], t->name, t->len) == 0) {
                if (row >= 0) {
                    emit_value(c->out, tb->cells[row * tb->ncols + k]);
                }
                return ARD_OK;
            }
        }
    }
    int32_t si = ard__ds_scalar_find(t->name, t->len);
    if (si < 0) {
        return unknown(c, t,
                       ti >= 0 ? "placeholder (not a column of this table nor a scalar)"
                               : "placeholder");
    }
    if (row >= 0 || ti < 0) {
        emit_value(c->out, c->m->scalars[si]);
    }
    return ARD_OK;
}

/* Renders the body [p, end) of table ti once for `row` (row < 0: only validates). */
static ard_status render_body(render_ctx *c, const char *p, const char *end, int32_t ti,
                              int64_t row) {
    tag t;
    int r;
    while ((r = next_tag(c, p, end, &t)) == 1) {
        if (row >= 0) {
            ard_buf_append(c->out, p, (size_t)(t.start - p));
        }
        if (t.kind != TAG_VAR) {
            return ard_error_set(c->err, ARD_EINVAL,
                                 "%s:%ld: sections cannot nest ({{%c%.*s}} "
                                 "inside {{#%s}})",
                                 c->tmpl_name, line_of(c, t.start), t.kind == TAG_OPEN ? '#' : '/',
                                 (int)t.len, t.name, c->m->tables[ti].name);
        }
        ard_status st = emit_var(c, &t, ti, row);
        if (st != ARD_OK) {
            return st;
        }
        p = t.end;
    }
    if (r < 0) {
        return c->err ? c->err->code : ARD_EINVAL;
    }
    if (row >= 0) {
        ard_buf_append(c->out, p, (size_t)(end - p));
    }
    return ARD_OK;
}

/* Handles "{{#name}}" at `open`; *next receives where to continue. */
static ard_status render_section(render_ctx *c, const tag *open, const char *end,
                                 const char **next) {
    int32_t ti = ard__ds_table_find(open->name, open->len);
    if (ti < 0) {
        return unknown(c, open, "table");
    }
    const char *ls = standalone_start(c->tmpl, open->start);
    const char *le = ls ? standalone_end(open->end, end) : NULL;
    const char *body = le ? le : open->end;
    tag t;
    const char *p = body;
    int r;
    while ((r = next_tag(c, p, end, &t)) == 1 && t.kind != TAG_CLOSE) {
        p = t.end;
    }
    if (r < 0) {
        return c->err ? c->err->code : ARD_EINVAL;
    }
    if (r == 0 || t.len != open->len || memcmp(t.name, open->name, open->len) != 0) {
        return ard_error_set(c->err, ARD_EINVAL, "%s:%ld: {{#%.*s}} is not closed by {{/%.*s}}",
                             c->tmpl_name, line_of(c, open->start), (int)open->len, open->name,
                             (int)open->len, open->name);
    }
    const char *cs = standalone_start(c->tmpl, t.start);
    const char *ce = cs ? standalone_end(t.end, end) : NULL;
    const char *body_end = ce ? cs : t.start;
    *next = ce ? ce : t.end;
    ard_status st = render_body(c, body, body_end, ti, -1);
    for (int64_t row = 0; st == ARD_OK && row < c->m->tables[ti].nrows; row++) {
        st = render_body(c, body, body_end, ti, row);
    }
    return st;
}

ard_status ard__ds_render(const ds_model *m, const char *tmpl, const char *tmpl_name, ard_buf *out,
                          ard_error *err) {
    render_ctx c = {m, tmpl, tmpl_name ? tmpl_name : "template", out, err};
    const char *p = tmpl, *end = tmpl + strlen(tmpl);
    tag t;
    int r;
    while ((r = next_tag(&c, p, end, &t)) == 1) {
        const char *text_end = t.start;
        if (t.kind == TAG_OPEN) {
            const char *ls = standalone_start(tmpl, t.start);
            text_end = ls && standalone_end(t.end, end) ? ls : t.start;
        }
        ard_buf_append(out, p, (size_t)(text_end - p));
        ard_status st = ARD_OK;
        if (t.kind == TAG_VAR) {
            st = emit_var(&c, &t, -1, -1);
            p = t.end;
        } else if (t.kind == TAG_OPEN) {
            st = render_section(&c, &t, end, &p);
        } else {
            st = ard_error_set(err, ARD_EINVAL, "%s:%ld: {{/%.*s}} without a matching {{#%.*s}}",
                               c.tmpl_name, line_of(&c, t.start), (int)t.len, t.name, (int)t.len,
                               t.name);
        }
        if (st != ARD_OK) {
            return st;
        }
    }
    if (r < 0) {
        return err ? err->code : ARD_EINVAL;
    }
    ard_buf_append(out, p, (size_t)(end - p));
    if (out->failed) {
        return ard_error_set(err, ARD_ENOMEM, "out of memory rendering %s", c.tmpl_name);
    }
    return ARD_OK;
}
