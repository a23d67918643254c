/* fetch_save: writes bodies safely. A body goes to a hidden temporary file
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
            snprintf(err, errlen, "mkdir %s: %s", path, strerror(errno));
            return -1;
        }
        *p = '/';
    }
    *last = '\0';
    if (mkdir(path, 0755) && errno != EEXIST) {
        snprintf(err, errlen, "mkdir %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (stat(path, &st) || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: exists and is not a directory", path);
        return -1;
    }
    return 0;
}

int fetch_save_open(const char *dir, const char *rel, char **tmp, char *err,
                    size_t errlen)
{
    *tmp = NULL;
    if (make_dirs(dir, rel, err, errlen))
        return -1;
    size_t n = strlen(dir) + strlen(rel) + 32;
    char *t = malloc(n);
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* ".gather-XXXXXX.part" in the final directory, so that the rename is
     * atomic (same file system) and leftovers are easy to spot. */
    const char *slash = strrchr(rel, '/');
    snprintf(t, n, "%s/%.*s.gather-XXXXXX.part", dir,
             slash ? (int)(slash - rel + 1) : 0, rel);
    int fd = mkostemps(t, 5, O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "create %s: %s", t, strerror(errno));
        free(t);
        return -1;
    }
    *tmp = t;
    return fd;
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

char *fetch_save_commit(const char *tmp, const char *dir, const char *rel,
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
            snprintf(err, errlen, "rename %s: %s", final, strerror(errno));
            free(final);
            final = NULL;
            break;
        }
        snprintf(final + stem, n - stem, ".%u%s", i, tail);
    }
    free(tail);
    return final;
}
