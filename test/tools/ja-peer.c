/* SPDX-License-Identifier: MIT */
/*
 * ja-peer: a deliberately misbehaving (or plain) broker client for the integration tests.
 *   ja-peer SOCKET fetch      ask for stdout and stderr
 *   ja-peer SOCKET deposit    pretend to be PID 1 and deposit a pipe of our own
 *   ja-peer SOCKET garbage    send bytes that are not a message
 *   ja-peer SOCKET oversized  send a record larger than any message
 *   ja-peer SOCKET idle       connect and send nothing
 * Prints one line describing the reply: "reply: fds stdout,stderr", "reply: error EPERM",
 * "reply: ok", "reply: closed". Exit 0 when a reply (or a close) was seen, 1 otherwise.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fdpass.h"

static int connect_to(const char *path) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

        if (fd < 0 || strlen(path) >= sizeof(sa.sun_path))
                return -1;
        strcpy(sa.sun_path, path);
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                printf("connect: %s\n", strerror(errno));
                exit(1);
        }
        return fd;
}

static void print_reply(int fd) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        struct proto_message m;
        int fds[PROTO_MAX_FDS];
        size_t n = 0;
        int r;

        if (poll(&p, 1, 10000) <= 0) {
                printf("reply: none\n");
                exit(1);
        }
        r = fdpass_recv(fd, &m, fds, PROTO_MAX_FDS, &n, 0);
        if (r == -ECONNRESET) {
                printf("reply: closed\n");
                return;
        }
        if (r < 0) {
                printf("reply: undecodable (%s)\n", strerror(-r));
                exit(1);
        }
        if (m.type == PROTO_ERROR) {
                printf("reply: error %s\n", strerrorname_np(m.error));
        } else if (m.type == PROTO_FDS) {
                printf("reply: fds%s%s%s\n", (m.streams & PROTO_STREAM_STDOUT) ? " stdout" : "",
                       m.streams == PROTO_STREAM_ALL ? "," : "",
                       (m.streams & PROTO_STREAM_STDERR)
                               ? (m.streams == PROTO_STREAM_ALL ? "stderr" : " stderr")
                               : "");
        } else if (m.type == PROTO_OK) {
                printf("reply: ok\n");
        } else {
                printf("reply: type %u\n", m.type);
        }
}

int main(int argc, char *argv[]) {
        int fd;

        if (argc != 3) {
                fprintf(stderr, "usage: ja-peer SOCKET fetch|deposit|garbage|oversized|idle\n");
                return 2;
        }
        fd = connect_to(argv[1]);

        if (strcmp(argv[2], "fetch") == 0) {
                struct proto_message m = {.type = PROTO_FETCH, .streams = PROTO_STREAM_ALL};
                if (fdpass_send(fd, &m, NULL, 0, 0) < 0)
                        return 1;
        } else if (strcmp(argv[2], "deposit") == 0) {
                struct proto_message m = {.type = PROTO_DEPOSIT, .streams = PROTO_STREAM_STDOUT};
                int p[2];
                if (pipe(p) < 0 || fdpass_send(fd, &m, &p[1], 1, 0) < 0)
                        return 1;
        } else if (strcmp(argv[2], "garbage") == 0) {
                if (write(fd, "GET / HTTP/1.0\r\n", 16) < 0)
                        return 1;
        } else if (strcmp(argv[2], "oversized") == 0) {
                static char big[65536];
                memset(big, 'J', sizeof(big));
                if (write(fd, big, sizeof(big)) < 0)
                        return 1;
        } else if (strcmp(argv[2], "idle") != 0) {
                fprintf(stderr, "ja-peer: unknown action %s\n", argv[2]);
                return 2;
        }
        print_reply(fd);
        return 0;
}
