/* fuzz_name: libFuzzer target for fetch_url_resolve() and
 * fetch_name_for_url(), the two functions that turn strings from the
 * network into URLs to fetch and paths to write, and of
 * fetch_url_resolve_all(), the batch form the parser uses, and the
 * politeness key fetch_url_host() gives what they resolve to. Every success is
 * checked against the promises in fetch/fetch.h; a broken one aborts, which
 * libFuzzer reports as a crash. */
#include "../../fetch/fetch.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BIG_CAP 4096

static void fail(const char *what, const char *in, const char *got)
{
    fprintf(stderr, "fuzz_name: %s\n  input [%s]\n  got   [%s]\n", what,
            in ? in : "(null)", got ? got : "(null)");
    abort();
}

static char *dupn(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    if (!s)
        abort();
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* The promises of fetch_name_for_url() for a name that came back: a
 * relative path of non-empty components, none "." or "..", none longer than
 * FETCH_NAME_MAX, no control bytes or backslashes, shorter than cap. */
static void check_name(const char *url, const char *name, size_t cap)
{
    size_t n = strlen(name);
    if (n == 0 || n >= cap)
        fail("name empty or not shorter than cap", url, name);
    if (name[0] == '/')
        fail("name starts with '/'", url, name);
    for (const char *c = name; *c; c++) {
        unsigned char b = (unsigned char)*c;
        if (b < 0x20 || b == 0x7f || b == '\\')
            fail("name holds a control byte or backslash", url, name);
    }
    for (const char *seg = name;;) {
        const char *slash = strchr(seg, '/');
        size_t len = slash ? (size_t)(slash - seg) : strlen(seg);
        if (len == 0)
            fail("name has an empty component", url, name);
        if ((len == 1 && seg[0] == '.') || (len == 2 && !memcmp(seg, "..", 2)))
            fail("name has a '.' or '..' component", url, name);
        if (len > FETCH_NAME_MAX)
            fail("name component longer than FETCH_NAME_MAX", url, name);
        if (!slash)
            break;
        seg = slash + 1;
    }
}

/* Names url with a buffer of exactly cap bytes (so ASan sees any overrun);
 * returns the result code and leaves the name in a malloced *out. */
static int name_with_cap(const char *url, size_t cap, char **out)
{
    char *buf = malloc(cap);
    if (!buf)
        abort();
    memset(buf, 'Z', cap);
    int rc = fetch_name_for_url(url, buf, cap);
    if (rc < 0 || rc >= FETCH_NCODES)
        fail("name: result is not a fetch_code", url, NULL);
    if (rc == FETCH_OK)
        check_name(url, buf, cap);
    else if (buf[0] != '\0')
        fail("name failed but left a partial name", url, buf);
    *out = buf;
    return rc;
}

/* Names url with a roomy buffer and with a small one; the small one may
 * only fail with FETCH_ETOOLONG, or give the same name. Returns the code of
 * the roomy call. */
static int check_naming(const char *url, size_t small_cap)
{
    char *big = NULL, *small = NULL;
    int rc = name_with_cap(url, BIG_CAP, &big);
    int rc2 = name_with_cap(url, small_cap, &small);
    if (rc == FETCH_OK && rc2 == FETCH_OK && strcmp(big, small))
        fail("name depends on cap", url, small);
    if (rc != FETCH_OK && rc != FETCH_ETOOLONG && rc2 != rc)
        fail("small cap changes a URL error", url, small);
    if (rc == FETCH_OK && rc2 != FETCH_OK && rc2 != FETCH_ETOOLONG)
        fail("small cap fails with other than FETCH_ETOOLONG", url, small);
    free(big);
    free(small);
    return rc;
}

/* A resolved URL is absolute http(s), has no fragment and nothing a
 * request line cannot carry. */
static void check_resolved(const char *in, const char *abs)
{
    if (strncmp(abs, "http://", 7) && strncmp(abs, "https://", 8))
        fail("resolved URL is not http(s)", in, abs);
    if (strchr(abs, '#'))
        fail("resolved URL keeps a fragment", in, abs);
    for (const char *c = abs; *c; c++)
        if ((unsigned char)*c <= ' ' || (unsigned char)*c == 0x7f)
            fail("resolved URL holds a blank or control byte", in, abs);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (fetch_global_init())
        abort();
    return 0;
}

/* Resolves ref against base and checks the result; returns it (malloced)
 * or NULL. */
static char *check_resolve(const char *base, const char *ref,
                           size_t small_cap)
{
    char *abs = NULL;
    int rc = fetch_url_resolve(base, ref, &abs);
    if (rc < 0 || rc >= FETCH_NCODES)
        fail("resolve: result is not a fetch_code", ref, NULL);
    if (rc != FETCH_OK) {
        if (abs)
            fail("resolve failed but returned a URL", ref, abs);
        return NULL;
    }
    if (!abs)
        fail("resolve succeeded without a URL", ref, NULL);
    check_resolved(ref, abs);
    /* What resolve hands out is what the fetcher will name: it must never
     * be rejected as malformed or of the wrong scheme. */
    int nrc = check_naming(abs, small_cap);
    if (nrc != FETCH_OK && nrc != FETCH_ETOOLONG)
        fail("a resolved URL cannot be named", ref, abs);
    /* The politeness key does not depend on how a URL is spelt: a URL has
     * one exactly when it has a canonical form, and the same one. */
    char key[512], key2[512], *canon = NULL;
    int hrc = fetch_url_host(abs, key, sizeof key);
    int crc = fetch_url_normalize(abs, 0, &canon);
    if ((hrc == FETCH_OK) != (crc == FETCH_OK) && hrc != FETCH_ETOOLONG)
        fail("a URL has a host key without a canonical form, or the reverse",
             abs, canon);
    if (hrc == FETCH_OK &&
        (fetch_url_host(canon, key2, sizeof key2) || strcmp(key, key2)))
        fail("the host key changes with canonical spelling", abs, key2);
    /* The scheduler keeps keys by plain scheme and authority. */
    size_t olen = fetch_url_origin_len(abs);
    if (hrc == FETCH_OK && olen) {
        char origin[512];
        if (olen >= sizeof origin)
            fail("a key of over 512 bytes from a URL", abs, key);
        memcpy(origin, abs, olen);
        origin[olen] = '\0';
        if (fetch_url_host(origin, key2, sizeof key2) || strcmp(key, key2))
            fail("a URL's scheme and authority alone have another key", abs,
                 key2);
    }
    free(canon);
    /* Resolving is idempotent: an absolute result resolves to itself. */
    char *again = NULL;
    if (fetch_url_resolve(NULL, abs, &again) != FETCH_OK ||
        strcmp(again, abs))
        fail("resolving a resolved URL changes it", abs, again);
    free(again);
    return abs;
}

#define MAX_REFS 8

/* Input: "base\0ref\0ref..." (up to MAX_REFS refs), or one ref with no
 * base. Each ref is named and resolved alone, then all at once with
 * fetch_url_resolve_all(), which must agree: without a memo, and with one
 * kept across inputs, so that a result remembered for one base and handed
 * out for another shows as a difference. The memo is small, so it also
 * empties itself often. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *base = NULL, *refs[MAX_REFS], *one[MAX_REFS], *all[MAX_REFS];
    size_t n = 0;
    const uint8_t *p = data, *end = data + size;
    const uint8_t *nul = memchr(p, '\0', size);
    if (nul) {
        base = dupn(p, (size_t)(nul - p));
        p = nul + 1;
    }
    do {
        nul = memchr(p, '\0', (size_t)(end - p));
        const uint8_t *e = nul && n + 1 < MAX_REFS ? nul : end;
        refs[n++] = dupn(p, (size_t)(e - p));
        p = e + (e < end);
    } while (p < end && n < MAX_REFS);
    /* A cap anywhere from the minimum to past FETCH_NAME_MAX. */
    size_t small_cap = 2 + (size * 7 + (size ? data[size - 1] : 0)) % 600;

    if (base)
        check_naming(base, small_cap);
    for (size_t i = 0; i < n; i++) {
        check_naming(refs[i], small_cap);
        one[i] = check_resolve(base, refs[i], small_cap);
    }
    static fetch_url_memo *memo;
    if (!memo && !(memo = fetch_url_memo_new(64, 1u << 16)))
        fail("fetch_url_memo_new failed", NULL, NULL);
    for (int with_memo = 0; with_memo < 2; with_memo++) {
        if (fetch_url_resolve_all(base, refs, n, all,
                                  with_memo ? memo : NULL) != FETCH_OK)
            fail("resolve_all failed (only allowed when out of memory)",
                 base, NULL);
        for (size_t i = 0; i < n; i++) {
            if ((one[i] == NULL) != (all[i] == NULL) ||
                (one[i] && strcmp(one[i], all[i])))
                fail(with_memo ? "resolve_all with a memo differs from "
                                 "resolve"
                               : "resolve_all differs from resolve",
                     refs[i], all[i]);
            free(all[i]);
        }
    }
    for (size_t i = 0; i < n; i++) {
        free(one[i]);
        free(refs[i]);
    }
    free(base);
    return 0;
}
