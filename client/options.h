/* SPDX-License-Identifier: MIT */
/* journalagent's command line, spelled like journalctl's. */
#pragma once

#include <stdbool.h>

#include "filters.h"
#include "output_format.h"

enum output_target {
        TARGET_AUTO,   /* broker when our own stdout is the journal (we run as a service) */
        TARGET_BROKER, /* the container's stdout, fetched from journalagent-broker */
        TARGET_STDOUT, /* our own stdout */
};

/* How much one write() to a pipe may hold (--pipe-writes). */
enum pipe_writes {
        PIPE_WRITES_AUTO,   /* atomic on the container's stdout (broker) and with --follow */
        PIPE_WRITES_ATOMIC, /* at most PIPE_BUF bytes of whole entries: other writers on the same
                             * pipe interleave only between entries */
        PIPE_WRITES_LARGE,  /* up to 64 KiB of whole entries: fewer wake-ups of the reader */
};

struct options {
        bool follow;
        bool boot;               /* -b: only entries of one boot */
        const char *boot_id;     /* -b ID; NULL for the current boot */
        const char *directory;   /* -D */
        char **files;            /* --file, NULL-terminated */
        const char *cursor_file; /* --cursor-file */
        bool all;                /* -a */
        bool utc;                /* --utc */
        bool no_hostname;        /* --no-hostname */
        bool quiet;              /* -q */
        long lines;              /* -n; -1 for all */
        bool no_tail;
        bool since_pid1;         /* --since-pid1: without a cursor, start at PID 1's start */
        enum output_mode output; /* -o */
        char **output_fields;    /* --output-fields, NULL-terminated, each allocated */
        enum output_target target;
        enum pipe_writes pipe_writes;
        const char *broker_socket;
        char **matches;         /* FIELD=VALUE and "+", NULL-terminated */
        struct filters filters; /* -u, -t, -T, -p, --facility, -S, -U */
        int stderr_priority;    /* --stderr-priority: entries at or above go to stderr; -1 off */
        bool set_output, set_output_fields, set_stderr_priority, set_priority;
};

void options_free(struct options *o);

/* Returns 1 to go on, 0 when done (--help, --version), -EINVAL on bad usage (already logged). */
int options_parse(int argc, char *argv[], struct options *ret);
