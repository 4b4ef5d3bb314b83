/* SPDX-License-Identifier: MIT */
#include "saved_fds.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "protocol.h"

bool saved_fd_usable(int fd) {
        struct stat st;

        if (fd < 0 || fstat(fd, &st) < 0)
                return false;
        return !(S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3));
}

int saved_fds_capture(struct saved_fds *s) {
        int n = 0;

        *s = SAVED_FDS_NONE;
        for (int i = 0; i < SAVED_N; i++) {
                int copy;

                if (!saved_fd_usable(i + 1))
                        continue;
                copy = fcntl(i + 1, F_DUPFD_CLOEXEC, SAVED_FDS_MIN);
                if (copy < 0)
                        copy = fcntl(i + 1, F_DUPFD_CLOEXEC, 3);
                if (copy < 0)
                        continue;
                s->fd[i] = copy;
                n++;
        }
        return n;
}

static int parse_fd(const char *s, const char **ret_end, int *ret) {
        char *end;
        long v;

        /* Only what saved_fds_format() writes: "-1" or plain digits. */
        if (!(s[0] >= '0' && s[0] <= '9') &&
            !(s[0] == '-' && s[1] == '1' && !(s[2] >= '0' && s[2] <= '9')))
                return -EINVAL;
        if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
                return -EINVAL;
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno != 0 || end == s || v < -1 || v > INT_MAX)
                return -EINVAL;
        /* Only 0-2 are refused: those are PID 1's own stdio, never one of our copies. */
        if (v >= 0 && v <= 2)
                return -EINVAL;
        *ret_end = end;
        *ret = (int) v;
        return 0;
}

int saved_fds_parse(const char *value, struct saved_fds *ret) {
        struct saved_fds s = SAVED_FDS_NONE;
        const char *p = value;

        for (int i = 0; i < SAVED_N; i++) {
                if (parse_fd(p, &p, &s.fd[i]) < 0)
                        return -EINVAL;
                if (*p != (i + 1 < SAVED_N ? ':' : '\0'))
                        return -EINVAL;
                p++;
        }
        if (s.fd[SAVED_STDOUT] >= 0 && s.fd[SAVED_STDOUT] == s.fd[SAVED_STDERR])
                return -EINVAL;

        for (int i = 0; i < SAVED_N; i++)
                if (!saved_fd_usable(s.fd[i]))
                        s.fd[i] = -1;
        *ret = s;
        return 0;
}

int saved_fds_format(const struct saved_fds *s, char *buf, size_t size) {
        int n = snprintf(buf, size, "%d:%d", s->fd[SAVED_STDOUT], s->fd[SAVED_STDERR]);

        if (n < 0 || (size_t) n >= size)
                return -ENOBUFS;
        return 0;
}

int saved_fds_set_cloexec(const struct saved_fds *s, bool cloexec) {
        int r = 0;

        for (int i = 0; i < SAVED_N; i++) {
                int flags;

                if (s->fd[i] < 0)
                        continue;
                flags = fcntl(s->fd[i], F_GETFD);
                if (flags < 0 || fcntl(s->fd[i], F_SETFD,
                                       cloexec ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC) < 0)
                        if (r == 0)
                                r = -errno;
        }
        return r;
}

size_t saved_fds_collect(const struct saved_fds *s, int ret_fds[SAVED_N], unsigned *ret_mask) {
        static const unsigned stream_bit[SAVED_N] = {PROTO_STREAM_STDOUT, PROTO_STREAM_STDERR};
        size_t n = 0;
        unsigned mask = 0;

        for (int i = 0; i < SAVED_N; i++) {
                if (s->fd[i] < 0)
                        continue;
                ret_fds[n++] = s->fd[i];
                mask |= stream_bit[i];
        }
        *ret_mask = mask;
        return n;
}
