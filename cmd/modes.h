/* modes: the ways of driving a run. Each returns 0 when the run went to
 * its end (some URLs may have failed) or -1 on a fatal error, with a
 * message already printed. */
#ifndef GATHER_MODES_H
#define GATHER_MODES_H

#include "pool.h"
#include "run.h"

int mode_async(run *r);
int mode_threads(run *r);
int mode_procs(run *r);
int mode_hybrid(run *r);
int mode_auto(run *r);

/* Limits for worker processes from the run's options: memory, CPU per
 * task, and wall time per task (a fetch's --timeout included when the
 * worker fetches too). */
pool_limits modes_worker_limits(const run *r, int fetches);

/* How many transfers a loop mode (async, hybrid) may hold beyond the -j
 * in flight, waiting to be parsed or for their file's commit: a whole
 * burst at the usual -j, so that its replacements go out while it waits;
 * at most 256, since a thousand idle transfer records at -j 1000 would
 * only add memory to a loop that is busy parsing anyway. */
long modes_headroom(long jobs);

/* True when a loop mode may start another transfer on loop: fewer than
 * jobs are on the network, those plus the ones held off it (the caller's
 * waiting ones and those committing) number under jobs +
 * modes_headroom(jobs), and the held bodies plus the writes queued for
 * the disk stay under 4 MiB. So a slow parser or disk holds the loop back
 * without it ever blocking. */
int modes_loop_has_room(const fetch_loop *loop, long jobs, size_t waiting,
                        size_t waiting_bytes);

typedef struct mode_entry {
    const char *name;
    int (*run)(run *r);
} mode_entry;

/* The mode called name, or NULL. */
const mode_entry *mode_find(const char *name);

/* "async, threads, ..." for messages. */
const char *mode_names(void);

#endif
