/* fetch_int: internals shared by the files of the fetch module. Not part of
 * the public API; only the files of fetch/ include it. */
#ifndef GATHER_FETCH_INT_H
#define GATHER_FETCH_INT_H

#include "fetch.h"

#include <curl/curl.h>
#include <openssl/evp.h>

struct fetch_xfer {
    const fetch_opts *o;    /* borrowed */
    CURL *easy;             /* owned */
    void *user;             /* borrowed */
    fetch_result r;
    int done;
    int headers_seen;       /* the first body byte has been handled */
    int keep;               /* body bytes are being kept for parsing */
    size_t body_cap;
    EVP_MD_CTX *md;         /* owned; running SHA-256 of the body */
    char *req;              /* owned; the normalised URL requested */
    char *rel;              /* owned; relative save name, NULL if not saving */
    char *tmp;              /* owned; temporary file while writing, or NULL */
    int fd;                 /* the temporary file, or -1 */
    double t_created;       /* monotonic ms */
    double t_started;
    char errbuf[CURL_ERROR_SIZE];
};

/* Called once the easy handle's transfer ended with rc: fills the result,
 * commits or removes the saved file, and marks the transfer done. */
void fetch_xfer_finish(fetch_xfer *x, CURLcode rc);

/* Marks the start of the network part, for the queue timing. */
void fetch_xfer_mark_started(fetch_xfer *x);

/* The CURLSH of a share handle, or NULL. */
CURLSH *fetch_share_handle(fetch_share *s);

/* Saving. fetch_save_open() creates the directories for rel under dir and a
 * temporary file beside the final name; returns the fd and the malloced
 * temporary path, or -1 with a message in err. fetch_save_commit() renames
 * tmp to the final name without replacing any existing file (adding ".N"
 * before the extension until the name is free) and returns the malloced
 * final path, or NULL with a message in err. */
int fetch_save_open(const char *dir, const char *rel, char **tmp, char *err,
                    size_t errlen);
char *fetch_save_commit(const char *tmp, const char *dir, const char *rel,
                        char *err, size_t errlen);

#endif
