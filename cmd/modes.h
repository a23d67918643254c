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

/* The loop modes (async, hybrid) start no transfer while the bodies they
 * hold off the network (waiting to be parsed, for their file's commit, or
 * as writes queued for the disk) reach this many bytes: enough for a
 * burst of -j pages of tens of KB, while a loop that cannot parse or save
 * as fast as it fetches holds little more than this. */
#define MODES_HELD_BYTES ((size_t)4 << 20)

/* How many transfers such a loop may hold beyond the -j in flight: a
 * whole burst at the usual -j, so that its replacements go out while it
 * waits; at most 256, since a thousand idle transfer records at -j 1000
 * would only add memory to a loop that is busy parsing anyway. */
static inline long modes_headroom(long jobs)
{
    return jobs < 256 ? jobs : 256;
}

typedef struct mode_entry {
    const char *name;
    int (*run)(run *r);
} mode_entry;

/* The mode called name, or NULL. */
const mode_entry *mode_find(const char *name);

/* "async, threads, ..." for messages. */
const char *mode_names(void);

#endif
