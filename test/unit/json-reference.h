/* SPDX-License-Identifier: MIT */
/* The obvious byte-by-byte JSON encoding of a journal value, to check json_append_value() (which
 * works eight bytes at a time) against: json_utf8_is_printable() decides string or byte array; in
 * a printable string only ", \, \t and \n are escaped. Used by the unit tests and the fuzzer. */
#pragma once

#include <stdio.h>

#include "json_output.h"

static inline int json_reference_value(const char *v, size_t n, struct buffer *out) {
        char num[8];

        if (!json_utf8_is_printable(v, n)) {
                if (buffer_append(out, "[", 1) < 0)
                        return -ENOMEM;
                for (size_t i = 0; i < n; i++) {
                        int k = snprintf(num, sizeof(num), "%s%u", i ? "," : "",
                                         (unsigned char) v[i]);

                        if (buffer_append(out, num, (size_t) k) < 0)
                                return -ENOMEM;
                }
                return buffer_append(out, "]", 1);
        }
        if (buffer_append(out, "\"", 1) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const char *e = v[i] == '"'    ? "\\\""
                                : v[i] == '\\' ? "\\\\"
                                : v[i] == '\t' ? "\\t"
                                : v[i] == '\n' ? "\\n"
                                               : NULL;

                if (buffer_append(out, e ? e : v + i, e ? 2 : 1) < 0)
                        return -ENOMEM;
        }
        return buffer_append(out, "\"", 1);
}
