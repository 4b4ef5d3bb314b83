/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the broker's message decoder: every record the decoder accepts must be
 * one the encoder produces, byte for byte, and nothing it rejects may be encodable. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct proto_message m = {0}, again;
        uint8_t out[PROTO_MESSAGE_SIZE];
        int r;

        r = proto_decode(data, size, &m);
        if (r < 0) {
                if (r != -EBADMSG && r != -EPROTONOSUPPORT)
                        __builtin_trap();
                /* A rejected record with the right size, magic and version has fields the encoder
                 * must refuse as well (reserved bytes aside, which the struct cannot express). */
                if (r == -EBADMSG && size == PROTO_MESSAGE_SIZE && data[0] == 'J' &&
                    data[1] == 'A' && data[6] == 0 && data[7] == 0) {
                        m = (struct proto_message){
                                .type = data[3], .streams = data[4], .error = data[5]};
                        if (proto_encode(&m, out, sizeof(out)) != -EINVAL)
                                __builtin_trap();
                }
                return 0;
        }

        if (size != PROTO_MESSAGE_SIZE)
                __builtin_trap();
        if (proto_encode(&m, out, sizeof(out)) != PROTO_MESSAGE_SIZE)
                __builtin_trap();
        if (memcmp(out, data, PROTO_MESSAGE_SIZE) != 0)
                __builtin_trap();
        if (proto_decode(out, sizeof(out), &again) != 0 || again.type != m.type ||
            again.streams != m.streams || again.error != m.error)
                __builtin_trap();
        if (proto_stream_count(m.streams) > PROTO_MAX_FDS)
                __builtin_trap();
        (void) proto_stream_name(m.streams);
        return 0;
}
