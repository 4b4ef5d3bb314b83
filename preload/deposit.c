/* SPDX-License-Identifier: MIT */
#include "deposit.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "fdpass.h"
#include "macros.h"

bool deposit_is_broker_socket(int fd, const char *path) {
        struct sockaddr_un sa;
        socklen_t len = sizeof(sa);
        size_t path_len = strlen(path);

        if (getsockname(fd, (struct sockaddr *) &sa, &len) < 0 || sa.sun_family != AF_UNIX)
                return false;
        if (len <= offsetof(struct sockaddr_un, sun_path) || sa.sun_path[0] == '\0')
                return false;
        len -= offsetof(struct sockaddr_un, sun_path);
        /* The kernel may or may not count the trailing NUL. */
        if (len > 0 && sa.sun_path[len - 1] == '\0')
                len--;
        return len == path_len && memcmp(sa.sun_path, path, path_len) == 0;
}

int deposit_send(int listen_fd, const char *path, const struct saved_fds *s) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int saved_errno = errno, type, fds[SAVED_N], r;
        socklen_t type_len = sizeof(type);
        unsigned mask;
        size_t n;
        _cleanup_close_ int sock = -EBADF;

        n = saved_fds_collect(s, fds, &mask);
        if (n == 0)
                return -ENOENT;
        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);

        if (getsockopt(listen_fd, SOL_SOCKET, SO_TYPE, &type, &type_len) < 0) {
                r = -errno;
                goto finish;
        }

        sock = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (sock < 0) {
                r = -errno;
                goto finish;
        }
        /* EAGAIN here means a full backlog: giving up is right, PID 1 must not wait. */
        if (connect(sock, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                r = -errno;
                goto finish;
        }

        r = fdpass_send(sock, &(struct proto_message){.type = PROTO_DEPOSIT, .streams = mask}, fds,
                        n, MSG_DONTWAIT | MSG_NOSIGNAL);
finish:
        errno = saved_errno;
        return r;
}
