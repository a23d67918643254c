/* test_cookies: the cookie jar of a share handle, without a network: what
 * fetch_share_load_cookies() reads is what fetch_share_save_cookies()
 * writes back (expired cookies dropped, session cookies kept), the jar
 * is private to the user, and a jar that cannot be read or written is an
 * error, not an empty jar. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fetch/fetch.h"
#include "unit_cases.h"

typedef struct dir {
    char path[64];
} dir;

static int setup(void **state)
{
    dir *d = calloc(1, sizeof *d);
    if (!d)
        return -1;
    snprintf(d->path, sizeof d->path, "/tmp/gather-cookies.XXXXXX");
    if (!mkdtemp(d->path)) {
        free(d);
        return -1;
    }
    *state = d;
    return 0;
}

static int teardown(void **state)
{
    dir *d = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d->path);
    int rc = system(cmd);
    free(d);
    return rc;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* The cookie lines of a jar (not "# " comments or blank lines; curl
 * marks HttpOnly cookies with "#HttpOnly_"), sorted by name, each as
 * "domain path name value expires". */
static char *jar_lines(const char *path)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "grep -v -e '^# ' -e '^$' '%s' | "
             "awk -F'\\t' '{print $1, $3, $6, $7, $5}' | sort -k3",
             path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char *buf = calloc(1, 4096);
    assert_non_null(buf);
    size_t n = fread(buf, 1, 4095, p);
    buf[n] = '\0';
    pclose(p);
    return buf;
}

static void test_round_trip(void **state)
{
    dir *d = *state;
    char jar[128], text[1024], want[1024], err[256] = "";
    long later = (long)time(NULL) + 86400;
    snprintf(jar, sizeof jar, "%s/jar", d->path);
    snprintf(text, sizeof text,
             "# Netscape HTTP Cookie File\n"
             "\n"
             "example.com\tFALSE\t/\tFALSE\t%ld\tlive\tyes\n"
             "example.com\tFALSE\t/\tFALSE\t0\tsession\tkept\n"
             "example.com\tFALSE\t/\tFALSE\t1\texpired\tgone\n"
             "#HttpOnly_.example.org\tTRUE\t/app\tTRUE\t%ld\thttponly\tv\n",
             later, later);
    write_file(jar, text);

    fetch_share *s = fetch_share_new(0);
    assert_non_null(s);
    assert_int_equal(fetch_share_load_cookies(s, jar, err, sizeof err), 0);
    assert_int_equal(fetch_share_save_cookies(s, err, sizeof err), 0);
    fetch_share_free(s);

    char *got = jar_lines(jar);
    snprintf(want, sizeof want,
             "#HttpOnly_.example.org /app httponly v %ld\n"
             "example.com / live yes %ld\n"
             "example.com / session kept 0\n",
             later, later);
    int same = !strcmp(got, want);
    if (!same)
        print_error("got:\n%swant:\n%s", got, want);
    free(got);
    assert_true(same);

    /* Cookies are secrets: the jar is the user's alone, and no
     * temporary file is left beside it. */
    struct stat st;
    assert_int_equal(stat(jar, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | wc -l) = 1", d->path);
    assert_int_equal(system(cmd), 0);
}

/* No jar yet: no cookies, and saving creates it. */
static void test_missing_jar(void **state)
{
    dir *d = *state;
    char jar[128], err[256] = "";
    snprintf(jar, sizeof jar, "%s/new-jar", d->path);
    fetch_share *s = fetch_share_new(1);
    assert_non_null(s);
    assert_int_equal(fetch_share_load_cookies(s, jar, err, sizeof err), 0);
    assert_int_equal(fetch_share_save_cookies(s, err, sizeof err), 0);
    fetch_share_free(s);
    char *got = jar_lines(jar);
    assert_string_equal(got, "");
    free(got);
}

/* A jar that is there but cannot be read must not become an empty one;
 * one that cannot be written is an error with the reason. */
static void test_bad_jars(void **state)
{
    dir *d = *state;
    char jar[128], err[256] = "";
    fetch_share *s = fetch_share_new(0);
    assert_non_null(s);
    snprintf(jar, sizeof jar, "%s/sub", d->path);
    assert_int_equal(mkdir(jar, 0700), 0);
    assert_int_equal(fetch_share_load_cookies(s, jar, err, sizeof err),
                     FETCH_EIO);
    assert_non_null(strstr(err, "not a file"));
    fetch_share_free(s);

    s = fetch_share_new(0);
    assert_non_null(s);
    snprintf(jar, sizeof jar, "%s/no-such-dir/jar", d->path);
    assert_int_equal(fetch_share_load_cookies(s, jar, err, sizeof err), 0);
    err[0] = '\0';
    assert_int_equal(fetch_share_save_cookies(s, err, sizeof err), FETCH_EIO);
    assert_non_null(strstr(err, "no-such-dir"));
    fetch_share_free(s);
}

/* A share without a jar has nothing to save. */
static void test_no_jar(void **state)
{
    (void)state;
    char err[64] = "";
    fetch_share *s = fetch_share_new(0);
    assert_non_null(s);
    assert_int_equal(fetch_share_save_cookies(s, err, sizeof err), 0);
    fetch_share_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_jar, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_jars, setup, teardown),
        cmocka_unit_test(test_no_jar),
    };
    return cmocka_run_group_tests(tests, unit_global_setup,
                                  unit_global_teardown);
}
