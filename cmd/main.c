/* main: gather's entry point: picks the subcommand, sets up the libraries
 * once, runs the chosen mode and turns the outcome into an exit code. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include "cli.h"
#include "compare.h"
#include "crawl.h"
#include "modes.h"

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#ifndef GATHER_VERSION
#define GATHER_VERSION "0"
#endif

/* Each transfer needs a socket and maybe a file; -j 1000 needs more than
 * the usual soft limit of 1024 descriptors. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max > 65536 ? 65536 : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* The first SIGINT or SIGTERM asks the run to stop (no new transfers,
 * records of finished URLs written); the second ends the process now.
 * The flag lives in a shared page, so that procs' fetch workers (forked
 * from here, with both signals ignored) see it too: their transfers end
 * as "interrupted" and remove their temporary files instead of being
 * killed with them. */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2,
               "the stop flag is set in a signal handler and shared "
               "across processes, so it must be lock-free");
static atomic_int stop_fallback;
static atomic_int *stop_signal = &stop_fallback;

static void share_stop_flag(void)
{
    void *m = mmap(NULL, sizeof(atomic_int), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m != MAP_FAILED)
        stop_signal = m;
}

static void on_signal(int sig)
{
    if (atomic_load(stop_signal))
        _exit(128 + sig);
    atomic_store(stop_signal, sig);
}

static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* gather get and gather crawl: one run, in one mode. */
static int cmd_get(int argc, char **argv, int crawl)
{
    gather_opts o;
    run r;
    char err[512];
    const char *cmd = crawl ? "crawl" : "get";
    int rc = cli_parse_get(argc, argv, crawl, &o, err, sizeof err);
    if (rc) {
        if (rc > 0)
            fprintf(stderr, "gather %s: %s\nTry 'gather %s --help'.\n", cmd,
                    err, cmd);
        cli_free_opts(&o);
        return rc > 0 ? rc : EXIT_ALL_OK;
    }
    const mode_entry *m = mode_find(o.mode ? o.mode : "async");
    o.stop = stop_signal;
    if (run_open(&r, &o, err, sizeof err)) {
        fprintf(stderr, "gather %s: %s\n", cmd, err);
        cli_free_opts(&o);
        return EXIT_USAGE;
    }
    rc = m->run(&r);

    report_summary s;
    report_summarise(r.rep, &s);
    int summary = o.summary > 0 || (o.summary == 0 && isatty(2));
    if (summary)
        report_print(&s, m->name, stderr);
    json_t *extra = json_object();
    if (r.crawl)
        crawl_report(r.crawl, summary ? stderr : NULL, extra);
    if (o.stats && report_write_json(&s, m->name, extra, o.stats))
        fprintf(stderr, "gather %s: cannot write %s\n", cmd, o.stats);
    json_decref(extra);
    run_close(&r); /* writes the cookie jar, which can fail too */
    int out_error = r.out_error;
    cli_free_opts(&o);
    int sig = atomic_load(stop_signal);
    if (sig)
        return 128 + sig;
    if (rc)
        return EXIT_FATAL;
    return s.failed || out_error ? EXIT_SOME_FAILED : EXIT_ALL_OK;
}

static void usage(FILE *f)
{
    fputs("Usage: gather COMMAND [OPTIONS]\n"
          "\n"
          "Commands:\n"
          "  get      fetch a URL list concurrently, save, parse, record\n"
          "  crawl    follow links from seed URLs, with scope and robots.txt\n"
          "  compare  run get (or crawl) in each mode and compare the runs\n"
          "\n"
          "Run 'gather COMMAND --help' for the options of a command.\n",
          f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(stdout);
        return EXIT_ALL_OK;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
        printf("gather %s\n", GATHER_VERSION);
        return EXIT_ALL_OK;
    }
    if (strcmp(argv[1], "get") && strcmp(argv[1], "crawl") &&
        strcmp(argv[1], "compare")) {
        fprintf(stderr, "gather: unknown command '%s'\n", argv[1]);
        usage(stderr);
        return EXIT_USAGE;
    }
    /* A closed reader of --jsonl - must not kill us mid-record. */
    signal(SIGPIPE, SIG_IGN);
    /* A file-size limit must fail a write, not kill the run. */
    signal(SIGXFSZ, SIG_IGN);
    share_stop_flag();
    catch_signals();
    raise_nofile();
    parse_global_init();
    if (fetch_global_init()) {
        fprintf(stderr, "gather: libcurl initialisation failed\n");
        return EXIT_FATAL;
    }
    int rc = !strcmp(argv[1], "compare")
                 ? compare_main(argc - 1, argv + 1)
                 : cmd_get(argc - 1, argv + 1, !strcmp(argv[1], "crawl"));
    fetch_global_cleanup();
    parse_global_cleanup();
    return rc;
}
