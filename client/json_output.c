/* SPDX-License-Identifier: MIT */
#include "json_output.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

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

int json_append_string(struct buffer *out, const char *s, size_t n) {
        char *w;

        /* Worst case every byte becomes \u00XX. */
        if (buffer_reserve(out, n * 6 + 2) < 0)
                return -ENOMEM;
        w = out->data + out->len;
        *w++ = '"';
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) s[i];
                char e = escape_table[c];

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

int json_append_value(struct buffer *out, const char *value, size_t value_len, size_t data_len,
                      const struct json_options *o) {
        if (!o->show_all && data_len >= JSON_THRESHOLD)
                return buffer_append(out, "null", 4);
        if (json_utf8_is_printable(value, value_len))
                return json_append_string(out, value, value_len);
        return append_byte_array(out, value, value_len);
}

/* systemd's journal_field_valid() with protected (underscore) names allowed. */
static bool field_name_valid(const char *p, size_t n) {
        if (n == 0 || n > 64 || (p[0] >= '0' && p[0] <= '9'))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '_'))
                        return false;
        return true;
}

static bool field_wanted(const struct json_options *o, const char *name, size_t n) {
        if (!o->output_fields)
                return true;
        for (char **f = o->output_fields; *f; f++)
                if (strlen(*f) == n && memcmp(*f, name, n) == 0)
                        return true;
        return false;
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
                const char *eq = memchr(data, '=', len < JSON_THRESHOLD ? len : JSON_THRESHOLD);
                size_t name_len;

                if (!eq)
                        continue;
                name_len = (size_t) (eq - (const char *) data);
                if (!field_name_valid(data, name_len))
                        return -EBADMSG;
                /* The header's boot ID is printed instead, as journalctl does. */
                if (name_len == 8 && memcmp(data, "_BOOT_ID", 8) == 0)
                        continue;
                if (!field_wanted(o, data, name_len))
                        continue;

                if (s->n_fields == s->cap_fields) {
                        size_t cap = s->cap_fields ? s->cap_fields * 2 : 64;
                        struct json_field *f = realloc(s->fields, cap * sizeof(*f));

                        if (!f)
                                return -ENOMEM;
                        s->fields = f;
                        s->cap_fields = cap;
                }
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

static int append_fields(struct buffer *out, struct json_scratch *s, const struct json_options *o) {
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

int json_append_entry(sd_journal *j, const char *cursor, struct buffer *out,
                      struct json_scratch *scratch, const struct json_options *o) {
        size_t start = out->len;
        uint64_t realtime, monotonic;
        sd_id128_t boot_id;
        char head[256];
        int r, n;

        r = sd_journal_get_realtime_usec(j, &realtime);
        if (r < 0)
                return r;
        r = sd_journal_get_monotonic_usec(j, &monotonic, &boot_id);
        if (r < 0)
                return r;
        r = collect_fields(j, scratch, o);
        if (r < 0)
                return r;

        if (buffer_append(out, "{\"__CURSOR\":", 12) < 0 ||
            json_append_string(out, cursor, strlen(cursor)) < 0)
                goto nomem;
        n = snprintf(head, sizeof(head),
                     ",\"__REALTIME_TIMESTAMP\":\"%" PRIu64
                     "\",\"__MONOTONIC_TIMESTAMP\":\"%" PRIu64
                     "\",\"_BOOT_ID\":\"" SD_ID128_FORMAT_STR "\"",
                     realtime, monotonic, SD_ID128_FORMAT_VAL(boot_id));
        if (buffer_append(out, head, (size_t) n) < 0)
                goto nomem;
#if LIBSYSTEMD_VERSION >= 254
        {
                uint64_t seqnum;
                sd_id128_t seqnum_id;

                if (sd_journal_get_seqnum(j, &seqnum, &seqnum_id) >= 0) {
                        n = snprintf(head, sizeof(head),
                                     ",\"__SEQNUM\":\"%" PRIu64
                                     "\",\"__SEQNUM_ID\":\"" SD_ID128_FORMAT_STR "\"",
                                     seqnum, SD_ID128_FORMAT_VAL(seqnum_id));
                        if (buffer_append(out, head, (size_t) n) < 0)
                                goto nomem;
                }
        }
#endif
        if (append_fields(out, scratch, o) < 0 || buffer_append(out, "}\n", 2) < 0)
                goto nomem;
        return 0;
nomem:
        out->len = start;
        return -ENOMEM;
}
