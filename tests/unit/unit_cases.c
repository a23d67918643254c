/* unit_cases: finds the case files of a directory and runs one cmocka
 * test per case; reads files whole; the global fixtures. */
#define _GNU_SOURCE
#include "unit_cases.h"
#include "../../fetch/fetch.h"
#include "../../parse/parse.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *unit_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (size_t got; buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0;) {
        n += got;
        if (cap - n < 2) {
            char *nb = realloc(buf, cap * 2);
            if (!nb)
                free(buf);
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf)
        buf[n] = '\0';
    *len = n;
    return buf;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists "dir/NAME" for each dir/NAME.ext, sorted. */
static char **list_cases(const char *dir, const char *ext, size_t *n)
{
    DIR *d = opendir(dir);
    size_t elen = strlen(ext), cap = 0;
    char **names = NULL;
    struct dirent *e;

    *n = 0;
    if (!d)
        return NULL;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        char *name;
        if (len <= elen || strcmp(e->d_name + len - elen, ext))
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 32;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn)
                break;
            names = nn;
        }
        if (asprintf(&name, "%s/%.*s", dir, (int)(len - elen), e->d_name) < 0)
            break;
        names[(*n)++] = name;
    }
    closedir(d);
    if (*n)
        qsort(names, *n, sizeof *names, by_name);
    return names;
}

int unit_run_cases(const char *group, const char *dir, const char *ext,
                   size_t min, CMUnitTestFunction fn, CMFixtureFunction setup,
                   CMFixtureFunction teardown)
{
    size_t n = 0;
    char **names = list_cases(dir, ext, &n);
    struct CMUnitTest *cases = calloc(n ? n : 1, sizeof *cases);
    int failed = 0;

    for (size_t i = 0; cases && i < n; i++)
        cases[i] = (struct CMUnitTest){.name = names[i] + strlen(dir) + 1,
                                       .test_func = fn,
                                       .initial_state = names[i]};
    if (n < min || !cases) {
        fprintf(stderr, "%s: only %zu cases in ./%s\n", group, n, dir);
        failed++;
    } else {
        failed += _cmocka_run_group_tests(group, cases, n, setup, teardown);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(cases);
    return failed;
}

int unit_global_setup(void **state)
{
    (void)state;
    parse_global_init();
    return fetch_global_init();
}

int unit_global_teardown(void **state)
{
    (void)state;
    fetch_global_cleanup();
    return 0;
}
