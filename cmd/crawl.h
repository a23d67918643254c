/* crawl: the URL source of gather crawl. A breadth-first frontier fed by
 * the links (and, with --requisites, the images) of every page recorded,
 * kept to scope, depth and robots.txt, and deduplicated by fingerprint.
 *
 * Memory: every URL ever judged costs 11 to 21 bytes in the dedup set
 * (fpset.h), and about as much again in the set of links as written;
 * URLs waiting in the frontier are kept in memory up to CRAWL_MEM_QUEUE
 * of them at each end, and spill to an unlinked temporary file in
 * between, so a million discovered URLs cost about 32 MB of fingerprints
 * plus a bounded queue, not a million strings.
 *
 * Ownership: a crawl belongs to its run, and runs on the thread that calls
 * run_take() and run_emit(). A host's robots.txt and the sitemaps it names
 * are fetched on background threads (fetch_bg), while sched holds the
 * host and the other hosts go on; only the fetch runs there: their
 * results are applied on the crawl's thread, in sched_take(). --sitemap
 * files are read before the first URL starts, in crawl_attach().
 */
#ifndef GATHER_CRAWL_H
#define GATHER_CRAWL_H

#include "run.h"

#define CRAWL_MEM_QUEUE 50000

typedef struct crawl crawl;

/* Sets up a crawl of r's seeds (its command-line URLs) and points so's
 * pull, new_host and admit at it. Returns NULL with a message in err (a
 * bad seed, a regex that does not compile, out of memory). */
crawl *crawl_new(run *r, sched_opts *so, char *err, size_t errlen);
void crawl_free(crawl *c);

/* Gives the crawl the scheduler its run created from so, and reads the
 * --sitemap files (blocking: nothing runs yet). */
void crawl_attach(crawl *c, sched *s);

/* A URL handed out has its outcome: queues what it found. */
void crawl_done(crawl *c, const run_outcome *oc);

/* Prints what the crawl did (URLs seen, skipped, memory) to f, and adds
 * it to the stats JSON object (a json_t *, or NULL). */
void crawl_report(const crawl *c, void *f, void *stats);

#endif
