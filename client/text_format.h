/* SPDX-License-Identifier: MIT */
/* The pieces journalctl's text modes are made of: timestamps as its short and verbose modes
 * print them, sizes of blobs, values with ANSI sequences stripped. Pure functions, unit-tested. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buffer.h"
#include "json_output.h"
#include "output_format.h"

#define USEC_PER_SEC UINT64_C(1000000)

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
