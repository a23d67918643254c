/* fuzz_urllist: libFuzzer target for the streaming URL-list reader. Every
 * result of urllist_next() must match a plain model of the list (split on
 * '\n', then the rules in cmd/urllist.h), however the bytes arrive. The
 * reader reads a real file's descriptor with read(); this target is linked
 * with -Wl,--wrap=read so that the descriptor it hands over (/dev/null)
 * serves the input instead, in short reads, with EINTR or with an I/O
 * error when the input asks for them.
 *
 * Input: the list itself, or, when byte 0 is 0x01..0x0f, flags in byte 0
 * and their arguments after it, in this order:
 *   0x01  grow a line: a run of URLLIST_MAX_LINE-6+(a%16) bytes b,
 *         inserted at offset c (3 bytes a b c)
 *   0x02  read through stdio (fmemopen) instead of the descriptor
 *   0x04  short reads of 1..64 bytes, x1024 when bit 7 is set, EINTR on
 *         every third read when bit 6 is set (1 byte)
 *   0x08  read() fails with EIO at offset len*a/256 (1 byte a) */
#define _GNU_SOURCE
#include "../../cmd/urllist.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What the wrapped read() serves on 'fd'. */
static struct feed {
    int fd;               /* -1: serve nothing */
    const uint8_t *data;  /* borrowed */
    size_t len, off;
    int chunked;
    uint8_t seed;
    size_t fail_at;       /* SIZE_MAX: never */
    unsigned calls;
} feed = {.fd = -1};

static FILE *devnull;

ssize_t __real_read(int fd, void *buf, size_t n);

ssize_t __wrap_read(int fd, void *buf, size_t n)
{
    if (fd < 0 || fd != feed.fd)
        return __real_read(fd, buf, n);
    feed.calls++;
    if (feed.chunked && (feed.seed & 0x40) && feed.calls % 3 == 0) {
        errno = EINTR;
        return -1;
    }
    if (feed.off >= feed.fail_at) {
        errno = EIO;
        return -1;
    }
    if (feed.chunked) {
        size_t lim = 1 + ((feed.seed ^ (feed.calls * 7u)) & 0x3f);
        if (feed.seed & 0x80)
            lim *= 1024;
        if (n > lim)
            n = lim;
    }
    if (feed.fail_at != SIZE_MAX && n > feed.fail_at - feed.off)
        n = feed.fail_at - feed.off;
    if (n > feed.len - feed.off)
        n = feed.len - feed.off;
    memcpy(buf, feed.data + feed.off, n);
    feed.off += n;
    return (ssize_t)n;
}

static void fail(const char *what, size_t step, size_t lineno,
                 const char *url)
{
    fprintf(stderr, "fuzz_urllist: %s (result %zu, line %zu)\n  url [%.200s]\n",
            what, step, lineno, url ? url : "(null)");
    abort();
}

/* One expected result of urllist_next(). */
typedef struct expect {
    int rc;               /* 1 or -1; the list ends with 0 */
    size_t lineno;
    const uint8_t *url;   /* for rc 1: borrowed from the list */
    size_t url_len;
} expect;

/* The model: the results urllist_next() must give for buf[0..len), written
 * to out (at most one per line); returns how many. */
static size_t model(const uint8_t *buf, size_t len, expect *out)
{
    size_t n = 0, lineno = 0;
    for (size_t at = 0; at < len;) {
        const uint8_t *line = buf + at;
        const uint8_t *nl = memchr(line, '\n', len - at);
        size_t ll = nl ? (size_t)(nl - line) : len - at;
        at += ll + (nl != NULL);
        lineno++;
        size_t content = ll && line[ll - 1] == '\r' ? ll - 1 : ll;
        if (content > URLLIST_MAX_LINE || memchr(line, '\0', ll)) {
            out[n++] = (expect){-1, lineno, NULL, 0};
            continue;
        }
        /* A UTF-8 byte order mark opening the list is not content. */
        size_t b = lineno == 1 && ll >= 3 && !memcmp(line, "\xEF\xBB\xBF", 3)
                       ? 3 : 0,
               e = ll;
        while (e && (line[e - 1] == '\r' || line[e - 1] == ' ' ||
                     line[e - 1] == '\t'))
            e--;
        while (b < e && (line[b] == ' ' || line[b] == '\t'))
            b++;
        if (b == e || line[b] == '#')
            continue;
        out[n++] = (expect){1, lineno, line + b, e - b};
    }
    return n;
}

/* The list: the input after its header, with a long run inserted when
 * asked; *hdr gets the flags (0 without a header). */
static uint8_t *make_list(const uint8_t *data, size_t size, size_t *len,
                          uint8_t *flags, uint8_t *seed, uint8_t *fail)
{
    const uint8_t *p = data, *end = data + size;
    uint8_t grow[3] = {0};
    *flags = *seed = *fail = 0;
    if (size && data[0] >= 0x01 && data[0] <= 0x0f) {
        *flags = *p++;
        for (int i = 0; i < 3 && (*flags & 0x01); i++)
            grow[i] = p < end ? *p++ : 0;
        if (*flags & 0x04)
            *seed = p < end ? *p++ : 0;
        if (*flags & 0x08)
            *fail = p < end ? *p++ : 0;
    }
    size_t rest = (size_t)(end - p);
    size_t run = *flags & 0x01 ? URLLIST_MAX_LINE - 6 + grow[0] % 16 : 0;
    size_t at = grow[2] % (rest + 1);
    uint8_t *buf = malloc(rest + run + 1);
    if (!buf)
        abort();
    memcpy(buf, p, at);
    memset(buf + at, grow[1], run);
    memcpy(buf + at + run, p + at, rest - at);
    *len = rest + run;
    return buf;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (!(devnull = fopen("/dev/null", "r")))
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t len;
    uint8_t flags, seed, failb;
    uint8_t *buf = make_list(data, size, &len, &flags, &seed, &failb);
    expect *want = malloc((len + 1) * sizeof *want);
    if (!want)
        abort();
    size_t nwant = model(buf, len, want);
    int stdio = flags & 0x02;
    FILE *f = devnull, *mem = NULL;

    if (stdio) {
        /* fmemopen() refuses a zero size on some glibc versions. */
        if (!(f = mem = fmemopen(buf, len ? len : 1, "r")))
            abort();
        if (!len)
            fgetc(mem);
    } else {
        feed = (struct feed){
            .fd = fileno(devnull), .data = buf, .len = len,
            .chunked = !!(flags & 0x04), .seed = seed,
            .fail_at = (flags & 0x08) && len ? len * failb / 256 : SIZE_MAX,
        };
    }
    int io_error = !stdio && feed.fail_at != SIZE_MAX;
    urllist *u = urllist_from_stream(f);
    if (!u)
        abort();

    size_t step = 0;
    for (;;) {
        const char *url = NULL;
        size_t lineno = 0;
        char err[256] = "";
        if (!urllist_ready(u))
            fail("not ready, though the whole list is at hand", step, 0,
                 NULL);
        int rc = urllist_next(u, &url, &lineno, err, sizeof err);
        if (rc == -2) {
            if (!io_error)
                fail("read error without one", step, lineno, err);
            break;
        }
        if (rc == 0) {
            if (io_error)
                fail("the list ended at an I/O error", step, lineno, NULL);
            if (step != nwant)
                fail("the list ended early", step, want[step].lineno, NULL);
            break;
        }
        if (step == nwant)
            fail("a result past the end of the list", step, lineno,
                 rc == 1 ? url : err);
        const expect *w = &want[step];
        if (rc != w->rc || lineno != w->lineno)
            fail(rc != w->rc ? "wrong result" : "wrong line number", step,
                 lineno, rc == 1 ? url : err);
        if (rc == 1 && (strlen(url) != w->url_len ||
                        memcmp(url, w->url, w->url_len)))
            fail("wrong URL", step, lineno, url);
        if (rc == -1) {
            char name[40];
            snprintf(name, sizeof name, "line %zu", lineno);
            if (!strstr(err, name))
                fail("error message does not name its line", step, lineno,
                     err);
        }
        step++;
    }
    urllist_close(u);
    if (mem)
        fclose(mem);
    feed.fd = -1;
    free(want);
    free(buf);
    return 0;
}
