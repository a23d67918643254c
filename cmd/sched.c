/* sched: per-host queues over a bounded read-ahead window. Hosts are few
 * next to URLs, so picking the next URL scans the hosts that have one
 * queued and takes the oldest that may start. */
#include "sched.h"
#include "../fetch/fetch.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PENALTY_MIN_MS 500.0
#define PENALTY_MAX_MS 30000.0
#define HOST_KEY_MAX 300

typedef struct item {
    sched_entry e;
    unsigned long long seq;     /* arrival order */
    struct item *next;
} item;

typedef struct host {
    char *key;                  /* owned */
    item *head, *tail;          /* owned; its queued URLs */
    long inflight;
    long cap;                   /* current concurrency cap; 0: none */
    double last_start;          /* ms; -1: never */
    double next_gap;            /* interval before its next start */
    double own_delay;           /* robots.txt Crawl-delay, ms */
    double penalty;             /* from 429 answers, ms */
    int seen;                   /* new_host was called */
    int held;                   /* sched_host_hold() until ready */
    struct host *chain;         /* hash chain */
    struct host *qnext;         /* in the list of hosts with URLs queued */
    int queued_listed;
} host;

struct sched {
    sched_opts o;
    host **buckets;             /* owned, with their hosts */
    size_t nbuckets, nhosts;
    host *with_queue;           /* hosts with URLs queued */
    size_t queued;
    long inflight;
    unsigned long long seq;
    int dry;                    /* the source said -1 since the last done */
    unsigned rnd;
    /* The key of the last plain scheme and authority seen (see
     * fetch_url_origin_len): a run's URLs mostly share one, and each key
     * would otherwise cost a URL parse, twice a URL. */
    char origin[HOST_KEY_MAX];
    size_t origin_len;
    char origin_key[HOST_KEY_MAX];
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static host *host_find(sched *s, const char *key, int create)
{
    if (create && s->nhosts >= s->nbuckets) {
        size_t nb = s->nbuckets ? s->nbuckets * 2 : 64;
        host **b = calloc(nb, sizeof *b);
        if (!b)
            return NULL;
        for (size_t i = 0; i < s->nbuckets; i++) {
            for (host *h = s->buckets[i], *n; h; h = n) {
                n = h->chain;
                size_t k = hash_str(h->key) & (nb - 1);
                h->chain = b[k];
                b[k] = h;
            }
        }
        free(s->buckets);
        s->buckets = b;
        s->nbuckets = nb;
    }
    if (!s->nbuckets)
        return NULL;
    size_t k = hash_str(key) & (s->nbuckets - 1);
    for (host *h = s->buckets[k]; h; h = h->chain)
        if (!strcmp(h->key, key))
            return h;
    if (!create)
        return NULL;
    host *h = calloc(1, sizeof *h);
    if (!h || !(h->key = strdup(key))) {
        free(h);
        return NULL;
    }
    h->cap = s->o.per_host;
    h->last_start = -1;
    h->chain = s->buckets[k];
    s->buckets[k] = h;
    s->nhosts++;
    return h;
}

/* The politeness key of url; "" when it has none (a malformed URL, which
 * fails as soon as it starts). It depends on url alone, so a URL's key is
 * the same when it is queued and when it is done. The result is in buf or
 * in s, and good until the next call. */
static const char *key_of(sched *s, const char *url, char *buf)
{
    size_t n = fetch_url_origin_len(url);
    if (n && n < sizeof s->origin) {
        if (n != s->origin_len || memcmp(s->origin, url, n)) {
            memcpy(s->origin, url, n);
            s->origin[n] = '\0';
            s->origin_len = n;
            if (fetch_url_host(s->origin, s->origin_key, HOST_KEY_MAX))
                s->origin_key[0] = '\0';
        }
        return s->origin_key;
    }
    if (fetch_url_host(url, buf, HOST_KEY_MAX))
        buf[0] = '\0';
    return buf;
}

sched *sched_new(const sched_opts *o)
{
    sched *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->o = *o;
    if (!s->o.window)
        s->o.window = 1024;
    s->rnd = 0x9e3779b9u;
    return s;
}

void sched_free(sched *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nbuckets; i++) {
        for (host *h = s->buckets[i], *n; h; h = n) {
            n = h->chain;
            for (item *it = h->head, *in; it; it = in) {
                in = it->next;
                free(it->e.url);
                free(it);
            }
            free(h->key);
            free(h);
        }
    }
    free(s->buckets);
    free(s);
}

static int enqueue(sched *s, sched_entry *e)
{
    char kb[HOST_KEY_MAX];
    host *h = host_find(s, key_of(s, e->url, kb), 1);
    item *it = h ? malloc(sizeof *it) : NULL;
    if (!it) {
        free(e->url);
        return -1;
    }
    it->e = *e;
    it->seq = s->seq++;
    it->next = NULL;
    if (h->tail)
        h->tail->next = it;
    else
        h->head = it;
    h->tail = it;
    if (!h->queued_listed) {
        h->qnext = s->with_queue;
        s->with_queue = h;
        h->queued_listed = 1;
    }
    s->queued++;
    return 0;
}

/* Reads ahead from the source while the window has room. Returns -1 when
 * out of memory. */
static int fill(sched *s)
{
    while (!s->dry && s->queued < s->o.window) {
        sched_entry e = {0};
        int block = s->queued == 0 && s->inflight == 0;
        int rc = s->o.pull(s->o.ctx, block, &e);
        if (rc == 0)
            break;
        if (rc < 0) {
            s->dry = 1;
            break;
        }
        if (enqueue(s, &e))
            return -1;
    }
    return 0;
}

static double gap_of(sched *s, const host *h)
{
    double g = (double)s->o.delay_ms;
    if (s->o.jitter_ms > 0) {
        s->rnd = s->rnd * 1103515245u + 12345u;
        g += (double)((s->rnd >> 8) % (unsigned)(s->o.jitter_ms + 1));
    }
    if (h->own_delay > g)
        g = h->own_delay;
    if (h->penalty > g)
        g = h->penalty;
    return g;
}

int sched_take(sched *s, double now, sched_entry *out, double *wait_ms)
{
    if (s->o.poll)
        s->o.poll(s->o.ctx);
    for (;;) {
        if (fill(s))
            return -2;
        host *best = NULL, **prev = &s->with_queue;
        double wait = -1;
        for (host *h = s->with_queue; h;) {
            if (!h->head) { /* emptied: leave the list */
                *prev = h->qnext;
                h->queued_listed = 0;
                h = *prev;
                continue;
            }
            if (!h->held && (!h->cap || h->inflight < h->cap)) {
                double ready = h->last_start < 0 ? now
                                                 : h->last_start + h->next_gap;
                if (ready <= now) {
                    if (!best || h->head->seq < best->head->seq)
                        best = h;
                } else if (wait < 0 || ready - now < wait) {
                    wait = ready - now;
                }
            }
            prev = &h->qnext;
            h = h->qnext;
        }
        if (!best) {
            if (s->queued == 0 && s->inflight == 0 && s->dry)
                return -1;
            *wait_ms = wait;
            return 0;
        }
        if (!best->seen) {
            best->seen = 1;
            if (s->o.new_host)
                s->o.new_host(s->o.ctx, best->key, best->head->e.url);
            if (best->held)
                continue; /* its URL stays first in its queue */
        }
        item *it = best->head;
        if (!(best->head = it->next))
            best->tail = NULL;
        s->queued--;
        *out = it->e;
        free(it);
        if (s->o.admit && !s->o.admit(s->o.ctx, best->key, out)) {
            free(out->url);
            out->url = NULL;
            continue;
        }
        best->inflight++;
        s->inflight++;
        best->last_start = now;
        best->next_gap = gap_of(s, best);
        return 1;
    }
}

void sched_done(sched *s, const char *url, int throttled)
{
    char kb[HOST_KEY_MAX];
    host *h = host_find(s, key_of(s, url, kb), 0);
    s->inflight--;
    s->dry = 0; /* a crawl may have found more */
    if (!h)
        return;
    h->inflight--;
    if (throttled > 0) {
        h->penalty = h->penalty ? h->penalty * 2 : PENALTY_MIN_MS;
        if (h->penalty > PENALTY_MAX_MS)
            h->penalty = PENALTY_MAX_MS;
        long c = h->cap ? h->cap : h->inflight + 1;
        h->cap = c > 1 ? c / 2 : 1;
    } else {
        h->penalty /= 2;
        if (h->penalty < PENALTY_MIN_MS / 8)
            h->penalty = 0;
        /* Back to the configured cap (none without --per-host) once the
         * host has recovered. */
        if (h->cap && ++h->cap > (s->o.per_host ? s->o.per_host : 64))
            h->cap = s->o.per_host;
    }
    if (h->next_gap < h->penalty)
        h->next_gap = h->penalty;
}

void sched_host_delay(sched *s, const char *host_key, double ms)
{
    host *h = host_find(s, host_key, 1);
    if (h) {
        h->own_delay = ms;
        if (h->next_gap < ms)
            h->next_gap = ms;
    }
}

void sched_host_hold(sched *s, const char *host_key)
{
    host *h = host_find(s, host_key, 1);
    if (h)
        h->held = 1;
}

void sched_host_ready(sched *s, const char *host_key)
{
    host *h = host_find(s, host_key, 0);
    if (h)
        h->held = 0;
    /* Whoever held it may have found more URLs meanwhile (a crawl's
     * sitemaps): ask the source again, even if no transfer ever ends. */
    s->dry = 0;
}

long sched_inflight(const sched *s)
{
    return s->inflight;
}

size_t sched_queued(const sched *s)
{
    return s->queued;
}
