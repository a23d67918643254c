/* test_robots: the robots.txt parser. The cases are data: each
 * cases/robots/NAME.txt is a robots.txt body and NAME.expect says what a
 * crawler must make of it, one check a line:
 *
 *   agent TOKEN      parse NAME.txt for this user-agent from here on
 *                    (before any agent line: "gather")
 *   allow PATH       parse_robots_allowed() says 1 for PATH, the rest of
 *                    the line as it stands ("allow" alone: the empty path)
 *   deny PATH        ... says 0
 *   delay SECONDS    parse_robots_crawl_delay() gives SECONDS; "delay none"
 *                    gives -1
 *   sitemap URL      the next of the file's Sitemap URLs; all the sitemap
 *                    lines together are the whole list, so a case with
 *                    none expects none
 *
 * Blank lines and lines starting with '#' are skipped. The C tests below
 * cover what data files cannot: the size cap and a missing file. */
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

#define CASES "cases/robots"

/* Checks one line of an .expect file against r (parsed for agent).
 * Returns 0, or 1 after printing the mismatch. */
static int check_line(const char *name, size_t lineno, const char *verb,
                      const char *arg, const parse_robots *r,
                      const char *agent, size_t *n_sitemaps)
{
    const char *const *sm;
    size_t have = parse_robots_sitemaps(r, &sm);

    if (!strcmp(verb, "allow") || !strcmp(verb, "deny")) {
        int want = !strcmp(verb, "allow");
        int got = parse_robots_allowed(r, arg);
        if (got == want)
            return 0;
        print_error("%s.expect:%zu: [%s] is %s for %s\n", name, lineno, arg,
                    got ? "allowed" : "disallowed", agent);
    } else if (!strcmp(verb, "delay")) {
        double want = strcmp(arg, "none") ? strtod(arg, NULL) : -1;
        double got = parse_robots_crawl_delay(r);
        if (got == want)
            return 0;
        print_error("%s.expect:%zu: crawl-delay %g for %s, want %s\n", name,
                    lineno, got, agent, arg);
    } else if (!strcmp(verb, "sitemap")) {
        size_t i = (*n_sitemaps)++;
        if (i < have && !strcmp(sm[i], arg))
            return 0;
        print_error("%s.expect:%zu: sitemap %zu is [%s], want [%s]\n", name,
                    lineno, i + 1, i < have ? sm[i] : "(none)", arg);
    } else {
        print_error("%s.expect:%zu: unknown check [%s]\n", name, lineno, verb);
    }
    return 1;
}

static void run_case(void **state)
{
    const char *name = *state;
    char path[512], agent[256] = "gather";
    size_t txt_len, exp_len, lineno = 0, n_sitemaps = 0;
    int mismatches = 0;

    snprintf(path, sizeof path, "%s.txt", name);
    char *txt = unit_slurp(path, &txt_len);
    snprintf(path, sizeof path, "%s.expect", name);
    char *expect = unit_slurp(path, &exp_len);
    parse_robots *r = txt ? parse_robots_new(txt, txt_len, agent) : NULL;
    if (!r || !expect) {
        free(txt);
        free(expect);
        parse_robots_free(r);
        fail_msg("%s: cannot read or parse the case", name);
    }

    for (char *line = expect, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        line[strcspn(line, "\r")] = '\0';
        if (!*line || *line == '#')
            continue;
        char *arg = strchr(line, ' ');
        if (arg)
            *arg++ = '\0';
        else
            arg = line + strlen(line);
        if (!strcmp(line, "agent")) {
            snprintf(agent, sizeof agent, "%s", arg);
            parse_robots_free(r);
            if (!(r = parse_robots_new(txt, txt_len, agent)))
                break;
            continue;
        }
        mismatches += check_line(name, lineno, line, arg, r, agent,
                                 &n_sitemaps);
    }
    const char *const *sm;
    size_t have = r ? parse_robots_sitemaps(r, &sm) : 0;
    for (size_t i = n_sitemaps; i < have; i++, mismatches++)
        print_error("%s: sitemap %zu [%s] is not expected\n", name, i + 1,
                    sm[i]);
    int parsed = r != NULL;
    parse_robots_free(r);
    free(txt);
    free(expect);
    if (!parsed)
        fail_msg("%s: out of memory", name);
    if (mismatches)
        fail_msg("%s: %d check(s) failed", name, mismatches);
}

/* ---- what data files cannot show ---- */

/* No robots.txt (a 4xx) is a NULL handle: everything allowed, nothing
 * else. */
static void test_no_robots(void **state)
{
    (void)state;
    const char *const *sm = (const char *const *)"x";
    assert_int_equal(parse_robots_allowed(NULL, "/"), 1);
    assert_int_equal(parse_robots_allowed(NULL, "/private/x?y"), 1);
    assert_true(parse_robots_crawl_delay(NULL) == -1);
    assert_int_equal(parse_robots_sitemaps(NULL, &sm), 0);
    assert_null(sm);
    parse_robots_free(NULL);
}

/* allows_all is what the crawler asks before it works out a path: it must
 * never say yes where some path is disallowed. */
static void test_allows_all(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        int all;
    } cases[] = {
        {"", 1},
        {"Sitemap: http://h/s.xml\n", 1},
        {"User-agent: other\nDisallow: /\n", 1},
        {"User-agent: *\nCrawl-delay: 2\n", 1},
        {"User-agent: *\nDisallow: /x\n", 0},
        {"User-agent: *\nAllow: /\n", 0},
        {"User-agent: gather\nDisallow: /private\n", 0},
    };
    assert_int_equal(parse_robots_allows_all(NULL), 1);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        parse_robots *r = parse_robots_new(cases[i].body,
                                           strlen(cases[i].body), "gather");
        assert_non_null(r);
        int all = parse_robots_allows_all(r);
        parse_robots_free(r);
        if (all != cases[i].all)
            fail_msg("%s: allows_all %d, want %d", cases[i].body, all,
                     cases[i].all);
    }
}

/* A NULL buffer, agent or path is empty. */
static void test_null_inputs(void **state)
{
    (void)state;
    parse_robots *r = parse_robots_new(NULL, 10, NULL);
    assert_non_null(r);
    assert_int_equal(parse_robots_allowed(r, NULL), 1);
    parse_robots_free(r);

    static const char body[] = "User-agent: *\nDisallow: /\n";
    r = parse_robots_new(body, sizeof body - 1, NULL);
    assert_non_null(r);
    assert_int_equal(parse_robots_allowed(r, NULL), 0);
    assert_int_equal(parse_robots_allowed(r, "/x"), 0);
    parse_robots_free(r);
}

/* Builds a body of filler comment lines up to about at bytes, then the
 * line tail. */
static char *body_with_tail_at(size_t at, const char *tail, size_t *len)
{
    size_t tlen = strlen(tail);
    char *b = malloc(at + tlen + 64);
    size_t n = 0;
    assert_non_null(b);
    n += (size_t)sprintf(b, "User-agent: *\nDisallow: /head/\n");
    while (n + 64 < at)
        n += (size_t)sprintf(b + n, "# %60s\n", "filler");
    while (n < at - 1)
        b[n++] = '#';
    b[n++] = '\n';
    memcpy(b + n, tail, tlen);
    *len = n + tlen;
    return b;
}

/* Only the first PARSE_ROBOTS_MAX bytes count, and a line the cap cuts in
 * two is dropped rather than read as a shorter rule. */
static void test_size_cap(void **state)
{
    (void)state;
    size_t len;

    /* A rule whole within the cap counts. */
    char *b = body_with_tail_at(PARSE_ROBOTS_MAX - 20, "Disallow: /in/\n",
                                &len);
    parse_robots *r = parse_robots_new(b, len, "gather");
    free(b);
    assert_non_null(r);
    assert_int_equal(parse_robots_allowed(r, "/head/x"), 0);
    assert_int_equal(parse_robots_allowed(r, "/in/x"), 0);
    parse_robots_free(r);

    /* The cap cuts "Disallow: /abc" to "Disallow: /a", which would block
     * more than the file asks: the cut line goes. */
    b = body_with_tail_at(PARSE_ROBOTS_MAX - 12, "Disallow: /abc\n", &len);
    r = parse_robots_new(b, len, "gather");
    free(b);
    assert_non_null(r);
    assert_int_equal(parse_robots_allowed(r, "/a"), 1);
    assert_int_equal(parse_robots_allowed(r, "/abc"), 1);
    assert_int_equal(parse_robots_allowed(r, "/head/x"), 0);
    parse_robots_free(r);

    /* A rule past the cap, in a file of many megabytes, does not count;
     * nor does a Sitemap line there. */
    const size_t big = (size_t)8 << 20;
    b = body_with_tail_at(big, "Disallow: /late/\nSitemap: http://a/s\n",
                          &len);
    r = parse_robots_new(b, len, "gather");
    free(b);
    assert_non_null(r);
    const char *const *sm;
    assert_int_equal(parse_robots_allowed(r, "/late/x"), 1);
    assert_int_equal(parse_robots_allowed(r, "/head/x"), 0);
    assert_int_equal(parse_robots_sitemaps(r, &sm), 0);
    parse_robots_free(r);
}

/* One line longer than the cap leaves nothing at all. */
static void test_single_huge_line(void **state)
{
    (void)state;
    size_t len = PARSE_ROBOTS_MAX + 100;
    char *b = malloc(len);
    assert_non_null(b);
    memset(b, 'x', len);
    memcpy(b, "Disallow: /", 11);
    parse_robots *r = parse_robots_new(b, len, "gather");
    free(b);
    assert_non_null(r);
    assert_int_equal(parse_robots_allowed(r, "/x"), 1);
    parse_robots_free(r);
}

/* Paths longer than any stack buffer, and patterns full of '*' against
 * them: the answer is right and comes back. */
static void test_long_paths_and_stars(void **state)
{
    (void)state;
    size_t n = 100000;
    char *path = malloc(n + 2);
    char *body = malloc(3 * n + 64);
    assert_non_null(path);
    assert_non_null(body);
    path[0] = '/';
    memset(path + 1, 'a', n);
    path[n + 1] = '\0';
    int k = sprintf(body, "User-agent: *\nDisallow: /");
    for (size_t i = 0; i < 2000; i++)
        k += sprintf(body + k, "*a");
    k += sprintf(body + k, "b$\nAllow: /*a$\nDisallow: /aa\n");
    parse_robots *r = parse_robots_new(body, (size_t)k, "gather");
    assert_non_null(r);
    /* Allow "/ *a$" (4 octets, no blank) beats "/aa"; the long pattern
     * needs a final 'b'. */
    int allowed = parse_robots_allowed(r, path);
    path[n] = 'b';
    int with_b = parse_robots_allowed(r, path);
    parse_robots_free(r);
    free(path);
    free(body);
    assert_int_equal(allowed, 1);
    assert_int_equal(with_b, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_robots),
        cmocka_unit_test(test_allows_all),
        cmocka_unit_test(test_null_inputs),
        cmocka_unit_test(test_size_cap),
        cmocka_unit_test(test_single_huge_line),
        cmocka_unit_test(test_long_paths_and_stars),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    failed += unit_run_cases("robots_cases", CASES, ".expect", 15, run_case,
                             NULL, NULL);
    return failed ? 1 : 0;
}
