/* fetch_int: internals shared by the files of the fetch module. Not part of
 * the public API; only the files of fetch/ include it. */
#ifndef GATHER_FETCH_INT_H
#define GATHER_FETCH_INT_H

#include "fetch.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <stdatomic.h>

/* One body being saved: a temporary file renamed into place when whole.
 * Its operations run on the transfer's thread, or on the writer thread
 * when the options name a writer; never on both at once. */
typedef struct fetch_file {
    const char *dir;        /* borrowed; the output directory */
    const char *rel;        /* borrowed; the save name under dir, or
                               rel_moved */
    char *rel_moved;        /* owned; rel with a directory renamed where a
                               file had its name, or NULL */
    const char *part;       /* borrowed; with --continue, the fixed
                               temporary name to use, or NULL */
    char *validator;        /* owned; ETag or Last-Modified for a part */
    int append;             /* open the part to append (a 206 resume) */
    int keep_part;          /* abort keeps the part for a later resume */
    int overwrite;          /* commit may replace an existing file */
    int sync;               /* fsync the file and its directory */
    char sha256[65];        /* the body's digest, set before commit */
    uint64_t size;          /* the body's size, set before commit */
    char *tmp;              /* owned; the temporary file, or NULL */
    int fd;                 /* the temporary file, or -1 */
    char *final;            /* owned; the final path once committed */
    double write_ms;        /* time spent in open, write and rename */
    int failed;             /* an operation failed; err says why. Set
                               with set_failed() (fetch_save.c): the
                               transfer reads it while a writer works */
    char err[512];
} fetch_file;

/* Each returns 0, or -1 with f->failed set and a message in f->err. open
 * creates the directories and the temporary file (the part file when
 * f->part is set, appended to or truncated); commit closes it and renames
 * it to the final name without replacing any existing file: a name holding
 * the very same bytes is reused, otherwise ".N" goes before the extension
 * until a name is free (or, with overwrite, the file is replaced); abort
 * closes and removes it, unless keep_part. After commit or abort the file
 * holds no descriptor. */
int fetch_file_open(fetch_file *f);
int fetch_file_write(fetch_file *f, const void *p, size_t n);
int fetch_file_commit(fetch_file *f);
void fetch_file_abort(fetch_file *f);
/* Releases the file's memory (after commit or abort). */
void fetch_file_clear(fetch_file *f);

/* The part file of rel under dir: "DIR/path/.NAME.gather-part" (malloced),
 * the validator saved beside it (malloced, or NULL when there is none),
 * and removal of both. */
char *fetch_file_part_path(const char *dir, const char *rel);
char *fetch_file_read_validator(const char *part);
void fetch_file_remove_part(const char *part);

/* Frees the easy handles the calling thread keeps for reuse: before
 * curl's global cleanup, and before a share they may hold is freed. */
void fetch_xfer_drain_kept(void);
/* Makes the key that frees a thread's kept handles when it ends; without
 * it (fetch_global_init() not run) no handle is kept. Once per process. */
void fetch_xfer_global_init(void);

struct fetch_xfer {
    const fetch_opts *o;    /* borrowed */
    CURL *easy;             /* owned */
    fetch_result r;
    int done;
    int saving;             /* file is open (or being opened by the writer) */
    int committing;         /* the writer has the file's commit or abort */
    int headers_seen;       /* the first body byte has been handled */
    int keep;               /* body bytes are being kept for parsing */
    size_t body_cap;
    EVP_MD_CTX *md;         /* owned; running SHA-256 of the body */
    char *req;              /* owned; the normalised URL requested */
    char *rel;              /* owned; relative save name, NULL if not saving */
    char *part;             /* owned; the part file with --continue, or NULL */
    uint64_t resume_from;   /* bytes asked to skip with Range, or 0 */
    struct curl_slist *headers; /* owned; the attempt's request headers:
                                   the caller's, then If-Range or the
                                   conditional ones */
    char *if_etag;          /* owned; the caller's validators of the URL */
    char *if_modified;      /*   (NULL: none), for a conditional request */
    int encoded;            /* the body has a Content-Encoding */
    int retry_fresh;        /* the part file proved bad: start over */
    int stalled;            /* on_progress ended it: no byte for too long */
    atomic_int cancelled;   /* fetch_xfer_cancel() was called */
    curl_off_t stall_bytes; /* bytes moved when last seen to change */
    double stall_since;     /* monotonic ms of that change; 0: not yet */
    int restarted;          /* a 416 already sent us back to byte 0 */
    double retry_at;        /* monotonic ms of the next attempt */
    struct fetch_xfer *retry_next; /* borrowed; a loop's retry list */
    fetch_file file;
    double t_created;       /* monotonic ms */
    double t_started;
    double first_ms;        /* curl's time to the first byte */
    char errbuf[CURL_ERROR_SIZE];
};

/* Called once an attempt of the easy handle ended with rc. Returns 1 when
 * a transient failure earns another attempt: x is reset, and the caller
 * starts it again at fetch_xfer_retry_at(). Otherwise fills the result and
 * commits or removes the saved file, and returns 0; the transfer is then
 * done, unless a writer thread has the file's commit: then it is done
 * when the writer hands it back and fetch_xfer_saved() has run. */
int fetch_xfer_finish(fetch_xfer *x, CURLcode rc);
double fetch_xfer_retry_at(const fetch_xfer *x);
void fetch_xfer_saved(fetch_xfer *x);

/* Asks x, which another thread may be performing, to end at once as
 * interrupted, as a stop would (within about a second: curl's progress
 * callback notices). Thread-safe. */
void fetch_xfer_cancel(fetch_xfer *x);

/* Marks the start of the network part, for the queue timing. */
void fetch_xfer_mark_started(fetch_xfer *x);

/* The CURLSH of a share handle, or NULL. */
CURLSH *fetch_share_handle(fetch_share *s);

/* The writer thread (fetch_writer.c). Each call queues an operation on f;
 * writes copy their bytes and wait while the queue is full. commit and
 * abort hand owner back through fetch_writer_take() once done. */
void fetch_writer_open(fetch_writer *w, fetch_file *f);
void fetch_writer_write(fetch_writer *w, fetch_file *f, const void *p,
                        size_t n);
void fetch_writer_commit(fetch_writer *w, fetch_file *f, fetch_xfer *owner);
void fetch_writer_abort(fetch_writer *w, fetch_file *f, fetch_xfer *owner);
/* The eventfd that is readable when transfers come back. */
int fetch_writer_fd(const fetch_writer *w);
/* Returns the next transfer whose commit or abort is done, or NULL. */
fetch_xfer *fetch_writer_take(fetch_writer *w);
/* Waits until every queued operation has run. */
void fetch_writer_drain(fetch_writer *w);

#endif
