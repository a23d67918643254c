/* test_record: record_utf8() and record_json(). Every record is parsed back
 * with jansson and checked field by field, because a record that does not
 * parse, or parses into something else, is lost to whoever reads it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/record.h"

#define FFFD "\xef\xbf\xbd"

/* ---- record_utf8 ---- */

typedef struct utf8_case {
    const char *in;
    size_t n;
    const char *want;
    size_t want_n;
} utf8_case;

/* Lengths come from sizeof so that embedded NULs count. */
#define U(in, want) {in, sizeof(in) - 1, want, sizeof(want) - 1}

static void hexdump(char *dst, size_t cap, const char *s, size_t n)
{
    size_t o = 0;
    dst[0] = '\0';
    for (size_t i = 0; i < n && o + 4 < cap; i++)
        o += (size_t)snprintf(dst + o, cap - o, "%02x ", (unsigned char)s[i]);
}

static void check_utf8(const utf8_case *c)
{
    size_t n = 12345;
    char *got = record_utf8(c->in, c->n, &n);
    assert_non_null(got);
    int same = n == c->want_n && !memcmp(got, c->want, n) && got[n] == '\0';
    char g[512], w[512], i[512];
    hexdump(g, sizeof g, got, n);
    free(got);
    if (!same) {
        hexdump(w, sizeof w, c->want, c->want_n);
        hexdump(i, sizeof i, c->in, c->n);
        fail_msg("record_utf8(%s):\n   got  %s\n   want %s", i, g, w);
    }
}

static void check_utf8_all(const utf8_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++)
        check_utf8(&cases[i]);
}

#define CHECK_ALL(cases) check_utf8_all(cases, sizeof cases / sizeof cases[0])

static void test_utf8_valid_kept(void **state)
{
    (void)state;
    static const utf8_case cases[] = {
        U("", ""),
        U("plain ascii \x01\x7f", "plain ascii \x01\x7f"),
        U("caf\xc3\xa9", "caf\xc3\xa9"),                    /* U+00E9 */
        U("\xc2\x80", "\xc2\x80"),                          /* U+0080 */
        U("\xdf\xbf", "\xdf\xbf"),                          /* U+07FF */
        U("\xe0\xa0\x80", "\xe0\xa0\x80"),                  /* U+0800 */
        U("\xe2\x82\xac", "\xe2\x82\xac"),                  /* euro */
        U("\xed\x9f\xbf", "\xed\x9f\xbf"),                  /* U+D7FF */
        U("\xee\x80\x80", "\xee\x80\x80"),                  /* U+E000 */
        U("\xef\xbf\xbf", "\xef\xbf\xbf"),                  /* U+FFFF */
        U("\xf0\x90\x80\x80", "\xf0\x90\x80\x80"),          /* U+10000 */
        U("\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"),          /* emoji */
        U("\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"),          /* U+10FFFF */
        U("\xe6\x97\xa5\xe6\x9c\xac", "\xe6\x97\xa5\xe6\x9c\xac"),
        /* NUL is a valid character and is kept. */
        U("a\0b", "a\0b"),
        U("\0", "\0"),
    };
    CHECK_ALL(cases);
}

/* Every byte that cannot start or continue a valid sequence becomes one
 * U+FFFD, as the header documents. */
static void test_utf8_invalid_replaced(void **state)
{
    (void)state;
    static const utf8_case cases[] = {
        /* Lone continuation bytes. */
        U("\x80", FFFD),
        U("a\xbf" "b", "a" FFFD "b"),
        U("\x80\x80", FFFD FFFD),
        /* Sequences cut short by the end of the string. */
        U("a\xc3", "a" FFFD),
        U("a\xe2\x82", "a" FFFD FFFD),
        U("\xf0\x9f\x98", FFFD FFFD FFFD),
        /* ...or by a byte that is not a continuation. */
        U("\xc3" "A", FFFD "A"),
        U("\xe2\x82" "A", FFFD FFFD "A"),
        U("\xf0\x9f" "\xc3\xa9", FFFD FFFD "\xc3\xa9"),
        /* Overlong forms. */
        U("\xc0\x80", FFFD FFFD),
        U("\xc1\xbf", FFFD FFFD),
        U("\xc0\xae\xc0\xae", FFFD FFFD FFFD FFFD),
        U("\xe0\x80\x80", FFFD FFFD FFFD),
        U("\xe0\x9f\xbf", FFFD FFFD FFFD),
        U("\xf0\x80\x80\x80", FFFD FFFD FFFD FFFD),
        U("\xf0\x8f\xbf\xbf", FFFD FFFD FFFD FFFD),
        /* UTF-16 surrogates. */
        U("\xed\xa0\x80", FFFD FFFD FFFD),
        U("\xed\xbf\xbf", FFFD FFFD FFFD),
        /* Beyond U+10FFFF. */
        U("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD),
        /* Bytes that never occur in UTF-8. */
        U("\xf5", FFFD),
        U("\xf8\x88\x80\x80\x80", FFFD FFFD FFFD FFFD FFFD),
        U("\xfe\xff", FFFD FFFD),
        U("x\xffy", "x" FFFD "y"),
        /* Damage does not spread to the valid text around it. */
        U("\xc3\xa9\x80\xc3\xa9", "\xc3\xa9" FFFD "\xc3\xa9"),
        U("\0\xff\0", "\0" FFFD "\0"),
    };
    CHECK_ALL(cases);
}

static void test_utf8_outlen_optional(void **state)
{
    (void)state;
    char *s = record_utf8("a\xff", 2, NULL);
    assert_non_null(s);
    int ok = !strcmp(s, "a" FFFD);
    free(s);
    assert_true(ok);
}

static uint64_t rng_state = 0x2545F4914F6CDD1DULL;

static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

/* For random bytes, biased towards the interesting ones, the output is
 * valid UTF-8 by jansson's own checker, and cleaning it again changes
 * nothing. */
static void test_utf8_random_bytes(void **state)
{
    (void)state;
    static const unsigned char bias[] = {0x00, 0x7f, 0x80, 0xbf, 0xc0, 0xc1,
                                         0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0,
                                         0xf4, 0xf5, 0xff, 'a'};
    for (int round = 0; round < 3000; round++) {
        unsigned char in[64];
        size_t n = (size_t)(rng() % sizeof in);
        for (size_t i = 0; i < n; i++) {
            uint64_t r = rng();
            in[i] = r & 1 ? bias[(r >> 8) % sizeof bias] : (unsigned char)(r >> 16);
        }
        size_t n1, n2;
        char *once = record_utf8((const char *)in, n, &n1);
        assert_non_null(once);
        char *twice = record_utf8(once, n1, &n2);
        assert_non_null(twice);
        json_t *j = json_stringn(once, n1);
        int valid = j != NULL;
        int stable = n1 == n2 && !memcmp(once, twice, n1);
        int bounded = n1 <= n * 3;
        json_decref(j);
        free(once);
        free(twice);
        if (!valid || !stable || !bounded) {
            char h[256];
            hexdump(h, sizeof h, (const char *)in, n);
            fail_msg("input %s: valid %d, stable %d, bounded %d", h, valid,
                     stable, bounded);
        }
    }
}

/* ---- record_json ---- */

/* Fills r with owned copies, as the fetch module would. */
static void make_result(fetch_result *r, const char *url, const char *final,
                        long status, uint64_t bytes, const char *ctype,
                        const char *sha, const char *path, const char *error)
{
    memset(r, 0, sizeof *r);
    r->url = url ? strdup(url) : NULL;
    r->final_url = final ? strdup(final) : NULL;
    r->status = status;
    r->bytes = bytes;
    r->content_type = ctype ? strdup(ctype) : NULL;
    snprintf(r->sha256, sizeof r->sha256, "%s", sha);
    r->path = path ? strdup(path) : NULL;
    r->error = error ? strdup(error) : NULL;
}

static void strv_add(parse_strv *v, const char *s)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 4;
        v->v = realloc(v->v, v->cap * sizeof *v->v);
        assert_non_null(v->v);
    }
    v->v[v->n] = strdup(s);
    assert_non_null(v->v[v->n]);
    v->n++;
}

/* Builds the record, checks it is one line, and parses it back. */
static json_t *record_roundtrip(const fetch_result *r, const parse_page *pg,
                                const parse_field *fields,
                                const char *parse_error)
{
    char *line = record_json(r, pg, fields, parse_error);
    assert_non_null(line);
    int one_line = strchr(line, '\n') == NULL && strchr(line, '\r') == NULL;
    json_error_t e;
    json_t *j = json_loads(line, JSON_REJECT_DUPLICATES, &e);
    if (!j || !one_line)
        print_error("record: %s\n", line);
    if (!j) {
        free(line);
        fail_msg("record does not parse: %s at %d", e.text, e.position);
    }
    /* Written as jansson writes it (what record_unchanged() rewrites must
     * look the same): its dump of the parsed record is the same line. */
    char *again = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(15));
    int same = again && !strcmp(again, line);
    if (!same)
        print_error("record: %s\njansson: %s\n", line, again);
    free(again);
    free(line);
    if (!one_line || !same) {
        json_decref(j);
        fail_msg("%s", !same ? "record is not written as jansson writes it"
                             : "record spans more than one line");
    }
    assert_true(json_is_object(j));
    return j;
}

static const char SHA[] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

static void expect_str(json_t *o, const char *key, const char *want)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        fail_msg("key \"%s\" missing", key);
    if (!want) {
        if (!json_is_null(v))
            fail_msg("\"%s\" should be null", key);
        return;
    }
    if (!json_is_string(v))
        fail_msg("\"%s\" should be a string", key);
    size_t n = json_string_length(v);
    if (n != strlen(want) || memcmp(json_string_value(v), want, n))
        fail_msg("\"%s\": got \"%s\", want \"%s\"", key,
                 json_string_value(v), want);
}

static void expect_int(json_t *o, const char *key, json_int_t want)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        fail_msg("\"%s\" should be an integer", key);
    assert_int_equal(json_integer_value(v), want);
}

static void expect_real(json_t *o, const char *key, double want)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_number(v))
        fail_msg("timing \"%s\" should be a number", key);
    double got = json_number_value(v);
    if (fabs(got - want) > 1e-9)
        fail_msg("timing \"%s\": got %.9f, want %.9f", key, got, want);
}

static void expect_strv(json_t *o, const char *key, const char *const *want,
                        size_t n)
{
    json_t *a = json_object_get(o, key);
    if (!json_is_array(a))
        fail_msg("\"%s\" should be an array", key);
    assert_int_equal(json_array_size(a), n);
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_array_get(a, i);
        if (!json_is_string(s) || strcmp(json_string_value(s), want[i]))
            fail_msg("\"%s\"[%zu]: want \"%s\"", key, i, want[i]);
    }
}

static void test_json_success_record(void **state)
{
    (void)state;
    fetch_result r;
    make_result(&r, "http://example.com/a", "https://example.com/a/", 200,
                5000000000ULL, "text/html; charset=utf-8", SHA,
                "out/example.com/a/index.html", NULL);
    r.t = (fetch_timings){.queue = 0.25, .dns = 1.5, .connect = 2.125,
                          .tls = 3.0, .ttfb = 10.75, .transfer = 20.5,
                          .write = 0.5, .parse_wait = 1.25, .parse = 4.0,
                          .total = 43.375};
    r.attempts = 2;
    json_t *j = record_roundtrip(&r, NULL, NULL, NULL);
    fetch_result_clear(&r);

    expect_str(j, "url", "http://example.com/a");
    expect_str(j, "final_url", "https://example.com/a/");
    expect_int(j, "status", 200);
    expect_int(j, "bytes", 5000000000LL); /* past 32 bits */
    expect_str(j, "content_type", "text/html; charset=utf-8");
    expect_str(j, "sha256", SHA);
    expect_str(j, "path", "out/example.com/a/index.html");
    expect_str(j, "error", NULL);
    expect_int(j, "attempts", 2);
    /* Validators: null when the response had none. */
    expect_str(j, "etag", NULL);
    expect_str(j, "last_modified", NULL);
    assert_true(json_is_false(json_object_get(j, "unchanged")));
    json_t *t = json_object_get(j, "timings");
    assert_true(json_is_object(t));
    assert_int_equal(json_object_size(t), 10);
    expect_real(t, "write", 0.5);
    expect_real(t, "parse_wait", 1.25);
    expect_real(t, "parse", 4.0);
    expect_real(t, "queue", 0.25);
    expect_real(t, "dns", 1.5);
    expect_real(t, "connect", 2.125);
    expect_real(t, "tls", 3.0);
    expect_real(t, "ttfb", 10.75);
    expect_real(t, "transfer", 20.5);
    expect_real(t, "total", 43.375);
    /* Without a parsed page, no page keys. */
    assert_null(json_object_get(j, "title"));
    assert_null(json_object_get(j, "links"));
    assert_null(json_object_get(j, "words"));
    assert_null(json_object_get(j, "fields"));
    json_decref(j);
}

/* A 304 to a conditional request: a success with no body and no file,
 * the validators the server sent again, and "unchanged". */
static void test_json_not_modified_record(void **state)
{
    (void)state;
    fetch_result r;
    make_result(&r, "http://example.com/a.html", "http://example.com/a.html",
                304, 0, NULL, "", NULL, NULL);
    r.etag = strdup("\"5f-1a2b\"");
    r.last_modified = strdup("Tue, 01 Oct 2024 10:00:00 GMT");
    r.not_modified = 1;
    json_t *j = record_roundtrip(&r, NULL, NULL, NULL);
    fetch_result_clear(&r);

    expect_int(j, "status", 304);
    expect_int(j, "bytes", 0);
    expect_str(j, "sha256", NULL);
    expect_str(j, "path", NULL);
    expect_str(j, "error", NULL);
    expect_str(j, "etag", "\"5f-1a2b\"");
    expect_str(j, "last_modified", "Tue, 01 Oct 2024 10:00:00 GMT");
    assert_true(json_is_true(json_object_get(j, "unchanged")));
    json_decref(j);
}

static void test_json_failed_record(void **state)
{
    (void)state;
    fetch_result r;
    make_result(&r, "http://unreachable.invalid/", NULL, 0, 0, NULL, "", NULL,
                "Could not resolve host: unreachable.invalid");
    json_t *j = record_roundtrip(&r, NULL, NULL, "ignored parse error");
    fetch_result_clear(&r);

    expect_str(j, "url", "http://unreachable.invalid/");
    expect_str(j, "final_url", NULL);
    expect_int(j, "status", 0);
    expect_int(j, "bytes", 0);
    expect_str(j, "content_type", NULL);
    expect_str(j, "sha256", NULL); /* "" means no body: null */
    expect_str(j, "path", NULL);
    /* The fetch error wins over a parse error. */
    expect_str(j, "error", "Could not resolve host: unreachable.invalid");
    assert_true(json_is_object(json_object_get(j, "timings")));
    json_decref(j);
}

static void test_json_parse_error_used(void **state)
{
    (void)state;
    fetch_result r;
    make_result(&r, "http://h/", "http://h/", 200, 3, "text/html", SHA, NULL,
                NULL);
    json_t *j = record_roundtrip(&r, NULL, NULL, "HTML could not be parsed");
    fetch_result_clear(&r);
    expect_str(j, "error", "HTML could not be parsed");
    json_decref(j);
}

/* Timings are rounded to microseconds, to keep records short. */
static void test_json_timings_rounded(void **state)
{
    (void)state;
    fetch_result r;
    make_result(&r, "http://h/", NULL, 0, 0, NULL, "", NULL, NULL);
    r.t = (fetch_timings){.queue = 0.0004, .dns = 1.23456789,
                          .connect = 2.0006, .total = 123456.7891234};
    json_t *j = record_roundtrip(&r, NULL, NULL, NULL);
    fetch_result_clear(&r);
    json_t *t = json_object_get(j, "timings");
    expect_real(t, "queue", 0.0);
    expect_real(t, "dns", 1.235);
    expect_real(t, "connect", 2.001);
    expect_real(t, "tls", 0.0);
    expect_real(t, "total", 123456.789);
    json_decref(j);
}

/* Numbers at the edges of how a real is written: exponents, integers
 * (which must still read as reals), and what JSON cannot hold. */
static void test_json_timings_edges(void **state)
{
    (void)state;
    static const struct {
        double in, want;
    } cases[] = {
        {0, 0},           {1e-9, 0},        {0.0005, 0.001},
        {42, 42},         {1e15, 1e15},     {1.5e17, 1.5e17},
        {1e300, 1e300},   {1e306, 0},       {NAN, 0},
        {INFINITY, 0},    {-INFINITY, 0},   {-5, 0},
        {123456789.0125, 123456789.013},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fetch_result r;
        make_result(&r, "http://h/", NULL, 0, 0, NULL, "", NULL, NULL);
        r.t.total = cases[i].in;
        json_t *j = record_roundtrip(&r, NULL, NULL, NULL);
        fetch_result_clear(&r);
        json_t *t = json_object_get(json_object_get(j, "timings"), "total");
        if (!json_is_real(t) ||
            fabs(json_real_value(t) - cases[i].want) >
                1e-9 * fmax(1, fabs(cases[i].want)))
            fail_msg("total %g: got %.17g, want %.17g", cases[i].in,
                     json_real_value(t), cases[i].want);
        json_decref(j);
    }
}

/* Timings of every magnitude, many on a rounding edge: each must be
 * written as jansson writes it (record_roundtrip compares byte for byte)
 * and read back as the value rounded to microseconds (to 15 significant
 * digits, which only values of 1e12 ms and over have more than). */
static void test_json_timings_random(void **state)
{
    (void)state;
    srand(1121);
    for (int i = 0; i < 20000; i++) {
        double mag = pow(10, (double)(rand() % 19) - 4); /* 1e-4 .. 1e14 */
        double ms = mag * ((double)rand() / RAND_MAX) * 10;
        if (i % 3 == 0) /* exactly on a half microsecond */
            ms = (floor(ms * 1000) + 0.5) / 1000;
        else if (i % 3 == 1) /* a whole number of milliseconds */
            ms = floor(ms);
        fetch_result r;
        make_result(&r, "http://h/", NULL, 0, 0, NULL, "", NULL, NULL);
        r.t.total = ms;
        json_t *j = record_roundtrip(&r, NULL, NULL, NULL);
        fetch_result_clear(&r);
        json_t *t = json_object_get(json_object_get(j, "timings"), "total");
        /* Past 15 significant digits a real keeps only 15. */
        char num[40];
        snprintf(num, sizeof num, "%.15g", round(ms * 1000) / 1000);
        double want = strtod(num, NULL);
        if (!json_is_real(t) || json_real_value(t) != want)
            fail_msg("total %.17g: got %.17g, want %.17g", ms,
                     json_real_value(t), want);
        json_decref(j);
    }
}

static void test_json_page_fields(void **state)
{
    (void)state;
    fetch_result r;
    parse_page pg = {0};
    make_result(&r, "http://h/p", "http://h/p", 200, 100, "text/html", SHA,
                "h/p", NULL);
    pg.title = strdup("The title");
    strv_add(&pg.links, "http://h/a");
    strv_add(&pg.links, "http://h/b");
    strv_add(&pg.images, "http://h/i.png");
    pg.words = 42;
    pg.fields = calloc(2, sizeof *pg.fields);
    assert_non_null(pg.fields);
    pg.n_fields = 2;
    strv_add(&pg.fields[0], "One");
    strv_add(&pg.fields[0], "Two");
    strv_add(&pg.fields[1], "3");
    const parse_field fields[] = {{"h1s", "//h1"}, {"count", "count(//a)"}};

    json_t *j = record_roundtrip(&r, &pg, fields, NULL);
    fetch_result_clear(&r);
    parse_page_clear(&pg);

    expect_str(j, "title", "The title");
    expect_str(j, "description", NULL);
    expect_strv(j, "links", (const char *const[]){"http://h/a", "http://h/b"},
                2);
    expect_strv(j, "images", (const char *const[]){"http://h/i.png"}, 1);
    expect_int(j, "words", 42);
    json_t *f = json_object_get(j, "fields");
    assert_true(json_is_object(f));
    assert_int_equal(json_object_size(f), 2);
    expect_strv(f, "h1s", (const char *const[]){"One", "Two"}, 2);
    expect_strv(f, "count", (const char *const[]){"3"}, 1);
    json_decref(j);
}

static void test_json_empty_page(void **state)
{
    (void)state;
    fetch_result r;
    parse_page pg = {0};
    make_result(&r, "http://h/", "http://h/", 200, 0, "text/html", SHA, NULL,
                NULL);
    json_t *j = record_roundtrip(&r, &pg, NULL, NULL);
    fetch_result_clear(&r);

    expect_str(j, "title", NULL);
    expect_str(j, "description", NULL);
    expect_strv(j, "links", NULL, 0);
    expect_strv(j, "images", NULL, 0);
    expect_int(j, "words", 0);
    /* No fields asked for: no "fields" key at all. */
    assert_null(json_object_get(j, "fields"));
    json_decref(j);
}

/* Strings from the network, with everything JSON must escape and bytes
 * that are not UTF-8, come back as sent (invalid bytes as U+FFFD). */
static void test_json_hostile_strings(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"say \"hi\"", "say \"hi\""},
        {"back\\slash\\", "back\\slash\\"},
        {"tab\there\nnewline\r\n", "tab\there\nnewline\r\n"},
        {"\x01\x02\x1f\x7f", "\x01\x02\x1f\x7f"},
        {"</script><!--", "</script><!--"},
        {"emoji \xf0\x9f\x8e\x89 \xe6\x97\xa5\xe6\x9c\xac",
         "emoji \xf0\x9f\x8e\x89 \xe6\x97\xa5\xe6\x9c\xac"},
        {"\xe2\x80\xa8line sep\xe2\x80\xa9", "\xe2\x80\xa8line sep\xe2\x80\xa9"},
        {"latin1 caf\xe9", "latin1 caf" FFFD},
        {"\xc0\xaf\xed\xa0\x80", FFFD FFFD FFFD FFFD FFFD},
        {"\xff\xfe\xfd", FFFD FFFD FFFD},
        /* Valid-looking lead bytes that UTF-8 still forbids: an overlong,
         * past U+10FFFF, a truncated sequence at the end. */
        {"a\xe0\x80\x80", "a" FFFD FFFD FFFD},
        {"\xf4\x90\x80\x80z", FFFD FFFD FFFD FFFD "z"},
        {"ok\xe6\x97", "ok" FFFD FFFD},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fetch_result r;
        parse_page pg = {0};
        make_result(&r, cases[i].in, cases[i].in, 200, 1, cases[i].in, "",
                    cases[i].in, cases[i].in);
        r.etag = strdup(cases[i].in);
        r.last_modified = strdup(cases[i].in);
        pg.title = strdup(cases[i].in);
        pg.description = strdup(cases[i].in);
        strv_add(&pg.links, cases[i].in);
        strv_add(&pg.images, cases[i].in);
        pg.fields = calloc(1, sizeof *pg.fields);
        assert_non_null(pg.fields);
        pg.n_fields = 1;
        strv_add(&pg.fields[0], cases[i].in);
        const parse_field fields[] = {{cases[i].in, "//x"}};

        json_t *j = record_roundtrip(&r, &pg, fields, NULL);
        fetch_result_clear(&r);
        parse_page_clear(&pg);

        static const char *const keys[] = {"url", "final_url",
                                           "content_type", "path", "error",
                                           "etag", "last_modified",
                                           "title", "description"};
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
            expect_str(j, keys[k], cases[i].want);
        expect_strv(j, "links", &cases[i].want, 1);
        expect_strv(j, "images", &cases[i].want, 1);
        /* The field name is a key; it is cleaned the same way. */
        expect_strv(json_object_get(j, "fields"), cases[i].want,
                    &cases[i].want, 1);
        json_decref(j);
    }
}

/* Random strings of every byte value but NUL, mostly in runs that are
 * escaped, in every string of a record: each comes back as record_utf8()
 * makes it, and the line is what jansson would write. */
static void test_json_random_strings(void **state)
{
    (void)state;
    static const char alphabet[] = "\"\\\b\f\n\r\t\x01\x1f\x7f "
                                   "az/\xc3\xa9\xe2\x80\xa8\xf0\x9f\x8e\x89\xff";
    for (int round = 0; round < 2000; round++) {
        char in[64];
        size_t n = rng() % (sizeof in - 1);
        for (size_t i = 0; i < n; i++)
            in[i] = rng() % 4 ? alphabet[rng() % (sizeof alphabet - 1)]
                              : (char)(1 + rng() % 255);
        in[n] = '\0';
        size_t want_n;
        char *want = record_utf8(in, n, &want_n);
        assert_non_null(want);

        fetch_result r;
        parse_page pg = {0};
        make_result(&r, in, in, 200, 1, in, "", in, in);
        pg.title = strdup(in);
        strv_add(&pg.links, in);
        strv_add(&pg.links, "http://h/");
        json_t *j = record_roundtrip(&r, &pg, NULL, NULL);
        fetch_result_clear(&r);
        parse_page_clear(&pg);
        static const char *const keys[] = {"url", "final_url", "content_type",
                                           "path", "error", "title"};
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
            expect_str(j, keys[k], want);
        const char *links[] = {want, "http://h/"};
        expect_strv(j, "links", links, 2);
        free(want);
        json_decref(j);
    }
}

/* Every non-NUL byte value at once, as binary garbage would arrive. */
static void test_json_binary_garbage(void **state)
{
    (void)state;
    char garbage[256];
    for (int i = 1; i < 256; i++)
        garbage[i - 1] = (char)i;
    garbage[255] = '\0';
    size_t want_n;
    char *want = record_utf8(garbage, 255, &want_n);
    assert_non_null(want);

    fetch_result r;
    parse_page pg = {0};
    make_result(&r, "http://h/", NULL, 0, 0, garbage, "", NULL, NULL);
    pg.title = strdup(garbage);
    json_t *j = record_roundtrip(&r, &pg, NULL, NULL);
    fetch_result_clear(&r);
    parse_page_clear(&pg);

    json_t *t = json_object_get(j, "title");
    int same = json_is_string(t) && json_string_length(t) == want_n &&
               !memcmp(json_string_value(t), want, want_n);
    json_t *c = json_object_get(j, "content_type");
    same &= json_is_string(c) && json_string_length(c) == want_n &&
            !memcmp(json_string_value(c), want, want_n);
    free(want);
    json_decref(j);
    assert_true(same);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_valid_kept),
        cmocka_unit_test(test_utf8_invalid_replaced),
        cmocka_unit_test(test_utf8_outlen_optional),
        cmocka_unit_test(test_utf8_random_bytes),
        cmocka_unit_test(test_json_success_record),
        cmocka_unit_test(test_json_not_modified_record),
        cmocka_unit_test(test_json_failed_record),
        cmocka_unit_test(test_json_parse_error_used),
        cmocka_unit_test(test_json_timings_rounded),
        cmocka_unit_test(test_json_page_fields),
        cmocka_unit_test(test_json_empty_page),
        cmocka_unit_test(test_json_hostile_strings),
        cmocka_unit_test(test_json_binary_garbage),
        cmocka_unit_test(test_json_random_strings),
        cmocka_unit_test(test_json_timings_edges),
        cmocka_unit_test(test_json_timings_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
