/* pool: worker processes that each take one task at a time over a socket
 * and answer with one reply. The procs mode fetches and parses in them,
 * the hybrid mode only parses. Workers run under limits (memory, CPU and
 * wall time per task); a worker that dies or overruns is replaced and its
 * task is reported as failed, so hostile input cannot take the run down.
 *
 * Workers are forked by a small spawner process that pool_new() forks
 * first, so replacements never come from a parent that has started
 * threads. Ownership: the pool owns its workers and sockets; a pool and
 * its callbacks belong to one thread.
 */
#ifndef GATHER_POOL_H
#define GATHER_POOL_H

#include <stddef.h>

typedef struct pool pool;

/* Runs in a worker for each task. req[0..len) is the request and fd a
 * descriptor sent with it (or -1; the function closes it). Returns a
 * malloced reply with its length in *outlen, or NULL for an empty one. */
typedef void *(*pool_task_fn)(void *ctx, const void *req, size_t len, int fd,
                              size_t *outlen);

typedef struct pool_limits {
    size_t mem_bytes; /* address-space limit per worker; 0: none */
    double cpu_s;     /* CPU seconds per task; 0: none */
    double wall_s;    /* wall seconds per task; 0: none */
} pool_limits;

#define POOL_DEPTH_MAX 4

/* Starts n workers running fn(ctx, ...), each holding up to depth tasks
 * (1..POOL_DEPTH_MAX). With depth 1 a worker gets its next task only after
 * answering; with 2 the next one already waits in its socket, so a worker
 * never idles while the parent is busy elsewhere. A task waiting behind a
 * worker that dies is not blamed: it goes to the replacement. Call before
 * any thread starts. Returns NULL with a message in err. */
pool *pool_new(int n, int depth, pool_task_fn fn, void *ctx,
               const pool_limits *lim, char *err, size_t errlen);

/* Ends the workers (they finish their task first) and waits for them;
 * afterwards only pool_rss_kb() and pool_free() may be called. */
void pool_stop(pool *p);

/* Stops the pool if needed and releases it. */
void pool_free(pool *p);

/* Tasks pool_submit() would take now: free places in workers' queues. */
int pool_idle(const pool *p);

/* Tasks handed out and not yet answered. */
int pool_busy(const pool *p);

/* Sends a task to the least loaded worker with room; tag comes back with
 * its reply. fd, if not -1, travels with the request (the caller keeps its
 * copy). Returns 0, or -1 when every queue is full. A worker that dies on
 * receipt is reported through pool_poll() like any other death. */
int pool_submit(pool *p, const void *req, size_t len, int fd, void *tag);

/* Called for each finished task: reply[0..len) on success, or reply NULL
 * and error describing how the worker died. */
typedef void (*pool_done_fn)(void *ctx, void *tag, const void *reply,
                             size_t len, const char *error);

/* A descriptor that is readable when pool_poll() has work (for an outer
 * poll), and the milliseconds until the nearest task deadline (-1: none). */
int pool_fd(const pool *p);
int pool_timeout_ms(const pool *p);

/* Watches efd, an eventfd another thread writes to wake the pool's
 * owner: pool_poll() then returns, having emptied it. One at a time.
 * Returns 0, or -1 with a message in err. */
int pool_watch(pool *p, int efd, char *err, size_t errlen);

/* Waits up to timeout_ms, collects replies and deaths, replaces dead
 * workers and calls done. Returns the number of tasks finished, or -1 when
 * the pool cannot go on (message on stderr). */
int pool_poll(pool *p, int timeout_ms, pool_done_fn done, void *ctx);

/* Kills every worker that has a task; pool_poll() then reports each task,
 * queued ones too, as failed and replaces the worker. For a run that must
 * stop now. */
void pool_kill_busy(pool *p);

/* Sum of the peak RSS of every worker that has ended, in KiB. */
long pool_rss_kb(const pool *p);

#endif
