/* fetch_xfer: one URL's transfer: the request setup shared by every mode,
 * the write callback that hashes, saves and keeps the body, and the
 * finishing step that turns curl's outcome into a fetch_result. */
#include "fetch.h"
#include "fetch_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#ifndef GATHER_VERSION
#define GATHER_VERSION "0"
#endif

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

/* Runs once, at the first body byte: the headers are in, so the status and
 * content type decide whether the body is saved and kept. */
static int on_headers(fetch_xfer *x)
{
    char *ct = NULL;
    long status = 0;
    x->headers_seen = 1;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(x->easy, CURLINFO_CONTENT_TYPE, &ct);
    x->keep = x->o->keep_body_max > 0 && content_is_html(ct);
    if (x->rel && status >= 200 && status < 300) {
        x->file.dir = x->o->outdir;
        x->file.rel = x->rel;
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
    EVP_DigestUpdate(x->md, data, n);
    x->r.bytes += n;
    if (x->saving) {
        /* With a writer, an error shows up on a later write; failed is
         * only ever set, so reading it unlocked is safe enough to stop. */
        if (x->o->writer && !__atomic_load_n(&x->file.failed,
                                             __ATOMIC_ACQUIRE))
            fetch_writer_write(x->o->writer, &x->file, data, n);
        else if (x->o->writer || fetch_file_write(&x->file, data, n)) {
            set_error(x, "%s", x->file.err);
            return 0;
        }
    }
    if (x->keep) {
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
            if (!b) {
                set_error(x, "out of memory keeping the body");
                return 0;
            }
            x->r.body = b;
            x->body_cap = cap;
        }
        memcpy(x->r.body + x->r.body_len, data, want - x->r.body_len);
        x->r.body_len = want;
    }
    return n;
}

/* Sets up the easy handle: the request options every mode shares. */
static int setup_easy(fetch_xfer *x)
{
    const fetch_opts *o = x->o;
    CURL *e = x->easy;
    long redirs = o->max_redirs ? o->max_redirs : 10;
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
    SET(CURLOPT_USERAGENT,
        o->user_agent ? o->user_agent : "gather/" GATHER_VERSION);
    if (o->share)
        SET(CURLOPT_SHARE, fetch_share_handle(o->share));
#undef SET
    if (rc != CURLE_OK)
        set_error(x, "curl setup: %s", curl_easy_strerror(rc));
    return rc == CURLE_OK ? 0 : -1;
}

fetch_xfer *fetch_xfer_new(const fetch_opts *o, const char *url, void *user)
{
    fetch_xfer *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    x->o = o;
    x->user = user;
    x->file.fd = -1;
    x->t_created = fetch_now_ms();
    if (!(x->r.url = strdup(url)) || !(x->md = EVP_MD_CTX_new()) ||
        !EVP_DigestInit_ex(x->md, EVP_sha256(), NULL)) {
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
        set_error(x, "%s", fetch_strerror(rc));
        x->done = 1;
        return x;
    }
    if (o->outdir) {
        char rel[2048];
        if ((rc = fetch_name_for_url(x->req, rel, sizeof rel)) ||
            !(x->rel = strdup(rel))) {
            set_error(x, "cannot name file: %s",
                      fetch_strerror(rc ? rc : FETCH_ENOMEM));
            x->done = 1;
            return x;
        }
    }
    if (!(x->easy = curl_easy_init())) {
        set_error(x, "curl_easy_init failed");
        x->done = 1;
        return x;
    }
    if (setup_easy(x))
        x->done = 1;
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
    free(x->req);
    if (x->easy)
        curl_easy_cleanup(x->easy);
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

void *fetch_xfer_user(const fetch_xfer *x)
{
    return x->user;
}

void fetch_xfer_fail(fetch_xfer *x, const char *msg)
{
    set_error(x, "%s", msg);
    x->r.done_ms = fetch_now_ms();
    x->done = 1;
}

void fetch_xfer_mark_started(fetch_xfer *x)
{
    x->t_started = fetch_now_ms();
}

void fetch_xfer_perform(fetch_xfer *x)
{
    if (x->done)
        return;
    fetch_xfer_mark_started(x);
    fetch_xfer_finish(x, curl_easy_perform(x->easy));
}

static double info_ms(CURL *e, CURLINFO what)
{
    curl_off_t us = 0;
    curl_easy_getinfo(e, what, &us);
    return (double)us / 1000.0;
}

/* Turns curl's cumulative timestamps into phase durations. A reused
 * connection has no dns/connect/tls phases; a plain one has no tls. */
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
}

void fetch_xfer_finish(fetch_xfer *x, CURLcode rc)
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
    fill_timings(x);

    if (rc != CURLE_OK)
        set_error(x, "%s", x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc));
    else if (x->r.status >= 400)
        set_error(x, "HTTP %ld", x->r.status);

    /* The digest describes the bytes received, once a response came. */
    if (x->r.status && EVP_DigestFinal_ex(x->md, md, &mdlen))
        for (unsigned i = 0; i < mdlen && i < 32; i++)
            snprintf(x->r.sha256 + 2 * i, 3, "%02x", md[i]);

    x->t_finished = fetch_now_ms();
    if (x->saving && x->o->writer) {
        /* The writer renames (or removes) the file; the transfer is done
         * when it comes back through fetch_xfer_saved(). */
        x->committing = 1;
        if (x->r.error)
            fetch_writer_abort(x->o->writer, &x->file, x);
        else
            fetch_writer_commit(x->o->writer, &x->file, x);
        return;
    }
    if (x->saving && !x->r.error)
        fetch_file_commit(&x->file);
    fetch_xfer_saved(x);
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
        /* The body is not saved until renamed: that wait is transfer. */
        double commit = fetch_now_ms() - x->t_finished;
        x->r.t.write = x->file.write_ms;
        x->r.t.transfer += commit;
        x->r.t.total += commit;
    }
    if (x->r.error) {
        /* A failed transfer's partial body is not parsed. */
        free(x->r.body);
        x->r.body = NULL;
        x->r.body_len = 0;
    }
    x->r.done_ms = fetch_now_ms();
    x->done = 1;
}
