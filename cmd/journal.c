/* journal: a set of the URLs already recorded, loaded from an append-only
 * file of JSON lines. URLs are kept as 64-bit prefixes of their SHA-256,
 * 8 bytes each whatever their length. */
#define _GNU_SOURCE
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct journal {
    uint64_t *slots; /* owned; 0 marks an empty slot */
    size_t cap, n;
};

static uint64_t url_key(const char *url)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    uint64_t k = 0;
    if (EVP_Digest(url, strlen(url), md, &len, EVP_sha256(), NULL))
        memcpy(&k, md, sizeof k);
    return k ? k : 1;
}

static int insert(journal *j, uint64_t k)
{
    if ((j->n + 1) * 2 > j->cap) {
        size_t cap = j->cap ? j->cap * 2 : 1024;
        uint64_t *s = calloc(cap, sizeof *s);
        if (!s)
            return -1;
        for (size_t i = 0; i < j->cap; i++) {
            if (!j->slots[i])
                continue;
            size_t h = j->slots[i] & (cap - 1);
            while (s[h])
                h = (h + 1) & (cap - 1);
            s[h] = j->slots[i];
        }
        free(j->slots);
        j->slots = s;
        j->cap = cap;
    }
    size_t h = k & (j->cap - 1);
    while (j->slots[h]) {
        if (j->slots[h] == k)
            return 0;
        h = (h + 1) & (j->cap - 1);
    }
    j->slots[h] = k;
    j->n++;
    return 0;
}

int journal_has(const journal *j, const char *url)
{
    if (!j->n)
        return 0;
    uint64_t k = url_key(url);
    size_t h = k & (j->cap - 1);
    while (j->slots[h]) {
        if (j->slots[h] == k)
            return 1;
        h = (h + 1) & (j->cap - 1);
    }
    return 0;
}

size_t journal_count(const journal *j)
{
    return j->n;
}

void journal_free(journal *j)
{
    if (!j)
        return;
    free(j->slots);
    free(j);
}

journal *journal_open(const char *path, int restart, int *fd, char *err,
                      size_t errlen)
{
    journal *j = calloc(1, sizeof *j);
    FILE *f = NULL;
    char *line = NULL;
    size_t cap = 0;
    off_t good = 0; /* end of the last whole line */

    *fd = -1;
    if (!j) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    int rfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | (restart ? O_TRUNC : 0),
                   0644);
    if (rfd < 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        goto fail;
    }
    struct stat st;
    if (fstat(rfd, &st) || !S_ISREG(st.st_mode)) {
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
    while ((n = getline(&line, &cap, f)) > 0) {
        if (line[n - 1] != '\n')
            break; /* cut off by a crash: dropped below */
        good += n;
        json_t *rec = json_loadb(line, (size_t)n, 0, NULL);
        const char *url = json_string_value(json_object_get(rec, "url"));
        int bad = url && insert(j, url_key(url));
        json_decref(rec);
        if (bad) {
            snprintf(err, errlen, "out of memory reading %s", path);
            close(rfd);
            goto fail;
        }
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
    return j;
fail:
    if (f)
        fclose(f);
    free(line);
    journal_free(j);
    return NULL;
}
