/* urllist: the streaming URL-list reader. */
#define _GNU_SOURCE
#include "urllist.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Room for the longest line, its "\r\n" and the NUL we write after it. */
#define CAP (URLLIST_MAX_LINE + 3)

struct urllist {
    FILE *f;        /* owned unless borrowed */
    int own;
    int fd;         /* f's descriptor, read directly; -1: read f (memory) */
    char *buf;      /* owned; CAP bytes: [start, len) not yet returned */
    size_t start, len;
    int eof, error, skipping;
    size_t lineno;
};

urllist *urllist_open(const char *path, char *err, size_t errlen)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!f) {
        snprintf(err, errlen, "cannot read URL list %s: %s", path,
                 strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "cannot read URL list %s: Is a directory", path);
        fclose(f);
        return NULL;
    }
    urllist *u = urllist_from_stream(f);
    if (!u) {
        snprintf(err, errlen, "out of memory");
        if (f != stdin)
            fclose(f);
        return NULL;
    }
    u->own = f != stdin;
    return u;
}

urllist *urllist_from_stream(void *file)
{
    urllist *u = calloc(1, sizeof *u);
    if (u && !(u->buf = malloc(CAP))) {
        free(u);
        return NULL;
    }
    if (u) {
        u->f = file;
        u->fd = fileno(u->f);
    }
    return u;
}

void urllist_close(urllist *u)
{
    if (!u)
        return;
    if (u->own)
        fclose(u->f);
    free(u->buf);
    free(u);
}

/* Reads more bytes after the buffered ones. Returns >0, 0 at the end, -1. */
static ssize_t fill(urllist *u)
{
    if (u->start) {
        memmove(u->buf, u->buf + u->start, u->len - u->start);
        u->len -= u->start;
        u->start = 0;
    }
    size_t room = CAP - 1 - u->len;
    ssize_t n;
    if (u->fd >= 0) {
        do
            n = read(u->fd, u->buf + u->len, room);
        while (n < 0 && errno == EINTR);
    } else {
        n = (ssize_t)fread(u->buf + u->len, 1, room, u->f);
        if (n == 0 && ferror(u->f))
            n = -1;
    }
    if (n > 0)
        u->len += (size_t)n;
    return n;
}

/* fill(), noting the end of input; -1 with a message in err when the
 * list cannot be read. */
static int refill(urllist *u, char *err, size_t errlen)
{
    ssize_t r = fill(u);
    if (r < 0) {
        snprintf(err, errlen, "reading URL list: %s",
                 strerror(errno ? errno : EIO));
        u->error = 1;
        return -1;
    }
    if (r == 0)
        u->eof = 1;
    return 0;
}

int urllist_ready(urllist *u)
{
    if (u->eof || u->error || u->fd < 0 ||
        memchr(u->buf + u->start, '\n', u->len - u->start))
        return 1;
    struct pollfd p = {.fd = u->fd, .events = POLLIN};
    return poll(&p, 1, 0) != 0;
}

/* Trims s in place; returns the first non-blank character. */
static char *trim(char *s, size_t n)
{
    while (n && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

int urllist_next(urllist *u, const char **url, size_t *lineno, char *err,
                 size_t errlen)
{
    for (;;) {
        char *line = u->buf + u->start;
        size_t avail = u->len - u->start;
        char *nl = memchr(line, '\n', avail);
        size_t n = nl ? (size_t)(nl - line) : avail;
        /* The limit is on the line without its terminator. */
        size_t content = n && line[n - 1] == '\r' ? n - 1 : n;
        if (!nl && !u->eof && content <= URLLIST_MAX_LINE) {
            if (refill(u, err, errlen))
                return -2;
            continue;
        }
        if (!nl && !avail && u->eof) {
            if (!u->skipping)
                return 0;
            u->skipping = 0;
            goto toolong;
        }
        if (!nl && content > URLLIST_MAX_LINE) {
            /* Drop the freak line as it comes, never holding more of it. */
            if (!u->skipping)
                u->lineno++;
            u->skipping = 1;
            u->start = u->len = 0;
            if (u->eof)
                goto toolong;
            if (refill(u, err, errlen))
                return -2;
            continue;
        }
        u->start += n + (nl != NULL);
        if (u->skipping) {
            u->skipping = 0;
            goto toolong;
        }
        u->lineno++;
        *lineno = u->lineno;
        if (content > URLLIST_MAX_LINE)
            goto toolong;
        if (memchr(line, '\0', n)) {
            snprintf(err, errlen, "line %zu: contains a NUL byte", u->lineno);
            return -1;
        }
        line[n] = '\0';
        /* A byte order mark, as Windows editors save UTF-8, is not part
         * of the first URL (or comment); anywhere else it is content. */
        if (u->lineno == 1 && n >= 3 && !memcmp(line, "\xEF\xBB\xBF", 3)) {
            line += 3;
            n -= 3;
        }
        char *s = trim(line, n);
        if (*s == '\0' || *s == '#')
            continue;
        *url = s;
        return 1;
    toolong:
        *lineno = u->lineno;
        snprintf(err, errlen, "line %zu: longer than %d bytes", u->lineno,
                 URLLIST_MAX_LINE);
        return -1;
    }
}

long urllist_count(const char *path)
{
    struct stat st;
    if (!strcmp(path, "-") || stat(path, &st) || !S_ISREG(st.st_mode))
        return -1;
    urllist *u = urllist_open(path, NULL, 0);
    if (!u)
        return -1;
    long n = 0;
    const char *url;
    size_t ln;
    int rc;
    while ((rc = urllist_next(u, &url, &ln, NULL, 0)) != 0 && rc != -2)
        n++; /* a bad line still becomes a record */
    urllist_close(u);
    return n;
}
