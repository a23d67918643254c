/* fetch: turns URLs into bytes on disk and in memory, with libcurl.
 *
 * Ownership: everything a fetch_*_new() returns belongs to the caller and is
 * released with the matching _free(); _free(NULL) is a no-op. Strings inside
 * a fetch_result belong to the result. A fetch_xfer and a fetch_loop belong
 * to one thread at a time; fetch_global_init() runs once, before any thread.
 */
#ifndef GATHER_FETCH_H
#define GATHER_FETCH_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define FETCH_ERRORS(X)                                                        \
    X(FETCH_OK, "ok")                                                          \
    X(FETCH_ENOMEM, "out of memory")                                           \
    X(FETCH_EURL, "malformed URL")                                             \
    X(FETCH_ESCHEME, "unsupported URL scheme (only http and https)")           \
    X(FETCH_ETOOLONG, "name too long")                                         \
    X(FETCH_EIO, "file system error")                                          \
    X(FETCH_ECURL, "libcurl error")                                            \
    X(FETCH_ESYS, "system call failed")

#define FETCH_ENUM(name, text) name,
typedef enum fetch_code { FETCH_ERRORS(FETCH_ENUM) FETCH_NCODES } fetch_code;
#undef FETCH_ENUM

/* Returns a static description of code. */
const char *fetch_strerror(fetch_code code);

/* Initialises libcurl. Call once, before any thread starts; returns 0 or a
 * fetch_code. fetch_global_cleanup() undoes it. */
int fetch_global_init(void);
void fetch_global_cleanup(void);

/* Options shared by every transfer. Zero means the documented default. */
typedef struct fetch_opts {
    const char *outdir;       /* borrowed; NULL: bodies are hashed, not saved */
    size_t keep_body_max;     /* keep HTML bodies up to this size in memory
                                 for parsing; 0: never keep bodies */
    int keep_any;             /* keep bodies of any type, not only HTML
                                 (robots.txt, sitemaps) */
    long connect_timeout_ms;  /* 0: 30000 */
    long timeout_ms;          /* total per transfer; 0: no limit */
    long max_redirs;          /* 0: 10; negative: no redirects */
    const char *user_agent;   /* borrowed; NULL: "gather/VERSION" */
    struct fetch_share *share;/* borrowed; NULL: no shared caches */
    struct fetch_writer *writer; /* borrowed; NULL: save on the transfer's
                                    own thread (only fetch loops use one) */
    long retries;             /* extra attempts on transient failures
                                 (connection errors, timeouts, HTTP 408, 429,
                                 500, 502, 503, 504); 0: 3; negative: none */
    long retry_base_ms;       /* first backoff, doubled each time, plus up
                                 to half again of jitter; 0: 500 */
    long max_retry_wait_ms;   /* cap on one wait, Retry-After included;
                                 0: 60000 */
    long stall_timeout_ms;    /* fail when no byte arrives for this long;
                                 0: 120000 */
    uint64_t max_filesize;    /* fail bodies larger than this, counted in
                                 decoded bytes; 0: no limit, except that a
                                 compressed body stops at 1 GiB decoded */
    int overwrite;            /* replace existing files instead of adding
                                 ".N" to the name */
    int fsync;                /* fsync each file before its rename and the
                                 directory after it */
    int resume;               /* keep partial files of failed transfers and
                                 resume them with Range and If-Range */
    const atomic_int *stop; /* borrowed; when *stop becomes nonzero, every
                                 transfer ends at once, as "interrupted" */
    const char *const *headers; /* borrowed; n_headers extra request headers,
                                   "Name: value" as curl -H takes them (a
                                   header of the same name replaces curl's
                                   own; "Name:" removes it) */
    size_t n_headers;
    int cookies;              /* keep cookies: in share's cookie store when
                                 it has one (fetch_share_load_cookies()), so
                                 every transfer using it sees them; without,
                                 only across one transfer's redirects */
    const char *proxy;        /* borrowed; [scheme://]host[:port]; NULL: the
                                 environment's http_proxy, https_proxy and
                                 no_proxy, as libcurl reads them; "": none */
    uint64_t limit_rate;      /* bytes/s per transfer; 0: no limit */
    int http2_prior_knowledge;/* speak HTTP/2 to http:// servers at once
                                 (h2c); by default http:// is HTTP/1.1 and
                                 https:// asks for HTTP/2 in the handshake */
    const char *cainfo;       /* borrowed; a PEM file of the CA certificates
                                 to verify https:// servers with, instead
                                 of the system's store (curl --cacert);
                                 NULL: the system's store */
    int insecure;             /* verify neither the certificate of an
                                 https:// server nor its name (curl -k):
                                 anyone on the path can pose as it */
    /* Conditional requests. Called once per transfer, from fetch_xfer_new()
     * on its caller's thread (in procs mode, in a worker process), with the
     * URL as given; it sets *etag and *last_modified (both start NULL) to
     * malloced copies of what the caller saved of that URL, which the
     * transfer owns from then on (even when it returns -1). They are sent as If-None-Match and If-Modified-Since, except
     * when a part file is being resumed; a 304 answer is then a success
     * that writes nothing (fetch_result.not_modified). Returns 0, or -1 to
     * fail the transfer. NULL: no conditional requests. */
    int (*validators)(void *ctx, const char *url, char **etag,
                      char **last_modified);
    void *validators_ctx;     /* borrowed; passed to validators */
} fetch_opts;

/* Whether o's run was asked to stop (the signal handler sets the flag;
 * every thread and process of the run reads it). */
static inline int fetch_stop_requested(const fetch_opts *o)
{
    return o->stop && atomic_load_explicit(o->stop, memory_order_relaxed);
}

/* Phase durations of one URL in milliseconds. The fetch fills queue (wait
 * in gather before the transfer starts), dns, connect, tls, ttfb (from
 * connected to the first byte: the request and the server's wait), transfer (first byte to the body saved) and write (the part
 * of transfer spent writing to disk, plus the final rename); the pipeline
 * adds parse_wait (fetched to parse start) and parse. The phases other
 * than write add up to total. */
typedef struct fetch_timings {
    double queue, dns, connect, tls, ttfb, transfer, write;
    double parse_wait, parse, total;
} fetch_timings;

/* The outcome of one URL. */
typedef struct fetch_result {
    char *url;            /* owned; as given */
    char *final_url;      /* owned; NULL when no response arrived */
    long status;          /* HTTP status; 0 when none */
    uint64_t bytes;       /* body bytes received (decoded) */
    char *content_type;   /* owned; NULL when the server sent none */
    char sha256[65];      /* hex digest of the body; "" when none */
    char *path;           /* owned; the saved file, NULL when not saved */
    char *error;          /* owned; NULL on success */
    fetch_timings t;
    unsigned char *body;  /* owned; the body, when kept for parsing */
    size_t body_len;
    int is_html;          /* content type says HTML */
    int attempts;         /* requests made for this URL */
    int interrupted;      /* ended by *stop: the URL was not finished */
    char *etag;           /* owned; the last response's ETag, NULL when it
                             had none */
    char *last_modified;  /* owned; its Last-Modified, NULL when none */
    int not_modified;     /* the answer was 304: nothing was received or
                             saved (path NULL, bytes 0, sha256 "") and an
                             existing file was left as it was */
    int throttled;        /* 429 answers over every attempt, for callers
                             that slow a host down */
    double done_ms;       /* monotonic ms when the fetch finished; the
                             clock is system-wide, so it crosses processes */
} fetch_result;

/* Creates directory path and any missing parents, as mkdir -p does.
 * Returns 0 (also when it exists), or -1 with errno set (ENOTDIR when a
 * component is not a directory). */
int fetch_mkdir_p(const char *path);

/* CLOCK_MONOTONIC in milliseconds. */
double fetch_now_ms(void);

/* SHA-256 as an EVP_MD (from <openssl/evp.h>), fetched from its provider
 * once and held until exit: EVP_sha256() has OpenSSL 3 look it up again
 * on every digest, which costs more than the digest of a URL itself. */
const struct evp_md_st *fetch_sha256(void);

/* Writes the n bytes of md as 2n lower-case hex digits and a NUL to out. */
void fetch_hex(const unsigned char *md, size_t n, char *out);

/* Releases what r owns and zeroes it. */
void fetch_result_clear(fetch_result *r);

/* ---- one transfer ---- */

typedef struct fetch_xfer fetch_xfer;

/* Creates a transfer of url with options o (borrowed; must outlive the
 * transfer). Returns NULL only when out of memory. If the URL cannot be
 * fetched (malformed, unsupported scheme, output file cannot be created),
 * the transfer is already finished: fetch_xfer_done() is true and the
 * result carries the error. */
fetch_xfer *fetch_xfer_new(const fetch_opts *o, const char *url);
void fetch_xfer_free(fetch_xfer *x);

/* True once the transfer has finished, successfully or not. */
int fetch_xfer_done(const fetch_xfer *x);

/* Ends a transfer that could not start (or whose worker died), with msg
 * as its error. */
void fetch_xfer_fail(fetch_xfer *x, const char *msg);

/* Runs the transfer to completion in the calling thread (blocking). */
void fetch_xfer_perform(fetch_xfer *x);

/* The result; valid until fetch_xfer_free(). Complete once done. */
fetch_result *fetch_xfer_result(fetch_xfer *x);


/* ---- the event loop: many transfers on one thread ---- */

typedef struct fetch_loop fetch_loop;

/* Called on the loop's thread for each transfer that finished. The callee
 * owns x from then on. */
typedef void (*fetch_done_fn)(fetch_xfer *x, void *ctx);

/* Creates a curl multi handle driven by epoll. max_parallel sizes the
 * connection cache. Returns NULL and a message in err on failure. */
fetch_loop *fetch_loop_new(long max_parallel, char *err, size_t errlen);
void fetch_loop_free(fetch_loop *l);

/* Starts x on the loop, which owns it until it is passed to the done
 * callback. Returns 0, or a fetch_code when x could not start: then x is
 * done, with the error in its result, and the caller keeps it. */
int fetch_loop_add(fetch_loop *l, fetch_xfer *x);

/* The loop's epoll descriptor, readable when fetch_loop_poll() has network
 * work (for an outer poll), and the milliseconds until curl's next timer
 * (-1: none). */
int fetch_loop_fd(const fetch_loop *l);
int fetch_loop_timeout_ms(const fetch_loop *l);

/* Watches efd, an eventfd another thread writes to wake the loop's
 * thread: fetch_loop_poll() then returns, having emptied it. One at a
 * time. Returns 0, or -1 with a message in err. */
int fetch_loop_watch(fetch_loop *l, int efd, char *err, size_t errlen);

/* Transfers on the network: started, or waiting to retry, and not yet
 * finished. This is what -j bounds. */
long fetch_loop_active(const fetch_loop *l);

/* Transfers not yet passed to a done callback: the active ones and those
 * whose file a writer thread is still committing. 0: the loop is idle. */
long fetch_loop_pending(const fetch_loop *l);

/* Bytes held off the network for the disk: the bodies of transfers whose
 * file is being committed, and the writes queued for the writer thread.
 * A caller that starts no transfer above some bound keeps a slow disk
 * from piling up memory without the loop ever blocking on it. */
size_t fetch_loop_held_bytes(const fetch_loop *l);

/* Waits up to timeout_ms for network events or curl timers, drives the
 * transfers, and calls done for each one that finished. Returns the number
 * finished, or -1 with errno set when epoll fails. */
int fetch_loop_poll(fetch_loop *l, int timeout_ms, fetch_done_fn done,
                    void *ctx);

/* ---- URLs ---- */

/* Resolves ref against base (both may be absolute), drops the fragment and
 * returns a malloced absolute URL in *out. Returns 0, FETCH_EURL when either
 * is malformed, or FETCH_ESCHEME when the result is not http(s).
 * Thread-safe. */
int fetch_url_resolve(const char *base, const char *ref, char **out);

/* A memo of resolutions for fetch_url_resolve_all(). The pages of a site
 * link to the same URLs over and over, and a path reference resolved
 * against one directory always gives the same URL, so a memo turns most
 * resolutions into a lookup. It holds at most max_entries entries and
 * about max_bytes of strings, and starts again empty when full. One memo
 * may serve every thread of a process (it locks). NULL when out of
 * memory; fetch_url_memo_free(NULL) does nothing. */
typedef struct fetch_url_memo fetch_url_memo;
fetch_url_memo *fetch_url_memo_new(size_t max_entries, size_t max_bytes);
void fetch_url_memo_free(fetch_url_memo *m);

/* Resolves every refs[i] against base (parsed once): out[i] is a malloced
 * absolute URL, or NULL when refs[i] is malformed or not http(s) (or base
 * is malformed), exactly as fetch_url_resolve() would give it. m (may be
 * NULL) remembers results across calls. Returns 0, or FETCH_ENOMEM with
 * every out[i] NULL. Thread-safe. */
int fetch_url_resolve_all(const char *base, char *const *refs, size_t n,
                          char **out, fetch_url_memo *m);

/* The canonical form of an absolute http(s) URL, for telling URLs apart:
 * scheme and host in lower case (an IPv6 address in its RFC 5952 form;
 * only the ASCII letters of an IDN host, which stays in UTF-8),
 * the default port dropped, dot segments resolved, percent-escapes of
 * unreserved characters decoded and every other escape in upper case,
 * the fragment and an empty query dropped, and an empty path made "/".
 * With sort_query, the query's '&'-separated parameters are sorted by
 * name, byte by byte; the sort is stable, so repeated names keep their
 * order, and empty parameters are dropped. The user name and password,
 * when present, are kept as they are. Returns 0 and a malloced URL in
 * *out, or FETCH_EURL, FETCH_ESCHEME or FETCH_ENOMEM with *out NULL.
 * Thread-safe. */
int fetch_url_normalize(const char *url, int sort_query, char **out);

/* The politeness key of an http(s) URL: "host:port", the host as
 * fetch_url_normalize() writes it and the port always given ("example.com:443",
 * "[::1]:80"). Returns 0, FETCH_EURL, FETCH_ESCHEME or FETCH_ETOOLONG (out
 * is then ""). Thread-safe. */
int fetch_url_host(const char *url, char *out, size_t cap);

/* The length of url's scheme and authority ("http://h:8080") when they
 * are spelt plainly (a scheme, "://", then letters, digits and "-._~:[]")
 * and end the URL or are followed by '/', '?' or '#'; else 0. Wherever
 * fetch_url_host(url) succeeds, that prefix alone has the same key, so a
 * caller may keep keys by prefix and parse a host once, not every URL. */
size_t fetch_url_origin_len(const char *url);

/* The path and query of an http(s) URL as fetch_url_normalize(url, 0)
 * writes them, "/path?query" (no fragment), as robots.txt rules are
 * matched against. Returns 0 and a malloced string in *out, or a
 * fetch_code with *out NULL. Thread-safe. */
int fetch_url_path(const char *url, char **out);

/* The relative path a URL is saved under: "host[:port]/path", as wget -x
 * does. A path ending in '/' gets "index.html"; a query is kept as
 * "?query". Every component is sanitised (no "..", no '/', no control
 * characters, at most FETCH_NAME_MAX bytes) and the whole is bounded by
 * cap. Returns 0, FETCH_EURL, FETCH_ESCHEME or FETCH_ETOOLONG. */
#define FETCH_NAME_MAX 200
int fetch_name_for_url(const char *url, char *out, size_t cap);


/* ---- a writer thread, so an event loop never waits on the disk ---- */

typedef struct fetch_writer fetch_writer;

/* Starts a thread that does the saving (directories, temporary file,
 * writes, rename) for the loop transfers whose options name it. Writes
 * are copied into a queue of at most max_queued bytes (0: 64 MiB); only
 * when it is full does the loop wait. Create it after forking workers.
 * Returns NULL with a message in err. */
fetch_writer *fetch_writer_new(size_t max_queued, char *err, size_t errlen);

/* Runs every queued operation, then stops the thread. */
void fetch_writer_free(fetch_writer *w);

/* Bytes of writes queued and not yet on disk. Any thread. */
size_t fetch_writer_queued(fetch_writer *w);

/* ---- blocking transfers on background threads ---- */

/* For the few transfers a thread that drives others must not wait for
 * (robots.txt, sitemaps): each runs with fetch_xfer_perform() on one of at
 * most max_threads threads (0: 8), started when transfers are added and
 * ended when none is left to run. The fetch_bg and its transfers belong to
 * the thread that made it; only the background threads are its own. */
typedef struct fetch_bg fetch_bg;

/* Called, with ctx, on whichever thread finished a transfer, once it can
 * be taken: the owner's cue to call fetch_bg_take() instead of asking
 * again and again. It must not call into the fetch_bg. */
typedef void (*fetch_bg_notify_fn)(void *ctx);

/* NULL when out of memory. Starts no thread yet. notify may be NULL. */
fetch_bg *fetch_bg_new(int max_threads, fetch_bg_notify_fn notify,
                       void *ctx);

/* Ends the transfers still running as interrupted (within about a second),
 * joins the threads and frees every transfer it holds; the tags were
 * never its own. */
void fetch_bg_free(fetch_bg *b);

/* Runs x, made by the caller on its own thread (so its validators run
 * there), with options that outlive it. b owns x until fetch_bg_take()
 * hands it back with tag, finished: a transfer that cannot start, or that
 * no thread can be started for, comes back failed. Returns 0, or
 * FETCH_ENOMEM with x still the caller's. */
int fetch_bg_add(fetch_bg *b, fetch_xfer *x, void *tag);

/* A finished transfer, the caller's again, with its tag in *tag; NULL
 * when none has finished since the last call. Does not wait. */
fetch_xfer *fetch_bg_take(fetch_bg *b, void **tag);

/* ---- shared caches for transfers on many threads ---- */

typedef struct fetch_share fetch_share;

/* A curl share handle for the DNS and TLS session caches, with locks, so
 * transfers on different threads can use it at once. With connections,
 * the connection cache is shared too, so that one transfer after another
 * reuses connections: only for one thread, since libcurl does not support
 * sharing connections between concurrent threads (curl issue #4915).
 * NULL on failure. */
fetch_share *fetch_share_new(int connections);
void fetch_share_free(fetch_share *s);

/* Gives s a cookie store, used by every transfer of s whose options ask
 * for cookies, and fills it from jar, a cookie file in the Netscape format
 * curl and wget write, when that file exists. Call before any transfer
 * uses s. Returns 0, or a fetch_code with a message in err (the file
 * exists but cannot be read). Not thread-safe. */
int fetch_share_load_cookies(fetch_share *s, const char *jar, char *err,
                             size_t errlen);

/* Writes every unexpired cookie of s, session cookies included, to the jar
 * given to fetch_share_load_cookies(): to a temporary file beside it,
 * mode 0600, renamed over it. Call when no transfer uses s. Returns 0, or
 * a fetch_code with a message in err. */
int fetch_share_save_cookies(fetch_share *s, char *err, size_t errlen);

#endif
