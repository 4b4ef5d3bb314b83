/* SPDX-License-Identifier: MIT */
/*
 * journalctl -o export (systemd's docs/JOURNAL_EXPORT_FORMATS.md): __CURSOR, the header's
 * timestamps and boot ID, then every field, "NAME=value\n" when the value is printable UTF-8
 * without newlines, else "NAME\n" + 64-bit little-endian length + the raw value + "\n"; an empty
 * line ends the entry.
 */
#pragma once

#include <systemd/sd-journal.h>

#include "buffer.h"
#include "output_format.h"

int export_output_entry(struct output_format *f, sd_journal *j, const char *cursor,
                        struct buffer *out);
