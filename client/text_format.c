/* SPDX-License-Identifier: MIT */
#include "text_format.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Years > 9999 are not formatted (systemd's USEC_TIMESTAMP_FORMATTABLE_MAX). */
#define USEC_FORMATTABLE_MAX UINT64_C(253402214399000000)

const char *text_format_bytes(uint64_t t, char *buf) {
        static const char suffix[] = "EPTGMK";

        for (int i = 0; i < 6; i++) {
                uint64_t factor = UINT64_C(1) << (10 * (6 - i));
                uint64_t tenths;

                if (t < factor)
                        continue;
                /* One digit after the point, truncated, as systemd's format_bytes() does it. */
                if (i < 5)
                        tenths = (t / (factor >> 10) * 10 / 1024) % 10;
                else
                        tenths = (t * 10 / 1024) % 10;
                snprintf(buf, TEXT_BYTES_MAX, "%" PRIu64 ".%" PRIu64 "%c", t / factor, tenths,
                         suffix[i]);
                return buf;
        }
        snprintf(buf, TEXT_BYTES_MAX, "%" PRIu64 "B", t);
        return buf;
}

int text_strip_ansi(const char *s, size_t n, struct buffer *out) {
        enum { OTHER, ESCAPE, CSI, OSC } state = OTHER;
        size_t tabs = 0, begin = 0, crs = 0;
        char *w;

        for (const char *p = s; (p = memchr(p, '\t', n - (size_t) (p - s))); p++)
                tabs++;
        /* Every byte yields at most one byte, except a TAB (8). */
        if (buffer_reserve(out, n + 7 * tabs) < 0)
                return -ENOMEM;
        w = out->data + out->len;

        /* i == n is one more step, to settle a sequence cut off by the end. */
        for (size_t i = 0; i <= n; i++) {
                unsigned char c = i < n ? (unsigned char) s[i] : 0;

                switch (state) {
                case OTHER:
                        if (i == n)
                                break;
                        if (c == '\r') {
                                /* Dropped if a newline or the end follows. */
                                crs++;
                                break;
                        }
                        if (c == '\n')
                                crs = 0;
                        for (; crs > 0; crs--)
                                *w++ = '\r';
                        if (c == 0x1B)
                                state = ESCAPE;
                        else if (c == '\t') {
                                memset(w, ' ', 8);
                                w += 8;
                        } else
                                *w++ = (char) c;
                        break;
                case ESCAPE:
                        if (i == n) {
                                *w++ = 0x1B;
                        } else if (c == '[' || c == ']') {
                                state = c == '[' ? CSI : OSC;
                                begin = i + 1;
                        } else {
                                *w++ = 0x1B;
                                *w++ = (char) c;
                                state = OTHER;
                        }
                        break;
                case CSI:
                        /* Colour sequences only: digits, ';' and the final 'm'. A NUL byte counts
                         * as valid, as in systemd (strchr() finds the terminator). */
                        if (i == n ||
                            !(c == '\0' || c == ';' || c == 'm' || (c >= '0' && c <= '9'))) {
                                *w++ = 0x1B;
                                *w++ = '[';
                                state = OTHER;
                                i = begin - 1; /* not a colour sequence: print it as it is */
                        } else if (c == 'm')
                                state = OTHER;
                        break;
                case OSC:
                        if (i == n || (c != '\a' && c < 32) || c > 126) {
                                *w++ = 0x1B;
                                *w++ = ']';
                                state = OTHER;
                                i = begin - 1;
                        } else if (c == '\a')
                                state = OTHER;
                        break;
                }
        }
        out->len = (size_t) (w - out->data);
        return 0;
}

int text_parse_usec(const char *s, uint64_t *ret) {
        unsigned long long v;
        const char *p;
        char *end;
        int base = 0;

        p = s + strspn(s, " \t\n\r");
        if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B'))
                base = 2, p += 2;
        else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O'))
                base = 8, p += 2;
        errno = 0;
        v = strtoull(p, &end, base);
        if (errno > 0)
                return -errno;
        if (end == p || *end != '\0')
                return -EINVAL;
        if (v != 0 && p[0] == '-')
                return -ERANGE;
        *ret = v;
        return 0;
}

int text_format_timestamp(char *buf, size_t l, uint64_t usec, bool utc, bool us) {
        static const char weekdays[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
        time_t sec;
        struct tm tm;
        size_t n;

        /* Room for the shortest form, as systemd demands. */
        if (l < 3 + 1 + 10 + 1 + 8 + (us ? 7 : 0) + 2 + 1)
                return -EINVAL;
        if (usec == 0 || usec == UINT64_MAX)
                return -EINVAL;
        if (usec > USEC_FORMATTABLE_MAX) {
                strcpy(buf, "--- XXXX-XX-XX XX:XX:XX");
                return (int) strlen(buf);
        }
        sec = (time_t) (usec / USEC_PER_SEC);
        if (!(utc ? gmtime_r(&sec, &tm) : localtime_r(&sec, &tm)))
                return -EINVAL;
        /* English weekdays whatever the locale, as systemd does. */
        memcpy(buf, weekdays[tm.tm_wday], 4);
        if (strftime(buf + 3, l - 3, " %Y-%m-%d %H:%M:%S", &tm) == 0)
                return -EINVAL;
        n = strlen(buf);
        if (us) {
                if (n + 8 > l)
                        return -EINVAL;
                n += (size_t) sprintf(buf + n, ".%06" PRIu64, usec % USEC_PER_SEC);
        }
        if (utc) {
                if (n + 5 > l)
                        return -EINVAL;
                strcpy(buf + n, " UTC");
                n += 4;
        } else if (tm.tm_zone && tm.tm_zone[0]) {
                size_t tn = strlen(tm.tm_zone);

                if (n + 1 + tn + 1 <= l) {
                        buf[n++] = ' ';
                        memcpy(buf + n, tm.tm_zone, tn + 1);
                        n += tn;
                } else if (n + 1 + 6 + 1 > l) /* not even room for a POSIX minimum zone name */
                        return -EINVAL;
                /* else: the zone is left out, as systemd does when it does not fit */
        }
        return (int) n;
}

#if LIBSYSTEMD_VERSION >= 255
/* "+02:00": journalctl >= 255 (systemd commit 0693e6b246). */
static size_t append_iso_zone(char *buf, size_t n, const struct tm *tm) {
        int h = (int) (tm->tm_gmtoff / 3600);
        int m = (int) labs((tm->tm_gmtoff / 60) % 60);

        return n + (size_t) snprintf(buf + n, TEXT_TIMESTAMP_MAX - n, "%+03d:%02d", h, m);
}
#endif

int text_format_realtime(enum output_mode mode, uint64_t usec, bool utc, char *buf) {
        time_t t = (time_t) (usec / USEC_PER_SEC);
        struct tm tm;
        size_t n;

        switch (mode) {
        case OUTPUT_SHORT_FULL:
        case OUTPUT_WITH_UNIT:
                return text_format_timestamp(buf, TEXT_TIMESTAMP_MAX, usec, utc, false);
        case OUTPUT_SHORT_UNIX:
                return snprintf(buf, TEXT_TIMESTAMP_MAX, "%10lld.%06" PRIu64, (long long) t,
                                usec % USEC_PER_SEC);
        default:
                break;
        }

        if (!(utc ? gmtime_r(&t, &tm) : localtime_r(&t, &tm)))
                return -EINVAL;
        switch (mode) {
        case OUTPUT_SHORT_ISO:
        case OUTPUT_SHORT_ISO_PRECISE:
#if LIBSYSTEMD_VERSION >= 255
                n = strftime(buf, TEXT_TIMESTAMP_MAX, "%Y-%m-%dT%H:%M:%S", &tm);
                if (n == 0)
                        return -EINVAL;
                if (mode == OUTPUT_SHORT_ISO_PRECISE)
                        n += (size_t) snprintf(buf + n, TEXT_TIMESTAMP_MAX - n, ".%06" PRIu64,
                                               usec % USEC_PER_SEC);
                n = append_iso_zone(buf, n, &tm);
#else
                n = strftime(buf, TEXT_TIMESTAMP_MAX,
                             mode == OUTPUT_SHORT_ISO ? "%Y-%m-%dT%H:%M:%S%z"
                                                      : "%Y-%m-%dT%H:%M:%S.xxxxxx%z",
                             &tm);
                if (n == 0)
                        return -EINVAL;
                if (mode == OUTPUT_SHORT_ISO_PRECISE) {
                        char frac[8];

                        /* At a fixed offset, as journalctl < 255 does (a 4-digit year). */
                        snprintf(frac, sizeof(frac), "%06" PRIu64, usec % USEC_PER_SEC);
                        memcpy(buf + 20, frac, 6);
                }
#endif
                return (int) n;
        case OUTPUT_SHORT:
        case OUTPUT_SHORT_PRECISE:
                n = strftime(buf, TEXT_TIMESTAMP_MAX, "%b %d %H:%M:%S", &tm);
                if (n == 0)
                        return -EINVAL;
                if (mode == OUTPUT_SHORT_PRECISE)
                        n += (size_t) snprintf(buf + n, TEXT_TIMESTAMP_MAX - n, ".%06" PRIu64,
                                               usec % USEC_PER_SEC);
                return (int) n;
        default:
                return -EINVAL;
        }
}
