/* SPDX-License-Identifier: MIT */
/*
 * ja-delay-sendmsg.so: an LD_PRELOAD library for the safety tests (test/safety/) that makes a
 * broker client slow at the worst moment: every sendmsg() on an AF_UNIX SOCK_SEQPACKET socket
 * (the broker protocol; nothing else the clients send is SEQPACKET) first sleeps
 * $JA_DELAY_SENDMSG_MS milliseconds. A client connected to the broker then sends its request
 * only after the broker's idle timeout (5 s) has closed the connection: what a container paused
 * or starved for a few seconds right after connect() does.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags) {
        static ssize_t (*real_sendmsg)(int, const struct msghdr *, int);
        const char *delay = getenv("JA_DELAY_SENDMSG_MS");
        int type, saved_errno = errno;
        socklen_t len = sizeof(type);

        if (!real_sendmsg)
                real_sendmsg =
                        (ssize_t(*)(int, const struct msghdr *, int)) dlsym(RTLD_NEXT, "sendmsg");
        if (delay && getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
            type == SOCK_SEQPACKET) {
                long ms = strtol(delay, NULL, 10);
                struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

                while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                        ;
        }
        errno = saved_errno;
        return real_sendmsg(fd, msg, flags);
}
