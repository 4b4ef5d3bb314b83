/* SPDX-License-Identifier: MIT */
/*
 * ja-load: load and timing clients of the broker for the safety tests (test/safety/).
 *
 *   ja-load SOCKET fetch N [ROUNDS [TIMEOUT_S]]
 *       ROUNDS times (default 1): open N connections at once, send FETCH on every one, then wait
 *       (at most TIMEOUT_S, default 30, per round) for every reply. Received fds are closed.
 *       "fetch: n=N rounds=R served=S errors=E closed=C noreply=X connect_failed=F ms=T
 *       max_round_ms=M first_error=ENAME" (one line)
 *       Exit 0 only if every request was answered with fds.
 *   ja-load SOCKET idle N HOLD_S [READY_FILE]
 *       Open N connections and send nothing; wait at most HOLD_S for the broker to end them.
 *       READY_FILE is created once all N are connected.
 *       "idle: n=N timedout=T closed=C other=O open=P first_ms=A last_ms=B"
 *       (times from the moment all were connected). Exit 0.
 *   ja-load SOCKET slow DELAY_MS
 *       Connect, wait DELAY_MS, then send FETCH (unless the broker already answered):
 *       "slow: reply fds" / "slow: reply error ETIMEDOUT" / "slow: reply closed" /
 *       "slow: reply none"
 *   ja-load SOCKET fill SECONDS [HOLD [STOP_FILE]]
 *       For SECONDS (or until STOP_FILE exists), open non-blocking connections as fast as
 *       possible, keeping the last HOLD (default 64) open, so the listener's backlog is full
 *       whenever it is not being accepted.
 *       "fill: ok=A eagain=B refused=C other=D"
 *   ja-load SOCKET nbconnect
 *       One non-blocking connect: "nbconnect: ok" / "nbconnect: EAGAIN" / "nbconnect: <errno>".
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fdpass.h"

static const char *arg_path;

static long long now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int ensure_nofile(unsigned long need) {
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
                return -1;
        if (rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                (void) setrlimit(RLIMIT_NOFILE, &rl);
                (void) getrlimit(RLIMIT_NOFILE, &rl);
        }
        if (rl.rlim_cur < need) {
                fprintf(stderr, "ja-load: RLIMIT_NOFILE %lu < %lu needed\n",
                        (unsigned long) rl.rlim_cur, need);
                return -1;
        }
        return 0;
}

/* Blocking connect bounded to 10 s (SO_SNDTIMEO also bounds connect() on a full backlog);
 * the socket is non-blocking afterwards. Returns the fd or -errno. */
static int connect_broker(void) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        struct timeval tv = {.tv_sec = 10};
        int fd, e;

        if (strlen(arg_path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, arg_path);
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        (void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 ||
            fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
                e = errno;
                close(fd);
                return -e;
        }
        return fd;
}

enum reply { REPLY_NONE, REPLY_FDS, REPLY_ERROR, REPLY_CLOSED, REPLY_OTHER };

/* Reads one reply from a readable connection; closes any fds that came with it. */
static enum reply read_reply(int fd, int *ret_error) {
        struct proto_message m;
        int fds[PROTO_MAX_FDS];
        size_t n = 0;
        int r;

        r = fdpass_recv(fd, &m, fds, PROTO_MAX_FDS, &n, MSG_DONTWAIT);
        if (r == -EAGAIN)
                return REPLY_NONE;
        if (r == -ECONNRESET || r == -EPIPE)
                return REPLY_CLOSED;
        if (r < 0)
                return REPLY_OTHER;
        for (size_t i = 0; i < n; i++)
                close(fds[i]);
        if (m.type == PROTO_FDS && n > 0)
                return REPLY_FDS;
        if (m.type == PROTO_ERROR) {
                *ret_error = m.error;
                return REPLY_ERROR;
        }
        return REPLY_OTHER;
}

/* Waits until DEADLINE (now_ms) for one reply on each of the OPEN connections of P[0..N) that are
 * still open (fd >= 0), hands it to ON_REPLY and closes that connection (fd -1). Returns how many
 * are still open when the deadline has passed, or -1 if poll() fails. */
static long collect_replies(struct pollfd *p, unsigned n, unsigned long open, long long deadline,
                            void (*on_reply)(enum reply r, int err, void *userdata),
                            void *userdata) {
        while (open > 0) {
                long long left = deadline - now_ms();
                int k;

                if (left <= 0)
                        break;
                k = poll(p, n, (int) left);
                if (k < 0 && errno != EINTR)
                        return -1;
                for (unsigned i = 0; k > 0 && i < n; i++) {
                        int err = 0;
                        enum reply r;

                        if (p[i].fd < 0 || !p[i].revents)
                                continue;
                        r = read_reply(p[i].fd, &err);
                        if (r == REPLY_NONE)
                                continue;
                        on_reply(r, err, userdata);
                        close(p[i].fd);
                        p[i].fd = -1;
                        open--;
                }
        }
        return (long) open;
}

struct fetch_tally {
        unsigned long served, errors, closed;
        int first_errno;
};

static void fetch_tally_reply(enum reply r, int err, void *userdata) {
        struct fetch_tally *t = userdata;

        if (r == REPLY_FDS)
                t->served++;
        else if (r == REPLY_CLOSED)
                t->closed++;
        else {
                t->errors++;
                t->first_errno = t->first_errno ?: err;
        }
}

static int do_fetch(unsigned n, unsigned rounds, unsigned timeout_s) {
        struct pollfd *p = calloc(n, sizeof(*p));
        struct fetch_tally t = {0};
        unsigned long noreply = 0, connect_failed = 0;
        long long t0 = now_ms(), max_round = 0;

        if (!p || ensure_nofile(n + 16) < 0)
                return 1;
        for (unsigned round = 0; round < rounds; round++) {
                long long r0 = now_ms(), deadline = r0 + timeout_s * 1000LL;
                unsigned open = 0;

                /* All N connected first, then all N asked: N requests in flight at once. */
                for (unsigned i = 0; i < n; i++) {
                        int fd = connect_broker();

                        p[i] = (struct pollfd){.fd = -1, .events = POLLIN};
                        if (fd < 0) {
                                connect_failed++;
                                t.first_errno = t.first_errno ?: -fd;
                                continue;
                        }
                        p[i].fd = fd;
                }
                for (unsigned i = 0; i < n; i++) {
                        struct proto_message m = {.type = PROTO_FETCH, .streams = PROTO_STREAM_ALL};

                        if (p[i].fd < 0)
                                continue;
                        if (fdpass_send(p[i].fd, &m, NULL, 0, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
                                t.errors++;
                                close(p[i].fd);
                                p[i].fd = -1;
                                continue;
                        }
                        open++;
                }
                if (collect_replies(p, n, open, deadline, fetch_tally_reply, &t) < 0)
                        return 1;
                for (unsigned i = 0; i < n; i++)
                        if (p[i].fd >= 0) {
                                noreply++;
                                close(p[i].fd);
                        }
                if (now_ms() - r0 > max_round)
                        max_round = now_ms() - r0;
        }
        printf("fetch: n=%u rounds=%u served=%lu errors=%lu closed=%lu noreply=%lu "
               "connect_failed=%lu ms=%lld max_round_ms=%lld first_error=%s\n",
               n, rounds, t.served, t.errors, t.closed, noreply, connect_failed, now_ms() - t0,
               max_round, t.first_errno ? strerrorname_np(t.first_errno) : "none");
        free(p);
        return t.served == (unsigned long) n * rounds ? 0 : 1;
}

struct idle_tally {
        unsigned long timedout, closed, other;
        long long t0;          /* now_ms() once all were connected */
        long long first, last; /* ms from t0 to the first and to the last reply, or -1 */
};

static void idle_tally_reply(enum reply r, int err, void *userdata) {
        struct idle_tally *t = userdata;

        if (r == REPLY_ERROR && err == ETIMEDOUT)
                t->timedout++;
        else if (r == REPLY_CLOSED)
                t->closed++;
        else
                t->other++;
        if (t->first < 0)
                t->first = now_ms() - t->t0;
        t->last = now_ms() - t->t0;
}

static int do_idle(unsigned n, unsigned hold_s, const char *ready_file) {
        struct pollfd *p = calloc(n, sizeof(*p));
        struct idle_tally t = {.first = -1, .last = -1};
        unsigned long open = 0;
        long left_open;

        if (!p || ensure_nofile(n + 16) < 0)
                return 1;
        for (unsigned i = 0; i < n; i++) {
                int fd = connect_broker();

                if (fd < 0) {
                        fprintf(stderr, "ja-load: connect %u: %s\n", i, strerror(-fd));
                        return 1;
                }
                p[i] = (struct pollfd){.fd = fd, .events = POLLIN};
                open++;
        }
        t.t0 = now_ms();
        if (ready_file) {
                FILE *f = fopen(ready_file, "w");
                if (!f)
                        return 1;
                fclose(f);
        }
        left_open = collect_replies(p, n, open, t.t0 + hold_s * 1000LL, idle_tally_reply, &t);
        if (left_open < 0)
                return 1;
        printf("idle: n=%u timedout=%lu closed=%lu other=%lu open=%ld first_ms=%lld last_ms=%lld\n",
               n, t.timedout, t.closed, t.other, left_open, t.first, t.last);
        return 0;
}

static int do_slow(unsigned delay_ms) {
        struct proto_message m = {.type = PROTO_FETCH, .streams = PROTO_STREAM_ALL};
        struct pollfd p;
        int fd = connect_broker(), err = 0;
        enum reply r = REPLY_NONE;

        if (fd < 0) {
                printf("slow: connect %s\n", strerrorname_np(-fd));
                return 1;
        }
        p = (struct pollfd){.fd = fd, .events = POLLIN};
        if (poll(&p, 1, (int) delay_ms) > 0)
                r = read_reply(fd, &err); /* the broker gave up on us meanwhile */
        if (r == REPLY_NONE) {
                (void) fdpass_send(fd, &m, NULL, 0, MSG_DONTWAIT | MSG_NOSIGNAL);
                if (poll(&p, 1, 10000) > 0)
                        r = read_reply(fd, &err);
        }
        switch (r) {
        case REPLY_FDS:
                printf("slow: reply fds\n");
                break;
        case REPLY_ERROR:
                printf("slow: reply error %s\n", strerrorname_np(err) ?: "?");
                break;
        case REPLY_CLOSED:
                printf("slow: reply closed\n");
                break;
        case REPLY_NONE:
                printf("slow: reply none\n");
                break;
        default:
                printf("slow: reply other\n");
        }
        close(fd);
        return 0;
}

static int nb_connect(void) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int fd;

        strncpy(sa.sun_path, arg_path, sizeof(sa.sun_path) - 1);
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                int e = errno;
                close(fd);
                return -e;
        }
        return fd;
}

static int do_fill(unsigned seconds, unsigned hold, const char *stop_file) {
        unsigned long ok = 0, eagain = 0, refused = 0, other = 0;
        long long deadline = now_ms() + seconds * 1000LL;
        int *held = calloc(hold, sizeof(int));
        unsigned next = 0;

        if (!held || ensure_nofile(hold + 16) < 0)
                return 1;
        for (unsigned i = 0; i < hold; i++)
                held[i] = -1;
        for (unsigned long i = 0; now_ms() < deadline; i++) {
                int fd;

                if (stop_file && i % 1024 == 0 && access(stop_file, F_OK) == 0)
                        break;
                fd = nb_connect();

                if (fd >= 0) {
                        ok++;
                        if (held[next] >= 0)
                                close(held[next]);
                        held[next] = fd;
                        next = (next + 1) % hold;
                } else if (fd == -EAGAIN)
                        eagain++;
                else if (fd == -ECONNREFUSED || fd == -ENOENT)
                        refused++;
                else
                        other++;
        }
        printf("fill: ok=%lu eagain=%lu refused=%lu other=%lu\n", ok, eagain, refused, other);
        return 0;
}

static unsigned parse_u(const char *s) {
        char *end;
        unsigned long v = strtoul(s, &end, 10);

        if (!*s || *end || v == 0 || v > 1000000) {
                fprintf(stderr, "ja-load: bad number '%s'\n", s);
                exit(2);
        }
        return (unsigned) v;
}

int main(int argc, char *argv[]) {
        if (argc < 3) {
                fprintf(stderr,
                        "usage: ja-load SOCKET fetch N [ROUNDS [TIMEOUT_S]] | idle N HOLD_S "
                        "[READY_FILE] | slow DELAY_MS | fill SECONDS [HOLD [STOP_FILE]] | nbconnect\n");
                return 2;
        }
        setvbuf(stdout, NULL, _IOLBF, 0);
        arg_path = argv[1];
        if (strcmp(argv[2], "fetch") == 0 && argc >= 4 && argc <= 6)
                return do_fetch(parse_u(argv[3]), argc >= 5 ? parse_u(argv[4]) : 1,
                                argc >= 6 ? parse_u(argv[5]) : 30);
        if (strcmp(argv[2], "idle") == 0 && (argc == 5 || argc == 6))
                return do_idle(parse_u(argv[3]), parse_u(argv[4]), argc == 6 ? argv[5] : NULL);
        if (strcmp(argv[2], "slow") == 0 && argc == 4)
                return do_slow(parse_u(argv[3]));
        if (strcmp(argv[2], "fill") == 0 && argc >= 4 && argc <= 6)
                return do_fill(parse_u(argv[3]), argc >= 5 ? parse_u(argv[4]) : 64,
                               argc == 6 ? argv[5] : NULL);
        if (strcmp(argv[2], "nbconnect") == 0 && argc == 3) {
                int fd = nb_connect();

                printf("nbconnect: %s\n", fd >= 0 ? "ok" : strerrorname_np(-fd));
                return 0;
        }
        fprintf(stderr, "ja-load: bad arguments (see the comment at the top of ja-load.c)\n");
        return 2;
}
