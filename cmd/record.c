/* record: writes records as JSON, after forcing every string from the
 * network into valid UTF-8, and reads them back (links, validators, CSV
 * cells) with jansson. */
#include "record.h"
#include "wire.h"

#include <jansson.h>
#include <math.h>
#include <stddef.h>
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

/* ---- writing a record ----
 * The record is written straight into one growing buffer, in the form
 * jansson's json_dumps(JSON_COMPACT | JSON_REAL_PRECISION(15)) gives, so
 * that the lines jansson rewrites (record_unchanged()) look the same. Building
 * jansson objects and dumping them took 25 us a record, a tenth of the
 * event loop's time on small pages. test_record parses every record back
 * with jansson and compares the encoding of strings and numbers with
 * jansson's own. */

#define JB_LIT(b, lit) wire_put_bytes(b, lit, sizeof lit - 1)

/* s[0..n), valid UTF-8, as a JSON string: '"', '\\' and the control
 * characters escaped (as jansson does: short forms where JSON has them,
 * else \u00XX), everything else as it is. */
static void jb_escaped(wire *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t run = 0;
    JB_LIT(b, "\"");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        char esc[8];
        const char *e = esc;
        switch (c) {
        case '"': e = "\\\""; break;
        case '\\': e = "\\\\"; break;
        case '\b': e = "\\b"; break;
        case '\f': e = "\\f"; break;
        case '\n': e = "\\n"; break;
        case '\r': e = "\\r"; break;
        case '\t': e = "\\t"; break;
        default: snprintf(esc, sizeof esc, "\\u%04X", c);
        }
        wire_put_bytes(b, s + run, i - run);
        wire_put_bytes(b, e, strlen(e));
        run = i + 1;
    }
    wire_put_bytes(b, s + run, n - run);
    JB_LIT(b, "\"");
}

/* A JSON string from any bytes (invalid UTF-8 repaired), or null. */
static void jb_str(wire *b, const char *s)
{
    if (!s) {
        JB_LIT(b, "null");
        return;
    }
    size_t n = strlen(s);
    /* Nearly every string is valid already: not copied at all. */
    if (utf8_valid(s, n)) {
        jb_escaped(b, s, n);
        return;
    }
    char *u = record_utf8(s, n, &n);
    if (!u) {
        b->failed = 1;
        return;
    }
    jb_escaped(b, u, n);
    free(u);
}

static void jb_strv(wire *b, const parse_strv *v)
{
    JB_LIT(b, "[");
    for (size_t i = 0; i < v->n; i++) {
        if (i)
            JB_LIT(b, ",");
        jb_str(b, v->v[i]);
    }
    JB_LIT(b, "]");
}

static void jb_int(wire *b, long long v)
{
    char num[32];
    wire_put_bytes(b, num, (size_t)snprintf(num, sizeof num, "%lld", v));
}

/* Milliseconds, rounded to microseconds so records stay short, written
 * as jansson writes a real: %.15g, with ".0" when that reads as an
 * integer and the exponent stripped of '+' and leading zeros. */
static void jb_ms(wire *b, double ms)
{
    /* ms * 1000 is infinite past 1.8e305, and JSON has no NaN or
     * infinity: a clock oddity must not lose a record. */
    double us = ms > 0 ? round(ms * 1000.0) : 0;
    char num[40];
    if (us < 1e15) {
        /* us / 1000 has at most 15 significant digits, which %.15g gives
         * back exactly (DBL_DIG is 15): the decimal digits of us with the
         * point before the last three, trailing zeros dropped, and no
         * exponent (that takes 1e15 or over, or under 1e-4). Written from
         * the integer, as snprintf's real formatting cost a tenth of a
         * record. */
        unsigned long long u = (unsigned long long)us;
        char *end = num + sizeof num, *p = end;
        unsigned frac = (unsigned)(u % 1000);
        int fd = 3;
        while (fd > 1 && frac % 10 == 0) {
            frac /= 10;
            fd--;
        }
        for (int i = 0; i < fd; i++, frac /= 10)
            *--p = (char)('0' + frac % 10);
        *--p = '.';
        u /= 1000;
        do
            *--p = (char)('0' + u % 10);
        while (u /= 10);
        wire_put_bytes(b, p, (size_t)(end - p));
        return;
    }
    double r = us / 1000.0;
    int n = snprintf(num, sizeof num, "%.15g", isfinite(r) ? r : 0);
    char *e = strchr(num, 'e');
    if (e) {
        char *digits = e + 1 + (e[1] == '-'), *from = e + 2;
        while (*from == '0')
            from++;
        memmove(digits, from, strlen(from) + 1);
        n = (int)strlen(num);
    } else if (!strchr(num, '.')) {
        memcpy(num + n, ".0", 3);
        n += 2;
    }
    wire_put_bytes(b, num, (size_t)n);
}

/* Field names as keys: repaired like any string; of two that become the
 * same key, only the later is written (as a JSON object would keep it). */
static void jb_fields(wire *b, const parse_page *page,
                      const parse_field *fields)
{
    size_t n = page->n_fields;
    char **keys = calloc(n, sizeof *keys);
    int first = 1;
    if (!keys) {
        b->failed = 1;
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (!(keys[i] = record_utf8(fields[i].name, strlen(fields[i].name),
                                    NULL)))
            b->failed = 1;
    JB_LIT(b, ",\"fields\":{");
    for (size_t i = 0; i < n && !b->failed; i++) {
        size_t later = i + 1;
        while (later < n && strcmp(keys[i], keys[later]))
            later++;
        if (later < n)
            continue;
        if (!first)
            JB_LIT(b, ",");
        first = 0;
        jb_escaped(b, keys[i], strlen(keys[i]));
        JB_LIT(b, ":");
        jb_strv(b, &page->fields[i]);
    }
    JB_LIT(b, "}");
    for (size_t i = 0; i < n; i++)
        free(keys[i]);
    free(keys);
}

/* The timings in the order the record lists them. */
static const struct {
    const char *name;
    size_t offset;
} timing_keys[] = {
    {"queue", offsetof(fetch_timings, queue)},
    {"dns", offsetof(fetch_timings, dns)},
    {"connect", offsetof(fetch_timings, connect)},
    {"tls", offsetof(fetch_timings, tls)},
    {"ttfb", offsetof(fetch_timings, ttfb)},
    {"transfer", offsetof(fetch_timings, transfer)},
    {"write", offsetof(fetch_timings, write)},
    {"parse_wait", offsetof(fetch_timings, parse_wait)},
    {"parse", offsetof(fetch_timings, parse)},
    {"total", offsetof(fetch_timings, total)},
};

/* Ends b's text with a NUL: returns it malloced, or NULL (b cleared) when
 * memory ran out on the way. */
static char *text_of(wire *b)
{
    wire_put_bytes(b, "", 1);
    if (b->failed) {
        wire_clear(b);
        return NULL;
    }
    return b->buf;
}

char *record_json(const fetch_result *r, const parse_page *page,
                  const parse_field *fields, const char *parse_error)
{
    wire b = {0};
    const char *error = r->error ? r->error : parse_error;

    JB_LIT(&b, RECORD_JSON_PREFIX);
    jb_str(&b, r->url);
    JB_LIT(&b, ",\"final_url\":");
    jb_str(&b, r->final_url);
    JB_LIT(&b, ",\"status\":");
    jb_int(&b, r->status);
    JB_LIT(&b, ",\"bytes\":");
    jb_int(&b, (long long)r->bytes);
    JB_LIT(&b, ",\"content_type\":");
    jb_str(&b, r->content_type);
    JB_LIT(&b, ",\"sha256\":");
    jb_str(&b, r->sha256[0] ? r->sha256 : NULL);
    JB_LIT(&b, ",\"path\":");
    jb_str(&b, r->path);
    JB_LIT(&b, ",\"error\":");
    jb_str(&b, error);
    JB_LIT(&b, ",\"attempts\":");
    jb_int(&b, r->attempts);
    JB_LIT(&b, ",\"etag\":");
    jb_str(&b, r->etag);
    JB_LIT(&b, ",\"last_modified\":");
    jb_str(&b, r->last_modified);
    if (r->not_modified)
        JB_LIT(&b, ",\"unchanged\":true");
    else
        JB_LIT(&b, ",\"unchanged\":false");
    JB_LIT(&b, ",\"timings\":");
    for (size_t i = 0; i < sizeof timing_keys / sizeof *timing_keys; i++) {
        wire_put_bytes(&b, i ? ",\"" : "{\"", 2);
        wire_put_bytes(&b, timing_keys[i].name, strlen(timing_keys[i].name));
        JB_LIT(&b, "\":");
        jb_ms(&b, *(const double *)((const char *)&r->t +
                                     timing_keys[i].offset));
    }
    JB_LIT(&b, "}");
    if (page) {
        JB_LIT(&b, ",\"title\":");
        jb_str(&b, page->title);
        JB_LIT(&b, ",\"description\":");
        jb_str(&b, page->description);
        JB_LIT(&b, ",\"links\":");
        jb_strv(&b, &page->links);
        JB_LIT(&b, ",\"images\":");
        jb_strv(&b, &page->images);
        JB_LIT(&b, ",\"assets\":");
        jb_strv(&b, &page->assets);
        JB_LIT(&b, ",\"words\":");
        jb_int(&b, (long long)page->words);
        if (page->n_fields)
            jb_fields(&b, page, fields);
    }
    JB_LIT(&b, "}");
    return text_of(&b);
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

int record_found(const char *line, char ***found, size_t *nl, size_t *nr)
{
    json_t *rec = json_loads(line, 0, NULL);
    json_t *links = json_object_get(rec, "links");
    json_t *images = json_object_get(rec, "images");
    json_t *assets = json_object_get(rec, "assets");
    size_t n = 0, cap = json_array_size(links) + json_array_size(images) +
                        json_array_size(assets);
    *found = NULL;
    *nl = *nr = 0;
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
        rc = take_strings(images, v, &n) || take_strings(assets, v, &n);
        *nr = n - *nl;
    }
    if (rc) {
        for (size_t i = 0; i < n; i++)
            free(v[i]);
        free(v);
        *nl = *nr = 0;
    } else {
        *found = v;
    }
    json_decref(rec);
    return rc;
}

/* ---- CSV ---- */

/* Appends one cell: quoted when it holds a separator, a quote or a line
 * break, with quotes doubled. */
static void csv_cell(wire *b, const char *v, int first)
{
    if (!first)
        wire_put_bytes(b, ",", 1);
    if (!v)
        return;
    if (!v[strcspn(v, ",\"\r\n")]) {
        wire_put_bytes(b, v, strlen(v));
        return;
    }
    wire_put_bytes(b, "\"", 1);
    for (const char *p = v; *p; p++) {
        if (*p == '"')
            wire_put_bytes(b, "\"\"", 2);
        else
            wire_put_bytes(b, p, 1);
    }
    wire_put_bytes(b, "\"", 1);
}

static const char *const csv_cols[] = {
    "url", "final_url", "status", "bytes", "content_type", "sha256", "path",
    "error", "attempts", "total_ms", "title", "description", "words",
    "links", "images", "assets",
};
#define N_CSV_COLS (sizeof csv_cols / sizeof *csv_cols)

char *record_csv_header(const parse_field *fields, size_t n_fields)
{
    wire b = {0};
    for (size_t i = 0; i < N_CSV_COLS; i++)
        csv_cell(&b, csv_cols[i], i == 0);
    for (size_t i = 0; i < n_fields; i++)
        csv_cell(&b, fields[i].name, 0);
    wire_put_bytes(&b, "\r\n", 2);
    return text_of(&b);
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
        wire b = {0};
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
            if (i)
                wire_put_bytes(&b, ",", 1);
            const char *str = json_string_value(e);
            if (str)
                wire_put_bytes(&b, str, strlen(str));
        }
        return text_of(&b);
    }
    return json_dumps(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
}

char *record_csv(const char *line, const parse_field *fields,
                 size_t n_fields)
{
    json_t *rec = json_loads(line, 0, NULL);
    wire b = {0};
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
    wire_put_bytes(&b, "\r\n", 2);
    json_decref(rec);
    return text_of(&b);
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
