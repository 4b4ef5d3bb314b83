/* SPDX-License-Identifier: MIT */
/*
 * loggen: writes journal entries through journald's native protocol (sd_journal_send) for the
 * benchmark, inside a container.
 *
 *   loggen varied N SEED          N entries of a "payments" service with extra fields (request and
 *                                 user IDs, a duration, now and then a binary field), priorities
 *                                 mixed: the native-protocol part of the benchmark journal
 *   loggen paced N MIN_US MAX_US TAG
 *                                 N probes one by one, sleeping a random MIN_US..MAX_US between
 *                                 them (random, so that the pauses do not beat with journald's
 *                                 and the forwarders' timers)
 *   loggen burst N TAG            N probes as fast as journald takes them
 *
 * A probe's MESSAGE is "jabench TAG SEQ T": T is CLOCK_REALTIME in ns just before the send, which
 * bench/pipe-stamp compares with the time the line is read from the container's stdout pipe on
 * the host (the container shares the host's clock). Prints "sent N first_ns last_ns" at the end.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

#include <systemd/sd-journal.h>

static uint64_t now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static void sleep_us(long us) {
        struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000};

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static int send_probe(const char *tag, long seq, uint64_t *ret_t) {
        uint64_t t = now_ns();
        int r;

        r = sd_journal_send("MESSAGE=jabench %s %ld %" PRIu64, tag, seq, t, "PRIORITY=6",
                            "SYSLOG_IDENTIFIER=jabench", NULL);
        *ret_t = t;
        return r;
}

static int probes(long n, long min_us, long max_us, const char *tag) {
        uint64_t first = 0, last = 0;

        for (long i = 0; i < n; i++) {
                int r = send_probe(tag, i, &last);

                if (r < 0) {
                        fprintf(stderr, "loggen: sd_journal_send: %s\n", strerror(-r));
                        return 1;
                }
                if (i == 0)
                        first = last;
                if (max_us > 0 && i + 1 < n)
                        sleep_us(min_us + random() % (max_us - min_us + 1));
        }
        printf("sent %ld %" PRIu64 " %" PRIu64 "\n", n, first, last);
        return 0;
}

static int varied(long n) {
        static const char *const what[] = {"payment authorised",     "payment declined",
                                           "refund issued",          "card tokenised",
                                           "3DS challenge sent",     "webhook delivered",
                                           "webhook retry scheduled"};
        static const int prios[] = {6, 6, 6, 6, 7, 5, 4, 3};

        for (long i = 0; i < n; i++) {
                char msg[256], req[64], user[32], dur[32], prio[16], blob[48];
                struct iovec iov[8];
                size_t k = 0;
                int r;

                snprintf(msg, sizeof(msg), "MESSAGE=%s: order %ld amount %ld.%02ld EUR",
                         what[random() % 7], random() % 10000000, random() % 5000, random() % 100);
                snprintf(req, sizeof(req), "REQUEST_ID=%08lx-%04lx-%04lx", random(),
                         random() % 65536, random() % 65536);
                snprintf(user, sizeof(user), "USER_ID=%ld", random() % 100000);
                snprintf(dur, sizeof(dur), "DURATION_MS=%ld", random() % 3000);
                snprintf(prio, sizeof(prio), "PRIORITY=%d", prios[random() % 8]);
                iov[k++] = (struct iovec){msg, strlen(msg)};
                iov[k++] = (struct iovec){req, strlen(req)};
                iov[k++] = (struct iovec){user, strlen(user)};
                iov[k++] = (struct iovec){dur, strlen(dur)};
                iov[k++] = (struct iovec){prio, strlen(prio)};
                iov[k++] = (struct iovec){(char *) "SYSLOG_IDENTIFIER=payments", 26};
                if (random() % 50 == 0) {
                        /* Not UTF-8: journalctl prints such a value as an array of numbers. */
                        memcpy(blob, "SIGNATURE=", 10);
                        for (int b = 10; b < 42; b++)
                                blob[b] = (char) (random() & 0xff);
                        iov[k++] = (struct iovec){blob, 42};
                }
                r = sd_journal_sendv(iov, (int) k);
                if (r < 0) {
                        fprintf(stderr, "loggen: sd_journal_sendv: %s\n", strerror(-r));
                        return 1;
                }
        }
        printf("sent %ld\n", n);
        return 0;
}

int main(int argc, char *argv[]) {
        if (argc == 4 && strcmp(argv[1], "varied") == 0) {
                srandom((unsigned) atol(argv[3]));
                return varied(atol(argv[2]));
        }
        if (argc == 6 && strcmp(argv[1], "paced") == 0) {
                long min_us = atol(argv[3]), max_us = atol(argv[4]);

                srandom((unsigned) now_ns());
                if (min_us < 0 || max_us < min_us)
                        return 2;
                return probes(atol(argv[2]), min_us, max_us, argv[5]);
        }
        if (argc == 4 && strcmp(argv[1], "burst") == 0)
                return probes(atol(argv[2]), 0, 0, argv[3]);
        fprintf(stderr, "usage: loggen varied N SEED | paced N MIN_US MAX_US TAG | burst N TAG\n");
        return 2;
}
