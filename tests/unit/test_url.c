/* test_url: fetch_url_resolve(), the resolver every link on a page goes
 * through, and the canonical forms a crawler tells URLs and hosts apart
 * by (fetch_url_normalize(), fetch_url_host(), fetch_url_path()). The
 * expected resolved URLs are what a browser would request; where curl has
 * a say of its own (the case of a host, hex digits of an escape) the
 * comparison ignores case. Canonical forms are compared exactly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fetch/fetch.h"
#include "unit_cases.h"

#define PAGE "http://example.com/dir/page.html"

typedef struct resolve_case {
    const char *base; /* NULL: no base */
    const char *ref;
    int rc;
    const char *want; /* NULL when rc is an error */
} resolve_case;

/* Checks the outcome of one call that returned rc and *out: what names
 * the call in messages, and cmp compares the URL got with the one wanted.
 * out is freed before asserting, so a failure leaves no leak behind to
 * clutter LeakSanitizer's report. */
static void expect_out(const char *what, int rc, char *out, int want_rc,
                       const char *want,
                       int (*cmp)(const char *, const char *))
{
    char got[2048];
    snprintf(got, sizeof got, "%s", out ? out : "(null)");
    int out_null = out == NULL;
    free(out);

    if (rc != want_rc)
        fail_msg("%s: rc %d (%s) [%s], want %d (%s)", what, rc,
                 fetch_strerror(rc), got, want_rc, fetch_strerror(want_rc));
    if (want_rc != FETCH_OK) {
        if (!out_null)
            fail_msg("%s failed but left *out = [%s]", what, got);
        return;
    }
    if (cmp(got, want))
        fail_msg("%s:\n   got  [%s]\n   want [%s]", what, got, want);
}

/* One memo for every case of the file, so that each case also meets the
 * results the cases before it left there. */
static fetch_url_memo *memo;

static int setup(void **state)
{
    memo = fetch_url_memo_new(16384, 1u << 20);
    return memo ? unit_global_setup(state) : -1;
}

static int teardown(void **state)
{
    fetch_url_memo_free(memo);
    return unit_global_teardown(state);
}

/* Checks c with fetch_url_resolve(), then with fetch_url_resolve_all()
 * without and with the memo (twice: remembering, then remembered); the
 * batch form gives NULL where the single one fails. */
static void check(const resolve_case *c)
{
    char what[2048];
    char *out = NULL;
    int rc = fetch_url_resolve(c->base, c->ref, &out);
    snprintf(what, sizeof what, "resolve(%s, \"%s\")",
             c->base ? c->base : "NULL", c->ref);
    expect_out(what, rc, out, c->rc, c->want, strcasecmp);
    if (!c->base)
        return;
    for (int pass = 0; pass < 3; pass++) {
        /* Two references, so that the memo is used at all. */
        char *refs[2] = {(char *)c->ref, (char *)c->ref}, *all[2];
        assert_int_equal(fetch_url_resolve_all(c->base, refs, 2, all,
                                               pass ? memo : NULL),
                         FETCH_OK);
        snprintf(what, sizeof what, "resolve_all(%s, \"%s\", %s)", c->base,
                 c->ref, pass ? "memo" : "no memo");
        free(all[1]);
        int got_rc = all[0] ? FETCH_OK : c->rc ? c->rc : FETCH_EURL;
        expect_out(what, got_rc, all[0], c->rc, c->want, strcasecmp);
    }
}

static void check_all(const resolve_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++)
        check(&cases[i]);
}

#define CHECK_ALL(cases) check_all(cases, sizeof cases / sizeof cases[0])

static void test_relative_forms(void **state)
{
    (void)state;
    static const resolve_case cases[] = {
        {PAGE, "other.html", 0, "http://example.com/dir/other.html"},
        {PAGE, "./other.html", 0, "http://example.com/dir/other.html"},
        {PAGE, "sub/", 0, "http://example.com/dir/sub/"},
        {PAGE, "/abs/x.html", 0, "http://example.com/abs/x.html"},
        {PAGE, "../up.html", 0, "http://example.com/up.html"},
        {PAGE, "x/../y", 0, "http://example.com/dir/y"},
        /* ".." cannot climb above the root. */
        {PAGE, "../../../../x", 0, "http://example.com/x"},
        {PAGE, "..", 0, "http://example.com/"},
        {PAGE, "/", 0, "http://example.com/"},
        {PAGE, "//cdn.example.org/lib.js", 0, "http://cdn.example.org/lib.js"},
        {"https://example.com/a/b", "//cdn.example.org/x", 0,
         "https://cdn.example.org/x"},
        {PAGE, "?q=1", 0, "http://example.com/dir/page.html?q=1"},
        {PAGE "?old=1", "?new=2", 0, "http://example.com/dir/page.html?new=2"},
        {PAGE "?old=1", "next.html", 0, "http://example.com/dir/next.html"},
        {PAGE, "q?a=1&b=2", 0, "http://example.com/dir/q?a=1&b=2"},
        {PAGE, "https://other.org/x", 0, "https://other.org/x"},
        {PAGE, "http://h:8080/x", 0, "http://h:8080/x"},
    };
    CHECK_ALL(cases);
}

static void test_fragment_dropped(void **state)
{
    (void)state;
    static const resolve_case cases[] = {
        {PAGE, "a.html#x", 0, "http://example.com/dir/a.html"},
        {PAGE, "a.html?q=1#x", 0, "http://example.com/dir/a.html?q=1"},
        {PAGE, "http://h/p#frag", 0, "http://h/p"},
        /* The base's own fragment does not leak into the result. */
        {PAGE "#top", "b.html", 0, "http://example.com/dir/b.html"},
    };
    CHECK_ALL(cases);
}

/* RFC 3986 5.2.2: an empty reference or a bare "#frag" names the base
 * document itself, so <a href="#top"> links to the page, not to its
 * directory. */
static void test_same_document_refs(void **state)
{
    (void)state;
    static const resolve_case cases[] = {
        {PAGE, "#top", 0, PAGE},
        {PAGE, "", 0, PAGE},
        {PAGE "?q=1", "#x", 0, PAGE "?q=1"},
    };
    CHECK_ALL(cases);
}

static void test_blanks_stripped(void **state)
{
    (void)state;
    static const resolve_case cases[] = {
        {PAGE, "  other.html  ", 0, "http://example.com/dir/other.html"},
        {PAGE, "\n\t other.html\r\n", 0, "http://example.com/dir/other.html"},
        /* Tabs and newlines inside an href vanish, as in browsers. */
        {PAGE, "a\tb\nc\r.html", 0, "http://example.com/dir/abc.html"},
        {PAGE, "http://h/x\n/y", 0, "http://h/x/y"},
        /* An inner space is kept, encoded. */
        {PAGE, "a b.html", 0, "http://example.com/dir/a%20b.html"},
        {NULL, " http://h/x ", 0, "http://h/x"},
    };
    CHECK_ALL(cases);
}

static void test_encoding_and_case(void **state)
{
    (void)state;
    static const resolve_case cases[] = {
        /* Non-ASCII bytes are percent-encoded (curl picks the hex case;
         * the comparison ignores it). */
        {PAGE, "\xc3\xa9t\xc3\xa9.html", 0,
         "http://example.com/dir/%C3%A9t%C3%A9.html"},
        {PAGE, "HTTP://EXAMPLE.COM/Path", 0, "http://example.com/Path"},
        {PAGE, "HTTPS://Example.COM:443/", 0, "https://example.com:443/"},
    };
    CHECK_ALL(cases);

    /* The scheme itself comes out lower case, whatever the host does. */
    char *out = NULL;
    assert_int_equal(fetch_url_resolve(PAGE, "HTTP://EXAMPLE.COM/Path", &out),
                     FETCH_OK);
    int scheme_lower = !strncmp(out, "http://", 7);
    int path_kept = strstr(out, "/Path") != NULL;
    free(out);
    assert_true(scheme_lower);
    assert_true(path_kept);
}

static void test_non_http_rejected(void **state)
{
    (void)state;
    static const resolve_case cases[] = {
        {PAGE, "mailto:someone@example.com", FETCH_ESCHEME, NULL},
        {PAGE, "MAILTO:x@y", FETCH_ESCHEME, NULL},
        {PAGE, "javascript:alert(1)", FETCH_ESCHEME, NULL},
        {PAGE, "JavaScript:void(0)", FETCH_ESCHEME, NULL},
        /* Blanks must not smuggle a scheme past the check. */
        {PAGE, "  javascript:alert(1)", FETCH_ESCHEME, NULL},
        {PAGE, "java\tscript:alert(1)", FETCH_ESCHEME, NULL},
        {PAGE, "ftp://ftp.example.com/file", FETCH_ESCHEME, NULL},
        {PAGE, "data:text/plain,hello", FETCH_ESCHEME, NULL},
        {PAGE, "file:///etc/passwd", FETCH_ESCHEME, NULL},
        {PAGE, "tel:+123456", FETCH_ESCHEME, NULL},
        {PAGE, "foo://h/x", FETCH_ESCHEME, NULL},
        {NULL, "mailto:x@y", FETCH_ESCHEME, NULL},
        {NULL, "ftp://h/x", FETCH_ESCHEME, NULL},
        /* A relative ref inherits a non-http scheme from its base. */
        {"ftp://h/dir/", "x", FETCH_ESCHEME, NULL},
    };
    CHECK_ALL(cases);
}

static void test_malformed_rejected(void **state)
{
    (void)state;
    static const resolve_case cases[] = {
        {PAGE, "http://[::1", FETCH_EURL, NULL},
        {PAGE, "http://", FETCH_EURL, NULL},
        {PAGE, "https://h:99999/", FETCH_EURL, NULL},
        {PAGE, "http://h h/", FETCH_EURL, NULL},
        {"not a url", "x.html", FETCH_EURL, NULL},
        {"", "x.html", FETCH_EURL, NULL},
        /* Without a base, a relative reference means nothing. */
        {NULL, "x.html", FETCH_EURL, NULL},
        {NULL, "//h/x", FETCH_EURL, NULL},
        {NULL, "example.com/x", FETCH_EURL, NULL},
    };
    CHECK_ALL(cases);
}

static void test_no_base(void **state)
{
    (void)state;
    static const resolve_case cases[] = {
        {NULL, "http://h", 0, "http://h/"},
        {NULL, "https://h/a/./b/../c?x=1#y", 0, "https://h/a/c?x=1"},
    };
    CHECK_ALL(cases);
}

typedef struct normalize_case {
    const char *url;
    int sort;         /* sort the query */
    int rc;
    const char *want; /* NULL when rc is an error */
} normalize_case;

static void check_normalize(const normalize_case *c)
{
    char what[2048];
    char *out = NULL;
    int rc = fetch_url_normalize(c->url, c->sort, &out);
    snprintf(what, sizeof what, "normalize(\"%s\", %d)", c->url, c->sort);
    expect_out(what, rc, out, c->rc, c->want, strcmp);
}

static void test_normalize(void **state)
{
    (void)state;
    static const normalize_case cases[] = {
        /* Everything at once: case, default port, dots, fragment; the
         * query keeps its order unless asked to sort. */
        {"HTTP://EXAMPLE.com:80/a/./b/../c?b=2&a=1#f", 0, 0,
         "http://example.com/a/c?b=2&a=1"},
        {"HTTP://EXAMPLE.com:80/a/./b/../c?b=2&a=1#f", 1, 0,
         "http://example.com/a/c?a=1&b=2"},
        /* Default ports go, others stay; leading zeros are no port. */
        {"https://h:443/", 0, 0, "https://h/"},
        {"https://h:80/", 0, 0, "https://h:80/"},
        {"http://h:443/", 0, 0, "http://h:443/"},
        {"http://h:0080/", 0, 0, "http://h/"},
        {"http://h:8080", 0, 0, "http://h:8080/"},
        /* An empty path is "/", an empty query and fragment vanish. */
        {"http://h", 0, 0, "http://h/"},
        {"http://h?", 0, 0, "http://h/"},
        {"http://h/p?", 1, 0, "http://h/p"},
        {"http://h/p?#", 0, 0, "http://h/p"},
        {"http://h/p#", 0, 0, "http://h/p"},
        {"http://h/p?&&", 1, 0, "http://h/p"},
        /* Escapes: unreserved ones are decoded, the rest upper-cased,
         * in the path and the query alike; a lone '%' stays. */
        {"http://h/%7euser/%7Ex", 0, 0, "http://h/~user/~x"},
        {"http://h/%41%62%2d%2E%5f", 0, 0, "http://h/Ab-._"},
        {"http://h/a%2fb%3a%c3%a9", 0, 0, "http://h/a%2Fb%3A%C3%A9"},
        {"http://h/?q=%7e%26%3d", 0, 0, "http://h/?q=~%26%3D"},
        {"http://h/100%", 0, 0, "http://h/100%"},
        {"http://h/%zz", 0, 0, "http://h/%zz"},
        /* A decoded dot is a dot segment like any other. */
        {"http://h/a/%2E%2E/b", 0, 0, "http://h/b"},
        {"http://h/a/%2e/b", 0, 0, "http://h/a/b"},
        /* What curl encodes comes out upper case too. */
        {"http://h/a b/\xc3\xa9?x=\xc3\xa9", 0, 0,
         "http://h/a%20b/%C3%A9?x=%C3%A9"},
        /* The user name and password are not the host: their case stays. */
        {"http://User:PassWord@Example.COM/X", 0, 0,
         "http://User:PassWord@example.com/X"},
        {"HTTPS://user@EXAMPLE.com:443/", 0, 0, "https://user@example.com/"},
        {"http://us%65r:p%41ss@h/", 0, 0, "http://us%65r:p%41ss@h/"},
        /* curl decodes an escaped host; it is lower-cased all the same. */
        {"http://H%41ST/", 0, 0, "http://hast/"},
        /* IPv6: lower case, RFC 5952's shortest form, default port too. */
        {"http://[::1]/", 0, 0, "http://[::1]/"},
        {"http://[0:0::1]:80/x", 0, 0, "http://[::1]/x"},
        {"HTTP://[FE80::A:B]:8080/", 0, 0, "http://[fe80::a:b]:8080/"},
        {"http://[2001:DB8:0:0:0:0:0:1]/", 0, 0, "http://[2001:db8::1]/"},
        {"http://[::FFFF:127.0.0.1]/", 0, 0, "http://[::ffff:127.0.0.1]/"},
        /* IPv4 and names. */
        {"http://127.0.0.1:80/", 0, 0, "http://127.0.0.1/"},
        {"http://WWW.Example.ORG./", 0, 0, "http://www.example.org./"},
        /* An IDN host stays in UTF-8 (the conversion to punycode would
         * depend on the locale); its ASCII letters are lower-cased. */
        {"http://B\xc3\xbc\x63her.Example/", 0, 0,
         "http://b\xc3\xbc\x63her.example/"},
        /* Sorting is by name and stable: repeated names keep their
         * order, and "a" sorts before "ab" and "a=". */
        {"http://h/?b=1&a=2&a=1&c", 1, 0, "http://h/?a=2&a=1&b=1&c"},
        {"http://h/?ab=1&a=2&a", 1, 0, "http://h/?a=2&a&ab=1"},
        {"http://h/?z&&y=&x", 1, 0, "http://h/?x&y=&z"},
        {"http://h/?B=1&a=1&_=1", 1, 0, "http://h/?B=1&_=1&a=1"},
        {"http://h/?b=2&a=1", 0, 0, "http://h/?b=2&a=1"},
        /* Blanks around a URL go, as for the URLs of a list. */
        {"  http://h/x  ", 0, 0, "http://h/x"},
        /* Only absolute http(s) URLs. */
        {"ftp://h/x", 0, FETCH_ESCHEME, NULL},
        {"mailto:a@b", 0, FETCH_ESCHEME, NULL},
        {"/relative", 0, FETCH_EURL, NULL},
        {"http://", 0, FETCH_EURL, NULL},
        {"http://[::1/", 0, FETCH_EURL, NULL},
        {"http://h:99999/", 0, FETCH_EURL, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_normalize(&cases[i]);
}

/* Normalising twice changes nothing. */
static void test_normalize_idempotent(void **state)
{
    (void)state;
    static const char *const urls[] = {
        "HTTP://EXAMPLE.com:80/a/./b/../c?b=2&a=1#f",
        "http://h/%7e%2f%c3%a9?q=%26&p=a+b",
        "http://u:p@[0:0::1]:81/x/../y/",
        "https://h/a%252e/b",
    };
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        for (int sort = 0; sort < 2; sort++) {
            char *once = NULL, *twice = NULL;
            assert_int_equal(fetch_url_normalize(urls[i], sort, &once), 0);
            assert_int_equal(fetch_url_normalize(once, sort, &twice), 0);
            int same = !strcmp(once, twice);
            if (!same)
                fprintf(stderr, "%s: [%s] then [%s]\n", urls[i], once, twice);
            free(once);
            free(twice);
            assert_true(same);
        }
    }
}

/* A URL and what a function of it gives. */
typedef struct url_case {
    const char *url;
    int rc;
    const char *want; /* NULL when rc is an error and *out stays NULL */
} url_case;

/* The plain scheme-and-authority prefix the scheduler keeps keys by. */
static void test_origin_len(void **state)
{
    (void)state;
    static const struct {
        const char *url;
        size_t want;
    } cases[] = {
        {"http://h:8080/x", 13},      {"HTTP://Ex.COM#f", 13},
        {"https://[::1]:443?q", 17},  {"http://h", 8},
        {"http://a-b.c_d~e/", 16},    {"svn+ssh://h/", 11},
        {"http://u@h/", 0},           {"http://h%41/", 0},
        {"http://h\\x/", 0},          {"http://", 0},
        {"http:/h/", 0},              {"h/x", 0},
        {" http://h/", 0},            {"1http://h/", 0},
        {"", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t got = fetch_url_origin_len(cases[i].url);
        if (got != cases[i].want)
            fail_msg("%s: %zu, want %zu", cases[i].url, got, cases[i].want);
    }
}

static void test_host(void **state)
{
    (void)state;
    static const url_case cases[] = {
        {"https://Example.COM/x", 0, "example.com:443"},
        {"http://example.com/x", 0, "example.com:80"},
        {"http://example.com:80/x", 0, "example.com:80"},
        {"HTTP://EXAMPLE.com:8080/", 0, "example.com:8080"},
        {"https://user:pw@Example.com/", 0, "example.com:443"},
        {"http://[::1]/", 0, "[::1]:80"},
        {"https://[0:0::1]:8443/", 0, "[::1]:8443"},
        {"http://[FE80::1]:80/", 0, "[fe80::1]:80"},
        {"http://127.0.0.1:36000/a", 0, "127.0.0.1:36000"},
        {"ftp://example.com/", FETCH_ESCHEME, ""},
        {"not a url", FETCH_EURL, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[256] = "(untouched)";
        int rc = fetch_url_host(cases[i].url, out, sizeof out);
        if (rc != cases[i].rc || strcmp(out, cases[i].want))
            fail_msg("host(%s): rc %d [%s], want %d [%s]", cases[i].url, rc,
                     out, cases[i].rc, cases[i].want);
    }
    /* Too small a buffer is an error with an empty result. */
    char small[8] = "x";
    assert_int_equal(fetch_url_host("http://example.com/", small, sizeof small),
                     FETCH_ETOOLONG);
    assert_string_equal(small, "");
}

static void test_path(void **state)
{
    (void)state;
    static const url_case cases[] = {
        {"http://h", 0, "/"},
        {"http://h/a/./b/../c?q=1#f", 0, "/a/c?q=1"},
        {"http://h/%7euser/x%2fy?b=2&a=1", 0, "/~user/x%2Fy?b=2&a=1"},
        {"http://h/p?", 0, "/p"},
        {"https://u:p@H:443/robots.txt", 0, "/robots.txt"},
        {"ftp://h/x", FETCH_ESCHEME, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char what[512];
        char *out = NULL;
        int rc = fetch_url_path(cases[i].url, &out);
        snprintf(what, sizeof what, "path(%s)", cases[i].url);
        expect_out(what, rc, out, cases[i].rc, cases[i].want, strcmp);
    }
}

/* The memo hands out a result only for a base that would give the same
 * one: each reference is resolved against bases that differ in one part,
 * and every answer must be what fetch_url_resolve() says. */
static void test_memo_keys(void **state)
{
    (void)state;
    static const char *const bases[] = {
        "http://example.com/dir/page.html",
        "http://example.com/dir/other.html?q=1",
        "http://example.com/dir/page.html?a/b",
        "http://example.com/dir/page.html#frag/ment",
        "http://example.com/dir/",
        "http://example.com/dir",
        "http://example.com/dir/sub/page.html",
        "http://example.com:8080/dir/page.html",
        "https://example.com/dir/page.html",
        "http://EXAMPLE.com/dir/page.html",
        "http://user@example.com/dir/page.html",
        "http://u:p@example.com/dir/x/page.html",
        "http://example.org/dir/page.html",
        "http://example.com/dir/%7Efoo/page.html",
        "http://example.com/dir/~foo/page.html",
        "http://example.com",
        "http://[::1]:8080/a/b",
        "http://example.com/a%20b/c d/page.html",
        "http://example.com/dir/./sub/../page.html",
        "http://example.com//", /* curl joins "x" as http://example.com/x */
        "http://example.com//dir/page.html",
    };
    static const char *const refs[] = {
        "x.html", "./x.html", "../x.html", "../../../x.html", "/x.html",
        "//other.example/x", "?q=2", "", "#top", ".", "..", "sub/",
        "x y.html", " x.html ", "http://abs.example/p", "mailto:a@b",
        "ftp://x/", "%2e%2e/x", "x.html#f/g", "x?y/z",
        /* Plain or nearly (see plain_path() in fetch_url.c). */
        "a/b/c.html", "./", "././x.html", "./.", ".//x", "a//b", "a/",
        "a/./b", "a/../b", "a/.", "..x/.x.", "~u/-_.~", "x.html#",
        "./#f", "x#\x01", "x#\x7f", "x#\xc3\xa9", "x#a b", "x:y",
        "x%41", "x(1)", "x\xc3\xa9",
    };
    fetch_url_memo *m = fetch_url_memo_new(8, 1u << 16);
    assert_non_null(m);
    /* Twice over, so that the second round reads what the first left
     * (the memo of 8 entries also empties itself along the way). */
    for (int round = 0; round < 2; round++) {
        for (size_t b = 0; b < sizeof bases / sizeof *bases; b++) {
            size_t n = sizeof refs / sizeof *refs;
            char *all[sizeof refs / sizeof *refs];
            assert_int_equal(fetch_url_resolve_all(bases[b], (char **)refs, n,
                                                   all, m),
                             FETCH_OK);
            for (size_t i = 0; i < n; i++) {
                char *one = NULL, what[512];
                fetch_url_resolve(bases[b], refs[i], &one);
                snprintf(what, sizeof what, "memo: %s + \"%s\"", bases[b],
                         refs[i]);
                char got[1024], want[1024];
                snprintf(got, sizeof got, "%s", all[i] ? all[i] : "(null)");
                snprintf(want, sizeof want, "%s", one ? one : "(null)");
                free(one);
                free(all[i]);
                if (strcmp(got, want))
                    fail_msg("%s:\n   got  [%s]\n   want [%s]", what, got,
                             want);
            }
        }
    }
    fetch_url_memo_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relative_forms),
        cmocka_unit_test(test_fragment_dropped),
        cmocka_unit_test(test_same_document_refs),
        cmocka_unit_test(test_blanks_stripped),
        cmocka_unit_test(test_encoding_and_case),
        cmocka_unit_test(test_non_http_rejected),
        cmocka_unit_test(test_malformed_rejected),
        cmocka_unit_test(test_no_base),
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_normalize_idempotent),
        cmocka_unit_test(test_host),
        cmocka_unit_test(test_origin_len),
        cmocka_unit_test(test_path),
        cmocka_unit_test(test_memo_keys),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
