/* fuzz_robots: libFuzzer target for the robots.txt parser. The input is a
 * robots.txt body, read for the agent "gather" and asked about fixed paths
 * and about every value in it. Every answer must be 0 or 1, /robots.txt
 * always allowed, the crawl-delay -1 or a finite number >= 0, every
 * sitemap an absolute http(s) URL without blanks or control bytes; and the
 * same body with CRLF line ends, or a BOM in front, must answer the same.
 * A broken promise aborts, which libFuzzer reports as a crash. */
#include "../../parse/parse.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_PATHS 64

static const char *const fixed_paths[] = {
    "",  "/",         "/robots.txt", "/a",          "/a/b?c=d",
    "/%61", "/%2F", "/index.html$", "/x*y", "/\xE3\x83\x84",
};

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_robots: %s\n  [%.400s]\n", what,
            detail ? detail : "(null)");
    abort();
}

/* The paths to ask about: the fixed ones, then each line's value (after
 * the first ':'), which is where the patterns are. Returns how many; the
 * strings from the input are malloced into own[]. */
static size_t pick_paths(const char *body, size_t len, const char **paths,
                         char **own, size_t *n_own)
{
    size_t n = 0;
    for (size_t i = 0; i < sizeof fixed_paths / sizeof *fixed_paths; i++)
        paths[n++] = fixed_paths[i];
    *n_own = 0;
    for (size_t i = 0; i < len && n < MAX_PATHS;) {
        size_t end = i;
        while (end < len && body[end] != '\n' && body[end] != '\r')
            end++;
        const char *colon = memchr(body + i, ':', end - i);
        if (colon) {
            const char *v = colon + 1;
            while (v < body + end && *v == ' ')
                v++;
            char *p = strndup(v, (size_t)(body + end - v)); /* stops at NUL */
            if (!p)
                abort();
            own[(*n_own)++] = p;
            paths[n++] = p;
        }
        i = end + 1;
    }
    return n;
}

static void check_one(const parse_robots *r, const char *const *paths,
                      size_t n, int *answers)
{
    for (size_t i = 0; i < n; i++) {
        int a = parse_robots_allowed(r, paths[i]);
        if (a != 0 && a != 1)
            fail("parse_robots_allowed() is neither 0 nor 1", paths[i]);
        answers[i] = a;
    }
    if (parse_robots_allowed(r, "/robots.txt") != 1)
        fail("/robots.txt is disallowed", NULL);
    double d = parse_robots_crawl_delay(r);
    if (d != -1 && !(isfinite(d) && d >= 0))
        fail("crawl-delay is neither -1 nor a number >= 0", NULL);
    const char *const *sm;
    size_t ns = parse_robots_sitemaps(r, &sm);
    for (size_t i = 0; i < ns; i++) {
        if (strncasecmp(sm[i], "http://", 7) &&
            strncasecmp(sm[i], "https://", 8))
            fail("sitemap is not an http(s) URL", sm[i]);
        for (const char *c = sm[i]; *c; c++)
            if ((unsigned char)*c <= ' ' || *c == 0x7f)
                fail("sitemap holds a blank or control byte", sm[i]);
    }
}

/* Parses body and checks it; answers[] gets the answer for each path. */
static void run(const char *body, size_t len, const char *const *paths,
                size_t n, int *answers, double *delay, size_t *n_sitemaps)
{
    parse_robots *r = parse_robots_new(body, len, "gather");
    if (!r)
        abort(); /* NULL means out of memory, not bad input */
    check_one(r, paths, n, answers);
    const char *const *sm;
    *delay = parse_robots_crawl_delay(r);
    *n_sitemaps = parse_robots_sitemaps(r, &sm);
    parse_robots_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    const char *paths[MAX_PATHS];
    char *own[MAX_PATHS];
    size_t n_own, ns0, ns1;
    int a0[MAX_PATHS], a1[MAX_PATHS];
    double d0, d1;

    if (size > PARSE_ROBOTS_MAX / 4)
        return 0; /* the variants below must stay under the cap */
    size_t n = pick_paths(body, size, paths, own, &n_own);
    run(body, size, paths, n, a0, &d0, &ns0);

    /* CRLF for every LF. */
    char *crlf = malloc(2 * size + 4);
    size_t m = 0;
    if (!crlf)
        abort();
    for (size_t i = 0; i < size; i++) {
        if (body[i] == '\n')
            crlf[m++] = '\r';
        crlf[m++] = body[i];
    }
    run(crlf, m, paths, n, a1, &d1, &ns1);
    if (memcmp(a0, a1, n * sizeof *a0) || !(d0 == d1) || ns0 != ns1)
        fail("CRLF line ends change the answers", body);

    /* A BOM in front, unless there is one already. */
    if (size < 3 || memcmp(body, "\xEF\xBB\xBF", 3)) {
        memcpy(crlf, "\xEF\xBB\xBF", 3);
        memcpy(crlf + 3, body, size);
        run(crlf, size + 3, paths, n, a1, &d1, &ns1);
        if (memcmp(a0, a1, n * sizeof *a0) || !(d0 == d1) || ns0 != ns1)
            fail("a BOM changes the answers", body);
    }
    free(crlf);
    for (size_t i = 0; i < n_own; i++)
        free(own[i]);
    return 0;
}
