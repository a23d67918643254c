/* bench/parse_baseline.c - bare libxml2 HTML parse cost, the reference for
 * gather's timings.parse in the cpu workload of bench/run.sh.
 *
 *   parse_baseline LISTFILE [PASSES]
 *
 * LISTFILE holds one file path per line. Every file is read into memory
 * (not timed), then parsed with htmlReadMemory() with the options below and
 * freed with xmlFreeDoc(); only those two calls are timed, on
 * CLOCK_MONOTONIC (wall) and CLOCK_PROCESS_CPUTIME_ID (CPU). PASSES (1)
 * repeats the whole list. Prints one JSON object on stdout:
 *   {"files", "bytes", "passes", "wall_ms", "cpu_ms", "wall_ms_per_mib",
 *    "cpu_ms_per_mib", "failed"}
 * MiB = 1,048,576 bytes. Exit 0, or 1 on an unreadable list or file.
 *
 * Built by bench/run.sh:
 *   cc -O2 bench/parse_baseline.c $(pkg-config --cflags --libs libxml-2.0)
 */
#define _POSIX_C_SOURCE 200809L
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Reads all of path into a malloc'd buffer; NULL on error. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;
    if (!f)
        return NULL;
    for (;;) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 1 << 20;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *len = n;
    return buf;
}

int main(int argc, char **argv)
{
    const int opts = HTML_PARSE_RECOVER | HTML_PARSE_NONET |
                     HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                     HTML_PARSE_COMPACT;
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: parse_baseline LISTFILE [PASSES]\n");
        return 2;
    }
    int passes = argc == 3 ? atoi(argv[2]) : 1;
    if (passes < 1) {
        fprintf(stderr, "parse_baseline: PASSES must be >= 1\n");
        return 2;
    }
    FILE *list = fopen(argv[1], "r");
    if (!list) {
        perror(argv[1]);
        return 1;
    }
    xmlInitParser();

    char *line = NULL;
    size_t linecap = 0;
    ssize_t l;
    long files = 0, failed = 0;
    double bytes = 0, wall = 0, cpu = 0;
    /* Read the list once; parse every file PASSES times. */
    char **paths = NULL;
    long npaths = 0, cappaths = 0;
    while ((l = getline(&line, &linecap, list)) > 0) {
        while (l > 0 && (line[l - 1] == '\n' || line[l - 1] == '\r'))
            line[--l] = '\0';
        if (l == 0)
            continue;
        if (npaths == cappaths) {
            cappaths = cappaths ? cappaths * 2 : 256;
            char **np = realloc(paths, (size_t)cappaths * sizeof *paths);
            if (!np)
                return 1;
            paths = np;
        }
        if (!(paths[npaths++] = strdup(line)))
            return 1;
    }
    free(line);
    fclose(list);

    for (int p = 0; p < passes; p++) {
        for (long i = 0; i < npaths; i++) {
            size_t len = 0;
            char *buf = slurp(paths[i], &len);
            if (!buf) {
                perror(paths[i]);
                return 1;
            }
            double w0 = ms(CLOCK_MONOTONIC);
            double c0 = ms(CLOCK_PROCESS_CPUTIME_ID);
            htmlDocPtr doc = htmlReadMemory(buf, (int)len, paths[i], "UTF-8",
                                            opts);
            if (doc)
                xmlFreeDoc(doc);
            else
                failed++;
            cpu += ms(CLOCK_PROCESS_CPUTIME_ID) - c0;
            wall += ms(CLOCK_MONOTONIC) - w0;
            free(buf);
            bytes += (double)len;
            files++;
        }
    }
    for (long i = 0; i < npaths; i++)
        free(paths[i]);
    free(paths);
    xmlCleanupParser();

    double mib = bytes / 1048576.0;
    printf("{\"files\":%ld,\"bytes\":%.0f,\"passes\":%d,\"wall_ms\":%.3f,"
           "\"cpu_ms\":%.3f,\"wall_ms_per_mib\":%.4f,\"cpu_ms_per_mib\":%.4f,"
           "\"failed\":%ld}\n",
           files, bytes, passes, wall, cpu, mib > 0 ? wall / mib : 0,
           mib > 0 ? cpu / mib : 0, failed);
    return 0;
}
