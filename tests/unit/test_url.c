/* test_url: fetch_url_resolve(), the resolver every link on a page goes
 * through. The expected URLs are what a browser would request; where curl
 * has a say of its own (the case of a host, hex digits of an escape) the
 * comparison ignores case. */
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

#define PAGE "http://example.com/dir/page.html"

typedef struct resolve_case {
    const char *base; /* NULL: no base */
    const char *ref;
    int rc;
    const char *want; /* NULL when rc is an error */
} resolve_case;

/* Runs one case and frees the result before asserting, so a failure leaves
 * no leak behind to clutter LeakSanitizer's report. */
static void check(const resolve_case *c)
{
    char *out = (char *)"(untouched)";
    int rc = fetch_url_resolve(c->base, c->ref, &out);
    char got[2048];
    snprintf(got, sizeof got, "%s", out ? out : "(null)");
    int out_null = out == NULL;
    free(out);

    if (rc != c->rc)
        fail_msg("resolve(%s, \"%s\"): rc %d (%s) [%s], want %d (%s)",
                 c->base ? c->base : "NULL", c->ref, rc,
                 fetch_strerror(rc), got, c->rc, fetch_strerror(c->rc));
    if (c->rc != FETCH_OK) {
        if (!out_null)
            fail_msg("resolve(%s, \"%s\") failed but left *out = [%s]",
                     c->base ? c->base : "NULL", c->ref, got);
        return;
    }
    if (strcasecmp(got, c->want))
        fail_msg("resolve(%s, \"%s\"):\n   got  [%s]\n   want [%s]",
                 c->base ? c->base : "NULL", c->ref, got, c->want);
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

static int group_setup(void **state)
{
    (void)state;
    return fetch_global_init();
}

static int group_teardown(void **state)
{
    (void)state;
    fetch_global_cleanup();
    return 0;
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
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
