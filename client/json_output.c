/* SPDX-License-Identifier: MIT */
#include "json_output.h"

#include <endian.h>
#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "journal_entry.h"

void json_scratch_free(struct json_scratch *s) {
        buffer_free(&s->data);
        free(s->fields);
        *s = (struct json_scratch){};
}

static bool codepoint_valid(uint32_t c) {
        return c < 0x110000 && (c & 0xFFFFF800) != 0xD800 && !(c >= 0xFDD0 && c <= 0xFDEF) &&
               (c & 0xFFFE) != 0xFFFE;
}

static bool codepoint_control(uint32_t c) {
        return (c < ' ' && c != '\t' && c != '\n') || (c >= 0x7F && c <= 0x9F);
}

/* Length of the UTF-8 sequence at p, 0 if it is not a valid one. */
static size_t utf8_sequence(const unsigned char *p, size_t n, uint32_t *ret) {
        size_t len;
        uint32_t c;

        if (p[0] < 0x80) {
                *ret = p[0];
                return 1;
        }
        if ((p[0] & 0xE0) == 0xC0)
                len = 2, c = p[0] & 0x1F;
        else if ((p[0] & 0xF0) == 0xE0)
                len = 3, c = p[0] & 0x0F;
        else if ((p[0] & 0xF8) == 0xF0)
                len = 4, c = p[0] & 0x07;
        else
                return 0; /* 5 and 6 byte forms only encode values beyond Unicode */
        if (len > n)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((p[i] & 0xC0) != 0x80)
                        return 0;
                c = (c << 6) | (p[i] & 0x3F);
        }
        /* Overlong forms are invalid. */
        if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) || (len == 4 && c < 0x10000))
                return 0;
        *ret = c;
        return len;
}

bool json_utf8_is_printable(const char *s, size_t n) {
        const unsigned char *p = (const unsigned char *) s;

        while (n > 0) {
                uint32_t c;
                size_t len;

                /* Fast path: printable ASCII. */
                if (*p >= 0x20 && *p < 0x7F) {
                        p++, n--;
                        continue;
                }
                len = utf8_sequence(p, n, &c);
                if (len == 0 || !codepoint_valid(c) || codepoint_control(c))
                        return false;
                p += len, n -= len;
        }
        return true;
}

/* Bytes that need escaping in a JSON string: ", \ and the C0 range. */
static const char escape_table[256] = {
        ['"'] = '"',  ['\\'] = '\\', ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r',
        ['\t'] = 't', [0x00] = 'u',  [0x01] = 'u', [0x02] = 'u', [0x03] = 'u', [0x04] = 'u',
        [0x05] = 'u', [0x06] = 'u',  [0x07] = 'u', [0x0B] = 'u', [0x0E] = 'u', [0x0F] = 'u',
        [0x10] = 'u', [0x11] = 'u',  [0x12] = 'u', [0x13] = 'u', [0x14] = 'u', [0x15] = 'u',
        [0x16] = 'u', [0x17] = 'u',  [0x18] = 'u', [0x19] = 'u', [0x1A] = 'u', [0x1B] = 'u',
        [0x1C] = 'u', [0x1D] = 'u',  [0x1E] = 'u', [0x1F] = 'u',
};

#define BYTES(c) (UINT64_C(0x0101010101010101) * (c))

/* Does the 8-byte word hold a byte that is not printable ASCII or that needs escaping (",
 * \)? Bit tricks from "Bit Twiddling Hacks" (haszero/hasless/hasmore); they may flag a byte after
 * a flagged one, never miss one, which is all "is any flagged" needs. */
static inline bool word_needs_care(uint64_t x) {
        uint64_t below_space = (x - BYTES(0x20)) & ~x;
        uint64_t del_or_high = (x + BYTES(0x01)) | x; /* 0x7F and up */
        uint64_t quote = ((x ^ BYTES('"')) - BYTES(0x01)) & ~(x ^ BYTES('"'));
        uint64_t backslash = ((x ^ BYTES('\\')) - BYTES(0x01)) & ~(x ^ BYTES('\\'));

        return ((below_space | del_or_high | quote | backslash) & BYTES(0x80)) != 0;
}

/* Eight bytes from s, the first one in the lowest bits. */
static inline uint64_t load_word(const void *s) {
        uint64_t x;

        memcpy(&x, s, sizeof(x));
        return le64toh(x);
}

static inline void store_word(char *w, uint64_t x) {
        x = htole64(x);
        memcpy(w, &x, sizeof(x));
}

static inline bool byte_plain(unsigned char c) {
        return c >= 0x20 && c < 0x7F && c != '"' && c != '\\';
}

#ifdef __SSE2__
/* Sixteen bytes at a time where x86-64 has them (SSE2 is part of its baseline): a quarter of
 * the instructions of the eight-byte word for the long clean runs that most values are. */
static inline __m128i load16(const void *s) {
        return _mm_loadu_si128((const __m128i *) s);
}

/* Bit i set for each byte i of x that word_needs_care() would flag. Signed compares: bytes of
 * 0x80 and up are negative, so "less than 0x20" catches them as well as the C0 range. */
static inline unsigned care_mask16(__m128i x) {
        __m128i care = _mm_or_si128(_mm_cmplt_epi8(x, _mm_set1_epi8(0x20)),
                                    _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7F)));

        care = _mm_or_si128(care, _mm_cmpeq_epi8(x, _mm_set1_epi8('"')));
        care = _mm_or_si128(care, _mm_cmpeq_epi8(x, _mm_set1_epi8('\\')));
        return (unsigned) _mm_movemask_epi8(care);
}

/* Bit i set for each byte i of x that is not a field-name byte (A-Z, 0-9, _). */
static inline unsigned non_name_mask16(__m128i x) {
        __m128i upper = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('A' - 1)),
                                      _mm_cmplt_epi8(x, _mm_set1_epi8('Z' + 1)));
        __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('0' - 1)),
                                      _mm_cmplt_epi8(x, _mm_set1_epi8('9' + 1)));
        __m128i name =
                _mm_or_si128(_mm_or_si128(upper, digit), _mm_cmpeq_epi8(x, _mm_set1_epi8('_')));

        return ~(unsigned) _mm_movemask_epi8(name) & 0xFFFF;
}
#endif

/* Appends s as a JSON string if it is printable (json_utf8_is_printable()) and returns 1; returns
 * 0 with out unchanged if it is not. One pass for both the test and the escaping: in printable
 * text only ", \, \t and \n need escaping, and everything else is copied as it is. Clean words
 * of eight bytes (sixteen with SSE2) are copied as they are checked, stored whole: the output
 * is at most 1 + 2i bytes long when i input bytes are done, and 2n + 10 are reserved. */
static inline __attribute__((always_inline)) int append_if_printable(struct buffer *out,
                                                                     const char *s, size_t n) {
        const unsigned char *p = (const unsigned char *) s;
        size_t i = 0;
        char *w;

        if (buffer_reserve(out, n * 2 + 2 + 8) < 0)
                return -ENOMEM;
        w = out->data + out->len;
        *w++ = '"';
        while (i < n) {
                size_t stop, len;
                uint32_t c;

#ifdef __SSE2__
                /* The sixteen bytes are stored whole even when one needs care (the slack
                 * allows it): the bytes before it are right, and the rest is written over. */
                for (; i + 16 <= n; i += 16, w += 16) {
                        __m128i x = load16(p + i);
                        unsigned care = care_mask16(x);

                        _mm_storeu_si128((__m128i *) w, x);
                        if (care) {
                                size_t k = (size_t) __builtin_ctz(care);

                                i += k, w += k;
                                goto special;
                        }
                }
                if (i == n)
                        break;
                /* The tail, when its last sixteen bytes are clean (as for eight below). */
                if (n >= 16 && !care_mask16(load16(p + n - 16))) {
                        _mm_storeu_si128((__m128i *) (w - (i - (n - 16))), load16(p + n - 16));
                        w += n - i;
                        break;
                }
#endif
                for (; i + 8 <= n; i += 8, w += 8) {
                        uint64_t x = load_word(p + i);

                        if (word_needs_care(x))
                                break;
                        store_word(w, x);
                }
                if (i == n)
                        break;
                /* The tail, when its last eight bytes are clean: they were copied one to one
                 * up to i, so they end where the output ends. */
                if (i + 8 > n && n >= 8 && !word_needs_care(load_word(p + n - 8))) {
                        store_word(w - (i - (n - 8)), load_word(p + n - 8));
                        w += n - i;
                        break;
                }
                /* Byte by byte up to the word's first special byte. */
                stop = i + 8 < n ? i + 8 : n;
                while (i < stop && byte_plain(p[i]))
                        *w++ = (char) p[i++];
                if (i == stop)
                        continue;
#ifdef __SSE2__
        special:
#endif
                switch (p[i]) {
                case '"':
                case '\\':
                case '\t':
                case '\n':
                        *w++ = '\\';
                        *w++ = escape_table[p[i++]];
                        continue;
                }
                len = utf8_sequence(p + i, n - i, &c);
                if (len == 0 || !codepoint_valid(c) || codepoint_control(c))
                        return 0;
                memcpy(w, p + i, len);
                w += len, i += len;
        }
        *w++ = '"';
        out->len = (size_t) (w - out->data);
        return 1;
}

/* Length of the leading run of s that goes into a JSON string unchanged: printable ASCII other
 * than " and \. Journal values are mostly that, so it is checked eight bytes at a time; the last
 * word overlaps the one before, and a value shorter than a word is checked padded with 'A'. */
static size_t plain_run(const unsigned char *s, size_t n) {
        size_t i = 0;

        if (n >= 8) {
                for (; i + 8 <= n; i += 8)
                        if (word_needs_care(load_word(s + i)))
                                goto bytewise;
                if (i == n || !word_needs_care(load_word(s + n - 8)))
                        return n;
        } else {
                uint64_t x = BYTES('A');

                memcpy(&x, s, n);
                if (!word_needs_care(x))
                        return n;
        }
bytewise:
        while (i < n && s[i] >= 0x20 && s[i] < 0x7F && s[i] != '"' && s[i] != '\\')
                i++;
        return i;
}

int json_append_string(struct buffer *out, const char *s, size_t n) {
        const unsigned char *p = (const unsigned char *) s;
        char *w;
        int r;

        /* Printable text (a cursor always is) escapes the same either way, and the one-pass copy
         * of the field values is the faster. */
        r = append_if_printable(out, s, n);
        if (r != 0)
                return r < 0 ? r : 0;
        /* Worst case every byte becomes \u00XX. */
        if (buffer_reserve(out, n * 6 + 2) < 0)
                return -ENOMEM;
        w = out->data + out->len;
        *w++ = '"';
        for (size_t i = 0; i < n;) {
                size_t run = plain_run(p + i, n - i);
                unsigned char c;
                char e;

                memcpy(w, p + i, run);
                w += run, i += run;
                if (i == n)
                        break;
                c = p[i++];
                e = escape_table[c];
                if (!e) {
                        *w++ = (char) c;
                } else if (e != 'u') {
                        *w++ = '\\';
                        *w++ = e;
                } else {
                        static const char hex[] = "0123456789abcdef";
                        memcpy(w, "\\u00", 4);
                        w[4] = hex[c >> 4];
                        w[5] = hex[c & 15];
                        w += 6;
                }
        }
        *w++ = '"';
        out->len = (size_t) (w - out->data);
        return 0;
}

static int append_byte_array(struct buffer *out, const char *value, size_t n) {
        char *w;

        if (buffer_reserve(out, n * 4 + 2) < 0)
                return -ENOMEM;
        w = out->data + out->len;
        *w++ = '[';
        for (size_t i = 0; i < n; i++) {
                unsigned v = (unsigned char) value[i];

                if (i > 0)
                        *w++ = ',';
                if (v >= 100)
                        *w++ = (char) ('0' + v / 100);
                if (v >= 10)
                        *w++ = (char) ('0' + v / 10 % 10);
                *w++ = (char) ('0' + v % 10);
        }
        *w++ = ']';
        out->len = (size_t) (w - out->data);
        return 0;
}

/* Inlined into the field loop: it runs once per field of every entry. */
static inline __attribute__((always_inline)) int append_value(struct buffer *out, const char *value,
                                                              size_t value_len, size_t data_len,
                                                              const struct json_options *o) {
        int r;

        if (!o->show_all && data_len >= JSON_THRESHOLD)
                return buffer_append(out, "null", 4);
        r = append_if_printable(out, value, value_len);
        if (r != 0)
                return r < 0 ? r : 0;
        return append_byte_array(out, value, value_len);
}

int json_append_value(struct buffer *out, const char *value, size_t value_len, size_t data_len,
                      const struct json_options *o) {
        return append_value(out, value, value_len, data_len, o);
}

/* Bytes of field names: A-Z, 0-9 and '_'. */
static const bool name_byte[256] = {
        ['A' ... 'Z'] = true,
        ['0' ... '9'] = true,
        ['_'] = true,
};

/* The length of the name of data ("NAME=value", len bytes) and whether to print the field: 1 to
 * print it, 0 to leave it out (no '=', _BOOT_ID, not in --output-fields), -EBADMSG for a name
 * journalctl rejects. */
/* Inlined: it runs once per field of every entry. */
static inline __attribute__((always_inline)) int
field_name(const char *data, size_t len, const struct json_options *o, size_t *ret_name_len) {
        size_t max = len < 65 ? len : 65, n = 0;

#ifdef __SSE2__
        /* Only within the record: sd-journal's data may end at the end of a mapping. */
        for (; n + 16 <= max; n += 16) {
                unsigned stop = non_name_mask16(load16(data + n));

                if (stop) {
                        n += (size_t) __builtin_ctz(stop);
                        break; /* the loop below stops there at once */
                }
        }
#endif
        while (n < max && name_byte[(unsigned char) data[n]])
                n++;

        /* Anything but a valid name and its '=': decide by the full rules. */
        if (n == 0 || n == max || data[n] != '=' || (data[0] >= '0' && data[0] <= '9')) {
                const char *eq = memchr(data, '=', len < JSON_THRESHOLD ? len : JSON_THRESHOLD);

                if (!eq)
                        return 0;
                n = (size_t) (eq - data);
                if (!journal_field_name_valid(data, n))
                        return -EBADMSG;
        }
        /* The header's boot ID is printed instead, as journalctl does. */
        if (n == 8 && memcmp(data, "_BOOT_ID", 8) == 0)
                return 0;
        *ret_name_len = n;
        return journal_field_wanted(o->output_fields, data, n);
}

static int scratch_grow(struct json_scratch *s) {
        size_t cap = s->cap_fields ? s->cap_fields * 2 : 64;
        struct json_field *f = realloc(s->fields, cap * sizeof(*f));

        if (!f)
                return -ENOMEM;
        s->fields = f;
        s->cap_fields = cap;
        return 0;
}

/* Copies the entry's fields into scratch: the data pointers sd-journal returns are only valid
 * until the next call, and repeated fields must be gathered before printing. */
static int collect_fields(sd_journal *j, struct json_scratch *s, const struct json_options *o) {
        const void *data;
        size_t len;
        int r;

        s->data.len = 0;
        s->n_fields = 0;
        sd_journal_restart_data(j);
        while ((r = sd_journal_enumerate_data(j, &data, &len)) > 0) {
                size_t name_len;

                r = field_name(data, len, o, &name_len);
                if (r < 0)
                        return r;
                if (r == 0)
                        continue;
                if (s->n_fields == s->cap_fields && scratch_grow(s) < 0)
                        return -ENOMEM;
                s->fields[s->n_fields++] = (struct json_field){
                        .name_off = s->data.len,
                        .name_len = name_len,
                        .value_off = s->data.len + name_len + 1,
                        .value_len = len - name_len - 1,
                        .data_len = len,
                };
                if (buffer_append(&s->data, data, len) < 0)
                        return -ENOMEM;
        }
        return r;
}

static bool same_name(const struct json_scratch *s, const struct json_field *a,
                      const struct json_field *b) {
        return a->name_len == b->name_len &&
               memcmp(s->data.data + a->name_off, s->data.data + b->name_off, a->name_len) == 0;
}

/* Prints the fields collected in scratch, each name once, repeated ones as an array. */
static int append_collected_fields(struct buffer *out, struct json_scratch *s,
                                   const struct json_options *o) {
        for (size_t i = 0; i < s->n_fields; i++)
                s->fields[i].emitted = false;

        for (size_t i = 0; i < s->n_fields; i++) {
                struct json_field *f = s->fields + i;
                size_t repeats = 0;

                if (f->emitted)
                        continue;
                for (size_t k = i + 1; k < s->n_fields; k++)
                        if (!s->fields[k].emitted && same_name(s, f, s->fields + k))
                                repeats++;

                if (buffer_append(out, ",\"", 2) < 0 ||
                    buffer_append(out, s->data.data + f->name_off, f->name_len) < 0 ||
                    buffer_append(out, "\":", 2) < 0)
                        return -ENOMEM;
                if (repeats > 0 && buffer_append(out, "[", 1) < 0)
                        return -ENOMEM;
                for (size_t k = i; k < s->n_fields; k++) {
                        struct json_field *g = s->fields + k;

                        if (g->emitted || !same_name(s, f, g))
                                continue;
                        if (k != i && buffer_append(out, ",", 1) < 0)
                                return -ENOMEM;
                        if (json_append_value(out, s->data.data + g->value_off, g->value_len,
                                              g->data_len, o) < 0)
                                return -ENOMEM;
                        g->emitted = true;
                }
                if (repeats > 0 && buffer_append(out, "]", 1) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* A cheap hash of a field name (its length, first and last eight bytes), to notice a repeated
 * name without comparing it with every earlier one. */
static uint32_t name_hash(const char *p, size_t n) {
        uint64_t head = 0, tail = 0;

        memcpy(&head, p, n < 8 ? n : 8);
        if (n > 8)
                memcpy(&tail, p + n - 8, 8);
        return (uint32_t) (((head * UINT64_C(0x9E3779B97F4A7C15)) ^
                            (tail * UINT64_C(0xC2B2AE3D27D4EB4F)) ^ n) >>
                           32);
}

/* Was the name already printed in this entry? The names printed so far are in out, at the
 * offsets kept in s->fields. */
static bool name_printed(const struct json_scratch *s, const struct buffer *out, uint64_t seen,
                         uint32_t hash, const char *name, size_t n) {
        if (!(seen & (UINT64_C(1) << (hash & 63))))
                return false;
        for (size_t i = 0; i < s->n_fields; i++) {
                const struct json_field *f = s->fields + i;

                if (f->name_hash == hash && f->name_len == n &&
                    memcmp(out->data + f->name_off, name, n) == 0)
                        return true;
        }
        return false;
}

/* Prints the fields straight from sd-journal, in the entry's order, without copying them. A
 * repeated name needs its values gathered into one array: that is rare, so on meeting one this
 * returns -EAGAIN, and the caller starts over with collect_fields(). */
static int append_fields_directly(sd_journal *j, struct buffer *out, struct json_scratch *s,
                                  const struct json_options *o) {
        const void *data;
        size_t len;
        uint64_t seen = 0; /* bit (hash & 63) of every name printed */
        int r;

        s->n_fields = 0;
        sd_journal_restart_data(j);
        while ((r = sd_journal_enumerate_data(j, &data, &len)) > 0) {
                size_t name_len;
                uint32_t hash;

                r = field_name(data, len, o, &name_len);
                if (r < 0)
                        return r;
                if (r == 0)
                        continue;
                hash = name_hash(data, name_len);
                if (name_printed(s, out, seen, hash, data, name_len))
                        return -EAGAIN;
                seen |= UINT64_C(1) << (hash & 63);

                if (s->n_fields == s->cap_fields && scratch_grow(s) < 0)
                        return -ENOMEM;
                if (buffer_reserve(out, name_len + 4) < 0)
                        return -ENOMEM;
                /* Only the name's place in out and its hash are kept. */
                s->fields[s->n_fields++] = (struct json_field){
                        .name_off = out->len + 2,
                        .name_len = name_len,
                        .name_hash = hash,
                };
                memcpy(out->data + out->len, ",\"", 2);
                memcpy(out->data + out->len + 2, data, name_len);
                memcpy(out->data + out->len + 2 + name_len, "\":", 2);
                out->len += name_len + 4;
                r = append_value(out, (const char *) data + name_len + 1, len - name_len - 1, len,
                                 o);
                if (r < 0)
                        return r;
        }
        return r;
}

/* ,"NAME":"DECIMAL" */
static int append_u64_member(struct buffer *out, const char *name_part, size_t n, uint64_t v) {
        if (buffer_append(out, name_part, n) < 0 || buffer_append_u64(out, v) < 0 ||
            buffer_append(out, "\"", 1) < 0)
                return -ENOMEM;
        return 0;
}

/* ,"NAME":"HEX ID" */
static int append_id128_member(struct buffer *out, const char *name_part, size_t n, sd_id128_t id) {
        if (buffer_append(out, name_part, n) < 0 ||
            buffer_append_hex(out, id.bytes, sizeof(id.bytes)) < 0 ||
            buffer_append(out, "\"", 1) < 0)
                return -ENOMEM;
        return 0;
}

#define MEMBER(lit) lit, sizeof(lit) - 1

int json_append_entry(sd_journal *j, const char *cursor, struct buffer *out,
                      struct json_scratch *scratch, const struct json_options *o) {
        size_t start = out->len, fields_start;
        uint64_t realtime, monotonic;
        sd_id128_t boot_id;
        int r;

        r = journal_entry_header(j, &realtime, &monotonic, &boot_id);
        if (r < 0)
                return r;

        if (buffer_append(out, "{\"__CURSOR\":", 12) < 0 ||
            json_append_string(out, cursor, strlen(cursor)) < 0 ||
            append_u64_member(out, MEMBER(",\"__REALTIME_TIMESTAMP\":\""), realtime) < 0 ||
            append_u64_member(out, MEMBER(",\"__MONOTONIC_TIMESTAMP\":\""), monotonic) < 0 ||
            append_id128_member(out, MEMBER(",\"_BOOT_ID\":\""), boot_id) < 0)
                goto nomem;
#if LIBSYSTEMD_VERSION >= 254
        {
                uint64_t seqnum;
                sd_id128_t seqnum_id;

                if (sd_journal_get_seqnum(j, &seqnum, &seqnum_id) >= 0 &&
                    (append_u64_member(out, MEMBER(",\"__SEQNUM\":\""), seqnum) < 0 ||
                     append_id128_member(out, MEMBER(",\"__SEQNUM_ID\":\""), seqnum_id) < 0))
                        goto nomem;
        }
#endif
        fields_start = out->len;
        r = append_fields_directly(j, out, scratch, o);
        if (r == -EAGAIN) {
                out->len = fields_start;
                r = collect_fields(j, scratch, o);
                if (r >= 0)
                        r = append_collected_fields(out, scratch, o);
        }
        if (r >= 0)
                r = buffer_append(out, "}\n", 2);
        if (r < 0) {
                out->len = start;
                return r;
        }
        return 0;
nomem:
        out->len = start;
        return -ENOMEM;
}
