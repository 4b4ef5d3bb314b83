/* SPDX-License-Identifier: MIT */
/*
 * The text modes of journalctl (systemd's logs-show.c output_short(), output_verbose(),
 * output_cat()), as journalctl prints them when stdout is not a terminal: full lines (no
 * ellipsizing), no colours, no hyperlinks. Each reads the entry's fields in one pass.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-journal.h>

#include "buffer.h"
#include "output_format.h"

/* short, short-full, short-iso, short-iso-precise, short-precise, short-monotonic,
 * short-delta, short-unix, with-unit: "TIME HOST IDENTIFIER[PID]: MESSAGE". */
int text_output_short(struct output_format *f, sd_journal *j, struct buffer *out);

/* verbose: the timestamp and cursor, then every field on its own line. */
int text_output_verbose(struct output_format *f, sd_journal *j, const char *cursor,
                        struct buffer *out);

/* cat: MESSAGE (or the --output-fields) alone, raw. */
int text_output_cat(struct output_format *f, sd_journal *j, struct buffer *out);

/* ---- pure helpers (unit-tested) ------------------------------------------------------------ */

/* journalctl's (systemd's utf8_is_printable) test, as in json_output.c. */
#define text_is_printable json_utf8_is_printable

/* Size as journalctl's "[N blob data]" shows it: "512B", "4.0K", "68.3K", "1.5M". buf must hold
 * TEXT_BYTES_MAX bytes. Returns buf. */
#define TEXT_BYTES_MAX 24
const char *text_format_bytes(uint64_t bytes, char *buf);

/* Appends s with TABs expanded to 8 spaces, ANSI colour (ESC [ … m) and OSC (ESC ] … BEL)
 * sequences removed and carriage returns dropped before a newline or the end (systemd's
 * strip_tab_ansi()). */
int text_strip_ansi(const char *s, size_t n, struct buffer *out);

/* Parses a _SOURCE_*_TIMESTAMP value as journalctl does (systemd's safe_atou64(): leading
 * whitespace, decimal, 0x hex, 0 octal, 0b binary, 0o octal), as a C string: a NUL byte in the
 * value ends it. Returns 0 or -EINVAL/-ERANGE. */
int text_parse_usec(const char *s, uint64_t *ret);

/* "Fri 2023-11-17 10:20:30[.123456] CET" (utc: "UTC"), into a buffer of size l: like
 * journalctl's format_timestamp_style(), a zone name too long for l is left out. Returns the
 * length, or -EINVAL when it cannot be formatted. */
int text_format_timestamp(char *buf, size_t l, uint64_t usec, bool utc, bool us);

/* The realtime column of a short mode (not short-monotonic/short-delta) into buf (64 bytes).
 * Returns the length or -EINVAL. */
#define TEXT_TIMESTAMP_MAX 64
int text_format_realtime(enum output_mode mode, uint64_t usec, bool utc, char *buf);
