/* SPDX-License-Identifier: MIT */
/*
 * The shim's copies of the container runtime's stdout and stderr, as PID 1 inherited them, and
 * the environment variable that carries them across daemon-reexec.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* High numbers keep the copies out of the way of everything PID 1 numbers itself; the number is
 * cosmetic, F_DUPFD_CLOEXEC takes the lowest free one at or above it. */
#define SAVED_FDS_MIN 64
/* "stdout:stderr" fd numbers, -1 for a stream not saved. Set by the shim just before PID 1
 * re-executes itself, adopted and removed by the shim in the new image. */
#define SAVED_FDS_ENV "JOURNALAGENT_SAVED_FDS"

enum { SAVED_STDOUT, SAVED_STDERR, SAVED_N };

struct saved_fds {
        int fd[SAVED_N]; /* -1 when not saved */
};

#define SAVED_FDS_NONE ((struct saved_fds){.fd = {-1, -1}})

/* True when fd is open and is not /dev/null: saving /dev/null would hide the real pipe forever. */
bool saved_fd_usable(int fd);

/* Makes close-on-exec copies of fds 1 and 2 where they are usable. Returns the number saved. */
int saved_fds_capture(struct saved_fds *s);

/* Parses the SAVED_FDS_ENV value. Fails with -EINVAL on anything malformed, and leaves out (as
 * -1) an fd that is not usable. Pure apart from the fstat() of each number. */
int saved_fds_parse(const char *value, struct saved_fds *ret);

/* Formats s as the SAVED_FDS_ENV value into buf. Returns -ENOBUFS if it does not fit. */
int saved_fds_format(const struct saved_fds *s, char *buf, size_t size);

/* Sets or clears FD_CLOEXEC on every saved fd. Returns 0 or the first -errno. */
int saved_fds_set_cloexec(const struct saved_fds *s, bool cloexec);

/* Streams mask (PROTO_STREAM_*) and the fds in mask order, for a deposit. Returns the count. */
size_t saved_fds_collect(const struct saved_fds *s, int ret_fds[SAVED_N], unsigned *ret_mask);

static inline bool saved_fds_contains(const struct saved_fds *s, int fd) {
        return fd >= 0 && (s->fd[SAVED_STDOUT] == fd || s->fd[SAVED_STDERR] == fd);
}
