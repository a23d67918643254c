/* mode_auto: picks the mode by measuring the workload instead of guessing.
 * The first URLs (a probe of up to 2 x -j, at least 16) run in async mode
 * as part of the run; if parsing took a large share of the event loop's
 * time there, the rest runs in hybrid, where parsing moves to other cores;
 * otherwise async carries on. It says on stderr what it picked and why,
 * with the summary (on a terminal, or with --summary). */
#include "modes.h"

#include <stdio.h>
#include <unistd.h>

/* Above this share of the loop's wall time spent parsing, the loop is
 * CPU-bound and parse workers on other cores pay for their overhead. */
#define PARSE_SHARE_HYBRID 0.25

int mode_auto(run *r)
{
    long jobs = r->o->jobs > 0 ? r->o->jobs : 16;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    double t0 = fetch_now_ms();

    r->limit = jobs * 2 < 16 ? 16 : jobs * 2;
    int rc = mode_async(r);
    r->limit = 0;
    if (rc)
        return rc;
    double wall = fetch_now_ms() - t0;
    double share = wall > 0 ? r->parse_ms / wall : 0;
    const char *pick;
    char why[256];
    if (r->o->no_parse) {
        pick = "async";
        snprintf(why, sizeof why, "parsing is off, so the work is network "
                                  "I/O, which one event loop handles best");
    } else if (cores < 2) {
        pick = "async";
        snprintf(why, sizeof why, "one core: parse workers could not run "
                                  "beside the event loop");
    } else {
        pick = share > PARSE_SHARE_HYBRID ? "hybrid" : "async";
        snprintf(why, sizeof why,
                 "parsing took %.0f%% of the event loop's time on the first "
                 "%ld URLs (%ld pages, %.0f KB each on average; %s %.0f%%)",
                 share * 100, r->taken, r->parsed,
                 r->parsed ? (double)r->parsed_bytes / r->parsed / 1024 : 0.0,
                 share > PARSE_SHARE_HYBRID ? "above" : "not above",
                 PARSE_SHARE_HYBRID * 100);
    }
    /* Said where the summary goes: a terminal, or --summary. */
    if (r->o->summary > 0 || (r->o->summary == 0 && isatty(2)))
        fprintf(stderr, "gather: --mode auto picked %s: %s\n", pick, why);
    if (run_stopping(r))
        return 0;
    return mode_find(pick)->run(r);
}
