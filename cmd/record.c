/* record: builds records with jansson, after forcing every string from the
 * network into valid UTF-8 (jansson refuses anything else). */
#include "record.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The length of the valid UTF-8 sequence at p[i] (of n bytes), or 0. */
static size_t utf8_len(const unsigned char *p, size_t i, size_t n)
{
    unsigned c = p[i];
    size_t len = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2
                           : c >= 0xE0 && c <= 0xEF   ? 3
                           : c >= 0xF0 && c <= 0xF4   ? 4
                                                      : 0;
    if (!len || i + len > n)
        return 0;
    for (size_t k = 1; k < len; k++)
        if ((p[i + k] & 0xC0) != 0x80)
            return 0;
    /* No overlongs (E0 80..9F, F0 80..8F), no surrogates (ED A0..BF) and
     * nothing past U+10FFFF (F4 90..). */
    if ((c == 0xE0 && p[i + 1] < 0xA0) || (c == 0xED && p[i + 1] >= 0xA0) ||
        (c == 0xF0 && p[i + 1] < 0x90) || (c == 0xF4 && p[i + 1] >= 0x90))
        return 0;
    return len;
}

/* True when s[0..n) is valid UTF-8 already. */
static int utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0, len; i < n; i += len)
        if (!(len = p[i] < 0x80 ? 1 : utf8_len(p, i, n)))
            return 0;
    return 1;
}

char *record_utf8(const char *s, size_t n, size_t *outlen)
{
    const unsigned char *p = (const unsigned char *)s;
    /* Each bad byte grows to 3 bytes at most. */
    char *out = malloc(n * 3 + 1);
    size_t o = 0;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n;) {
        size_t len = utf8_len(p, i, n);
        if (!len) {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
            continue;
        }
        memcpy(out + o, p + i, len);
        o += len;
        i += len;
    }
    out[o] = '\0';
    if (outlen)
        *outlen = o;
    return out;
}

/* A JSON string from any bytes, or JSON null for NULL. */
static json_t *jstr(const char *s)
{
    if (!s)
        return json_null();
    size_t n = strlen(s);
    /* Nearly every string is valid already: copied once, not twice. */
    if (utf8_valid(s, n))
        return json_stringn_nocheck(s, n);
    char *u = record_utf8(s, n, &n);
    json_t *j = u ? json_stringn_nocheck(u, n) : NULL;
    free(u);
    return j;
}

static json_t *jstrv(const parse_strv *v)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < v->n; i++)
        if (json_array_append_new(a, jstr(v->v[i]))) {
            json_decref(a);
            return NULL;
        }
    return a;
}

/* Milliseconds, rounded to microseconds so records stay short. */
static json_t *jms(double ms)
{
    /* jansson refuses NaN and infinity, and ms * 1000 is infinite past
     * 1.8e305: a clock oddity must not lose a record. */
    double r = ms > 0 ? round(ms * 1000.0) / 1000.0 : 0;
    return json_real(isfinite(r) ? r : 0);
}

char *record_json(const fetch_result *r, const parse_page *page,
                  const parse_field *fields, const char *parse_error)
{
    json_t *o = json_object(), *t = json_object();
    char *line = NULL;
    int bad = !o || !t;
    const char *error = r->error ? r->error : parse_error;

#define PUT(obj, key, val) bad |= json_object_set_new(obj, key, val) != 0
    PUT(t, "queue", jms(r->t.queue));
    PUT(t, "dns", jms(r->t.dns));
    PUT(t, "connect", jms(r->t.connect));
    PUT(t, "tls", jms(r->t.tls));
    PUT(t, "ttfb", jms(r->t.ttfb));
    PUT(t, "transfer", jms(r->t.transfer));
    PUT(t, "write", jms(r->t.write));
    PUT(t, "parse_wait", jms(r->t.parse_wait));
    PUT(t, "parse", jms(r->t.parse));
    PUT(t, "total", jms(r->t.total));

    PUT(o, "url", jstr(r->url));
    PUT(o, "final_url", jstr(r->final_url));
    PUT(o, "status", json_integer(r->status));
    PUT(o, "bytes", json_integer((json_int_t)r->bytes));
    PUT(o, "content_type", jstr(r->content_type));
    PUT(o, "sha256", r->sha256[0] ? json_string(r->sha256) : json_null());
    PUT(o, "path", jstr(r->path));
    PUT(o, "error", jstr(error));
    PUT(o, "attempts", json_integer(r->attempts));
    PUT(o, "etag", jstr(r->etag));
    PUT(o, "last_modified", jstr(r->last_modified));
    PUT(o, "unchanged", json_boolean(r->not_modified));
    PUT(o, "timings", json_incref(t));
    if (page) {
        PUT(o, "title", jstr(page->title));
        PUT(o, "description", jstr(page->description));
        PUT(o, "links", jstrv(&page->links));
        PUT(o, "images", jstrv(&page->images));
        PUT(o, "words", json_integer((json_int_t)page->words));
        if (page->n_fields) {
            json_t *f = json_object();
            bad |= !f;
            for (size_t i = 0; f && i < page->n_fields; i++) {
                char *key = record_utf8(fields[i].name, strlen(fields[i].name),
                                        NULL);
                bad |= !key;
                if (key)
                    PUT(f, key, jstrv(&page->fields[i]));
                free(key);
            }
            PUT(o, "fields", f);
        }
    }
#undef PUT
    if (!bad)
        line = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(15));
    json_decref(t);
    json_decref(o);
    return line;
}

/* Appends the strings of the JSON array a to v from index *n. */
static int take_strings(json_t *a, char **v, size_t *n)
{
    size_t i;
    json_t *e;
    json_array_foreach(a, i, e) {
        const char *str = json_string_value(e);
        if (!str)
            continue;
        if (!(v[*n] = strdup(str)))
            return -1;
        (*n)++;
    }
    return 0;
}

int record_found(const char *line, char ***found, size_t *nl, size_t *ni)
{
    json_t *rec = json_loads(line, 0, NULL);
    json_t *links = json_object_get(rec, "links");
    json_t *images = json_object_get(rec, "images");
    size_t n = 0, cap = json_array_size(links) + json_array_size(images);
    *found = NULL;
    *nl = *ni = 0;
    if (!json_is_object(rec)) {
        json_decref(rec);
        return -1;
    }
    char **v = cap ? calloc(cap, sizeof *v) : NULL;
    int rc = 0;
    if (cap && (!v || take_strings(links, v, &n))) {
        rc = -1;
    } else if (cap) {
        *nl = n;
        rc = take_strings(images, v, &n);
        *ni = n - *nl;
    }
    if (rc) {
        for (size_t i = 0; i < n; i++)
            free(v[i]);
        free(v);
        *nl = *ni = 0;
    } else {
        *found = v;
    }
    json_decref(rec);
    return rc;
}

/* ---- CSV ---- */

typedef struct csvbuf {
    char *s;
    size_t n, cap;
    int bad;
} csvbuf;

static void csv_put(csvbuf *b, const char *s, size_t n)
{
    if (b->bad)
        return;
    if (b->n + n + 3 > b->cap) {
        size_t cap = (b->n + n + 3) * 2;
        char *ns = realloc(b->s, cap);
        if (!ns) {
            b->bad = 1;
            return;
        }
        b->s = ns;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}

/* Appends one cell: quoted when it holds a separator, a quote or a line
 * break, with quotes doubled. */
static void csv_cell(csvbuf *b, const char *v, int first)
{
    if (!first)
        csv_put(b, ",", 1);
    if (!v)
        return;
    if (!v[strcspn(v, ",\"\r\n")]) {
        csv_put(b, v, strlen(v));
        return;
    }
    csv_put(b, "\"", 1);
    for (const char *p = v; *p; p++) {
        if (*p == '"')
            csv_put(b, "\"\"", 2);
        else
            csv_put(b, p, 1);
    }
    csv_put(b, "\"", 1);
}

static const char *const csv_cols[] = {
    "url", "final_url", "status", "bytes", "content_type", "sha256", "path",
    "error", "attempts", "total_ms", "title", "description", "words",
    "links", "images",
};
#define N_CSV_COLS (sizeof csv_cols / sizeof *csv_cols)

char *record_csv_header(const parse_field *fields, size_t n_fields)
{
    csvbuf b = {0};
    for (size_t i = 0; i < N_CSV_COLS; i++)
        csv_cell(&b, csv_cols[i], i == 0);
    for (size_t i = 0; i < n_fields; i++)
        csv_cell(&b, fields[i].name, 0);
    csv_put(&b, "\r\n", 2);
    if (b.bad) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

/* The text of a JSON value as one cell: strings as they are, numbers in
 * JSON form, arrays joined with ','; NULL for null or absent. */
static char *cell_text(json_t *v)
{
    if (!v || json_is_null(v))
        return NULL;
    if (json_is_string(v))
        return strdup(json_string_value(v));
    if (json_is_array(v)) {
        csvbuf b = {0};
        size_t i;
        json_t *e;
        csv_put(&b, "", 0);
        json_array_foreach(v, i, e) {
            if (i)
                csv_put(&b, ",", 1);
            const char *str = json_string_value(e);
            if (str)
                csv_put(&b, str, strlen(str));
        }
        if (b.bad) {
            free(b.s);
            return NULL;
        }
        return b.s ? b.s : strdup("");
    }
    return json_dumps(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
}

char *record_csv(const char *line, const parse_field *fields,
                 size_t n_fields)
{
    json_t *rec = json_loads(line, 0, NULL);
    csvbuf b = {0};
    if (!json_is_object(rec)) {
        json_decref(rec);
        return NULL;
    }
    for (size_t i = 0; i < N_CSV_COLS + n_fields; i++) {
        json_t *v;
        if (i >= N_CSV_COLS)
            v = json_object_get(json_object_get(rec, "fields"),
                                fields[i - N_CSV_COLS].name);
        else if (!strcmp(csv_cols[i], "total_ms"))
            v = json_object_get(json_object_get(rec, "timings"), "total");
        else
            v = json_object_get(rec, csv_cols[i]);
        char *text = cell_text(v);
        csv_cell(&b, text, i == 0);
        free(text);
    }
    csv_put(&b, "\r\n", 2);
    json_decref(rec);
    if (b.bad) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

char *record_unchanged(const char *old_line, const char *new_line)
{
    static const char *const fresh[] = {"final_url", "status", "attempts",
                                        "timings", "error", "unchanged"};
    static const char *const if_sent[] = {"etag", "last_modified"};
    json_t *old = json_loads(old_line, 0, NULL);
    json_t *cur = json_loads(new_line, 0, NULL);
    char *line = NULL;
    int bad = !json_is_object(old) || !json_is_object(cur);
    for (size_t i = 0; !bad && i < sizeof fresh / sizeof *fresh; i++)
        bad = json_object_set(old, fresh[i], json_object_get(cur, fresh[i]));
    for (size_t i = 0; !bad && i < sizeof if_sent / sizeof *if_sent; i++) {
        json_t *v = json_object_get(cur, if_sent[i]);
        if (json_is_string(v))
            bad = json_object_set(old, if_sent[i], v);
    }
    if (!bad)
        bad = json_object_set_new(old, "unchanged", json_true());
    if (!bad)
        line = json_dumps(old, JSON_COMPACT | JSON_REAL_PRECISION(15));
    json_decref(old);
    json_decref(cur);
    return line;
}

int record_validators(const char *line, char **etag, char **last_modified)
{
    json_t *rec = json_loads(line, 0, NULL);
    const char *e = json_string_value(json_object_get(rec, "etag"));
    const char *m = json_string_value(json_object_get(rec, "last_modified"));
    *etag = e ? strdup(e) : NULL;
    *last_modified = m ? strdup(m) : NULL;
    int bad = !json_is_object(rec) || (e && !*etag) || (m && !*last_modified);
    json_decref(rec);
    if (bad) {
        free(*etag);
        free(*last_modified);
        *etag = *last_modified = NULL;
        return -1;
    }
    return 0;
}
