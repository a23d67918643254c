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

typedef struct mode_entry {
    const char *name;
    int (*run)(run *r);
} mode_entry;

/* The mode called name, or NULL. */
const mode_entry *mode_find(const char *name);

/* "async, threads, ..." for messages. */
const char *mode_names(void);

#endif
