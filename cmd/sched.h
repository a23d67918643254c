/* sched: politeness between the URL source and the modes. URLs are read
 * ahead into a bounded window, queued per host ("host:port"), and handed
 * out oldest first among the hosts that may start one now: fewer than
 * --per-host transfers in flight, and --delay (plus --jitter, a robots.txt
 * Crawl-delay, a 429 penalty) since its last start.
 *
 * A 429 answer halves the host's concurrency and doubles its penalty
 * delay (from 500 ms up to 30 s); each answer without one adds one back
 * to the concurrency and halves the penalty, as TCP does with its window.
 *
 * A host may be held (sched_host_hold(), typically from new_host while its
 * robots.txt is read elsewhere): its URLs stay queued, in order, and the
 * other hosts go on, until sched_host_ready().
 *
 * Ownership: a sched owns the entries in its window; an entry handed out
 * by sched_take() belongs to the caller. One thread at a time.
 */
#ifndef GATHER_SCHED_H
#define GATHER_SCHED_H

#include <stddef.h>

typedef struct sched_entry {
    char *url;      /* owned */
    int depth;      /* link depth from a seed (crawl); 0 for get */
    int requisite;  /* an embedded resource (crawl --requisites) */
    int seed;       /* named on the command line */
} sched_entry;

/* Where URLs come from. Returns 1 and *out (url malloced), 0 when there is
 * none now (only when !block: the caller may ask again later), or -1 when
 * there will be none until sched_done() or sched_host_ready() is called
 * again (or ever).
 * block is set when nothing is queued or in flight, so a blocking read
 * stalls nothing. */
typedef int (*sched_pull_fn)(void *ctx, int block, sched_entry *out);

/* Called once per host, before its first URL is handed out, with the
 * host key ("host:port") and that URL. For robots.txt: it may hold the
 * host (sched_host_hold()) and start reading it elsewhere; or read it now,
 * then call sched_host_delay(). */
typedef void (*sched_host_fn)(void *ctx, const char *host, const char *url);

/* Called at the start of every sched_take(), on its thread: the place to
 * apply work that finished elsewhere (sched_host_ready(),
 * sched_host_delay()). */
typedef void (*sched_poll_fn)(void *ctx);

/* Called for each URL before it is handed out; returns 1 to hand it out,
 * 0 to drop it (the callee has recorded or counted it). */
typedef int (*sched_admit_fn)(void *ctx, const char *host,
                              const sched_entry *e);

typedef struct sched_opts {
    long per_host;     /* transfers in flight per host; 0: no cap */
    long delay_ms;     /* minimum interval between starts per host */
    long jitter_ms;    /* plus up to this much at random */
    size_t window;     /* URLs read ahead; 0: 1024 */
    sched_pull_fn pull;
    sched_host_fn new_host;   /* NULL: none */
    sched_admit_fn admit;     /* NULL: admit every URL */
    sched_poll_fn poll;       /* NULL: none */
    void *ctx;
} sched_opts;

typedef struct sched sched;

/* NULL when out of memory. o is copied. */
sched *sched_new(const sched_opts *o);
void sched_free(sched *s);

/* The next URL to start at time now (ms): returns 1 and *out, which the
 * caller owns; 0 when none may start yet, with *wait_ms the time until one
 * may (-1: not before a transfer ends or a held host is released, whose
 * holder must then have the caller ask again); -1 at the end: nothing
 * queued or in flight, and the source is dry; -2 when out of memory. */
int sched_take(sched *s, double now, sched_entry *out, double *wait_ms);

/* A URL handed out has finished; throttled counts its 429 answers. */
void sched_done(sched *s, const char *url, int throttled);

/* Sets a host's own minimum interval (a robots.txt Crawl-delay). */
void sched_host_delay(sched *s, const char *host, double ms);

/* Holds a host (with URLs queued or not yet): none of its URLs is handed
 * out until sched_host_ready() releases it. */
void sched_host_hold(sched *s, const char *host);
void sched_host_ready(sched *s, const char *host);

/* URLs handed out and not yet done. */
long sched_inflight(const sched *s);

/* URLs in the window. */
size_t sched_queued(const sched *s);

#endif
