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

/* Largest batch of whole entries to write at once. PIPE_BUF for a pipe that other writers may
 * share (the container's stdout: PID 1, other forwarders, journalagent-attach services), so that
 * they interleave only between entries: the kernel keeps writes of up to PIPE_BUF bytes whole.
 * 64 KiB otherwise (files, ttys, a pipe of our own), where each write wakes the reader once
 * instead of sixteen times. */
size_t output_batch_size(int fd, bool pipe_shared);
