/* SPDX-License-Identifier: MIT */
/* Unit tests for common/fdpass.c over a real socketpair(AF_UNIX, SOCK_SEQPACKET). Linked with
 * -Wl,--wrap=sendmsg so a test can make sendmsg() fail or come up short. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdpass.h"
#include "unit-test.h"

/* ---- sendmsg() wrapper ------------------------------------------------------------------- */

ssize_t __real_sendmsg(int fd, const struct msghdr *mh, int flags);
ssize_t __wrap_sendmsg(int fd, const struct msghdr *mh, int flags);

static struct {
        int fail_errno;    /* != 0: fail with this errno, sending nothing */
        ssize_t short_ret; /* >= 0: send for real, then report this count */
        unsigned calls;
        int last_flags;
} wrap;

ssize_t __wrap_sendmsg(int fd, const struct msghdr *mh, int flags) {
        ssize_t n;

        wrap.calls++;
        wrap.last_flags = flags;
        if (wrap.fail_errno != 0) {
                errno = wrap.fail_errno;
                return -1;
        }
        n = __real_sendmsg(fd, mh, flags);
        if (n >= 0 && wrap.short_ret >= 0)
                return wrap.short_ret;
        return n;
}

/* ---- helpers ----------------------------------------------------------------------------- */

struct pair {
        int s[2]; /* s[0] sends, s[1] receives */
};

static int count_open_fds(void) {
        DIR *d = opendir("/proc/self/fd");
        struct dirent *de;
        int n = 0;

        assert_non_null(d);
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        n++;
        closedir(d);
        return n; /* includes the directory's own fd, consistently */
}

static int setup(void **state) {
        struct pair *p = calloc(1, sizeof(*p));

        if (!p || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, p->s) < 0)
                return -1;
        wrap.fail_errno = 0;
        wrap.short_ret = -1;
        wrap.calls = 0;
        wrap.last_flags = 0;
        *state = p;
        return 0;
}

static int teardown(void **state) {
        struct pair *p = *state;

        wrap.fail_errno = 0;
        wrap.short_ret = -1;
        if (p->s[0] >= 0)
                close(p->s[0]);
        if (p->s[1] >= 0)
                close(p->s[1]);
        free(p);
        return 0;
}

static void make_pipe(int p[2]) {
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
}

static void close_pipe(int p[2]) {
        close(p[0]);
        close(p[1]);
}

static ino_t inode_of(int fd) {
        struct stat st;

        assert_int_equal(fstat(fd, &st), 0);
        return st.st_ino;
}

static void assert_cloexec(int fd) {
        int flags = fcntl(fd, F_GETFD);

        assert_true(flags >= 0);
        assert_true(flags & FD_CLOEXEC);
}

/* sendmsg() of arbitrary bytes with n arbitrary fds, bypassing fdpass_send()'s checks. */
static void raw_send(int sock, const void *data, size_t len, const int *fds, size_t n) {
        struct iovec iov = {.iov_base = (void *) data, .iov_len = len};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
        union {
                struct cmsghdr align;
                uint8_t buf[CMSG_SPACE(sizeof(int) * 32)];
        } control;
        struct cmsghdr *c;

        assert_true(n <= 32);
        if (n > 0) {
                memset(&control, 0, sizeof(control));
                mh.msg_control = &control;
                mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
                c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int) * n);
                memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
        }
        assert_int_equal(__real_sendmsg(sock, &mh, MSG_DONTWAIT), (ssize_t) len);
}

static void raw_send_message(int sock, uint8_t type, uint8_t streams, uint8_t error, const int *fds,
                             size_t n) {
        const uint8_t buf[PROTO_MESSAGE_SIZE] = {'J', 'A', PROTO_VERSION, type, streams, error};

        raw_send(sock, buf, sizeof(buf), fds, n);
}

/* Receives expecting failure r; checks that out-params stay untouched and nothing leaks. */
static void recv_expect_error(int sock, int expect, size_t fds_max) {
        struct proto_message m = {.type = 0xAA, .streams = 0xAA, .error = 0xAA};
        int fds[PROTO_MAX_FDS + 1] = {-7, -7, -7};
        size_t n = 12345;
        int before = count_open_fds();

        assert_true(fds_max <= PROTO_MAX_FDS + 1);
        assert_int_equal(fdpass_recv(sock, &m, fds, fds_max, &n, MSG_DONTWAIT), expect);
        assert_int_equal(count_open_fds(), before);
        assert_int_equal(m.type, 0xAA);
        assert_int_equal(n, 12345);
        assert_int_equal(fds[0], -7);
        /* The bad record was consumed, nothing else is queued. */
        if (expect != -EAGAIN && expect != -ECONNRESET)
                assert_int_equal(fdpass_recv(sock, &m, fds, fds_max, &n, MSG_DONTWAIT), -EAGAIN);
}

/* ---- tests ------------------------------------------------------------------------------- */

static void test_deposit_two_fds(void **state) {
        struct pair *p = *state;
        int out[2], err[2], fds[PROTO_MAX_FDS] = {-1, -1};
        const struct proto_message m = {.type = PROTO_DEPOSIT, .streams = PROTO_STREAM_ALL};
        struct proto_message got = {0};
        size_t n = 0;
        char c = 0;
        int before;

        make_pipe(out);
        make_pipe(err);
        before = count_open_fds();
        assert_int_equal(fdpass_send(p->s[0], &m, (int[]){out[1], err[1]}, 2, MSG_NOSIGNAL), 0);
        assert_int_equal(wrap.last_flags, MSG_NOSIGNAL);
        assert_int_equal(fdpass_recv(p->s[1], &got, fds, PROTO_MAX_FDS, &n, 0), 0);
        assert_int_equal(got.type, PROTO_DEPOSIT);
        assert_int_equal(got.streams, PROTO_STREAM_ALL);
        assert_int_equal(got.error, 0);
        assert_int_equal(n, 2);
        assert_int_equal(count_open_fds(), before + 2);

        /* New fds, in mask order, CLOEXEC, the very same pipes. */
        for (int i = 0; i < 2; i++) {
                assert_true(fds[i] >= 0);
                assert_int_not_equal(fds[i], out[1]);
                assert_int_not_equal(fds[i], err[1]);
                assert_cloexec(fds[i]);
        }
        assert_int_equal(inode_of(fds[0]), inode_of(out[1]));
        assert_int_equal(inode_of(fds[1]), inode_of(err[1]));
        assert_int_not_equal(inode_of(fds[0]), inode_of(fds[1]));
        assert_int_equal(write(fds[1], "e", 1), 1);
        assert_int_equal(read(err[0], &c, 1), 1);
        assert_int_equal(c, 'e');

        close(fds[0]);
        close(fds[1]);
        close_pipe(out);
        close_pipe(err);
}

static void test_fds_one_stream(void **state) {
        struct pair *p = *state;
        int pp[2], fds[PROTO_MAX_FDS] = {-1, -1};
        const struct proto_message m = {.type = PROTO_FDS, .streams = PROTO_STREAM_STDERR};
        struct proto_message got = {0};
        size_t n = 0;

        make_pipe(pp);
        assert_int_equal(fdpass_send(p->s[0], &m, &pp[1], 1, 0), 0);
        assert_int_equal(fdpass_recv(p->s[1], &got, fds, PROTO_MAX_FDS, &n, 0), 0);
        assert_int_equal(got.type, PROTO_FDS);
        assert_int_equal(got.streams, PROTO_STREAM_STDERR);
        assert_int_equal(n, 1);
        assert_cloexec(fds[0]);
        assert_int_equal(inode_of(fds[0]), inode_of(pp[1]));
        assert_int_equal(fds[1], -1); /* only n entries are written */
        close(fds[0]);
        close_pipe(pp);
}

static void test_messages_without_fds(void **state) {
        struct pair *p = *state;
        const struct proto_message fetch = {.type = PROTO_FETCH, .streams = PROTO_STREAM_STDOUT};
        const struct proto_message ok = {.type = PROTO_OK};
        struct proto_message got;
        int fds[PROTO_MAX_FDS] = {-1, -1};
        size_t n;
        int before = count_open_fds();

        assert_int_equal(fdpass_send_error(p->s[0], EPERM), 0);
        assert_int_equal(wrap.last_flags, MSG_DONTWAIT | MSG_NOSIGNAL);
        n = 99;
        assert_int_equal(fdpass_recv(p->s[1], &got, fds, PROTO_MAX_FDS, &n, 0), 0);
        assert_int_equal(got.type, PROTO_ERROR);
        assert_int_equal(got.error, EPERM);
        assert_int_equal(got.streams, 0);
        assert_int_equal(n, 0);

        /* errno values that do not fit the byte become EIO. */
        assert_int_equal(fdpass_send_error(p->s[0], 300), 0);
        assert_int_equal(fdpass_recv(p->s[1], &got, fds, PROTO_MAX_FDS, &n, 0), 0);
        assert_int_equal(got.type, PROTO_ERROR);
        assert_int_equal(got.error, EIO);

        n = 99;
        assert_int_equal(fdpass_send(p->s[0], &fetch, NULL, 0, 0), 0);
        assert_int_equal(fdpass_recv(p->s[1], &got, fds, PROTO_MAX_FDS, &n, 0), 0);
        assert_int_equal(got.type, PROTO_FETCH);
        assert_int_equal(got.streams, PROTO_STREAM_STDOUT);
        assert_int_equal(n, 0);

        n = 99;
        assert_int_equal(fdpass_send(p->s[0], &ok, NULL, 0, 0), 0);
        assert_int_equal(fdpass_recv(p->s[1], &got, fds, 0, &n, 0), 0);
        assert_int_equal(got.type, PROTO_OK);
        assert_int_equal(n, 0);

        assert_int_equal(fds[0], -1);
        assert_int_equal(count_open_fds(), before);
}

static void test_fetch_with_fd_rejected(void **state) {
        struct pair *p = *state;
        int pp[2];

        make_pipe(pp);
        raw_send_message(p->s[0], PROTO_FETCH, PROTO_STREAM_ALL, 0, &pp[1], 1);
        recv_expect_error(p->s[1], -EBADMSG, PROTO_MAX_FDS);
        close_pipe(pp);
}

static void test_error_and_ok_with_fd_rejected(void **state) {
        struct pair *p = *state;
        int pp[2];

        make_pipe(pp);
        raw_send_message(p->s[0], PROTO_ERROR, 0, EPERM, &pp[1], 1);
        recv_expect_error(p->s[1], -EBADMSG, PROTO_MAX_FDS);
        raw_send_message(p->s[0], PROTO_OK, 0, 0, (int[]){pp[0], pp[1]}, 2);
        recv_expect_error(p->s[1], -EBADMSG, PROTO_MAX_FDS);
        close_pipe(pp);
}

static void test_deposit_fd_count_mismatch(void **state) {
        struct pair *p = *state;
        int pp[2];

        make_pipe(pp);
        /* Mask for two streams, one fd. */
        raw_send_message(p->s[0], PROTO_DEPOSIT, PROTO_STREAM_ALL, 0, &pp[1], 1);
        recv_expect_error(p->s[1], -EBADMSG, PROTO_MAX_FDS);
        /* Mask for one stream, two fds. */
        raw_send_message(p->s[0], PROTO_DEPOSIT, PROTO_STREAM_STDOUT, 0, (int[]){pp[1], pp[1]}, 2);
        recv_expect_error(p->s[1], -EBADMSG, PROTO_MAX_FDS);
        /* FDS without any fd. */
        raw_send_message(p->s[0], PROTO_FDS, PROTO_STREAM_STDOUT, 0, NULL, 0);
        recv_expect_error(p->s[1], -EBADMSG, PROTO_MAX_FDS);
        close_pipe(pp);
}

static void test_more_fds_than_max(void **state) {
        struct pair *p = *state;
        const struct proto_message m = {.type = PROTO_DEPOSIT, .streams = PROTO_STREAM_ALL};
        int pp[2];

        make_pipe(pp);
        assert_int_equal(fdpass_send(p->s[0], &m, pp, 2, 0), 0);
        recv_expect_error(p->s[1], -EBADMSG, 1);
        assert_int_equal(fdpass_send(p->s[0], &m, pp, 2, 0), 0);
        recv_expect_error(p->s[1], -EBADMSG, 0);
        close_pipe(pp);
}

/* More fds than fdpass_recv() makes room for: the kernel sets MSG_CTRUNC and drops the rest. */
static void test_many_fds_ctrunc(void **state) {
        struct pair *p = *state;
        int pp[2], many[24];

        make_pipe(pp);
        for (size_t i = 0; i < (sizeof(many) / sizeof(many[0])); i++)
                many[i] = pp[i % 2];
        raw_send_message(p->s[0], PROTO_DEPOSIT, PROTO_STREAM_ALL, 0, many,
                         (sizeof(many) / sizeof(many[0])));
        recv_expect_error(p->s[1], -EBADMSG, PROTO_MAX_FDS);
        close_pipe(pp);
}

static void test_oversized_record(void **state) {
        struct pair *p = *state;
        size_t size = 64 * 1024;
        uint8_t *big = calloc(1, size);
        uint8_t nine[PROTO_MESSAGE_SIZE + 1] = {'J', 'A', PROTO_VERSION, PROTO_FETCH,
                                                PROTO_STREAM_ALL};
        int sz = 256 * 1024, pp[2];

        assert_non_null(big);
        /* A valid message at its start does not help. */
        memcpy(big, nine, PROTO_MESSAGE_SIZE);
        (void) setsockopt(p->s[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
        make_pipe(pp);
        raw_send(p->s[0], big, size, &pp[1], 1);
        recv_expect_error(p->s[1], -EBADMSG, PROTO_MAX_FDS);
        raw_send(p->s[0], nine, sizeof(nine), NULL, 0);
        recv_expect_error(p->s[1], -EBADMSG, PROTO_MAX_FDS);
        close_pipe(pp);
        free(big);
}

static void test_garbage(void **state) {
        struct pair *p = *state;
        int pp[2];

        raw_send(p->s[0], "abc", 3, NULL, 0);
        recv_expect_error(p->s[1], -EBADMSG, PROTO_MAX_FDS);
        make_pipe(pp);
        raw_send(p->s[0], "garbage!", 8, &pp[0], 1);
        recv_expect_error(p->s[1], -EBADMSG, PROTO_MAX_FDS);
        /* An empty record carrying an fd is not end of stream. */
        raw_send(p->s[0], "", 0, &pp[0], 1);
        recv_expect_error(p->s[1], -EBADMSG, PROTO_MAX_FDS);
        close_pipe(pp);
}

static void test_other_version(void **state) {
        struct pair *p = *state;
        const uint8_t v2[PROTO_MESSAGE_SIZE] = {'J', 'A', 2, PROTO_DEPOSIT, PROTO_STREAM_STDOUT};
        int pp[2];

        make_pipe(pp);
        raw_send(p->s[0], v2, sizeof(v2), &pp[1], 1);
        recv_expect_error(p->s[1], -EPROTONOSUPPORT, PROTO_MAX_FDS);
        close_pipe(pp);
}

static void test_peer_closed(void **state) {
        struct pair *p = *state;
        const struct proto_message m = {.type = PROTO_OK};
        struct proto_message got;
        size_t n;
        int fds[PROTO_MAX_FDS];

        /* Queued records are still delivered, then end of stream. */
        assert_int_equal(fdpass_send(p->s[0], &m, NULL, 0, 0), 0);
        close(p->s[0]);
        p->s[0] = -1;
        assert_int_equal(fdpass_recv(p->s[1], &got, fds, PROTO_MAX_FDS, &n, 0), 0);
        assert_int_equal(got.type, PROTO_OK);
        recv_expect_error(p->s[1], -ECONNRESET, PROTO_MAX_FDS);
        recv_expect_error(p->s[1], -ECONNRESET, PROTO_MAX_FDS);
}

static void test_recv_nothing_queued(void **state) {
        struct pair *p = *state;

        recv_expect_error(p->s[1], -EAGAIN, PROTO_MAX_FDS);
}

static void test_send_closed_peer(void **state) {
        struct pair *p = *state;
        const struct proto_message m = {.type = PROTO_FETCH, .streams = PROTO_STREAM_ALL};

        close(p->s[1]);
        p->s[1] = -1;
        assert_int_equal(fdpass_send(p->s[0], &m, NULL, 0, MSG_NOSIGNAL), -EPIPE);
}

static void test_send_eagain(void **state) {
        struct pair *p = *state;
        const struct proto_message m = {.type = PROTO_FETCH, .streams = PROTO_STREAM_ALL};

        wrap.fail_errno = EAGAIN;
        assert_int_equal(fdpass_send(p->s[0], &m, NULL, 0, MSG_DONTWAIT), -EAGAIN);
        assert_int_equal(fdpass_send_error(p->s[0], EPERM), -EAGAIN);
        assert_int_equal(wrap.calls, 2);
        wrap.fail_errno = 0;
        recv_expect_error(p->s[1], -EAGAIN, PROTO_MAX_FDS);
}

static void test_send_short(void **state) {
        struct pair *p = *state;
        const struct proto_message m = {.type = PROTO_DEPOSIT, .streams = PROTO_STREAM_STDOUT};
        struct proto_message got;
        int pp[2], fds[PROTO_MAX_FDS];
        size_t n;

        make_pipe(pp);
        for (ssize_t s = 0; s < PROTO_MESSAGE_SIZE; s++) {
                wrap.short_ret = s;
                assert_int_equal(fdpass_send(p->s[0], &m, &pp[1], 1, 0), -EMSGSIZE);
                /* (the wrapper did send the whole record; drain it) */
                assert_int_equal(fdpass_recv(p->s[1], &got, fds, PROTO_MAX_FDS, &n, 0), 0);
                assert_int_equal(n, 1);
                close(fds[0]);
        }
        close_pipe(pp);
}

static void test_send_rejects_before_sendmsg(void **state) {
        struct pair *p = *state;
        const struct proto_message bad = {.type = PROTO_DEPOSIT, .streams = 0};
        const struct proto_message m = {.type = PROTO_DEPOSIT, .streams = PROTO_STREAM_ALL};
        int pp[2];

        make_pipe(pp);
        assert_int_equal(fdpass_send(p->s[0], &bad, NULL, 0, 0), -EINVAL);
        assert_int_equal(fdpass_send(p->s[0], &m, (int[]){pp[0], pp[1], pp[0]}, 3, 0), -EINVAL);
        assert_int_equal(wrap.calls, 0);
        recv_expect_error(p->s[1], -EAGAIN, PROTO_MAX_FDS);
        close_pipe(pp);
}

int main(void) {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        const struct CMUnitTest tests[] = {
                T(test_deposit_two_fds),
                T(test_fds_one_stream),
                T(test_messages_without_fds),
                T(test_fetch_with_fd_rejected),
                T(test_error_and_ok_with_fd_rejected),
                T(test_deposit_fd_count_mismatch),
                T(test_more_fds_than_max),
                T(test_many_fds_ctrunc),
                T(test_oversized_record),
                T(test_garbage),
                T(test_other_version),
                T(test_peer_closed),
                T(test_recv_nothing_queued),
                T(test_send_closed_peer),
                T(test_send_eagain),
                T(test_send_short),
                T(test_send_rejects_before_sendmsg),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
