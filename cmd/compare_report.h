/* compare_report: what gather compare found, and the three ways it is
 * shown: the table on stdout, report.json and a self-contained report.html
 * (inline CSS and SVG charts, no external resources).
 *
 * Ownership: compare.c builds a cmp_result and owns every pointer in it;
 * the functions here only read it. Nothing here is thread-safe or needs to
 * be: compare runs on one thread.
 */
#ifndef GATHER_COMPARE_REPORT_H
#define GATHER_COMPARE_REPORT_H

#include <stddef.h>
#include <stdio.h>

/* The phases of a record's "timings", in record order. WRITE is part of
 * TRANSFER; the others add up to TOTAL. */
enum {
    CMP_QUEUE,
    CMP_DNS,
    CMP_CONNECT,
    CMP_TLS,
    CMP_TTFB,
    CMP_TRANSFER,
    CMP_WRITE,
    CMP_PARSE_WAIT,
    CMP_PARSE,
    CMP_TOTAL,
    CMP_N_PHASES
};

/* "queue", "dns", ... "total": the keys of a record's timings. */
extern const char *const cmp_phase_names[CMP_N_PHASES];

/* The CDF in report.json and the chart holds at most this many points. */
#define CMP_CDF_POINTS 200

/* A workload is called CPU-bound when CPU time over the run process's
 * lifetime reaches this share of the cores (or when parse + parse_wait
 * outweigh the network phases). */
#define CMP_CPU_SHARE 0.8

/* One run of gather get, as its stats and records tell it. */
typedef struct cmp_run {
    int rep;                 /* 1-based repeat */
    int order;               /* 1-based position among all runs */
    int completed;           /* exited 0 or 1 and its files were read */
    int exit_code;           /* exit status, or -1 when killed */
    char status[256];        /* "exit 1", "killed by signal 11", ... */
    double wall_s, req_per_s, mb_per_s, user_s, sys_s;
    double proc_s;           /* the process's lifetime, fork to exit, as
                                compare saw it: CPU time covers all of it,
                                wall_s only the run (not startup) */
    long long ok, failed, bytes;
    long long max_rss_kb, vol_cs, invol_cs;
    long long records;       /* lines of its JSON Lines file */
    double phases_ms[CMP_N_PHASES]; /* per-phase sums over its records */
} cmp_run;

/* One mode: its runs and the figures drawn from its completed runs. Every
 * per-run figure is the median over the completed runs (the mean of the
 * middle two for an even count; integers rounded to nearest); latency
 * percentiles and the CDF pool the records of every completed run; failed
 * is the sum over completed runs. With no completed run, has_data is 0 and
 * the figures are 0. */
typedef struct cmp_mode {
    const char *name;        /* borrowed; from the mode table */
    cmp_run *runs;           /* owned; one per repeat, by rep */
    int completed;           /* how many runs completed */
    int has_data;            /* completed > 0 */
    double *lat;             /* owned; every record's total ms, sorted */
    size_t n_lat;
    double wall_s, req_per_s, mb_per_s, cpu_s, proc_s;
    long long max_rss_kb, ctx_switches, failed;
    double p50_ms, p95_ms, p99_ms;   /* nearest rank over lat */
    double phases_ms[CMP_N_PHASES];  /* median over runs of the sums */
    double cpu_ratio;        /* cpu_s / proc_s */
    int cpu_bound;
    double (*cdf)[2];        /* owned; [ms, fraction] points */
    size_t n_cdf;
} cmp_mode;

typedef struct cmp_result {
    const char *list;        /* borrowed; the list as given ("-": stdin),
                                or with crawl the seed URLs and "sitemap
                                URL" for each --sitemap, space-separated */
    int crawl;               /* the runs were gather crawl from seeds */
    int repeat;
    int cores;               /* CPUs this process may run on */
    cmp_mode *modes;         /* owned; in the order of --modes */
    size_t n_modes;
} cmp_result;

/* The rule that sets cmp_mode.cpu_bound, in words, for the outputs. */
extern const char cmp_bound_rule[];

/* Prints the comparison table and the phase table on f. */
void compare_print_table(const cmp_result *c, FILE *f);

/* Writes report.json / report.html to path. Return 0, or -1 with errno set
 * (ENOMEM when building the document failed). */
int compare_write_json(const cmp_result *c, const char *path);
int compare_write_html(const cmp_result *c, const char *path);

#endif
