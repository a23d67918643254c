/* fetch: library-wide pieces of the fetch module: global init, error
 * strings, results, and the share handle that lets threads reuse DNS and
 * TLS caches. */
#include "fetch.h"
#include "fetch_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FETCH_TEXT(name, text) text,
static const char *const fetch_texts[] = {FETCH_ERRORS(FETCH_TEXT)};
#undef FETCH_TEXT

const char *fetch_strerror(fetch_code code)
{
    if ((int)code < 0 || code >= FETCH_NCODES)
        return "unknown fetch error";
    return fetch_texts[code];
}

int fetch_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_ALL) == CURLE_OK ? FETCH_OK
                                                         : FETCH_ECURL;
}

void fetch_global_cleanup(void)
{
    curl_global_cleanup();
}

double fetch_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void fetch_result_clear(fetch_result *r)
{
    free(r->url);
    free(r->final_url);
    free(r->content_type);
    free(r->path);
    free(r->error);
    free(r->body);
    memset(r, 0, sizeof *r);
}

/* ---- share handle ---- */

struct fetch_share {
    CURLSH *sh;                                  /* owned */
    pthread_mutex_t locks[CURL_LOCK_DATA_LAST];
};

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access a,
                       void *userp)
{
    struct fetch_share *s = userp;
    (void)h;
    (void)a;
    pthread_mutex_lock(&s->locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *userp)
{
    struct fetch_share *s = userp;
    (void)h;
    pthread_mutex_unlock(&s->locks[data]);
}

fetch_share *fetch_share_new(int connections)
{
    fetch_share *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&s->locks[i], NULL);
    s->sh = curl_share_init();
    if (!s->sh ||
        curl_share_setopt(s->sh, CURLSHOPT_LOCKFUNC, share_lock) ||
        curl_share_setopt(s->sh, CURLSHOPT_UNLOCKFUNC, share_unlock) ||
        curl_share_setopt(s->sh, CURLSHOPT_USERDATA, s) ||
        curl_share_setopt(s->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) ||
        curl_share_setopt(s->sh, CURLSHOPT_SHARE,
                          CURL_LOCK_DATA_SSL_SESSION) ||
        (connections &&
         curl_share_setopt(s->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT))) {
        fetch_share_free(s);
        return NULL;
    }
    return s;
}

void fetch_share_free(fetch_share *s)
{
    if (!s)
        return;
    if (s->sh)
        curl_share_cleanup(s->sh);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_destroy(&s->locks[i]);
    free(s);
}

CURLSH *fetch_share_handle(fetch_share *s)
{
    return s ? s->sh : NULL;
}
