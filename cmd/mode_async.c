/* mode_async: fetch on one curl-multi event loop, parse inline on the same
 * thread, as asyncio does. New transfers start as soon as old ones end, so
 * at most -j are in flight and the URL list is read only as fast as the
 * network drains it. Saving goes to a writer thread, as asyncio hands file
 * I/O to an executor: creating a file can take a millisecond, and the
 * loop would stall on every one. */
#include "modes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Transfers fetched but not yet parsed: a ring of cap entries. */
typedef struct backlog {
    fetch_xfer **x; /* owned, with the transfers in it */
    size_t head, n, cap;
    size_t bytes;   /* their bodies' bytes */
} backlog;

static void on_done(fetch_xfer *x, void *ctx)
{
    backlog *b = ctx;
    b->x[(b->head + b->n++) % b->cap] = x;
    b->bytes += fetch_xfer_result(x)->body_len;
}

/* Takes the oldest transfer out of b. */
static fetch_xfer *backlog_take(backlog *b)
{
    fetch_xfer *x = b->x[b->head];
    b->head = (b->head + 1) % b->cap;
    b->n--;
    b->bytes -= fetch_xfer_result(x)->body_len;
    return x;
}

int mode_async(run *r)
{
    char err[512];
    long jobs = r->o->jobs > 0 ? r->o->jobs : 16;
    fetch_writer *writer = NULL;
    fetch_loop *loop = NULL;
    int eof = 0, result = 0;
    /* Parsing waits until the replacements of the transfers that just
     * ended are on the wire: their requests then travel while the pages
     * are parsed, instead of after a whole burst of them. A transfer
     * whose file the writer is still committing is off the network, so it
     * does not hold back the next one either. modes_loop_has_room()
     * bounds what is held, so the ring never fills. */
    backlog b = {.cap = (size_t)(jobs + modes_headroom(jobs)) + 1};

    if (!(b.x = calloc(b.cap, sizeof *b.x))) {
        fprintf(stderr, "gather: out of memory\n");
        return -1;
    }
    if ((r->o->outdir && !r->fo.writer &&
         !(writer = fetch_writer_new(0, err, sizeof err))) ||
        !(loop = fetch_loop_new(jobs, err, sizeof err)) ||
        fetch_loop_watch(loop, run_wake_fd(r), err, sizeof err)) {
        fprintf(stderr, "gather: %s\n", err);
        fetch_writer_free(writer);
        free(b.x);
        return -1;
    }
    if (writer)
        r->fo.writer = writer;
    for (;;) {
        while (!eof && modes_loop_has_room(loop, jobs, b.n, b.bytes)) {
            const char *url;
            if (!run_take(r, &url, &eof))
                break;
            if (run_start_on_loop(r, loop, url)) {
                fprintf(stderr, "gather: out of memory\n");
                result = -1;
                goto out;
            }
        }
        if (eof && fetch_loop_pending(loop) == 0 && b.n == 0)
            break;
        /* With pages to parse, only look: new requests go out and
         * finished transfers are collected, then one page is parsed. */
        if (fetch_loop_poll(loop, b.n ? 0 : run_poll_ms(r, 200), on_done,
                            &b) < 0) {
            perror("gather: epoll_wait");
            result = -1;
            goto out;
        }
        if (b.n)
            run_finish_xfer(r, backlog_take(&b));
        report_tick(r->rep);
    }
out:
    while (b.n) /* only after an error: recorded, never lost */
        run_finish_xfer(r, backlog_take(&b));
    free(b.x);
    fetch_loop_free(loop);
    if (writer) {
        r->fo.writer = NULL;
        fetch_writer_free(writer);
    }
    return result;
}
