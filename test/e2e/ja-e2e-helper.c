/* SPDX-License-Identifier: MIT */
/*
 * ja-e2e-helper: two small probes for the end-to-end tests (test/e2e/run.sh), linked statically on
 * the host so the same binary runs in every Debian release's container.
 *
 *   ja-e2e-helper pidfd
 *      calls pidfd_open(1, 0) and pidfd_getfd(that pidfd or -1, 0, 0) with syscall(2) (bullseye's
 *      glibc has no wrappers) and prints e.g. "pidfd_open=ok pidfd_getfd=EPERM": ok, or the name
 *      of the errno. Case e runs it as a service inside the container to show the seccomp filter is
 *      in force there (ENOSYS, or EPERM under nspawn's filter), and the default container shows
 *      what it prints without that filter.
 *
 *   ja-e2e-helper connect PATH SECONDS
 *      connects to the AF_UNIX stream socket PATH, shuts down its sending side, and copies what
 *      arrives to stdout until EOF; fails after SECONDS. Case g asks a socket unit inside the
 *      container for an answer through the socket the runtime handed to PID 1.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

static const char *errno_name(int e) {
        switch (e) {
        case 0:
                return "ok";
        case ENOSYS:
                return "ENOSYS";
        case EPERM:
                return "EPERM";
        case EACCES:
                return "EACCES";
        case EBADF:
                return "EBADF";
        case EINVAL:
                return "EINVAL";
        case ESRCH:
                return "ESRCH";
        default:
                return "other";
        }
}

static int probe_pidfd(void) {
        long pidfd, fd;
        int open_errno = 0, getfd_errno = 0;

        pidfd = syscall(SYS_pidfd_open, 1, 0);
        if (pidfd < 0)
                open_errno = errno;
        fd = syscall(SYS_pidfd_getfd, pidfd < 0 ? -1 : pidfd, 0, 0);
        if (fd < 0)
                getfd_errno = errno;
        printf("pidfd_open=%s pidfd_getfd=%s\n", errno_name(open_errno), errno_name(getfd_errno));
        return 0;
}

static long now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int probe_connect(const char *path, long seconds) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        char buf[4096];
        long deadline = now_ms() + seconds * 1000L;
        int fd;

        if (strlen(path) >= sizeof(sa.sun_path)) {
                fprintf(stderr, "ja-e2e-helper: path too long: %s\n", path);
                return 2;
        }
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                fprintf(stderr, "ja-e2e-helper: connect %s: %s\n", path, strerror(errno));
                return 1;
        }
        (void) shutdown(fd, SHUT_WR);
        for (;;) {
                struct pollfd p = {.fd = fd, .events = POLLIN};
                long left = deadline - now_ms();
                ssize_t n;

                if (left <= 0) {
                        fprintf(stderr, "ja-e2e-helper: no EOF from %s within %ld s\n", path,
                                seconds);
                        return 1;
                }
                if (poll(&p, 1, (int) left) < 0 && errno != EINTR) {
                        fprintf(stderr, "ja-e2e-helper: poll: %s\n", strerror(errno));
                        return 1;
                }
                if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
                        continue;
                n = read(fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        fprintf(stderr, "ja-e2e-helper: read %s: %s\n", path, strerror(errno));
                        return 1;
                }
                if (n == 0)
                        return 0;
                if (fwrite(buf, 1, (size_t) n, stdout) != (size_t) n)
                        return 1;
                fflush(stdout);
        }
}

int main(int argc, char **argv) {
        if (argc == 2 && strcmp(argv[1], "pidfd") == 0)
                return probe_pidfd();
        if (argc == 4 && strcmp(argv[1], "connect") == 0)
                return probe_connect(argv[2], strtol(argv[3], NULL, 10));
        fprintf(stderr, "usage: ja-e2e-helper pidfd | connect PATH SECONDS\n");
        return 2;
}
