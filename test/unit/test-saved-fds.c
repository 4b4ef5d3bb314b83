/* SPDX-License-Identifier: MIT */
/* Unit tests for preload/saved_fds.c: the shim's copies of fds 1 and 2 and their environment
 * variable. The capture test points this process's own fds 1 and 2 elsewhere and restores them
 * before asserting anything (cmocka reports on stdout). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "protocol.h"
#include "saved_fds.h"
#include "unit-test.h"

#define FD_A 70
#define FD_B 71

/* ---- helpers ----------------------------------------------------------------------------- */

/* Moves fd to exactly number want (which must be free), closing the original. */
static void move_fd(int fd, int want) {
        int r = fcntl(fd, F_DUPFD, want);

        assert_int_equal(r, want);
        close(fd);
}

static int open_devnull(void) {
        int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

        assert_true(fd >= 0);
        return fd;
}

static ino_t inode_of(int fd) {
        struct stat st;

        assert_int_equal(fstat(fd, &st), 0);
        return st.st_ino;
}

static bool is_open(int fd) {
        return fcntl(fd, F_GETFD) >= 0;
}

static bool has_cloexec(int fd) {
        int flags = fcntl(fd, F_GETFD);

        assert_true(flags >= 0);
        return flags & FD_CLOEXEC;
}

/* Pipes whose write ends sit at FD_A and FD_B; the read ends are returned. */
struct fixture {
        int read_a, read_b;
};

static int setup(void **state) {
        struct fixture *f = calloc(1, sizeof(*f));
        int a[2], b[2];

        if (!f || is_open(FD_A) || is_open(FD_B))
                return -1;
        if (pipe2(a, O_CLOEXEC) < 0 || pipe2(b, O_CLOEXEC) < 0)
                return -1;
        if (fcntl(a[1], F_DUPFD, FD_A) != FD_A || fcntl(b[1], F_DUPFD, FD_B) != FD_B)
                return -1;
        close(a[1]);
        close(b[1]);
        f->read_a = a[0];
        f->read_b = b[0];
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fixture *f = *state;

        close(FD_A);
        close(FD_B);
        close(f->read_a);
        close(f->read_b);
        free(f);
        return 0;
}

/* ---- saved_fd_usable --------------------------------------------------------------------- */

static void test_usable(void **state) {
        int null = open_devnull(), zero = open("/dev/zero", O_RDONLY | O_CLOEXEC);
        (void) state;

        assert_true(zero >= 0);
        assert_true(saved_fd_usable(FD_A));
        assert_true(saved_fd_usable(zero)); /* a character device, just not /dev/null */
        assert_false(saved_fd_usable(null));
        assert_false(saved_fd_usable(-1));
        assert_false(saved_fd_usable(-EBADF));
        close(null);
        assert_false(saved_fd_usable(null));
        close(zero);
}

/* ---- saved_fds_parse --------------------------------------------------------------------- */

static void test_parse_open(void **state) {
        struct saved_fds s = {.fd = {-7, -7}};
        (void) state;

        assert_int_equal(saved_fds_parse("70:71", &s), 0);
        assert_int_equal(s.fd[SAVED_STDOUT], FD_A);
        assert_int_equal(s.fd[SAVED_STDERR], FD_B);
        assert_int_equal(saved_fds_parse("71:70", &s), 0);
        assert_int_equal(s.fd[SAVED_STDOUT], FD_B);
        assert_int_equal(s.fd[SAVED_STDERR], FD_A);
        assert_int_equal(saved_fds_parse("-1:71", &s), 0);
        assert_int_equal(s.fd[SAVED_STDOUT], -1);
        assert_int_equal(s.fd[SAVED_STDERR], FD_B);
        assert_int_equal(saved_fds_parse("-1:-1", &s), 0);
        assert_int_equal(s.fd[SAVED_STDOUT], -1);
        assert_int_equal(s.fd[SAVED_STDERR], -1);
}

static void test_parse_devnull(void **state) {
        struct saved_fds s = {.fd = {-7, -7}};
        (void) state;

        close(FD_A);
        move_fd(open_devnull(), FD_A);
        assert_int_equal(saved_fds_parse("70:71", &s), 0);
        assert_int_equal(s.fd[SAVED_STDOUT], -1);
        assert_int_equal(s.fd[SAVED_STDERR], FD_B);
        /* Parsing takes nothing over and closes nothing. */
        assert_true(is_open(FD_A));
}

static void test_parse_closed(void **state) {
        struct saved_fds s = {.fd = {-7, -7}};
        (void) state;

        close(FD_B);
        assert_int_equal(saved_fds_parse("70:71", &s), 0);
        assert_int_equal(s.fd[SAVED_STDOUT], FD_A);
        assert_int_equal(s.fd[SAVED_STDERR], -1);
        assert_int_equal(saved_fds_parse("2147483647:70", &s), 0);
        assert_int_equal(s.fd[SAVED_STDOUT], -1);
        assert_int_equal(s.fd[SAVED_STDERR], FD_A);
}

static void test_parse_malformed(void **state) {
        static const char *const bad[] = {
                "",
                "1:2",
                "0:70",
                "70:2",
                "abc",
                "70",
                "70:",
                ":71",
                ":",
                "70:71:72",
                "70;71",
                "70:70",
                "-5:70",
                "70:-2",
                "99999999999:1",
                "70:99999999999",
                "2147483648:71",
                "70:71 ",
                "70:71\n",
                "70x:71",
                "0x46:71",
                "70:71:",
                "- 1:70",
                "70::71",
        };
        (void) state;

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct saved_fds s = {.fd = {-7, -7}};

                if (saved_fds_parse(bad[i], &s) != -EINVAL)
                        fail_msg("\"%s\" was not rejected", bad[i]);
                /* ret is written only on success. */
                assert_int_equal(s.fd[0], -7);
                assert_int_equal(s.fd[1], -7);
        }
}

/* ---- saved_fds_format -------------------------------------------------------------------- */

static void test_format(void **state) {
        char buf[32];
        struct saved_fds s = {.fd = {70, -1}};
        (void) state;

        assert_int_equal(saved_fds_format(&s, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "70:-1");
        assert_int_equal(saved_fds_format(&SAVED_FDS_NONE, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "-1:-1");
        s = (struct saved_fds){.fd = {INT_MAX, 64}};
        assert_int_equal(saved_fds_format(&s, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "2147483647:64");

        s = (struct saved_fds){.fd = {70, -1}};
        assert_int_equal(saved_fds_format(&s, buf, 6), 0); /* exactly fits with its NUL */
        assert_string_equal(buf, "70:-1");
        assert_int_equal(saved_fds_format(&s, buf, 5), -ENOBUFS);
        assert_int_equal(saved_fds_format(&s, buf, 1), -ENOBUFS);
        assert_int_equal(saved_fds_format(&s, buf, 0), -ENOBUFS);
}

static void test_format_parse_roundtrip(void **state) {
        const struct saved_fds in = {.fd = {FD_B, FD_A}};
        struct saved_fds out;
        char buf[32];
        (void) state;

        assert_int_equal(saved_fds_format(&in, buf, sizeof(buf)), 0);
        assert_int_equal(saved_fds_parse(buf, &out), 0);
        assert_int_equal(out.fd[0], FD_B);
        assert_int_equal(out.fd[1], FD_A);
}

/* ---- saved_fds_set_cloexec --------------------------------------------------------------- */

static void test_set_cloexec(void **state) {
        struct saved_fds s = {.fd = {FD_A, FD_B}};
        (void) state;

        assert_false(has_cloexec(FD_A)); /* F_DUPFD clears it */
        assert_int_equal(saved_fds_set_cloexec(&s, true), 0);
        assert_true(has_cloexec(FD_A));
        assert_true(has_cloexec(FD_B));
        assert_int_equal(saved_fds_set_cloexec(&s, true), 0); /* idempotent */
        assert_true(has_cloexec(FD_A));
        assert_int_equal(saved_fds_set_cloexec(&s, false), 0);
        assert_false(has_cloexec(FD_A));
        assert_false(has_cloexec(FD_B));

        /* -1 entries are skipped. */
        s = (struct saved_fds){.fd = {-1, FD_B}};
        assert_int_equal(saved_fds_set_cloexec(&s, true), 0);
        assert_false(has_cloexec(FD_A));
        assert_true(has_cloexec(FD_B));
        assert_int_equal(saved_fds_set_cloexec(&SAVED_FDS_NONE, true), 0);

        /* A closed fd is reported, and the other one is still changed. */
        close(FD_A);
        s = (struct saved_fds){.fd = {FD_A, FD_B}};
        assert_int_equal(saved_fds_set_cloexec(&s, false), -EBADF);
        assert_false(has_cloexec(FD_B));
}

/* ---- saved_fds_capture ------------------------------------------------------------------- */

struct stdio_backup {
        int out, err;
};

static void stdio_save(struct stdio_backup *b) {
        fflush(stdout);
        fflush(stderr);
        b->out = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
        b->err = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
        assert_true(b->out >= 0 && b->err >= 0);
}

/* Must run before any assertion that could fail while 1 and 2 point elsewhere. */
static int stdio_restore(struct stdio_backup *b) {
        int r = 0;

        if (dup2(b->out, STDOUT_FILENO) < 0 || dup2(b->err, STDERR_FILENO) < 0)
                r = -errno;
        close(b->out);
        close(b->err);
        return r;
}

static void test_capture_one(void **state) {
        struct fixture *f = *state;
        struct stdio_backup b;
        struct saved_fds s = {.fd = {-7, -7}};
        int null = open_devnull(), n, dup_out, dup_err;

        stdio_save(&b);
        dup_out = dup2(FD_A, STDOUT_FILENO);
        dup_err = dup2(null, STDERR_FILENO);
        n = saved_fds_capture(&s);
        assert_int_equal(stdio_restore(&b), 0);
        close(null);

        assert_int_equal(dup_out, STDOUT_FILENO);
        assert_int_equal(dup_err, STDERR_FILENO);
        assert_int_equal(n, 1);
        assert_int_equal(s.fd[SAVED_STDERR], -1);
        assert_true(s.fd[SAVED_STDOUT] >= SAVED_FDS_MIN);
        assert_int_not_equal(s.fd[SAVED_STDOUT], FD_A);
        assert_true(has_cloexec(s.fd[SAVED_STDOUT]));
        assert_int_equal(inode_of(s.fd[SAVED_STDOUT]), inode_of(FD_A));
        /* It really is the pipe: what goes in arrives at the read end. */
        {
                char c = 0;

                assert_int_equal(write(s.fd[SAVED_STDOUT], "x", 1), 1);
                assert_int_equal(read(f->read_a, &c, 1), 1);
                assert_int_equal(c, 'x');
        }
        close(s.fd[SAVED_STDOUT]);
}

static void test_capture_both_and_none(void **state) {
        struct stdio_backup b;
        struct saved_fds both, none = {.fd = {-7, -7}}, closed = {.fd = {-7, -7}};
        int null = open_devnull(), n_both, n_none, n_closed;
        (void) state;

        stdio_save(&b);
        (void) dup2(FD_A, STDOUT_FILENO);
        (void) dup2(FD_B, STDERR_FILENO);
        n_both = saved_fds_capture(&both);
        (void) dup2(null, STDOUT_FILENO);
        (void) dup2(null, STDERR_FILENO);
        n_none = saved_fds_capture(&none);
        close(STDOUT_FILENO);
        (void) dup2(FD_B, STDERR_FILENO);
        n_closed = saved_fds_capture(&closed);
        assert_int_equal(stdio_restore(&b), 0);
        close(null);

        assert_int_equal(n_both, 2);
        assert_true(both.fd[SAVED_STDOUT] >= SAVED_FDS_MIN);
        assert_true(both.fd[SAVED_STDERR] >= SAVED_FDS_MIN);
        assert_int_equal(inode_of(both.fd[SAVED_STDOUT]), inode_of(FD_A));
        assert_int_equal(inode_of(both.fd[SAVED_STDERR]), inode_of(FD_B));
        assert_true(has_cloexec(both.fd[SAVED_STDOUT]));
        assert_true(has_cloexec(both.fd[SAVED_STDERR]));
        close(both.fd[SAVED_STDOUT]);
        close(both.fd[SAVED_STDERR]);

        assert_int_equal(n_none, 0);
        assert_int_equal(none.fd[SAVED_STDOUT], -1);
        assert_int_equal(none.fd[SAVED_STDERR], -1);

        assert_int_equal(n_closed, 1);
        assert_int_equal(closed.fd[SAVED_STDOUT], -1);
        assert_true(closed.fd[SAVED_STDERR] >= SAVED_FDS_MIN);
        assert_int_equal(inode_of(closed.fd[SAVED_STDERR]), inode_of(FD_B));
        close(closed.fd[SAVED_STDERR]);
}

/* ---- saved_fds_collect / contains -------------------------------------------------------- */

static void test_collect(void **state) {
        int fds[SAVED_N];
        unsigned mask;
        (void) state;

        fds[0] = fds[1] = -7;
        assert_int_equal(saved_fds_collect(&(struct saved_fds){.fd = {70, 71}}, fds, &mask), 2);
        assert_int_equal(mask, PROTO_STREAM_ALL);
        assert_int_equal(fds[0], 70);
        assert_int_equal(fds[1], 71);

        fds[0] = fds[1] = -7;
        assert_int_equal(saved_fds_collect(&(struct saved_fds){.fd = {-1, 71}}, fds, &mask), 1);
        assert_int_equal(mask, PROTO_STREAM_STDERR);
        assert_int_equal(fds[0], 71);
        assert_int_equal(fds[1], -7);

        fds[0] = fds[1] = -7;
        assert_int_equal(saved_fds_collect(&(struct saved_fds){.fd = {70, -1}}, fds, &mask), 1);
        assert_int_equal(mask, PROTO_STREAM_STDOUT);
        assert_int_equal(fds[0], 70);

        mask = 99;
        assert_int_equal(saved_fds_collect(&SAVED_FDS_NONE, fds, &mask), 0);
        assert_int_equal(mask, 0);

        /* The count is the number of streams in the mask, as a DEPOSIT needs. */
        for (int a = -1; a <= 1; a++)
                for (int e = -1; e <= 1; e++) {
                        size_t n = saved_fds_collect(
                                &(struct saved_fds){.fd = {a < 0 ? -1 : 70, e < 0 ? -1 : 71}}, fds,
                                &mask);

                        assert_int_equal(n, (size_t) __builtin_popcount(mask));
                        assert_int_equal(mask & ~PROTO_STREAM_ALL, 0);
                }
}

static void test_contains(void **state) {
        const struct saved_fds s = {.fd = {70, -1}};
        (void) state;

        assert_true(saved_fds_contains(&s, 70));
        assert_false(saved_fds_contains(&s, 71));
        assert_false(saved_fds_contains(&s, -1));
        assert_false(saved_fds_contains(&SAVED_FDS_NONE, -1));
}

int main(void) {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        const struct CMUnitTest tests[] = {
                T(test_usable),
                T(test_parse_open),
                T(test_parse_devnull),
                T(test_parse_closed),
                T(test_parse_malformed),
                cmocka_unit_test(test_format),
                T(test_format_parse_roundtrip),
                T(test_set_cloexec),
                T(test_capture_one),
                T(test_capture_both_and_none),
                cmocka_unit_test(test_collect),
                cmocka_unit_test(test_contains),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
