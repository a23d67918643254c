/* test_name: fetch_name_for_url(), which turns a URL from the network into
 * a relative path under the output directory. Besides the expected names,
 * a property test throws thousands of hostile URLs at it and checks that
 * no name can escape the directory or carry control bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetch/fetch.h"
#include "unit_cases.h"

#define NAME_CAP 4096

typedef struct name_case {
    const char *url;
    int rc;
    const char *want; /* NULL when rc is an error */
} name_case;

static void check(const name_case *c)
{
    char out[NAME_CAP];
    memset(out, 'Z', sizeof out);
    int rc = fetch_name_for_url(c->url, out, sizeof out);
    if (rc != c->rc)
        fail_msg("name(\"%s\"): rc %d (%s) [%.*s], want %d (%s)", c->url, rc,
                 fetch_strerror(rc), rc ? 0 : 300, out, c->rc,
                 fetch_strerror(c->rc));
    if (rc) {
        /* A failed call leaves an empty string, never a half name. */
        if (out[0] != '\0')
            fail_msg("name(\"%s\") failed but left [%.40s]", c->url, out);
        return;
    }
    if (strcmp(out, c->want))
        fail_msg("name(\"%s\"):\n   got  [%s]\n   want [%s]", c->url, out,
                 c->want);
}

static void check_all(const name_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++)
        check(&cases[i]);
}

#define CHECK_ALL(cases) check_all(cases, sizeof cases / sizeof cases[0])

static void test_basic_names(void **state)
{
    (void)state;
    static const name_case cases[] = {
        {"http://example.com/a/b.html", 0, "example.com/a/b.html"},
        {"https://example.com/a/b.tar.gz", 0, "example.com/a/b.tar.gz"},
        {"http://example.com/", 0, "example.com/index.html"},
        {"http://example.com", 0, "example.com/index.html"},
        {"https://h/a/b/", 0, "h/a/b/index.html"},
        /* The host is lower-cased; a port the URL names is kept. */
        {"http://Example.COM:8080/a/b.html", 0, "example.com:8080/a/b.html"},
        {"http://[::1]:8080/x", 0, "[::1]:8080/x"},
        /* Credentials and fragments are not part of the name. */
        {"http://user:pw@h/x", 0, "h/x"},
        {"http://h/a#frag", 0, "h/a"},
        /* Dot segments are resolved by the URL parser first. */
        {"http://h/a/../x", 0, "h/x"},
        {"http://h/./x", 0, "h/x"},
        {"http://h/..", 0, "h/index.html"},
        /* Only the exact names "." and ".." are special. */
        {"http://h/.../x..y", 0, "h/.../x..y"},
        {"http://h/\xc3\xa9t\xc3\xa9/\xe6\x97\xa5.html", 0,
         "h/\xc3\xa9t\xc3\xa9/\xe6\x97\xa5.html"},
    };
    CHECK_ALL(cases);
}

static void test_query_kept(void **state)
{
    (void)state;
    static const name_case cases[] = {
        {"http://h/a?x=1", 0, "h/a?x=1"},
        {"http://h/a?b#c", 0, "h/a?b"},
        {"http://h/a/?q", 0, "h/a/index.html?q"},
        {"http://h/?q=1", 0, "h/index.html?q=1"},
        /* A '/' in the query must not create a directory. */
        {"http://h/a?x=1/2", 0, "h/a?x=1%2F2"},
        {"http://h/?../../etc/passwd", 0, "h/index.html?..%2F..%2Fetc%2Fpasswd"},
    };
    CHECK_ALL(cases);
}

static void test_hostile_components(void **state)
{
    (void)state;
    static const name_case cases[] = {
        /* Empty segments vanish instead of making "//". */
        {"http://h/a//b///c", 0, "h/a/b/c"},
        {"http://h//x", 0, "h/x"},
        /* A host of "." or ".." is encoded whole. */
        {"http://../x", 0, "%2E%2E/x"},
        {"http://./x", 0, "%2E/x"},
        /* Escapes are not decoded, so "%2e%2e" stays a harmless name. */
        {"http://h/%2e%2e/x", 0, "h/%2e%2e/x"},
        {"http://h/..%2f..%2fetc", 0, "h/..%2f..%2fetc"},
        /* Backslash is a separator on some systems: encoded. */
        {"http://h/a\\b", 0, "h/a%5Cb"},
        {"http://h/..\\..\\x", 0, "h/..%5C..%5Cx"},
    };
    CHECK_ALL(cases);
}

static void test_errors(void **state)
{
    (void)state;
    static const name_case cases[] = {
        {"not a url", FETCH_EURL, NULL},
        {"", FETCH_EURL, NULL},
        {"http://", FETCH_EURL, NULL},
        {"http://h/a\x01" "b", FETCH_EURL, NULL},
        {"ftp://h/x", FETCH_ESCHEME, NULL},
        {"file:///etc/passwd", FETCH_ESCHEME, NULL},
    };
    CHECK_ALL(cases);
}

/* Well-formed URLs of schemes curl does not know are unsupported schemes,
 * not malformed URLs, as fetch_url_resolve() reports them. */
static void test_unknown_schemes(void **state)
{
    (void)state;
    static const name_case cases[] = {
        {"foo://h/x", FETCH_ESCHEME, NULL},
        {"mailto:x@example.com", FETCH_ESCHEME, NULL},
        {"javascript:alert(1)", FETCH_ESCHEME, NULL},
    };
    CHECK_ALL(cases);
}

static void test_cap_too_small(void **state)
{
    (void)state;
    const char *url = "http://example.com/a/b.html";
    const char *want = "example.com/a/b.html";
    size_t need = strlen(want) + 1;
    char out[64];

    /* Exactly enough room succeeds... */
    assert_int_equal(fetch_name_for_url(url, out, need), FETCH_OK);
    assert_string_equal(out, want);
    /* ...one byte less fails cleanly, wherever the cut would fall. */
    for (size_t cap = 2; cap < need; cap++) {
        memset(out, 'Z', sizeof out);
        int rc = fetch_name_for_url(url, out, cap);
        if (rc != FETCH_ETOOLONG || out[0] != '\0')
            fail_msg("cap %zu: rc %d, out[0] = 0x%02x", cap, rc,
                     (unsigned char)out[0]);
        for (size_t i = cap; i < sizeof out; i++)
            if (out[i] != 'Z')
                fail_msg("cap %zu: byte %zu written past the end", cap, i);
    }
    memset(out, 'Z', sizeof out);
    assert_int_equal(fetch_name_for_url(url, out, 1), FETCH_ETOOLONG);
    assert_int_equal(out[1], 'Z');
}

/* With cap 0 the buffer has no byte at all: nothing may be written. */
static void test_cap_zero_writes_nothing(void **state)
{
    (void)state;
    char guard[2] = {'G', 'G'};
    assert_int_equal(fetch_name_for_url("http://h/x", guard + 1, 0),
                     FETCH_ETOOLONG);
    assert_int_equal(guard[1], 'G');
}

/* Splits name on '/' and returns the length of the longest component. */
static size_t longest_component(const char *name)
{
    size_t best = 0, cur = 0;
    for (const char *p = name;; p++) {
        if (*p == '/' || *p == '\0') {
            if (cur > best)
                best = cur;
            cur = 0;
            if (!*p)
                break;
        } else {
            cur++;
        }
    }
    return best;
}

static const char *last_component(const char *name)
{
    const char *s = strrchr(name, '/');
    return s ? s + 1 : name;
}

/* "~" and 16 hex digits: the tag of a shortened component. */
static int has_hash_tag(const char *s)
{
    const char *t = strchr(s, '~');
    if (!t || strlen(t) < 17)
        return 0;
    for (int i = 1; i <= 16; i++)
        if (!strchr("0123456789abcdef", t[i]))
            return 0;
    return 1;
}

static char *repeat(const char *unit, size_t times)
{
    size_t u = strlen(unit);
    char *s = malloc(u * times + 1);
    assert_non_null(s);
    for (size_t i = 0; i < times; i++)
        memcpy(s + i * u, unit, u);
    s[u * times] = '\0';
    return s;
}

static void test_long_component_shortened(void **state)
{
    (void)state;
    char *a = repeat("a", 300);
    char url1[1024], url2[1024], n1[NAME_CAP], n2[NAME_CAP];

    /* Two names that differ only after the cut must stay distinct. */
    snprintf(url1, sizeof url1, "http://h/%s1.html", a);
    snprintf(url2, sizeof url2, "http://h/%s2.html", a);
    free(a);
    assert_int_equal(fetch_name_for_url(url1, n1, sizeof n1), FETCH_OK);
    assert_int_equal(fetch_name_for_url(url2, n2, sizeof n2), FETCH_OK);
    assert_true(longest_component(n1) <= FETCH_NAME_MAX);
    assert_true(longest_component(n2) <= FETCH_NAME_MAX);
    assert_string_not_equal(n1, n2);
    assert_true(has_hash_tag(last_component(n1)));
    assert_int_equal(strncmp(n1, "h/aaaa", 6), 0);
    /* The extension survives so the file type stays visible. */
    const char *ext = strrchr(n1, '.');
    assert_non_null(ext);
    assert_string_equal(ext, ".html");

    /* The same URL always gets the same name. */
    char again[NAME_CAP];
    assert_int_equal(fetch_name_for_url(url1, again, sizeof again), FETCH_OK);
    assert_string_equal(again, n1);

    /* A component of exactly FETCH_NAME_MAX bytes is left alone. */
    char *exact = repeat("b", FETCH_NAME_MAX);
    char url3[1024];
    snprintf(url3, sizeof url3, "http://h/%s", exact);
    assert_int_equal(fetch_name_for_url(url3, n1, sizeof n1), FETCH_OK);
    int same = !strcmp(last_component(n1), exact);
    free(exact);
    assert_true(same);
}

/* A component far longer than the encoding buffer must still keep its
 * extension and its distinctness. */
static void test_very_long_component_keeps_extension(void **state)
{
    (void)state;
    char *a = repeat("a", 1000);
    char url[2048], n[NAME_CAP];
    snprintf(url, sizeof url, "http://h/%s.html", a);
    free(a);
    assert_int_equal(fetch_name_for_url(url, n, sizeof n), FETCH_OK);
    assert_true(longest_component(n) <= FETCH_NAME_MAX);
    assert_true(has_hash_tag(last_component(n)));
    const char *ext = strrchr(n, '.');
    if (!ext || strcmp(ext, ".html"))
        fail_msg("extension lost: ...%s", n + strlen(n) - 30);
}

static void test_long_query_and_host(void **state)
{
    (void)state;
    char *q = repeat("k=v&", 100);
    char url[2048], n[NAME_CAP];
    snprintf(url, sizeof url, "http://h/search?%s", q);
    free(q);
    assert_int_equal(fetch_name_for_url(url, n, sizeof n), FETCH_OK);
    assert_true(longest_component(n) <= FETCH_NAME_MAX);
    assert_int_equal(strncmp(n, "h/search?k=v&", 13), 0);
    assert_true(has_hash_tag(n));

    /* Four 60-byte labels: a host longer than a component may be. */
    char *label = repeat("x", 60);
    snprintf(url, sizeof url, "http://%s.%s.%s.%s.example/p", label, label,
             label, label);
    free(label);
    assert_int_equal(fetch_name_for_url(url, n, sizeof n), FETCH_OK);
    assert_true(longest_component(n) <= FETCH_NAME_MAX);
    assert_string_equal(last_component(n), "p");
}

/* A shortened component must not end in half a UTF-8 character. */
static void test_cut_keeps_utf8_whole(void **state)
{
    (void)state;
    char url[2048], n[NAME_CAP];
    for (int shift = 0; shift < 3; shift++) {
        char *e = repeat("\xe6\x97\xa5", 120); /* 360 bytes of U+65E5 */
        snprintf(url, sizeof url, "http://h/%.*s%s", shift, "xx", e);
        free(e);
        assert_int_equal(fetch_name_for_url(url, n, sizeof n), FETCH_OK);
        assert_true(longest_component(n) <= FETCH_NAME_MAX);
        /* jansson accepts only valid UTF-8. */
        json_t *j = json_string(n);
        int valid = j != NULL;
        json_decref(j);
        if (!valid)
            fail_msg("shift %d: invalid UTF-8 in [%s]", shift, n);
    }
}

/* ---- property test ---- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t rng(void)
{
    /* xorshift64*: fixed seed, so a failure reproduces. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

static const char *const hostile_pieces[] = {
    "..", ".", "/", "//", "\\", "..\\", "%", "%2e", "%2E%2e", "%2f", "%2F",
    "%5c", "%00", "%0a", "%0D%0A", "%c0%ae", "%", "?", "#", "&", "=", ";",
    ":", "@", " ", "~", "a", "index.html", ".html", "\xc3\xa9",
    "\xf0\x9f\x98\x80", "\xe2\x80\xae", "\xff", "\xc0\xae", "\x01", "\x1f",
    "\x7f", "\t", "\n", "\r", "'", "\"", "<", ">", "|", "*", "$HOME",
};

static const char *const hosts[] = {
    "h", "Example.COM", "a.b:8080", "[::1]", "..", ".", "x.y:65535",
    "localhost:1",
};

/* Appends a random hostile piece, or a long run, to s. */
static void add_piece(char *s, size_t cap)
{
    size_t len = strlen(s);
    uint64_t r = rng();
    if (r % 13 == 0) {
        /* A long run: over the component limit, sometimes with dots. */
        size_t run = 150 + (size_t)(rng() % 600);
        const char *unit = (r >> 8) % 3 == 0   ? "\xe6\x97\xa5"
                           : (r >> 8) % 3 == 1 ? "a."
                                               : "z";
        for (size_t i = 0; i < run && len + 4 < cap; i++) {
            size_t u = strlen(unit);
            memcpy(s + len, unit, u);
            len += u;
        }
        s[len] = '\0';
        return;
    }
    const char *p = hostile_pieces[(r >> 16) %
                                   (sizeof hostile_pieces /
                                    sizeof hostile_pieces[0])];
    if (len + strlen(p) + 1 < cap)
        strcat(s, p);
}

/* Returns NULL when name is safe, or a description of what is wrong. */
static const char *unsafe(const char *name, size_t cap)
{
    if (strlen(name) >= cap)
        return "longer than cap";
    if (name[0] == '/')
        return "starts with '/'";
    if (name[0] == '\0')
        return "empty";
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return "control byte";
        if (*p == '\\')
            return "backslash";
    }
    const char *c = name;
    for (;;) {
        const char *end = strchr(c, '/');
        size_t n = end ? (size_t)(end - c) : strlen(c);
        if (n == 0)
            return "empty component";
        if ((n == 1 && c[0] == '.') || (n == 2 && !memcmp(c, "..", 2)))
            return "\".\" or \"..\" component";
        if (n > FETCH_NAME_MAX)
            return "component over FETCH_NAME_MAX";
        if (!end)
            break;
        c = end + 1;
    }
    return NULL;
}

static void check_name_safe(const char *url, int *ok_count)
{
    char a[NAME_CAP], b[NAME_CAP];
    int rc = fetch_name_for_url(url, a, sizeof a);
    if (rc == FETCH_EURL || rc == FETCH_ESCHEME || rc == FETCH_ETOOLONG) {
        if (a[0] != '\0')
            fail_msg("error %d left a name for [%s]", rc, url);
        return;
    }
    if (rc != FETCH_OK)
        fail_msg("unexpected rc %d for [%s]", rc, url);
    const char *why = unsafe(a, sizeof a);
    if (why)
        fail_msg("unsafe name (%s):\n  url  [%s]\n  name [%s]", why, url, a);
    /* Names are a pure function of the URL. */
    assert_int_equal(fetch_name_for_url(url, b, sizeof b), FETCH_OK);
    if (strcmp(a, b))
        fail_msg("two names for one URL [%s]", url);
    (*ok_count)++;
}

static void test_hostile_urls_give_safe_names(void **state)
{
    (void)state;
    int named = 0, named_resolved = 0;
    const int rounds = 4000;

    for (int i = 0; i < rounds; i++) {
        char url[4096];
        snprintf(url, sizeof url, "%s://%s/", rng() % 2 ? "http" : "HTTPS",
                 hosts[rng() % (sizeof hosts / sizeof hosts[0])]);
        int pieces = 1 + (int)(rng() % 12);
        for (int k = 0; k < pieces; k++)
            add_piece(url, sizeof url);

        check_name_safe(url, &named);

        /* The program names the URL after fetch_url_resolve() has
         * normalised it, so check that form as well. */
        char *norm = NULL;
        if (fetch_url_resolve(NULL, url, &norm) == FETCH_OK) {
            char copy[16384];
            snprintf(copy, sizeof copy, "%s", norm);
            free(norm);
            check_name_safe(copy, &named_resolved);
        } else {
            assert_null(norm);
        }
    }
    /* A generator whose URLs all fail to parse would prove nothing. */
    print_message("named %d raw and %d normalised of %d URLs\n", named,
                  named_resolved, rounds);
    assert_true(named > rounds / 4);
    assert_true(named_resolved > rounds / 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_names),
        cmocka_unit_test(test_query_kept),
        cmocka_unit_test(test_hostile_components),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_unknown_schemes),
        cmocka_unit_test(test_cap_too_small),
        cmocka_unit_test(test_cap_zero_writes_nothing),
        cmocka_unit_test(test_long_component_shortened),
        cmocka_unit_test(test_very_long_component_keeps_extension),
        cmocka_unit_test(test_long_query_and_host),
        cmocka_unit_test(test_cut_keeps_utf8_whole),
        cmocka_unit_test(test_hostile_urls_give_safe_names),
    };
    return cmocka_run_group_tests(tests, unit_global_setup,
                                  unit_global_teardown);
}
