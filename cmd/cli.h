/* cli: the command line of gather: option parsing into gather_opts, usage
 * text and exit codes.
 *
 * Ownership: strings in the options borrow from argv; cli_free_opts()
 * releases what cli_parse_get() allocated (the XPath field table and the
 * header list).
 */
#ifndef GATHER_CLI_H
#define GATHER_CLI_H

#include "run.h"

#include <stdio.h>

/* Exit codes, as documented in README.md and --help. */
enum {
    EXIT_ALL_OK = 0,    /* every URL succeeded */
    EXIT_SOME_FAILED = 1,
    EXIT_USAGE = 2,     /* bad options or unusable inputs/outputs */
    EXIT_FATAL = 3,     /* the run could not go on (out of memory, ...) */
};

/* Parses the options of get, or with crawl those of crawl (get's and its
 * own). Returns 0 to run, EXIT_USAGE with a message
 * in err, or -1 when --help or --version was printed (exit 0). */
int cli_parse_get(int argc, char **argv, int crawl, gather_opts *o,
                  char *err, size_t errlen);
void cli_free_opts(gather_opts *o);

void cli_usage(FILE *f, int crawl);

/* Writes a usage message into err and returns EXIT_USAGE. */
int cli_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* crawl's long options (get's and its own), n of them without the
 * terminating entry, for commands that pass them on, like compare; which
 * of them get refuses, cli_parse_get() says. A short option's letter is
 * its val. */
struct option;
const struct option *cli_options(size_t *n);

#endif
