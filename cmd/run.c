/* run: the steps every mode shares: reading the next URL, parsing and
 * building the record, and writing it out with the accounting. */
#define _GNU_SOURCE
#include "run.h"
#include "crawl.h"
#include "record.h"
#include "wire.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef GATHER_TEST_HOOKS
#include <jansson.h>
#include <signal.h>
/* Test builds only: make a parse crash or crawl on demand, so tests can
 * kill workers and fill queues without hostile input of their own; and log
 * what the fetch saw that records do not show (GATHER_TEST_FETCH_LOG=FILE:
 * URL, status, not_modified, throttled). */
static void test_fetch_log(const fetch_result *res)
{
    const char *path = getenv("GATHER_TEST_FETCH_LOG");
    char line[8192];
    if (!path || !res->url)
        return;
    int n = snprintf(line, sizeof line, "%s\t%ld\t%d\t%d\n", res->url,
                     res->status, res->not_modified, res->throttled);
    /* One append per line: workers in other processes write here too. */
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0 && n > 0 && (size_t)n < sizeof line &&
        write(fd, line, (size_t)n) < 0)
        perror("gather: GATHER_TEST_FETCH_LOG");
    if (fd >= 0)
        close(fd);
}

static void test_hooks(const fetch_result *res)
{
    const char *crash = getenv("GATHER_TEST_CRASH_URL");
    const char *delay = getenv("GATHER_TEST_PARSE_DELAY_MS");
    if (crash && *crash && strstr(res->url, crash))
        raise(SIGSEGV);
    if (delay)
        usleep((useconds_t)atoi(delay) * 1000);
}

/* GATHER_TEST_TAKES_LOG=FILE: how often the mode asked for a URL, written
 * at the end; a mode that kept asking while a host is held for its
 * robots.txt would ask hundreds of times for each second it takes. */
static long test_takes;

static void test_takes_log(void)
{
    const char *path = getenv("GATHER_TEST_TAKES_LOG");
    FILE *f = path ? fopen(path, "w") : NULL;
    if (f) {
        fprintf(f, "%ld\n", test_takes);
        fclose(f);
    }
}
#endif

/* fetch's validators callback of --since: the ETag and Last-Modified of
 * the URL's record in the earlier run's records. Runs wherever transfers
 * are created (a procs worker reads the records file with pread). */
static int since_validators(void *ctx, const char *url, char **etag,
                            char **last_modified)
{
    const run *r = ctx;
    char *line = journal_record(r->since, url);
    int rc = line ? record_validators(line, etag, last_modified) : 0;
    free(line);
    return rc;
}

static int resolve_cb(void *ctx, const char *base, char *const *refs,
                      size_t n, char **out)
{
    return fetch_url_resolve_all(base, refs, n, out, ctx);
}

static int get_pull(void *ctx, int block, sched_entry *out);

/* path made absolute, with symbolic links resolved, into buf; for a file
 * yet to be created, its directory's. Returns buf, or NULL. */
static char *path_key(const char *path, char *buf)
{
    char dir[PATH_MAX];
    if (realpath(path, buf))
        return buf;
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    int n = slash ? snprintf(dir, sizeof dir, "%.*s",
                             (int)(slash - path) + 1, path)
                  : snprintf(dir, sizeof dir, ".");
    if (n < 0 || (size_t)n >= sizeof dir || !realpath(dir, buf) ||
        strlen(buf) + 1 + strlen(base) >= PATH_MAX)
        return NULL;
    strcat(strcat(buf, "/"), base);
    return buf;
}

/* Whether paths a and b name one file, existing (links included) or to be
 * created. */
static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    char ka[PATH_MAX], kb[PATH_MAX];
    if (!stat(a, &sa) && !stat(b, &sb))
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    return path_key(a, ka) && path_key(b, kb) && !strcmp(ka, kb);
}

/* The files a run reads and writes must be distinct wherever one of them
 * is written: records appended to the URL list would be read as URLs,
 * the summary or cookie jar written at the end would replace the list or
 * the records, and --since would skip every URL it then holds. */
static int check_files(const gather_opts *o, char *err, size_t errlen)
{
    const struct {
        const char *opt, *path;
        int writes;
    } f[] = {
        {"the URL list (-i)", o->input, 0},
        {"--since", o->since, 0},
        {"the records file", o->jsonl, 1},
        {"--stats", o->stats, 1},
        {"--cookie-jar", o->cookie_jar, 1},
    };
    const size_t n = sizeof f / sizeof *f;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            const char *a = f[i].path, *b = f[j].path;
            if (!a || !b || !strcmp(a, "-") || !strcmp(b, "-") ||
                !(f[i].writes || f[j].writes) || !same_file(a, b))
                continue;
            snprintf(err, errlen, "%s and %s are one file, %s: give each a "
                     "file of its own", f[i].opt, f[j].opt, b);
            return -1;
        }
    return 0;
}

/* CSV records cannot be a journal (a row is not a record to read back),
 * so the journal is a file of its own beside them: OUT/.gather-journal, or
 * FILE.journal. The header row is written when the file is new. */
static int write_all(int fd, const char *buf, size_t n);

static int open_csv(run *r, char *err, size_t errlen)
{
    const gather_opts *o = r->o;
    char path[4096];
    int fd = 1;
    if (strcmp(o->jsonl, "-") &&
        (fd = open(o->jsonl, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC |
                                 (o->restart ? O_TRUNC : 0), 0644)) < 0) {
        snprintf(err, errlen, "cannot write %s: %s", o->jsonl,
                 strerror(errno));
        return -1;
    }
    r->jsonl_fd = fd;
    struct stat st;
    char *h = record_csv_header(o->fields, o->n_fields);
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (fd == 1 || (fstat(fd, &st) == 0 && st.st_size == 0)) {
        int bad = write_all(fd, h, strlen(h));
        free(h);
        if (bad) {
            snprintf(err, errlen, "cannot write %s: %s", o->jsonl,
                     strerror(errno));
            return -1;
        }
    } else {
        /* Rows go on only under the same header: another file, or other
         * --field columns, would be damaged by them. */
        size_t hl = strlen(h);
        char *first = malloc(hl);
        int rfd = open(o->jsonl, O_RDONLY | O_CLOEXEC);
        int same = first && rfd >= 0 &&
                   pread(rfd, first, hl, 0) == (ssize_t)hl &&
                   !memcmp(first, h, hl);
        if (rfd >= 0)
            close(rfd);
        free(first);
        free(h);
        if (!same) {
            snprintf(err, errlen, "%s is not a CSV of gather records with "
                     "these columns (its first line differs); name another "
                     "file, or add --restart to empty it first", o->jsonl);
            return -1;
        }
    }
    if (o->outdir)
        snprintf(path, sizeof path, "%s/.gather-journal", o->outdir);
    else if (fd != 1)
        snprintf(path, sizeof path, "%s.journal", o->jsonl);
    else
        return 0;
    r->jr = journal_open(path, o->restart, &r->journal_fd, err, errlen);
    return r->jr ? 0 : -1;
}

/* The cookie store of --cookie-jar, shared by every transfer of the run.
 * Its directory must take the new jar at the end; better to say so now
 * than after the run. */
static int open_cookies(run *r, char *err, size_t errlen)
{
    const char *jar = r->o->cookie_jar;
    const char *slash = strrchr(jar, '/');
    char dir[4096], why[512];
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - jar) + 1 : 1,
             slash ? jar : ".");
    if (access(dir, W_OK | X_OK)) {
        snprintf(err, errlen, "--cookie-jar: cannot write in %s: %s", dir,
                 strerror(errno));
        return -1;
    }
    if (!(r->cookies = fetch_share_new(0))) {
        snprintf(err, errlen, "cannot create the curl share handle");
        return -1;
    }
    if (fetch_share_load_cookies(r->cookies, jar, why, sizeof why)) {
        snprintf(err, errlen, "--cookie-jar: %s", why);
        fetch_share_free(r->cookies);
        r->cookies = NULL;
        return -1;
    }
    r->fo.share = r->cookies;
    return 0;
}

int run_open(run *r, const gather_opts *o, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->o = o;
    r->jsonl_fd = -1;
    r->journal_fd = -1;
    r->wake_fd = -1;
    r->fo.outdir = o->outdir;
    r->fo.keep_body_max = o->no_parse ? 0
                          : o->max_parse_bytes ? o->max_parse_bytes
                                               : (size_t)32 << 20;
    r->fo.connect_timeout_ms = o->connect_timeout_ms;
    r->fo.timeout_ms = o->timeout_ms;
    r->fo.max_redirs = o->max_redirs;
    r->fo.user_agent = o->user_agent;
    r->fo.retries = o->retries;
    r->fo.retry_base_ms = o->retry_delay_ms;
    r->fo.max_retry_wait_ms = o->max_retry_wait_ms;
    r->fo.stall_timeout_ms = o->stall_timeout_ms;
    r->fo.max_filesize = o->max_filesize;
    r->fo.overwrite = o->overwrite;
    r->fo.fsync = o->fsync;
    r->fo.resume = o->resume;
    r->fo.headers = o->headers;
    r->fo.n_headers = o->n_headers;
    r->fo.cookies = o->cookie_jar != NULL;
    r->fo.proxy = o->proxy;
    r->fo.limit_rate = o->limit_rate;
    r->fo.http2_prior_knowledge = o->http2_prior_knowledge;
    r->fo.cainfo = o->cacert;
    r->fo.insecure = o->insecure;
    r->po.resolve = resolve_cb;
    r->po.fields = o->fields;
    r->po.n_fields = o->n_fields;

    if (o->outdir) {
        struct stat st;
        /* Missing parents too, as wget2 -P and curl --create-dirs do. */
        if (fetch_mkdir_p(o->outdir)) {
            snprintf(err, errlen, "cannot create output directory %s: %s",
                     o->outdir, strerror(errno));
            return -1;
        }
        if (stat(o->outdir, &st) || !S_ISDIR(st.st_mode) ||
            access(o->outdir, W_OK | X_OK)) {
            snprintf(err, errlen, "output directory %s is not writable",
                     o->outdir);
            return -1;
        }
    }
    if (check_files(o, err, errlen) ||
        (o->input && !(r->in = urllist_open(o->input, err, errlen))))
        return -1;
    /* The link memo: 16,384 entries of at most 4 MiB in all, so a page's
     * links are mostly in it on a site of thousands of pages and memory
     * stays flat; without it links still resolve, only slower. Made after
     * the checks above, which return without run_close(). */
    r->links = fetch_url_memo_new(16384, 4u << 20);
    r->po.resolve_ctx = r->links;
    if (o->since) {
        if (!(r->since = journal_open(o->since, 0, NULL, err, errlen))) {
            run_close(r);
            return -1;
        }
        r->fo.validators = since_validators;
        r->fo.validators_ctx = r;
    }
    r->fo.stop = o->stop;
    if (o->csv && o->jsonl) {
        if (open_csv(r, err, errlen)) {
            run_close(r);
            return -1;
        }
    } else if (o->jsonl && strcmp(o->jsonl, "-")) {
        /* The records file is its own journal. */
        if (!(r->jr = journal_open(o->jsonl, o->restart, &r->jsonl_fd, err,
                                   errlen))) {
            run_close(r);
            return -1;
        }
    } else {
        if (o->jsonl)
            r->jsonl_fd = 1;
        if (o->outdir) {
            char path[4096];
            snprintf(path, sizeof path, "%s/.gather-journal", o->outdir);
            if (!(r->jr = journal_open(path, o->restart, &r->journal_fd, err,
                                       errlen))) {
                run_close(r);
                return -1;
            }
        }
    }
    int tty = isatty(2);
    int progress = o->progress ? o->progress > 0 : tty;
    long total = -1;
    if (progress) {
        total = o->n_urls;
        if (o->input) {
            long n = urllist_count(o->input);
            total = n < 0 ? -1 : total + n;
        }
    }
    if (!(r->rep = report_new(progress, total))) {
        snprintf(err, errlen, "out of memory");
        run_close(r);
        return -1;
    }
    sched_opts so = {.per_host = o->per_host, .delay_ms = o->delay_ms,
                     .jitter_ms = o->jitter_ms, .pull = get_pull, .ctx = r};
    /* Enough read-ahead that every transfer slot can find a URL of a host
     * that may start one. */
    long jobs = o->jobs > 0 ? o->jobs : 16;
    so.window = (size_t)(jobs * 4 > 1024 ? jobs * 4 : 1024);
    if ((r->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
        snprintf(err, errlen, "eventfd: %s", strerror(errno));
        run_close(r);
        return -1;
    }
    if (o->crawl && !(r->crawl = crawl_new(r, &so, err, errlen))) {
        run_close(r);
        return -1;
    }
    if (!(r->sched = sched_new(&so))) {
        snprintf(err, errlen, "out of memory");
        run_close(r);
        return -1;
    }
    if (r->crawl)
        crawl_attach(r->crawl, r->sched);
    /* Last, so that a run that cannot start never writes the jar. */
    if (o->cookie_jar && open_cookies(r, err, errlen)) {
        run_close(r);
        return -1;
    }
    return 0;
}

void run_close(run *r)
{
    sched_free(r->sched);
    r->sched = NULL;
    crawl_free(r->crawl);
    r->crawl = NULL;
    free(r->cur.url);
    r->cur.url = NULL;
    if (r->cookies) {
        char err[512];
        if (!r->jar_frozen &&
            fetch_share_save_cookies(r->cookies, err, sizeof err)) {
            report_error(r->rep, "--cookie-jar", err);
            r->out_error = 1;
        }
        if (r->fo.share == r->cookies)
            r->fo.share = NULL;
        fetch_share_free(r->cookies);
        r->cookies = NULL;
    }
    fetch_url_memo_free(r->links);
    r->links = NULL;
    r->po.resolve_ctx = NULL;
    urllist_close(r->in);
    r->in = NULL;
    if (r->jsonl_fd > 1) {
        fdatasync(r->jsonl_fd);
        close(r->jsonl_fd);
    }
    r->jsonl_fd = -1;
    if (r->journal_fd >= 0) {
        fdatasync(r->journal_fd);
        close(r->journal_fd);
    }
    r->journal_fd = -1;
    journal_free(r->jr);
    r->jr = NULL;
    journal_free(r->since);
    r->since = NULL;
    report_free(r->rep);
    r->rep = NULL;
    if (r->wake_fd >= 0)
        close(r->wake_fd);
    r->wake_fd = -1;
#ifdef GATHER_TEST_HOOKS
    test_takes_log();
#endif
}

int run_stopping(const run *r)
{
    return fetch_stop_requested(&r->fo);
}

/* The next URL of the command line or the list, or 0 at the end. */
static int next_input(run *r, const char **url, char *err, size_t errlen)
{
    if (r->next_arg < r->o->n_urls) {
        *url = r->o->urls[r->next_arg++];
        return 1;
    }
    if (!r->in)
        return 0;
    size_t lineno;
    int rc = urllist_next(r->in, url, &lineno, err, errlen);
    if (rc == -2) {
        /* The list cannot be read any further: report it, end the input. */
        report_error(r->rep, r->o->input, err);
        r->out_error = 1;
        urllist_close(r->in);
        r->in = NULL;
        return 0;
    }
    return rc;
}

static int input_ready(run *r)
{
    return r->next_arg < r->o->n_urls || !r->in || urllist_ready(r->in);
}

/* The source of get: the command line, then the list, without the URLs
 * an earlier run recorded. */
static int get_pull(void *ctx, int block, sched_entry *out)
{
    run *r = ctx;
    char err[512];
    const char *url;
    for (;;) {
        if (!block && !input_ready(r))
            return 0;
        int rc = next_input(r, &url, err, sizeof err);
        if (rc == 0)
            return -1;
        if (rc < 0) {
            run_emit_failed(r, NULL, err);
            continue;
        }
        if (r->jr && journal_has(r->jr, url))
            continue; /* recorded by an earlier run of this command */
        if (!(out->url = strdup(url))) {
            report_error(r->rep, "gather", "out of memory");
            r->out_error = 1;
            return -1;
        }
        return 1;
    }
}

int run_take(run *r, const char **url, int *eof)
{
    double wait = -1;
#ifdef GATHER_TEST_HOOKS
    test_takes++;
#endif
    free(r->cur.url);
    r->cur.url = NULL;
    r->wait_ms = -1;
    if (run_stopping(r) || (r->limit && r->taken >= r->limit)) {
        *eof = 1;
        return 0;
    }
    int rc = sched_take(r->sched, fetch_now_ms(), &r->cur, &wait);
    if (rc == 1) {
        r->taken++;
        *url = r->cur.url;
        return 1;
    }
    if (rc == 0) {
        r->wait_ms = wait;
        return 0;
    }
    if (rc == -2) {
        report_error(r->rep, "gather", "out of memory");
        r->out_error = 1;
    }
    *eof = 1;
    return 0;
}

int run_poll_ms(const run *r, int cap)
{
    if (r->wait_ms >= 0 && r->wait_ms < cap)
        return (int)r->wait_ms + 1;
    return cap;
}

void run_wake(run *r)
{
    uint64_t one = 1;
    /* EAGAIN only when the counter is full: readable all the same. */
    ssize_t put = write(r->wake_fd, &one, sizeof one);
    (void)put;
}

int run_wake_fd(const run *r)
{
    return r->wake_fd;
}

void run_wait_wake(run *r, int ms)
{
    struct pollfd p = {r->wake_fd, POLLIN, 0};
    uint64_t n; /* emptied, or EAGAIN: empty already */
    if (poll(&p, 1, ms) == 1) {
        ssize_t got = read(r->wake_fd, &n, sizeof n);
        (void)got;
    }
}

int run_start_on_loop(run *r, fetch_loop *loop, const char *url)
{
    fetch_xfer *x = fetch_xfer_new(&r->fo, url);
    if (!x)
        return -1;
    if (fetch_xfer_done(x) || fetch_loop_add(loop, x))
        run_finish_xfer(r, x);
    return 0;
}

/* The charset parameter of a content type, copied into buf, or NULL. */
static const char *charset_of(const char *ct, char *buf, size_t cap)
{
    const char *p = ct ? strcasestr(ct, "charset=") : NULL;
    if (!p)
        return NULL;
    p += 8;
    if (*p == '"')
        p++;
    size_t n = strcspn(p, "\"; \t");
    if (!n || n >= cap)
        return NULL;
    memcpy(buf, p, n);
    buf[n] = '\0';
    return buf;
}

/* The record of a 304 under --since: the earlier record with the new
 * answer's facts (record_unchanged()), and for a crawl its links, as if
 * the page had been fetched again. Takes line; returns the new one. */
static char *unchanged_record(const run *r, const fetch_result *res,
                              char *line, run_outcome *oc)
{
    char *old = journal_record(r->since, res->url);
    char *merged = old ? record_unchanged(old, line) : NULL;
    if (merged && r->crawl)
        record_found(old, &oc->found, &oc->n_links, &oc->n_requisites);
    free(old);
    if (!merged)
        return line; /* no earlier record: the 304 as it came */
    free(line);
    return merged;
}

/* Moves the links, then the requisites (images, then assets) of page
 * into oc->found. */
static int found_from_page(run_outcome *oc, parse_page *page)
{
    parse_strv *from[] = {&page->links, &page->images, &page->assets};
    size_t n = page->links.n + page->images.n + page->assets.n;
    if (!n)
        return 0;
    if (!(oc->found = malloc(n * sizeof *oc->found)))
        return -1;
    oc->n_links = page->links.n;
    oc->n_requisites = n - page->links.n;
    parse_strv_join((const parse_strv *const *)from,
                    sizeof from / sizeof *from, oc->found);
    for (size_t i = 0; i < sizeof from / sizeof *from; i++)
        from[i]->n = 0; /* moved */
    return 0;
}

void run_outcome_clear(run_outcome *oc)
{
    for (size_t i = 0; i < oc->n_links + oc->n_requisites; i++)
        free(oc->found[i]);
    free(oc->found);
    oc->found = NULL;
    oc->n_links = oc->n_requisites = 0;
}

char *run_process(const run *r, fetch_result *res, run_outcome *oc)
{
    parse_page page = {0};
    int parsed = 0;
    char perr[256] = "";
    char *line;

#ifdef GATHER_TEST_HOOKS
    test_fetch_log(res);
#endif
    if (!r->o->no_parse && res->is_html && !res->error && res->body) {
        char cs[64];
        double t0 = fetch_now_ms();
        if (res->done_ms > 0 && t0 > res->done_ms)
            res->t.parse_wait = t0 - res->done_ms;
#ifdef GATHER_TEST_HOOKS
        test_hooks(res);
#endif
        int rc = parse_html((const char *)res->body, res->body_len,
                            res->final_url ? res->final_url : res->url,
                            charset_of(res->content_type, cs, sizeof cs),
                            &r->po, &page, perr, sizeof perr);
        parsed = rc == PARSE_OK;
        res->t.parse = fetch_now_ms() - t0;
        res->t.total += res->t.parse_wait + res->t.parse;
        if (rc && !perr[0])
            snprintf(perr, sizeof perr, "%s", parse_strerror(rc));
    }
    line = record_json(res, parsed ? &page : NULL, r->o->fields,
                       perr[0] ? perr : NULL);
    memset(oc, 0, sizeof *oc);
    if (parsed && r->crawl && found_from_page(oc, &page)) {
        free(line);
        line = NULL; /* out of memory, reported as such */
    }
    if (res->not_modified && r->since && line)
        line = unchanged_record(r, res, line, oc);
    parse_page_clear(&page);
    oc->url = res->url;
    oc->error = res->error;
    if (!oc->error && perr[0])
        oc->error = "parse failed"; /* the record holds the detail */
    oc->bytes = res->bytes;
    oc->total_ms = res->t.total;
    oc->interrupted = res->interrupted;
    oc->parse_ms = parsed ? res->t.parse : 0;
    oc->throttled = res->throttled;
    return line;
}

/* Writes n bytes of buf, finishing short writes. */
static int write_all(int fd, const char *buf, size_t n)
{
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(fd, buf + off, n - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        off += (size_t)w;
    }
    return 0;
}

static int write_line(int fd, const char *line)
{
    size_t n = strlen(line);
    char *buf = malloc(n + 1);
    if (!buf)
        return -1;
    memcpy(buf, line, n);
    buf[n] = '\n';
    /* One write per record, so a record is never interleaved or split by
     * another writer. */
    int rc = write_all(fd, buf, n + 1);
    free(buf);
    return rc;
}

/* Writes the journal line of url when the journal is a file of its own:
 * {"url":...}, or for a crawl the whole record, whose links a rerun
 * crawls without fetching the page again. */
static void journal_line(run *r, const char *url, const char *record)
{
    fetch_result res = {.url = (char *)url};
    if (r->journal_fd < 0 || !url)
        return;
    char *own = NULL;
    const char *line = r->crawl && record
                           ? record
                           : (own = record_json(&res, NULL, NULL, NULL));
    if (!line || write_line(r->journal_fd, line)) {
        report_error(r->rep, "journal", line ? strerror(errno)
                                             : "out of memory");
        close(r->journal_fd);
        r->journal_fd = -1;
    }
    free(own);
}

/* Writes the record of a URL and accounts for it. */
static void emit(run *r, const run_outcome *oc, const char *line)
{
    if (oc->interrupted)
        return; /* abandoned: no record, so a rerun fetches it again */
    if (oc->error)
        report_error(r->rep, oc->url ? oc->url : "input", oc->error);
    if (r->jsonl_fd >= 0 && !r->out_error) {
        char *row = NULL;
        if (line && r->o->csv)
            row = record_csv(line, r->o->fields, r->o->n_fields);
        if (!line || (r->o->csv ? !row || write_all(r->jsonl_fd, row,
                                                    strlen(row))
                                : write_line(r->jsonl_fd, line))) {
            report_error(r->rep, r->o->jsonl,
                         line ? strerror(errno) : "out of memory");
            r->out_error = 1; /* reported once; the summary still counts */
        }
        free(row);
    }
    journal_line(r, oc->url, line);
    /* Records reach the disk at least once a second, so a crash loses at
     * most the last second of them (and a rerun refetches those URLs). */
    double now = fetch_now_ms();
    if (now - r->last_sync > 1000) {
        r->last_sync = now;
        if (r->jsonl_fd > 1)
            fdatasync(r->jsonl_fd);
        if (r->journal_fd >= 0)
            fdatasync(r->journal_fd);
    }
    if (oc->parse_ms > 0) {
        r->parse_ms += oc->parse_ms;
        r->parsed_bytes += oc->bytes;
        r->parsed++;
    }
    report_add(r->rep, !oc->error, oc->bytes, oc->total_ms);
    report_tick(r->rep);
}

void run_emit(run *r, const run_outcome *oc, const char *line)
{
    if (oc->url) {
        sched_done(r->sched, oc->url, oc->throttled);
        if (r->crawl)
            crawl_done(r->crawl, oc);
    }
    emit(r, oc, line);
}

void run_emit_failed(run *r, const char *url, const char *msg)
{
    fetch_result res = {0};
    run_outcome oc = {0};
    res.url = (char *)url;
    res.error = (char *)msg;
    char *line = record_json(&res, NULL, NULL, NULL);
    oc.url = url;
    oc.error = msg;
    emit(r, &oc, line);
    free(line);
}

void run_finish_xfer(run *r, fetch_xfer *x)
{
    run_outcome oc;
    char *line = run_process(r, fetch_xfer_result(x), &oc);
    run_emit(r, &oc, line);
    free(line);
    run_outcome_clear(&oc);
    fetch_xfer_free(x);
}

void *run_pack_record(const run_outcome *oc, const char *line, size_t *len)
{
    wire w = {0};
    wire_put_str(&w, oc->error);
    wire_put_u64(&w, oc->bytes);
    wire_put_f64(&w, oc->total_ms);
    wire_put_f64(&w, oc->parse_ms);
    wire_put_u64(&w, (uint64_t)oc->interrupted);
    wire_put_u64(&w, (uint64_t)oc->throttled);
    wire_put_u64(&w, oc->n_links);
    wire_put_u64(&w, oc->n_requisites);
    for (size_t i = 0; i < oc->n_links + oc->n_requisites; i++)
        wire_put_str(&w, oc->found[i]);
    wire_put_str(&w, line);
    if (w.failed) {
        wire_clear(&w);
        return NULL;
    }
    *len = w.len;
    return w.buf;
}

void run_emit_packed(run *r, const fetch_result *known, const void *reply,
                     size_t len, const char *died)
{
    run_outcome oc = {.url = known->url};
    char *line = NULL, *error = NULL;
    if (reply) {
        wire_rd rd = {reply, len, 0};
        error = wire_get_str(&rd);
        oc.bytes = wire_get_u64(&rd);
        oc.total_ms = wire_get_f64(&rd);
        oc.parse_ms = wire_get_f64(&rd);
        oc.interrupted = (int)wire_get_u64(&rd);
        oc.throttled = (int)wire_get_u64(&rd);
        uint64_t nl = wire_get_u64(&rd), nr = wire_get_u64(&rd);
        /* Each string takes at least its length prefix: a count larger
         * than the reply is malformed, not a reason to allocate. */
        if (!rd.failed && nl + nr > 0 && nl + nr <= len / 8 &&
            (oc.found = calloc(nl + nr, sizeof *oc.found))) {
            oc.n_links = nl;
            oc.n_requisites = nr;
            for (size_t i = 0; i < nl + nr; i++)
                oc.found[i] = wire_get_str(&rd);
        } else if (nl + nr > 0) {
            rd.failed = 1;
        }
        line = wire_get_str(&rd);
        if (rd.failed)
            died = "malformed reply from worker";
    } else if (!died) {
        died = "worker ran out of memory";
    }
    if (died && run_stopping(r)) {
        free(line);
        free(error);
        run_outcome_clear(&oc);
        return; /* killed because we are stopping: abandoned */
    }
    if (died) {
        run_outcome_clear(&oc);
        /* The worker's answer is lost: record what is known, as failed. */
        fetch_result res = *known;
        res.error = known->error ? known->error : (char *)died;
        res.body = NULL;
        free(line);
        line = record_json(&res, NULL, NULL, NULL);
        free(error);
        error = NULL;
        oc.error = res.error;
        oc.bytes = known->bytes;
        oc.total_ms = known->t.total;
    } else {
        oc.error = error;
    }
    run_emit(r, &oc, line);
    free(line);
    free(error);
    run_outcome_clear(&oc);
}
