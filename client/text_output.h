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
#include "text_format.h"

/* short, short-full, short-iso, short-iso-precise, short-precise, short-monotonic,
 * short-delta, short-unix, with-unit: "TIME HOST IDENTIFIER[PID]: MESSAGE". */
int text_output_short(struct output_format *f, sd_journal *j, struct buffer *out);

/* verbose: the timestamp and cursor, then every field on its own line. */
int text_output_verbose(struct output_format *f, sd_journal *j, const char *cursor,
                        struct buffer *out);

/* cat: MESSAGE (or the --output-fields) alone, raw. */
int text_output_cat(struct output_format *f, sd_journal *j, struct buffer *out);
