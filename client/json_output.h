/* SPDX-License-Identifier: MIT */
/*
 * One journal entry as one line of `journalctl -o json` (systemd's logs-show.c output_json()):
 * __CURSOR, __REALTIME_TIMESTAMP, __MONOTONIC_TIMESTAMP, _BOOT_ID (from the entry header), and
 * __SEQNUM/__SEQNUM_ID where journalctl of the same systemd adds them (>= 254); then every field:
 * a string when the value is printable UTF-8, an array of byte values otherwise, null when
 * name + '=' + value reaches 4096 bytes (unless --all), an array when the field repeats.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-journal.h>

#include "buffer.h"

/* Values whose "NAME=value" is at least this long print as null without --all (journalctl's
 * JSON_THRESHOLD). Also the data threshold to set on the journal. */
#define JSON_THRESHOLD 4096

struct json_options {
        bool show_all;        /* -a/--all */
        char **output_fields; /* --output-fields, NULL-terminated, NULL for all */
};

/* Reusable scratch space for an entry's fields; no allocation once it has grown. Printing
 * straight from sd-journal, fields[] holds where each name went in the output and its hash (to
 * notice a repeated name); an entry with a repeated name is copied into data and fields[] points
 * into that copy. */
struct json_scratch {
        struct buffer data;
        struct json_field {
                size_t name_off, name_len, value_off, value_len, data_len;
                uint32_t name_hash;
                bool emitted;
        } * fields;
        size_t n_fields, cap_fields;
};

void json_scratch_free(struct json_scratch *s);

/* systemd's utf8_is_printable(): valid UTF-8 (no overlong forms, surrogates or non-characters)
 * with no control characters other than \t and \n. */
bool json_utf8_is_printable(const char *s, size_t n);

/* Appends value as journalctl encodes it (string, byte array or null). data_len is the length of
 * the whole "NAME=value" record, which decides null. */
int json_append_value(struct buffer *out, const char *value, size_t value_len, size_t data_len,
                      const struct json_options *o);

/* Appends a JSON string literal with journalctl's escaping. */
int json_append_string(struct buffer *out, const char *s, size_t n);

/* Appends the current entry of j as one JSON object and '\n'. The caller passes the entry's
 * cursor (it needs it anyway, for saving). Returns 0, or -errno (entries that cannot be read,
 * -EBADMSG and -EADDRNOTAVAIL, are for the caller to skip as journalctl does). */
int json_append_entry(sd_journal *j, const char *cursor, struct buffer *out,
                      struct json_scratch *scratch, const struct json_options *o);
