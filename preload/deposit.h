/* SPDX-License-Identifier: MIT */
/* PID 1's side of the broker protocol: hand the saved fds over, never wait for anything. */
#pragma once

#include <stdbool.h>

#include "saved_fds.h"

/* True when listening socket fd is bound to exactly path (an AF_UNIX filesystem path). */
bool deposit_is_broker_socket(int fd, const char *path);

/* Connects to the socket listening on path (of the same type as listen_fd) without blocking and
 * queues one DEPOSIT with the saved fds. The kernel completes an AF_UNIX connect at once while the
 * listener's backlog has room and holds the message until the broker accepts; if the backlog is
 * full or anything else fails we give up. Returns 0 or -errno; errno is left as it was. */
int deposit_send(int listen_fd, const char *path, const struct saved_fds *s);
