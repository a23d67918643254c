/* report: what the user sees of a run besides records: the progress line
 * on a terminal, per-URL error lines, and the closing summary (also as
 * JSON for compare and the benchmarks).
 *
 * Ownership: report_new() returns a report freed with report_free(). A
 * report belongs to the thread that writes records.
 */
#ifndef GATHER_REPORT_H
#define GATHER_REPORT_H

#include <stdint.h>
#include <stdio.h>

typedef struct report report;

/* progress: draw the progress line (stderr should be a terminal).
 * total: URLs expected, or -1 when unknown. */
report *report_new(int progress, long total);
void report_free(report *r);

/* Accounts for one finished URL. latency_ms is its total time. */
void report_add(report *r, int ok, uint64_t bytes, double latency_ms);

/* Adds the summed peak RSS of worker processes (KiB). Without it the
 * summary counts the largest child instead. */
void report_add_child_rss(report *r, long kb);

/* Notes the current depth of the queue of bodies waiting for a parse
 * worker; the summary keeps the peak. */
void report_queue_depth(report *r, long n);

/* Prints "gather: URL: message" on stderr, above the progress line. */
void report_error(report *r, const char *url, const char *msg);

/* Redraws the progress line if it is due (at most 5 times a second). */
void report_tick(report *r);

/* The closing figures of the run. */
typedef struct report_summary {
    uint64_t ok, failed, bytes;
    double wall_s, req_per_s, mb_per_s;
    double p50_ms, p95_ms, p99_ms;
    double user_s, sys_s;
    long max_rss_kb;
    long vol_cs, invol_cs;
    long parse_queue_peak;
} report_summary;

/* Computes the summary; children's CPU and memory (worker processes) are
 * included. */
void report_summarise(report *r, report_summary *s);

/* Prints s as readable lines on f. */
void report_print(const report_summary *s, const char *mode, FILE *f);

/* Writes s as one JSON object to path, with the members of extra (a
 * json_t object, or NULL) added. Returns 0 or -1 with errno. */
int report_write_json(const report_summary *s, const char *mode,
                      void *extra, const char *path);

#endif
