/* journal: lets a rerun of the same command skip the URLs that an earlier,
 * interrupted run already recorded, so that every URL ends with exactly
 * one record. The journal is the --jsonl file itself when there is one
 * (each record is one write, whole once its newline is there), otherwise
 * OUT/.gather-journal with one {"url":...} line per finished URL.
 *
 * Ownership: journal_open() returns a journal freed with journal_free();
 * the caller owns the descriptor it returns. One thread at a time.
 */
#ifndef GATHER_JOURNAL_H
#define GATHER_JOURNAL_H

#include <stddef.h>

typedef struct journal journal;

/* Opens (creating) path for appending and loads the URLs recorded in it.
 * A half-written last line, left by a crash, is cut off. A file with a
 * line that is not a record (a JSON object with a "url") is refused, as is
 * a last line that does not start like one: it is not gather's to append
 * to or cut. With restart the file is emptied instead. Returns the
 * journal and its descriptor in *fd,
 * or NULL with a message in err. With fd NULL, path is only read (the
 * records of an earlier run, for --since): it must exist, and is never
 * changed. */
journal *journal_open(const char *path, int restart, int *fd, char *err,
                      size_t errlen);
void journal_free(journal *j);

/* True when url was recorded by an earlier run. */
int journal_has(const journal *j, const char *url);

/* The record line (malloced, without its newline) that an earlier run
 * wrote for url, or NULL when there is none or it cannot be read (the
 * separate journal of a run without --jsonl holds only the URL). Records
 * are read back from the file, so a journal of a million pages costs 16 to
 * 32 bytes of memory each. Safe in forked children (it uses pread). */
char *journal_record(const journal *j, const char *url);

/* How many URLs the earlier runs recorded. */
size_t journal_count(const journal *j);

#endif
