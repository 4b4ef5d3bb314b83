/* SPDX-License-Identifier: MIT */
#include "text_output.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "journal_entry.h"
#include "json_output.h"
#include "text_format.h"

/* journalctl prints hostname, identifier and PID only when shorter than this and printable. */
#define PRINT_CHAR_THRESHOLD 300
/* journalctl's buffer for the verbose header timestamp: FORMAT_TIMESTAMP_MAX + 7. */
#define VERBOSE_TIMESTAMP_SIZE (38 + 7)

static bool valid_realtime(uint64_t u) {
        return u > 0 && u < (UINT64_C(1) << 55);
}

static bool valid_monotonic(uint64_t u) {
        return u < (UINT64_C(1) << 55);
}

/* ---- appending ---------------------------------------------------------------------------- */

/* Appends at most n bytes of s, stopping at a NUL byte (journalctl prints with "%.*s"). */
static int append_cstr(struct buffer *out, const char *s, size_t n) {
        return buffer_append(out, s, strnlen(s, n));
}

/* systemd's print_multiline() with full width: every line, continuation lines indented by
 * prefix, a trailing newline dropped, an empty value still ends its line. */
static int append_multiline(struct buffer *out, size_t prefix, const char *s, size_t n) {
        size_t pos = 0;

        if (n == 0)
                return buffer_append(out, "\n", 1);
        for (bool first = true; pos < n; first = false) {
                const char *nl = memchr(s + pos, '\n', n - pos);
                size_t end = nl ? (size_t) (nl - s) : n;
                size_t len = strnlen(s + pos, end - pos);

                if (buffer_reserve(out, prefix + len + 1) < 0)
                        return -ENOMEM;
                if (!first) {
                        memset(out->data + out->len, ' ', prefix);
                        out->len += prefix;
                }
                memcpy(out->data + out->len, s + pos, len);
                out->len += len;
                out->data[out->len++] = '\n';
                pos = end + 1;
        }
        return 0;
}

static int append_blob(struct buffer *out, uint64_t size) {
        char b[TEXT_BYTES_MAX], line[TEXT_BYTES_MAX + 16];
        int n = snprintf(line, sizeof(line), "[%s blob data]\n", text_format_bytes(size, b));

        return buffer_append(out, line, (size_t) n);
}

/* ---- collecting fields -------------------------------------------------------------------- */

struct span {
        size_t off, len;
        bool set;
};

struct prefix {
        const char *s;
        size_t n;
};
#define PREFIX(lit)                                                                                \
        { lit, sizeof(lit) - 1 }

enum {
        F_SOURCE_REALTIME,
        F_SOURCE_MONOTONIC,
        F_PID,
        F_COMM,
        F_MESSAGE,
        F_HOSTNAME,
        F_SYSLOG_PID,
        F_IDENTIFIER,
        F_UNIT,
        F_USER_UNIT,
        _F_MAX,
};

static const struct prefix prefixes[_F_MAX] = {
        [F_SOURCE_REALTIME] = PREFIX("_SOURCE_REALTIME_TIMESTAMP="),
        [F_SOURCE_MONOTONIC] = PREFIX("_SOURCE_MONOTONIC_TIMESTAMP="),
        [F_PID] = PREFIX("_PID="),
        [F_COMM] = PREFIX("_COMM="),
        [F_MESSAGE] = PREFIX("MESSAGE="),
        [F_HOSTNAME] = PREFIX("_HOSTNAME="),
        [F_SYSLOG_PID] = PREFIX("SYSLOG_PID="),
        [F_IDENTIFIER] = PREFIX("SYSLOG_IDENTIFIER="),
        [F_UNIT] = PREFIX("_SYSTEMD_UNIT="),
        [F_USER_UNIT] = PREFIX("_SYSTEMD_USER_UNIT="),
};

/* Copies the value of data, and a NUL after it (journalctl parses the timestamps as C strings),
 * into scratch if it is one of the first n_prefixes fields. A later occurrence of a field
 * replaces an earlier one, as in journalctl; the source timestamps, which journalctl < 256 (and
 * its verbose mode always) reads in a pass that ends once it has both, stop changing then. */
static int keep_field(struct buffer *scratch, struct span *spans, size_t n_prefixes,
                      const char *data, size_t len) {
        for (size_t i = 0; i < n_prefixes; i++) {
                const struct prefix *p = prefixes + i;
                struct span *s = spans + i;

                if (len < p->n || memcmp(data, p->s, p->n) != 0)
                        continue;
                if (i <= F_SOURCE_MONOTONIC && spans[F_SOURCE_REALTIME].set &&
                    spans[F_SOURCE_MONOTONIC].set && (LIBSYSTEMD_VERSION < 256 || n_prefixes <= 2))
                        return 0;
                *s = (struct span){.off = scratch->len, .len = len - p->n, .set = true};
                if (buffer_append(scratch, data + p->n, len - p->n) < 0)
                        return -ENOMEM;
                return buffer_append(scratch, "", 1);
        }
        return 0;
}

static bool span_usec(const struct buffer *scratch, const struct span *s, uint64_t *ret) {
        return s->set && text_parse_usec(scratch->data + s->off, ret) >= 0;
}

#if LIBSYSTEMD_VERSION >= 256
/* from - from_base + to_base without overflow (systemd's map_clock_usec_raw()). */
static uint64_t map_clock(uint64_t from, uint64_t from_base, uint64_t to_base) {
        if (from >= from_base) {
                uint64_t delta = from - from_base;

                return to_base >= UINT64_MAX - delta ? UINT64_MAX : to_base + delta;
        }
        return to_base <= from_base - from ? 0 : to_base - (from_base - from);
}
#endif

/* The timestamps journalctl shows: the source's when valid, else the header's (since 256 the
 * header's shifted by what the other source timestamp says). UINT64_MAX when unknown. */
static void display_timestamps(sd_journal *j, const struct buffer *scratch,
                               const struct span *spans, struct output_timestamps *ret) {
        struct output_timestamps src = {UINT64_MAX, UINT64_MAX}, hdr = {UINT64_MAX, UINT64_MAX};
        sd_id128_t boot_id;
        uint64_t t;

        if (span_usec(scratch, spans + F_SOURCE_REALTIME, &t) && valid_realtime(t))
                src.realtime = t;
        if (span_usec(scratch, spans + F_SOURCE_MONOTONIC, &t) && valid_monotonic(t))
                src.monotonic = t;
        if (sd_journal_get_realtime_usec(j, &t) >= 0)
                hdr.realtime = t;
        /* Without a boot ID to fill in, sd-journal refuses entries of other boots. */
        if (sd_journal_get_monotonic_usec(j, &t, &boot_id) >= 0)
                hdr.monotonic = t;
#if LIBSYSTEMD_VERSION >= 256
        if (hdr.realtime != UINT64_MAX && hdr.monotonic != UINT64_MAX) {
                if (src.realtime == UINT64_MAX && src.monotonic != UINT64_MAX)
                        src.realtime = map_clock(hdr.realtime, hdr.monotonic, src.monotonic);
                else if (src.realtime != UINT64_MAX && src.monotonic == UINT64_MAX)
                        src.monotonic = map_clock(hdr.monotonic, hdr.realtime, src.realtime);
        }
#endif
        ret->realtime = src.realtime != UINT64_MAX ? src.realtime : hdr.realtime;
        ret->monotonic = src.monotonic != UINT64_MAX ? src.monotonic : hdr.monotonic;
}

/* ---- short -------------------------------------------------------------------------------- */

static bool shall_print(const struct output_format *f, const char *p, size_t n) {
        return f->show_all || (n < PRINT_CHAR_THRESHOLD && text_is_printable(p, n));
}

/* "[    5.123456]" and for short-delta " <    0.000100 >" before the "]". */
static int format_monotonic(struct output_format *f, const struct output_timestamps *ts,
                            sd_id128_t boot_id, char *buf) {
        const struct output_timestamps *prev = &f->previous_ts;
        int n;

        if (!valid_monotonic(ts->monotonic))
                return -EBADMSG;
        n = snprintf(buf, TEXT_TIMESTAMP_MAX, "[%5" PRIu64 ".%06" PRIu64,
                     ts->monotonic / USEC_PER_SEC, ts->monotonic % USEC_PER_SEC);
        if (f->mode == OUTPUT_SHORT_DELTA) {
                uint64_t delta;
                bool reliable = true;

                if (valid_monotonic(prev->monotonic) &&
                    sd_id128_equal(boot_id, f->previous_boot_id))
                        delta = ts->monotonic > prev->monotonic ? ts->monotonic - prev->monotonic
                                                                : 0;
                else if (valid_realtime(ts->realtime) && valid_realtime(prev->realtime)) {
                        delta = ts->realtime > prev->realtime ? ts->realtime - prev->realtime : 0;
                        reliable = false;
                } else
                        delta = UINT64_MAX;
                if (delta == UINT64_MAX)
                        n += snprintf(buf + n, (size_t) (TEXT_TIMESTAMP_MAX - n), "%16s", "");
                else
                        n += snprintf(buf + n, (size_t) (TEXT_TIMESTAMP_MAX - n),
                                      " <%5" PRIu64 ".%06" PRIu64 "%s>", delta / USEC_PER_SEC,
                                      delta % USEC_PER_SEC, reliable ? " " : "*");
        }
        buf[n++] = ']';
        buf[n] = '\0';
        return n;
}

/* Appends sep, the value (up to a NUL byte, as journalctl's "%.*s") and close. */
static int append_part(struct buffer *out, const char *sep, const char *s, size_t n,
                       const char *close) {
        if (buffer_append_str(out, sep) < 0 || append_cstr(out, s, n) < 0 ||
            buffer_append_str(out, close) < 0)
                return -ENOMEM;
        return 0;
}

/* " HOST", " IDENTIFIER" (or the unit) and "[PID]". Returns the columns journalctl counts for
 * the indentation of continuation lines (it does not count " unknown"), or -ENOMEM. */
static long append_origin(const struct output_format *f, const struct buffer *sc,
                          const struct span *sp, struct buffer *out) {
#define V(i)  sc->data + sp[i].off, sp[i].len
#define OK(i) (sp[i].set && shall_print(f, V(i)))
        long n = 0;

        if (!f->no_hostname && OK(F_HOSTNAME)) {
                if (append_part(out, " ", V(F_HOSTNAME), "") < 0)
                        return -ENOMEM;
                n += (long) sp[F_HOSTNAME].len + 1;
        }
        if (f->mode == OUTPUT_WITH_UNIT && (OK(F_UNIT) || OK(F_USER_UNIT))) {
                /* Both are printed once either is printable. */
                if (sp[F_UNIT].set) {
                        if (append_part(out, " ", V(F_UNIT), "") < 0)
                                return -ENOMEM;
                        n += (long) sp[F_UNIT].len + 1;
                }
                if (sp[F_USER_UNIT].set) {
                        if (append_part(out, sp[F_UNIT].set ? "/" : " ", V(F_USER_UNIT), "") < 0)
                                return -ENOMEM;
                        /* journalctl adds the unit's length here, not the user unit's. */
                        n += (long) (sp[F_UNIT].set ? sp[F_UNIT].len : 0) + 1;
                }
        } else if (OK(F_IDENTIFIER) || OK(F_COMM)) {
                int i = OK(F_IDENTIFIER) ? F_IDENTIFIER : F_COMM;

                if (append_part(out, " ", V(i), "") < 0)
                        return -ENOMEM;
                n += (long) sp[i].len + 1;
        } else if (buffer_append_str(out, " unknown") < 0)
                return -ENOMEM;

        if (OK(F_PID) || OK(F_SYSLOG_PID)) {
                int i = OK(F_PID) ? F_PID : F_SYSLOG_PID;

                if (append_part(out, "[", V(i), "]") < 0)
                        return -ENOMEM;
                n += (long) sp[i].len + 2;
        }
        return n;
#undef OK
#undef V
}

static int append_short(struct output_format *f, const struct span *sp,
                        const struct output_timestamps *ts, sd_id128_t boot_id,
                        struct buffer *out) {
        const struct buffer *sc = &f->scratch;
        const char *msg = sc->data + sp[F_MESSAGE].off;
        size_t msg_len = sp[F_MESSAGE].len;
        char tbuf[TEXT_TIMESTAMP_MAX];
        long origin;
        int n;

        if (!f->show_all) {
                f->scratch2.len = 0;
                if (text_strip_ansi(msg, msg_len, &f->scratch2) < 0)
                        return -ENOMEM;
                msg = f->scratch2.data ? f->scratch2.data : "";
                msg_len = f->scratch2.len;
        }

        if (f->mode == OUTPUT_SHORT_MONOTONIC || f->mode == OUTPUT_SHORT_DELTA)
                n = format_monotonic(f, ts, boot_id, tbuf);
        else if (!valid_realtime(ts->realtime))
                n = -EBADMSG;
        else
                n = text_format_realtime(f->mode, ts->realtime, f->utc, tbuf);
        if (n < 0)
                return -EBADMSG; /* journalctl gives up on the whole journal here */
        if (buffer_append(out, tbuf, (size_t) n) < 0)
                return -ENOMEM;

        origin = append_origin(f, sc, sp, out);
        if (origin < 0 || buffer_append(out, ": ", 2) < 0)
                return -ENOMEM;

        if (!f->show_all && !text_is_printable(msg, msg_len))
                return append_blob(out, msg_len);
        return append_multiline(out, (size_t) n + (size_t) origin + 2, msg, msg_len);
}

int text_output_short(struct output_format *f, sd_journal *j, struct buffer *out) {
        struct span sp[_F_MAX] = {};
        struct output_timestamps ts;
        sd_id128_t boot_id = {};
        const void *data;
        size_t len;
        int r;

        f->scratch.len = 0;
        sd_journal_restart_data(j);
        while ((r = sd_journal_enumerate_data(j, &data, &len)) > 0)
                if (keep_field(&f->scratch, sp, _F_MAX, data, len) < 0)
                        return -ENOMEM;
        if (r < 0)
                return r;

        display_timestamps(j, &f->scratch, sp, &ts);
        (void) sd_journal_get_monotonic_usec(j, NULL, &boot_id);

        r = 0;
        if (sp[F_MESSAGE].set)
                r = append_short(f, sp, &ts, boot_id, out);

        /* journalctl < 256 remembers every entry's timestamps for short-delta, >= 256 only
         * those of entries it printed in a monotonic mode. */
        if (LIBSYSTEMD_VERSION < 256 ||
            (r >= 0 && sp[F_MESSAGE].set &&
             (f->mode == OUTPUT_SHORT_MONOTONIC || f->mode == OUTPUT_SHORT_DELTA))) {
                f->previous_ts = ts;
                f->previous_boot_id = boot_id;
        }
        return r;
}

/* ---- verbose ------------------------------------------------------------------------------ */

static int append_verbose_field(const struct output_format *f, const char *data, size_t len,
                                size_t name_len, struct buffer *out) {
        const char *value = data + name_len + 1;
        size_t value_len = len - name_len - 1;

        if (buffer_append(out, "    ", 4) < 0 || buffer_append(out, data, name_len + 1) < 0)
                return -ENOMEM;
        if (!f->show_all && !text_is_printable(data, len))
                return append_blob(out, value_len);
        /* journalctl copies CONFIG_FILE (to make it a link on terminals) as a C string. */
        if (name_len == 11 && memcmp(data, "CONFIG_FILE", 11) == 0 && value_len > 0 &&
            value[0] != '\0')
                value_len = strnlen(value, value_len);
        return append_multiline(out, 4 + name_len + 1, value, value_len);
}

static int insert_verbose_header(const struct output_format *f, uint64_t realtime,
                                 const char *cursor, size_t at, struct buffer *out) {
        char ts[VERBOSE_TIMESTAMP_SIZE];
        size_t cursor_len = strlen(cursor), n;
        int tn;

        tn = text_format_timestamp(ts, sizeof(ts), realtime, f->utc, true);
        if (tn < 0)
                tn = snprintf(ts, sizeof(ts), "(no timestamp)");
        n = (size_t) tn + 2 + cursor_len + 2;
        if (buffer_reserve(out, n) < 0)
                return -ENOMEM;
        memmove(out->data + at + n, out->data + at, out->len - at);
        memcpy(out->data + at, ts, (size_t) tn);
        memcpy(out->data + at + tn, " [", 2);
        memcpy(out->data + at + tn + 2, cursor, cursor_len);
        memcpy(out->data + at + n - 2, "]\n", 2);
        out->len += n;
        return 0;
}

int text_output_verbose(struct output_format *f, sd_journal *j, const char *cursor,
                        struct buffer *out) {
        struct span sp[2] = {};
        struct output_timestamps ts;
        size_t start = out->len;
        const void *data;
        size_t len;
        int r;

        /* The header needs the source timestamp, which may come last: the fields go first and
         * the header is put in front of them. */
        f->scratch.len = 0;
        sd_journal_restart_data(j);
        while ((r = sd_journal_enumerate_data(j, &data, &len)) > 0) {
                const char *eq = memchr(data, '=', len);
                size_t name_len;

                if (keep_field(&f->scratch, sp, 2, data, len) < 0)
                        goto nomem;
                /* journalctl stops with "Invalid field." on these. */
                if (!eq || !journal_field_name_valid(data, (size_t) (eq - (const char *) data))) {
                        r = -EBADMSG;
                        break;
                }
                name_len = (size_t) (eq - (const char *) data);
                if (!journal_field_wanted(f->output_fields, data, name_len))
                        continue;
                if (append_verbose_field(f, data, len, name_len, out) < 0)
                        goto nomem;
        }
        if (r < 0) {
                out->len = start;
                return r;
        }

        display_timestamps(j, &f->scratch, sp, &ts);
        if (!valid_realtime(ts.realtime)) {
                out->len = start;
                return -EBADMSG;
        }
        if (insert_verbose_header(f, ts.realtime, cursor, start, out) < 0)
                goto nomem;
        return 0;
nomem:
        out->len = start;
        return -ENOMEM;
}

/* ---- cat ---------------------------------------------------------------------------------- */

/* The first value of each wanted field, in the order of --output-fields (journalctl's order
 * is that of a hash table: random per run). */
static int cat_fields(struct output_format *f, sd_journal *j, struct buffer *out) {
        size_t n = 0;
        struct span *sp;
        const void *data;
        size_t len;
        int r;

        while (f->output_fields[n])
                n++;
        f->scratch.len = 0;
        f->scratch2.len = 0;
        if (buffer_reserve(&f->scratch2, n * sizeof(struct span)) < 0)
                return -ENOMEM;
        sp = (struct span *) (void *) f->scratch2.data;
        memset(sp, 0, n * sizeof(struct span));

        sd_journal_restart_data(j);
        while ((r = sd_journal_enumerate_data(j, &data, &len)) > 0) {
                const char *eq = memchr(data, '=', len);
                size_t name_len = eq ? (size_t) (eq - (const char *) data) : 0;

                for (size_t i = 0; eq && i < n; i++) {
                        if (sp[i].set || strlen(f->output_fields[i]) != name_len ||
                            memcmp(f->output_fields[i], data, name_len) != 0)
                                continue;
                        sp[i] = (struct span){f->scratch.len, len - name_len - 1, true};
                        if (buffer_append(&f->scratch, eq + 1, sp[i].len) < 0)
                                return -ENOMEM;
                }
        }
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                bool dup = false;

                for (size_t k = 0; k < i && !dup; k++)
                        dup = strcmp(f->output_fields[k], f->output_fields[i]) == 0;
                if (!sp[i].set || dup)
                        continue;
                if (buffer_append(out, f->scratch.data + sp[i].off, sp[i].len) < 0 ||
                    buffer_append(out, "\n", 1) < 0)
                        return -ENOMEM;
        }
        return 0;
}

int text_output_cat(struct output_format *f, sd_journal *j, struct buffer *out) {
        size_t start = out->len;
        const void *data;
        size_t len;
        int r;

        if (f->output_fields) {
                r = cat_fields(f, j, out);
                if (r < 0)
                        out->len = start;
                return r;
        }
        sd_journal_restart_data(j);
        while ((r = sd_journal_enumerate_data(j, &data, &len)) > 0)
                if (len >= 8 && memcmp(data, "MESSAGE=", 8) == 0) {
                        if (buffer_append(out, (const char *) data + 8, len - 8) < 0 ||
                            buffer_append(out, "\n", 1) < 0) {
                                out->len = start;
                                return -ENOMEM;
                        }
                        return 0;
                }
        return r;
}
