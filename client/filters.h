/* SPDX-License-Identifier: MIT */
/*
 * journalctl's filters: -p/--priority, -u/--unit, -t/--identifier, -T/--exclude-identifier,
 * --facility, -S/--since, -U/--until. Matches go into sd-journal (so the journal's indexes do the
 * work); what sd-journal cannot express (exclusion, the --until bound) is checked per entry.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-journal.h>

struct filters {
        int priority_min, priority_max; /* -1 when not set */
        char **units;                   /* -u, NULL-terminated */
        char **identifiers;             /* -t */
        char **exclude_identifiers;     /* -T */
        int facilities[24];             /* --facility, n_facilities of them */
        int n_facilities;
        uint64_t since, until; /* realtime usec; 0 / UINT64_MAX when not set */
};

#define FILTERS_INIT ((struct filters){.priority_min = -1, .priority_max = -1, .until = UINT64_MAX})

void filters_free(struct filters *f);

/* "emerg".."debug" or 0..7. Returns the level or -EINVAL. */
int priority_from_string(const char *s);

/* -p: "LEVEL" (0..LEVEL) or "FROM..TO". */
int filters_parse_priority(struct filters *f, const char *s);
/* --facility: comma-separated names (kern, user, ..., local7) or numbers. */
int filters_parse_facility(struct filters *f, const char *s);
/* -S/-U: "YYYY-MM-DD [HH:MM[:SS]]", "HH:MM[:SS]" (today), "now", "today", "yesterday",
 * "tomorrow", "@EPOCH", "+N"/"-N" with unit s, min, h, d, w (relative to now). */
int filters_parse_time(const char *s, uint64_t *ret);
int filters_add_unit(struct filters *f, const char *unit);
int filters_add_identifier(struct filters *f, const char *id, bool exclude);

/* Adds the matches to j (ANDed with what is there). */
int filters_apply(const struct filters *f, sd_journal *j);

/* Positions j at --since if set. Returns 1 if it did, 0 if there is no --since. */
int filters_seek_since(const struct filters *f, sd_journal *j);

/* For the current entry: false when it must be left out (-T). */
bool filters_entry_wanted(const struct filters *f, sd_journal *j);

/* True when the current entry lies after --until (stop reading). */
bool filters_past_until(const struct filters *f, sd_journal *j);
