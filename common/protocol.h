/* SPDX-License-Identifier: MIT */
/*
 * The broker's wire protocol: one fixed-size message per SOCK_SEQPACKET record, fds travel beside
 * it as SCM_RIGHTS. Encoder and decoder are pure (bytes in, struct out) so they can be unit-tested
 * and fuzzed without sockets.
 *
 *   byte 0-1  magic 'J' 'A'
 *   byte 2    protocol version (PROTO_VERSION)
 *   byte 3    type (enum proto_type)
 *   byte 4    stream mask (PROTO_STREAM_*): DEPOSIT/FDS: the fds attached, in bit order;
 *             FETCH: the streams asked for
 *   byte 5    error: an errno value (ERROR only, 0 otherwise)
 *   byte 6-7  reserved, must be 0
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define PROTO_VERSION      1
#define PROTO_MESSAGE_SIZE 8
/* Receive buffers are one byte larger so an oversized record is detected, not silently cut. */
#define PROTO_RECV_SIZE (PROTO_MESSAGE_SIZE + 1)
#define PROTO_MAX_FDS   2

enum proto_type {
        PROTO_DEPOSIT = 1, /* PID 1 -> broker: here are the runtime's stdout/stderr */
        PROTO_FETCH = 2,   /* client -> broker: give me these streams */
        PROTO_FDS = 3,     /* broker -> client: the streams, as SCM_RIGHTS */
        PROTO_ERROR = 4,   /* broker -> peer: refused; error holds the errno */
        PROTO_OK = 5,      /* broker -> PID 1: deposit stored (nobody waits for it) */
};

enum {
        PROTO_STREAM_STDOUT = 1 << 0,
        PROTO_STREAM_STDERR = 1 << 1,
        PROTO_STREAM_ALL = PROTO_STREAM_STDOUT | PROTO_STREAM_STDERR,
};

struct proto_message {
        uint8_t type;
        uint8_t streams;
        uint8_t error;
};

/* Number of streams set in a mask, i.e. how many fds travel with the message. */
unsigned proto_stream_count(uint8_t streams);

/* "stdout", "stderr" for a single-bit mask, NULL otherwise. */
const char *proto_stream_name(uint8_t stream);

/* Writes PROTO_MESSAGE_SIZE bytes into buf. Returns the size, or -EINVAL for a message that the
 * decoder would reject (so nothing invalid ever leaves this process). */
int proto_encode(const struct proto_message *m, uint8_t *buf, size_t size);

/* Parses one record. Returns 0 and fills *ret, or:
 * -EBADMSG          wrong size, magic, type, reserved bytes, stream mask or error field
 * -EPROTONOSUPPORT  another protocol version */
int proto_decode(const uint8_t *buf, size_t size, struct proto_message *ret);
