/* mode_async: fetch on one curl-multi event loop, parse inline on the same
 * thread, as asyncio does. New transfers start as soon as old ones end, so
 * at most -j are in flight and the URL list is read only as fast as the
 * network drains it. Saving goes to a writer thread, as asyncio hands file
 * I/O to an executor: creating a file can take a millisecond, and the
 * loop would stall on every one. */
#include "modes.h"

#include <stdio.h>
#include <string.h>

static void on_done(fetch_xfer *x, void *ctx)
{
    run_finish_xfer(ctx, x);
}

int mode_async(run *r)
{
    char err[512];
    long jobs = r->o->jobs > 0 ? r->o->jobs : 16;
    fetch_writer *writer = NULL;
    fetch_loop *loop = NULL;
    int eof = 0, result = 0;

    if ((r->o->outdir && !r->fo.writer &&
         !(writer = fetch_writer_new(0, err, sizeof err))) ||
        !(loop = fetch_loop_new(jobs, err, sizeof err))) {
        fprintf(stderr, "gather: %s\n", err);
        fetch_writer_free(writer);
        return -1;
    }
    if (writer)
        r->fo.writer = writer;
    for (;;) {
        while (!eof && fetch_loop_active(loop) < jobs) {
            const char *url;
            if (!run_take(r, &url, &eof))
                break;
            if (run_start_on_loop(r, loop, url)) {
                fprintf(stderr, "gather: out of memory\n");
                result = -1;
                goto out;
            }
        }
        if (eof && fetch_loop_active(loop) == 0)
            break;
        if (fetch_loop_poll(loop, run_poll_ms(r, 200), on_done, r) < 0) {
            perror("gather: epoll_wait");
            result = -1;
            goto out;
        }
        report_tick(r->rep);
    }
out:
    fetch_loop_free(loop);
    if (writer) {
        r->fo.writer = NULL;
        fetch_writer_free(writer);
    }
    return result;
}
