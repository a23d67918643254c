/* mode_threads: a thread per download, as threading does. Each thread owns
 * its easy handle, fetches with a blocking perform and parses inline; the
 * DNS and TLS session caches are shared through a locked curl share handle.
 * At most -j threads are alive; stacks are small so that -j 1000 fits. */
#include "modes.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREAD_STACK (256 * 1024)

typedef struct threads_ctx {
    run *r;
    pthread_mutex_t lock;   /* guards alive and every run_emit() */
    pthread_cond_t changed;
    long alive;
    pthread_t *done;        /* owned; finished threads not yet joined */
    size_t n_done;          /* at most -j: see reap() */
} threads_ctx;

typedef struct job {
    threads_ctx *c;
    fetch_xfer *x;          /* owned */
} job;

static void *download(void *arg)
{
    job *j = arg;
    threads_ctx *c = j->c;
    run_outcome oc;

    fetch_xfer_perform(j->x);
    char *line = run_process(c->r, fetch_xfer_result(j->x), &oc);
    pthread_mutex_lock(&c->lock);
    run_emit(c->r, &oc, line);
    pthread_mutex_unlock(&c->lock);
    free(line);
    run_outcome_clear(&oc);
    /* The easy handle leaves the share handle here: only after that may
     * the main thread count this download out and free the share. */
    fetch_xfer_free(j->x);
    free(j);
    pthread_mutex_lock(&c->lock);
    c->done[c->n_done++] = pthread_self();
    c->alive--;
    pthread_cond_signal(&c->changed);
    pthread_mutex_unlock(&c->lock);
    run_wake(c->r); /* the main thread may be waiting for a URL to start */
    return NULL;
}

/* Joins the threads that have finished, so that each has really exited
 * (libxml2 frees its per-thread state only then) before the run ends.
 * Called with the lock held; alive + n_done never exceeds -j, because a
 * thread is created only after a reap, while alive < -j. */
static void reap(threads_ctx *c)
{
    while (c->n_done) {
        pthread_t t = c->done[--c->n_done];
        pthread_mutex_unlock(&c->lock);
        pthread_join(t, NULL);
        pthread_mutex_lock(&c->lock);
    }
}

int mode_threads(run *r)
{
    threads_ctx c = {.r = r};
    long jobs = r->o->jobs > 0 ? r->o->jobs : 16;
    pthread_attr_t attr;
    int result = 0;
    /* The run's share, when it has one for its cookies, has the locks and
     * caches threads need too. */
    fetch_share *share = r->fo.share ? NULL : fetch_share_new(0);

    if (!r->fo.share && !share) {
        fprintf(stderr, "gather: cannot create the curl share handle\n");
        return -1;
    }
    if (!(c.done = calloc((size_t)jobs, sizeof *c.done))) {
        fetch_share_free(share);
        fprintf(stderr, "gather: out of memory\n");
        return -1;
    }
    if (share)
        r->fo.share = share;
    pthread_mutex_init(&c.lock, NULL);
    pthread_cond_init(&c.changed, NULL);
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, THREAD_STACK);

    for (;;) {
        pthread_mutex_lock(&c.lock);
        while (c.alive >= jobs)
            pthread_cond_wait(&c.changed, &c.lock);
        reap(&c);
        /* run_take() runs on this thread only, under the lock, since it
         * records bad lines and shares the politeness state with emits. */
        const char *url;
        int eof = 0;
        if (!run_take(r, &url, &eof)) {
            pthread_mutex_unlock(&c.lock);
            if (eof)
                break;
            /* Until a download ends or the crawl has read a robots.txt
             * (both call run_wake()), or a host's delay is over. */
            run_wait_wake(r, run_poll_ms(r, 200));
            continue;
        }
        pthread_mutex_unlock(&c.lock);

        job *j = malloc(sizeof *j);
        fetch_xfer *x = fetch_xfer_new(&r->fo, url);
        if (!j || !x) {
            free(j);
            fetch_xfer_free(x);
            fprintf(stderr, "gather: out of memory\n");
            result = -1;
            break;
        }
        if (fetch_xfer_done(x)) { /* a bad URL: no thread needed */
            free(j);
            pthread_mutex_lock(&c.lock);
            run_finish_xfer(r, x);
            pthread_mutex_unlock(&c.lock);
            continue;
        }
        j->c = &c;
        j->x = x;
        pthread_t t;
        pthread_mutex_lock(&c.lock);
        c.alive++;
        pthread_mutex_unlock(&c.lock);
        int e = pthread_create(&t, &attr, download, j);
        if (e) {
            pthread_mutex_lock(&c.lock);
            c.alive--;
            fetch_xfer_fail(x, strerror(e));
            run_finish_xfer(r, x);
            pthread_mutex_unlock(&c.lock);
            free(j);
        }
    }
    /* Wait for every download, then the shared handle can go. */
    pthread_mutex_lock(&c.lock);
    while (c.alive > 0)
        pthread_cond_wait(&c.changed, &c.lock);
    reap(&c);
    pthread_mutex_unlock(&c.lock);
    free(c.done);
    pthread_attr_destroy(&attr);
    pthread_cond_destroy(&c.changed);
    pthread_mutex_destroy(&c.lock);
    if (share) {
        r->fo.share = NULL;
        fetch_share_free(share);
    }
    return result;
}
