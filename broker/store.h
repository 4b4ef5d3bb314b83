/* SPDX-License-Identifier: MIT */
/*
 * The fds the broker holds (the container runtime's stdout and stderr) and their copies in
 * systemd's fd store, which keeps them across broker crashes, restarts, daemon-reload and
 * daemon-reexec.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <systemd/sd-event.h>

enum { STORE_STDOUT, STORE_STDERR, STORE_N };

/* Room for the summary of both streams, each "NAME (readlink target, at most 255 bytes)". */
#define STORE_DESCRIPTION_MAX 1024

struct store {
        int fd[STORE_N];
        sd_event_source *watch[STORE_N];
        sd_event *event;
        /* What each held fd is (its /proc/self/fd link) and the summary of both, made when an fd
         * is taken or dropped: STATUS= shows them after requests, and a readlink() each time cost
         * the broker 14 % of its CPU under a stream of fetches. */
        char target[STORE_N][256];
        char description[STORE_DESCRIPTION_MAX];
        unsigned long generation; /* changes whenever the held fds do */
};

void store_init(struct store *s, sd_event *event);
void store_done(struct store *s);

/* "stdout"/"stderr" -> index, -1 for anything else. */
int store_index_from_name(const char *name);

/* Takes an fd handed back by systemd at start (LISTEN_FDNAMES) without storing it again. */
int store_adopt(struct store *s, int index, int fd);

/* Takes ownership of fd (deposited by PID 1): replaces the held one in memory and in systemd's
 * fd store. An fd for the pipe already held is closed and nothing changes (returns 0); /dev/null
 * is refused with -EINVAL. Returns 1 when the held fd changed. */
int store_put(struct store *s, int index, int fd);

/* The held fd or -1. Still owned by the store. */
int store_get(const struct store *s, int index);

/* Human-readable summary for STATUS=, e.g. "holding stdout (pipe:[1234]), stderr (pipe:[1235])".
 * Owned by the store, valid until it changes (see generation). */
const char *store_describe(const struct store *s);
