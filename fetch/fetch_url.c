/* fetch_url: URL resolution and save names, on top of curl's URL API.
 * Both are pure functions of their inputs, so they are unit-tested alone. */
#include "fetch.h"
#include "fetch_int.h"

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

/* Resolves ref against b (a parsed base, or NULL when ref must be
 * absolute) into a malloced URL in *out. */
static int resolve_with(const CURLU *b, const char *ref, char **out)
{
    int result = FETCH_EURL;
    char *s = NULL, *cref = NULL;
    CURLU *u = b ? curl_url_dup((CURLU *)b) : curl_url();

    *out = NULL;
    if (!u || !(cref = clean_ref(ref))) {
        result = FETCH_ENOMEM;
        goto out;
    }
    /* RFC 3986: an empty or fragment-only reference is the base document
     * itself. curl 7.88 resolves those to the base's directory instead,
     * so they never reach it. */
    int self = b && (cref[0] == '\0' || cref[0] == '#');
    if ((result = self ? (is_http_scheme(u) ? FETCH_OK : FETCH_ESCHEME)
                       : set_http_url(u, cref, RESOLVE_FLAGS)))
        goto out;
    result = FETCH_EURL;
    if (curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_URL, &s, 0) != CURLUE_OK)
        goto out;
    /* curl decodes a %-encoded host ("http://0x%7f.1/") and lets DEL
     * through, and CURLU_ALLOW_SPACE lets a space into the user name
     * ("http:/ @x"). Browsers refuse both, so the reference is dropped. */
    for (const char *c = s; *c; c++)
        if ((unsigned char)*c <= ' ' || *c == 0x7f)
            goto out;
    *out = dup_curl(s);
    s = NULL;
    result = *out ? FETCH_OK : FETCH_ENOMEM;
out:
    curl_free(s);
    free(cref);
    curl_url_cleanup(u);
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

int fetch_url_resolve_all(const char *base, char *const *refs, size_t n,
                          char **out)
{
    CURLU *b;
    int result = parse_base(base, &b);
    for (size_t i = 0; i < n; i++)
        out[i] = NULL;
    if (result == FETCH_EURL)
        return FETCH_OK; /* a bad base: nothing resolves */
    for (size_t i = 0; i < n && result == FETCH_OK; i++) {
        int rc = resolve_with(b, refs[i], &out[i]);
        if (rc == FETCH_ENOMEM)
            result = rc;
    }
    if (result) {
        for (size_t i = 0; i < n; i++) {
            free(out[i]);
            out[i] = NULL;
        }
    }
    curl_url_cleanup(b);
    return result;
}

/* ---- save names ---- */

/* 64-bit FNV-1a: a stable tag for names that had to be shortened. */
static unsigned long long fnv1a(const char *s, size_t n)
{
    unsigned long long h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

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
