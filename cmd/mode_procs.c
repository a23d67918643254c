/* mode_procs: worker processes that each fetch a URL with a blocking easy
 * handle and parse it inline, as multiprocessing does. The parent hands
 * out one URL at a time to idle workers (a bounded channel, not a list
 * split up front) and alone writes records and the summary. Processes
 * share no memory, so with --cookie-jar each worker starts from the jar
 * and keeps the cookies it receives to itself, and the jar is left as it
 * was. */
#include "modes.h"
#include "pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* In a worker: fetch and parse one URL, reply with its packed record. */
static void *fetch_and_parse(void *ctx, const void *req, size_t len, int fd,
                             size_t *outlen)
{
    run *r = ctx;
    static fetch_share *share; /* this worker's connection cache */
    char url[URLLIST_MAX_LINE + 1];
    run_outcome oc;

    if (fd >= 0)
        close(fd);
    if (!share && (share = fetch_share_new(1))) {
        char err[512];
        if (r->o->cookie_jar &&
            fetch_share_load_cookies(share, r->o->cookie_jar, err, sizeof err))
            fprintf(stderr, "gather: --cookie-jar: %s\n", err);
        r->fo.share = share; /* our copy of the run, after fork */
    }
    if (len > URLLIST_MAX_LINE)
        return NULL;
    memcpy(url, req, len);
    url[len] = '\0';
    fetch_xfer *x = fetch_xfer_new(&r->fo, url);
    if (!x)
        return NULL;
    fetch_xfer_perform(x);
    char *line = run_process(r, fetch_xfer_result(x), &oc);
    void *reply = line ? run_pack_record(&oc, line, outlen) : NULL;
    free(line);
    run_outcome_clear(&oc);
    fetch_xfer_free(x);
    return reply;
}

static void on_reply(void *ctx, void *tag, const void *reply, size_t len,
                     const char *error)
{
    fetch_result known = {.url = tag};
    run_emit_packed(ctx, &known, reply, len, error);
    free(tag);
}

int mode_procs(run *r)
{
    char err[512];
    long jobs = r->o->jobs > 0 ? r->o->jobs : 16;
    pool_limits lim = modes_worker_limits(r, 1);
    pool *p;
    int eof = 0, result = 0;
    double stop_at = 0;

    r->jar_frozen = 1;
    p = pool_new((int)jobs, 1, fetch_and_parse, r, &lim, err, sizeof err);
    if (!p || pool_watch(p, run_wake_fd(r), err, sizeof err)) {
        fprintf(stderr, "gather: %s\n", err);
        pool_free(p);
        return -1;
    }
    for (;;) {
        while (!eof && pool_idle(p) > 0) {
            const char *url;
            if (!run_take(r, &url, &eof))
                break;
            char *tag = strdup(url);
            if (!tag) {
                fprintf(stderr, "gather: out of memory\n");
                result = -1;
                goto out;
            }
            pool_submit(p, url, strlen(url), -1, tag);
        }
        if (eof && pool_busy(p) == 0)
            break;
        /* Stopping: workers finish their URL, but a slow one is not
         * waited for more than 2 s; its URL is abandoned. */
        if (run_stopping(r) && !stop_at)
            stop_at = fetch_now_ms();
        if (stop_at && fetch_now_ms() - stop_at > 2000) {
            pool_kill_busy(p);
            stop_at = fetch_now_ms() + 1e9; /* once */
        }
        if (pool_poll(p, run_poll_ms(r, 200), on_reply, r) < 0) {
            result = -1;
            goto out;
        }
        report_tick(r->rep);
    }
out:
    pool_stop(p);
    report_add_child_rss(r->rep, pool_rss_kb(p));
    pool_free(p);
    return result;
}
