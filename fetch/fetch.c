/* fetch: library-wide pieces of the fetch module: global init, error
 * strings, results, and the share handle that lets transfers reuse DNS and
 * TLS caches and keep one cookie store. */
#define _GNU_SOURCE
#include "fetch.h"
#include "fetch_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FETCH_TEXT(name, text) text,
static const char *const fetch_texts[] = {FETCH_ERRORS(FETCH_TEXT)};
#undef FETCH_TEXT

const char *fetch_strerror(fetch_code code)
{
    if ((int)code < 0 || code >= FETCH_NCODES)
        return "unknown fetch error";
    return fetch_texts[code];
}

int fetch_global_init(void)
{
    fetch_xfer_global_init();
    return curl_global_init(CURL_GLOBAL_ALL) == CURLE_OK ? FETCH_OK
                                                         : FETCH_ECURL;
}

void fetch_global_cleanup(void)
{
    fetch_xfer_drain_kept();
    curl_global_cleanup();
}

double fetch_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static EVP_MD *sha256;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void fetch_sha256_once(void)
{
    sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

const EVP_MD *fetch_sha256(void)
{
    pthread_once(&sha256_once, fetch_sha256_once);
    return sha256 ? sha256 : EVP_sha256();
}

void fetch_hex(const unsigned char *md, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[md[i] >> 4];
        out[2 * i + 1] = digits[md[i] & 15];
    }
    out[2 * n] = '\0';
}

void fetch_result_clear(fetch_result *r)
{
    free(r->url);
    free(r->final_url);
    free(r->content_type);
    free(r->path);
    free(r->error);
    free(r->body);
    free(r->etag);
    free(r->last_modified);
    memset(r, 0, sizeof *r);
}

/* ---- share handle ---- */

struct fetch_share {
    CURLSH *sh;                                  /* owned */
    char *jar;            /* owned; the cookie file, NULL: no cookies */
    pthread_mutex_t locks[CURL_LOCK_DATA_LAST];
};

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access a,
                       void *userp)
{
    struct fetch_share *s = userp;
    (void)h;
    (void)a;
    pthread_mutex_lock(&s->locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *userp)
{
    struct fetch_share *s = userp;
    (void)h;
    pthread_mutex_unlock(&s->locks[data]);
}

fetch_share *fetch_share_new(int connections)
{
    fetch_share *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&s->locks[i], NULL);
    s->sh = curl_share_init();
    if (!s->sh ||
        curl_share_setopt(s->sh, CURLSHOPT_LOCKFUNC, share_lock) ||
        curl_share_setopt(s->sh, CURLSHOPT_UNLOCKFUNC, share_unlock) ||
        curl_share_setopt(s->sh, CURLSHOPT_USERDATA, s) ||
        curl_share_setopt(s->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) ||
        curl_share_setopt(s->sh, CURLSHOPT_SHARE,
                          CURL_LOCK_DATA_SSL_SESSION) ||
        (connections &&
         curl_share_setopt(s->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT))) {
        fetch_share_free(s);
        return NULL;
    }
    return s;
}

void fetch_share_free(fetch_share *s)
{
    if (!s)
        return;
    /* Kept handles hold the share, and curl will not free one in use. */
    fetch_xfer_drain_kept();
    if (s->sh)
        curl_share_cleanup(s->sh);
    free(s->jar);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_destroy(&s->locks[i]);
    free(s);
}

CURLSH *fetch_share_handle(fetch_share *s)
{
    return s ? s->sh : NULL;
}

/* An easy handle attached to s, for the cookie operations that libcurl
 * offers only on easy handles. NULL when out of memory. */
static CURL *share_easy(fetch_share *s)
{
    CURL *e = curl_easy_init();
    if (e && curl_easy_setopt(e, CURLOPT_SHARE, s->sh) != CURLE_OK) {
        curl_easy_cleanup(e);
        e = NULL;
    }
    return e;
}

int fetch_share_load_cookies(fetch_share *s, const char *jar, char *err,
                             size_t errlen)
{
    int result = FETCH_ECURL;
    CURL *e = NULL;
    int fd = -1;

    if (curl_share_setopt(s->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE) !=
        CURLSHE_OK) {
        snprintf(err, errlen, "cannot share cookies");
        goto out;
    }
    free(s->jar);
    if (!(s->jar = strdup(jar))) {
        result = FETCH_ENOMEM;
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    /* libcurl skips a file it cannot read without a word; a jar that is
     * there but unreadable must not turn into an empty one at the end. */
    if ((fd = open(jar, O_RDONLY | O_CLOEXEC)) < 0) {
        if (errno == ENOENT) {
            result = FETCH_OK; /* no jar yet: start with no cookies */
            goto out;
        }
        result = FETCH_EIO;
        snprintf(err, errlen, "cannot read %s: %s", jar, strerror(errno));
        goto out;
    }
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        result = FETCH_EIO;
        snprintf(err, errlen, "%s is not a file", jar);
        goto out;
    }
    /* RELOAD reads the files named by COOKIEFILE now, into the share's
     * store, instead of at the handle's first transfer. */
    if (!(e = share_easy(s)) ||
        curl_easy_setopt(e, CURLOPT_COOKIEFILE, jar) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_COOKIELIST, "RELOAD") != CURLE_OK) {
        snprintf(err, errlen, "cannot load %s", jar);
        goto out;
    }
    result = FETCH_OK;
out:
    if (fd >= 0)
        close(fd);
    if (e)
        curl_easy_cleanup(e);
    return result;
}

/* True when a cookie line of CURLINFO_COOKIELIST ("domain, tailmatch,
 * path, secure, expires, name, value", tab-separated) has expired; 0 in
 * the expiry field marks a session cookie, which is kept. */
static int cookie_expired(const char *line, time_t now)
{
    const char *p = line;
    for (int field = 0; field < 4; field++) {
        if (!(p = strchr(p, '\t')))
            return 0;
        p++;
    }
    long long expires = strtoll(p, NULL, 10);
    return expires > 0 && expires < (long long)now;
}

int fetch_share_save_cookies(fetch_share *s, char *err, size_t errlen)
{
    int result = FETCH_EIO;
    struct curl_slist *list = NULL;
    char *tmp = NULL;
    FILE *f = NULL;
    int fd = -1;
    CURL *e = NULL;

    if (!s->jar)
        return FETCH_OK;
    /* Written by us, not by libcurl's COOKIEJAR, so that a failed write is
     * reported and a crash never leaves half a jar. */
    if (!(e = share_easy(s)) ||
        curl_easy_getinfo(e, CURLINFO_COOKIELIST, &list) != CURLE_OK) {
        result = FETCH_ECURL;
        snprintf(err, errlen, "cannot list the cookies");
        goto out;
    }
    size_t n = strlen(s->jar) + 32;
    if (!(tmp = malloc(n))) {
        result = FETCH_ENOMEM;
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    snprintf(tmp, n, "%s.gather-XXXXXX", s->jar);
    /* mkstemp's file is the user's alone (0600): cookies are secrets. */
    if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0 || !(f = fdopen(fd, "w"))) {
        snprintf(err, errlen, "cannot write %s: %s", s->jar, strerror(errno));
        goto out;
    }
    fd = -1; /* f has it */
    int bad = fputs("# Netscape HTTP Cookie File\n"
                    "# Written by gather; one cookie a line.\n\n", f) < 0;
    time_t now = time(NULL);
    for (struct curl_slist *l = list; l && !bad; l = l->next)
        if (!cookie_expired(l->data, now))
            bad = fputs(l->data, f) < 0 || fputc('\n', f) == EOF;
    bad = bad || fflush(f) || fsync(fileno(f));
    bad |= fclose(f) != 0;
    f = NULL;
    if (bad || rename(tmp, s->jar)) {
        snprintf(err, errlen, "cannot write %s: %s", s->jar, strerror(errno));
        goto out;
    }
    free(tmp);
    tmp = NULL;
    result = FETCH_OK;
out:
    if (f)
        fclose(f);
    if (fd >= 0)
        close(fd);
    if (tmp) {
        unlink(tmp);
        free(tmp);
    }
    curl_slist_free_all(list);
    if (e)
        curl_easy_cleanup(e);
    return result;
}
