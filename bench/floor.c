/* SPDX-License-Identifier: MIT */
/*
 * floor: the physical floor for reading a journal with sd-journal: every entry, every field, its
 * raw bytes written out in 64 KiB chunks, no cursor, no timestamps, no formatting, no escaping.
 * Anything that prints journal entries does at least this much work.
 *
 *   floor -D DIR      (or floor --file FILE...)
 *
 * Prints the number of entries to stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#define CHUNK (64 * 1024)

static char buf[CHUNK];
static size_t used;

static int flush_out(void) {
        size_t off = 0;

        while (off < used) {
                ssize_t k = write(STDOUT_FILENO, buf + off, used - off);

                if (k < 0)
                        return -1;
                off += (size_t) k;
        }
        used = 0;
        return 0;
}

static int put(const void *p, size_t n) {
        const char *s = p;

        while (n > 0) {
                size_t k = n < CHUNK - used ? n : CHUNK - used;

                memcpy(buf + used, s, k);
                used += k, s += k, n -= k;
                if (used == CHUNK && flush_out() < 0)
                        return -1;
        }
        return 0;
}

int main(int argc, char *argv[]) {
        unsigned long long entries = 0;
        sd_journal *j = NULL;
        int r;

        if (argc == 3 && strcmp(argv[1], "-D") == 0)
                r = sd_journal_open_directory(&j, argv[2], 0);
        else if (argc >= 3 && strcmp(argv[1], "--file") == 0)
                r = sd_journal_open_files(&j, (const char **) argv + 2, 0);
        else {
                fprintf(stderr, "usage: floor -D DIR | --file FILE...\n");
                return 2;
        }
        if (r < 0) {
                fprintf(stderr, "floor: cannot open the journal: %s\n", strerror(-r));
                return 1;
        }
        while ((r = sd_journal_next(j)) > 0) {
                const void *data;
                size_t len;

                while ((r = sd_journal_enumerate_data(j, &data, &len)) > 0)
                        if (put(data, len) < 0 || put("\n", 1) < 0)
                                goto fail;
                entries++;
        }
        if (r < 0 || flush_out() < 0)
                goto fail;
        sd_journal_close(j);
        fprintf(stderr, "%llu entries\n", entries);
        return 0;
fail:
        perror("floor");
        sd_journal_close(j);
        return 1;
}
