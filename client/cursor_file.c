/* SPDX-License-Identifier: MIT */
#include "cursor_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "macros.h"

static uint32_t fnv1a32(const char *s, size_t n) {
        uint32_t h = 2166136261u;

        for (size_t i = 0; i < n; i++) {
                h ^= (unsigned char) s[i];
                h *= 16777619u;
        }
        return h;
}

static int cursor_valid(const char *s, size_t n) {
        if (n == 0 || n > CURSOR_MAX)
                return 0;
        /* Cursors are printable ASCII ("s=...;i=...;b=..."). */
        for (size_t i = 0; i < n; i++)
                if (s[i] < 0x21 || s[i] > 0x7E)
                        return 0;
        return 1;
}

int cursor_record_format(const char *cursor, char buf[CURSOR_FILE_SIZE]) {
        size_t n = strlen(cursor);
        int k;

        if (!cursor_valid(cursor, n))
                return n > CURSOR_MAX ? -E2BIG : -EINVAL;
        memset(buf, '\n', CURSOR_FILE_SIZE);
        k = snprintf(buf, CURSOR_FILE_SIZE, CURSOR_FILE_MAGIC "%08x %s\n", fnv1a32(cursor, n),
                     cursor);
        if (k < 0 || k >= CURSOR_FILE_SIZE)
                return -E2BIG;
        buf[k] = '\n'; /* snprintf's NUL becomes padding */
        return 0;
}

int cursor_record_parse(const char *buf, size_t size, char **ret) {
        const size_t magic_len = strlen(CURSOR_FILE_MAGIC);
        const char *cursor, *end;
        char hex[9];
        unsigned long sum;
        size_t n;

        if (size < magic_len + 10 || memcmp(buf, CURSOR_FILE_MAGIC, magic_len) != 0)
                return -EBADMSG;
        memcpy(hex, buf + magic_len, 8);
        hex[8] = '\0';
        if (buf[magic_len + 8] != ' ')
                return -EBADMSG;
        if (strspn(hex, "0123456789abcdef") != 8)
                return -EBADMSG;
        sum = strtoul(hex, NULL, 16);

        cursor = buf + magic_len + 9;
        end = memchr(cursor, '\n', size - (size_t) (cursor - buf));
        if (!end)
                return -EBADMSG;
        n = (size_t) (end - cursor);
        if (!cursor_valid(cursor, n) || fnv1a32(cursor, n) != sum)
                return -EBADMSG;
        /* The rest is padding. */
        for (const char *p = end; p < buf + size; p++)
                if (*p != '\n')
                        return -EBADMSG;

        *ret = strndup(cursor, n);
        return *ret ? 0 : -ENOMEM;
}

int cursor_file_open(struct cursor_file *c, const char *path) {
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

        if (fd < 0)
                return -errno;
        c->path = strdup(path);
        if (!c->path) {
                close(fd);
                return -ENOMEM;
        }
        c->fd = fd;
        c->sized = 0;
        return 0;
}

void cursor_file_close(struct cursor_file *c) {
        c->fd = safe_close(c->fd);
        free(c->path);
        c->path = NULL;
}

int cursor_file_load(struct cursor_file *c, char **ret) {
        char buf[CURSOR_FILE_SIZE + 1];
        ssize_t n;
        int r;

        n = pread(c->fd, buf, sizeof(buf), 0);
        if (n < 0)
                return -errno;
        if (n == 0)
                return 0;
        if (n != CURSOR_FILE_SIZE)
                return -EBADMSG;
        r = cursor_record_parse(buf, (size_t) n, ret);
        return r < 0 ? r : 1;
}

int cursor_file_save(struct cursor_file *c, const char *cursor) {
        char buf[CURSOR_FILE_SIZE];
        ssize_t n;
        int r;

        r = cursor_record_format(cursor, buf);
        if (r < 0)
                return r;
        /* One pwrite() within one page: a killed process leaves the old or the new record. */
        n = pwrite(c->fd, buf, sizeof(buf), 0);
        if (n < 0)
                return -errno;
        if (n != (ssize_t) sizeof(buf))
                return -EIO;
        /* A damaged or foreign file may have been longer than one record. Truncating after the
         * write, never before, so a failed first save leaves an empty file, not a zeroed one. */
        if (!c->sized) {
                if (ftruncate(c->fd, CURSOR_FILE_SIZE) < 0)
                        return -errno;
                c->sized = 1;
        }
        return 0;
}
