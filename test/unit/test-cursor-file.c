/* SPDX-License-Identifier: MIT */
/* Unit tests for client/cursor_file.c: the pure record format/parse and the file in a temporary
 * directory. Linked with -Wl,--wrap=pwrite so a test can make the write fail or come up short. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cursor_file.h"
#include "unit-test.h"

/* ---- pwrite() wrapper -------------------------------------------------------------------- */

ssize_t __real_pwrite(int fd, const void *buf, size_t n, off_t offset);
ssize_t __wrap_pwrite(int fd, const void *buf, size_t n, off_t offset);

static struct {
        int fail_errno;  /* != 0: fail with this errno, writing nothing */
        ssize_t short_n; /* >= 0: really write only this many bytes */
        unsigned calls;
} wrap;

ssize_t __wrap_pwrite(int fd, const void *buf, size_t n, off_t offset) {
        wrap.calls++;
        if (wrap.fail_errno != 0) {
                errno = wrap.fail_errno;
                return -1;
        }
        if (wrap.short_n >= 0 && (size_t) wrap.short_n < n)
                n = (size_t) wrap.short_n;
        return __real_pwrite(fd, buf, n, offset);
}

/* ---- helpers ----------------------------------------------------------------------------- */

/* What journald's cursors look like. */
static const char CURSOR[] = "s=6d1c4ae8c1a54d0c8e1f2b3a4c5d6e7f;i=1a2;"
                             "b=0f7e9d8c7b6a59483726150403020100;m=3b9aca00;t=5f6e7d8c9bab0;"
                             "x=9e8d7c6b5a493827";
static const char CURSOR2[] = "s=6d1c4ae8c1a54d0c8e1f2b3a4c5d6e7f;i=1a3;"
                              "b=0f7e9d8c7b6a59483726150403020100;m=3b9aca17;t=5f6e7d8c9bac7;"
                              "x=1122334455667788";
#define MAGIC_LEN (sizeof(CURSOR_FILE_MAGIC) - 1)

struct fixture {
        char dir[64];
        char path[128];
        struct cursor_file c;
};

static int setup(void **state) {
        struct fixture *f = calloc(1, sizeof(*f));

        if (!f)
                return -1;
        strcpy(f->dir, "/tmp/test-cursor-file.XXXXXX");
        if (!mkdtemp(f->dir))
                return -1;
        snprintf(f->path, sizeof(f->path), "%s/cursor", f->dir);
        f->c.fd = -EBADF;
        wrap.fail_errno = 0;
        wrap.short_n = -1;
        wrap.calls = 0;
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fixture *f = *state;
        char link[160];

        wrap.fail_errno = 0;
        wrap.short_n = -1;
        if (f->c.path)
                cursor_file_close(&f->c);
        snprintf(link, sizeof(link), "%s/link", f->dir);
        (void) unlink(link);
        (void) unlink(f->path);
        (void) rmdir(f->dir);
        free(f);
        return 0;
}

static uint32_t fnv1a32(const char *s, size_t n) {
        uint32_t h = 2166136261u;

        for (size_t i = 0; i < n; i++) {
                h ^= (unsigned char) s[i];
                h *= 16777619u;
        }
        return h;
}

/* A record built by hand (not by the code under test), with a correct checksum of line_cursor. */
static void hand_record(char buf[CURSOR_FILE_SIZE], const char *line_cursor) {
        int k;

        memset(buf, '\n', CURSOR_FILE_SIZE);
        k = snprintf(buf, CURSOR_FILE_SIZE, "%s%08x %s\n", CURSOR_FILE_MAGIC,
                     fnv1a32(line_cursor, strlen(line_cursor)), line_cursor);
        assert_true(k > 0 && k < CURSOR_FILE_SIZE);
        buf[k] = '\n';
}

static int parse(const char *buf, size_t size) {
        char *ret = (char *) 0x1;
        int r = cursor_record_parse(buf, size, &ret);

        if (r == 0)
                free(ret);
        else
                assert_ptr_equal(ret, (char *) 0x1); /* untouched on failure */
        return r;
}

static void write_file(const char *path, const void *data, size_t n) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, data, n), (ssize_t) n);
        close(fd);
}

static off_t file_size(int fd) {
        struct stat st;

        assert_int_equal(fstat(fd, &st), 0);
        return st.st_size;
}

static void assert_loads(struct cursor_file *c, const char *expect) {
        char *got = NULL;

        assert_int_equal(cursor_file_load(c, &got), 1);
        assert_non_null(got);
        assert_string_equal(got, expect);
        free(got);
}

/* ---- pure format/parse ------------------------------------------------------------------- */

static void test_format_parse_roundtrip(void **state) {
        char buf[CURSOR_FILE_SIZE + 16], expect[CURSOR_FILE_SIZE];
        char *got = NULL;
        (void) state;

        memset(buf, 'Z', sizeof(buf));
        assert_int_equal(cursor_record_format(CURSOR, buf), 0);
        /* Exactly one record, nothing written past it. */
        for (size_t i = CURSOR_FILE_SIZE; i < sizeof(buf); i++)
                assert_int_equal(buf[i], 'Z');
        hand_record(expect, CURSOR);
        assert_memory_equal(buf, expect, CURSOR_FILE_SIZE);
        assert_int_equal(buf[CURSOR_FILE_SIZE - 1], '\n');
        assert_null(memchr(buf, '\0', CURSOR_FILE_SIZE));

        assert_int_equal(cursor_record_parse(buf, CURSOR_FILE_SIZE, &got), 0);
        assert_non_null(got);
        assert_string_equal(got, CURSOR);
        free(got);
}

static void test_format_golden(void **state) {
        char buf[CURSOR_FILE_SIZE];
        static const char line[] = "journalagent-cursor 1 e40c292c a\n"; /* FNV-1a("a") */
        (void) state;

        assert_int_equal(cursor_record_format("a", buf), 0);
        assert_memory_equal(buf, line, sizeof(line) - 1);
        for (size_t i = sizeof(line) - 1; i < CURSOR_FILE_SIZE; i++)
                assert_int_equal(buf[i], '\n');
}

static void test_format_limits(void **state) {
        char buf[CURSOR_FILE_SIZE], *got = NULL;
        char longest[CURSOR_MAX + 2];
        (void) state;

        memset(longest, 'x', CURSOR_MAX);
        longest[CURSOR_MAX] = '\0';
        assert_int_equal(cursor_record_format(longest, buf), 0);
        assert_int_equal(cursor_record_parse(buf, sizeof(buf), &got), 0);
        assert_int_equal(strlen(got), CURSOR_MAX);
        free(got);

        memset(longest, 'x', CURSOR_MAX + 1);
        longest[CURSOR_MAX + 1] = '\0';
        assert_int_equal(cursor_record_format(longest, buf), -E2BIG);
        assert_int_equal(cursor_record_format("", buf), -EINVAL);
        assert_int_equal(cursor_record_format("s=1 i=2", buf), -EINVAL);
        assert_int_equal(cursor_record_format("s=1\ni=2", buf), -EINVAL);
        assert_int_equal(cursor_record_format("s=1\ti=2", buf), -EINVAL);
        assert_int_equal(cursor_record_format("s=1\x7f", buf), -EINVAL);
        assert_int_equal(cursor_record_format("s=\xc3\xa9", buf), -EINVAL);
        assert_int_equal(cursor_record_format("\x01", buf), -EINVAL);
}

static void test_parse_rejects_damage(void **state) {
        char good[CURSOR_FILE_SIZE], buf[CURSOR_FILE_SIZE];
        const size_t sum_off = MAGIC_LEN, cursor_off = MAGIC_LEN + 9;
        const size_t line_end = cursor_off + strlen(CURSOR);
        (void) state;

        hand_record(good, CURSOR);
        assert_int_equal(parse(good, sizeof(good)), 0);

        /* Every single flipped bit in the magic, checksum, separator, cursor or newline. */
        for (size_t i = 0; i <= line_end; i++)
                for (int bit = 0; bit < 8; bit++) {
                        memcpy(buf, good, sizeof(buf));
                        buf[i] ^= (char) (1 << bit);
                        /* Hex digits are case-insensitive to strtoul(): a flipped case bit
                         * in a letter of the checksum is the same number. */
                        if (i >= sum_off && i < sum_off + 8 && bit == 5 && good[i] >= 'a' &&
                            good[i] <= 'f')
                                continue;
                        if (parse(buf, sizeof(buf)) != -EBADMSG)
                                fail_msg("flipping bit %d of byte %zu was accepted", bit, i);
                }
}

static void test_parse_rejects_malformed(void **state) {
        char buf[CURSOR_FILE_SIZE];
        const size_t cursor_off = MAGIC_LEN + 9;
        const size_t line_end = cursor_off + strlen(CURSOR);
        (void) state;

        /* Missing magic: the record of another program, or a bare cursor. */
        memset(buf, '\n', sizeof(buf));
        memcpy(buf, CURSOR, strlen(CURSOR));
        assert_int_equal(parse(buf, sizeof(buf)), -EBADMSG);
        memset(buf, 0, sizeof(buf));
        assert_int_equal(parse(buf, sizeof(buf)), -EBADMSG);
        hand_record(buf, CURSOR);
        memcpy(buf, "journalagent-cursor 2 ", MAGIC_LEN);
        assert_int_equal(parse(buf, sizeof(buf)), -EBADMSG);

        /* Non-padding after the line, anywhere up to the last byte. */
        hand_record(buf, CURSOR);
        buf[line_end + 1] = 'x';
        assert_int_equal(parse(buf, sizeof(buf)), -EBADMSG);
        hand_record(buf, CURSOR);
        buf[CURSOR_FILE_SIZE - 1] = '\0';
        assert_int_equal(parse(buf, sizeof(buf)), -EBADMSG);
        hand_record(buf, CURSOR);
        buf[300] = ' ';
        assert_int_equal(parse(buf, sizeof(buf)), -EBADMSG);

        /* Truncated inside the line, and shorter than the fixed part. */
        hand_record(buf, CURSOR);
        assert_int_equal(parse(buf, line_end), -EBADMSG);
        assert_int_equal(parse(buf, cursor_off + 3), -EBADMSG);
        assert_int_equal(parse(buf, cursor_off), -EBADMSG);
        assert_int_equal(parse(buf, MAGIC_LEN + 4), -EBADMSG);
        assert_int_equal(parse(buf, 0), -EBADMSG);

        /* A cursor that is not printable ASCII, even with a matching checksum. */
        hand_record(buf, "s=1 i=2");
        assert_int_equal(parse(buf, sizeof(buf)), -EBADMSG);
        hand_record(buf, "s=1\ti=2");
        assert_int_equal(parse(buf, sizeof(buf)), -EBADMSG);
        hand_record(buf, "s=1\x1bi=2");
        assert_int_equal(parse(buf, sizeof(buf)), -EBADMSG);
        hand_record(buf, "s=1\x7f");
        assert_int_equal(parse(buf, sizeof(buf)), -EBADMSG);
        hand_record(buf, "s=\xc3\xa9");
        assert_int_equal(parse(buf, sizeof(buf)), -EBADMSG);
        hand_record(buf, "s=1\ri=2");
        assert_int_equal(parse(buf, sizeof(buf)), -EBADMSG);
        /* NUL inside the cursor (the checksum covers it). */
        hand_record(buf, "s=1xi=2");
        buf[cursor_off + 3] = '\0';
        {
                uint32_t h = fnv1a32(buf + cursor_off, 7);
                char hex[9];

                snprintf(hex, sizeof(hex), "%08x", h);
                memcpy(buf + MAGIC_LEN, hex, 8);
        }
        assert_int_equal(parse(buf, sizeof(buf)), -EBADMSG);

        /* Empty cursor (FNV-1a of nothing is the offset basis). */
        memset(buf, '\n', sizeof(buf));
        memcpy(buf, CURSOR_FILE_MAGIC "811c9dc5 \n", MAGIC_LEN + 10);
        assert_int_equal(parse(buf, sizeof(buf)), -EBADMSG);

        /* Checksum field that is not 8 hex digits. */
        hand_record(buf, CURSOR);
        memcpy(buf + MAGIC_LEN, "zzzzzzzz", 8);
        assert_int_equal(parse(buf, sizeof(buf)), -EBADMSG);
        hand_record(buf, CURSOR);
        buf[MAGIC_LEN + 8] = 'x'; /* no separator */
        assert_int_equal(parse(buf, sizeof(buf)), -EBADMSG);

        /* A cursor longer than CURSOR_MAX in a (larger) buffer. */
        {
                char big[CURSOR_FILE_SIZE * 2], longest[CURSOR_MAX + 2];
                int k;

                memset(longest, 'x', CURSOR_MAX + 1);
                longest[CURSOR_MAX + 1] = '\0';
                memset(big, '\n', sizeof(big));
                k = snprintf(big, sizeof(big), "%s%08x %s\n", CURSOR_FILE_MAGIC,
                             fnv1a32(longest, CURSOR_MAX + 1), longest);
                big[k] = '\n';
                assert_int_equal(parse(big, sizeof(big)), -EBADMSG);
        }
}

/* ---- the file ---------------------------------------------------------------------------- */

static void test_file_save_load(void **state) {
        struct fixture *f = *state;
        struct stat st;
        char *got = (char *) 0x1;
        mode_t old = umask(022);

        assert_int_equal(cursor_file_open(&f->c, f->path), 0);
        umask(old);
        assert_true(f->c.fd >= 0);
        assert_true(fcntl(f->c.fd, F_GETFD) & FD_CLOEXEC);
        assert_int_equal(stat(f->path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);

        /* A new, empty file: nothing saved yet. */
        assert_int_equal(cursor_file_load(&f->c, &got), 0);
        assert_ptr_equal(got, (char *) 0x1);

        assert_int_equal(cursor_file_save(&f->c, CURSOR), 0);
        assert_int_equal(file_size(f->c.fd), CURSOR_FILE_SIZE);
        assert_loads(&f->c, CURSOR);
        assert_int_equal(cursor_file_save(&f->c, CURSOR2), 0);
        assert_int_equal(cursor_file_save(&f->c, "short"), 0);
        assert_int_equal(file_size(f->c.fd), CURSOR_FILE_SIZE);
        assert_loads(&f->c, "short");

        /* And through a fresh open, as after a restart. */
        cursor_file_close(&f->c);
        assert_int_equal(f->c.fd, -EBADF);
        assert_null(f->c.path);
        assert_int_equal(cursor_file_open(&f->c, f->path), 0);
        assert_string_equal(f->c.path, f->path);
        assert_loads(&f->c, "short");
}

static void test_file_save_rejects_bad_cursor(void **state) {
        struct fixture *f = *state;
        char longest[CURSOR_MAX + 2];

        memset(longest, 'x', CURSOR_MAX + 1);
        longest[CURSOR_MAX + 1] = '\0';
        assert_int_equal(cursor_file_open(&f->c, f->path), 0);
        assert_int_equal(cursor_file_save(&f->c, CURSOR), 0);
        assert_int_equal(cursor_file_save(&f->c, longest), -E2BIG);
        assert_int_equal(cursor_file_save(&f->c, ""), -EINVAL);
        assert_int_equal(cursor_file_save(&f->c, "a b"), -EINVAL);
        assert_loads(&f->c, CURSOR);
}

static void test_file_junk_replaced(void **state) {
        struct fixture *f = *state;
        char junk[600], *got = (char *) 0x1;

        for (size_t i = 0; i < sizeof(junk); i++)
                junk[i] = (char) (i * 7 + 3);
        write_file(f->path, junk, sizeof(junk));
        assert_int_equal(cursor_file_open(&f->c, f->path), 0);
        assert_int_equal(cursor_file_load(&f->c, &got), -EBADMSG);
        assert_ptr_equal(got, (char *) 0x1);

        assert_int_equal(cursor_file_save(&f->c, CURSOR), 0);
        assert_int_equal(file_size(f->c.fd), CURSOR_FILE_SIZE);
        assert_loads(&f->c, CURSOR);
        assert_int_equal(cursor_file_save(&f->c, CURSOR2), 0);
        assert_loads(&f->c, CURSOR2);
}

static void test_file_wrong_length(void **state) {
        struct fixture *f = *state;
        char rec[CURSOR_FILE_SIZE + 1], *got = (char *) 0x1;

        /* A valid record followed by one more byte of padding is not one record. */
        hand_record(rec, CURSOR);
        rec[CURSOR_FILE_SIZE] = '\n';
        write_file(f->path, rec, sizeof(rec));
        assert_int_equal(cursor_file_open(&f->c, f->path), 0);
        assert_int_equal(cursor_file_load(&f->c, &got), -EBADMSG);
        cursor_file_close(&f->c);

        /* A record cut short in its padding. */
        write_file(f->path, rec, 300);
        assert_int_equal(cursor_file_open(&f->c, f->path), 0);
        assert_int_equal(cursor_file_load(&f->c, &got), -EBADMSG);
        cursor_file_close(&f->c);

        /* A record cut short in its line. */
        write_file(f->path, rec, 40);
        assert_int_equal(cursor_file_open(&f->c, f->path), 0);
        assert_int_equal(cursor_file_load(&f->c, &got), -EBADMSG);
        assert_ptr_equal(got, (char *) 0x1);

        /* The exact record is fine. */
        write_file(f->path, rec, CURSOR_FILE_SIZE);
        assert_loads(&f->c, CURSOR);
}

static void test_file_refuses_symlink(void **state) {
        struct fixture *f = *state;
        char link[160];

        write_file(f->path, "", 0);
        snprintf(link, sizeof(link), "%s/link", f->dir);
        assert_int_equal(symlink(f->path, link), 0);
        assert_int_equal(cursor_file_open(&f->c, link), -ELOOP);
        assert_null(f->c.path);
}

/* A first save that fails must leave an empty file ("nothing saved"), not a damaged one. */
static void test_file_first_save_fails(void **state) {
        struct fixture *f = *state;
        char *got = (char *) 0x1;

        assert_int_equal(cursor_file_open(&f->c, f->path), 0);
        wrap.fail_errno = ENOSPC;
        assert_int_equal(cursor_file_save(&f->c, CURSOR), -ENOSPC);
        wrap.fail_errno = 0;
        assert_int_equal(cursor_file_load(&f->c, &got), 0);
}

static void test_file_pwrite_enospc(void **state) {
        struct fixture *f = *state;

        assert_int_equal(cursor_file_open(&f->c, f->path), 0);
        assert_int_equal(cursor_file_save(&f->c, CURSOR), 0);

        wrap.fail_errno = ENOSPC;
        assert_int_equal(cursor_file_save(&f->c, CURSOR2), -ENOSPC);
        wrap.fail_errno = EIO;
        assert_int_equal(cursor_file_save(&f->c, CURSOR2), -EIO);
        wrap.fail_errno = 0;
        /* The old record is intact. */
        assert_loads(&f->c, CURSOR);
        assert_int_equal(cursor_file_save(&f->c, CURSOR2), 0);
        assert_loads(&f->c, CURSOR2);
}

static void test_file_pwrite_short(void **state) {
        struct fixture *f = *state;
        char *got = NULL;

        assert_int_equal(cursor_file_open(&f->c, f->path), 0);
        assert_int_equal(cursor_file_save(&f->c, CURSOR), 0);
        wrap.short_n = 60;
        assert_int_equal(cursor_file_save(&f->c, CURSOR2), -EIO);
        wrap.short_n = -1;
        /* Half old, half new: the checksum catches it. */
        assert_int_equal(cursor_file_load(&f->c, &got), -EBADMSG);
        assert_int_equal(cursor_file_save(&f->c, CURSOR2), 0);
        assert_loads(&f->c, CURSOR2);
}

int main(void) {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_format_parse_roundtrip),
                cmocka_unit_test(test_format_golden),
                cmocka_unit_test(test_format_limits),
                cmocka_unit_test(test_parse_rejects_damage),
                cmocka_unit_test(test_parse_rejects_malformed),
                T(test_file_save_load),
                T(test_file_save_rejects_bad_cursor),
                T(test_file_junk_replaced),
                T(test_file_wrong_length),
                T(test_file_refuses_symlink),
                T(test_file_first_save_fails),
                T(test_file_pwrite_enospc),
                T(test_file_pwrite_short),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
