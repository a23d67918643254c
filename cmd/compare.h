/* compare: gather compare runs gather get once per mode and repeat on the
 * same URL list, each run a child process of its own (so its CPU and memory
 * figures are its own), then compares the runs (see compare_report.h).
 */
#ifndef GATHER_COMPARE_H
#define GATHER_COMPARE_H

/* The compare subcommand; argv[0] is "compare". Returns the exit code: 0
 * when every run completed (URLs may have failed), 1 when some run did
 * not, 2 for a usage error, 3 when the report could not be written, 128+N
 * when stopped by signal N. Call it on the main thread before any other
 * thread starts: it forks. */
int compare_main(int argc, char **argv);

#endif
