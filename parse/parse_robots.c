/* parse_robots: robots.txt after RFC 9309. One pass over the lines keeps
 * the rules of the groups that name the crawler and those of the "*"
 * groups; the first kind wins if there is any. Rules are stored
 * normalised and sorted most specific first, so a query stops at the
 * first pattern that matches. */
#include "parse.h"
#include "parse_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct robots_rule {
    char *pat;      /* owned; normalised, without a final '$' */
    size_t len;     /* octets of the normalised pattern, '$' included */
    size_t literal; /* octets besides '*': the shortest path it matches */
    int allow;
    int anchored;   /* ended in '$': must match the whole path */
} robots_rule;

typedef struct robots_set {
    robots_rule *v; /* owned */
    size_t n, cap;
    double delay;   /* -1: none */
    int seen;       /* a group for this set's agent, even with no rules */
} robots_set;

struct parse_robots {
    robots_set rules;    /* the groups that apply, merged */
    parse_strv sitemaps; /* in file order */
};

/* ---- normalisation (RFC 9309 2.2.2) ---- */

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

/* Writes s[0..n) to out (room for 3n + 1 bytes) in the one form both
 * patterns and paths are compared in: "%62" and "b" are the same path,
 * "%2f" and "%2F" too, and a raw UTF-8 byte equals its escape. A '%'
 * that starts no escape stands for itself, so it becomes "%25". Returns
 * the length written. */
static size_t normalise(const char *s, size_t n, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (c == '%' && i + 2 < n && hexval(p[i + 1]) >= 0 &&
            hexval(p[i + 2]) >= 0) {
            unsigned char d = (unsigned char)(hexval(p[i + 1]) * 16 +
                                              hexval(p[i + 2]));
            i += 2;
            if (unreserved(d)) {
                out[o++] = (char)d;
                continue;
            }
            c = d;
        } else if (c > 0x20 && c < 0x7f && c != '%') {
            out[o++] = (char)c;
            continue;
        }
        out[o++] = '%';
        out[o++] = hex[c >> 4];
        out[o++] = hex[c & 15];
    }
    out[o] = '\0';
    return o;
}

/* ---- matching ---- */

/* True when pattern p (pn octets, '*' for any run) matches the start of
 * path s, or all of it when anchored. Greedy, going back only to the
 * last '*': a later '*' can absorb whatever an earlier one would, so
 * one backtrack point suffices and no state is allocated. */
static int glob_match(const char *p, size_t pn, const char *s, size_t sn,
                      int anchored)
{
    size_t pi = 0, si = 0, star = (size_t)-1, mark = 0;

    while (si < sn) {
        if (pi == pn && !anchored)
            return 1;
        if (pi < pn && p[pi] == '*') {
            star = pi++;
            mark = si;
        } else if (pi < pn && p[pi] == s[si]) {
            pi++;
            si++;
        } else if (star != (size_t)-1) {
            pi = star + 1;
            si = ++mark;
        } else {
            return 0;
        }
    }
    while (pi < pn && p[pi] == '*')
        pi++;
    return pi == pn;
}

/* ---- rule sets ---- */

/* Adds the rule "Allow: v" or "Disallow: v" (n octets) to set. An empty
 * value is no rule: "Disallow:" allows everything. Returns 0 or -1 when
 * out of memory. */
static int set_add(robots_set *set, const char *v, size_t n, int allow)
{
    robots_rule rule = {.allow = allow};

    if (n == 0)
        return 0;
    if (v[n - 1] == '$') {
        rule.anchored = 1;
        n--;
    }
    if (set->n == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 16;
        robots_rule *nv = realloc(set->v, cap * sizeof *nv);
        if (!nv)
            return -1;
        set->v = nv;
        set->cap = cap;
    }
    if (!(rule.pat = malloc(3 * n + 1)))
        return -1;
    size_t len = normalise(v, n, rule.pat), o = 0;
    /* "**" means what "*" does; one star keeps the match linear in it. */
    for (size_t i = 0; i < len; i++) {
        if (rule.pat[i] == '*' && o && rule.pat[o - 1] == '*')
            continue;
        rule.pat[o++] = rule.pat[i];
        rule.literal += rule.pat[i] != '*';
    }
    rule.pat[o] = '\0';
    rule.len = o + (size_t)rule.anchored;
    set->v[set->n++] = rule;
    return 0;
}

static void set_clear(robots_set *set)
{
    for (size_t i = 0; i < set->n; i++)
        free(set->v[i].pat);
    free(set->v);
    memset(set, 0, sizeof *set);
}

/* Most specific first, Allow before Disallow of the same length: the first
 * rule that matches is then the one RFC 9309 2.2.2 picks. */
static int by_priority(const void *a, const void *b)
{
    const robots_rule *x = a, *y = b;
    if (x->len != y->len)
        return x->len < y->len ? 1 : -1;
    return y->allow - x->allow;
}

/* ---- parsing ---- */

typedef struct robots_parse {
    parse_robots *r;
    robots_set named;  /* groups whose user-agent is the crawler's token */
    robots_set any;    /* "*" groups */
    const char *token; /* borrowed; the crawler's product token */
    size_t token_len;
    int in_agents;     /* the last group record was a user-agent line */
    int cur_named, cur_any; /* what the current group applies to */
    int failed;
} robots_parse;

static int blank(char c)
{
    return c == ' ' || c == '\t' || c == '\v' || c == '\f';
}

/* Length of the product token at s: letters, '_' and '-' (RFC 9309 2.2.1),
 * so "gather/0.1" and "gather (+http://...)" give "gather". */
static size_t token_len(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && (((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z') ||
                     s[i] == '_' || s[i] == '-'))
        i++;
    return i;
}

/* Parses a Crawl-delay value: digits with an optional fraction, nothing
 * else (no sign, exponent, "inf" or locale). Returns -1 when invalid. */
static double parse_delay(const char *v, size_t n)
{
    double d = 0, scale = 1;
    size_t i = 0, digits = 0;

    for (; i < n && v[i] >= '0' && v[i] <= '9'; i++, digits++)
        d = d * 10 + (v[i] - '0');
    if (i < n && v[i] == '.')
        for (i++; i < n && v[i] >= '0' && v[i] <= '9'; i++, digits++)
            d += (v[i] - '0') * (scale /= 10);
    return i == n && digits && isfinite(d) ? d : -1;
}

static int sitemap_add(parse_robots *r, const char *v, size_t n)
{
    if (!((n > 7 && !strncasecmp(v, "http://", 7)) ||
          (n > 8 && !strncasecmp(v, "https://", 8))))
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] <= ' ' || v[i] == 0x7f)
            return 0;
    char *url = strndup(v, n);
    if (!url || parse_strv_push(&r->sitemaps, url)) {
        free(url);
        return -1;
    }
    return 0;
}

static int key_is(const char *k, size_t n, const char *name)
{
    return strlen(name) == n && !strncasecmp(k, name, n);
}

/* Handles one line (no line end). A line that is no record is skipped
 * without ending the group it stands in. */
static void parse_line(robots_parse *st, const char *s, size_t n)
{
    const char *hash = memchr(s, '#', n), *key, *v;
    size_t kn, vn;

    if (hash)
        n = (size_t)(hash - s);
    while (n && blank(*s))
        s++, n--;
    while (n && blank(s[n - 1]))
        n--;
    const char *colon = memchr(s, ':', n);
    if (colon) {
        key = s;
        kn = (size_t)(colon - s);
        v = colon + 1;
        vn = n - kn - 1;
    } else {
        /* "Disallow /x", as Google reads it: a key, blanks, one word. */
        for (kn = 0; kn < n && !blank(s[kn]); kn++)
            ;
        key = s;
        v = s + kn;
        vn = n - kn;
        while (vn && blank(*v))
            v++, vn--;
        if (!vn || memchr(v, ' ', vn) || memchr(v, '\t', vn))
            return;
    }
    while (kn && blank(key[kn - 1]))
        kn--;
    while (vn && blank(*v))
        v++, vn--;

    if (key_is(key, kn, "user-agent")) {
        if (!st->in_agents)
            st->cur_named = st->cur_any = 0;
        st->in_agents = 1;
        if (vn && v[0] == '*' && (vn == 1 || blank(v[1]))) {
            st->cur_any = st->any.seen = 1;
        } else {
            size_t t = token_len(v, vn);
            if (t && t == st->token_len && !strncasecmp(v, st->token, t))
                st->cur_named = st->named.seen = 1;
        }
    } else if (key_is(key, kn, "allow") || key_is(key, kn, "disallow")) {
        int allow = kn == 5;
        st->in_agents = 0;
        if ((st->cur_named && set_add(&st->named, v, vn, allow)) ||
            (st->cur_any && set_add(&st->any, v, vn, allow)))
            st->failed = 1;
    } else if (key_is(key, kn, "crawl-delay")) {
        double d = parse_delay(v, vn);
        st->in_agents = 0;
        if (st->cur_named && st->named.delay < 0)
            st->named.delay = d;
        if (st->cur_any && st->any.delay < 0)
            st->any.delay = d;
    } else if (key_is(key, kn, "sitemap")) {
        if (sitemap_add(st->r, v, vn))
            st->failed = 1;
    }
}

parse_robots *parse_robots_new(const char *buf, size_t len, const char *agent)
{
    parse_robots *r = calloc(1, sizeof *r);
    robots_parse st = {
        .r = r,
        .named = {.delay = -1},
        .any = {.delay = -1},
        .token = agent ? agent : "",
        .token_len = agent ? token_len(agent, strlen(agent)) : 0,
    };

    if (!r)
        goto out;
    if (!buf)
        len = 0;
    if (len > PARSE_ROBOTS_MAX) {
        /* A line cut in two could turn "Disallow: /private" into a rule
         * of another meaning, so the cut line goes too. */
        len = PARSE_ROBOTS_MAX;
        while (len && buf[len - 1] != '\n' && buf[len - 1] != '\r')
            len--;
    }
    size_t i = 0;
    if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3))
        i = 3;
    while (i < len && !st.failed) {
        size_t start = i;
        while (i < len && buf[i] != '\n' && buf[i] != '\r')
            i++;
        parse_line(&st, buf + start, i - start);
        i++; /* a CRLF leaves an empty line: nothing */
    }
    if (st.failed) {
        parse_robots_free(r);
        r = NULL;
        goto out;
    }
    /* A group naming the crawler wins even with no rules in it. */
    robots_set *use = st.named.seen ? &st.named : &st.any;
    r->rules = *use;
    memset(use, 0, sizeof *use);
    if (r->rules.n) /* qsort() wants a base even for none */
        qsort(r->rules.v, r->rules.n, sizeof *r->rules.v, by_priority);
out:
    set_clear(&st.named);
    set_clear(&st.any);
    return r;
}

void parse_robots_free(parse_robots *r)
{
    if (!r)
        return;
    set_clear(&r->rules);
    parse_strv_clear(&r->sitemaps);
    free(r);
}

int parse_robots_allows_all(const parse_robots *r)
{
    return !r || !r->rules.n;
}

int parse_robots_allowed(const parse_robots *r, const char *path_and_query)
{
    const char *pq = path_and_query ? path_and_query : "";
    size_t n = strcspn(pq, "#");
    char small[1024], *path = small;
    int allow = 1;

    if (parse_robots_allows_all(r))
        return 1;
    if (n == 0) {
        pq = "/";
        n = 1;
    }
    if (n > (sizeof small - 1) / 3 &&
        (n > ((size_t)-1 - 1) / 3 || !(path = malloc(3 * n + 1))))
        return 0;
    size_t len = normalise(pq, n, path);
    if (strcmp(path, "/robots.txt")) {
        for (size_t i = 0; i < r->rules.n; i++) {
            const robots_rule *rule = &r->rules.v[i];
            if (rule->literal <= len &&
                glob_match(rule->pat, rule->len - (size_t)rule->anchored,
                           path, len, rule->anchored)) {
                allow = rule->allow;
                break;
            }
        }
    }
    if (path != small)
        free(path);
    return allow;
}

double parse_robots_crawl_delay(const parse_robots *r)
{
    return r ? r->rules.delay : -1;
}

size_t parse_robots_sitemaps(const parse_robots *r, const char *const **out)
{
    *out = r ? (const char *const *)r->sitemaps.v : NULL;
    return r ? r->sitemaps.n : 0;
}
