/* test_fetch_bg: transfers run on background threads come back to the
 * thread that added them, each once with its tag; freeing ends the ones
 * still running. Only loopback sockets the test makes itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fetch/fetch.h"

/* A socket listening on a free loopback port that never accepts: the
 * kernel completes the handshakes, so a request waits for an answer that
 * never comes. */
static int listener(int *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 16), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* fetch_bg's notify: counts on an eventfd. */
static void notify(void *ctx)
{
    uint64_t one = 1;
    assert_int_equal(write(*(int *)ctx, &one, sizeof one), sizeof one);
}

/* Every transfer comes back, failed (nobody listens; one URL is not even
 * a URL), with its own tag, once, and is announced once: the test waits
 * for the announcements alone, so one missing would fail it (after 30 s)
 * rather than be found by asking again. */
static void test_come_back(void **state)
{
    (void)state;
    enum { N = 20 };
    int port, seen[N + 1] = {0};
    int efd = eventfd(0, EFD_CLOEXEC);
    uint64_t told = 0;
    assert_true(efd >= 0);
    close(listener(&port)); /* the port is free again: refused */
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/robots.txt", port);
    fetch_opts fo = {.retries = -1};
    fetch_bg *b = fetch_bg_new(3, notify, &efd);
    assert_non_null(b);
    for (int i = 0; i <= N; i++) {
        fetch_xfer *x = fetch_xfer_new(&fo, i < N ? url : "not a url");
        assert_non_null(x);
        assert_int_equal(fetch_bg_add(b, x, &seen[i]), 0);
    }
    for (int got = 0; got <= N;) {
        void *tag;
        fetch_xfer *x = fetch_bg_take(b, &tag);
        if (!x) {
            struct pollfd p = {efd, POLLIN, 0};
            uint64_t n;
            assert_int_equal(poll(&p, 1, 30000), 1);
            assert_int_equal(read(efd, &n, sizeof n), sizeof n);
            told += n;
            continue;
        }
        assert_true(fetch_xfer_done(x));
        assert_non_null(fetch_xfer_result(x)->error);
        (*(int *)tag)++;
        fetch_xfer_free(x);
        got++;
    }
    for (int i = 0; i <= N; i++)
        assert_int_equal(seen[i], 1);
    void *tag;
    assert_null(fetch_bg_take(b, &tag));
    fetch_bg_free(b); /* joins the threads: every notify has returned */
    uint64_t n;
    struct pollfd p = {efd, POLLIN, 0};
    if (poll(&p, 1, 0) == 1) {
        assert_int_equal(read(efd, &n, sizeof n), sizeof n);
        told += n;
    }
    assert_int_equal(told, N + 1);
    close(efd);
}

/* Freeing ends transfers that are waiting on the network (and one never
 * started): the alarm turns a hang into a failure, and the sanitizers
 * check that everything was released. */
static void test_free_cancels(void **state)
{
    (void)state;
    int port, tag = 0;
    int fd = listener(&port);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/robots.txt", port);
    fetch_opts fo = {.retries = -1};
    fetch_bg *b = fetch_bg_new(2, NULL, NULL);
    assert_non_null(b);
    for (int i = 0; i < 3; i++) {
        fetch_xfer *x = fetch_xfer_new(&fo, url);
        assert_non_null(x);
        assert_int_equal(fetch_bg_add(b, x, &tag), 0);
    }
    /* A connection waits in the backlog: a transfer is running. */
    struct pollfd p = {fd, POLLIN, 0};
    assert_int_equal(poll(&p, 1, 30000), 1);
    alarm(60);
    fetch_bg_free(b);
    alarm(0);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_come_back),
        cmocka_unit_test(test_free_cancels),
    };
    if (fetch_global_init())
        return 1;
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    fetch_global_cleanup();
    return rc;
}
