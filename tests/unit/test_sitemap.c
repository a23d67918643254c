/* test_sitemap: the sitemap reader. The cases are data: each
 * cases/sitemap/NAME.xml (or NAME.xml.gz, made with gzip -n) is read by
 * parse_sitemap() and NAME.expect says what must come of it, a line each:
 *
 *   loc URL      the next URL given to the callback; all the loc lines
 *                together are every URL given, in order
 *   index        the document is a <sitemapindex> (else it must not be)
 *   error CODE   parse_sitemap() returns CODE, a parse_code by its name
 *                (PARSE_EXML); without this line it returns 0
 *   stop N       the callback asks to stop when given the Nth URL
 *
 * Blank lines and lines starting with '#' are skipped. The C tests below
 * cover what data files cannot: generated documents and the size caps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/parse.h"
#include "unit_cases.h"

#define CASES "cases/sitemap"

#define CODE_NAME(name, text) #name,
static const char *const code_names[] = {PARSE_ERRORS(CODE_NAME)};
#undef CODE_NAME

/* The callback's record: every URL given, one a line. */
typedef struct got_urls {
    char *text; /* owned */
    size_t len, cap, n;
    size_t stop_at; /* ask to stop at this URL (1-based); 0: never */
} got_urls;

static int collect(void *ctx, const char *loc)
{
    got_urls *g = ctx;
    size_t n = strlen(loc);
    if (g->len + n + 2 > g->cap) {
        g->cap = (g->len + n + 2) * 2;
        g->text = realloc(g->text, g->cap);
        assert_non_null(g->text);
    }
    memcpy(g->text + g->len, loc, n);
    g->len += n;
    g->text[g->len++] = '\n';
    g->text[g->len] = '\0';
    return ++g->n == g->stop_at;
}

static void run_case(void **state)
{
    const char *name = *state;
    char path[512], err[256] = "", want_code[64] = "PARSE_OK";
    size_t len, exp_len, want_len = 0;
    int want_index = 0, is_index = -1;
    got_urls got = {0};

    snprintf(path, sizeof path, "%s.xml", name);
    char *body = unit_slurp(path, &len);
    if (!body) {
        snprintf(path, sizeof path, "%s.xml.gz", name);
        body = unit_slurp(path, &len);
    }
    snprintf(path, sizeof path, "%s.expect", name);
    char *expect = unit_slurp(path, &exp_len);
    /* The loc lines, one URL a line, as collect() writes them. */
    char *want = calloc(1, exp_len + 1);
    if (!body || !expect || !want) {
        free(body);
        free(expect);
        free(want);
        fail_msg("%s: cannot read the case", name);
        return; /* fail_msg() does not, but the compiler cannot tell */
    }
    for (char *line = expect, *next; *line; line = next) {
        next = line + strcspn(line, "\n");
        if (*next)
            *next++ = '\0';
        line[strcspn(line, "\r")] = '\0';
        if (!strncmp(line, "loc ", 4))
            want_len += (size_t)sprintf(want + want_len, "%s\n", line + 4);
        else if (!strcmp(line, "index"))
            want_index = 1;
        else if (!strncmp(line, "error ", 6))
            snprintf(want_code, sizeof want_code, "%s", line + 6);
        else if (!strncmp(line, "stop ", 5))
            got.stop_at = strtoul(line + 5, NULL, 10);
    }

    int rc = parse_sitemap(body, len, collect, &got, &is_index, err,
                           sizeof err);
    const char *code = rc >= 0 && rc < PARSE_NCODES ? code_names[rc] : "?";
    int mismatches = 0;
    if (strcmp(code, want_code)) {
        print_error("%s: returned %s (%s), want %s\n", name, code, err,
                    want_code);
        mismatches++;
    }
    if (rc && !err[0]) {
        print_error("%s: %s without a message\n", name, code);
        mismatches++;
    }
    if (is_index != want_index) {
        print_error("%s: is_index %d, want %d\n", name, is_index, want_index);
        mismatches++;
    }
    if (strcmp(got.text ? got.text : "", want)) {
        print_error("%s: URLs\n--- want\n%s--- got\n%s---\n", name, want,
                    got.text ? got.text : "");
        mismatches++;
    }
    free(got.text);
    free(body);
    free(expect);
    free(want);
    if (mismatches)
        fail_msg("%s: %d check(s) failed", name, mismatches);
}

/* ---- generated documents ---- */

/* A <loc> over 8 KiB is skipped; the next one still comes. */
static void test_long_loc(void **state)
{
    (void)state;
    size_t n = 9000;
    char *doc = malloc(n + 256);
    assert_non_null(doc);
    int k = sprintf(doc, "<urlset><url><loc>http://a/");
    memset(doc + k, 'x', n);
    k += (int)n;
    k += sprintf(doc + k, "</loc></url><url><loc>http://a/short</loc></url>"
                          "</urlset>");
    got_urls got = {0};
    char err[128] = "";
    int rc = parse_sitemap(doc, (size_t)k, collect, &got, NULL, err,
                           sizeof err);
    free(doc);
    int ok = got.text && !strcmp(got.text, "http://a/short\n");
    free(got.text);
    assert_int_equal(rc, PARSE_OK);
    assert_true(ok);
}

/* More than PARSE_SITEMAP_MAX bytes of plain XML are refused before any
 * is read. */
static void test_plain_too_big(void **state)
{
    (void)state;
    size_t len = PARSE_SITEMAP_MAX + 1;
    char *doc = malloc(len);
    assert_non_null(doc);
    memcpy(doc, "<urlset>", 8);
    got_urls got = {0};
    char err[128] = "";
    int rc = parse_sitemap(doc, len, collect, &got, NULL, err, sizeof err);
    free(doc);
    assert_int_equal(rc, PARSE_ETOOBIG);
    assert_int_equal(got.n, 0);
    assert_non_null(strstr(err, "64 MiB"));
}

/* No callback: the document is still checked and is_index told. */
static void test_no_callback(void **state)
{
    (void)state;
    static const char doc[] =
        "<sitemapindex><sitemap><loc>http://a/s.xml</loc></sitemap>"
        "</sitemapindex>";
    int is_index = 0;
    char err[64];
    assert_int_equal(parse_sitemap(doc, sizeof doc - 1, NULL, NULL, &is_index,
                                   err, sizeof err),
                     PARSE_OK);
    assert_int_equal(is_index, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_long_loc),
        cmocka_unit_test(test_plain_too_big),
        cmocka_unit_test(test_no_callback),
    };
    parse_global_init();
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    failed += unit_run_cases("sitemap_cases", CASES, ".expect", 20, run_case,
                             NULL, NULL);
    parse_global_cleanup();
    return failed ? 1 : 0;
}
