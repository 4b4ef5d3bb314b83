/* SPDX-License-Identifier: MIT */
/*
 * The forwarding loop: read entries with sd-journal, format them, write them in batches of whole
 * lines, and after each completed write save the cursor of its last entry. A crash therefore
 * repeats at most the entries of one write, each with the same __CURSOR, and loses none.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <systemd/sd-journal.h>

#include "buffer.h"
#include "cursor_file.h"
#include "filters.h"
#include "output_format.h"

struct forwarder {
        sd_journal *journal;
        int out_fds[2]; /* the container's stdout and stderr (or ours) */
        size_t batch_sizes[2];
        int stderr_priority; /* entries with PRIORITY <= this go to out_fds[1]; -1: none */
        const struct filters *filters;   /* per-entry filters (-T, --until); NULL: none */
        uint64_t start_monotonic;        /* without a cursor, start here in this boot; 0: head */
        struct cursor_file *cursor_file; /* NULL: no saving */
        struct output_format *format;    /* how entries are written; the caller's */
        bool follow;

        /* state */
        struct buffer out;
        int stream; /* index into out_fds of what out holds */
        bool until_reached;
        bool await_journal_stop; /* final shutdown: stop at journald's "Journal stopped" */
        bool journal_stopped;
        char *pending_cursor; /* cursor of the last entry in out */
        bool cursor_save_failed;
        unsigned long n_entries;
};

/* Positions the journal: after the saved cursor when there is one (seek, next, and skip the entry
 * if it is the cursor's own), else the last `lines` entries (lines >= 0), else the head. Sets
 * *ret_have_current when the journal already stands on the first entry to print. */
int forwarder_position(struct forwarder *f, const char *cursor, long lines, bool *ret_have_current);

/* Forwards until the end of the journal (and, with follow, forever until SIGTERM/SIGINT, after
 * which it forwards what is there and returns). Returns 0 or -errno; -EPIPE when the reader of
 * the output is gone. */
int forwarder_run(struct forwarder *f, bool have_current);

void forwarder_done(struct forwarder *f);
