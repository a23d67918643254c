/* fetch_bg: a few threads that run blocking transfers for a thread that
 * must not wait on the network (the crawl's, for robots.txt and sitemaps).
 * A thread starts when a transfer is added and none is free to take it,
 * and ends when nothing is left to run, so an idle fetch_bg holds no
 * thread. Finished transfers wait on a list until their owner takes them. */
#include "fetch.h"
#include "fetch_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct bg_job {
    fetch_xfer *x;              /* owned */
    void *tag;                  /* borrowed */
    struct bg_job *next;
} bg_job;

typedef struct bg_list {
    bg_job *head, *tail;        /* owned */
} bg_list;

enum { SLOT_FREE, SLOT_RUNNING, SLOT_ENDED };

typedef struct bg_slot {
    struct fetch_bg *b;         /* borrowed */
    pthread_t thread;
    int state;                  /* SLOT_*; ENDED: to be joined */
    int started;                /* its thread is yet to be joined: only
                                   the owner's thread uses this */
    bg_job *job;                /* borrowed; the one it is running */
} bg_slot;

struct fetch_bg {
    pthread_mutex_t lock;       /* guards everything below */
    bg_list todo;               /* added, waiting for a thread */
    bg_list done;               /* finished, not yet taken */
    size_t queued;              /* jobs in todo */
    size_t running;             /* threads in SLOT_RUNNING */
    size_t busy;                /* of those, the ones running a job */
    int stop;                   /* fetch_bg_free(): run nothing more */
    fetch_bg_notify_fn notify;  /* NULL, or called when a job is done */
    void *notify_ctx;           /* borrowed */
    int n;
    bg_slot slot[];
};

static void list_push(bg_list *l, bg_job *j)
{
    j->next = NULL;
    if (l->tail)
        l->tail->next = j;
    else
        l->head = j;
    l->tail = j;
}

static bg_job *list_pop(bg_list *l)
{
    bg_job *j = l->head;
    if (j && !(l->head = j->next))
        l->tail = NULL;
    return j;
}

static void *bg_main(void *arg)
{
    bg_slot *s = arg;
    fetch_bg *b = s->b;
    pthread_mutex_lock(&b->lock);
    while (!b->stop && b->todo.head) {
        bg_job *j = list_pop(&b->todo);
        b->queued--;
        b->busy++;
        s->job = j;
        pthread_mutex_unlock(&b->lock);
        fetch_xfer_perform(j->x);
        pthread_mutex_lock(&b->lock);
        s->job = NULL;
        b->busy--;
        list_push(&b->done, j);
        /* Told outside the lock, so that the owner may take it at once;
         * after the push, so that whatever the owner does on being told
         * finds the job. */
        pthread_mutex_unlock(&b->lock);
        if (b->notify)
            b->notify(b->notify_ctx);
        pthread_mutex_lock(&b->lock);
    }
    /* Set under the lock, after which this thread touches nothing of b:
     * whoever sees it may join. */
    s->state = SLOT_ENDED;
    b->running--;
    pthread_mutex_unlock(&b->lock);
    return NULL;
}

/* Joins the threads that have ended. Called with the lock held, which
 * they no longer need. */
static void reap(fetch_bg *b)
{
    for (int i = 0; i < b->n; i++) {
        if (b->slot[i].state == SLOT_ENDED) {
            pthread_join(b->slot[i].thread, NULL);
            b->slot[i].state = SLOT_FREE;
            b->slot[i].started = 0;
        }
    }
}

fetch_bg *fetch_bg_new(int max_threads, fetch_bg_notify_fn notify,
                       void *ctx)
{
    int n = max_threads > 0 ? max_threads : 8;
    fetch_bg *b = calloc(1, sizeof *b + (size_t)n * sizeof *b->slot);
    if (!b)
        return NULL;
    if (pthread_mutex_init(&b->lock, NULL)) {
        free(b);
        return NULL;
    }
    b->n = n;
    b->notify = notify;
    b->notify_ctx = ctx;
    for (int i = 0; i < n; i++)
        b->slot[i].b = b;
    return b;
}

static void free_list(bg_list *l)
{
    bg_job *j;
    while ((j = list_pop(l))) {
        fetch_xfer_free(j->x);
        free(j);
    }
}

void fetch_bg_free(fetch_bg *b)
{
    if (!b)
        return;
    pthread_mutex_lock(&b->lock);
    b->stop = 1;
    for (int i = 0; i < b->n; i++)
        if (b->slot[i].job)
            fetch_xfer_cancel(b->slot[i].job->x);
    pthread_mutex_unlock(&b->lock);
    for (int i = 0; i < b->n; i++)
        if (b->slot[i].started)
            pthread_join(b->slot[i].thread, NULL);
    free_list(&b->todo);
    free_list(&b->done);
    pthread_mutex_destroy(&b->lock);
    free(b);
}

/* Starts a thread for the jobs in todo, unless enough are on their way
 * to them. Called with the lock held. Returns 0, or an errno when no
 * thread runs at all and none could start. */
static int spawn(fetch_bg *b)
{
    reap(b);
    /* Every running thread without a job is about to take one. */
    if (b->queued <= b->running - b->busy || b->running == (size_t)b->n)
        return 0;
    for (int i = 0; i < b->n; i++) {
        bg_slot *s = &b->slot[i];
        if (s->state != SLOT_FREE)
            continue;
        int e = pthread_create(&s->thread, NULL, bg_main, s);
        if (e)
            return b->running ? 0 : e;
        s->state = SLOT_RUNNING;
        s->started = 1;
        b->running++;
        return 0;
    }
    return 0;
}

int fetch_bg_add(fetch_bg *b, fetch_xfer *x, void *tag)
{
    bg_job *j = malloc(sizeof *j);
    int ended = 0;
    if (!j)
        return FETCH_ENOMEM;
    j->x = x;
    j->tag = tag;
    pthread_mutex_lock(&b->lock);
    if (fetch_xfer_done(x)) { /* a bad URL: nothing to run */
        list_push(&b->done, j);
        ended = 1;
    } else {
        list_push(&b->todo, j);
        b->queued++;
        int e = spawn(b);
        bg_job *k;
        /* No thread will ever take them: they end now, failed. */
        while (e && (k = list_pop(&b->todo))) {
            fetch_xfer_fail(k->x, strerror(e));
            list_push(&b->done, k);
            b->queued--;
            ended = 1;
        }
    }
    pthread_mutex_unlock(&b->lock);
    if (ended && b->notify)
        b->notify(b->notify_ctx);
    return 0;
}

fetch_xfer *fetch_bg_take(fetch_bg *b, void **tag)
{
    pthread_mutex_lock(&b->lock);
    reap(b);
    bg_job *j = list_pop(&b->done);
    pthread_mutex_unlock(&b->lock);
    if (!j)
        return NULL;
    fetch_xfer *x = j->x;
    *tag = j->tag;
    free(j);
    return x;
}
