/* SPDX-License-Identifier: MIT */
/*
 * ja-hostile-broker: a stand-in for journalagent-broker that misbehaves, for the PID 1 safety
 * tests (test/safety/). Started by journalagent-broker.socket through a drop-in that replaces
 * ExecStart= (Type=simple); takes the listening socket from $LISTEN_FDS like the real broker.
 *
 *   ja-hostile-broker noaccept        hold the listening socket and never accept(): the backlog
 *                                     fills and stays full
 *   ja-hostile-broker accept-noread   accept every connection and never read from any of them
 *
 * Either way it runs until SIGTERM/SIGINT, then prints one line saying what it saw, with the
 * number of connections whose SO_PEERCRED pid is 1 (the shim's deposits):
 *   "noaccept: pending N (from PID 1: M)"   (the backlog is drained with accept() only then)
 *   "accept-noread: accepted N (from PID 1: M)"
 * and exits 0. Exit 78 if no listening socket was passed, 1 on other setup errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define LISTEN_FD 3 /* SD_LISTEN_FDS_START */

static int listen_fd_from_env(void) {
        const char *pid = getenv("LISTEN_PID"), *n = getenv("LISTEN_FDS");
        int type;
        socklen_t len = sizeof(type);

        if (!pid || !n || atol(pid) != (long) getpid() || atoi(n) < 1)
                return -1;
        if (getsockopt(LISTEN_FD, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
                return -1;
        return LISTEN_FD;
}

static int signal_fd(void) {
        sigset_t mask;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -1;
        return signalfd(-1, &mask, SFD_CLOEXEC);
}

/* Accepts one pending connection without blocking: 1 and *from_pid1 set, 0 when none is
 * pending, -1 on error. The accepted fd is returned in *ret_fd. */
static int accept_one(int listen_fd, int *ret_fd, int *from_pid1) {
        struct ucred peer;
        socklen_t len = sizeof(peer);
        int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd < 0)
                return errno == EAGAIN || errno == EINTR || errno == ECONNABORTED ? 0 : -1;
        *from_pid1 = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) == 0 && peer.pid == 1;
        *ret_fd = fd;
        return 1;
}

static int fcntl_nonblock(int fd) {
        int flags = fcntl(fd, F_GETFL);

        return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

static void raise_nofile(void) {
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                (void) setrlimit(RLIMIT_NOFILE, &rl);
        }
}

static int run_noaccept(int listen_fd, int sfd) {
        struct pollfd p = {.fd = sfd, .events = POLLIN};
        unsigned long pending = 0, from_pid1 = 0;
        int fd, pid1, r;

        printf("noaccept: holding the listening socket, never accepting\n");
        fflush(stdout);
        while (poll(&p, 1, -1) < 0)
                if (errno != EINTR)
                        return 1;
        /* Only now look at what queued up: the backlog, never accepted until the end. */
        if (fcntl_nonblock(listen_fd) < 0)
                return 1;
        while ((r = accept_one(listen_fd, &fd, &pid1)) > 0) {
                pending++;
                from_pid1 += pid1;
                close(fd);
        }
        printf("noaccept: pending %lu (from PID 1: %lu)\n", pending, from_pid1);
        return r < 0 ? 1 : 0;
}

static int run_accept_noread(int listen_fd, int sfd) {
        struct pollfd p[2] = {{.fd = sfd, .events = POLLIN}, {.fd = listen_fd, .events = POLLIN}};
        unsigned long accepted = 0, from_pid1 = 0;
        int fd, pid1, r;

        if (fcntl_nonblock(listen_fd) < 0)
                return 1;
        printf("accept-noread: accepting, never reading\n");
        fflush(stdout);
        for (;;) {
                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return 1;
                }
                if (p[0].revents)
                        break;
                while ((r = accept_one(listen_fd, &fd, &pid1)) > 0) {
                        /* Kept open, never read: the peer's records stay queued. At the fd
                         * limit accept() fails with EMFILE and the rest stays in the backlog. */
                        accepted++;
                        from_pid1 += pid1;
                }
                if (r < 0 && errno != EMFILE && errno != ENFILE)
                        return 1;
                if (r < 0) {
                        /* Out of fds: stop polling the socket, which would stay readable. */
                        p[1].fd = -1;
                }
        }
        printf("accept-noread: accepted %lu (from PID 1: %lu)\n", accepted, from_pid1);
        return 0;
}

int main(int argc, char *argv[]) {
        int listen_fd, sfd;

        if (argc != 2 || (strcmp(argv[1], "noaccept") != 0 && strcmp(argv[1], "accept-noread"))) {
                fprintf(stderr, "usage: ja-hostile-broker noaccept|accept-noread\n");
                return 2;
        }
        setvbuf(stdout, NULL, _IOLBF, 0);
        listen_fd = listen_fd_from_env();
        if (listen_fd < 0) {
                fprintf(stderr, "ja-hostile-broker: no listening socket in $LISTEN_FDS\n");
                return 78;
        }
        raise_nofile();
        sfd = signal_fd();
        if (sfd < 0) {
                perror("ja-hostile-broker: signalfd");
                return 1;
        }
        if (strcmp(argv[1], "noaccept") == 0)
                return run_noaccept(listen_fd, sfd);
        return run_accept_noread(listen_fd, sfd);
}
