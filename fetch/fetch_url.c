/* fetch_url: URL resolution, canonical URLs and their host and path, and
 * save names, on top of curl's URL API. All are pure functions of their
 * inputs, so they are unit-tested alone. */
#include "fetch.h"
#include "fetch_int.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdint.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Copies a curl-allocated string into malloc memory, so callers free(). */
static char *dup_curl(char *s)
{
    char *d = s ? strdup(s) : NULL;
    curl_free(s);
    return d;
}

static int is_http_scheme(CURLU *u)
{
    char *scheme = NULL;
    int ok = 0;
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK)
        ok = !strcasecmp(scheme, "http") || !strcasecmp(scheme, "https");
    curl_free(scheme);
    return ok;
}

/* Sets u to url (absolute, or relative to what u holds) and checks that
 * the result is http(s). Returns 0, FETCH_EURL or FETCH_ESCHEME. */
static int set_http_url(CURLU *u, const char *url, unsigned flags)
{
    switch (curl_url_set(u, CURLUPART_URL, url, flags)) {
    case CURLUE_OK:
        return is_http_scheme(u) ? FETCH_OK : FETCH_ESCHEME;
    case CURLUE_UNSUPPORTED_SCHEME:
        return FETCH_ESCHEME;
    default:
        return FETCH_EURL;
    }
}

/* Browsers strip leading and trailing blanks and drop tabs and newlines
 * anywhere in an href; do the same before curl sees it. */
static char *clean_ref(const char *ref)
{
    while (*ref && (unsigned char)*ref <= ' ')
        ref++;
    size_t n = strlen(ref);
    while (n && (unsigned char)ref[n - 1] <= ' ')
        n--;
    char *c = malloc(n + 1), *p = c;
    if (!c)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (ref[i] != '\t' && ref[i] != '\n' && ref[i] != '\r')
            *p++ = ref[i];
    *p = '\0';
    return c;
}

#define RESOLVE_FLAGS (CURLU_ALLOW_SPACE | CURLU_URLENCODE)

/* Resolves cref (a reference clean_ref() has cleaned) against b (a parsed
 * base, or NULL when cref must be absolute): *u gets the result without
 * its fragment, *text curl's text of it (free both, also on failure).
 * Returns 0, FETCH_EURL, FETCH_ESCHEME or FETCH_ENOMEM. */
static int resolve_parts(const CURLU *b, const char *cref, CURLU **u,
                         char **text)
{
    *text = NULL;
    if (!(*u = b ? curl_url_dup((CURLU *)b) : curl_url()))
        return FETCH_ENOMEM;
    /* RFC 3986: an empty or fragment-only reference is the base document
     * itself. curl 7.88 resolves those to the base's directory instead,
     * so they never reach it. */
    int self = b && (cref[0] == '\0' || cref[0] == '#');
    int result = self ? (is_http_scheme(*u) ? FETCH_OK : FETCH_ESCHEME)
                      : set_http_url(*u, cref, RESOLVE_FLAGS);
    if (result)
        return result;
    if (curl_url_set(*u, CURLUPART_FRAGMENT, NULL, 0) != CURLUE_OK ||
        curl_url_get(*u, CURLUPART_URL, text, 0) != CURLUE_OK)
        return FETCH_EURL;
    /* curl decodes a %-encoded host ("http://0x%7f.1/") and lets DEL
     * through, and CURLU_ALLOW_SPACE lets a space into the user name
     * ("http:/ @x"). Browsers refuse both, so the reference is dropped. */
    for (const char *c = *text; *c; c++)
        if ((unsigned char)*c <= ' ' || *c == 0x7f)
            return FETCH_EURL;
    return FETCH_OK;
}

/* As resolve_parts(), into a malloced URL in *out. */
static int resolve_clean(const CURLU *b, const char *cref, char **out)
{
    CURLU *u;
    char *text;
    int result = resolve_parts(b, cref, &u, &text);
    *out = NULL;
    if (result == FETCH_OK)
        result = (*out = dup_curl(text)) ? FETCH_OK : FETCH_ENOMEM;
    else
        curl_free(text);
    curl_url_cleanup(u);
    return result;
}

/* As resolve_clean(), for a reference as written. */
static int resolve_with(const CURLU *b, const char *ref, char **out)
{
    char *cref = clean_ref(ref);
    *out = NULL;
    if (!cref)
        return FETCH_ENOMEM;
    int result = resolve_clean(b, cref, out);
    free(cref);
    return result;
}

/* Parses base into *b (NULL base: *b = NULL). Returns 0 or a fetch_code. */
static int parse_base(const char *base, CURLU **b)
{
    *b = NULL;
    if (!base)
        return FETCH_OK;
    if (!(*b = curl_url()))
        return FETCH_ENOMEM;
    if (curl_url_set(*b, CURLUPART_URL, base, RESOLVE_FLAGS) != CURLUE_OK) {
        curl_url_cleanup(*b);
        *b = NULL;
        return FETCH_EURL;
    }
    return FETCH_OK;
}

int fetch_url_resolve(const char *base, const char *ref, char **out)
{
    CURLU *b;
    int result = parse_base(base, &b);
    *out = NULL;
    if (result == FETCH_OK)
        result = resolve_with(b, ref, out);
    curl_url_cleanup(b);
    return result;
}

/* ---- the resolution memo ---- */

/* One remembered resolution: key is "DIR\0REF" (keylen bytes in all), url
 * the result or NULL when REF resolves to nothing. */
typedef struct memo_slot {
    uint64_t hash;
    char *key;       /* owned; NULL: the slot is empty */
    size_t keylen;
    char *url;       /* owned, or NULL */
} memo_slot;

struct fetch_url_memo {
    pthread_mutex_t lock;
    memo_slot *slots; /* owned; cap slots, at most half of them used */
    size_t cap, n, max, bytes, max_bytes;
};

fetch_url_memo *fetch_url_memo_new(size_t max_entries, size_t max_bytes)
{
    fetch_url_memo *m = calloc(1, sizeof *m);
    size_t cap = 16;
    while (cap < max_entries * 2)
        cap *= 2;
    if (!m || !(m->slots = calloc(cap, sizeof *m->slots)) ||
        pthread_mutex_init(&m->lock, NULL)) {
        if (m)
            free(m->slots);
        free(m);
        return NULL;
    }
    m->cap = cap;
    m->max = max_entries;
    m->max_bytes = max_bytes;
    return m;
}

/* Forgets every entry. Called with the lock held. */
static void memo_clear(fetch_url_memo *m)
{
    for (size_t i = 0; i < m->cap; i++) {
        free(m->slots[i].key);
        free(m->slots[i].url);
    }
    memset(m->slots, 0, m->cap * sizeof *m->slots);
    m->n = m->bytes = 0;
}

void fetch_url_memo_free(fetch_url_memo *m)
{
    if (!m)
        return;
    memo_clear(m);
    free(m->slots);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

/* 64-bit FNV-1a: the memo's hash, and a stable tag for save names that
 * had to be shortened. */
static unsigned long long fnv1a(const char *s, size_t n)
{
    unsigned long long h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* The slot of key: the one holding it, or the empty one it would go in. */
static memo_slot *memo_find(fetch_url_memo *m, const char *key, size_t len,
                            uint64_t h)
{
    size_t i = (size_t)h & (m->cap - 1);
    for (;; i = (i + 1) & (m->cap - 1)) {
        memo_slot *s = &m->slots[i];
        if (!s->key || (s->hash == h && s->keylen == len &&
                        !memcmp(s->key, key, len)))
            return s;
    }
}

/* Looks key up: returns 1 and a malloced copy of its URL (or NULL) in
 * *out when it is known, 0 when not, -1 when out of memory. */
static int memo_get(fetch_url_memo *m, const char *key, size_t len,
                    uint64_t h, char **out)
{
    int found = 0;
    *out = NULL;
    pthread_mutex_lock(&m->lock);
    memo_slot *s = memo_find(m, key, len, h);
    if (s->key) {
        found = 1;
        if (s->url && !(*out = strdup(s->url)))
            found = -1;
    }
    pthread_mutex_unlock(&m->lock);
    return found;
}

/* Remembers key -> url (url may be NULL; both are copied). A full memo
 * starts again empty, so its memory stays within its bounds. Failing to
 * remember is harmless: the next page resolves the reference again. */
static void memo_put(fetch_url_memo *m, const char *key, size_t len,
                     uint64_t h, const char *url)
{
    size_t cost = len + (url ? strlen(url) + 1 : 0);
    char *k = malloc(len), *u = url ? strdup(url) : NULL;
    if (!k || (url && !u)) {
        free(k);
        free(u);
        return;
    }
    memcpy(k, key, len);
    pthread_mutex_lock(&m->lock);
    if (m->n >= m->max || m->bytes + cost > m->max_bytes)
        memo_clear(m);
    memo_slot *s = memo_find(m, key, len, h);
    if (s->key) { /* another thread got there first */
        free(k);
        free(u);
    } else {
        *s = (memo_slot){h, k, len, u};
        m->n++;
        m->bytes += cost;
    }
    pthread_mutex_unlock(&m->lock);
}

/* The part of base that the resolution of a path reference depends on:
 * its URL as curl writes it, without query and fragment and cut after the
 * path's last '/' ("http://h:8080/a/b?q" -> "http://h:8080/a/"). curl 7.88
 * joins a relative path onto the base URL's text, where a '/' inside a
 * fragment or user name would count, so a base with either gets NULL:
 * its references are not remembered. Malloced. */
static char *base_dir(const CURLU *b)
{
    CURLU *d = curl_url_dup((CURLU *)b);
    char *part = NULL, *url = NULL, *dir = NULL;
    if (!d)
        return NULL;
    if (curl_url_get(d, CURLUPART_FRAGMENT, &part, 0) != CURLUE_NO_FRAGMENT ||
        curl_url_get(d, CURLUPART_USER, &part, 0) != CURLUE_NO_USER ||
        curl_url_get(d, CURLUPART_PASSWORD, &part, 0) != CURLUE_NO_PASSWORD ||
        curl_url_set(d, CURLUPART_QUERY, NULL, 0) != CURLUE_OK ||
        curl_url_get(d, CURLUPART_URL, &url, 0) != CURLUE_OK)
        goto out;
    char *sep = strstr(url, "://");
    char *slash = sep ? strrchr(sep + 3, '/') : NULL;
    if (slash && (dir = strdup(url)))
        dir[slash - url + 1] = '\0';
out:
    curl_free(part);
    curl_free(url);
    curl_url_cleanup(d);
    return dir;
}

/* RFC 3986 2.3: letters, digits, '-', '.', '_' and '~'. */
static int is_unreserved(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

/* RFC 3986 resolves a relative path reference by merging it with the
 * base's directory and then removing dot segments. For a plain one -- any
 * leading "./", then segments of unreserved characters separated by '/',
 * none of them empty (but the last), "." or "..", then maybe a fragment of
 * printable bytes -- the merge is an append to dir, no dot segment is
 * left, and there is nothing for curl to encode, decode or refuse. That is
 * most links on a page (href="page-2.html"), which so cost a copy instead
 * of two URL parses by curl; every other reference goes to curl. Returns
 * the part to append (*len bytes: the reference without "./" and
 * fragment) or NULL when the reference is not plain. */
static const char *plain_path(const char *cref, size_t *len)
{
    const char *s = cref, *p;
    while (s[0] == '.' && s[1] == '/')
        s += 2;
    for (p = s;; p++) {
        const char *seg = p;
        while (is_unreserved((unsigned char)*p))
            p++;
        size_t n = (size_t)(p - seg);
        if ((n == 1 && seg[0] == '.') || (n == 2 && !memcmp(seg, "..", 2)))
            return NULL;
        if (*p != '/')
            break;
        if (n == 0)
            return NULL; /* "//" or a leading '/' */
    }
    *len = (size_t)(p - s);
    if (*p == '#')
        while (*++p)
            if ((unsigned char)*p <= ' ' || *p == 0x7f)
                return NULL; /* curl refuses the whole reference */
    return *p ? NULL : s;
}

/* Resolves a plain reference (see plain_path()) against dir into a
 * malloced *out; dir NULL: no reference is plain. Returns 1 when done, 0
 * when ref is not plain, -1 when out of memory. */
static int resolve_plain(const char *dir, const char *cref, char **out)
{
    size_t n, dlen;
    const char *tail = dir ? plain_path(cref, &n) : NULL;
    if (!tail)
        return 0;
    dlen = strlen(dir);
    if (!(*out = malloc(dlen + n + 1)))
        return -1;
    memcpy(*out, dir, dlen);
    memcpy(*out + dlen, tail, n);
    (*out)[dlen + n] = '\0';
    return 1;
}

/* Resolves ref against b, whose directory is dir: a plain reference by
 * appending it to plain_dir (dir, or NULL when b does not join plainly);
 * through memo m (when not NULL), a path reference
 * resolved before against the same directory is copied from m, any other
 * is resolved by curl and, unless it depends on more of the base than dir
 * ("", "#f", "?q"), remembered. */
static int resolve_in_dir(fetch_url_memo *m, const CURLU *b,
                          const char *dir, const char *plain_dir,
                          const char *ref, char **out)
{
    char *cref = clean_ref(ref), *key = NULL;
    int result = FETCH_ENOMEM;
    *out = NULL;
    if (!cref)
        return FETCH_ENOMEM;
    if (cref[0] == '\0' || cref[0] == '#' || cref[0] == '?') {
        result = resolve_clean(b, cref, out);
        goto out;
    }
    int plain = resolve_plain(plain_dir, cref, out);
    if (plain) {
        result = plain > 0 ? FETCH_OK : FETCH_ENOMEM;
        goto out;
    }
    if (!m) {
        result = resolve_clean(b, cref, out);
        goto out;
    }
    size_t dlen = strlen(dir), rlen = strlen(cref), len = dlen + 1 + rlen;
    if (!(key = malloc(len)))
        goto out;
    memcpy(key, dir, dlen + 1);
    memcpy(key + dlen + 1, cref, rlen);
    uint64_t h = fnv1a(key, len);
    int known = memo_get(m, key, len, h, out);
    if (known) {
        result = known > 0 ? FETCH_OK : FETCH_ENOMEM;
        goto out;
    }
    result = resolve_clean(b, cref, out);
    if (result != FETCH_ENOMEM)
        memo_put(m, key, len, h, *out);
out:
    free(key);
    free(cref);
    return result;
}

/* Whether curl joins a plain reference onto b exactly as dir + reference.
 * It does for the bases of real pages; but curl joins onto its own text of
 * the base, and for an odd one (a path that starts with "//", say) that
 * differs from dir. One probe tells, since curl's join of a plain
 * reference does not depend on the reference; it goes through memo m
 * (when not NULL) like any path reference, so a directory is probed once. */
static int joins_plainly(fetch_url_memo *m, const CURLU *b, const char *dir)
{
    char *probe = NULL;
    size_t dlen = strlen(dir);
    int ok = resolve_in_dir(m, b, dir, NULL, "x", &probe) == FETCH_OK &&
             probe && !strncmp(probe, dir, dlen) && !strcmp(probe + dlen, "x");
    free(probe);
    return ok;
}

int fetch_url_resolve_all(const char *base, char *const *refs, size_t n,
                          char **out, fetch_url_memo *m)
{
    CURLU *b;
    char *dir = NULL;
    for (size_t i = 0; i < n; i++)
        out[i] = NULL;
    if (n == 0)
        return FETCH_OK;
    int result = parse_base(base, &b);
    if (result == FETCH_EURL)
        return FETCH_OK; /* a bad base: nothing resolves */
    if (result == FETCH_OK && n > 1)
        dir = base_dir(b);
    const char *plain_dir = dir && joins_plainly(m, b, dir) ? dir : NULL;
    for (size_t i = 0; i < n && result == FETCH_OK; i++) {
        int rc = dir ? resolve_in_dir(m, b, dir, plain_dir, refs[i], &out[i])
                     : resolve_with(b, refs[i], &out[i]);
        if (rc == FETCH_ENOMEM)
            result = rc;
    }
    if (result) {
        for (size_t i = 0; i < n; i++) {
            free(out[i]);
            out[i] = NULL;
        }
    }
    free(dir);
    curl_url_cleanup(b);
    return result;
}

/* ---- canonical URLs ---- */

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Rewrites the escapes of s in place as RFC 3986 6.2.2 says: an escape of
 * an unreserved character is that character, any other escape has upper
 * case digits. A '%' that starts no escape stays as it is. */
static void normalize_escapes(char *s)
{
    char *w = s;
    for (const char *r = s; *r;) {
        int hi = r[0] == '%' ? hex_value(r[1]) : -1;
        int lo = hi >= 0 ? hex_value(r[2]) : -1;
        if (lo < 0) {
            *w++ = *r++;
            continue;
        }
        int c = hi * 16 + lo;
        if (is_unreserved(c)) {
            *w++ = (char)c;
        } else {
            *w++ = '%';
            *w++ = (char)toupper((unsigned char)r[1]);
            *w++ = (char)toupper((unsigned char)r[2]);
        }
        r += 3;
    }
    *w = '\0';
}

typedef struct query_param {
    const char *p;  /* borrowed; the parameter, not terminated */
    size_t len;     /* its length */
    size_t name;    /* the length of its name, up to '=' */
    size_t order;   /* its place in the query, for a stable sort */
} query_param;

static int param_cmp(const void *a, const void *b)
{
    const query_param *x = a, *y = b;
    size_t n = x->name < y->name ? x->name : y->name;
    int c = memcmp(x->p, y->p, n);
    if (c)
        return c;
    if (x->name != y->name)
        return x->name < y->name ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* The parameters of query q sorted by name (see fetch_url_normalize()),
 * as a malloced string, or NULL when out of memory. */
static char *sort_query(const char *q)
{
    size_t n = 1, len = strlen(q);
    for (const char *c = q; *c; c++)
        n += *c == '&';
    query_param *v = malloc(n * sizeof *v);
    char *out = malloc(len + 1);
    if (!v || !out) {
        free(v);
        free(out);
        return NULL;
    }
    size_t k = 0;
    for (const char *p = q;; p++) {
        size_t plen = strcspn(p, "&");
        if (plen) {
            size_t name = strcspn(p, "=&");
            v[k] = (query_param){p, plen, name, k};
            k++;
        }
        p += plen;
        if (!*p)
            break;
    }
    qsort(v, k, sizeof *v, param_cmp);
    size_t o = 0;
    for (size_t i = 0; i < k; i++) {
        if (i)
            out[o++] = '&';
        memcpy(out + o, v[i].p, v[i].len);
        o += v[i].len;
    }
    out[o] = '\0';
    free(v);
    return out;
}

/* Host h (as curl's URL API gives it) in canonical form, malloced: ASCII
 * letters in lower case, and an IPv6 literal as inet_ntop writes it (RFC
 * 5952: shortest, lower-case hex), so that "[0:0::1]" and "[::1]" are one
 * host. An IDN host stays in UTF-8: libcurl's punycode conversion depends
 * on the process's locale, and a key must not. */
static char *canonical_host(const char *h)
{
    char buf[INET6_ADDRSTRLEN + 2];
    size_t n = strlen(h);
    if (n > 2 && n < sizeof buf && h[0] == '[' && h[n - 1] == ']') {
        unsigned char a[16];
        memcpy(buf, h + 1, n - 2);
        buf[n - 2] = '\0';
        if (inet_pton(AF_INET6, buf, a) == 1 &&
            inet_ntop(AF_INET6, a, buf + 1, INET6_ADDRSTRLEN)) {
            buf[0] = '[';
            strcat(buf, "]");
            return strdup(buf);
        }
    }
    char *c = strdup(h);
    for (char *p = c; p && *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return c;
}

/* Parses url into *out, a CURLU holding its canonical form (see
 * fetch_url_normalize()). Returns 0 or a fetch_code. */
static int canonical(const char *url, int sort, CURLU **out)
{
    char *abs = NULL, *sorted = NULL, *query = NULL;
    char *host = NULL, *chost = NULL;
    CURLU *u = NULL;
    int result;

    *out = NULL;
    /* The same checks and encoding as every URL gather requests. */
    if ((result = resolve_with(NULL, url, &abs)))
        goto out;
    /* Escapes are rewritten in the text: curl's URL API keeps them as
     * parsed, but lower-cases them when a part is set on its own. abs is
     * curl's "scheme://authority/path?query", so the path starts at the
     * first '/' after "://". */
    char *rest = strchr(strstr(abs, "://") + 3, '/');
    if (!rest) {
        result = FETCH_EURL;
        goto out;
    }
    normalize_escapes(rest);
    char *qm = strchr(rest, '?');
    if (qm && sort) {
        if (!(sorted = sort_query(qm + 1))) {
            result = FETCH_ENOMEM;
            goto out;
        }
        strcpy(qm + 1, sorted); /* never longer: the same parameters */
    }
    result = FETCH_ENOMEM;
    if (!(u = curl_url()))
        goto out;
    result = FETCH_EURL;
    /* Parsing resolves the dot segments, decoded ones ("%2E%2E") too. */
    if (curl_url_set(u, CURLUPART_URL, abs, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
        goto out;
    if (!(chost = canonical_host(host))) {
        result = FETCH_ENOMEM;
        goto out;
    }
    if (curl_url_set(u, CURLUPART_HOST, chost, 0) != CURLUE_OK)
        goto out;
    if (curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK && !*query &&
        curl_url_set(u, CURLUPART_QUERY, NULL, 0) != CURLUE_OK)
        goto out;
    *out = u;
    u = NULL;
    result = FETCH_OK;
out:
    free(abs);
    free(sorted);
    free(chost);
    curl_free(query);
    curl_free(host);
    curl_url_cleanup(u);
    return result;
}

int fetch_url_normalize(const char *url, int sort_query, char **out)
{
    CURLU *u;
    char *s = NULL;
    int result = canonical(url, sort_query, &u);
    *out = NULL;
    if (result)
        return result;
    if (curl_url_get(u, CURLUPART_URL, &s, CURLU_NO_DEFAULT_PORT) !=
        CURLUE_OK)
        result = FETCH_EURL;
    else if (!(*out = dup_curl(s)))
        result = FETCH_ENOMEM;
    curl_url_cleanup(u);
    return result;
}

/* One parse, not canonical()'s two: the scheduler takes the key of every
 * URL twice (when it queues and when it is done), and the path and query
 * that canonical() rewrites do not touch the host. The URL is refused as
 * resolve_parts() refuses it, so a URL gets a key exactly when it has a
 * canonical form. */
int fetch_url_host(const char *url, char *out, size_t cap)
{
    char *cref = clean_ref(url), *text = NULL, *host = NULL, *port = NULL;
    char *chost = NULL;
    CURLU *u = NULL;
    int result = FETCH_ENOMEM;
    if (cap)
        out[0] = '\0';
    if (!cref || (result = resolve_parts(NULL, cref, &u, &text)))
        goto out;
    result = FETCH_EURL;
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
            CURLUE_OK)
        goto out;
    if (!(chost = canonical_host(host))) {
        result = FETCH_ENOMEM;
        goto out;
    }
    int n = snprintf(out, cap, "%s:%s", chost, port);
    result = n >= 0 && (size_t)n < cap ? FETCH_OK : FETCH_ETOOLONG;
    if (result && cap)
        out[0] = '\0';
out:
    free(cref);
    free(chost);
    curl_free(text);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return result;
}

size_t fetch_url_origin_len(const char *url)
{
    const char *p = url;
    if (!isalpha((unsigned char)*p))
        return 0;
    while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.')
        p++;
    if (strncmp(p, "://", 3))
        return 0;
    const char *host = p += 3;
    while (is_unreserved((unsigned char)*p) || (*p && strchr(":[]", *p)))
        p++;
    if (p == host || (*p && *p != '/' && *p != '?' && *p != '#'))
        return 0;
    return (size_t)(p - url);
}

int fetch_url_path(const char *url, char **out)
{
    CURLU *u;
    char *path = NULL, *query = NULL;
    int result = canonical(url, 0, &u);
    *out = NULL;
    if (result)
        return result;
    result = FETCH_EURL;
    if (curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK) {
        curl_url_get(u, CURLUPART_QUERY, &query, 0); /* absent: NULL */
        size_t n = strlen(path) + (query ? strlen(query) + 1 : 0) + 1;
        result = FETCH_ENOMEM;
        if ((*out = malloc(n))) {
            snprintf(*out, n, "%s%s%s", path, query ? "?" : "",
                     query ? query : "");
            result = FETCH_OK;
        }
    }
    curl_free(path);
    curl_free(query);
    curl_url_cleanup(u);
    return result;
}

/* ---- save names ---- */

/* Appends src[0..n) to out as one safe path component: control bytes, '/',
 * '\\' are percent-encoded ('%' is kept, so names stay readable and
 * a clash is settled by the saver's .N suffix), "." and ".." are encoded
 * whole, and an over-long component is cut and tagged with a hash so that
 * distinct long names stay distinct. Returns 0 or FETCH_ETOOLONG. */
static int put_component(char *out, size_t cap, size_t *len, const char *src,
                         size_t n)
{
    /* Room for the whole component encoded, so that an extension at the
     * very end is still there when the component is cut below. */
    char *buf = malloc(n * 3 + 64);
    size_t b = 0;

    if (!buf)
        return FETCH_ENOMEM;
    if ((n == 1 && src[0] == '.') || (n == 2 && !memcmp(src, "..", 2))) {
        b = (size_t)snprintf(buf, 64, "%s",
                             n == 1 ? "%2E" : "%2E%2E");
    } else {
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)src[i];
            if (c < 0x20 || c == 0x7f || c == '/' || c == '\\')
                b += (size_t)snprintf(buf + b, 4, "%%%02X", c);
            else
                buf[b++] = (char)c;
        }
        buf[b] = '\0';
    }
    if (b > FETCH_NAME_MAX) {
        /* Keep a short extension so the file type stays visible. */
        const char *dot = strrchr(buf, '.');
        size_t ext = dot && strlen(dot) <= 10 ? strlen(dot) : 0;
        char tail[32];
        int t = snprintf(tail, sizeof tail, "~%016llx", fnv1a(src, n));
        size_t keep = FETCH_NAME_MAX - (size_t)t - ext;
        /* Do not cut a UTF-8 sequence in half. */
        while (keep && ((unsigned char)buf[keep] & 0xC0) == 0x80)
            keep--;
        memmove(buf + keep + (size_t)t, buf + b - ext, ext);
        memcpy(buf + keep, tail, (size_t)t);
        b = keep + (size_t)t + ext;
        buf[b] = '\0';
    }
    if (*len + b + 2 > cap) {
        free(buf);
        return FETCH_ETOOLONG;
    }
    if (*len)
        out[(*len)++] = '/';
    memcpy(out + *len, buf, b);
    *len += b;
    out[*len] = '\0';
    free(buf);
    return FETCH_OK;
}

int fetch_name_for_url(const char *url, char *out, size_t cap)
{
    int result = FETCH_EURL;
    char *host = NULL, *port = NULL, *path = NULL, *query = NULL;
    char *last = NULL;
    size_t len = 0;
    CURLU *u = curl_url();

    if (!u || cap < 2) {
        result = u ? FETCH_ETOOLONG : FETCH_ENOMEM;
        goto out;
    }
    out[0] = '\0';
    if ((result = set_http_url(u, url, CURLU_ALLOW_SPACE)))
        goto out;
    result = FETCH_EURL;
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK)
        goto out;
    curl_url_get(u, CURLUPART_PORT, &port, 0);   /* absent: default port */
    curl_url_get(u, CURLUPART_QUERY, &query, 0); /* absent: no query */

    for (char *p = host; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    {
        char hp[512];
        int n = snprintf(hp, sizeof hp, "%s%s%s", host, port ? ":" : "",
                         port ? port : "");
        if (n < 0 || (size_t)n >= sizeof hp) {
            result = FETCH_ETOOLONG;
            goto out;
        }
        if ((result = put_component(out, cap, &len, hp, (size_t)n)))
            goto out;
    }

    /* Directories: every path segment but the last; empty ones vanish. */
    const char *seg = path;
    const char *slash;
    while ((slash = strchr(seg, '/'))) {
        if (slash > seg &&
            (result = put_component(out, cap, &len, seg,
                                    (size_t)(slash - seg))))
            goto out;
        seg = slash + 1;
    }
    /* The file: the last segment (or index.html) plus "?query". */
    size_t flen = strlen(seg) + (query ? strlen(query) + 1 : 0) + 16;
    if (!(last = malloc(flen))) {
        result = FETCH_ENOMEM;
        goto out;
    }
    snprintf(last, flen, "%s%s%s", *seg ? seg : "index.html",
             query ? "?" : "", query ? query : "");
    result = put_component(out, cap, &len, last, strlen(last));
out:
    if (result && cap)
        out[0] = '\0';
    free(last);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_free(query);
    curl_url_cleanup(u);
    return result;
}
