/* pool: worker processes behind sockets, spawned by a single-threaded
 * spawner. Frames are a header {u32 length, u32 has_fd} (the fd rides on
 * the header as SCM_RIGHTS) followed by the payload. */
#define _GNU_SOURCE
#include "pool.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FRAME_MAX (1u << 30)

/* A task handed to a worker. The one the worker runs (the head of its
 * queue) needs only its tag; one still waiting in the socket keeps a copy
 * of its request and descriptor, so that it can be sent again to the
 * replacement if the worker dies before reaching it. */
typedef struct task {
    void *tag;         /* borrowed; comes back with the reply */
    void *req;         /* owned; NULL for the head */
    size_t len;
    int fd;            /* owned dup; -1 for the head or when none */
    int kept;          /* req and fd hold the copy */
} task;

typedef struct worker {
    pid_t pid;
    int sock;          /* owned; -1 when the slot is empty */
    task q[POOL_DEPTH_MAX]; /* sent and not answered, oldest first */
    int head, nq;
    double deadline;   /* the head's, monotonic s; 0: none */
    int overran;       /* killed for the wall-time limit */
} worker;

struct pool {
    int n;
    int depth;         /* tasks a worker may hold */
    int stopping;      /* pool_kill_busy(): queued tasks fail, not rerun */
    worker *w;         /* owned; n slots */
    int ctl;           /* owned; socket to the spawner */
    pid_t spawner;
    int epfd;          /* owned */
    int wake_fd;       /* borrowed; pool_watch()'s eventfd, or -1 */
    pool_limits lim;
    long rss_kb;
    pool_task_fn fn;   /* used by the spawner's children */
    void *ctx;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- framing ---- */

static int write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_all(int fd, void *buf, size_t n)
{
    char *p = buf;
    while (n) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* Sends a header carrying fd (when >= 0), then the payload. */
static int send_frame(int sock, const void *buf, size_t len, int fd)
{
    uint32_t hdr[2] = {(uint32_t)len, fd >= 0};
    struct iovec iov = {hdr, sizeof hdr};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } cm;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    if (len > FRAME_MAX)
        return -1;
    if (fd >= 0) {
        memset(&cm, 0, sizeof cm);
        msg.msg_control = cm.buf;
        msg.msg_controllen = sizeof cm.buf;
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof fd);
    }
    ssize_t w;
    do
        w = sendmsg(sock, &msg, MSG_NOSIGNAL);
    while (w < 0 && errno == EINTR);
    if (w != (ssize_t)sizeof hdr)
        return -1;
    return len ? write_all(sock, buf, len) : 0;
}

/* Receives a frame: a malloced payload in *buf (NULL when empty), its
 * length, and the fd sent with it or -1. Returns 0, or -1 at EOF/error. */
static int recv_frame(int sock, void **buf, size_t *len, int *fd)
{
    uint32_t hdr[2];
    struct iovec iov = {hdr, sizeof hdr};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } cm;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1,
                         .msg_control = cm.buf,
                         .msg_controllen = sizeof cm.buf};
    ssize_t r;
    *buf = NULL;
    *fd = -1;
    do
        r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_WAITALL);
    while (r < 0 && errno == EINTR);
    struct cmsghdr *c = r > 0 ? CMSG_FIRSTHDR(&msg) : NULL;
    if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
        memcpy(fd, CMSG_DATA(c), sizeof *fd);
    if (r != (ssize_t)sizeof hdr || hdr[0] > FRAME_MAX)
        goto fail;
    *len = hdr[0];
    if (*len) {
        if (!(*buf = malloc(*len)) || read_all(sock, *buf, *len))
            goto fail;
    }
    return 0;
fail:
    free(*buf);
    *buf = NULL;
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
    return -1;
}

/* ---- the worker ---- */

/* A worker or the spawner must not outlive its parent: after a kill -9 of
 * gather, orphans would go on holding part files and writing. */
static void die_with_parent(pid_t parent)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) /* the parent died before the prctl */
        _exit(0);
}

static void worker_main(pool *p, int sock)
{
    if (p->lim.mem_bytes) {
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
        /* ASan and TSan reserve terabytes of address space; the limit
         * would stop them, so sanitizer builds run without it. */
        struct rlimit rl = {p->lim.mem_bytes, p->lim.mem_bytes};
        setrlimit(RLIMIT_AS, &rl);
#endif
    }
    signal(SIGPROF, SIG_DFL);
    for (;;) {
        void *req;
        size_t len, outlen = 0;
        int fd;
        if (recv_frame(sock, &req, &len, &fd))
            _exit(0); /* the parent closed the socket: we are done */
        if (p->lim.cpu_s > 0) {
            /* SIGPROF's default action ends the worker when a task uses
             * more CPU than allowed. */
            struct itimerval it = {{0, 0},
                                   {(time_t)p->lim.cpu_s,
                                    (suseconds_t)((p->lim.cpu_s -
                                                   (double)(time_t)p->lim.cpu_s) *
                                                  1e6)}};
            setitimer(ITIMER_PROF, &it, NULL);
        }
        void *reply = p->fn(p->ctx, req, len, fd, &outlen);
        struct itimerval off = {{0, 0}, {0, 0}};
        setitimer(ITIMER_PROF, &off, NULL);
        free(req);
        int bad = send_frame(sock, reply, reply ? outlen : 0, -1);
        free(reply);
        if (bad)
            _exit(0);
    }
}

/* ---- the spawner: forks workers on request, reaps them on request ---- */

enum { OP_SPAWN = 1, OP_REAP = 2 };

static void spawner_main(pool *p, int ctl)
{
    /* Ctrl-C reaches the whole process group; the parent decides what
     * happens, and workers end when their sockets close. */
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    for (;;) {
        int32_t req[2];
        if (read_all(ctl, req, sizeof req))
            break;
        if (req[0] == OP_SPAWN) {
            int sv[2] = {-1, -1};
            int32_t pid = -1;
            if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0) {
                pid_t me = getpid();
                pid = fork();
                if (pid == 0) {
                    die_with_parent(me);
                    close(ctl);
                    close(sv[0]);
                    worker_main(p, sv[1]);
                    _exit(0);
                }
                close(sv[1]);
                if (pid < 0) {
                    close(sv[0]);
                    sv[0] = -1;
                }
            }
            int bad = send_frame(ctl, &pid, sizeof pid, sv[0]);
            if (sv[0] >= 0)
                close(sv[0]);
            if (bad)
                break;
        } else if (req[0] == OP_REAP) {
            int status = 0;
            struct rusage ru = {0};
            int32_t out[2] = {-1, 0};
            if (wait4(req[1], &status, 0, &ru) > 0) {
                out[0] = status;
                out[1] = (int32_t)ru.ru_maxrss;
            }
            if (write_all(ctl, out, sizeof out))
                break;
        }
    }
    /* The parent is gone or done: wait for the workers, which end when
     * their sockets close. */
    while (wait(NULL) > 0 || errno == EINTR)
        ;
    _exit(0);
}

/* ---- the parent side ---- */

static int spawn(pool *p, worker *w)
{
    int32_t req[2] = {OP_SPAWN, 0};
    void *buf;
    size_t len;
    int fd;
    if (write_all(p->ctl, req, sizeof req) ||
        recv_frame(p->ctl, &buf, &len, &fd))
        return -1;
    int32_t pid = len == sizeof pid ? *(int32_t *)buf : -1;
    free(buf);
    if (pid <= 0 || fd < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = w};
    if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev)) {
        close(fd);
        return -1;
    }
    memset(w, 0, sizeof *w);
    w->pid = pid;
    w->sock = fd;
    return 0;
}

/* Closes a worker's socket and collects its exit status; returns it. */
static int reap(pool *p, worker *w)
{
    int32_t req[2] = {OP_REAP, w->pid}, out[2] = {-1, 0};
    epoll_ctl(p->epfd, EPOLL_CTL_DEL, w->sock, NULL);
    close(w->sock);
    w->sock = -1;
    if (write_all(p->ctl, req, sizeof req) == 0 &&
        read_all(p->ctl, out, sizeof out) == 0)
        p->rss_kb += out[1];
    return out[0];
}

pool *pool_new(int n, int depth, pool_task_fn fn, void *ctx,
               const pool_limits *lim, char *err, size_t errlen)
{
    int sv[2];
    pool *p = calloc(1, sizeof *p);
    if (!p || !(p->w = calloc((size_t)n, sizeof *p->w))) {
        free(p);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p->n = n;
    p->depth = depth < 1 ? 1 : depth > POOL_DEPTH_MAX ? POOL_DEPTH_MAX : depth;
    p->fn = fn;
    p->ctx = ctx;
    p->ctl = -1;
    p->wake_fd = -1;
    if (lim)
        p->lim = *lim;
    for (int i = 0; i < n; i++)
        p->w[i].sock = -1;
    if ((p->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
        snprintf(err, errlen, "pool: %s", strerror(errno));
        pool_free(p);
        return NULL;
    }
    fflush(NULL); /* nothing buffered may be written twice */
    pid_t me = getpid();
    p->spawner = fork();
    if (p->spawner == 0) {
        die_with_parent(me);
        close(sv[0]);
        spawner_main(p, sv[1]);
    }
    close(sv[1]);
    p->ctl = sv[0];
    if (p->spawner < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        pool_free(p);
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        if (spawn(p, &p->w[i])) {
            snprintf(err, errlen, "cannot start worker %d of %d", i + 1, n);
            pool_free(p);
            return NULL;
        }
    }
    return p;
}

void pool_stop(pool *p)
{
    for (int i = 0; i < p->n; i++)
        if (p->w[i].sock >= 0)
            reap(p, &p->w[i]); /* closing the socket ends the worker */
    if (p->ctl >= 0)
        close(p->ctl);
    p->ctl = -1;
    if (p->spawner > 0)
        waitpid(p->spawner, NULL, 0);
    p->spawner = 0;
}

void pool_free(pool *p)
{
    if (!p)
        return;
    pool_stop(p);
    if (p->epfd >= 0)
        close(p->epfd);
    free(p->w);
    free(p);
}

static task *head_of(worker *w)
{
    return &w->q[w->head];
}

/* Drops a task's copy of its request, keeping its tag. */
static void task_forget(task *t)
{
    free(t->req);
    t->req = NULL;
    if (t->fd >= 0)
        close(t->fd);
    t->fd = -1;
    t->kept = 0;
}

/* The head task has just been sent or reached: its clock starts, and it
 * needs its copy no more, since a death now fails it. */
static void head_started(pool *p, worker *w)
{
    task_forget(head_of(w));
    w->deadline = p->lim.wall_s > 0 ? now_s() + p->lim.wall_s : 0;
    w->overran = 0;
}

/* Removes the head task; returns its tag. */
static void *pop_head(pool *p, worker *w)
{
    void *tag = head_of(w)->tag;
    task_forget(head_of(w));
    w->head = (w->head + 1) % POOL_DEPTH_MAX;
    w->nq--;
    if (w->nq)
        head_started(p, w);
    return tag;
}

int pool_idle(const pool *p)
{
    int k = 0;
    for (int i = 0; i < p->n; i++)
        if (p->w[i].sock >= 0)
            k += p->depth - p->w[i].nq;
    return k;
}

int pool_busy(const pool *p)
{
    int k = 0;
    for (int i = 0; i < p->n; i++)
        k += p->w[i].nq;
    return k;
}

/* Queues a task on w and sends it. A task behind another keeps a copy of
 * its request; without memory for one, it is sent all the same and fails
 * if the worker dies before reaching it. */
static void give(pool *p, worker *w, const void *req, size_t len, int fd,
                 void *tag)
{
    task *t = &w->q[(w->head + w->nq) % POOL_DEPTH_MAX];
    *t = (task){.tag = tag, .len = len, .fd = -1};
    if (w->nq > 0) {
        t->req = len ? malloc(len) : NULL;
        t->fd = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 0) : -1;
        t->kept = (!len || t->req) && (fd < 0 || t->fd >= 0);
        if (t->kept && len)
            memcpy(t->req, req, len);
        else if (!t->kept)
            task_forget(t);
    }
    if (w->nq++ == 0)
        head_started(p, w);
    /* If the send fails the worker has died; its EOF reports the task
     * through pool_poll(). */
    send_frame(w->sock, req, len, fd);
}

int pool_submit(pool *p, const void *req, size_t len, int fd, void *tag)
{
    worker *best = NULL;
    for (int i = 0; i < p->n; i++) {
        worker *w = &p->w[i];
        if (w->sock >= 0 && w->nq < p->depth && (!best || w->nq < best->nq))
            best = w;
    }
    if (!best)
        return -1;
    give(p, best, req, len, fd, tag);
    return 0;
}

int pool_fd(const pool *p)
{
    return p->epfd;
}

int pool_watch(pool *p, int efd, char *err, size_t errlen)
{
    /* No worker's pointer: pool_poll() tells the two apart by it. */
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, efd, &ev)) {
        snprintf(err, errlen, "pool: epoll_ctl: %s", strerror(errno));
        return -1;
    }
    p->wake_fd = efd;
    return 0;
}

int pool_timeout_ms(const pool *p)
{
    double next = 0, now = now_s();
    for (int i = 0; i < p->n; i++)
        if (p->w[i].nq && p->w[i].deadline > 0 &&
            (next == 0 || p->w[i].deadline < next))
            next = p->w[i].deadline;
    if (next == 0)
        return -1;
    return next <= now ? 0 : (int)((next - now) * 1000.0) + 1;
}

static void describe_death(int status, int overran, char *buf, size_t cap)
{
    if (overran)
        snprintf(buf, cap, "worker killed: task exceeded its time limit");
    else if (status != -1 && WIFSIGNALED(status) &&
             WTERMSIG(status) == SIGPROF)
        snprintf(buf, cap, "worker killed: task exceeded its CPU limit");
    else if (status != -1 && WIFSIGNALED(status))
        snprintf(buf, cap, "worker killed by signal %d (%s)",
                 WTERMSIG(status), strsignal(WTERMSIG(status)));
    else if (status != -1 && WIFEXITED(status))
        snprintf(buf, cap, "worker exited with status %d",
                 WEXITSTATUS(status));
    else
        snprintf(buf, cap, "worker died");
}

/* A worker died. The task it was running (its head) failed; the tasks
 * waiting behind it never started, so they go to the replacement, unless
 * the pool is stopping. Returns the tasks reported, or -1. */
static int bury(pool *p, worker *w, pool_done_fn done, void *ctx)
{
    task waiting[POOL_DEPTH_MAX];
    int nwait = 0, finished = 0, overran = w->overran;
    void *tag = NULL;
    if (w->nq) {
        tag = head_of(w)->tag;
        for (int k = 1; k < w->nq; k++)
            waiting[nwait++] = w->q[(w->head + k) % POOL_DEPTH_MAX];
    }
    int status = reap(p, w);
    char why[160];
    describe_death(status, overran, why, sizeof why);
    if (spawn(p, w)) { /* resets w */
        fprintf(stderr, "gather: cannot replace a dead worker\n");
        for (int k = 0; k < nwait; k++)
            task_forget(&waiting[k]);
        return -1;
    }
    if (tag) {
        finished++;
        done(ctx, tag, NULL, 0, why);
    }
    for (int k = 0; k < nwait; k++) {
        task *t = &waiting[k];
        if (p->stopping || !t->kept) {
            finished++;
            done(ctx, t->tag, NULL, 0, why);
        } else {
            give(p, w, t->req, t->len, t->fd, t->tag);
        }
        task_forget(t);
    }
    return finished;
}

int pool_poll(pool *p, int timeout_ms, pool_done_fn done, void *ctx)
{
    struct epoll_event evs[64];
    int finished = 0;
    int t = pool_timeout_ms(p);
    if (t >= 0 && t < timeout_ms)
        timeout_ms = t;
    int n = epoll_wait(p->epfd, evs, 64, timeout_ms);
    if (n < 0 && errno != EINTR)
        return -1;

    /* Overrunning tasks: kill the worker; its EOF arrives next time. */
    double now = now_s();
    for (int i = 0; i < p->n; i++) {
        worker *w = &p->w[i];
        if (w->nq && w->deadline > 0 && now >= w->deadline && !w->overran) {
            w->overran = 1;
            kill(w->pid, SIGKILL);
        }
    }
    for (int i = 0; i < n; i++) {
        worker *w = evs[i].data.ptr;
        void *reply;
        size_t len = 0;
        int fd;
        if (!w) {
            uint64_t k; /* emptied, or EAGAIN: empty already */
            ssize_t got = read(p->wake_fd, &k, sizeof k);
            (void)got;
            continue;
        }
        if (recv_frame(w->sock, &reply, &len, &fd) == 0) {
            if (fd >= 0)
                close(fd);
            if (w->nq) {
                void *tag = pop_head(p, w);
                finished++;
                done(ctx, tag, reply, len, NULL);
            }
            free(reply);
            continue;
        }
        /* EOF: the worker died. */
        int k = bury(p, w, done, ctx);
        if (k < 0)
            return -1;
        finished += k;
    }
    return finished;
}

long pool_rss_kb(const pool *p)
{
    return p->rss_kb;
}

void pool_kill_busy(pool *p)
{
    p->stopping = 1;
    for (int i = 0; i < p->n; i++)
        if (p->w[i].nq && p->w[i].sock >= 0)
            kill(p->w[i].pid, SIGKILL);
}
