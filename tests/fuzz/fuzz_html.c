/* fuzz_html: libFuzzer target for the HTML extractor and the JSON record
 * built from its result. The input is an HTML page, parsed as if fetched
 * from DEFAULT_URL with no charset declared, links resolved by
 * fetch_url_resolve_all() and XPath fields; an input starting with a byte
 * 0x01..0x08 carries a header that picks the charset, the page URL and the
 * options (see read_header); 0x08 also repeats the page AMPLIFY times, so
 * that pages far larger than the fuzzer's inputs are parsed too (a deep
 * tree was once quadratic). Each page then becomes a record, and a second
 * record is built from raw input bytes; both must parse back as one line of
 * JSON holding the strings given, made valid UTF-8. */
#include "../../cmd/record.h"
#include "../../fetch/fetch.h"
#include "../../parse/parse.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_URL "http://example.com/dir/page.html"
#define AMPLIFY 32

static const char *const charsets[8] = {
    NULL, "UTF-8", "ISO-8859-1", "windows-1252",
    "Shift_JIS", "UTF-16", "no-such-charset", "",
};

static const char *const fixed_urls[4] = {
    DEFAULT_URL, NULL, NULL /* from the input */,
    "https://[::1]:8443/a/b/c?q=1#frag",
};

static const parse_field fields[] = {
    {"h", "//h1|//a/@href"},
    {"title", "string(//title)"},
    {"n", "count(//a)"},
};

typedef struct input {
    const char *charset;
    char *url;          /* owned; NULL: the page has no URL */
    int resolve, use_fields, odd_numbers;
    const uint8_t *html;   /* borrowed, or 'big' */
    size_t html_len;
    uint8_t *big;          /* owned; the repeated page, or NULL */
} input;

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_html: %s\n  [%.400s]\n", what,
            detail ? detail : "(null)");
    abort();
}

static char *dupn(const void *p, size_t n)
{
    char *s = malloc(n + 1);
    if (!s)
        abort();
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* Header: byte 0 in 0x01..0x08 marks it (0x08 also amplifies the page);
 * byte 1 holds the charset (bits 0-2), the URL (bits 3-4: default, none,
 * the input up to its first '\n', an IPv6 URL with a fragment), no
 * resolving (bit 5), no XPath fields (bit 6) and odd record numbers
 * (bit 7). */
static void read_header(const uint8_t *data, size_t size, input *in)
{
    memset(in, 0, sizeof *in);
    in->url = strdup(DEFAULT_URL);
    in->resolve = in->use_fields = 1;
    in->html = data;
    in->html_len = size;
    if (size < 2 || data[0] < 0x01 || data[0] > 0x08)
        return;
    uint8_t cfg = data[1];
    in->charset = charsets[cfg & 7];
    in->resolve = !(cfg & 0x20);
    in->use_fields = !(cfg & 0x40);
    in->odd_numbers = !!(cfg & 0x80);
    in->html = data + 2;
    in->html_len = size - 2;
    free(in->url);
    in->url = NULL;
    unsigned which = (cfg >> 3) & 3;
    if (which == 2) {
        const uint8_t *nl = memchr(in->html, '\n', in->html_len);
        size_t n = nl ? (size_t)(nl - in->html) : in->html_len;
        in->url = dupn(in->html, n);
        in->html += nl ? n + 1 : n;
        in->html_len -= nl ? n + 1 : n;
    } else if (fixed_urls[which]) {
        in->url = strdup(fixed_urls[which]);
    }
    if (data[0] == 0x08 && in->html_len) {
        if (!(in->big = malloc(in->html_len * AMPLIFY)))
            abort();
        for (size_t i = 0; i < AMPLIFY; i++)
            memcpy(in->big + i * in->html_len, in->html, in->html_len);
        in->html = in->big;
        in->html_len *= AMPLIFY;
    }
}

static int resolve_cb(void *ctx, const char *base, char *const *refs,
                      size_t n, char **out)
{
    (void)ctx;
    return fetch_url_resolve_all(base, refs, n, out, NULL);
}

/* What record_json() must have made of s: JSON null, or s as valid UTF-8. */
static void check_string(json_t *o, const char *key, const char *s)
{
    json_t *v = json_object_get(o, key);
    if (!s) {
        if (!json_is_null(v))
            fail("record: expected null for", key);
        return;
    }
    size_t n;
    char *want = record_utf8(s, strlen(s), &n);
    if (!want)
        abort();
    if (!json_is_string(v) || json_string_length(v) != n ||
        memcmp(json_string_value(v), want, n))
        fail("record: string does not round-trip for", key);
    free(want);
}

static void check_strv(json_t *o, const char *key, const parse_strv *sv)
{
    json_t *a = json_object_get(o, key);
    if (!json_is_array(a) || json_array_size(a) != sv->n)
        fail("record: list does not round-trip for", key);
    for (size_t i = 0; i < sv->n; i++) {
        size_t n;
        char *want = record_utf8(sv->v[i], strlen(sv->v[i]), &n);
        json_t *v = json_array_get(a, i);
        if (!want)
            abort();
        if (!json_is_string(v) || json_string_length(v) != n ||
            memcmp(json_string_value(v), want, n))
            fail("record: list item does not round-trip for", key);
        free(want);
    }
}

/* Builds the record of r and page and checks that it is one line of JSON
 * that gives back what went in. */
static void check_record(const fetch_result *r, const parse_page *page,
                         const parse_field *fl, const char *parse_error)
{
    char *line = record_json(r, page, fl, parse_error);
    if (!line)
        fail("record_json returned NULL (only allowed when out of memory)",
             r->url);
    if (strchr(line, '\n'))
        fail("record is more than one line", line);
    json_error_t jerr;
    json_t *o = json_loads(line, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
                           &jerr);
    if (!o || !json_is_object(o)) {
        fprintf(stderr, "fuzz_html: %s at %d\n", jerr.text, jerr.position);
        fail("record does not parse back as a JSON object", line);
    }
    check_string(o, "url", r->url);
    check_string(o, "final_url", r->final_url);
    check_string(o, "content_type", r->content_type);
    check_string(o, "path", r->path);
    check_string(o, "error", r->error ? r->error : parse_error);
    if (json_integer_value(json_object_get(o, "status")) != r->status)
        fail("record: status does not round-trip", line);
    if (!json_is_object(json_object_get(o, "timings")))
        fail("record: no timings", line);
    if (page) {
        check_string(o, "title", page->title);
        check_string(o, "description", page->description);
        check_strv(o, "links", &page->links);
        check_strv(o, "images", &page->images);
        if (page->n_fields && !json_is_object(json_object_get(o, "fields")))
            fail("record: no fields", line);
    }
    json_decref(o);
    free(line);
}

/* record_utf8() on raw bytes (NULs included): the result is valid UTF-8
 * (jansson's checking constructor agrees), and input that already was
 * valid comes back unchanged. */
static void check_utf8(const uint8_t *p, size_t n)
{
    size_t outlen = 0;
    char *u = record_utf8((const char *)p, n, &outlen);
    if (!u)
        abort();
    if (u[outlen] != '\0' || outlen > n * 3)
        fail("record_utf8: bad length or terminator", u);
    json_t *j = json_stringn(u, outlen);
    if (!j)
        fail("record_utf8: output is not valid UTF-8", u);
    json_decref(j);
    json_t *orig = json_stringn((const char *)p, n);
    if (orig && (outlen != n || memcmp(u, p, n)))
        fail("record_utf8: changed valid UTF-8", u);
    json_decref(orig);
    free(u);
}

/* Cuts the next '\n'-terminated piece off *p as a string. */
static char *piece(const uint8_t **p, const uint8_t *end)
{
    if (*p >= end)
        return NULL;
    const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
    size_t n = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
    char *s = dupn(*p, n);
    *p += nl ? n + 1 : n;
    return s;
}

/* A record whose every string is a '\n'-separated piece of raw input:
 * url, final_url, content_type, error, title, description, a field name,
 * then links. */
static void check_raw_record(const input *in, const uint8_t *data,
                             size_t size)
{
    const uint8_t *p = in->html, *end = in->html + in->html_len;
    fetch_result r = {0};
    parse_page pg = {0};
    parse_field fl[1];
    parse_strv fv = {0};
    char *fname;

    r.url = piece(&p, end);
    r.final_url = piece(&p, end);
    r.content_type = piece(&p, end);
    r.error = piece(&p, end);
    pg.title = piece(&p, end);
    pg.description = piece(&p, end);
    fname = piece(&p, end);
    for (int i = 0; i < 8 && p < end; i++) {
        char *s = piece(&p, end);
        if (pg.links.n == pg.links.cap) {
            pg.links.cap = pg.links.cap ? pg.links.cap * 2 : 4;
            pg.links.v = realloc(pg.links.v, pg.links.cap * sizeof(char *));
            if (!pg.links.v)
                abort();
        }
        pg.links.v[pg.links.n++] = s;
    }
    if (!r.url)
        r.url = strdup("");
    if (fname) {
        fl[0].name = fname;
        fl[0].expr = "";
        pg.fields = &fv;
        pg.n_fields = 1;
    }
    if (in->odd_numbers && size >= 10) {
        /* Whatever the clocks say must not lose the record. */
        double d;
        uint64_t u;
        memcpy(&d, data + size - 8, sizeof d);
        memcpy(&u, data + size - 8, sizeof u);
        r.t.queue = d;
        r.t.total = -d;
        r.t.dns = d * 1e300;
        r.t.parse = d / 1e300;
        r.bytes = u;
        r.status = (long)u;
    }
    if (r.url[0] & 1) {
        r.path = strdup(r.url);
        memset(r.sha256, 'a', 64);
    }
    check_record(&r, &pg, fname ? fl : NULL,
                 r.error ? NULL : "parse error \xff");
    check_record(&r, NULL, NULL, NULL);

    pg.fields = NULL;
    pg.n_fields = 0;
    parse_page_clear(&pg);
    free(fname);
    fetch_result_clear(&r);
}

/* Title, description and field values have whitespace collapsed: no
 * blank at either end, no two in a row, no tab, newline, NBSP or U+3000. */
static void check_collapsed(const char *what, const char *s)
{
    if (!s)
        return;
    size_t n = strlen(s);
    if ((n && (s[0] == ' ' || s[n - 1] == ' ')) || strstr(s, "  ") ||
        strpbrk(s, "\t\n\v\f\r") || strstr(s, "\xc2\xa0") ||
        strstr(s, "\xe3\x80\x80")) {
        fprintf(stderr, "fuzz_html: in the %s:\n", what);
        fail("parse_html: whitespace not collapsed", s);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    parse_global_init();
    if (fetch_global_init())
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    input in;
    read_header(data, size, &in);

    parse_opts o = {0};
    if (in.resolve)
        o.resolve = resolve_cb;
    if (in.use_fields) {
        o.fields = fields;
        o.n_fields = sizeof fields / sizeof fields[0];
    }
    parse_page page = {0};
    char err[256] = "";
    int rc = parse_html((const char *)in.html, in.html_len, in.url,
                        in.charset, &o, &page, err, sizeof err);
    if (rc < 0 || rc >= PARSE_NCODES)
        fail("parse_html: result is not a parse_code", err);
    if (rc == PARSE_OK) {
        if (in.use_fields && page.n_fields != o.n_fields)
            fail("parse_html: wrong number of fields", err);
        /* Resolved links are absolute http(s) without a fragment. */
        for (size_t i = 0; in.resolve && i < page.links.n; i++) {
            const char *l = page.links.v[i];
            if ((strncmp(l, "http://", 7) && strncmp(l, "https://", 8)) ||
                strchr(l, '#'))
                fail("parse_html: link not absolute http(s)", l);
        }
        /* Links are unique (checked on small pages; it is quadratic). */
        for (size_t i = 0; page.links.n < 256 && i < page.links.n; i++)
            for (size_t k = i + 1; k < page.links.n; k++)
                if (!strcmp(page.links.v[i], page.links.v[k]))
                    fail("parse_html: duplicate link", page.links.v[i]);
        check_collapsed("title", page.title);
        check_collapsed("description", page.description);
        for (size_t f = 0; f < page.n_fields; f++)
            for (size_t i = 0; i < page.fields[f].n; i++)
                check_collapsed("field value", page.fields[f].v[i]);
    }

    fetch_result r = {0};
    r.url = in.url ? strdup(in.url) : strdup("");
    r.final_url = in.url ? strdup(in.url) : NULL;
    r.content_type = strdup("text/html; charset=x");
    r.status = 200;
    r.is_html = 1;
    check_record(&r, rc == PARSE_OK ? &page : NULL, fields,
                 rc == PARSE_OK ? NULL : err);
    fetch_result_clear(&r);
    parse_page_clear(&page);

    check_utf8(in.html, in.html_len < 4096 ? in.html_len : 4096);
    check_raw_record(&in, data, size);
    free(in.url);
    free(in.big);
    return 0;
}
