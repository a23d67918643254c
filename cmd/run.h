/* run: one invocation of gather get: its options, its inputs and outputs,
 * and the steps every mode shares (next URL, parse + record, emit). A mode
 * is a way of driving these steps; see modes.h.
 *
 * Ownership: a run owns its URL reader, record file and report. run_next()
 * and run_emit() belong to one thread (the one that writes records);
 * run_process() is safe on any thread or process.
 */
#ifndef GATHER_RUN_H
#define GATHER_RUN_H

#include "../fetch/fetch.h"
#include "../parse/parse.h"
#include "journal.h"
#include "report.h"
#include "sched.h"
#include "urllist.h"

#include <stdint.h>

/* Options of get (and of every run compare makes). Zero is the default. */
typedef struct gather_opts {
    const char *input;        /* borrowed; URL list path, "-": stdin */
    char **urls;              /* borrowed; URLs from the command line */
    int n_urls;
    const char *mode;         /* borrowed; "async" when NULL */
    long jobs;                /* concurrent transfers; 0: 16 */
    long procs;               /* parse workers; 0: number of cores */
    const char *outdir;       /* borrowed; NULL: bodies are not saved */
    const char *jsonl;        /* borrowed; records file, "-": stdout */
    const char *stats;        /* borrowed; summary JSON file */
    int no_parse;
    int progress;             /* 1: force, -1: never, 0: if stderr is a tty */
    int summary;              /* 1: force, -1: never, 0: if stderr is a tty */
    long connect_timeout_ms;
    long timeout_ms;
    long max_redirs;          /* 0: 10; -1: none */
    size_t max_parse_bytes;   /* 0: 32 MiB */
    long parse_timeout_ms;    /* CPU (and wall) limit per parse; 0: 30 s */
    long parse_mem_mb;        /* memory limit of a worker process; 0: 1024 */
    const char *user_agent;   /* borrowed */
    long retries;             /* 0: 3; -1: none */
    long retry_delay_ms;      /* first backoff; 0: 500 */
    long max_retry_wait_ms;   /* 0: 60000 */
    long stall_timeout_ms;    /* 0: 120000 */
    uint64_t max_filesize;    /* 0: no limit */
    int overwrite, fsync, resume;
    int restart;              /* ignore (and truncate) the journal */
    const atomic_int *stop; /* borrowed; nonzero once the run must stop */
    parse_field *fields;      /* owned by the caller; --field NAME=EXPR */
    size_t n_fields;
    const char **headers;     /* owned by the caller, strings borrowed;
                                 -H "Name: value" */
    size_t n_headers;
    const char *cookie_jar;   /* borrowed; NULL: no cookies */
    const char *proxy;        /* borrowed; NULL: the environment's */
    uint64_t limit_rate;      /* bytes/s per transfer; 0: no limit */
    int http2_prior_knowledge;
    const char *cacert;       /* borrowed; CA certificates (PEM) to verify
                                 https:// servers with; NULL: the system's */
    int insecure;             /* -k: no verification of https:// servers */
    long per_host;            /* transfers in flight per host; 0: no cap */
    long delay_ms;            /* minimum interval between starts per host */
    long jitter_ms;           /* plus up to this much at random */
    int csv;                  /* records as CSV rows, not JSON lines */
    const char *since;        /* borrowed; records of an earlier run */
    /* crawl only (crawl set) */
    int crawl;
    long depth;               /* link depth; 0: 5; -1: seeds only */
    int requisites;           /* also fetch images and embedded resources */
    char **domains;           /* owned by the caller; NULL: the seeds' hosts */
    size_t n_domains;
    char **include, **exclude;/* owned by the caller; extended regexes */
    size_t n_include, n_exclude;
    long max_pages;           /* 0: no limit */
    int no_robots;
    char **sitemaps;          /* owned by the caller; --sitemap URLs */
    size_t n_sitemaps;
    int sort_query;           /* normalisation sorts query parameters */
} gather_opts;

struct crawl;

typedef struct run {
    const gather_opts *o;     /* borrowed */
    fetch_opts fo;
    parse_opts po;
    urllist *in;              /* owned; NULL with command-line URLs only */
    int next_arg;             /* next command-line URL */
    sched *sched;             /* owned; politeness between input and modes */
    struct crawl *crawl;      /* owned; NULL unless crawling */
    sched_entry cur;          /* owned; the URL run_take() handed out last */
    double wait_ms;           /* from run_take(): when a URL may start */
    int jsonl_fd;             /* owned unless 1 (stdout); -1: none */
    journal *jr;              /* owned; URLs recorded by earlier runs */
    journal *since;           /* owned; --since: the records compared with */
    int journal_fd;           /* owned; a separate journal file, or -1 */
    double last_sync;         /* when the records were last fsync'd */
    long limit;               /* run_next() ends after this many URLs
                                 (the probe of --mode auto); 0: no limit */
    long taken;               /* URLs handed out by run_next() */
    double parse_ms;          /* parse time of the URLs emitted so far */
    uint64_t parsed_bytes;    /* bytes of the pages parsed so far */
    long parsed;              /* pages parsed so far */
    report *rep;              /* owned */
    int out_error;            /* writing records (or the cookie jar) failed */
    fetch_url_memo *links;    /* owned; the resolutions of links already
                                 seen (po.resolve_ctx points to it) */
    fetch_share *cookies;     /* owned; with --cookie-jar, the cookie store
                                 every transfer of the run shares (fo.share
                                 points to it) */
    int jar_frozen;           /* the run's cookies never reach this process
                                 (procs), so the jar is left as it was */
    int wake_fd;              /* owned; an eventfd run_wake() makes
                                 readable */
} run;

/* True once a signal asked the run to stop: no new URL is started, and
 * URLs cut short are abandoned without a record (a rerun fetches them). */
int run_stopping(const run *r);

/* What run_emit() needs of a finished URL besides its record line. */
typedef struct run_outcome {
    const char *url;    /* borrowed; NULL for a bad input line */
    const char *error;  /* borrowed; NULL on success */
    uint64_t bytes;
    double total_ms;
    int interrupted;    /* cut short by a stop: abandoned, not recorded */
    double parse_ms;    /* time spent parsing; 0 when not parsed */
    int throttled;      /* 429 answers seen */
    char **found;       /* owned; crawl only: the page's links, then its
                           requisites, images and assets (absolute
                           URLs); NULL when none */
    size_t n_links, n_requisites;
} run_outcome;

/* Releases what oc owns (the links found). */
void run_outcome_clear(run_outcome *oc);

/* Opens the inputs and outputs of o, and with a cookie jar, loads it into
 * the run's cookie store. Returns 0, or -1 with a message in err (an
 * unreadable list or jar, an unwritable output). */
int run_open(run *r, const gather_opts *o, char *err, size_t errlen);

/* Writes the cookie jar back (a failure is reported and sets out_error)
 * and closes what run_open() opened. */
void run_close(run *r);

/* The input step of every mode: the next URL to start. Returns 1 and
 * *url (valid until the next call), or 0 when there is none: at the end
 * (*eof set: input read, nothing queued or in flight, or stopping), or
 * none yet (politeness, or a list that has no new line): then the mode
 * waits for a transfer to end, at most run_poll_ms(). Bad input lines are
 * recorded on the way. Reads the list without blocking while URLs are in
 * flight. */
int run_take(run *r, const char **url, int *eof);

/* cap, or less when a URL may start sooner (a host's --delay). */
int run_poll_ms(const run *r, int cap);

/* Wakes the mode's thread where it waits after a run_take() that gave no
 * URL: the crawl calls it from its background threads once robots.txt or
 * a sitemap is read, since only the next run_take() can release the host
 * held for it. Any thread. */
void run_wake(run *r);

/* The descriptor run_wake() makes readable (an eventfd), for modes that
 * wait in epoll: the loop or pool that watches it empties it before the
 * mode calls run_take() again. */
int run_wake_fd(const run *r);

/* For modes with no epoll to watch it in: waits at most ms for
 * run_wake(), then empties its descriptor. */
void run_wait_wake(run *r, int ms);

/* The start step of the loop modes: a transfer of url on loop, or, when it
 * cannot start (a bad URL), its record at once. Returns 0, or -1 when out
 * of memory. */
int run_start_on_loop(run *r, fetch_loop *loop, const char *url);

/* Parses res's body when it is HTML and parsing is on, then builds its
 * record. Returns the malloced record line (NULL when out of memory) and
 * fills *oc (borrowing from res). Safe on any thread or process. */
char *run_process(const run *r, fetch_result *res, run_outcome *oc);

/* Writes a record line and accounts for it. A URL that was interrupted
 * (oc->interrupted) gets no record. */
void run_emit(run *r, const run_outcome *oc, const char *line);

/* Records a URL that was never handed out (url NULL: a bad input line)
 * as failed with msg. */
void run_emit_failed(run *r, const char *url, const char *msg);

/* For records built in worker processes: the worker packs its outcome and
 * line into a malloced reply (length in *len; NULL when out of memory) and
 * the parent emits it. When the worker died instead (reply NULL), the
 * parent records what it knows of the URL (known, at least its url) as
 * failed with the message died. */
void *run_pack_record(const run_outcome *oc, const char *line, size_t *len);
void run_emit_packed(run *r, const fetch_result *known, const void *reply,
                     size_t len, const char *died);

/* The shared step for modes that parse where they fetch: process, emit
 * and release the transfer. */
void run_finish_xfer(run *r, fetch_xfer *x);

#endif
