/* SPDX-License-Identifier: MIT */
/*
 * journalctl's output modes (-o MODE), one entry at a time into the forwarder's output buffer.
 * The reference is journalctl of systemd 252 with stdout not a terminal (no colours, no
 * hyperlinks, no ellipsizing: journalctl's default --full); where a newer libsystemd's
 * journalctl prints differently (__SEQNUM in export since 254, "+02:00" zones in short-iso since
 * 255, source timestamps mapped between clocks since 256) the build follows LIBSYSTEMD_VERSION.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-id128.h>
#include <systemd/sd-journal.h>

#include "buffer.h"
#include "json_output.h"

enum output_mode {
        OUTPUT_SHORT,
        OUTPUT_SHORT_FULL,
        OUTPUT_SHORT_ISO,
        OUTPUT_SHORT_ISO_PRECISE,
        OUTPUT_SHORT_PRECISE,
        OUTPUT_SHORT_MONOTONIC,
        OUTPUT_SHORT_DELTA,
        OUTPUT_SHORT_UNIX,
        OUTPUT_VERBOSE,
        OUTPUT_EXPORT,
        OUTPUT_JSON,
        OUTPUT_JSON_PRETTY,
        OUTPUT_JSON_SSE,
        OUTPUT_JSON_SEQ,
        OUTPUT_CAT,
        OUTPUT_WITH_UNIT,
        _OUTPUT_MODE_MAX,
};

/* journalctl's name of a mode, and back (-EINVAL for an unknown name). */
const char *output_mode_to_string(enum output_mode m);
int output_mode_from_string(const char *s);

/* Entry timestamps as journalctl shows them in the text modes: from _SOURCE_REALTIME_TIMESTAMP /
 * _SOURCE_MONOTONIC_TIMESTAMP when those parse and are plausible, else from the entry header. */
struct output_timestamps {
        uint64_t realtime, monotonic;
};

struct output_format {
        enum output_mode mode;
        bool show_all;        /* -a */
        bool utc;             /* --utc */
        bool no_hostname;     /* --no-hostname */
        bool quiet;           /* -q: no "-- Boot ID --" separators */
        char **output_fields; /* --output-fields, NULL-terminated; NULL for all */

        /* state between entries */
        struct json_options json;
        struct json_scratch json_scratch;
        struct buffer scratch; /* copies of the fields a text mode needs */
        struct buffer scratch2;
        struct output_timestamps previous_ts; /* short-delta */
        sd_id128_t previous_boot_id;          /* short-delta */
        sd_id128_t separator_boot_id;         /* boot of the last entry, for "-- Boot ID --" */
        bool have_separator_boot_id;
};

/* Sets the options (the caller fills the option fields first) and the locale's time names
 * (journalctl's month abbreviations follow LC_TIME). */
void output_format_init(struct output_format *f);

void output_format_done(struct output_format *f);

/* Appends the current entry of j in f's mode (nothing for entries the mode does not show, e.g.
 * short without MESSAGE). cursor is the entry's cursor. On failure out is left as it was and
 * -errno is returned; -EBADMSG and -EADDRNOTAVAIL mean an unreadable entry that journalctl
 * skips too. */
int output_format_entry(struct output_format *f, sd_journal *j, const char *cursor,
                        struct buffer *out);

/* Re-indents one compact JSON value (as json_append_entry() writes it) the way journalctl's
 * json-pretty lays it out: one member or element per line, tabs, " : " between name and value.
 * Stops after the first value; returns 0, -ENOMEM or -EINVAL for malformed input. */
int output_json_prettify(const char *json, size_t n, struct buffer *out);
