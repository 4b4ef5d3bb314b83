/* SPDX-License-Identifier: MIT */
/* A client's side of the broker protocol: ask for the container's stdout/stderr. */
#pragma once

#include <stdint.h>

#define BROKER_SOCKET_DEFAULT "/run/journalagent/broker.sock"
#define BROKER_SOCKET_ENV     "JOURNALAGENT_BROKER_SOCKET"

/* $JOURNALAGENT_BROKER_SOCKET or the default path. */
const char *broker_socket_path(void);

/* Asks the broker at path for streams (PROTO_STREAM_*). On success ret_fds[0] is stdout and
 * ret_fds[1] stderr, -1 for a stream the broker does not hold; at least one is set. On failure
 * logs what went wrong and how to fix it, and returns:
 *   -ECONNREFUSED  nothing listens on path (broker socket not started)
 *   -EACCES        not permitted (socket permissions or the broker's policy)
 *   -ENOENT        the broker holds none of the streams
 *   -EPROTO        the broker answered something we do not understand
 *   other -errno */
int broker_fetch(const char *path, uint8_t streams, int ret_fds[2]);
