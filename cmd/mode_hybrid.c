/* mode_hybrid: the event loop does all network I/O in this process, a
 * pool of -P worker processes parses, and a writer thread does the disk
 * work so the loop never waits on it. A body of up to 64 KiB travels to
 * its worker inside the task's frame, a bigger one as a memfd (one copy,
 * no pipe buffers). Each worker holds its next body besides the one it
 * parses, so it never waits for this process between pages. Bodies
 * waiting for a worker count as async's parse backlog does: the loop
 * keeps fetching while the workers catch up with a burst, and starts no
 * transfer while 4 MiB of them (with the disk's) or -j plus headroom of
 * them wait, so memory stays flat whatever the length of the list. */
#define _GNU_SOURCE
#include "modes.h"
#include "wire.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct pending {
    int memfd;      /* owned; the body */
    size_t len;     /* its bytes */
    wire *req;      /* owned; the packed fetch result, also the pool tag */
} pending;

typedef struct hybrid {
    run *r;
    pool *p;
    pending *q;     /* owned; a ring of cap entries */
    size_t head, n, cap;
    size_t bytes;   /* the queued bodies' bytes */
} hybrid;

/* In a worker: parse one body and reply with its packed record. */
static void *parse_task(void *ctx, const void *req, size_t len, int fd,
                        size_t *outlen)
{
    run *r = ctx;
    fetch_result res;
    wire_rd rd = {req, len, 0};
    void *reply = NULL, *map = MAP_FAILED;
    struct stat st;
    run_outcome oc;

    if (wire_get_result(&rd, &res))
        goto out;
    uint64_t inline_len = wire_get_u64(&rd);
    if (rd.failed || inline_len > rd.left)
        goto out;
    if (fd < 0) {
        res.body = (unsigned char *)rd.p;
        res.body_len = (size_t)inline_len;
    } else if (fstat(fd, &st)) {
        goto out;
    } else if (st.st_size > 0) {
        map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED)
            goto out;
        res.body = map;
        res.body_len = (size_t)st.st_size;
    }
    char *line = run_process(r, &res, &oc);
    if (line)
        reply = run_pack_record(&oc, line, outlen);
    free(line);
    run_outcome_clear(&oc);
out:
    if (map != MAP_FAILED)
        munmap(map, (size_t)st.st_size);
    res.body = NULL;
    fetch_result_clear(&res);
    if (fd >= 0)
        close(fd);
    return reply;
}

/* The tag is the packed fetch result, so that a page whose parse worker
 * died still gets a record with everything the fetch learnt. */
static void on_parsed(void *ctx, void *tag, const void *reply, size_t len,
                      const char *error)
{
    hybrid *h = ctx;
    wire *req = tag;
    wire_rd rd = {req->buf, req->len, 0};
    fetch_result known;
    wire_get_result(&rd, &known);
    run_emit_packed(h->r, &known, reply, len, error);
    fetch_result_clear(&known);
    wire_clear(req);
    free(req);
}

static int needs_parse(const run *r, const fetch_result *res)
{
    return !r->o->no_parse && res->is_html && !res->error && res->body;
}

/* Bodies up to this size travel inside the task's frame: a memfd, its
 * descriptor passing and its mapping cost more system time than copying
 * a page of tens of KB. */
#define INLINE_MAX ((size_t)64 << 10)

/* Queues a fetched page for a parse worker: the result packed, then the
 * body's length and, when it is small, the body itself; a bigger one goes
 * into a memfd (length 0 in the frame). Returns 0 or -1 (then the record
 * is built here, unparsed). */
static int enqueue(hybrid *h, fetch_result *res)
{
    pending *e = &h->q[(h->head + h->n) % h->cap];
    int inline_body = res->body_len <= INLINE_MAX;
    memset(e, 0, sizeof *e);
    e->memfd = -1;
    if (!(e->req = calloc(1, sizeof *e->req)))
        return -1;
    wire_put_result(e->req, res);
    wire_put_u64(e->req, inline_body ? (uint64_t)res->body_len : 0);
    if (inline_body)
        wire_put_bytes(e->req, res->body, res->body_len);
    if (e->req->failed)
        goto fail;
    if (!inline_body) {
        e->memfd = memfd_create("gather-body", MFD_CLOEXEC);
        if (e->memfd < 0)
            goto fail;
        const unsigned char *p = res->body;
        size_t left = res->body_len;
        while (left) {
            ssize_t w = write(e->memfd, p, left);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                goto fail;
            p += w;
            left -= (size_t)w;
        }
    }
    e->len = res->body_len;
    h->n++;
    h->bytes += e->len;
    report_queue_depth(h->r->rep, (long)h->n);
    return 0;
fail:
    if (e->memfd >= 0)
        close(e->memfd);
    wire_clear(e->req);
    free(e->req);
    return -1;
}

/* Hands waiting bodies to idle workers. */
static void dispatch(hybrid *h)
{
    while (h->n && pool_idle(h->p) > 0) {
        pending *e = &h->q[h->head];
        pool_submit(h->p, e->req->buf, e->req->len, e->memfd, e->req);
        if (e->memfd >= 0)
            close(e->memfd); /* the worker holds its own copy now */
        h->head = (h->head + 1) % h->cap;
        h->n--;
        h->bytes -= e->len;
    }
}

static void on_fetched(fetch_xfer *x, void *ctx)
{
    hybrid *h = ctx;
    fetch_result *res = fetch_xfer_result(x);
    if (needs_parse(h->r, res) && h->n < h->cap && enqueue(h, res) == 0) {
        fetch_xfer_free(x);
        return;
    }
    run_finish_xfer(h->r, x); /* nothing to parse: record it here */
}

static int min_timeout(int a, int b)
{
    if (a < 0)
        return b;
    if (b < 0)
        return a;
    return a < b ? a : b;
}

int mode_hybrid(run *r)
{
    char err[512];
    long jobs = r->o->jobs > 0 ? r->o->jobs : 16;
    long procs = r->o->procs > 0 ? r->o->procs : sysconf(_SC_NPROCESSORS_ONLN);
    pool_limits lim = modes_worker_limits(r, 0);
    hybrid h = {.r = r};
    fetch_loop *loop = NULL;
    fetch_writer *writer = NULL;
    int eof = 0, result = -1;
    double stop_at = 0;

    if (procs < 1)
        procs = 1;
    /* Fork the workers first, before anything starts a thread. */
    h.p = pool_new((int)procs, 2, parse_task, r, &lim, err, sizeof err);
    /* modes_loop_has_room() counts the queue with what the loop holds,
     * so the ring never fills. */
    h.cap = (size_t)(jobs + modes_headroom(jobs)) + 1;
    if (!h.p || !(h.q = calloc(h.cap, sizeof *h.q))) {
        fprintf(stderr, "gather: %s\n", h.p ? "out of memory" : err);
        goto out;
    }
    /* Threads only now that the workers are forked. */
    if ((r->o->outdir && !(writer = fetch_writer_new(0, err, sizeof err))) ||
        !(loop = fetch_loop_new(jobs, err, sizeof err)) ||
        fetch_loop_watch(loop, run_wake_fd(r), err, sizeof err)) {
        fprintf(stderr, "gather: %s\n", err);
        goto out;
    }
    r->fo.writer = writer;
    for (;;) {
        /* Bodies waiting for a worker count as async's parse backlog
         * does, so the network keeps working while the workers catch up
         * with a burst. */
        while (!eof && modes_loop_has_room(loop, jobs, h.n, h.bytes)) {
            const char *url;
            if (!run_take(r, &url, &eof))
                break;
            if (run_start_on_loop(r, loop, url)) {
                fprintf(stderr, "gather: out of memory\n");
                goto out;
            }
        }
        dispatch(&h);
        if (eof && fetch_loop_pending(loop) == 0 && h.n == 0 &&
            pool_busy(h.p) == 0)
            break;
        /* Stopping: transfers end within a second; queued pages are still
         * parsed, but a parse is not waited for more than 2 s. */
        if (run_stopping(r) && !stop_at)
            stop_at = fetch_now_ms();
        if (stop_at && fetch_now_ms() - stop_at > 2000) {
            pool_kill_busy(h.p);
            stop_at = fetch_now_ms() + 1e9; /* once */
        }
        struct pollfd fds[2] = {{fetch_loop_fd(loop), POLLIN, 0},
                                {pool_fd(h.p), POLLIN, 0}};
        int t = min_timeout(fetch_loop_timeout_ms(loop),
                            min_timeout(pool_timeout_ms(h.p),
                                        run_poll_ms(r, 200)));
        if (poll(fds, 2, t) < 0 && errno != EINTR) {
            perror("gather: poll");
            goto out;
        }
        if (fetch_loop_poll(loop, 0, on_fetched, &h) < 0) {
            perror("gather: epoll_wait");
            goto out;
        }
        dispatch(&h);
        if (pool_poll(h.p, 0, on_parsed, &h) < 0)
            goto out;
        /* Workers that just answered take the next bodies now, not after
         * the next wait for network events. */
        dispatch(&h);
        report_tick(r->rep);
    }
    result = 0;
out:
    fetch_loop_free(loop);
    r->fo.writer = NULL;
    fetch_writer_free(writer);
    for (; h.q && h.n; h.n--, h.head = (h.head + 1) % h.cap) {
        if (h.q[h.head].memfd >= 0)
            close(h.q[h.head].memfd);
        wire_clear(h.q[h.head].req);
        free(h.q[h.head].req);
    }
    free(h.q);
    if (h.p) {
        pool_stop(h.p);
        report_add_child_rss(r->rep, pool_rss_kb(h.p));
        pool_free(h.p);
    }
    return result;
}
