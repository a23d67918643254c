/* crawl: frontier, scope, dedup and robots.txt for gather crawl. The
 * frontier is a FIFO of three parts: a head buffer in memory, a spill
 * file, and a tail buffer in memory; entries only ever move head-ward, so
 * breadth-first order survives the spill. */
#define _GNU_SOURCE
#include "crawl.h"
#include "fpset.h"
#include "record.h"

#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define HOST_MAX 300
#define SITEMAPS_MAX 1000       /* sitemap files fetched per crawl */
#define ROBOTS_DELAY_MAX 60.0   /* seconds; a longer Crawl-delay is capped */
#define ROBOTS_THREADS 8        /* robots.txt (or sitemaps) read at once */

typedef struct buf {
    sched_entry *v;             /* owned, with their URLs */
    size_t i, n;                /* entries v[i..n) are queued */
} buf;

typedef struct robots_entry {
    parse_robots *rules;        /* owned; NULL: allow all */
    int deny_all;               /* 5xx or unreachable (RFC 9309) */
    char *why;                  /* owned; the reason when deny_all */
} robots_entry;

/* Sitemaps to read: a stack, so that an index's sitemaps are read before
 * the files after it, as they come. */
typedef struct maps {
    struct map_item {
        char *url;              /* owned */
        int level;              /* 0, or how deep in indexes */
    } *v;                       /* owned */
    size_t n, cap;
} maps;

/* A host sched holds while its robots.txt, then the sitemaps it names,
 * are read on a background thread, one after another as a polite client
 * reads them; the crawl's thread applies each as it arrives. */
typedef struct waiting {
    char *host;                 /* owned; sched's key */
    size_t robots;              /* its entry in crawl.robots */
    char *url;                  /* owned; the file being read */
    int level;                  /* that sitemap's; -1: the robots.txt */
    maps todo;                  /* owned; sitemaps still to read */
    struct waiting *next;
} waiting;

struct crawl {
    run *r;                     /* borrowed */
    sched *s;                   /* borrowed */
    long max_depth;
    fpset *seen;                /* owned; every URL ever judged, normalised */
    fpset *seen_raw;            /* owned; every link as the page gave it */
    fpset *flying;              /* owned; handed out: depth*2 + requisite */
    buf head, tail;             /* owned; mem_queue entries each */
    size_t mem_queue;
    FILE *spill;                /* owned; NULL until the first spill */
    off_t spill_rd;             /* read offset into spill */
    size_t spilled;             /* entries in the spill file */
    char **seed_hosts;          /* owned; host names of the seeds */
    size_t n_seed_hosts;
    regex_t *inc, *exc;         /* owned; compiled --include/--exclude */
    fpset *robots_of;           /* owned; host key -> index in robots */
    robots_entry *robots;       /* owned */
    size_t n_robots;
    fetch_bg *bg;               /* owned; reads robots.txt, sitemaps */
    fetch_opts robots_fo, sitemap_fo; /* their options */
    waiting *waiting;           /* owned; the hosts held for them */
    long admitted;              /* URLs handed out */
    long sitemaps_fetched;
    /* what happened to the URLs found */
    long found, queued, dup, out_of_scope, too_deep, disallowed, over_max,
        from_sitemaps, queue_peak;
};

/* ---- the frontier ---- */

static size_t frontier_len(const crawl *c)
{
    return c->head.n - c->head.i + c->spilled + c->tail.n - c->tail.i;
}

/* Moves the tail buffer to the end of the spill file. */
static int spill_tail(crawl *c)
{
    if (!c->spill && !(c->spill = tmpfile()))
        return -1;
    if (fseeko(c->spill, 0, SEEK_END))
        return -1;
    for (size_t k = c->tail.i; k < c->tail.n; k++) {
        sched_entry *e = &c->tail.v[k];
        if (fprintf(c->spill, "%d %d %d %s\n", e->depth, e->requisite,
                    e->seed, e->url) < 0)
            return -1;
        free(e->url);
        c->spilled++;
    }
    c->tail.i = c->tail.n = 0;
    return fflush(c->spill) ? -1 : 0;
}

/* Refills the head buffer from the spill file, else from the tail. */
static void refill_head(crawl *c)
{
    c->head.i = c->head.n = 0;
    if (c->spilled) {
        char *line = NULL;
        size_t cap = 0;
        if (fseeko(c->spill, c->spill_rd, SEEK_SET))
            return;
        while (c->spilled && c->head.n < c->mem_queue) {
            ssize_t n = getline(&line, &cap, c->spill);
            if (n <= 0)
                break;
            c->spill_rd += n;
            c->spilled--;
            line[n - 1] = '\0';
            sched_entry e = {0};
            int off = 0;
            if (sscanf(line, "%d %d %d %n", &e.depth, &e.requisite, &e.seed,
                       &off) < 3 ||
                !(e.url = strdup(line + off)))
                continue;
            c->head.v[c->head.n++] = e;
        }
        free(line);
        if (!c->spilled) { /* drained: start the file over */
            c->spill_rd = 0;
            if (ftruncate(fileno(c->spill), 0) == 0)
                rewind(c->spill);
        }
        return;
    }
    /* Nothing spilled: the tail is next in line. */
    buf t = c->head;
    c->head = c->tail;
    c->tail = t;
}

static int frontier_push(crawl *c, const char *url, int depth, int requisite,
                         int seed)
{
    if (c->tail.n == c->mem_queue) {
        if (c->tail.i > 0) { /* compact first */
            memmove(c->tail.v, c->tail.v + c->tail.i,
                    (c->tail.n - c->tail.i) * sizeof *c->tail.v);
            c->tail.n -= c->tail.i;
            c->tail.i = 0;
        } else if (spill_tail(c)) {
            return -1;
        }
    }
    char *u = strdup(url);
    if (!u)
        return -1;
    c->tail.v[c->tail.n++] = (sched_entry){u, depth, requisite, seed};
    size_t len = frontier_len(c);
    if ((long)len > c->queue_peak)
        c->queue_peak = (long)len;
    return 0;
}

static int frontier_pop(crawl *c, sched_entry *out)
{
    if (c->head.i == c->head.n)
        refill_head(c);
    if (c->head.i == c->head.n)
        return 0;
    *out = c->head.v[c->head.i++];
    return 1;
}

static void buf_clear(buf *b)
{
    for (size_t k = b->i; k < b->n; k++)
        free(b->v[k].url);
    free(b->v);
}

/* ---- scope ---- */

/* The host name of a normalised URL ("scheme://host[:port]/..."), in buf. */
static const char *host_name(const char *url, char *buf, size_t cap)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    size_t n = strcspn(p, "/?#");
    if (*p == '[') { /* IPv6: up to the bracket */
        const char *e = memchr(p, ']', n);
        n = e ? (size_t)(e - p) + 1 : n;
    } else {
        const char *colon = memchr(p, ':', n);
        if (colon)
            n = (size_t)(colon - p);
    }
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    return buf;
}

/* True when host is domain or a subdomain of it. */
static int in_domain(const char *host, const char *domain)
{
    size_t hl = strlen(host), dl = strlen(domain);
    if (dl && domain[0] == '.')
        domain++, dl--;
    if (hl < dl || strcasecmp(host + hl - dl, domain))
        return 0;
    return hl == dl || host[hl - dl - 1] == '.';
}

static int in_scope(const crawl *c, const char *url)
{
    char h[HOST_MAX];
    host_name(url, h, sizeof h);
    const gather_opts *o = c->r->o;
    int ok = 0;
    if (o->n_domains) {
        for (size_t i = 0; i < o->n_domains && !ok; i++)
            ok = in_domain(h, o->domains[i]);
    } else {
        for (size_t i = 0; i < c->n_seed_hosts && !ok; i++)
            ok = !strcasecmp(h, c->seed_hosts[i]);
    }
    if (!ok)
        return 0;
    if (o->n_include) {
        ok = 0;
        for (size_t i = 0; i < o->n_include && !ok; i++)
            ok = !regexec(&c->inc[i], url, 0, NULL, 0);
        if (!ok)
            return 0;
    }
    for (size_t i = 0; i < o->n_exclude; i++)
        if (!regexec(&c->exc[i], url, 0, NULL, 0))
            return 0;
    return 1;
}

/* Queues url, found at depth (a requisite keeps its page's depth), when it
 * is new and in scope. Seeds skip the scope check. */
static void consider(crawl *c, const char *raw, int depth, int requisite,
                     int seed)
{
    char *url = NULL;
    c->found++;
    if (!seed && !requisite && depth > c->max_depth) {
        c->too_deep++;
        return;
    }
    /* A link spelled exactly as one judged before needs no normalising
     * (a URL parse and rebuild): most links are repeats. */
    int fresh = fpset_add(c->seen_raw, fpset_key(raw), 0);
    if (fresh == 0) {
        c->dup++;
        return;
    }
    if (fetch_url_normalize(raw, c->r->o->sort_query, &url))
        return; /* not http(s), or malformed: the parser kept it anyway */
    /* Seen before (most links are): no scope check again. A URL out of
     * scope joins the set too, so it is judged once. */
    int added = fpset_add(c->seen, fpset_key(url), 0);
    if (added == 0)
        c->dup++;
    else if (added > 0 && !seed && !in_scope(c, url))
        c->out_of_scope++;
    else if (added < 0 || frontier_push(c, url, depth, requisite, seed))
        report_error(c->r->rep, "crawl", "out of memory: URL dropped");
    else
        c->queued++;
    free(url);
}

/* ---- robots.txt and sitemaps ---- */

/* The options of a fetch aside (robots.txt, a sitemap): into memory, up
 * to max bytes, not saved and not recorded. */
static fetch_opts aside_opts(const crawl *c, size_t max)
{
    fetch_opts fo = c->r->fo;
    fo.outdir = NULL;
    fo.writer = NULL;
    fo.share = NULL;
    fo.resume = 0;
    fo.keep_body_max = max;
    fo.keep_any = 1;
    fo.max_filesize = 0;
    return fo;
}

/* Puts urls[0..n) on m at level, to be read in that order (m is a stack).
 * Returns -1 when out of memory. */
static int maps_push(maps *m, const char *const *urls, size_t n, int level)
{
    for (size_t i = n; i-- > 0;) {
        if (m->n == m->cap) {
            size_t cap = m->cap ? m->cap * 2 : 8;
            struct map_item *v = realloc(m->v, cap * sizeof *v);
            if (!v)
                return -1;
            m->v = v;
            m->cap = cap;
        }
        char *u = strdup(urls[i]);
        if (!u)
            return -1;
        m->v[m->n++] = (struct map_item){u, level};
    }
    return 0;
}

static void maps_clear(maps *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->v[i].url);
    free(m->v);
}

static void waiting_free(waiting *w)
{
    if (!w)
        return;
    free(w->host);
    free(w->url);
    maps_clear(&w->todo);
    free(w);
}

/* Takes the next sitemap of m that may still be read (SITEMAPS_MAX per
 * crawl, indexes 3 levels deep), counted as fetched: its URL (the caller
 * frees it) and *level; NULL when none is left. */
static char *maps_next(crawl *c, maps *m, int *level)
{
    while (m->n) {
        struct map_item e = m->v[--m->n];
        if (c->sitemaps_fetched < SITEMAPS_MAX && e.level <= 3) {
            c->sitemaps_fetched++;
            *level = e.level;
            return e.url;
        }
        free(e.url);
    }
    return NULL;
}

/* Collects the <loc>s of a sitemap: whether they are pages or more
 * sitemaps is known only once the root element has been read. */
static int on_sitemap_loc(void *ctx, const char *loc)
{
    char *s = strdup(loc);
    if (!s || parse_strv_push(ctx, s)) {
        free(s);
        return 1;
    }
    return 0;
}

/* Reads the sitemap fetched from url in x (NULL: out of memory): its
 * pages go to the frontier as depth 0 (like seeds, but kept to scope);
 * the sitemaps of an index go on todo, one level down, to be read next.
 * Frees x. */
static void sitemap_read(crawl *c, const char *url, int level, fetch_xfer *x,
                         maps *todo)
{
    char err[256];
    fetch_result *res = x ? fetch_xfer_result(x) : NULL;
    if (!res || res->error || res->status != 200 || !res->body) {
        char msg[300];
        snprintf(msg, sizeof msg, "sitemap not read: %s",
                 !res ? "out of memory"
                 : res->error ? res->error
                 : res->status != 200 ? "HTTP status not 200" : "empty");
        report_error(c->r->rep, url, msg);
        fetch_xfer_free(x);
        return;
    }
    parse_strv locs = {0};
    int index = 0;
    int rc = parse_sitemap((const char *)res->body, res->body_len,
                           on_sitemap_loc, &locs, &index, err, sizeof err);
    if (rc)
        report_error(c->r->rep, url, err);
    fetch_xfer_free(x);
    if (index && maps_push(todo, (const char *const *)locs.v, locs.n,
                           level + 1))
        report_error(c->r->rep, url, "out of memory: sitemaps dropped");
    for (size_t i = 0; i < locs.n && !index; i++) {
        long before = c->queued;
        consider(c, locs.v[i], 0, 0, 0);
        c->from_sitemaps += c->queued - before;
    }
    parse_strv_clear(&locs);
}

/* Reads the sitemaps on todo, and those their indexes name, here, one
 * after another: for --sitemap, before the first URL starts, when nothing
 * else is running to wait for them. */
static void read_sitemaps_now(crawl *c, maps *todo)
{
    int level;
    char *url;
    while ((url = maps_next(c, todo, &level))) {
        fetch_xfer *x = fetch_xfer_new(&c->sitemap_fo, url);
        if (x && !fetch_xfer_done(x))
            fetch_xfer_perform(x);
        sitemap_read(c, url, level, x, todo);
        free(url);
    }
}

static const robots_entry *robots_for(const crawl *c, const char *host)
{
    uint64_t idx;
    if (!fpset_get(c->robots_of, fpset_key(host), &idx))
        return NULL;
    return &c->robots[idx];
}

/* Applies w's robots.txt, fetched in x (NULL: out of memory), as RFC 9309
 * asks (2xx: its rules; 4xx: none; 5xx or no answer: nothing allowed),
 * then its Crawl-delay; its Sitemap lines go on w's list. Frees x. */
static void robots_read(crawl *c, waiting *w, fetch_xfer *x)
{
    robots_entry *e = &c->robots[w->robots];
    fetch_result *res = x ? fetch_xfer_result(x) : NULL;
    char why[300] = "";
    if (!res)
        snprintf(why, sizeof why, "out of memory");
    else if (res->interrupted)
        snprintf(why, sizeof why, "interrupted");
    else if (res->error && !res->status)
        snprintf(why, sizeof why, "%s", res->error);
    else if (res->status >= 500)
        snprintf(why, sizeof why, "HTTP %ld", res->status);
    else if (res->status >= 200 && res->status < 300 && !res->error)
        e->rules = parse_robots_new(res->body ? (const char *)res->body : "",
                                    res->body_len, c->r->fo.user_agent
                                                       ? c->r->fo.user_agent
                                                       : "gather");
    /* Anything else (4xx, a redirect loop): no rules, all allowed. */
    if (why[0]) {
        char msg[400];
        e->deny_all = 1;
        snprintf(msg, sizeof msg, "robots.txt unavailable (%s): the host "
                                  "is skipped, as RFC 9309 asks", why);
        e->why = strdup(msg);
        report_error(c->r->rep, w->url, msg);
    }
    fetch_xfer_free(x);
    double delay = parse_robots_crawl_delay(e->rules);
    if (delay > 0)
        sched_host_delay(c->s, w->host,
                         1000 * (delay > ROBOTS_DELAY_MAX ? ROBOTS_DELAY_MAX
                                                          : delay));
    const char *const *maps;
    size_t n = parse_robots_sitemaps(e->rules, &maps);
    if (maps_push(&w->todo, maps, n, 0))
        report_error(c->r->rep, w->url, "out of memory: sitemaps dropped");
}

/* Starts the fetch of w->url on a background thread. Returns 1, or 0 when
 * it cannot start: *x is then NULL (out of memory) or failed, for
 * host_fetched() to apply at once. */
static int host_start(crawl *c, waiting *w, fetch_xfer **x)
{
    *x = fetch_xfer_new(w->level < 0 ? &c->robots_fo : &c->sitemap_fo,
                        w->url);
    if (*x && !fetch_bg_add(c->bg, *x, w))
        return 1;
    if (*x)
        fetch_xfer_fail(*x, "out of memory");
    return 0;
}

/* Applies x, w's fetch that finished, and starts its next one; when none
 * is left, releases the host and forgets w. */
static void host_fetched(crawl *c, waiting *w, fetch_xfer *x)
{
    do {
        if (w->level < 0)
            robots_read(c, w, x);
        else
            sitemap_read(c, w->url, w->level, x, &w->todo);
        free(w->url);
        if (!(w->url = maps_next(c, &w->todo, &w->level))) {
            sched_host_ready(c->s, w->host);
            waiting **p = &c->waiting;
            while (*p != w)
                p = &(*p)->next;
            *p = w->next;
            waiting_free(w);
            return;
        }
    } while (!host_start(c, w, &x));
}

/* sched's new_host: holds the host while its robots.txt, then the sitemaps
 * it names, are read on a background thread; on_poll() applies them. */
static void on_new_host(void *ctx, const char *host, const char *url)
{
    crawl *c = ctx;
    if (c->r->o->no_robots)
        return;
    robots_entry *v = realloc(c->robots, (c->n_robots + 1) * sizeof *v);
    waiting *w = calloc(1, sizeof *w);
    char *rurl = NULL;
    fetch_url_resolve(url, "/robots.txt", &rurl);
    if (v)
        c->robots = v;
    if (!v || !w || !rurl || !(w->host = strdup(host)) ||
        fpset_add(c->robots_of, fpset_key(host), c->n_robots) < 0) {
        free(rurl);
        waiting_free(w);
        report_error(c->r->rep, host, "out of memory reading robots.txt");
        return;
    }
    w->robots = c->n_robots++;
    memset(&c->robots[w->robots], 0, sizeof *c->robots);
    w->url = rurl;
    w->level = -1;
    w->next = c->waiting;
    c->waiting = w;
    sched_host_hold(c->s, host);
    fetch_xfer *x;
    if (!host_start(c, w, &x))
        host_fetched(c, w, x);
}

/* sched's poll: applies the fetches aside that finished. A sitemap's
 * URLs join the frontier here, and sched reads them once a transfer ends,
 * as it does a page's links (sched_done()). */
static void on_poll(void *ctx)
{
    crawl *c = ctx;
    void *tag;
    fetch_xfer *x;
    while ((x = fetch_bg_take(c->bg, &tag)))
        host_fetched(c, tag, x);
}

/* sched's admit: robots.txt rules and --max-pages. */
static int on_admit(void *ctx, const char *host, const sched_entry *en)
{
    crawl *c = ctx;
    const robots_entry *e = robots_for(c, host);
    char *path = NULL;
    /* Only rules need the path (a URL parse): most sites have none. */
    int allowed = !e || (!e->deny_all &&
                         (parse_robots_allows_all(e->rules) ||
                          (!fetch_url_path(en->url, &path) &&
                           parse_robots_allowed(e->rules, path))));
    free(path);
    if (!allowed) {
        c->disallowed++;
        if (en->seed)
            /* A seed the user named: say why it was not fetched. */
            run_emit_failed(c->r, en->url, e->deny_all && e->why
                                               ? e->why
                                               : "disallowed by robots.txt");
        return 0;
    }
    if (c->r->o->max_pages && c->admitted >= c->r->o->max_pages) {
        c->over_max++;
        return 0;
    }
    /* Handed out from here: crawl_done() needs its depth back. */
    uint64_t v = (uint64_t)en->depth * 2 + (en->requisite ? 1 : 0);
    if (fpset_add(c->flying, fpset_key(en->url), v) < 0) {
        report_error(c->r->rep, en->url, "out of memory: URL dropped");
        c->r->out_error = 1;
        return 0;
    }
    c->admitted++;
    return 1;
}

/* Queues what a page at depth found: its links one deeper, its
 * requisites (images and assets; with --requisites) at its own depth.
 * NULL entries (a reply cut short) are skipped. */
static void queue_found(crawl *c, char *const *found, size_t nl, size_t nr,
                        int depth)
{
    for (size_t i = 0; i < nl + nr; i++) {
        if (!found[i])
            continue;
        if (i < nl)
            consider(c, found[i], depth + 1, 0, 0);
        else if (c->r->o->requisites)
            consider(c, found[i], depth, 1, 0);
    }
}

/* The links of a page recorded by an earlier run (the journal) or by the
 * run a re-crawl compares with, queued as if it had been fetched now. */
static void expand_recorded(crawl *c, const sched_entry *e, const char *line)
{
    char **found = NULL;
    size_t nl = 0, nr = 0;
    if (!line || record_found(line, &found, &nl, &nr))
        return;
    queue_found(c, found, nl, nr, e->depth);
    for (size_t i = 0; i < nl + nr; i++)
        free(found[i]);
    free(found);
}

/* sched's pull: the next URL of the frontier; -1 when it is empty (more
 * may come when a page in flight is recorded). */
static int on_pull(void *ctx, int block, sched_entry *out)
{
    crawl *c = ctx;
    (void)block;
    for (;;) {
        if (c->r->o->max_pages && c->admitted >= c->r->o->max_pages)
            return -1;
        if (!frontier_pop(c, out))
            return -1;
        journal *jr = c->r->jr;
        if (jr && journal_has(jr, out->url)) {
            /* Recorded by an earlier, interrupted run: not fetched again,
             * but what it found is still crawled. */
            char *line = journal_record(jr, out->url);
            expand_recorded(c, out, line);
            free(line);
            free(out->url);
            out->url = NULL;
            continue;
        }
        return 1;
    }
}

/* ---- the crawl ---- */

static int compile_all(regex_t **out, char **src, size_t n, const char *opt,
                       char *err, size_t errlen)
{
    if (!n)
        return 0;
    if (!(*out = calloc(n, sizeof **out))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        int rc = regcomp(&(*out)[i], src[i], REG_EXTENDED | REG_NOSUB);
        if (rc) {
            char msg[200];
            regerror(rc, &(*out)[i], msg, sizeof msg);
            snprintf(err, errlen, "%s '%s': %s", opt, src[i], msg);
            for (size_t k = 0; k < i; k++)
                regfree(&(*out)[k]);
            free(*out);
            *out = NULL;
            return -1;
        }
    }
    return 0;
}

/* fetch_bg's notify: a robots.txt or sitemap was read, which on_poll()
 * applies at the mode's next run_take(). */
static void wake_run(void *r)
{
    run_wake(r);
}

crawl *crawl_new(run *r, sched_opts *so, char *err, size_t errlen)
{
    const gather_opts *o = r->o;
    crawl *c = calloc(1, sizeof *c);
    size_t mq = CRAWL_MEM_QUEUE;
#ifdef GATHER_TEST_HOOKS
    /* Test builds: a tiny queue, so tests reach the spill file. */
    const char *tq = getenv("GATHER_TEST_CRAWL_QUEUE");
    if (tq && atoi(tq) > 0)
        mq = (size_t)atoi(tq);
#endif
    if (c)
        c->mem_queue = mq;
    if (!c || !(c->seen = fpset_new(0)) || !(c->seen_raw = fpset_new(0)) ||
        !(c->flying = fpset_new(1)) ||
        !(c->robots_of = fpset_new(1)) ||
        !(c->bg = fetch_bg_new(ROBOTS_THREADS, wake_run, r)) ||
        !(c->head.v = malloc(mq * sizeof *c->head.v)) ||
        !(c->tail.v = malloc(mq * sizeof *c->tail.v)) ||
        !(c->seed_hosts = calloc((size_t)o->n_urls + 1, sizeof(char *)))) {
        snprintf(err, errlen, "out of memory");
        crawl_free(c);
        return NULL;
    }
    c->r = r;
    c->max_depth = o->depth > 0 ? o->depth : o->depth < 0 ? 0 : 5;
    if (compile_all(&c->inc, o->include, o->n_include, "--include", err,
                    errlen) ||
        compile_all(&c->exc, o->exclude, o->n_exclude, "--exclude", err,
                    errlen)) {
        crawl_free(c);
        return NULL;
    }
    for (int i = 0; i < o->n_urls; i++) {
        char *url = NULL, h[HOST_MAX];
        int rc = fetch_url_normalize(o->urls[i], o->sort_query, &url);
        if (rc) {
            snprintf(err, errlen, "seed URL '%s': %s", o->urls[i],
                     fetch_strerror(rc));
            crawl_free(c);
            return NULL;
        }
        if (!(c->seed_hosts[c->n_seed_hosts] =
                  strdup(host_name(url, h, sizeof h)))) {
            free(url);
            snprintf(err, errlen, "out of memory");
            crawl_free(c);
            return NULL;
        }
        c->n_seed_hosts++;
        consider(c, url, 0, 0, 1);
        free(url);
    }
    so->pull = on_pull;
    so->new_host = on_new_host;
    so->admit = on_admit;
    so->poll = on_poll;
    so->ctx = c;
    return c;
}

void crawl_attach(crawl *c, sched *s)
{
    const gather_opts *o = c->r->o;
    maps todo = {0};
    c->s = s;
    c->robots_fo = aside_opts(c, PARSE_ROBOTS_MAX);
    c->sitemap_fo = aside_opts(c, PARSE_SITEMAP_MAX);
    /* --sitemap: read before the first URL starts. */
    if (maps_push(&todo, (const char *const *)o->sitemaps, o->n_sitemaps, 0))
        report_error(c->r->rep, "--sitemap", "out of memory");
    read_sitemaps_now(c, &todo);
    maps_clear(&todo);
}

void crawl_free(crawl *c)
{
    if (!c)
        return;
    /* First, so that no thread is left with a transfer of ours. */
    fetch_bg_free(c->bg);
    while (c->waiting) {
        waiting *w = c->waiting;
        c->waiting = w->next;
        waiting_free(w);
    }
    fpset_free(c->seen);
    fpset_free(c->seen_raw);
    fpset_free(c->flying);
    fpset_free(c->robots_of);
    for (size_t i = 0; i < c->n_robots; i++) {
        parse_robots_free(c->robots[i].rules);
        free(c->robots[i].why);
    }
    free(c->robots);
    buf_clear(&c->head);
    buf_clear(&c->tail);
    if (c->spill)
        fclose(c->spill);
    for (size_t i = 0; i < c->n_seed_hosts; i++)
        free(c->seed_hosts[i]);
    free(c->seed_hosts);
    for (size_t i = 0; c->inc && i < c->r->o->n_include; i++)
        regfree(&c->inc[i]);
    for (size_t i = 0; c->exc && i < c->r->o->n_exclude; i++)
        regfree(&c->exc[i]);
    free(c->inc);
    free(c->exc);
    free(c);
}

void crawl_done(crawl *c, const run_outcome *oc)
{
    uint64_t v;
    uint64_t k = fpset_key(oc->url);
    if (!fpset_get(c->flying, k, &v))
        return;
    fpset_del(c->flying, k);
    if (oc->interrupted)
        return;
    queue_found(c, oc->found, oc->n_links, oc->n_requisites, (int)(v / 2));
}

void crawl_report(const crawl *c, void *file, void *stats)
{
    /* The sets hold the URLs judged out of scope too; per URL is per
     * normalised URL, both sets counted. */
    size_t n = fpset_count(c->seen);
    size_t bytes = fpset_bytes(c->seen) + fpset_bytes(c->seen_raw);
    double per = n ? (double)bytes / (double)n : 0;
    if (file)
        fprintf(file,
                "crawl: %ld URLs queued (%ld from sitemaps), %ld links seen; "
                "skipped: %ld duplicate, %ld out of scope, %ld too deep, "
                "%ld by robots.txt, %ld over --max-pages; frontier peak "
                "%ld; dedup set of %zu URLs in %zu bytes (%.1f per URL)\n",
                c->queued, c->from_sitemaps, c->found, c->dup,
                c->out_of_scope, c->too_deep, c->disallowed, c->over_max,
                c->queue_peak, n, bytes, per);
    if (stats) {
        json_t *o = json_pack(
            "{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:f}", "queued",
            (json_int_t)c->queued, "from_sitemaps",
            (json_int_t)c->from_sitemaps, "links_seen", (json_int_t)c->found,
            "duplicates", (json_int_t)c->dup, "out_of_scope",
            (json_int_t)c->out_of_scope, "too_deep", (json_int_t)c->too_deep,
            "robots_disallowed", (json_int_t)c->disallowed, "over_max_pages",
            (json_int_t)c->over_max, "frontier_peak",
            (json_int_t)c->queue_peak, "dedup_urls", (json_int_t)n,
            "dedup_bytes", (json_int_t)bytes, "dedup_bytes_per_url", per);
        if (o)
            json_object_set_new(stats, "crawl", o);
    }
}
