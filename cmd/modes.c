/* modes: the table of modes, so get and compare find them by name. */
#include "modes.h"

#include <string.h>

static const mode_entry modes[] = {
    {"async", mode_async},
    {"threads", mode_threads},
    {"procs", mode_procs},
    {"hybrid", mode_hybrid},
    {"auto", mode_auto},
};

const mode_entry *mode_find(const char *name)
{
    for (size_t i = 0; i < sizeof modes / sizeof *modes; i++)
        if (!strcmp(modes[i].name, name))
            return &modes[i];
    return NULL;
}

const char *mode_names(void)
{
    return "async, threads, procs, hybrid, auto";
}

/* Enough for a burst of -j pages of tens of KB, while a loop that cannot
 * parse or save as fast as it fetches holds little more than this. */
#define HELD_BYTES ((size_t)4 << 20)

long modes_headroom(long jobs)
{
    return jobs < 256 ? jobs : 256;
}

int modes_loop_has_room(const fetch_loop *loop, long jobs, size_t waiting,
                        size_t waiting_bytes)
{
    return fetch_loop_active(loop) < jobs &&
           waiting + (size_t)fetch_loop_pending(loop) <
               (size_t)(jobs + modes_headroom(jobs)) &&
           waiting_bytes + fetch_loop_held_bytes(loop) < HELD_BYTES;
}

pool_limits modes_worker_limits(const run *r, int fetches)
{
    const gather_opts *o = r->o;
    pool_limits lim = {0};
    double parse_s = o->parse_timeout_ms ? (double)o->parse_timeout_ms / 1e3
                                         : 30.0;
    lim.mem_bytes = (size_t)(o->parse_mem_mb ? o->parse_mem_mb : 1024) << 20;
    lim.cpu_s = parse_s;
    if (!fetches)
        lim.wall_s = 2 * parse_s; /* a parse that blocks, not computes */
    else if (o->timeout_ms)
        lim.wall_s = (double)o->timeout_ms / 1e3 + 2 * parse_s;
    return lim;
}
