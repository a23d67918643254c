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
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Sets f->failed. A release store: with a writer thread, the transfer
 * reads the flag (an acquire load) while the writer works on the file. */
static void set_failed(fetch_file *f, int failed)
{
    __atomic_store_n(&f->failed, failed, __ATOMIC_RELEASE);
}

/* Makes the directory path exist (mode as mkdir takes it). Returns 0, 1
 * when something other than a directory has the name, or -1 with errno. */
static int make_dir(const char *path, mode_t mode)
{
    struct stat st;
    if (mkdir(path, mode) == 0)
        return 0;
    if (errno != EEXIST || stat(path, &st))
        return -1;
    return S_ISDIR(st.st_mode) ? 0 : 1;
}

/* How many ".d" names a directory may try when a file has its name. */
#define DIR_RENAMES 100

/* Creates every directory of f->rel (all but its last component) under
 * f->dir. Where a file already has a directory's name (an earlier "/x"
 * saved as the file x, and now "/x/y" needs x/), the file stays, where
 * wget deletes it: the directory is "x.d" instead, or "x.d.1" and on, and
 * f->rel becomes the name with it (f->rel_moved). Returns 0 or -1 with a
 * message in f->err. */
static int make_dirs(fetch_file *f)
{
    char path[4096];
    size_t dlen = strlen(f->dir);
    int n = snprintf(path, sizeof path, "%s/%s", f->dir, f->rel);
    if (n < 0 || (size_t)n >= sizeof path) {
        snprintf(f->err, sizeof f->err, "save path too long");
        return -1;
    }
    size_t len = (size_t)n;
    int moved = 0;
    for (char *p = path + dlen + 1; (p = strchr(p, '/')); p++) {
        *p = '\0';
        int rc = make_dir(path, 0755);
        for (int i = 0; rc == 1 && i < DIR_RENAMES; i++) {
            char sfx[16], cand[sizeof path];
            size_t k = (size_t)(i ? snprintf(sfx, sizeof sfx, ".d.%d", i)
                                  : snprintf(sfx, sizeof sfx, ".d"));
            if (len + k >= sizeof path) {
                snprintf(f->err, sizeof f->err, "save path too long");
                return -1;
            }
            memcpy(cand, path, (size_t)(p - path));
            memcpy(cand + (p - path), sfx, k + 1);
            if ((rc = make_dir(cand, 0755)) == 0) {
                memmove(p + k + 1, p + 1, len - (size_t)(p - path));
                memcpy(p, sfx, k);
                p += k;
                *p = '\0';
                len += k;
                moved = 1;
            }
        }
        if (rc) {
            if (rc == 1)
                snprintf(f->err, sizeof f->err,
                         "%.300s: exists and is not a directory", path);
            else
                snprintf(f->err, sizeof f->err, "mkdir %.300s: %s", path,
                         strerror(errno));
            return -1;
        }
        *p = '/';
    }
    if (moved) {
        free(f->rel_moved);
        if (!(f->rel_moved = strdup(path + dlen + 1))) {
            snprintf(f->err, sizeof f->err, "out of memory");
            return -1;
        }
        f->rel = f->rel_moved;
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

/* True when path is a regular file of exactly size bytes whose SHA-256 is
 * sha (hex): the same body saved before, under that name. */
static int same_content(const char *path, uint64_t size, const char *sha)
{
    struct stat st;
    unsigned char md[EVP_MAX_MD_SIZE], buf[65536];
    unsigned mdlen = 0;
    char hex[65];
    int same = 0;

    if (!sha[0] || stat(path, &st) || !S_ISREG(st.st_mode) ||
        (uint64_t)st.st_size != size)
        return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (fd >= 0 && c && EVP_DigestInit_ex(c, fetch_sha256(), NULL)) {
        ssize_t r;
        while ((r = read(fd, buf, sizeof buf)) > 0)
            EVP_DigestUpdate(c, buf, (size_t)r);
        if (r == 0 && EVP_DigestFinal_ex(c, md, &mdlen) && mdlen == 32) {
            fetch_hex(md, mdlen, hex);
            same = !strcmp(hex, sha);
        }
    }
    EVP_MD_CTX_free(c);
    if (fd >= 0)
        close(fd);
    return same;
}

/* Renames f's temporary file into its final place and returns the final
 * path, or NULL with f->err set. Without overwrite no existing file is
 * replaced: a name that already holds the same bytes is reused (a rerun
 * saves nothing twice), otherwise ".N" goes before the extension. */
static char *commit_name(fetch_file *f)
{
    size_t n = strlen(f->dir) + strlen(f->rel) + 32;
    char *final = malloc(n);
    if (!final) {
        snprintf(f->err, sizeof f->err, "out of memory");
        return NULL;
    }
    snprintf(final, n, "%s/%s", f->dir, f->rel);
    if (f->overwrite) {
        if (rename(f->tmp, final) == 0)
            return final;
        snprintf(f->err, sizeof f->err, "rename %.300s: %s", final,
                 strerror(errno));
        free(final);
        return NULL;
    }
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
        snprintf(f->err, sizeof f->err, "out of memory");
        return NULL;
    }
    for (unsigned i = 1;; i++) {
        if (rename_noreplace(f->tmp, final) == 0)
            break;
        if (errno == EEXIST && same_content(final, f->size, f->sha256)) {
            unlink(f->tmp);
            break;
        }
        if (errno != EEXIST || i > 9999) {
            snprintf(f->err, sizeof f->err, "rename %.300s: %s", final,
                     strerror(errno));
            free(final);
            final = NULL;
            break;
        }
        snprintf(final + stem, n - stem, ".%u%s", i, tail);
    }
    free(tail);
    return final;
}

char *fetch_file_part_path(const char *dir, const char *rel)
{
    size_t n = strlen(dir) + strlen(rel) + 32;
    char *p = malloc(n);
    const char *slash = strrchr(rel, '/');
    if (p)
        snprintf(p, n, "%s/%.*s.%s.gather-part", dir,
                 slash ? (int)(slash - rel + 1) : 0, rel,
                 slash ? slash + 1 : rel);
    return p;
}

static char *meta_path(const char *part)
{
    size_t n = strlen(part) + 8;
    char *m = malloc(n);
    if (m)
        snprintf(m, n, "%s.meta", part);
    return m;
}

char *fetch_file_read_validator(const char *part)
{
    char *m = meta_path(part), buf[1024];
    FILE *fp = m ? fopen(m, "re") : NULL;
    char *v = NULL;
    if (fp && fgets(buf, sizeof buf, fp)) {
        buf[strcspn(buf, "\r\n")] = '\0';
        if (buf[0])
            v = strdup(buf);
    }
    if (fp)
        fclose(fp);
    free(m);
    return v;
}

void fetch_file_remove_part(const char *part)
{
    char *m = meta_path(part);
    unlink(part);
    if (m)
        unlink(m);
    free(m);
}

/* Opens the fixed part file for --continue, locked so that two transfers
 * (or two runs) never share it, and records its validator beside it.
 * Returns the fd, or -1 when it is taken (the caller falls back to a
 * private temporary file) or cannot be opened. */
static int open_part(fetch_file *f)
{
    int fd = open(f->part, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    if (flock(fd, LOCK_EX | LOCK_NB)) {
        close(fd);
        return -1;
    }
    if (f->append ? lseek(fd, 0, SEEK_END) < 0 : ftruncate(fd, 0) != 0) {
        close(fd);
        return -1;
    }
    char *m = meta_path(f->part);
    if (m) {
        if (f->validator) {
            FILE *fp = fopen(m, "we");
            if (fp) {
                fprintf(fp, "%s\n", f->validator);
                fclose(fp);
            }
        } else if (!f->append) {
            unlink(m); /* nothing to match: this part cannot be resumed */
        }
        free(m);
    }
    return fd;
}

/* Creates f->tmp, ".gather-XXXXXX.part" in the final directory, so that
 * the rename is atomic (same file system) and leftovers are easy to spot.
 * Returns 0, or -1 with errno. */
static int create_tmp(fetch_file *f)
{
    size_t n = strlen(f->dir) + strlen(f->rel) + 32;
    const char *slash = strrchr(f->rel, '/');
    free(f->tmp);
    if (!(f->tmp = malloc(n))) {
        errno = ENOMEM;
        return -1;
    }
    snprintf(f->tmp, n, "%s/%.*s.gather-XXXXXX.part", f->dir,
             slash ? (int)(slash - f->rel + 1) : 0, f->rel);
    f->fd = mkostemps(f->tmp, 5, O_CLOEXEC);
    return f->fd < 0 ? -1 : 0;
}

int fetch_file_open(fetch_file *f)
{
    double t0 = fetch_now_ms();
    f->fd = -1;
    set_failed(f, 0);
    f->err[0] = '\0';
    if (f->part) {
        if (make_dirs(f))
            goto fail;
        if ((f->fd = open_part(f)) >= 0) {
            if (!(f->tmp = strdup(f->part))) {
                snprintf(f->err, sizeof f->err, "out of memory");
                goto fail;
            }
            f->write_ms += fetch_now_ms() - t0;
            return 0;
        }
    }
    if (f->append) {
        snprintf(f->err, sizeof f->err, "resume: %.300s is in use",
                 f->part);
        goto fail;
    }
    /* The directories usually exist already (the files before made them),
     * so they are made only when the file cannot be created without. */
    if (create_tmp(f) && (errno == ENOENT || errno == ENOTDIR) && !f->part) {
        if (make_dirs(f))
            goto fail;
        create_tmp(f);
    }
    if (f->fd < 0) {
        snprintf(f->err, sizeof f->err, "create %.300s: %s",
                 f->tmp ? f->tmp : f->rel, strerror(errno));
        free(f->tmp);
        f->tmp = NULL;
        goto fail;
    }
    f->write_ms += fetch_now_ms() - t0;
    return 0;
fail:
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    set_failed(f, 1);
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
            set_failed(f, 1);
            break;
        }
        p += w;
        n -= (size_t)w;
    }
    f->write_ms += fetch_now_ms() - t0;
    return f->failed ? -1 : 0;
}

/* fsyncs the directory holding path, so a rename in it is durable. */
static int sync_dir_of(const char *path)
{
    char *d = strdup(path);
    if (!d)
        return -1;
    char *slash = strrchr(d, '/');
    if (slash)
        *slash = '\0';
    int fd = open(slash ? d : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = fd < 0 || fsync(fd) ? -1 : 0;
    if (fd >= 0)
        close(fd);
    free(d);
    return rc;
}

int fetch_file_commit(fetch_file *f)
{
    double t0 = fetch_now_ms();
    int was_part = f->tmp && f->part && !strcmp(f->tmp, f->part);
    if (f->fd >= 0 && f->sync && fsync(f->fd) && !f->failed) {
        snprintf(f->err, sizeof f->err, "fsync %.300s: %s", f->tmp,
                 strerror(errno));
        set_failed(f, 1);
    }
    if (f->fd >= 0 && close(f->fd) && !f->failed) {
        snprintf(f->err, sizeof f->err, "close %.300s: %s", f->tmp,
                 strerror(errno));
        set_failed(f, 1);
    }
    f->fd = -1;
    if (!f->failed && f->tmp && !(f->final = commit_name(f)))
        set_failed(f, 1);
    if (!f->failed && f->sync && sync_dir_of(f->final)) {
        snprintf(f->err, sizeof f->err, "fsync directory of %.300s: %s",
                 f->final, strerror(errno));
        set_failed(f, 1);
    }
    if (f->failed && f->tmp)
        unlink(f->tmp);
    if (was_part)
        fetch_file_remove_part(f->part); /* only the .meta is left */
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
    if (f->tmp && f->part && !strcmp(f->tmp, f->part)) {
        if (!f->keep_part)
            fetch_file_remove_part(f->part);
    } else if (f->tmp) {
        unlink(f->tmp); /* never finished: leave no partial file */
    }
    free(f->tmp);
    f->tmp = NULL;
}

void fetch_file_clear(fetch_file *f)
{
    fetch_file_abort(f);
    free(f->final);
    free(f->validator);
    free(f->rel_moved);
    f->final = NULL;
    f->validator = NULL;
    f->rel_moved = NULL;
}

int fetch_mkdir_p(const char *path)
{
    char *p = strdup(path);
    int rc = p ? 0 : -1;
    for (char *s = p; !rc && *s && (s = strchr(s + 1, '/'));) {
        *s = '\0';
        rc = make_dir(p, 0777);
        *s = '/';
    }
    if (!rc)
        rc = make_dir(p, 0777);
    if (rc == 1) {
        errno = ENOTDIR;
        rc = -1;
    }
    free(p);
    return rc;
}
