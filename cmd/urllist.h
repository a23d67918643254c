/* urllist: reads a URL list as a stream, one line at a time, so a list of
 * millions of URLs never sits in memory at once.
 *
 * Ownership: urllist_open() returns a reader the caller frees with
 * urllist_close(); a URL returned by urllist_next() belongs to the reader
 * and stays valid until the next call. One thread at a time.
 */
#ifndef GATHER_URLLIST_H
#define GATHER_URLLIST_H

#include <stddef.h>

/* Lines longer than this are reported as errors instead of fetched. */
#define URLLIST_MAX_LINE 65536

typedef struct urllist urllist;

/* Opens path ("-" for stdin). Returns NULL with a message in err. */
urllist *urllist_open(const char *path, char *err, size_t errlen);

/* Wraps an already open stream (borrowed); for tests and the fuzzer. */
urllist *urllist_from_stream(void *file);

void urllist_close(urllist *u);

/* Returns the next URL with surrounding blanks removed, skipping blank
 * lines and lines whose first non-blank character is '#'. Returns 1 and
 * sets *url and *lineno, 0 at the end, -1 for a bad line (over-long or
 * holding a NUL byte; message in err, *lineno set, reading may go on), or
 * -2 when the stream cannot be read (message in err; stop reading). */
int urllist_next(urllist *u, const char **url, size_t *lineno, char *err,
                 size_t errlen);

/* 1 when urllist_next() would not block: a whole line is buffered, the
 * end was seen, or the descriptor has data; 0 otherwise. */
int urllist_ready(urllist *u);

/* Counts the URLs in path without keeping them; -1 when path is not a
 * regular file (stdin, a pipe) or cannot be read. */
long urllist_count(const char *path);

#endif
