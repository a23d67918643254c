/* fetch_loop: many transfers on one thread. A curl multi handle is driven
 * with curl_multi_socket_action() from an epoll set: curl tells us which
 * sockets to watch and when its timer fires, we tell curl what happened. */
#include "fetch.h"
#include "fetch_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

struct fetch_loop {
    CURLM *multi;     /* owned */
    int epfd;         /* owned */
    double deadline;  /* monotonic ms when curl's timer fires; <0: none */
    long active;      /* on the network, or waiting to retry */
    long committing;  /* off the network, the writer saving their file */
    size_t committing_bytes; /* the bodies those still hold */
    int running;
    fetch_xfer *retry;    /* borrowed list (via retry_next) of transfers
                             waiting for their next attempt */
    fetch_writer *writer; /* borrowed; its eventfd is in the epoll set */
    int wake_fd;          /* borrowed; fetch_loop_watch()'s eventfd, or -1 */
};

/* CURLMOPT_SOCKETFUNCTION: mirror curl's interest in a socket into epoll.
 * socketp marks sockets already in the set. */
static int on_socket(CURL *e, curl_socket_t s, int what, void *userp,
                     void *socketp)
{
    fetch_loop *l = userp;
    struct epoll_event ev = {0};
    (void)e;

    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(l->epfd, EPOLL_CTL_DEL, s, NULL);
        curl_multi_assign(l->multi, s, NULL);
        return 0;
    }
    ev.data.fd = s;
    ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) |
                (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
    int op = socketp ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(l->epfd, op, s, &ev)) {
        /* A reused descriptor number can be in either state; try the
         * other operation before giving up. */
        op = op == EPOLL_CTL_ADD ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
        if (epoll_ctl(l->epfd, op, s, &ev))
            return -1;
    }
    if (!socketp)
        curl_multi_assign(l->multi, s, l);
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: remember when curl wants to be called back. */
static int on_timer(CURLM *m, long timeout_ms, void *userp)
{
    fetch_loop *l = userp;
    (void)m;
    l->deadline = timeout_ms < 0 ? -1 : fetch_now_ms() + (double)timeout_ms;
    return 0;
}

fetch_loop *fetch_loop_new(long max_parallel, char *err, size_t errlen)
{
    fetch_loop *l = calloc(1, sizeof *l);
    if (!l) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    l->deadline = -1;
    l->wake_fd = -1;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0) {
        snprintf(err, errlen, "epoll_create1: %s", strerror(errno));
        free(l);
        return NULL;
    }
    l->multi = curl_multi_init();
    if (!l->multi ||
        curl_multi_setopt(l->multi, CURLMOPT_SOCKETFUNCTION, on_socket) ||
        curl_multi_setopt(l->multi, CURLMOPT_SOCKETDATA, l) ||
        curl_multi_setopt(l->multi, CURLMOPT_TIMERFUNCTION, on_timer) ||
        curl_multi_setopt(l->multi, CURLMOPT_TIMERDATA, l) ||
        curl_multi_setopt(l->multi, CURLMOPT_MAXCONNECTS,
                          max_parallel > 0 ? max_parallel : 16L) ||
        /* Transfers to one HTTP/2 server share its connection (libcurl's
         * default since 7.62; said here so it does not depend on it). */
        curl_multi_setopt(l->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX)) {
        snprintf(err, errlen, "curl multi handle setup failed");
        fetch_loop_free(l);
        return NULL;
    }
    return l;
}

void fetch_loop_free(fetch_loop *l)
{
    if (!l)
        return;
    if (l->multi)
        curl_multi_cleanup(l->multi);
    close(l->epfd);
    free(l);
}

int fetch_loop_add(fetch_loop *l, fetch_xfer *x)
{
    fetch_writer *w = x->o->writer;
    if (w && w != l->writer) {
        struct epoll_event ev = {.events = EPOLLIN,
                                 .data.fd = fetch_writer_fd(w)};
        if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev)) {
            fetch_xfer_fail(x, "cannot watch the writer thread");
            return FETCH_ESYS;
        }
        l->writer = w;
    }
    fetch_xfer_mark_started(x);
    if (curl_multi_add_handle(l->multi, x->easy) != CURLM_OK) {
        fetch_xfer_fail(x, "curl_multi_add_handle failed");
        return FETCH_ECURL;
    }
    l->active++;
    return FETCH_OK;
}

int fetch_loop_fd(const fetch_loop *l)
{
    return l->epfd;
}

int fetch_loop_watch(fetch_loop *l, int efd, char *err, size_t errlen)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = efd};
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, efd, &ev)) {
        snprintf(err, errlen, "epoll_ctl: %s", strerror(errno));
        return -1;
    }
    l->wake_fd = efd;
    return 0;
}

int fetch_loop_timeout_ms(const fetch_loop *l)
{
    double next = l->deadline;
    for (const fetch_xfer *x = l->retry; x; x = x->retry_next)
        if (next < 0 || fetch_xfer_retry_at(x) < next)
            next = fetch_xfer_retry_at(x);
    if (next < 0)
        return -1;
    double wait = next - fetch_now_ms();
    return wait <= 0 ? 0 : (int)wait + 1;
}

/* Starts again every transfer whose retry is due. One that cannot start
 * is finished with its error and handed to done. */
static int restart_due(fetch_loop *l, fetch_done_fn done, void *ctx)
{
    double now = fetch_now_ms();
    int n = 0;
    for (fetch_xfer **pp = &l->retry; *pp;) {
        fetch_xfer *x = *pp;
        int stop = fetch_stop_requested(x->o);
        if (!stop && fetch_xfer_retry_at(x) > now) {
            pp = &x->retry_next;
            continue;
        }
        *pp = x->retry_next;
        fetch_xfer_mark_started(x);
        if (stop) {
            x->r.interrupted = 1;
            fetch_xfer_fail(x, "interrupted");
        } else if (curl_multi_add_handle(l->multi, x->easy) == CURLM_OK) {
            continue;
        } else {
            fetch_xfer_fail(x, "curl_multi_add_handle failed");
        }
        l->active--;
        done(x, ctx);
        n++;
    }
    return n;
}

long fetch_loop_active(const fetch_loop *l)
{
    return l->active;
}

long fetch_loop_pending(const fetch_loop *l)
{
    return l->active + l->committing;
}

size_t fetch_loop_held_bytes(const fetch_loop *l)
{
    return l->committing_bytes +
           (l->writer ? fetch_writer_queued(l->writer) : 0);
}

/* Hands every finished transfer to done. Returns how many. */
static int reap(fetch_loop *l, fetch_done_fn done, void *ctx)
{
    CURLMsg *msg;
    int left, n = 0;
    while ((msg = curl_multi_info_read(l->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *e = msg->easy_handle;
        CURLcode rc = msg->data.result;
        fetch_xfer *x = NULL;
        curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x);
        curl_multi_remove_handle(l->multi, e);
        if (fetch_xfer_finish(x, rc)) {
            x->retry_next = l->retry; /* counted active until it is done */
            l->retry = x;
            continue;
        }
        l->active--;
        if (!fetch_xfer_done(x)) {
            /* The writer thread is committing its file; the network slot
             * is free for the next transfer meanwhile. */
            l->committing++;
            l->committing_bytes += x->r.body_len;
            continue;
        }
        done(x, ctx);
        n++;
    }
    return n;
}

/* Hands every transfer whose file the writer has committed to done. */
static int reap_saved(fetch_loop *l, fetch_done_fn done, void *ctx)
{
    fetch_xfer *x;
    int n = 0;
    while ((x = fetch_writer_take(l->writer))) {
        l->committing--;
        l->committing_bytes -= x->r.body_len;
        fetch_xfer_saved(x);
        done(x, ctx);
        n++;
    }
    return n;
}

int fetch_loop_poll(fetch_loop *l, int timeout_ms, fetch_done_fn done,
                    void *ctx)
{
    struct epoll_event evs[256];
    int t = fetch_loop_timeout_ms(l);
    if (t >= 0 && t < timeout_ms)
        timeout_ms = t;
    int n = epoll_wait(l->epfd, evs, 256, timeout_ms);
    if (n < 0) {
        if (errno != EINTR)
            return -1;
        n = 0;
    }
    int saved = 0;
    for (int i = 0; i < n; i++) {
        if (l->writer && evs[i].data.fd == fetch_writer_fd(l->writer)) {
            saved = 1;
            continue;
        }
        if (evs[i].data.fd == l->wake_fd) {
            uint64_t n; /* emptied, or EAGAIN: empty already */
            ssize_t got = read(l->wake_fd, &n, sizeof n);
            (void)got;
            continue;
        }
        int action = (evs[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
                     (evs[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                     (evs[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR
                                                            : 0);
        curl_multi_socket_action(l->multi, evs[i].data.fd, action,
                                 &l->running);
    }
    if (l->deadline >= 0 && fetch_now_ms() >= l->deadline) {
        l->deadline = -1;
        curl_multi_socket_action(l->multi, CURL_SOCKET_TIMEOUT, 0,
                                 &l->running);
    }
    n = reap(l, done, ctx);
    if (saved)
        n += reap_saved(l, done, ctx);
    if (l->retry)
        n += restart_due(l, done, ctx);
    return n;
}
