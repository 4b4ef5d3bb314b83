/* SPDX-License-Identifier: MIT */
/* Sending and receiving one protocol message with its fds (SCM_RIGHTS). */
#pragma once

#include <stddef.h>

#include "protocol.h"

/* Encodes m and sends it with n_fds fds in one sendmsg(). flags are passed through (MSG_DONTWAIT,
 * MSG_NOSIGNAL, ...). Returns 0 or -errno; -EMSGSIZE if the kernel took only part of the record. */
int fdpass_send(int sock, const struct proto_message *m, const int *fds, size_t n_fds, int flags);

/* Receives one record. Every fd that arrives is CLOEXEC; on success the first ret_fds_max of them
 * are handed over in ret_fds and their number in *ret_n_fds, the rest are closed. On any failure
 * all received fds are closed. Returns 0, -ECONNRESET on end of stream, -EBADMSG for a malformed
 * or truncated record (also when fds do not match the stream mask), or another -errno. */
int fdpass_recv(int sock, struct proto_message *ret, int *ret_fds, size_t ret_fds_max,
                size_t *ret_n_fds, int flags);

/* Convenience for replies: an ERROR message carrying errno value err (positive). */
int fdpass_send_error(int sock, int err);
