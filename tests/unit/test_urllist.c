/* test_urllist: the streaming URL-list reader. Lists come from users and
 * other programs, so the tests feed it every kind of line a real file
 * holds: comments, CRLF, blanks, freak lengths and stray NULs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/urllist.h"

/* One expected result of urllist_next(). */
typedef struct step {
    int rc;
    const char *url;   /* for rc 1 */
    size_t lineno;     /* for rc 1 and -1 */
} step;

/* Reads len bytes of data through a reader and checks each result against
 * steps, which must end with the final 0. */
static void expect_steps(const char *data, size_t len, const step *steps,
                         size_t nsteps)
{
    FILE *f = fmemopen((void *)data, len, "r");
    assert_non_null(f);
    urllist *u = urllist_from_stream(f);
    assert_non_null(u);

    char msg[512] = "";
    for (size_t i = 0; i < nsteps && !msg[0]; i++) {
        const char *url = NULL;
        size_t lineno = 0;
        char err[256] = "";
        int rc = urllist_next(u, &url, &lineno, err, sizeof err);
        if (rc != steps[i].rc) {
            snprintf(msg, sizeof msg, "step %zu: rc %d (url [%.60s], err [%s]),"
                     " want %d", i, rc, rc == 1 ? url : "", err, steps[i].rc);
        } else if (rc == 1 && strcmp(url, steps[i].url)) {
            snprintf(msg, sizeof msg, "step %zu: url [%.200s], want [%s]", i,
                     url, steps[i].url);
        } else if (rc != 0 && lineno != steps[i].lineno) {
            snprintf(msg, sizeof msg, "step %zu: line %zu, want %zu", i,
                     lineno, steps[i].lineno);
        } else if (rc == -1) {
            /* The message names the line, so a user can find it. */
            char want[32];
            snprintf(want, sizeof want, "line %zu", steps[i].lineno);
            if (!strstr(err, want))
                snprintf(msg, sizeof msg, "step %zu: message [%s] lacks [%s]",
                         i, err, want);
        }
    }
    urllist_close(u);
    fclose(f);
    if (msg[0])
        fail_msg("%s", msg);
}

#define EXPECT(data, steps)                                                    \
    expect_steps(data, sizeof(data) - 1, steps, sizeof steps / sizeof steps[0])

static void test_comments_blanks_and_trimming(void **state)
{
    (void)state;
    static const char data[] =
        "# a list of URLs\n"
        "\n"
        "http://a.example/1\n"
        "   \t  \n"
        "  # an indented comment\n"
        "\t#a tab-indented comment\n"
        "  http://a.example/2  \n"
        "\thttp://a.example/3\t\n"
        "http://a.example/4#frag # not a comment\n"
        "#http://commented.out/\n";
    static const step steps[] = {
        {1, "http://a.example/1", 3},
        {1, "http://a.example/2", 7},
        {1, "http://a.example/3", 8},
        {1, "http://a.example/4#frag # not a comment", 9},
        {0, NULL, 0},
    };
    EXPECT(data, steps);
}

static void test_crlf(void **state)
{
    (void)state;
    static const char data[] = "http://a/1\r\n"
                               "\r\n"
                               "# comment\r\n"
                               "  http://a/2 \r\n"
                               "http://a/3\r\n";
    static const step steps[] = {
        {1, "http://a/1", 1},
        {1, "http://a/2", 4},
        {1, "http://a/3", 5},
        {0, NULL, 0},
    };
    EXPECT(data, steps);
}

static void test_missing_final_newline(void **state)
{
    (void)state;
    static const char data[] = "http://a/1\nhttp://a/2";
    static const step steps[] = {
        {1, "http://a/1", 1},
        {1, "http://a/2", 2},
        {0, NULL, 0},
    };
    EXPECT(data, steps);

    static const char crlf_end[] = "http://a/1\r";
    static const step steps2[] = {{1, "http://a/1", 1}, {0, NULL, 0}};
    EXPECT(crlf_end, steps2);
}

/* A UTF-8 byte order mark opens the first line only: it is dropped there
 * (before a URL or a comment), and kept anywhere else, where it makes a
 * URL that will fail as malformed rather than one silently changed. */
static void test_byte_order_mark(void **state)
{
    (void)state;
    static const char data[] = "\xEF\xBB\xBFhttp://a/1\r\n"
                               "\xEF\xBB\xBFhttp://a/2\n";
    static const step steps[] = {
        {1, "http://a/1", 1},
        {1, "\xEF\xBB\xBFhttp://a/2", 2},
        {0, NULL, 0},
    };
    EXPECT(data, steps);
    static const char comment[] = "\xEF\xBB\xBF# list\nhttp://a/3\n";
    static const step steps2[] = {{1, "http://a/3", 2}, {0, NULL, 0}};
    EXPECT(comment, steps2);
    static const char bom_only[] = "\xEF\xBB\xBF";
    static const step steps3[] = {{0, NULL, 0}};
    EXPECT(bom_only, steps3);
}

static void test_empty_and_comment_only(void **state)
{
    (void)state;
    static const step end[] = {{0, NULL, 0}};
    EXPECT("", end);
    EXPECT("\n\n\n", end);
    EXPECT("# only\n  # comments\n\r\n", end);

    /* The end stays the end when asked again. */
    FILE *f = fmemopen((void *)"x\n", 2, "r");
    assert_non_null(f);
    urllist *u = urllist_from_stream(f);
    const char *url;
    size_t ln;
    assert_int_equal(urllist_next(u, &url, &ln, NULL, 0), 1);
    assert_int_equal(urllist_next(u, &url, &ln, NULL, 0), 0);
    assert_int_equal(urllist_next(u, &url, &ln, NULL, 0), 0);
    urllist_close(u);
    fclose(f);
}

/* Builds "http://a/1\n" + a line of len bytes + "\n" + "http://a/3\n". */
static char *with_long_line(size_t len, size_t *total)
{
    const char *head = "http://a/1\n", *tail = "\nhttp://a/3\n";
    size_t h = strlen(head), t = strlen(tail);
    char *s = malloc(h + len + t + 1);
    assert_non_null(s);
    memcpy(s, head, h);
    memcpy(s + h, "http://long/", 12);
    memset(s + h + 12, 'x', len - 12);
    memcpy(s + h + len, tail, t + 1);
    *total = h + len + t;
    return s;
}

static void test_overlong_line_skipped(void **state)
{
    (void)state;
    size_t n;
    char *data = with_long_line(URLLIST_MAX_LINE + 100, &n);
    static const step steps[] = {
        {1, "http://a/1", 1},
        {-1, NULL, 2},
        {1, "http://a/3", 3},
        {0, NULL, 0},
    };
    expect_steps(data, n, steps, sizeof steps / sizeof steps[0]);
    free(data);

    /* Far longer still: reading goes on just the same. */
    data = with_long_line((size_t)URLLIST_MAX_LINE * 16, &n);
    expect_steps(data, n, steps, sizeof steps / sizeof steps[0]);
    free(data);
}

/* The limit is on the line, not on its terminator: a line of exactly
 * URLLIST_MAX_LINE bytes is read whether "\n" or the end of the file
 * follows it, and one byte more is an error either way. */
static void test_line_limit_boundary(void **state)
{
    (void)state;
    size_t n;
    char *data = with_long_line(URLLIST_MAX_LINE, &n);
    static const step ok[] = {
        {1, "http://a/1", 1},
        {1, NULL, 2}, /* the long URL; checked below */
        {1, "http://a/3", 3},
        {0, NULL, 0},
    };

    /* Without a newline after it: the line is the last of the file. */
    FILE *f = fmemopen(data, strlen("http://a/1\n") + URLLIST_MAX_LINE, "r");
    assert_non_null(f);
    urllist *u = urllist_from_stream(f);
    const char *url;
    size_t ln;
    char err[256] = "";
    assert_int_equal(urllist_next(u, &url, &ln, err, sizeof err), 1);
    int rc_eof = urllist_next(u, &url, &ln, err, sizeof err);
    size_t len_eof = rc_eof == 1 ? strlen(url) : 0;
    urllist_close(u);
    fclose(f);
    assert_int_equal(rc_eof, 1);
    assert_int_equal(len_eof, URLLIST_MAX_LINE);

    /* With a newline after it. */
    f = fmemopen(data, n, "r");
    assert_non_null(f);
    u = urllist_from_stream(f);
    int rc[4];
    char errs[4][256] = {""};
    size_t len_nl = 0;
    for (int i = 0; i < 4; i++) {
        rc[i] = urllist_next(u, &url, &ln, errs[i], sizeof errs[i]);
        if (i == 1 && rc[i] == 1)
            len_nl = strlen(url);
    }
    urllist_close(u);
    fclose(f);
    free(data);
    for (int i = 0; i < 4; i++)
        if (rc[i] != ok[i].rc)
            fail_msg("with newline, step %d: rc %d, want %d (%s)", i, rc[i],
                     ok[i].rc, errs[i]);
    assert_int_equal(len_nl, URLLIST_MAX_LINE);

    /* One byte more is too long. */
    data = with_long_line(URLLIST_MAX_LINE + 1, &n);
    static const step bad[] = {
        {1, "http://a/1", 1},
        {-1, NULL, 2},
        {1, "http://a/3", 3},
        {0, NULL, 0},
    };
    expect_steps(data, n, bad, sizeof bad / sizeof bad[0]);
    free(data);
}

static void test_nul_byte_line(void **state)
{
    (void)state;
    static const char data[] = "http://a/1\n"
                               "http://a/\0evil\n"
                               "\0\n"
                               "http://a/4\n";
    static const step steps[] = {
        {1, "http://a/1", 1},
        {-1, NULL, 2},
        {-1, NULL, 3},
        {1, "http://a/4", 4},
        {0, NULL, 0},
    };
    EXPECT(data, steps);
}

/* A stream that fails to read is a hard error (-2), not an end. */
static void test_read_error(void **state)
{
    (void)state;
    FILE *f = fopen(".", "r"); /* opens on Linux; every read fails */
    assert_non_null(f);
    urllist *u = urllist_from_stream(f);
    const char *url;
    size_t ln;
    char err[256] = "";
    int rc = urllist_next(u, &url, &ln, err, sizeof err);
    urllist_close(u);
    fclose(f);
    assert_int_equal(rc, -2);
    assert_non_null(strstr(err, "reading URL list"));
}

/* ---- files ---- */

static char tmpdir[64];

static int make_tmpdir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/gather-urllist-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
    (void)state;
    char path[128];
    static const char *const names[] = {"list.txt", "empty.txt"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", tmpdir, names[i]);
        unlink(path);
    }
    return rmdir(tmpdir);
}

static void write_file(const char *name, const char *data, size_t len,
                       char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void test_open_file(void **state)
{
    (void)state;
    static const char data[] = "# list\nhttp://a/1\n\n  http://a/2\r\n";
    char path[128], err[256] = "";
    write_file("list.txt", data, sizeof data - 1, path, sizeof path);

    urllist *u = urllist_open(path, err, sizeof err);
    assert_non_null(u);
    const char *url;
    size_t ln;
    assert_int_equal(urllist_next(u, &url, &ln, err, sizeof err), 1);
    assert_string_equal(url, "http://a/1");
    assert_int_equal(ln, 2);
    assert_int_equal(urllist_next(u, &url, &ln, err, sizeof err), 1);
    assert_string_equal(url, "http://a/2");
    assert_int_equal(ln, 4);
    assert_int_equal(urllist_next(u, &url, &ln, err, sizeof err), 0);
    /* The reader owns the file it opened; LeakSanitizer reports the FILE
     * if close does not release it. */
    urllist_close(u);
}

static void test_open_missing_file(void **state)
{
    (void)state;
    char path[128], err[256] = "";
    snprintf(path, sizeof path, "%s/no-such-list.txt", tmpdir);
    assert_null(urllist_open(path, err, sizeof err));
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, strerror(ENOENT)));
}

static void test_open_directory(void **state)
{
    (void)state;
    char err[256] = "";
    assert_null(urllist_open(tmpdir, err, sizeof err));
    assert_non_null(strstr(err, tmpdir));
    assert_non_null(strstr(err, "directory"));
}

/* "-" is stdin, which the reader borrows: closing it leaves stdin open. */
static void test_open_stdin_borrowed(void **state)
{
    (void)state;
    char err[256] = "";
    urllist *u = urllist_open("-", err, sizeof err);
    assert_non_null(u);
    urllist_close(u);
    struct stat st;
    assert_int_equal(fstat(fileno(stdin), &st), 0);
    assert_int_equal(ferror(stdin), 0);
    urllist_close(NULL); /* a no-op */
}

static void test_count(void **state)
{
    (void)state;
    /* Four URLs and one bad line, which still becomes a record. */
    static const char data[] = "# header\n"
                               "http://a/1\n"
                               "\n"
                               "  http://a/2\r\n"
                               "http://a/\0bad\n"
                               "  # note\n"
                               "http://a/4\n"
                               "http://a/5";
    char path[128];
    write_file("list.txt", data, sizeof data - 1, path, sizeof path);
    assert_int_equal(urllist_count(path), 5);

    write_file("empty.txt", "", 0, path, sizeof path);
    assert_int_equal(urllist_count(path), 0);

    /* Only regular files can be counted ahead of reading. */
    assert_int_equal(urllist_count("-"), -1);
    assert_int_equal(urllist_count(tmpdir), -1);
    snprintf(path, sizeof path, "%s/missing.txt", tmpdir);
    assert_int_equal(urllist_count(path), -1);
}

int main(void)
{
    const struct CMUnitTest streams[] = {
        cmocka_unit_test(test_comments_blanks_and_trimming),
        cmocka_unit_test(test_crlf),
        cmocka_unit_test(test_missing_final_newline),
        cmocka_unit_test(test_byte_order_mark),
        cmocka_unit_test(test_empty_and_comment_only),
        cmocka_unit_test(test_overlong_line_skipped),
        cmocka_unit_test(test_line_limit_boundary),
        cmocka_unit_test(test_nul_byte_line),
        cmocka_unit_test(test_read_error),
    };
    const struct CMUnitTest files[] = {
        cmocka_unit_test(test_open_file),
        cmocka_unit_test(test_open_missing_file),
        cmocka_unit_test(test_open_directory),
        cmocka_unit_test(test_open_stdin_borrowed),
        cmocka_unit_test(test_count),
    };
    int failed = cmocka_run_group_tests(streams, NULL, NULL);
    failed += cmocka_run_group_tests(files, make_tmpdir, remove_tmpdir);
    return failed ? 1 : 0;
}
