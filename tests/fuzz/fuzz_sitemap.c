/* fuzz_sitemap: libFuzzer target for the sitemap reader. The input is a
 * sitemap body, gzipped or not. Every URL given must be non-empty, at most
 * 8 KiB, without whitespace at either end; an error must come with a
 * message; a callback that stops at the first URL must get no other; and
 * the input gzipped must give the same URLs, code and kind. A broken
 * promise aborts, which libFuzzer reports as a crash. */
#include "../../parse/parse.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Every URL given, one a line. */
typedef struct urls {
    char *text;
    size_t len, cap, n;
    int stop_first;
} urls;

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_sitemap: %s\n  [%.400s]\n", what,
            detail ? detail : "(null)");
    abort();
}

static int xml_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int collect(void *ctx, const char *loc)
{
    urls *u = ctx;
    size_t n = strlen(loc);
    if (!n || n > 8192)
        fail("URL empty or over 8 KiB", loc);
    if (xml_space(loc[0]) || xml_space(loc[n - 1]))
        fail("URL not trimmed", loc);
    if (u->stop_first && u->n)
        fail("a URL after the callback asked to stop", loc);
    if (u->len + n + 2 > u->cap) {
        u->cap = (u->len + n + 2) * 2;
        if (!(u->text = realloc(u->text, u->cap)))
            abort();
    }
    memcpy(u->text + u->len, loc, n);
    u->len += n;
    u->text[u->len++] = '\n';
    u->text[u->len] = '\0';
    u->n++;
    return u->stop_first;
}

/* Reads body into u; returns parse_sitemap()'s code, checked. */
static int run(const char *body, size_t len, urls *u, int *is_index)
{
    char err[256] = "";
    int rc = parse_sitemap(body, len, collect, u, is_index, err, sizeof err);
    if (rc < 0 || rc >= PARSE_NCODES)
        fail("return is no parse_code", err);
    if (rc && !err[0])
        fail("an error without a message", parse_strerror(rc));
    if (*is_index != 0 && *is_index != 1)
        fail("is_index is neither 0 nor 1", NULL);
    return rc;
}

/* Returns a malloced gzip of data, its length in *out_len. */
static char *gzip(const uint8_t *data, size_t size, size_t *out_len)
{
    z_stream zs = {0};
    size_t cap = size + size / 100 + 64;
    char *out = malloc(cap);
    if (!out || deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8,
                             Z_DEFAULT_STRATEGY) != Z_OK)
        abort();
    zs.next_in = (Bytef *)data;
    zs.avail_in = (uInt)size;
    zs.next_out = (Bytef *)out;
    zs.avail_out = (uInt)cap;
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
        abort();
    *out_len = zs.total_out;
    deflateEnd(&zs);
    return out;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    parse_global_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    urls plain = {0}, first = {.stop_first = 1}, zipped = {0};
    int idx_plain, idx_first, idx_zipped;

    int rc = run(body, size, &plain, &idx_plain);
    int rc_first = run(body, size, &first, &idx_first);
    if (plain.n && (rc_first != PARSE_OK || first.n != 1))
        fail("stopping at the first URL did not stop cleanly", plain.text);

    /* Gzip of gzip is read once only: skip what is gzip already. */
    if (size < 2 || data[0] != 0x1f || data[1] != 0x8b) {
        size_t zlen;
        char *z = gzip(data, size, &zlen);
        int rc_zipped = run(z, zlen, &zipped, &idx_zipped);
        free(z);
        if (rc_zipped != rc || idx_zipped != idx_plain ||
            strcmp(zipped.text ? zipped.text : "",
                   plain.text ? plain.text : ""))
            fail("gzipped, the same body reads otherwise", body);
    }
    free(plain.text);
    free(first.text);
    free(zipped.text);
    return 0;
}
