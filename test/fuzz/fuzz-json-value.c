/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the JSON value encoder: json_append_value() works eight or sixteen bytes
 * at a time, so it is checked against the obvious byte-by-byte encoding
 * (test/unit/json-reference.h). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../unit/json-reference.h"
#include "json_output.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const struct json_options all = {.show_all = true};
        struct buffer got = {}, want = {};

        /* A prefix in the buffer, so the encoder's offsets are exercised too. */
        buffer_append(&got, "x", 1);
        buffer_append(&want, "x", 1);
        if (json_append_value(&got, (const char *) data, size, size + 2, &all) != 0)
                __builtin_trap();
        if (json_reference_value((const char *) data, size, &want) != 0)
                __builtin_trap();
        if (got.len != want.len || memcmp(got.data, want.data, got.len) != 0)
                __builtin_trap();
        buffer_free(&got);
        buffer_free(&want);
        return 0;
}
