/* fetch_writer: a thread that does the disk work of saving for an event
 * loop: directories, temporary files, writes and renames. The loop queues
 * operations (writes copy their bytes) and learns of finished commits
 * through an eventfd in its epoll set, so it waits on the disk only when
 * max_queued bytes are already waiting. One thread keeps each file's
 * operations in order. */
#define _GNU_SOURCE
#include "fetch.h"
#include "fetch_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

enum { OP_OPEN, OP_WRITE, OP_COMMIT, OP_ABORT };

typedef struct job {
    int op;
    fetch_file *f;       /* borrowed; the transfer keeps it alive */
    fetch_xfer *owner;   /* borrowed; handed back after commit/abort */
    size_t len;
    struct job *next;
    char data[];         /* OP_WRITE's bytes */
} job;

typedef struct done_item {
    fetch_xfer *x;
    struct done_item *next;
} done_item;

struct fetch_writer {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t work;    /* a job arrived, or stop */
    pthread_cond_t space;   /* queued bytes went down, or the queue idled */
    job *head, *tail;       /* owned */
    size_t queued, max;
    int busy;               /* the thread is running a job */
    int stop;
    done_item *done_head, *done_tail; /* owned */
    int efd;                /* owned */
};

static void run_job(fetch_writer *w, job *j)
{
    fetch_file *f = j->f;
    switch (j->op) {
    case OP_OPEN:
        fetch_file_open(f);
        break;
    case OP_WRITE:
        if (!f->failed)
            fetch_file_write(f, j->data, j->len);
        break;
    case OP_COMMIT:
        if (f->failed)
            fetch_file_abort(f);
        else
            fetch_file_commit(f);
        break;
    case OP_ABORT:
        fetch_file_abort(f);
        break;
    }
    if ((j->op == OP_COMMIT || j->op == OP_ABORT) && j->owner) {
        done_item *d = malloc(sizeof *d);
        if (!d)
            abort(); /* a lost completion would hang the run */
        d->x = j->owner;
        d->next = NULL;
        pthread_mutex_lock(&w->lock);
        if (w->done_tail)
            w->done_tail->next = d;
        else
            w->done_head = d;
        w->done_tail = d;
        pthread_mutex_unlock(&w->lock);
        uint64_t one = 1;
        ssize_t rc = write(w->efd, &one, sizeof one);
        (void)rc; /* the counter cannot overflow in practice */
    }
}

static void *writer_main(void *arg)
{
    fetch_writer *w = arg;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->head && !w->stop)
            pthread_cond_wait(&w->work, &w->lock);
        if (!w->head)
            break;
        job *j = w->head;
        w->head = j->next;
        if (!w->head)
            w->tail = NULL;
        w->busy = 1;
        pthread_mutex_unlock(&w->lock);
        run_job(w, j);
        pthread_mutex_lock(&w->lock);
        w->busy = 0;
        w->queued -= j->len;
        free(j);
        pthread_cond_broadcast(&w->space);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

fetch_writer *fetch_writer_new(size_t max_queued, char *err, size_t errlen)
{
    fetch_writer *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->max = max_queued ? max_queued : (size_t)64 << 20;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->work, NULL);
    pthread_cond_init(&w->space, NULL);
    w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    int e = w->efd < 0 ? errno
                       : pthread_create(&w->thread, NULL, writer_main, w);
    if (e) {
        snprintf(err, errlen, "writer thread: %s", strerror(e));
        if (w->efd >= 0)
            close(w->efd);
        pthread_cond_destroy(&w->space);
        pthread_cond_destroy(&w->work);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return NULL;
    }
    return w;
}

void fetch_writer_free(fetch_writer *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stop = 1;
    pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    while (w->done_head) {
        done_item *d = w->done_head;
        w->done_head = d->next;
        free(d);
    }
    close(w->efd);
    pthread_cond_destroy(&w->space);
    pthread_cond_destroy(&w->work);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

static void submit(fetch_writer *w, int op, fetch_file *f, fetch_xfer *owner,
                   const void *p, size_t n)
{
    job *j = malloc(sizeof *j + n);
    if (!j)
        abort(); /* as with the body buffers: no memory, no run */
    j->op = op;
    j->f = f;
    j->owner = owner;
    j->len = n;
    j->next = NULL;
    if (n)
        memcpy(j->data, p, n);
    pthread_mutex_lock(&w->lock);
    /* Back-pressure: the disk is slower than the network. */
    while (n && w->queued && w->queued + n > w->max)
        pthread_cond_wait(&w->space, &w->lock);
    w->queued += n;
    if (w->tail)
        w->tail->next = j;
    else
        w->head = j;
    w->tail = j;
    pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->lock);
}

size_t fetch_writer_queued(fetch_writer *w)
{
    pthread_mutex_lock(&w->lock);
    size_t n = w->queued;
    pthread_mutex_unlock(&w->lock);
    return n;
}

void fetch_writer_open(fetch_writer *w, fetch_file *f)
{
    submit(w, OP_OPEN, f, NULL, NULL, 0);
}

void fetch_writer_write(fetch_writer *w, fetch_file *f, const void *p,
                        size_t n)
{
    submit(w, OP_WRITE, f, NULL, p, n);
}

void fetch_writer_commit(fetch_writer *w, fetch_file *f, fetch_xfer *owner)
{
    submit(w, OP_COMMIT, f, owner, NULL, 0);
}

void fetch_writer_abort(fetch_writer *w, fetch_file *f, fetch_xfer *owner)
{
    submit(w, OP_ABORT, f, owner, NULL, 0);
}

int fetch_writer_fd(const fetch_writer *w)
{
    return w->efd;
}

fetch_xfer *fetch_writer_take(fetch_writer *w)
{
    uint64_t n;
    ssize_t rc = read(w->efd, &n, sizeof n); /* reset; items are listed */
    (void)rc;
    pthread_mutex_lock(&w->lock);
    done_item *d = w->done_head;
    if (d) {
        w->done_head = d->next;
        if (!w->done_head)
            w->done_tail = NULL;
    }
    pthread_mutex_unlock(&w->lock);
    fetch_xfer *x = d ? d->x : NULL;
    free(d);
    return x;
}

void fetch_writer_drain(fetch_writer *w)
{
    pthread_mutex_lock(&w->lock);
    while (w->head || w->busy)
        pthread_cond_wait(&w->space, &w->lock);
    pthread_mutex_unlock(&w->lock);
}
