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
 * A half-written last line, left by a crash, is cut off. With restart the
 * file is emptied instead. Returns the journal and its descriptor in *fd,
 * or NULL with a message in err. */
journal *journal_open(const char *path, int restart, int *fd, char *err,
                      size_t errlen);
void journal_free(journal *j);

/* True when url was recorded by an earlier run. */
int journal_has(const journal *j, const char *url);

/* How many URLs the earlier runs recorded. */
size_t journal_count(const journal *j);

#endif
