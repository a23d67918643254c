/* compare: the gather compare subcommand. Splits its command line into its
 * own options and get's, runs `gather get` once per mode and repeat as a
 * child process (repeats interleaved), reads back each run's stats and
 * records, and reduces them to the figures of compare_report.h. */
#define _GNU_SOURCE
#include "compare.h"
#include "cli.h"
#include "compare_report.h"
#include "modes.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <ftw.h>
#include <jansson.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef GATHER_VERSION
#define GATHER_VERSION "0"
#endif

#define DEFAULT_REPEAT 3
#define MAX_REPEAT 1000
#define MAX_MODES 16

static void usage(FILE *f)
{
    fputs(
        "Usage: gather compare [GET OPTIONS] -i FILE [--modes LIST]\n"
        "                      [--repeat N] [--report DIR]\n"
        "       gather compare --crawl [CRAWL OPTIONS] URL... [--modes LIST]\n"
        "                      [--repeat N] [--report DIR]\n"
        "Run gather get on one URL list (or, with --crawl, gather crawl from\n"
        "the same seeds) in each mode, N times each with the modes\n"
        "interleaved, and compare the runs: wall time, requests/s, MB/s,\n"
        "latency p50/p95/p99, CPU user+sys, peak RSS, context switches,\n"
        "failures, and where the time goes phase by phase.\n"
        "\n"
        "  -i, --input FILE    the URL list; '-' reads stdin once\n"
        "      --crawl         run gather crawl from the seed URLs given\n"
        "                      (and its options: --depth, -p, --domains,\n"
        "                      ...) instead of gather get on a list\n"
        "      --modes LIST    comma-separated modes (default\n"
        "                      async,threads,procs,hybrid)\n"
        "      --repeat N      runs per mode, 1 to 1000 (default 3)\n"
        "      --report DIR    write DIR/report.html (charts, no network\n"
        "                      needed) and DIR/report.json, and keep each\n"
        "                      run's records and stats in DIR/runs/\n"
        "  -o, --output DIR    save each run's bodies under DIR/MODE-REP,\n"
        "                      which must not exist yet\n"
        "  -h, --help          show this help\n"
        "\n"
        "Every other option of gather get (-j, -P, --no-parse, --xpath,\n"
        "--timeout, ...; with --crawl, of gather crawl) is given to each run;\n"
        "-m, --jsonl and --stats are compare's to set.\n"
        "\n"
        "Figures per run (wall, rates, CPU, RSS, context switches) are the\n"
        "median over the repeats; latency percentiles are nearest-rank over\n"
        "every URL of every repeat; failed counts URLs over all repeats.\n"
        "\n"
        "Exit status: 0 every run completed (URLs may have failed: see the\n"
        "table), 1 some run did not complete, 2 usage error, 3 the report\n"
        "could not be written.\n",
        f);
}


/* ---- the command line -------------------------------------------------- */

/* What an option is to compare. */
enum {
    K_PASS,    /* get's: given to every run as it is */
    K_INPUT,
    K_OUTPUT,
    K_MODE,    /* get's, but compare sets it */
    K_OWN,     /* get's, but compare sets it (--jsonl, --stats) */
    K_HELP,
    K_VERSION,
    K_MODES,
    K_REPEAT,
    K_REPORT,
    K_CRAWL,
};

typedef struct opt_def {
    const char *name;  /* without "--" */
    char flag[40];     /* "--name", as passed on to get */
    char letter;       /* short form, or 0 */
    int has_arg;
    int kind;
} opt_def;

/* compare's own options; get's and crawl's come from cli_options(). */
static const opt_def own_opts[] = {
    {"crawl", "", 0, 0, K_CRAWL},
    {"modes", "", 0, 1, K_MODES},
    {"repeat", "", 0, 1, K_REPEAT},
    {"report", "", 0, 1, K_REPORT},
};

/* What get's option called name is to compare. */
static int get_opt_kind(const char *name)
{
    static const struct {
        const char *name;
        int kind;
    } special[] = {
        {"input", K_INPUT}, {"output", K_OUTPUT}, {"mode", K_MODE},
        {"jsonl", K_OWN},   {"stats", K_OWN},     {"help", K_HELP},
        {"version", K_VERSION},
    };
    for (size_t i = 0; i < sizeof special / sizeof *special; i++)
        if (!strcmp(special[i].name, name))
            return special[i].kind;
    return K_PASS;
}

/* The option table compare parses: crawl's options (get's among them),
 * then its own. Built once from cli.c's table, so an option added to get
 * or crawl needs nothing here; whether a crawl-only option is allowed
 * (--crawl) is for check_get_opts() to say, as get and crawl say it. */
static const opt_def *opt_table(size_t *n)
{
    static opt_def *defs;
    static size_t n_defs;
    if (!defs) {
        size_t ng;
        const struct option *g = cli_options(&ng);
        size_t nown = sizeof own_opts / sizeof *own_opts;
        if (!(defs = calloc(ng + nown, sizeof *defs)))
            return NULL;
        for (size_t i = 0; i < ng; i++) {
            defs[i].name = g[i].name;
            defs[i].letter = g[i].val > 0 && g[i].val < 128 ? (char)g[i].val
                                                            : 0;
            defs[i].has_arg = g[i].has_arg == required_argument;
            defs[i].kind = get_opt_kind(g[i].name);
        }
        memcpy(defs + ng, own_opts, sizeof own_opts);
        n_defs = ng + nown;
        for (size_t i = 0; i < n_defs; i++)
            snprintf(defs[i].flag, sizeof defs[i].flag, "--%s", defs[i].name);
    }
    *n = n_defs;
    return defs;
}

typedef struct cmp_opts {
    const char *input;   /* borrowed from argv */
    const char *outdir;  /* borrowed; NULL: bodies are not saved */
    const char *report;  /* borrowed; NULL: no report, runs in a temp dir */
    const char *modes;   /* borrowed; NULL: every mode */
    int crawl;           /* --crawl: each run is gather crawl from seeds */
    char **seeds;        /* owned array of strings borrowed from argv */
    int n_seeds, cap_seeds;
    long repeat;
    char **pass;         /* owned array of strings borrowed from argv or
                            the option table: get's options as "--name" */
    int n_pass, cap_pass;
    const mode_entry *mode[MAX_MODES]; /* from --modes */
    int n_modes;
} cmp_opts;

/* Appends s to the array *v of *n strings (room for *cap). */
static int push_str(char ***v, int *n, int *cap, const char *s)
{
    if (*n == *cap) {
        int c = *cap ? *cap * 2 : 16;
        char **p = realloc(*v, (size_t)c * sizeof *p);
        if (!p)
            return -1;
        *v = p;
        *cap = c;
    }
    (*v)[(*n)++] = (char *)s;
    return 0;
}

static int push_pass(cmp_opts *o, const char *s)
{
    return push_str(&o->pass, &o->n_pass, &o->cap_pass, s);
}

static int push_seed(cmp_opts *o, const char *s)
{
    return push_str(&o->seeds, &o->n_seeds, &o->cap_seeds, s);
}

/* Acts on one option d with its value val (NULL when it takes none).
 * Returns 0, EXIT_USAGE, EXIT_FATAL, or -1 when help or the version was
 * printed. */
static int take_opt(cmp_opts *o, const opt_def *d, char *val, char *err,
                    size_t errlen)
{
    char *end;
    switch (d->kind) {
    case K_INPUT:
        o->input = val;
        return 0;
    case K_OUTPUT:
        if (!*val)
            return cli_fail(err, errlen, "--output wants a directory");
        o->outdir = val;
        return 0;
    case K_MODE:
        return cli_fail(err, errlen, "compare runs each mode of --modes; "
                                 "-m/--mode is not for compare");
    case K_OWN:
        return cli_fail(err, errlen, "compare sets --%s of each run itself; "
                                 "--report DIR keeps them in DIR/runs/",
                    d->name);
    case K_HELP:
        usage(stdout);
        return -1;
    case K_VERSION:
        printf("gather %s\n", GATHER_VERSION);
        return -1;
    case K_MODES:
        o->modes = val;
        return 0;
    case K_REPEAT:
        errno = 0;
        o->repeat = strtol(val, &end, 10);
        if (errno || end == val || *end || o->repeat < 1 ||
            o->repeat > MAX_REPEAT)
            return cli_fail(err, errlen,
                        "--repeat wants a number from 1 to %d, got '%s'",
                        MAX_REPEAT, val);
        return 0;
    case K_REPORT:
        if (!*val)
            return cli_fail(err, errlen, "--report wants a directory");
        o->report = val;
        return 0;
    case K_CRAWL:
        o->crawl = 1;
        return 0;
    default:
        if (push_pass(o, d->flag) || (val && push_pass(o, val))) {
            cli_fail(err, errlen, "out of memory");
            return EXIT_FATAL;
        }
        return 0;
    }
}

/* Finds the long option named by s[0..n), allowing unambiguous prefixes
 * as getopt_long does. */
static const opt_def *find_long(const char *s, size_t n, int *matches)
{
    size_t nd;
    const opt_def *defs = opt_table(&nd), *found = NULL;
    *matches = 0;
    for (size_t i = 0; defs && i < nd; i++) {
        const char *name = defs[i].name;
        if (strncmp(name, s, n))
            continue;
        if (strlen(name) == n) {
            *matches = 1;
            return &defs[i];
        }
        found = &defs[i];
        ++*matches;
    }
    return *matches == 1 ? found : NULL;
}

static const opt_def *find_short(char c)
{
    size_t nd;
    const opt_def *defs = opt_table(&nd);
    for (size_t i = 0; defs && i < nd; i++)
        if (defs[i].letter == c)
            return &defs[i];
    return NULL;
}

/* Splits argv into compare's options, get's (o->pass, one "--name" and
 * its value apiece) and the rest (o->seeds, which only --crawl takes).
 * Same return values as take_opt(). */
static int scan_args(int argc, char **argv, cmp_opts *o, char *err,
                     size_t errlen)
{
    int rc;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (!strcmp(a, "--")) { /* the rest are URLs */
            while (++i < argc)
                if (push_seed(o, argv[i]))
                    goto nomem;
            break;
        }
        if (a[0] != '-' || !a[1]) {
            if (push_seed(o, a))
                goto nomem;
            continue;
        }
        if (a[1] == '-') {
            const char *name = a + 2;
            size_t n = strcspn(name, "=");
            int matches;
            const opt_def *d = find_long(name, n, &matches);
            char *val = NULL;
            if (!d)
                return cli_fail(err, errlen, matches > 1
                                ? "option '--%.*s' is ambiguous"
                                : "unknown option '--%.*s'", (int)n, name);
            if (name[n] == '=') {
                if (!d->has_arg)
                    return cli_fail(err, errlen, "option --%s takes no value",
                                d->name);
                val = (char *)name + n + 1;
            } else if (d->has_arg) {
                if (i + 1 >= argc)
                    return cli_fail(err, errlen, "option --%s needs a value",
                                d->name);
                val = argv[++i];
            }
            if ((rc = take_opt(o, d, val, err, errlen)))
                return rc;
            continue;
        }
        for (char *p = a + 1; *p; p++) {
            const opt_def *d = find_short(*p);
            char *val = NULL;
            if (!d)
                return cli_fail(err, errlen, "unknown option '-%c'", *p);
            if (d->has_arg) {
                if (p[1])
                    val = p + 1;
                else if (i + 1 < argc)
                    val = argv[++i];
                else
                    return cli_fail(err, errlen, "option -%c needs a value", *p);
            }
            if ((rc = take_opt(o, d, val, err, errlen)))
                return rc;
            if (d->has_arg)
                break;
        }
    }
    return 0;
nomem:
    cli_fail(err, errlen, "out of memory");
    return EXIT_FATAL;
}

/* Lets cli_parse_get() check get's (or crawl's) options as a run will see
 * them. It gets copies: getopt_long permutes argv and --xpath splits its
 * value. */
static int check_get_opts(const cmp_opts *o, char *err, size_t errlen)
{
    int n = 0, rc = EXIT_FATAL;
    char **v = calloc((size_t)(o->n_pass + o->n_seeds) + 7, sizeof *v);
    gather_opts go;
    if (!v) {
        cli_fail(err, errlen, "out of memory");
        return EXIT_FATAL;
    }
    v[n++] = strdup("compare");
    for (int i = 0; i < o->n_pass; i++)
        v[n++] = strdup(o->pass[i]);
    if (o->input) {
        v[n++] = strdup("--input");
        v[n++] = strdup(o->input);
    }
    if (o->outdir) {
        v[n++] = strdup("--output");
        v[n++] = strdup(o->outdir);
    }
    v[n++] = strdup("--");
    for (int i = 0; i < o->n_seeds; i++)
        v[n++] = strdup(o->seeds[i]);
    for (int i = 0; i < n; i++)
        if (!v[i]) {
            cli_fail(err, errlen, "out of memory");
            goto out;
        }
    rc = cli_parse_get(n, v, o->crawl, &go, err, errlen);
    cli_free_opts(&go);
    if (rc < 0)
        rc = 0; /* cannot happen: --help and --version never get here */
out:
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
    return rc;
}

static int parse_modes(cmp_opts *o, char *err, size_t errlen)
{
    static const char *const all[] = {"async", "threads", "procs", "hybrid"};
    if (!o->modes) {
        for (size_t i = 0; i < sizeof all / sizeof *all; i++)
            o->mode[o->n_modes++] = mode_find(all[i]);
        return 0;
    }
    const char *p = o->modes;
    for (;;) {
        size_t n = strcspn(p, ",");
        char name[32];
        const mode_entry *m = NULL;
        if (n && n < sizeof name) {
            memcpy(name, p, n);
            name[n] = '\0';
            m = mode_find(name);
        }
        if (!n)
            return cli_fail(err, errlen, "--modes wants a comma-separated list "
                        "of modes (%s), got '%s'", mode_names(), o->modes);
        if (!m)
            return cli_fail(err, errlen, "unknown mode '%.*s' in --modes "
                        "(modes: %s)", (int)n, p, mode_names());
        for (int i = 0; i < o->n_modes; i++)
            if (o->mode[i] == m)
                return cli_fail(err, errlen, "mode '%s' given twice in --modes",
                            m->name);
        if (o->n_modes == MAX_MODES)
            return cli_fail(err, errlen, "too many modes in --modes");
        o->mode[o->n_modes++] = m;
        if (!p[n])
            return 0;
        p += n + 1;
    }
}

/* Parses and checks the whole command line. Returns 0 to run, -1 when
 * help or the version was printed, or an exit code with err filled. */
static int parse_cmdline(int argc, char **argv, cmp_opts *o, char *err,
                         size_t errlen)
{
    int rc;
    memset(o, 0, sizeof *o);
    o->repeat = DEFAULT_REPEAT;
    if ((rc = scan_args(argc, argv, o, err, errlen)))
        return rc;
    if (o->crawl && o->input)
        return cli_fail(err, errlen, "compare --crawl takes seed URLs, "
                                     "not -i");
    if (!o->crawl && o->n_seeds)
        return cli_fail(err, errlen, "compare takes a URL list (-i FILE), "
                        "not URLs: '%s' (to compare crawls from seed URLs, "
                        "add --crawl)", o->seeds[0]);
    if (!o->crawl && !o->input)
        return cli_fail(err, errlen, "compare needs a URL list: -i FILE "
                                     "(or --crawl and seed URLs)");
    if ((rc = parse_modes(o, err, errlen)))
        return rc;
    return check_get_opts(o, err, errlen);
}

/* ---- files and directories --------------------------------------------- */

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* Removes the temporary run directory and all in it. */
static void rm_tree(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Copies stdin to path, so every run reads the same list. */
static int copy_stdin(const char *path)
{
    char buf[65536];
    int rc = -1;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    for (;;) {
        ssize_t n = read(0, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto out;
        if (n == 0)
            break;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(fd, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                goto out;
            off += w;
        }
    }
    rc = 0;
out:
    if (close(fd))
        rc = -1;
    return rc;
}

/* ---- running ----------------------------------------------------------- */

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    got_signal = sig;
}

typedef struct cmp_ctx {
    const cmp_opts *o;
    const char *workdir;   /* borrowed; where run files go */
    const char *list;      /* borrowed; the list each run reads */
    int n_runs;            /* modes x repeat */
    int tty;               /* stderr is a terminal: show which run is on */
} cmp_ctx;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs one gather get (or gather crawl) and waits for it. Returns its wait
 * status, or -1 when it could not be started (errno set); *lifetime gets
 * the seconds from fork to its exit. */
static int spawn_get(const cmp_ctx *cx, const char *mode, const char *out,
                     const char *jsonl, const char *stats,
                     const char *errpath, double *lifetime)
{
    const cmp_opts *o = cx->o;
    int status = -1, nul = -1, efd = -1, n = 0;
    char **v = calloc((size_t)(o->n_pass + o->n_seeds) + 20, sizeof *v);
    if (!v)
        return -1;
    v[n++] = "gather";
    v[n++] = o->crawl ? "crawl" : "get";
    v[n++] = "--mode";
    v[n++] = (char *)mode;
    for (int i = 0; i < o->n_pass; i++)
        v[n++] = o->pass[i];
    if (!o->crawl) {
        v[n++] = "--input";
        v[n++] = (char *)cx->list;
    }
    if (out) {
        v[n++] = "--output";
        v[n++] = (char *)out;
    }
    v[n++] = "--jsonl";
    v[n++] = (char *)jsonl;
    v[n++] = "--stats";
    v[n++] = (char *)stats;
    /* last, so they win over a --progress or --summary given to compare */
    v[n++] = "--no-progress";
    v[n++] = "--no-summary";
    v[n++] = "--";
    for (int i = 0; i < o->n_seeds; i++)
        v[n++] = o->seeds[i];
    v[n] = NULL;

    nul = open("/dev/null", O_RDWR | O_CLOEXEC);
    efd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (nul < 0 || efd < 0)
        goto out;
    double t0 = now_s();
    pid_t pid = fork();
    if (pid < 0)
        goto out;
    if (pid == 0) {
        /* The same binary, so an ASan build compares ASan builds. */
        if (dup2(nul, 0) < 0 || dup2(nul, 1) < 0 || dup2(efd, 2) < 0)
            _exit(127);
        execv("/proc/self/exe", v);
        _exit(127);
    }
    int forwarded = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            status = -1;
            break;
        }
        if (got_signal && !forwarded) {
            kill(pid, got_signal);
            forwarded = 1;
        }
    }
    *lifetime = now_s() - t0;
out:
    if (nul >= 0)
        close(nul);
    if (efd >= 0)
        close(efd);
    free(v);
    return status;
}

/* Adds to the run's status line, e.g. "exit 1; no stats: ...". */
static void status_add(cmp_run *run, const char *fmt, ...)
{
    size_t n = strlen(run->status);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(run->status + n, sizeof run->status - n, fmt, ap);
    va_end(ap);
}

static double num(json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

static long long inum(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (long long)json_integer_value(v)
                              : (long long)json_number_value(v);
}

/* Reads a run's --stats file. Returns 0, or -1 with run->status set. */
static int read_stats(cmp_run *run, const char *path)
{
    json_error_t je;
    json_t *s = json_load_file(path, 0, &je);
    if (!json_is_object(s)) {
        status_add(run, "; no stats: %s", je.text);
        json_decref(s);
        return -1;
    }
    run->ok = inum(s, "ok");
    run->failed = inum(s, "failed");
    run->bytes = inum(s, "bytes");
    run->wall_s = num(s, "wall_s");
    run->req_per_s = num(s, "req_per_s");
    run->mb_per_s = num(s, "mb_per_s");
    run->user_s = num(s, "user_s");
    run->sys_s = num(s, "sys_s");
    run->max_rss_kb = inum(s, "max_rss_kb");
    run->vol_cs = inum(s, "vol_cs");
    run->invol_cs = inum(s, "invol_cs");
    json_decref(s);
    return 0;
}

static int push_lat(cmp_mode *m, double v, size_t *cap)
{
    if (m->n_lat == *cap) {
        size_t c = *cap ? *cap * 2 : 1024;
        double *l = realloc(m->lat, c * sizeof *l);
        if (!l)
            return -1;
        m->lat = l;
        *cap = c;
    }
    m->lat[m->n_lat++] = v;
    return 0;
}

/* Reads a run's records: sums each phase and adds every total to the
 * mode's latencies. Returns 0, or -1 with run->status set and the mode's
 * latencies as they were. */
static int read_records(cmp_mode *m, size_t *cap, cmp_run *run,
                        const char *path)
{
    size_t n_before = m->n_lat, len = 0;
    char *line = NULL;
    ssize_t got;
    int rc = -1;
    FILE *f = fopen(path, "re");
    if (!f) {
        status_add(run, "; no records: %s", strerror(errno));
        return -1;
    }
    while ((got = getline(&line, &len, f)) > 0) {
        json_error_t je;
        json_t *rec = json_loadb(line, (size_t)got, 0, &je);
        json_t *t = json_object_get(rec, "timings");
        if (!json_is_object(t)) {
            json_decref(rec);
            status_add(run, "; bad record on line %lld", run->records + 1);
            goto out;
        }
        for (int p = 0; p < CMP_N_PHASES; p++)
            run->phases_ms[p] += num(t, cmp_phase_names[p]);
        int pushed = push_lat(m, num(t, "total"), cap);
        json_decref(rec);
        if (pushed) {
            status_add(run, "; out of memory");
            goto out;
        }
        run->records++;
    }
    rc = 0;
out:
    if (rc)
        m->n_lat = n_before;
    free(line);
    fclose(f);
    return rc;
}

/* Prints the last lines of a failed run's stderr. */
static void show_tail(const char *path)
{
    char *lines[5] = {0}, *line = NULL;
    size_t len = 0, n = 0;
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    while (getline(&line, &len, f) > 0) {
        free(lines[n % 5]);
        lines[n % 5] = line;
        line = NULL;
        n++;
    }
    for (size_t i = n > 5 ? n - 5 : 0; i < n; i++) {
        const char *l = lines[i % 5];
        fprintf(stderr, "    %s%s", l, l[strlen(l) - 1] == '\n' ? "" : "\n");
    }
    for (int i = 0; i < 5; i++)
        free(lines[i]);
    free(line);
    fclose(f);
}

/* One run of mode m, repeat rep. Returns 0 when it completed. */
static int do_run(const cmp_ctx *cx, cmp_mode *m, size_t *lat_cap,
                  cmp_run *run)
{
    char *jsonl = NULL, *stats = NULL, *errp = NULL, *out = NULL;
    int rc = -1;
    const char *d = cx->workdir;
    run->exit_code = -1;
    run->status[0] = '\0';
    if (asprintf(&jsonl, "%s/%s-%d.jsonl", d, m->name, run->rep) < 0)
        jsonl = NULL;
    if (asprintf(&stats, "%s/%s-%d.json", d, m->name, run->rep) < 0)
        stats = NULL;
    if (asprintf(&errp, "%s/%s-%d.stderr", d, m->name, run->rep) < 0)
        errp = NULL;
    if (cx->o->outdir &&
        asprintf(&out, "%s/%s-%d", cx->o->outdir, m->name, run->rep) < 0)
        out = NULL;
    if (!jsonl || !stats || !errp || (cx->o->outdir && !out)) {
        status_add(run, "out of memory");
        goto out;
    }
    /* A stale file of an earlier compare in the same --report DIR must
     * not pass for this run's. */
    unlink(jsonl);
    unlink(stats);
    if (cx->tty)
        fprintf(stderr, "\r\033[Kgather compare: run %d/%d: %s #%d",
                run->order, cx->n_runs, m->name, run->rep);
    int st = spawn_get(cx, m->name, out, jsonl, stats, errp, &run->proc_s);
    if (cx->tty)
        fputs("\r\033[K", stderr);
    if (st < 0)
        status_add(run, "could not start: %s", strerror(errno));
    else if (WIFSIGNALED(st))
        status_add(run, "killed by signal %d (%s)", WTERMSIG(st),
                   strsignal(WTERMSIG(st)));
    else {
        run->exit_code = WEXITSTATUS(st);
        status_add(run, "exit %d%s", run->exit_code,
                   run->exit_code == 127 ? " (could not run /proc/self/exe)"
                                         : "");
    }
    if ((run->exit_code == EXIT_ALL_OK ||
         run->exit_code == EXIT_SOME_FAILED) &&
        !read_stats(run, stats) && !read_records(m, lat_cap, run, jsonl)) {
        if (run->records == run->ok + run->failed) {
            run->completed = 1;
            rc = 0;
        } else {
            /* e.g. the records file could not be written to the end */
            status_add(run, "; %lld records for %lld URLs", run->records,
                       run->ok + run->failed);
            m->n_lat -= (size_t)run->records;
        }
    }
    if (rc && !got_signal) {
        fprintf(stderr, "gather compare: %s run %d did not complete (%s)\n",
                m->name, run->rep, run->status);
        show_tail(errp);
    }
out:
    free(jsonl);
    free(stats);
    free(errp);
    free(out);
    return rc;
}

/* ---- figures ----------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of v[0..n) (sorts v): the middle value, or the mean of the
 * middle two. */
static double median(double *v, size_t n)
{
    if (!n)
        return 0;
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Nearest-rank percentile p (integer percent) of sorted v: the value at
 * rank ceil(p * n / 100). */
static double percentile(const double *v, size_t n, unsigned p)
{
    if (!n)
        return 0;
    size_t k = (p * n + 99) / 100;
    return v[(k < 1 ? 1 : k) - 1];
}

/* The CDF of sorted v as at most CMP_CDF_POINTS points [value, rank/n]:
 * every point when there are few, else the points at ranks
 * ceil(j * n / CMP_CDF_POINTS), j = 1..CMP_CDF_POINTS (the last is 1). */
static int make_cdf(cmp_mode *m)
{
    size_t n = m->n_lat;
    size_t pts = n <= CMP_CDF_POINTS ? n : CMP_CDF_POINTS;
    if (!pts)
        return 0;
    m->cdf = malloc(pts * sizeof *m->cdf);
    if (!m->cdf)
        return -1;
    for (size_t j = 1; j <= pts; j++) {
        size_t k = n <= CMP_CDF_POINTS
                       ? j
                       : (j * n + CMP_CDF_POINTS - 1) / CMP_CDF_POINTS;
        m->cdf[j - 1][0] = m->lat[k - 1];
        m->cdf[j - 1][1] = (double)k / (double)n;
    }
    m->n_cdf = pts;
    return 0;
}

/* What summarise_mode() takes the median of. */
enum { F_WALL, F_PROC, F_RPS, F_MBPS, F_CPU, F_RSS, F_CTX, F_PHASE0 };

static double run_field(const cmp_run *r, int f)
{
    switch (f) {
    case F_WALL:
        return r->wall_s;
    case F_PROC:
        return r->proc_s;
    case F_RPS:
        return r->req_per_s;
    case F_MBPS:
        return r->mb_per_s;
    case F_CPU:
        return r->user_s + r->sys_s;
    case F_RSS:
        return (double)r->max_rss_kb;
    case F_CTX:
        return (double)(r->vol_cs + r->invol_cs);
    default:
        return r->phases_ms[f - F_PHASE0];
    }
}

/* The median of field f over m's completed runs; v has room for them. */
static double median_of(const cmp_mode *m, int repeat, int f, double *v)
{
    size_t n = 0;
    for (int i = 0; i < repeat; i++)
        if (m->runs[i].completed)
            v[n++] = run_field(&m->runs[i], f);
    return median(v, n);
}

/* Reduces a mode's completed runs to its figures. Returns 0 or -1 when
 * out of memory. */
static int summarise_mode(cmp_mode *m, int repeat)
{
    double *v = malloc((size_t)repeat * sizeof *v);
    if (!v)
        return -1;
    m->has_data = m->completed > 0;
    m->wall_s = median_of(m, repeat, F_WALL, v);
    m->proc_s = median_of(m, repeat, F_PROC, v);
    m->req_per_s = median_of(m, repeat, F_RPS, v);
    m->mb_per_s = median_of(m, repeat, F_MBPS, v);
    m->cpu_s = median_of(m, repeat, F_CPU, v);
    m->max_rss_kb = llround(median_of(m, repeat, F_RSS, v));
    m->ctx_switches = llround(median_of(m, repeat, F_CTX, v));
    for (int p = 0; p < CMP_N_PHASES; p++)
        m->phases_ms[p] = median_of(m, repeat, F_PHASE0 + p, v);
    free(v);
    m->failed = 0;
    for (int i = 0; i < repeat; i++)
        if (m->runs[i].completed)
            m->failed += m->runs[i].failed;

    if (m->n_lat)
        qsort(m->lat, m->n_lat, sizeof *m->lat, cmp_double);
    m->p50_ms = percentile(m->lat, m->n_lat, 50);
    m->p95_ms = percentile(m->lat, m->n_lat, 95);
    m->p99_ms = percentile(m->lat, m->n_lat, 99);

    /* The rule in cmp_bound_rule; the sums are in the order it states. */
    const double *ph = m->phases_ms;
    double net = ph[CMP_DNS] + ph[CMP_CONNECT] + ph[CMP_TLS] + ph[CMP_TTFB] +
                 ph[CMP_TRANSFER];
    double cpu = ph[CMP_PARSE_WAIT] + ph[CMP_PARSE];
    m->cpu_ratio = m->proc_s > 0 ? m->cpu_s / m->proc_s : 0;
    m->cpu_bound =
        m->has_data &&
        (cpu > net ||
         (m->proc_s > 0 && m->cpu_s >= CMP_CPU_SHARE * m->proc_s));
    return make_cdf(m);
}

static int count_cores(void)
{
    cpu_set_t set;
    if (!sched_getaffinity(0, sizeof set, &set) && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* ---- the subcommand ---------------------------------------------------- */

/* Prints err; returns rc (with a hint for a usage error). */
static int say_error(int rc, const char *err)
{
    fprintf(stderr, "gather compare: %s\n", err);
    if (rc == EXIT_USAGE)
        fputs("Try 'gather compare --help'.\n", stderr);
    return rc;
}

/* Makes the directory for the runs' files: DIR/runs with --report, else a
 * new temporary directory (*tmp set: the caller removes it). Returns the
 * malloced path, or NULL with a message printed and *rc set. */
static char *open_workdir(const cmp_opts *o, int *tmp, int *rc)
{
    char *dir = NULL, err[1024];
    const char *t = getenv("TMPDIR");
    *tmp = !o->report;
    if (o->report ? asprintf(&dir, "%s/runs", o->report) < 0
                  : asprintf(&dir, "%s/gather-compare.XXXXXX",
                             t && *t ? t : "/tmp") < 0) {
        *rc = say_error(EXIT_FATAL, "out of memory");
        return NULL;
    }
    if (o->report ? fetch_mkdir_p(dir) : !mkdtemp(dir)) {
        snprintf(err, sizeof err, "cannot create %s: %s", dir,
                 strerror(errno));
        *rc = say_error(o->report ? EXIT_USAGE : EXIT_FATAL, err);
        free(dir);
        *tmp = 0;
        return NULL;
    }
    return dir;
}

/* Runs every run: repeat by repeat, each repeat starting one mode later
 * than the last, so no mode always runs first (on cold caches) or right
 * after the same other. A signal stops it after the run in progress, which
 * gets the signal too, and so does a run that exits with a usage error
 * (options or inputs the runs cannot use: the others would fail alike).
 * Returns 1 when some run did not complete, EXIT_USAGE after a usage
 * error. */
static int run_all(const cmp_ctx *cx, cmp_result *c, size_t *lat_caps)
{
    struct sigaction sa, old_int, old_term, old_hup;
    int order = 0, incomplete = 0;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: waitpid must return */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGHUP, &sa, &old_hup);
    for (int r = 0; r < c->repeat && !got_signal; r++)
        for (size_t i = 0; i < c->n_modes && !got_signal; i++) {
            size_t mi = (i + (size_t)r) % c->n_modes;
            cmp_mode *m = &c->modes[mi];
            cmp_run *run = &m->runs[r];
            run->rep = r + 1;
            run->order = ++order;
            if (!do_run(cx, m, &lat_caps[mi], run))
                m->completed++;
            else if (run->exit_code == EXIT_USAGE) {
                incomplete = EXIT_USAGE;
                goto out;
            } else
                incomplete = 1;
        }
out:
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
    return incomplete;
}

/* Writes DIR/report.json and DIR/report.html and says where they are.
 * Returns 0, or EXIT_FATAL with a message printed. */
static int write_reports(const cmp_result *c, const char *dir,
                         const char *workdir)
{
    char *json = NULL, *html = NULL;
    int rc = EXIT_FATAL;
    if (asprintf(&json, "%s/report.json", dir) < 0)
        json = NULL;
    if (asprintf(&html, "%s/report.html", dir) < 0)
        html = NULL;
    if (!json || !html)
        fputs("gather compare: out of memory\n", stderr);
    else if (compare_write_json(c, json))
        fprintf(stderr, "gather compare: cannot write %s: %s\n", json,
                strerror(errno));
    else if (compare_write_html(c, html))
        fprintf(stderr, "gather compare: cannot write %s: %s\n", html,
                strerror(errno));
    else {
        printf("\nreport: %s (figures: %s, runs: %s/)\n", html, json,
               workdir);
        rc = 0;
    }
    free(json);
    free(html);
    return rc;
}

/* Checks what can be checked before the first run: the list is readable
 * and each run's output directory is new. */
static int check_paths(const cmp_opts *o, char *err, size_t errlen)
{
    struct stat st;
    if (o->input && strcmp(o->input, "-")) {
        int fd = open(o->input, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return cli_fail(err, errlen, "cannot read %s: %s", o->input,
                        strerror(errno));
        int isdir = !fstat(fd, &st) && S_ISDIR(st.st_mode);
        close(fd);
        if (isdir)
            return cli_fail(err, errlen, "cannot read %s: %s", o->input,
                        strerror(EISDIR));
    }
    if (!o->outdir)
        return 0;
    for (int i = 0; i < o->n_modes; i++)
        for (long r = 1; r <= o->repeat; r++) {
            char path[4096];
            int n = snprintf(path, sizeof path, "%s/%s-%ld", o->outdir,
                             o->mode[i]->name, r);
            if (n < 0 || (size_t)n >= sizeof path)
                return cli_fail(err, errlen, "--output: path too long");
            if (!lstat(path, &st))
                return cli_fail(err, errlen, "%s exists; compare saves each "
                            "run into a new directory", path);
        }
    return 0;
}

/* Where a crawl starts, for the outputs: the seed URLs, then "sitemap
 * URL" for each --sitemap, space-separated (malloced; NULL when out of
 * memory). */
static char *crawl_from(const cmp_opts *o)
{
    char *s = NULL;
    size_t len;
    FILE *f = open_memstream(&s, &len);
    if (!f)
        return NULL;
    for (int i = 0; i < o->n_seeds; i++)
        fprintf(f, "%s%s", ftell(f) ? " " : "", o->seeds[i]);
    for (int i = 0; i + 1 < o->n_pass; i++)
        if (!strcmp(o->pass[i], "--sitemap"))
            fprintf(f, "%ssitemap %s", ftell(f) ? " " : "", o->pass[++i]);
    if (fclose(f)) {
        free(s);
        return NULL;
    }
    return s;
}

static void free_result(cmp_result *c)
{
    for (size_t i = 0; c->modes && i < c->n_modes; i++) {
        free(c->modes[i].runs);
        free(c->modes[i].lat);
        free(c->modes[i].cdf);
    }
    free(c->modes);
}

int compare_main(int argc, char **argv)
{
    cmp_opts o;
    cmp_ctx cx = {0};
    cmp_result c = {0};
    char err[1024];
    char *workdir = NULL, *list = NULL, *seeds = NULL;
    size_t *caps = NULL;
    int tmp = 0, incomplete;
    int rc = parse_cmdline(argc, argv, &o, err, sizeof err);

    if (rc) {
        if (rc > 0)
            rc = say_error(rc, err);
        else
            rc = EXIT_ALL_OK;
        free(o.pass);
        free(o.seeds);
        return rc;
    }
    if ((rc = check_paths(&o, err, sizeof err))) {
        free(o.pass);
        free(o.seeds);
        return say_error(rc, err);
    }

    if (!(workdir = open_workdir(&o, &tmp, &rc)))
        goto out;
    if (o.outdir && fetch_mkdir_p(o.outdir)) {
        snprintf(err, sizeof err, "cannot create %s: %s", o.outdir,
                 strerror(errno));
        rc = say_error(EXIT_USAGE, err);
        goto out;
    }
    if (o.input && !strcmp(o.input, "-")) {
        if (asprintf(&list, "%s/list.txt", workdir) < 0)
            list = NULL;
        if (!list || copy_stdin(list)) {
            snprintf(err, sizeof err, "cannot copy stdin to %s: %s",
                     list ? list : workdir, strerror(errno));
            rc = say_error(EXIT_FATAL, err);
            goto out;
        }
    }

    if (o.crawl && !(seeds = crawl_from(&o))) {
        rc = say_error(EXIT_FATAL, "out of memory");
        goto out;
    }
    c.list = o.crawl ? seeds : o.input;
    c.crawl = o.crawl;
    c.repeat = (int)o.repeat;
    c.cores = count_cores();
    c.n_modes = (size_t)o.n_modes;
    c.modes = calloc(c.n_modes, sizeof *c.modes);
    caps = calloc(c.n_modes, sizeof *caps);
    if (!c.modes || !caps) {
        rc = say_error(EXIT_FATAL, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < c.n_modes; i++) {
        c.modes[i].name = o.mode[i]->name;
        c.modes[i].runs = calloc((size_t)c.repeat, sizeof(cmp_run));
        if (!c.modes[i].runs) {
            rc = say_error(EXIT_FATAL, "out of memory");
            goto out;
        }
    }

    cx.o = &o;
    cx.workdir = workdir;
    cx.list = list ? list : o.input;
    cx.n_runs = (int)c.n_modes * c.repeat;
    cx.tty = isatty(2);
    incomplete = run_all(&cx, &c, caps);
    if (incomplete == EXIT_USAGE) {
        rc = say_error(EXIT_USAGE, "the runs cannot use these options or "
                                   "inputs (see above); nothing compared");
        goto out;
    }
    if (got_signal) {
        fprintf(stderr, "gather compare: stopped by signal %d\n",
                (int)got_signal);
        rc = 128 + got_signal;
        goto out;
    }

    for (size_t i = 0; i < c.n_modes; i++)
        if (summarise_mode(&c.modes[i], c.repeat)) {
            rc = say_error(EXIT_FATAL, "out of memory");
            goto out;
        }
    compare_print_table(&c, stdout);
    rc = incomplete ? EXIT_SOME_FAILED : EXIT_ALL_OK;
    if (o.report && write_reports(&c, o.report, workdir))
        rc = EXIT_FATAL;
out:
    fflush(stdout);
    if (tmp && workdir)
        rm_tree(workdir);
    free_result(&c);
    free(caps);
    free(workdir);
    free(list);
    free(seeds);
    free(o.pass);
    free(o.seeds);
    return rc;
}
