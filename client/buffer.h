/* SPDX-License-Identifier: MIT */
/* A growable byte buffer: the forwarder formats every entry into one and writes it in large
 * chunks, so formatting allocates only when an entry is larger than anything seen before. */
#pragma once

#include <errno.h>
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

/* Drops the first n bytes (they were written). */
static inline void buffer_consume(struct buffer *b, size_t n) {
        memmove(b->data, b->data + n, b->len - n);
        b->len -= n;
}

static inline void buffer_free(struct buffer *b) {
        free(b->data);
        *b = (struct buffer){};
}
