/* fetch_xfer: one URL's transfer: the request setup shared by every mode,
 * the write callback that hashes, saves and keeps the body, the retry
 * policy, resuming, and the finishing step that turns curl's outcome into
 * a fetch_result. */
#define _GNU_SOURCE
#include "fetch.h"
#include "fetch_int.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef GATHER_VERSION
#define GATHER_VERSION "0"
#endif

/* A compressed body stops here unless --max-filesize says otherwise. */
#define DECODED_MAX ((uint64_t)1 << 30)

static void set_error(fetch_xfer *x, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    if (x->r.error)
        return; /* the first error is the cause; keep it */
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    x->r.error = strdup(buf);
}

static int content_is_html(const char *ct)
{
    return ct && (!strncasecmp(ct, "text/html", 9) ||
                  !strncasecmp(ct, "application/xhtml+xml", 21));
}

/* The value of response header name, or NULL. Valid until the next
 * request on the handle. */
static const char *header(fetch_xfer *x, const char *name)
{
    struct curl_header *h = NULL;
    if (curl_easy_header(x->easy, name, 0, CURLH_HEADER, -1, &h) !=
            CURLHE_OK ||
        !h)
        return NULL;
    return h->value;
}

/* Appends n bytes to the kept body (for parsing), up to keep_body_max. */
static int keep_bytes(fetch_xfer *x, const void *data, size_t n)
{
    size_t want = x->r.body_len + n;
    if (want > x->o->keep_body_max) {
        /* Too big to parse whole: parse the first keep_body_max bytes. */
        want = x->o->keep_body_max;
        x->keep = 0;
    }
    if (want > x->body_cap) {
        size_t cap = x->body_cap ? x->body_cap : 16384;
        while (cap < want)
            cap *= 2;
        unsigned char *b = realloc(x->r.body, cap);
        if (!b)
            return -1;
        x->r.body = b;
        x->body_cap = cap;
    }
    memcpy(x->r.body + x->r.body_len, data, want - x->r.body_len);
    x->r.body_len = want;
    return 0;
}

/* A 206 answer to our Range request: check that it starts where the part
 * file ends, then count, hash and keep the bytes already on disk. */
static int take_partial(fetch_xfer *x)
{
    const char *cr = header(x, "Content-Range");
    unsigned long long start;
    if (!cr || sscanf(cr, "bytes %llu-", &start) != 1 ||
        start != x->resume_from) {
        set_error(x, "resume: server sent Content-Range '%s', wanted "
                     "bytes %llu-",
                  cr ? cr : "", (unsigned long long)x->resume_from);
        x->retry_fresh = 1; /* the part file is dropped; start over */
        return -1;
    }
    int fd = open(x->part, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        set_error(x, "resume: %s: %s", x->part, strerror(errno));
        x->retry_fresh = 1;
        return -1;
    }
    char buf[65536];
    uint64_t left = x->resume_from;
    while (left) {
        ssize_t r = read(fd, buf, left < sizeof buf ? left : sizeof buf);
        if (r <= 0) {
            close(fd);
            set_error(x, "resume: %s is shorter than it was", x->part);
            x->retry_fresh = 1;
            return -1;
        }
        EVP_DigestUpdate(x->md, buf, (size_t)r);
        if (x->keep && keep_bytes(x, buf, (size_t)r)) {
            close(fd);
            set_error(x, "out of memory keeping the body");
            return -1;
        }
        left -= (uint64_t)r;
    }
    close(fd);
    x->r.bytes = x->resume_from;
    x->file.append = 1;
    return 0;
}

/* Runs once, at the first body byte: the headers are in, so the status and
 * content type decide whether the body is saved and kept. */
static int on_headers(fetch_xfer *x)
{
    char *ct = NULL;
    long status = 0;
    x->headers_seen = 1;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(x->easy, CURLINFO_CONTENT_TYPE, &ct);
    x->keep = x->o->keep_body_max > 0 &&
              (x->o->keep_any || content_is_html(ct));
    x->encoded = header(x, "Content-Encoding") != NULL;
    x->file.append = 0;
    if (status == 206 && x->resume_from && take_partial(x))
        return -1;
    if (x->rel && status >= 200 && status < 300) {
        x->file.dir = x->o->outdir;
        x->file.rel = x->rel;
        x->file.part = x->part;
        x->file.overwrite = x->o->overwrite;
        x->file.sync = x->o->fsync;
        free(x->file.validator);
        x->file.validator = NULL;
        if (x->part) {
            /* What If-Range must match when this part is resumed. */
            const char *v = header(x, "ETag");
            if (!v || !strncmp(v, "W/", 2))
                v = header(x, "Last-Modified"); /* weak tags can't range */
            x->file.validator = v ? strdup(v) : NULL;
        }
        x->saving = 1;
        if (x->o->writer) {
            fetch_writer_open(x->o->writer, &x->file);
        } else if (fetch_file_open(&x->file)) {
            set_error(x, "%s", x->file.err);
            return -1;
        }
    }
    return 0;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *userp)
{
    fetch_xfer *x = userp;
    size_t n = size * nmemb;

    if (!x->headers_seen && on_headers(x))
        return 0;
    uint64_t limit = x->o->max_filesize ? x->o->max_filesize
                     : x->encoded       ? DECODED_MAX
                                        : 0;
    if (limit && x->r.bytes + n > limit) {
        set_error(x, "body larger than %llu bytes%s",
                  (unsigned long long)limit,
                  x->encoded ? " (decoded)" : "");
        return 0;
    }
    EVP_DigestUpdate(x->md, data, n);
    x->r.bytes += n;
    if (x->saving) {
        /* With a writer, an error shows up on a later write; failed is
         * only ever set during a transfer, so an unlocked read is enough
         * to stop early. */
        if (x->o->writer && !__atomic_load_n(&x->file.failed,
                                             __ATOMIC_ACQUIRE))
            fetch_writer_write(x->o->writer, &x->file, data, n);
        else if (x->o->writer || fetch_file_write(&x->file, data, n)) {
            set_error(x, "%s", x->file.err);
            return 0;
        }
    }
    if (x->keep && keep_bytes(x, data, n)) {
        set_error(x, "out of memory keeping the body");
        return 0;
    }
    return n;
}

/* True once the run is stopping or x was cancelled. */
static int stopping(fetch_xfer *x)
{
    return fetch_stop_requested(x->o) || atomic_load(&x->cancelled);
}

/* CURLOPT_XFERINFOFUNCTION: ends the transfer when the run is stopping,
 * or when no byte has moved for the stall timeout. curl's own LOW_SPEED
 * check averages the rate over up to 5 s, so it misses a server that
 * sends a burst every few seconds; this measures the silence itself. */
static int on_progress(void *userp, curl_off_t dlt, curl_off_t dln,
                       curl_off_t ult, curl_off_t uln)
{
    fetch_xfer *x = userp;
    long stall = x->o->stall_timeout_ms ? x->o->stall_timeout_ms : 120000;
    double now = fetch_now_ms();
    (void)dlt;
    (void)ult;
    if (stopping(x)) {
        x->r.interrupted = 1;
        return 1;
    }
    if (!x->stall_since || dln + uln != x->stall_bytes) {
        x->stall_bytes = dln + uln;
        x->stall_since = now;
    } else if (now - x->stall_since >= (double)stall) {
        x->stalled = 1;
        return 1;
    }
    return 0;
}

/* libcurl before 8.0 breaks a prior-knowledge HTTP/2 connection without
 * TLS that it reuses, for another transfer after one or beside it ("Error
 * in the HTTP2 framing layer", curl issue #10634): there, each such
 * transfer has a connection of its own. (Over TLS, ALPN decides and the
 * bug does not arise.) */
static int h2c_reuse_broken(void)
{
    return curl_version_info(CURLVERSION_NOW)->version_num < 0x080000;
}

/* Sets up the easy handle: the request options every mode shares. */
static int setup_easy(fetch_xfer *x)
{
    const fetch_opts *o = x->o;
    CURL *e = x->easy;
    long redirs = o->max_redirs ? o->max_redirs : 10;
    long stall = o->stall_timeout_ms ? o->stall_timeout_ms : 120000;
    CURLcode rc = CURLE_OK;

#define SET(opt, val)                                                          \
    if (rc == CURLE_OK)                                                        \
    rc = curl_easy_setopt(e, opt, val)
    SET(CURLOPT_URL, x->req);
    SET(CURLOPT_PRIVATE, x);
    SET(CURLOPT_ERRORBUFFER, x->errbuf);
    SET(CURLOPT_WRITEFUNCTION, on_write);
    SET(CURLOPT_WRITEDATA, x);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FOLLOWLOCATION, redirs > 0 ? 1L : 0L);
    SET(CURLOPT_MAXREDIRS, redirs > 0 ? redirs : 0L);
    SET(CURLOPT_CONNECTTIMEOUT_MS,
        o->connect_timeout_ms ? o->connect_timeout_ms : 30000L);
    SET(CURLOPT_TIMEOUT_MS, o->timeout_ms);
    /* Stall detection is on_progress's; a low-speed limit also keeps
     * curl waking the transfer every second while nothing arrives, so
     * that on_progress runs. */
    SET(CURLOPT_LOW_SPEED_LIMIT, 1L);
    SET(CURLOPT_LOW_SPEED_TIME, (stall + 999) / 1000);
    SET(CURLOPT_ACCEPT_ENCODING, ""); /* every encoding curl can decode */
    if (o->max_filesize)
        SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_filesize);
    SET(CURLOPT_USERAGENT,
        o->user_agent ? o->user_agent : "gather/" GATHER_VERSION);
    SET(CURLOPT_NOPROGRESS, 0L);
    SET(CURLOPT_XFERINFOFUNCTION, on_progress);
    SET(CURLOPT_XFERINFODATA, x);
    if (o->share)
        SET(CURLOPT_SHARE, fetch_share_handle(o->share));
    /* "" switches the cookie engine on without reading a file: the share
     * holds the cookies (fetch_share_load_cookies()). */
    if (o->cookies)
        SET(CURLOPT_COOKIEFILE, "");
    /* Unset, libcurl reads http_proxy, https_proxy and no_proxy itself. */
    if (o->proxy)
        SET(CURLOPT_PROXY, o->proxy);
    if (o->limit_rate)
        SET(CURLOPT_MAX_RECV_SPEED_LARGE, (curl_off_t)o->limit_rate);
    /* Unset, libcurl verifies with the store it was built to use. */
    if (o->cainfo)
        SET(CURLOPT_CAINFO, o->cainfo);
    if (o->insecure) {
        SET(CURLOPT_SSL_VERIFYPEER, 0L);
        SET(CURLOPT_SSL_VERIFYHOST, 0L);
    }
    /* HTTP/2 where the server offers it in the TLS handshake (libcurl's
     * default since 7.62, said here so it does not depend on the build),
     * or at once with prior knowledge. */
    SET(CURLOPT_HTTP_VERSION, o->http2_prior_knowledge
                                  ? (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE
                                  : (long)CURL_HTTP_VERSION_2TLS);
    int https = !strncmp(x->req, "https:", 6);
    if (o->http2_prior_knowledge && !https && h2c_reuse_broken()) {
        SET(CURLOPT_FRESH_CONNECT, 1L);
        SET(CURLOPT_FORBID_REUSE, 1L);
    } else if (o->http2_prior_knowledge || https) {
        /* A loop's transfers to one host wait for its first connection
         * and share it if it multiplexes, instead of each opening its own
         * before the protocol is known. Plain http:// is HTTP/1.1, where
         * waiting would only delay them. */
        SET(CURLOPT_PIPEWAIT, 1L);
    }
#undef SET
    if (rc != CURLE_OK)
        set_error(x, "curl setup: %s", curl_easy_strerror(rc));
    return rc == CURLE_OK ? 0 : -1;
}

/* Appends "name: value" to *l. Returns 0, or -1 when out of memory (*l is
 * then unchanged). */
static int add_header(struct curl_slist **l, const char *name,
                      const char *value)
{
    size_t n = strlen(name) + strlen(value) + 3;
    char *h = malloc(n);
    struct curl_slist *r = NULL;
    if (h) {
        snprintf(h, n, "%s: %s", name, value);
        r = curl_slist_append(*l, h);
        free(h);
    }
    if (r)
        *l = r;
    return r ? 0 : -1;
}

/* The request headers of the next attempt: the caller's own, then, with
 * if_range (a resumed part file's validator), If-Range, or else the
 * caller's validators: a part file means the saved file is being
 * replaced, so asking whether it changed makes no sense. Returns 0, or -1
 * when out of memory (the previous headers stay). */
static int setup_headers(fetch_xfer *x, const char *if_range)
{
    const fetch_opts *o = x->o;
    struct curl_slist *l = NULL, *r;
    int bad = 0;

    for (size_t i = 0; !bad && i < o->n_headers; i++) {
        if ((r = curl_slist_append(l, o->headers[i])))
            l = r;
        bad = !r;
    }
    if (if_range) {
        bad = bad || add_header(&l, "If-Range", if_range);
    } else {
        if (x->if_etag)
            bad = bad || add_header(&l, "If-None-Match", x->if_etag);
        if (x->if_modified)
            bad = bad || add_header(&l, "If-Modified-Since", x->if_modified);
    }
    if (bad || curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, l) != CURLE_OK) {
        curl_slist_free_all(l);
        return -1;
    }
    curl_slist_free_all(x->headers);
    x->headers = l;
    return 0;
}

/* Sets up the next attempt's range and headers. With --continue, if a
 * part file of an earlier attempt or run exists, it asks for the rest of
 * it, on condition (If-Range) that the body has not changed: a changed
 * body comes back whole, as a 200. Returns 0, or -1 when out of memory. */
static int setup_request(fetch_xfer *x)
{
    struct stat st;
    char range[64];
    char *validator = NULL;

    x->resume_from = 0;
    curl_easy_setopt(x->easy, CURLOPT_RANGE, NULL);
    if (x->part && !stat(x->part, &st) && st.st_size > 0)
        validator = fetch_file_read_validator(x->part);
    int rc = setup_headers(x, validator);
    if (!rc && validator) {
        snprintf(range, sizeof range, "%llu-",
                 (unsigned long long)st.st_size);
        curl_easy_setopt(x->easy, CURLOPT_RANGE, range);
        x->resume_from = (uint64_t)st.st_size;
    }
    free(validator);
    return rc;
}

/* Asks the caller's validators callback about x's URL and keeps what it
 * gives. Returns 0, or -1 with the error set. */
static int take_validators(fetch_xfer *x)
{
    int rc = x->o->validators(x->o->validators_ctx, x->r.url, &x->if_etag,
                              &x->if_modified);
    if (rc) {
        set_error(x, "validators of the URL not available");
        return -1;
    }
    /* A value that could end the header line would inject headers. */
    if ((x->if_etag && strpbrk(x->if_etag, "\r\n")) ||
        (x->if_modified && strpbrk(x->if_modified, "\r\n"))) {
        set_error(x, "validators of the URL hold a line break");
        return -1;
    }
    return 0;
}

/* ---- easy handles kept for reuse ----
 * curl_easy_init() and the buffers a handle allocates on its first
 * transfer cost more than curl_easy_reset(), which keeps them, once per
 * URL. Each thread keeps its own few, so no lock is taken; a thread's go
 * when it ends (the key's destructor, made in fetch_global_init()), the
 * main thread's in fetch_global_cleanup(). reset keeps a handle's share:
 * a handle is reused only with the share it had. It keeps its cookie
 * engine too (and leaks the cookie file list curl keeps for it): a handle
 * that had one on is not kept. */
#define EASY_KEPT_MAX 64

typedef struct easy_pool {
    CURL *e[EASY_KEPT_MAX];
    const fetch_share *share[EASY_KEPT_MAX]; /* what each was set up with */
    int n;
} easy_pool;

static __thread easy_pool kept;
static pthread_key_t kept_key;
static pthread_once_t kept_once = PTHREAD_ONCE_INIT;
static int kept_key_ok;

static void kept_drain(void *unused)
{
    (void)unused;
    while (kept.n)
        curl_easy_cleanup(kept.e[--kept.n]);
}

static void kept_key_make(void)
{
    kept_key_ok = !pthread_key_create(&kept_key, kept_drain);
}

void fetch_xfer_global_init(void)
{
    pthread_once(&kept_once, kept_key_make);
}

void fetch_xfer_drain_kept(void)
{
    kept_drain(NULL);
}

static CURL *easy_take(const fetch_opts *o)
{
    if (kept.n && kept.share[kept.n - 1] == o->share)
        return kept.e[--kept.n];
    return curl_easy_init();
}

static void easy_keep(const fetch_opts *o, CURL *e)
{
    /* The key's value marks a thread that keeps handles: set with the
     * first, it stays until the thread ends. */
    if (kept.n == EASY_KEPT_MAX || o->cookies || !kept_key_ok ||
        (!kept.n && pthread_setspecific(kept_key, &kept))) {
        curl_easy_cleanup(e);
        return;
    }
    curl_easy_reset(e);
    kept.share[kept.n] = o->share;
    kept.e[kept.n++] = e;
}

/* Marks x done. Only the result is needed from here on: the handle and
 * its buffers go now, not when the page has been parsed, which may be much
 * later. The handle must not be in a multi handle. */
static void settle(fetch_xfer *x)
{
    x->r.done_ms = fetch_now_ms();
    x->done = 1;
    if (x->easy)
        easy_keep(x->o, x->easy);
    x->easy = NULL;
}

fetch_xfer *fetch_xfer_new(const fetch_opts *o, const char *url)
{
    fetch_xfer *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    x->o = o;
    atomic_init(&x->cancelled, 0);
    x->file.fd = -1;
    x->t_created = fetch_now_ms();
    if (!(x->r.url = strdup(url)) || !(x->md = EVP_MD_CTX_new()) ||
        !EVP_DigestInit_ex(x->md, fetch_sha256(), NULL)) {
        fetch_xfer_free(x);
        return NULL;
    }

    /* Validate before any network work, so a bad line costs nothing. */
    int rc = fetch_url_resolve(NULL, url, &x->req);
    if (rc == FETCH_ENOMEM) {
        fetch_xfer_free(x);
        return NULL;
    }
    if (rc) {
        fetch_xfer_fail(x, fetch_strerror(rc));
        return x;
    }
    if (o->outdir) {
        char rel[2048];
        if ((rc = fetch_name_for_url(x->req, rel, sizeof rel)) ||
            !(x->rel = strdup(rel))) {
            set_error(x, "cannot name file: %s",
                      fetch_strerror(rc ? rc : FETCH_ENOMEM));
            fetch_xfer_fail(x, x->r.error);
            return x;
        }
        if (o->resume && !(x->part = fetch_file_part_path(o->outdir, rel))) {
            fetch_xfer_fail(x, "out of memory");
            return x;
        }
    }
    if (o->validators && take_validators(x)) {
        fetch_xfer_fail(x, x->r.error);
        return x;
    }
    if (!(x->easy = easy_take(o))) {
        fetch_xfer_fail(x, "curl_easy_init failed");
        return x;
    }
    if (setup_easy(x) || setup_request(x)) {
        fetch_xfer_fail(x, x->r.error ? x->r.error : "out of memory");
        return x;
    }
    return x;
}

void fetch_xfer_free(fetch_xfer *x)
{
    if (!x)
        return;
    if (x->saving && x->o->writer && !x->committing) {
        /* Torn down mid-transfer: the writer may still hold the file. */
        fetch_writer_abort(x->o->writer, &x->file, NULL);
        fetch_writer_drain(x->o->writer);
    }
    fetch_file_clear(&x->file);
    free(x->rel);
    free(x->part);
    free(x->req);
    if (x->easy)
        curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->headers);
    free(x->if_etag);
    free(x->if_modified);
    EVP_MD_CTX_free(x->md);
    fetch_result_clear(&x->r);
    free(x);
}

int fetch_xfer_done(const fetch_xfer *x)
{
    return x->done;
}

fetch_result *fetch_xfer_result(fetch_xfer *x)
{
    return &x->r;
}

void fetch_xfer_fail(fetch_xfer *x, const char *msg)
{
    set_error(x, "%s", msg);
    settle(x);
}

void fetch_xfer_cancel(fetch_xfer *x)
{
    atomic_store(&x->cancelled, 1);
}

void fetch_xfer_mark_started(fetch_xfer *x)
{
    x->t_started = fetch_now_ms();
    x->r.attempts++;
}

double fetch_xfer_retry_at(const fetch_xfer *x)
{
    return x->retry_at;
}

void fetch_xfer_perform(fetch_xfer *x)
{
    while (!x->done) {
        fetch_xfer_mark_started(x);
        if (!fetch_xfer_finish(x, curl_easy_perform(x->easy)))
            break;
        /* Wait for the retry in short steps, so a stop is noticed. */
        for (;;) {
            double left = x->retry_at - fetch_now_ms();
            if (stopping(x)) {
                x->r.interrupted = 1;
                fetch_xfer_fail(x, "interrupted");
                break;
            }
            if (left <= 0)
                break;
            struct timespec ts = {0, (long)((left < 100 ? left : 100) * 1e6)};
            nanosleep(&ts, NULL);
        }
    }
}

static double info_ms(CURL *e, CURLINFO what)
{
    curl_off_t us = 0;
    curl_easy_getinfo(e, what, &us);
    return (double)us / 1000.0;
}

/* Turns curl's cumulative timestamps into phase durations. A reused
 * connection has no dns/connect/tls phases; a plain one has no tls.
 * Earlier attempts and their backoff count as queue. transfer runs to the
 * end of the attempt for now; fetch_xfer_saved() extends it to the moment
 * the body is saved, on our own clock. */
static void fill_timings(fetch_xfer *x)
{
    fetch_timings *t = &x->r.t;
    double dns = info_ms(x->easy, CURLINFO_NAMELOOKUP_TIME_T);
    double con = info_ms(x->easy, CURLINFO_CONNECT_TIME_T);
    double tls = info_ms(x->easy, CURLINFO_APPCONNECT_TIME_T);
    double first = info_ms(x->easy, CURLINFO_STARTTRANSFER_TIME_T);
    double total = info_ms(x->easy, CURLINFO_TOTAL_TIME_T);

    if (con < dns)
        con = dns;
    if (tls < con)
        tls = con;
    if (first < tls)
        first = tls;
    if (total < first)
        total = first;
    t->queue = x->t_started > x->t_created ? x->t_started - x->t_created : 0;
    t->dns = dns;
    t->connect = con - dns;
    t->tls = tls - con;
    t->ttfb = first - tls; /* request sent and answer awaited */
    t->transfer = total - first;
    t->total = t->queue + total;
    x->first_ms = first;
}

/* Milliseconds to wait before the next attempt, or -1 for none: only
 * transient failures are retried, with exponential backoff and jitter, or
 * as long as the server's Retry-After says, capped by max_retry_wait. */
static long retry_delay(fetch_xfer *x, CURLcode rc)
{
    const fetch_opts *o = x->o;
    long retries = o->retries ? (o->retries < 0 ? 0 : o->retries) : 3;
    long cap = o->max_retry_wait_ms ? o->max_retry_wait_ms : 60000;
    long base = o->retry_base_ms ? o->retry_base_ms : 500;
    long status = x->r.status;
    int transient;

    if (x->r.interrupted)
        return -1;
    /* A part file the server cannot continue (416: it is already whole,
     * or the body shrank) is dropped and fetched again at once, outside
     * the retry budget: it is not a failure of the server. */
    if (rc == CURLE_OK && status == 416 && x->resume_from && !x->restarted) {
        x->retry_fresh = x->restarted = 1;
        return 0;
    }
    if (x->r.attempts > retries)
        return -1;
    switch (rc) {
    case CURLE_OK:
        transient = status == 408 || status == 429 || status == 500 ||
                    status == 502 || status == 503 || status == 504;
        break;
    case CURLE_WRITE_ERROR:
        transient = x->retry_fresh; /* a bad resume; our own errors stay */
        break;
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        transient = 1;
        break;
    default:
        transient = 0;
    }
    if (!transient)
        return -1;
    double wait = (double)base * (double)(1L << (x->r.attempts - 1 < 20
                                                     ? x->r.attempts - 1
                                                     : 20));
    unsigned seed = (unsigned)((uintptr_t)x ^ (uintptr_t)x->t_started);
    wait += wait * 0.5 * ((double)rand_r(&seed) / RAND_MAX);
    curl_off_t after = 0;
    if (rc == CURLE_OK &&
        curl_easy_getinfo(x->easy, CURLINFO_RETRY_AFTER, &after) == CURLE_OK &&
        after > 0)
        wait = (double)after * 1000.0;
    return wait > (double)cap ? cap : (long)wait;
}

/* Clears what one attempt left, so the next starts clean. */
static void reset_attempt(fetch_xfer *x)
{
    if (x->saving) {
        /* A part file is kept for resuming, unless it proved bad. */
        x->file.keep_part = x->part && !x->retry_fresh;
        if (x->o->writer)
            fetch_writer_abort(x->o->writer, &x->file, NULL);
        else
            fetch_file_abort(&x->file);
        x->saving = 0;
    } else if (x->retry_fresh && x->part) {
        fetch_file_remove_part(x->part);
    }
    free(x->r.final_url);
    free(x->r.content_type);
    free(x->r.error);
    free(x->r.body);
    free(x->r.etag);
    free(x->r.last_modified);
    x->r.final_url = x->r.content_type = x->r.error = NULL;
    x->r.etag = x->r.last_modified = NULL;
    x->r.body = NULL;
    x->r.body_len = x->body_cap = 0;
    x->r.bytes = 0;
    x->r.status = 0;
    x->headers_seen = x->keep = x->encoded = x->retry_fresh = 0;
    x->stalled = 0;
    x->stall_bytes = 0;
    x->stall_since = 0;
    x->errbuf[0] = '\0';
    EVP_DigestInit_ex(x->md, fetch_sha256(), NULL);
    /* Out of memory, the attempt goes with the previous headers: at
     * worst an If-Range without its Range, which servers ignore. */
    setup_request(x);
}

int fetch_xfer_finish(fetch_xfer *x, CURLcode rc)
{
    char *s = NULL;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;

    if (!x->headers_seen && rc == CURLE_OK && on_headers(x))
        rc = CURLE_WRITE_ERROR; /* e.g. an empty body's file not created */
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->r.status);
    if (curl_easy_getinfo(x->easy, CURLINFO_EFFECTIVE_URL, &s) == CURLE_OK &&
        s && x->r.status)
        x->r.final_url = strdup(s);
    s = NULL;
    if (curl_easy_getinfo(x->easy, CURLINFO_CONTENT_TYPE, &s) == CURLE_OK &&
        s)
        x->r.content_type = strdup(s);
    x->r.is_html = content_is_html(x->r.content_type);
    /* What a later run asks with (fetch_opts.validators). */
    const char *v = x->r.status ? header(x, "ETag") : NULL;
    x->r.etag = v ? strdup(v) : NULL;
    v = x->r.status ? header(x, "Last-Modified") : NULL;
    x->r.last_modified = v ? strdup(v) : NULL;
    x->r.throttled += rc == CURLE_OK && x->r.status == 429;
    fill_timings(x);

    if (x->stalled && rc == CURLE_ABORTED_BY_CALLBACK) {
        /* A stall is a timeout: same message family, same retries. */
        rc = CURLE_OPERATION_TIMEDOUT;
        set_error(x, "Operation too slow: no data for %ld ms (stalled)",
                  x->o->stall_timeout_ms ? x->o->stall_timeout_ms : 120000L);
    }
    if (x->r.interrupted)
        set_error(x, "interrupted");
    else if (rc != CURLE_OK)
        set_error(x, "%s", x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc));
    else if (x->r.status >= 400)
        set_error(x, "HTTP %ld", x->r.status);

    long delay = retry_delay(x, rc);
    if (delay >= 0) {
        reset_attempt(x);
        x->retry_at = fetch_now_ms() + (double)delay;
        return 1;
    }

    /* A 304 answered our conditional request: a success that received
     * nothing and, having opened no file, leaves the saved one alone. */
    x->r.not_modified = rc == CURLE_OK && x->r.status == 304;
    /* The digest describes the bytes received, once a response came. */
    if (x->r.status && !x->r.not_modified &&
        EVP_DigestFinal_ex(x->md, md, &mdlen) && mdlen == 32)
        fetch_hex(md, mdlen, x->r.sha256);
    memcpy(x->file.sha256, x->r.sha256, sizeof x->file.sha256);
    x->file.size = x->r.bytes;

    if (x->saving) {
        /* A failed transfer keeps its part file for --continue. */
        x->file.keep_part = x->part && x->r.error && !x->retry_fresh;
        if (x->o->writer) {
            /* The writer renames (or removes) the file; the transfer is
             * done when it comes back through fetch_xfer_saved(). */
            x->committing = 1;
            if (x->r.error)
                fetch_writer_abort(x->o->writer, &x->file, x);
            else
                fetch_writer_commit(x->o->writer, &x->file, x);
            return 0;
        }
        if (!x->r.error)
            fetch_file_commit(&x->file);
    } else if (x->retry_fresh && x->part) {
        fetch_file_remove_part(x->part);
    }
    fetch_xfer_saved(x);
    return 0;
}

void fetch_xfer_saved(fetch_xfer *x)
{
    if (x->saving) {
        if (x->file.final) {
            x->r.path = x->file.final;
            x->file.final = NULL;
        } else if (x->file.failed) {
            set_error(x, "%s", x->file.err);
        }
        fetch_file_abort(&x->file); /* no-op unless the commit never ran */
        /* The body is not saved until renamed: transfer runs from the
         * first byte to now, which covers every disk operation (write). */
        fetch_timings *t = &x->r.t;
        double transfer = fetch_now_ms() - (x->t_started + x->first_ms);
        if (transfer > t->transfer)
            t->transfer = transfer;
        t->total = t->queue + t->dns + t->connect + t->tls + t->ttfb +
                   t->transfer;
        t->write = x->file.write_ms < t->transfer ? x->file.write_ms
                                                  : t->transfer;
    }
    if (x->r.error) {
        /* A failed transfer's partial body is not parsed. */
        free(x->r.body);
        x->r.body = NULL;
        x->r.body_len = 0;
    }
    settle(x);
}
