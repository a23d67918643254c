/* urllist: the streaming URL-list reader. */
#define _GNU_SOURCE
#include "urllist.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct urllist {
    FILE *f;      /* owned unless borrowed */
    int own;
    char *line;   /* owned; getline's buffer */
    size_t cap;
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
    if (u)
        u->f = file;
    return u;
}

void urllist_close(urllist *u)
{
    if (!u)
        return;
    if (u->own)
        fclose(u->f);
    free(u->line);
    free(u);
}

/* Trims s in place; returns the first non-blank character. */
static char *trim(char *s, size_t n)
{
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' ||
                 s[n - 1] == '\t'))
        s[--n] = '\0';
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

int urllist_next(urllist *u, const char **url, size_t *lineno, char *err,
                 size_t errlen)
{
    for (;;) {
        errno = 0;
        ssize_t n = getline(&u->line, &u->cap, u->f);
        if (n < 0) {
            if (ferror(u->f)) {
                snprintf(err, errlen, "reading URL list: %s",
                         strerror(errno ? errno : EIO));
                return -2;
            }
            return 0;
        }
        u->lineno++;
        *lineno = u->lineno;
        /* The limit is on the line, not on its "\n" or "\r\n". */
        size_t len = (size_t)n;
        if (len && u->line[len - 1] == '\n')
            len--;
        if (len && u->line[len - 1] == '\r')
            len--;
        if (len > URLLIST_MAX_LINE) {
            snprintf(err, errlen, "line %zu: longer than %d bytes", u->lineno,
                     URLLIST_MAX_LINE);
            /* Give the memory of a freak line back at once. */
            free(u->line);
            u->line = NULL;
            u->cap = 0;
            return -1;
        }
        if (memchr(u->line, '\0', (size_t)n)) {
            snprintf(err, errlen, "line %zu: contains a NUL byte", u->lineno);
            return -1;
        }
        char *s = trim(u->line, (size_t)n);
        if (*s == '\0' || *s == '#')
            continue;
        *url = s;
        return 1;
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
