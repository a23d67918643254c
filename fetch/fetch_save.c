/* fetch_save: writes bodies safely (the fetch_file operations). A body goes to a hidden temporary file
 * beside its final name and is renamed into place only when complete, never
 * over an existing file, so a final name always holds a whole body. */
#define _GNU_SOURCE
#include "fetch_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Creates every directory of rel (all but its last component) under dir.
 * Returns 0 or -1 with a message in err. */
static int make_dirs(const char *dir, const char *rel, char *err,
                     size_t errlen)
{
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s", dir, rel);
    if (n < 0 || (size_t)n >= sizeof path) {
        snprintf(err, errlen, "save path too long");
        return -1;
    }
    char *last = strrchr(path, '/');
    for (char *p = path + strlen(dir) + 1; p < last; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) && errno != EEXIST) {
            snprintf(err, errlen, "mkdir %.300s: %s", path, strerror(errno));
            return -1;
        }
        *p = '/';
    }
    *last = '\0';
    if (mkdir(path, 0755) && errno != EEXIST) {
        snprintf(err, errlen, "mkdir %.300s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (stat(path, &st) || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%.300s: exists and is not a directory", path);
        return -1;
    }
    return 0;
}

/* Renames without replacing: renameat2(RENAME_NOREPLACE), or link+unlink
 * on file systems that lack it. Returns 0 or -1 with errno. */
static int rename_noreplace(const char *from, const char *to)
{
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
    if (link(from, to))
        return -1;
    unlink(from);
    return 0;
}

/* The first free final name for rel under dir: tmp is renamed there. */
static char *commit_name(const char *tmp, const char *dir, const char *rel,
                         char *err, size_t errlen)
{
    size_t n = strlen(dir) + strlen(rel) + 32;
    char *final = malloc(n);
    if (!final) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(final, n, "%s/%s", dir, rel);
    /* The extension starts at the last '.' of the last component, unless
     * that dot opens the name or belongs to a query. */
    const char *base = strrchr(final, '/') + 1;
    const char *q = strchr(base, '?');
    const char *dot = NULL;
    for (const char *p = base + 1; *p && (!q || p < q); p++)
        if (*p == '.')
            dot = p;
    size_t stem = dot ? (size_t)(dot - final) : (q ? (size_t)(q - final)
                                                   : strlen(final));
    char *tail = strdup(final + stem);
    if (!tail) {
        free(final);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (unsigned i = 1;; i++) {
        if (rename_noreplace(tmp, final) == 0)
            break;
        if (errno != EEXIST || i > 9999) {
            snprintf(err, errlen, "rename %.300s: %s", final, strerror(errno));
            free(final);
            final = NULL;
            break;
        }
        snprintf(final + stem, n - stem, ".%u%s", i, tail);
    }
    free(tail);
    return final;
}

int fetch_file_open(fetch_file *f)
{
    double t0 = fetch_now_ms();
    f->fd = -1;
    if (make_dirs(f->dir, f->rel, f->err, sizeof f->err))
        goto fail;
    size_t n = strlen(f->dir) + strlen(f->rel) + 32;
    if (!(f->tmp = malloc(n))) {
        snprintf(f->err, sizeof f->err, "out of memory");
        goto fail;
    }
    /* ".gather-XXXXXX.part" in the final directory, so that the rename is
     * atomic (same file system) and leftovers are easy to spot. */
    const char *slash = strrchr(f->rel, '/');
    snprintf(f->tmp, n, "%s/%.*s.gather-XXXXXX.part", f->dir,
             slash ? (int)(slash - f->rel + 1) : 0, f->rel);
    f->fd = mkostemps(f->tmp, 5, O_CLOEXEC);
    if (f->fd < 0) {
        snprintf(f->err, sizeof f->err, "create %.300s: %s", f->tmp,
                 strerror(errno));
        free(f->tmp);
        f->tmp = NULL;
        goto fail;
    }
    f->write_ms += fetch_now_ms() - t0;
    return 0;
fail:
    f->failed = 1;
    f->write_ms += fetch_now_ms() - t0;
    return -1;
}

int fetch_file_write(fetch_file *f, const void *buf, size_t n)
{
    const char *p = buf;
    double t0 = fetch_now_ms();
    if (f->failed || f->fd < 0)
        return -1;
    while (n) {
        ssize_t w = write(f->fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            snprintf(f->err, sizeof f->err, "write %.300s: %s", f->tmp,
                     strerror(errno));
            f->failed = 1;
            break;
        }
        p += w;
        n -= (size_t)w;
    }
    f->write_ms += fetch_now_ms() - t0;
    return f->failed ? -1 : 0;
}

int fetch_file_commit(fetch_file *f)
{
    double t0 = fetch_now_ms();
    if (f->fd >= 0 && close(f->fd) && !f->failed) {
        snprintf(f->err, sizeof f->err, "close %.300s: %s", f->tmp,
                 strerror(errno));
        f->failed = 1;
    }
    f->fd = -1;
    if (!f->failed && f->tmp &&
        !(f->final = commit_name(f->tmp, f->dir, f->rel, f->err,
                                 sizeof f->err)))
        f->failed = 1;
    if (f->failed && f->tmp)
        unlink(f->tmp);
    free(f->tmp);
    f->tmp = NULL;
    f->write_ms += fetch_now_ms() - t0;
    return f->failed ? -1 : 0;
}

void fetch_file_abort(fetch_file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    if (f->tmp)
        unlink(f->tmp); /* never finished: leave no partial file */
    free(f->tmp);
    f->tmp = NULL;
}

void fetch_file_clear(fetch_file *f)
{
    fetch_file_abort(f);
    free(f->final);
    f->final = NULL;
}
