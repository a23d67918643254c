/* TEMPORARY until the fetch-req branch lands: fetch_url_host. */
#include "fetch.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fetch_url_host(const char *url, char *out, size_t cap)
{
    CURLU *u = curl_url();
    char *host = NULL, *port = NULL;
    int rc = FETCH_EURL;
    if (!u)
        return FETCH_ENOMEM;
    if (curl_url_set(u, CURLUPART_URL, url, 0) ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT))
        goto out;
    if ((size_t)snprintf(out, cap, "%s:%s", host, port) >= cap) {
        rc = FETCH_ETOOLONG;
        goto out;
    }
    for (char *p = out; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    rc = 0;
out:
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return rc;
}

int fetch_url_normalize(const char *url, int sort_query, char **out)
{
    CURLU *u = curl_url();
    char *host = NULL, *s = NULL;
    int rc = FETCH_EURL;
    (void)sort_query;
    *out = NULL;
    if (!u)
        return FETCH_ENOMEM;
    if (curl_url_set(u, CURLUPART_URL, url, 0) ||
        curl_url_get(u, CURLUPART_HOST, &host, 0))
        goto out;
    for (char *p = host; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    curl_url_set(u, CURLUPART_HOST, host, 0);
    curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0);
    if (curl_url_get(u, CURLUPART_URL, &s, CURLU_NO_DEFAULT_PORT))
        goto out;
    if (strncmp(s, "http://", 7) && strncmp(s, "https://", 8)) {
        rc = FETCH_ESCHEME;
        goto out;
    }
    *out = strdup(s);
    rc = *out ? 0 : FETCH_ENOMEM;
out:
    curl_free(host);
    curl_free(s);
    curl_url_cleanup(u);
    return rc;
}
