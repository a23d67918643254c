/* journal: a set of the URLs already recorded, loaded from an append-only
 * file of JSON lines. URLs are kept as 64-bit prefixes of their SHA-256,
 * 8 bytes each whatever their length. */
#define _GNU_SOURCE
#include "journal.h"
#include "fpset.h"
#include "record.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct journal {
    fpset *urls;     /* owned; fingerprint -> offset of the URL's record */
    int fd;          /* owned; the file, for reading records back */
};

int journal_has(const journal *j, const char *url)
{
    return fpset_get(j->urls, fpset_key(url), NULL);
}

size_t journal_count(const journal *j)
{
    return fpset_count(j->urls);
}

char *journal_record(const journal *j, const char *url)
{
    uint64_t off;
    if (!fpset_get(j->urls, fpset_key(url), &off) || j->fd < 0)
        return NULL;
    /* Records are short but unbounded (a page with many links): read a
     * block, then more until the newline. */
    size_t cap = 4096, len = 0;
    char *buf = NULL;
    for (;;) {
        char *nb = realloc(buf, cap + 1);
        if (!nb)
            break;
        buf = nb;
        ssize_t n = pread(j->fd, buf + len, cap - len, (off_t)(off + len));
        if (n <= 0)
            break;
        len += (size_t)n;
        char *nl = memchr(buf, '\n', len);
        if (nl) {
            *nl = '\0';
            return buf;
        }
        cap *= 2;
    }
    free(buf);
    return NULL;
}

void journal_free(journal *j)
{
    if (!j)
        return;
    fpset_free(j->urls);
    if (j->fd >= 0)
        close(j->fd);
    free(j);
}

journal *journal_open(const char *path, int restart, int *fd, char *err,
                      size_t errlen)
{
    journal *j = calloc(1, sizeof *j);
    if (j && !(j->urls = fpset_new(1))) {
        free(j);
        j = NULL;
    }
    FILE *f = NULL;
    char *line = NULL;
    size_t cap = 0;
    off_t good = 0; /* end of the last whole line */

    if (fd)
        *fd = -1;
    if (!j) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    j->fd = -1;
    int rfd = fd ? open(path, O_RDWR | O_CREAT | O_CLOEXEC |
                                  (restart ? O_TRUNC : 0), 0644)
                 : open(path, O_RDONLY | O_CLOEXEC);
    if (rfd < 0) {
        snprintf(err, errlen, "cannot %s %s: %s", fd ? "write" : "read", path,
                 strerror(errno));
        goto fail;
    }
    struct stat st;
    if (fstat(rfd, &st) || !S_ISREG(st.st_mode)) {
        if (!fd) {
            snprintf(err, errlen, "%s is not a regular file", path);
            close(rfd);
            goto fail;
        }
        /* A pipe or device: nothing to resume, just append to it. */
        *fd = rfd;
        return j;
    }
    if (!(f = fdopen(dup(rfd), "r"))) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        close(rfd);
        goto fail;
    }
    ssize_t n;
    long lineno = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        lineno++;
        int whole = line[n - 1] == '\n';
        json_t *rec = whole ? json_loadb(line, (size_t)n, 0, NULL) : NULL;
        const char *url = json_string_value(json_object_get(rec, "url"));
        /* A half-written line left by a crash (cut off below) can only be
         * the start of a record. */
        size_t pl = strlen(RECORD_JSON_PREFIX);
        int ours = whole ? url || n == 1
                         : !strncmp(line, RECORD_JSON_PREFIX,
                                    (size_t)n < pl ? (size_t)n : pl);
        int bad = url && fpset_add(j->urls, fpset_key(url), (uint64_t)good) < 0;
        json_decref(rec);
        if (!ours) {
            /* Someone else's file (a URL list, notes): appending to it, or
             * cutting its last line, would damage it. */
            snprintf(err, errlen, "%s is not a file of gather records (line "
                     "%ld is not one)%s", path, lineno,
                     fd ? "; name another file, or add --restart to empty "
                          "it first"
                        : "");
            close(rfd);
            goto fail;
        }
        if (!whole)
            break;
        good += n;
        if (bad) {
            snprintf(err, errlen, "out of memory reading %s", path);
            close(rfd);
            goto fail;
        }
    }
    if (!fd) {
        fclose(f);
        free(line);
        j->fd = rfd;
        return j;
    }
    if (good < st.st_size && ftruncate(rfd, good)) {
        snprintf(err, errlen, "cannot repair %s: %s", path, strerror(errno));
        close(rfd);
        goto fail;
    }
    /* Appends from here on; O_APPEND keeps every write at the end. */
    int flags = fcntl(rfd, F_GETFL);
    if (flags < 0 || fcntl(rfd, F_SETFL, flags | O_APPEND) ||
        lseek(rfd, 0, SEEK_END) < 0) {
        snprintf(err, errlen, "cannot append to %s: %s", path,
                 strerror(errno));
        close(rfd);
        goto fail;
    }
    fclose(f);
    free(line);
    *fd = rfd;
    j->fd = open(path, O_RDONLY | O_CLOEXEC); /* for journal_record() */
    return j;
fail:
    if (f)
        fclose(f);
    free(line);
    journal_free(j);
    return NULL;
}
