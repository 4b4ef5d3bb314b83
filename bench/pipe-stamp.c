/* SPDX-License-Identifier: MIT */
/*
 * pipe-stamp: the benchmark's "container runtime": reads a container's stdout (or stderr) pipe
 * on the host and notes when each probe line arrives.
 *
 *   pipe-stamp OUT.tsv < pipe
 *
 * For every line that contains "jabench TAG SEQ T" (bench/loggen's probes, in any output mode)
 * writes "TAG SEQ T RECV" to OUT.tsv, where RECV is CLOCK_REALTIME in ns right after the read()
 * that completed the line. Lines in one read() share one RECV: they did arrive together. OUT.tsv
 * is flushed after every read() so the harness can watch it fill. At EOF a last line
 * "# lines N bytes N" counts everything read (boot entries included).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BUF_SIZE (1 << 20)

static uint64_t now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static void stamp_line(FILE *out, const char *line, size_t len, uint64_t recv) {
        static const char marker[] = "jabench ";
        const char *p = memmem(line, len, marker, sizeof(marker) - 1);
        char tag[32];
        long seq;
        uint64_t t;

        if (!p)
                return;
        p += sizeof(marker) - 1;
        /* The line is not NUL-terminated; the fields end long before the line does. */
        if (sscanf(p, "%31s %ld %" SCNu64, tag, &seq, &t) == 3)
                fprintf(out, "%s %ld %" PRIu64 " %" PRIu64 "\n", tag, seq, t, recv);
}

int main(int argc, char *argv[]) {
        unsigned long long lines = 0, bytes = 0;
        size_t have = 0;
        char *buf;
        FILE *out;

        if (argc != 2) {
                fprintf(stderr, "usage: pipe-stamp OUT.tsv < pipe\n");
                return 2;
        }
        out = fopen(argv[1], "we");
        buf = malloc(BUF_SIZE + 1);
        if (!out || !buf) {
                perror("pipe-stamp");
                return 1;
        }
        for (;;) {
                ssize_t n = read(STDIN_FILENO, buf + have, BUF_SIZE - have);
                uint64_t recv = now_ns();
                size_t start = 0;

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                bytes += (unsigned long long) n;
                have += (size_t) n;
                buf[have] = '\0';
                for (char *nl; (nl = memchr(buf + start, '\n', have - start));) {
                        size_t len = (size_t) (nl - (buf + start));

                        stamp_line(out, buf + start, len, recv);
                        lines++;
                        start += len + 1;
                }
                /* A line longer than the buffer is counted and dropped: probes are short. */
                if (start == 0 && have == BUF_SIZE) {
                        lines++;
                        have = 0;
                } else {
                        memmove(buf, buf + start, have - start);
                        have -= start;
                }
                fflush(out);
        }
        fprintf(out, "# lines %llu bytes %llu\n", lines, bytes);
        fclose(out);
        free(buf);
        return 0;
}
