/* SPDX-License-Identifier: MIT */
/* Unit tests for client/output_writer.c: the batch size per kind of fd and --pipe-writes, and
 * output_write_all() through short writes, EINTR, EAGAIN on a non-blocking pipe and a vanished
 * reader. Linked with -Wl,--wrap=write so a test can make write() come up short or fail. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "output_writer.h"
#include "unit-test.h"

/* ---- write() wrapper --------------------------------------------------------------------- */

ssize_t __real_write(int fd, const void *buf, size_t n);
ssize_t __wrap_write(int fd, const void *buf, size_t n);

static struct {
        unsigned eintr_left; /* fail this many calls with EINTR first */
        size_t max_n;        /* != 0: really write at most this many bytes per call */
        unsigned calls;
} wrap;

ssize_t __wrap_write(int fd, const void *buf, size_t n) {
        wrap.calls++;
        if (wrap.eintr_left > 0) {
                wrap.eintr_left--;
                errno = EINTR;
                return -1;
        }
        if (wrap.max_n != 0 && n > wrap.max_n)
                n = wrap.max_n;
        return __real_write(fd, buf, n);
}

static int setup(void **state) {
        (void) state;
        wrap = (typeof(wrap)){};
        return 0;
}

/* ---- output_batch_size ------------------------------------------------------------------- */

static void test_batch_size_pipe(void **state) {
        int p[2];

        (void) state;
        assert_int_equal(pipe(p), 0);
        /* Shared: the kernel keeps writes of up to PIPE_BUF bytes whole. */
        assert_int_equal(output_batch_size(p[1], true), PIPE_BUF);
        assert_int_equal(output_batch_size(p[1], false), 64 * 1024);
        close(p[0]);
        close(p[1]);
}

static void test_batch_size_not_a_pipe(void **state) {
        char path[] = "/tmp/test-output-writer-XXXXXX";
        int fd = mkstemp(path), null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

        (void) state;
        assert_true(fd >= 0);
        assert_true(null_fd >= 0);
        unlink(path);
        /* PIPE_BUF means nothing for files and devices: large batches whatever --pipe-writes
         * says. */
        assert_int_equal(output_batch_size(fd, true), 64 * 1024);
        assert_int_equal(output_batch_size(null_fd, true), 64 * 1024);
        assert_int_equal(output_batch_size(null_fd, false), 64 * 1024);
        /* A closed fd: fstat fails, and the large size is as good as any. */
        close(fd);
        assert_int_equal(output_batch_size(fd, true), 64 * 1024);
        close(null_fd);
}

/* ---- output_write_all -------------------------------------------------------------------- */

/* Reads everything from fd until EOF into a malloc'ed buffer of *ret_n bytes. */
static char *read_all(int fd, size_t *ret_n) {
        size_t n = 0, cap = 1 << 20;
        char *b = malloc(cap);

        assert_non_null(b);
        for (;;) {
                ssize_t k;

                if (n == cap) {
                        cap *= 2;
                        b = realloc(b, cap);
                        assert_non_null(b);
                }
                k = read(fd, b + n, cap - n);
                assert_true(k >= 0);
                if (k == 0)
                        break;
                n += (size_t) k;
        }
        *ret_n = n;
        return b;
}

static char *pattern(size_t n) {
        char *p = malloc(n);

        assert_non_null(p);
        for (size_t i = 0; i < n; i++)
                p[i] = (char) ('a' + i % 26 + (i / 26) % 3);
        return p;
}

static void test_write_all_short_and_eintr(void **state) {
        const size_t n = 10000;
        char *want = pattern(n), *got;
        char path[] = "/tmp/test-output-writer-XXXXXX";
        int fd = mkstemp(path);
        size_t got_n;

        (void) state;
        assert_true(fd >= 0);
        unlink(path);
        wrap.eintr_left = 2;
        wrap.max_n = 333;
        assert_int_equal(output_write_all(fd, want, n), 0);
        /* Two EINTRs, then 31 short writes of 333 bytes and the last 1 of 10000. */
        assert_int_equal(wrap.calls, 2 + (n + 332) / 333);
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        wrap = (typeof(wrap)){};
        got = read_all(fd, &got_n);
        assert_int_equal(got_n, n);
        assert_memory_equal(got, want, n);
        close(fd);
        free(got);
        free(want);
}

/* Someone set O_NONBLOCK on the shared pipe: a full pipe gives EAGAIN, and the writer must wait
 * in poll() until the (slow) reader makes room, then go on where it was. */
static void test_write_all_nonblocking_pipe(void **state) {
        const size_t n = 1 << 20; /* sixteen times the pipe's default capacity */
        char *want = pattern(n), *got;
        int p[2], status;
        pid_t pid;
        size_t got_n = 0;

        (void) state;
        assert_int_equal(pipe(p), 0);
        assert_int_equal(fcntl(p[1], F_SETFL, O_NONBLOCK), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(p[0]);
                _exit(output_write_all(p[1], want, n) == 0 ? 0 : 1);
        }
        close(p[1]);
        usleep(100 * 1000); /* let the writer fill the pipe and meet EAGAIN */
        got = read_all(p[0], &got_n);
        close(p[0]);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        assert_int_equal(got_n, n);
        assert_memory_equal(got, want, n);
        free(got);
        free(want);
}

static void test_write_all_reader_gone(void **state) {
        int p[2];

        (void) state;
        assert_int_equal(pipe(p), 0);
        close(p[0]);
        signal(SIGPIPE, SIG_IGN);
        assert_int_equal(output_write_all(p[1], "x\n", 2), -EPIPE);
        /* Non-blocking too: EPIPE, never a wait for a reader that cannot come back. */
        assert_int_equal(fcntl(p[1], F_SETFL, O_NONBLOCK), 0);
        assert_int_equal(output_write_all(p[1], "x\n", 2), -EPIPE);
        close(p[1]);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup(test_batch_size_pipe, setup),
                cmocka_unit_test_setup(test_batch_size_not_a_pipe, setup),
                cmocka_unit_test_setup(test_write_all_short_and_eintr, setup),
                cmocka_unit_test_setup(test_write_all_nonblocking_pipe, setup),
                cmocka_unit_test_setup(test_write_all_reader_gone, setup),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
