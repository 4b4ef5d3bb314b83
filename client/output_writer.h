/* SPDX-License-Identifier: MIT */
/*
 * Writing to the container's stdout/stderr: whole buffers, through partial writes, EINTR and
 * EAGAIN (someone may have set O_NONBLOCK on the shared pipe: wait in poll(), never spin).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Writes all n bytes. Returns 0, -EPIPE when the reader is gone, or another -errno. */
int output_write_all(int fd, const void *p, size_t n);

/* Largest batch of whole lines to write at once: PIPE_BUF for pipes, so that several writers on
 * one pipe interleave only at line boundaries; larger for files and ttys. */
size_t output_batch_size(int fd);
