/* SPDX-License-Identifier: MIT */
#include "protocol.h"

#include <errno.h>
#include <string.h>

unsigned proto_stream_count(uint8_t streams) {
        return (unsigned) __builtin_popcount(streams & PROTO_STREAM_ALL);
}

const char *proto_stream_name(uint8_t stream) {
        switch (stream) {
        case PROTO_STREAM_STDOUT:
                return "stdout";
        case PROTO_STREAM_STDERR:
                return "stderr";
        default:
                return NULL;
        }
}

static int message_valid(const struct proto_message *m) {
        if (m->streams & ~PROTO_STREAM_ALL)
                return 0;

        switch (m->type) {
        case PROTO_DEPOSIT:
        case PROTO_FETCH:
        case PROTO_FDS:
                return m->streams != 0 && m->error == 0;
        case PROTO_ERROR:
                return m->streams == 0 && m->error != 0;
        case PROTO_OK:
                return m->error == 0;
        default:
                return 0;
        }
}

int proto_encode(const struct proto_message *m, uint8_t *buf, size_t size) {
        if (size < PROTO_MESSAGE_SIZE || !message_valid(m))
                return -EINVAL;

        memset(buf, 0, PROTO_MESSAGE_SIZE);
        buf[0] = 'J';
        buf[1] = 'A';
        buf[2] = PROTO_VERSION;
        buf[3] = m->type;
        buf[4] = m->streams;
        buf[5] = m->error;
        return PROTO_MESSAGE_SIZE;
}

int proto_decode(const uint8_t *buf, size_t size, struct proto_message *ret) {
        struct proto_message m;

        if (size != PROTO_MESSAGE_SIZE || buf[0] != 'J' || buf[1] != 'A')
                return -EBADMSG;
        if (buf[2] != PROTO_VERSION)
                return -EPROTONOSUPPORT;
        if (buf[6] != 0 || buf[7] != 0)
                return -EBADMSG;

        m = (struct proto_message){.type = buf[3], .streams = buf[4], .error = buf[5]};
        if (!message_valid(&m))
                return -EBADMSG;

        *ret = m;
        return 0;
}
