/* SPDX-License-Identifier: MIT */
/* A growable byte buffer: the forwarder formats every entry into one and writes it in large
 * chunks, so formatting allocates only when an entry is larger than anything seen before. */
#pragma once

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct buffer {
        char *data;
        size_t len, cap;
};

static inline int buffer_reserve(struct buffer *b, size_t extra) {
        size_t want = b->len + extra, cap;
        char *p;

        if (want <= b->cap)
                return 0;
        cap = b->cap ? b->cap : 4096;
        while (cap < want)
                cap *= 2;
        p = realloc(b->data, cap);
        if (!p)
                return -ENOMEM;
        b->data = p;
        b->cap = cap;
        return 0;
}

static inline int buffer_append(struct buffer *b, const void *p, size_t n) {
        if (buffer_reserve(b, n) < 0)
                return -ENOMEM;
        memcpy(b->data + b->len, p, n);
        b->len += n;
        return 0;
}

static inline int buffer_append_str(struct buffer *b, const char *s) {
        return buffer_append(b, s, strlen(s));
}

/* Appends v in decimal: the forwarder prints two timestamps per entry, and snprintf() costs
 * ten times as much. */
static inline int buffer_append_u64(struct buffer *b, uint64_t v) {
        char digits[20], *p = digits + sizeof(digits);

        do
                *--p = (char) ('0' + v % 10);
        while ((v /= 10) > 0);
        return buffer_append(b, p, (size_t) (digits + sizeof(digits) - p));
}

/* Appends the n bytes at p as lowercase hex digits (a 128-bit ID as SD_ID128_FORMAT_STR). */
static inline int buffer_append_hex(struct buffer *b, const void *p, size_t n) {
        static const char hex[] = "0123456789abcdef";
        const unsigned char *s = p;
        char *w;

        if (buffer_reserve(b, 2 * n) < 0)
                return -ENOMEM;
        w = b->data + b->len;
        for (size_t i = 0; i < n; i++) {
                *w++ = hex[s[i] >> 4];
                *w++ = hex[s[i] & 15];
        }
        b->len += 2 * n;
        return 0;
}

/* Drops the first n bytes (they were written). */
static inline void buffer_consume(struct buffer *b, size_t n) {
        memmove(b->data, b->data + n, b->len - n);
        b->len -= n;
}

static inline void buffer_free(struct buffer *b) {
        free(b->data);
        *b = (struct buffer){};
}
