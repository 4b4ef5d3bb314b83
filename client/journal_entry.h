/* SPDX-License-Identifier: MIT */
/* Reading a journal entry: its header, and which of its "NAME=value" fields are valid and
 * wanted. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <systemd/sd-journal.h>

/* systemd's journal_field_valid() with protected (underscore) names allowed: 1–64 characters of
 * A–Z, 0–9 and '_', not starting with a digit. journalctl stops with "Invalid field." on others. */
static inline bool journal_field_name_valid(const char *p, size_t n) {
        if (n == 0 || n > 64 || (p[0] >= '0' && p[0] <= '9'))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '_'))
                        return false;
        return true;
}

/* Is the field NAME (n bytes) among fields (--output-fields, NULL-terminated; NULL: all are)? */
static inline bool journal_field_wanted(char **fields, const char *name, size_t n) {
        if (!fields)
                return true;
        for (char **f = fields; *f; f++)
                if (strlen(*f) == n && memcmp(*f, name, n) == 0)
                        return true;
        return false;
}

/* The entry header's timestamps and boot ID, which the json and export modes print first. */
static inline int journal_entry_header(sd_journal *j, uint64_t *realtime, uint64_t *monotonic,
                                       sd_id128_t *boot_id) {
        int r = sd_journal_get_realtime_usec(j, realtime);

        if (r < 0)
                return r;
        return sd_journal_get_monotonic_usec(j, monotonic, boot_id);
}
