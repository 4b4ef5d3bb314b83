/* SPDX-License-Identifier: MIT */
/*
 * fetch-load: load on journalagent-broker. C threads each connect, send one FETCH for stdout and
 * stderr, receive the fds, close everything, and repeat, until N fetches are done in all. A fetch
 * is timed from socket() to the reply with its fds (what a forwarder waits for at start).
 *
 *   fetch-load [-s SOCKET] [-n N] [-c C]
 *
 * Prints one line: "fetches N clients C seconds S per_second R p50_us P p99_us Q max_us M".
 * Exit 1 if any fetch failed (the error is printed).
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fdpass.h"

struct worker {
        const char *path;
        long n;
        uint64_t *lat_ns;
        int error;
        pthread_t thread;
};

static uint64_t mono_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static int fetch_once(const char *path) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        struct proto_message m = {.type = PROTO_FETCH, .streams = PROTO_STREAM_ALL};
        int fds[PROTO_MAX_FDS], sock, r;
        size_t n = 0;

        strncpy(sa.sun_path, path, sizeof(sa.sun_path) - 1);
        sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (sock < 0)
                return -errno;
        if (connect(sock, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                r = -errno;
                goto finish;
        }
        r = fdpass_send(sock, &m, NULL, 0, MSG_NOSIGNAL);
        if (r < 0)
                goto finish;
        r = fdpass_recv(sock, &m, fds, PROTO_MAX_FDS, &n, 0);
        if (r < 0)
                goto finish;
        for (size_t i = 0; i < n; i++)
                close(fds[i]);
        if (m.type != PROTO_FDS)
                r = m.type == PROTO_ERROR ? -m.error : -EPROTO;
finish:
        close(sock);
        return r;
}

static void *run_worker(void *arg) {
        struct worker *w = arg;

        for (long i = 0; i < w->n; i++) {
                uint64_t t0 = mono_ns();
                int r = fetch_once(w->path);

                if (r < 0) {
                        w->error = -r;
                        break;
                }
                w->lat_ns[i] = mono_ns() - t0;
        }
        return NULL;
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

        return x < y ? -1 : x > y;
}

int main(int argc, char *argv[]) {
        const char *path = "/run/journalagent/broker.sock";
        long n = 1000, c = 1, total;
        struct worker *w;
        uint64_t *lat, t0, t1;
        int opt, failed = 0;

        while ((opt = getopt(argc, argv, "s:n:c:")) != -1) {
                switch (opt) {
                case 's':
                        path = optarg;
                        break;
                case 'n':
                        n = atol(optarg);
                        break;
                case 'c':
                        c = atol(optarg);
                        break;
                default:
                        fprintf(stderr, "usage: fetch-load [-s SOCKET] [-n N] [-c C]\n");
                        return 2;
                }
        }
        if (n < 1 || c < 1 || c > 64 || strlen(path) >= sizeof(((struct sockaddr_un){}).sun_path))
                return 2;

        total = n / c * c;
        lat = calloc((size_t) total, sizeof(*lat));
        w = calloc((size_t) c, sizeof(*w));
        if (!lat || !w)
                return 1;
        t0 = mono_ns();
        for (long i = 0; i < c; i++) {
                w[i] = (struct worker){.path = path, .n = n / c, .lat_ns = lat + i * (n / c)};
                if (pthread_create(&w[i].thread, NULL, run_worker, &w[i]) != 0)
                        return 1;
        }
        for (long i = 0; i < c; i++) {
                pthread_join(w[i].thread, NULL);
                if (w[i].error) {
                        fprintf(stderr, "fetch-load: a fetch failed: %s\n", strerror(w[i].error));
                        failed = 1;
                }
        }
        t1 = mono_ns();
        if (failed)
                return 1;

        qsort(lat, (size_t) total, sizeof(*lat), cmp_u64);
        printf("fetches %ld clients %ld seconds %.6f per_second %.1f p50_us %.1f p99_us %.1f "
               "max_us %.1f\n",
               total, c, (double) (t1 - t0) / 1e9, (double) total * 1e9 / (double) (t1 - t0),
               (double) lat[total / 2] / 1e3, (double) lat[total * 99 / 100] / 1e3,
               (double) lat[total - 1] / 1e3);
        free(lat);
        free(w);
        return 0;
}
