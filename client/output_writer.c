/* SPDX-License-Identifier: MIT */
#include "output_writer.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

int output_write_all(int fd, const void *p, size_t n) {
        const char *q = p;

        while (n > 0) {
                ssize_t k = write(fd, q, n);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN) {
                                struct pollfd pfd = {.fd = fd, .events = POLLOUT};

                                if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
                                        return -errno;
                                if (pfd.revents & POLLERR)
                                        return -EPIPE;
                                continue;
                        }
                        return -errno;
                }
                q += k;
                n -= (size_t) k;
        }
        return 0;
}

size_t output_batch_size(int fd, bool pipe_shared) {
        struct stat st;

        if (pipe_shared && fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode))
                return PIPE_BUF;
        return 64 * 1024;
}
