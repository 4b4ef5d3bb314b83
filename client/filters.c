/* SPDX-License-Identifier: MIT */
#include "filters.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

static const char *const priority_names[] = {"emerg",   "alert",  "crit", "err",
                                             "warning", "notice", "info", "debug"};

/* syslog facility numbers, as journalctl --facility=help lists them. */
static const char *const facility_names[] = {
        "kern",   "user",   "mail",     "daemon", "auth",   "syslog", "lpr",    "news",
        "uucp",   "cron",   "authpriv", "ftp",    NULL,     NULL,     NULL,     NULL,
        "local0", "local1", "local2",   "local3", "local4", "local5", "local6", "local7",
};

static int strv_add(char ***v, const char *s) {
        size_t n = 0;
        char **p, *copy;

        while (*v && (*v)[n])
                n++;
        copy = strdup(s);
        if (!copy)
                return -ENOMEM;
        p = realloc(*v, (n + 2) * sizeof(char *));
        if (!p) {
                free(copy);
                return -ENOMEM;
        }
        p[n] = copy;
        p[n + 1] = NULL;
        *v = p;
        return 0;
}

static void strv_free(char **v) {
        for (char **p = v; p && *p; p++)
                free(*p);
        free(v);
}

void filters_free(struct filters *f) {
        strv_free(f->units);
        strv_free(f->identifiers);
        strv_free(f->exclude_identifiers);
        *f = FILTERS_INIT;
}

int priority_from_string(const char *s) {
        for (int i = 0; i < 8; i++)
                if (strcmp(s, priority_names[i]) == 0)
                        return i;
        /* journalctl also takes "error" and "warn"... no: keep to its documented names. */
        if (s[0] >= '0' && s[0] <= '7' && s[1] == '\0')
                return s[0] - '0';
        return -EINVAL;
}

int filters_parse_priority(struct filters *f, const char *s) {
        const char *dots = strstr(s, "..");
        int from = 0, to;

        if (dots) {
                char a[16];
                size_t n = (size_t) (dots - s);

                if (n >= sizeof(a))
                        return -EINVAL;
                memcpy(a, s, n);
                a[n] = '\0';
                from = n == 0 ? 0 : priority_from_string(a);
                to = dots[2] ? priority_from_string(dots + 2) : 7;
        } else
                to = priority_from_string(s);
        if (from < 0 || to < 0)
                return -EINVAL;
        /* journalctl accepts the range either way round. */
        f->priority_min = from < to ? from : to;
        f->priority_max = from < to ? to : from;
        return 0;
}

static int facility_from_string(const char *s) {
        char *end;
        long v;

        for (int i = 0; i < (int) (sizeof(facility_names) / sizeof(facility_names[0])); i++)
                if (facility_names[i] && strcmp(s, facility_names[i]) == 0)
                        return i;
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno || end == s || *end || v < 0 || v > 23)
                return -EINVAL;
        return (int) v;
}

int filters_parse_facility(struct filters *f, const char *s) {
        char buf[256], *save = NULL;

        if (strlen(s) >= sizeof(buf))
                return -EINVAL;
        strcpy(buf, s);
        for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                int v = facility_from_string(t);

                if (v < 0 || f->n_facilities >= 24)
                        return -EINVAL;
                f->facilities[f->n_facilities++] = v;
        }
        return 0;
}

static uint64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

static int parse_relative(const char *s, uint64_t *ret) {
        static const struct {
                const char *suffix;
                uint64_t usec;
        } units[] = {
                {"s", 1000000ULL},     {"sec", 1000000ULL},     {"min", 60000000ULL},
                {"m", 60000000ULL},    {"h", 3600000000ULL},    {"hour", 3600000000ULL},
                {"d", 86400000000ULL}, {"day", 86400000000ULL}, {"w", 604800000000ULL},
                {"", 1000000ULL},
        };
        char *end;
        unsigned long long v;
        uint64_t now = now_usec(), delta = 0;

        errno = 0;
        v = strtoull(s + 1, &end, 10);
        if (errno || end == s + 1)
                return -EINVAL;
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
                if (strcmp(end, units[i].suffix) == 0) {
                        delta = (uint64_t) v * units[i].usec;
                        break;
                }
        if (delta == 0 && v != 0)
                return -EINVAL;
        if (s[0] == '-')
                *ret = delta > now ? 0 : now - delta;
        else
                *ret = now + delta;
        return 0;
}

static int day_offset(int days, uint64_t *ret) {
        time_t t = time(NULL);
        struct tm tm;

        localtime_r(&t, &tm);
        tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
        tm.tm_mday += days;
        tm.tm_isdst = -1;
        t = mktime(&tm);
        if (t == (time_t) -1)
                return -EINVAL;
        *ret = (uint64_t) t * 1000000ULL;
        return 0;
}

int filters_parse_time(const char *s, uint64_t *ret) {
        static const char *const formats[] = {
                "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%H:%M:%S", "%H:%M",
        };

        if (strcmp(s, "now") == 0) {
                *ret = now_usec();
                return 0;
        }
        if (strcmp(s, "today") == 0)
                return day_offset(0, ret);
        if (strcmp(s, "yesterday") == 0)
                return day_offset(-1, ret);
        if (strcmp(s, "tomorrow") == 0)
                return day_offset(1, ret);
        if (s[0] == '-' || s[0] == '+')
                return parse_relative(s, ret);
        if (s[0] == '@') {
                char *end;
                unsigned long long v;

                errno = 0;
                v = strtoull(s + 1, &end, 10);
                if (errno || end == s + 1 || *end)
                        return -EINVAL;
                *ret = (uint64_t) v * 1000000ULL;
                return 0;
        }
        for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
                struct tm tm = {};
                time_t t;
                const char *end;

                if (i >= 3) {
                        /* Time of day only: today's date. */
                        time_t now = time(NULL);
                        localtime_r(&now, &tm);
                        tm.tm_sec = 0;
                }
                end = strptime(s, formats[i], &tm);
                if (!end || *end)
                        continue;
                tm.tm_isdst = -1;
                t = mktime(&tm);
                if (t == (time_t) -1)
                        return -EINVAL;
                *ret = (uint64_t) t * 1000000ULL;
                return 0;
        }
        return -EINVAL;
}

int filters_add_unit(struct filters *f, const char *unit) {
        char buf[256];

        /* journalctl -u nginx means nginx.service. */
        if (!strchr(unit, '.')) {
                if (snprintf(buf, sizeof(buf), "%s.service", unit) >= (int) sizeof(buf))
                        return -EINVAL;
                unit = buf;
        }
        return strv_add(&f->units, unit);
}

int filters_add_identifier(struct filters *f, const char *id, bool exclude) {
        return strv_add(exclude ? &f->exclude_identifiers : &f->identifiers, id);
}

static int add_match(sd_journal *j, const char *field, const char *value) {
        char buf[512];
        int n = snprintf(buf, sizeof(buf), "%s=%s", field, value);

        if (n < 0 || n >= (int) sizeof(buf))
                return -EINVAL;
        return sd_journal_add_match(j, buf, 0);
}

/* The matches journalctl -u uses: the unit's own processes, systemd's messages about it,
 * coredumps of it, and messages from root about it. */
static int add_unit_matches(sd_journal *j, char **units) {
        int r = 0;

        for (char **u = units; u && *u && r >= 0; u++) {
                r = add_match(j, "_SYSTEMD_UNIT", *u);
                if (r >= 0)
                        r = sd_journal_add_disjunction(j);
                if (r >= 0)
                        r = add_match(j, "MESSAGE_ID", "fc2e22bc6ee647b6b90729ab34a250b1");
                if (r >= 0)
                        r = add_match(j, "_UID", "0");
                if (r >= 0)
                        r = add_match(j, "COREDUMP_UNIT", *u);
                if (r >= 0)
                        r = sd_journal_add_disjunction(j);
                if (r >= 0)
                        r = add_match(j, "_PID", "1");
                if (r >= 0)
                        r = add_match(j, "UNIT", *u);
                if (r >= 0)
                        r = sd_journal_add_disjunction(j);
                if (r >= 0)
                        r = add_match(j, "_UID", "0");
                if (r >= 0)
                        r = add_match(j, "OBJECT_SYSTEMD_UNIT", *u);
                if (r >= 0)
                        r = sd_journal_add_disjunction(j);
        }
        return r;
}

int filters_apply(const struct filters *f, sd_journal *j) {
        char num[16];
        int r;

        if (f->units) {
                r = sd_journal_add_conjunction(j);
                if (r >= 0)
                        r = add_unit_matches(j, f->units);
                if (r < 0)
                        return log_error_errno(r, "Cannot add the -u matches: %m");
        }
        /* All eight levels is no filter at all (journalctl then also shows entries without a
         * PRIORITY field). */
        if (f->priority_min >= 0 && !(f->priority_min == 0 && f->priority_max == 7)) {
                r = sd_journal_add_conjunction(j);
                for (int p = f->priority_min; r >= 0 && p <= f->priority_max; p++) {
                        snprintf(num, sizeof(num), "%d", p);
                        r = add_match(j, "PRIORITY", num);
                }
                if (r < 0)
                        return log_error_errno(r, "Cannot add the -p matches: %m");
        }
        if (f->identifiers) {
                r = sd_journal_add_conjunction(j);
                for (char **i = f->identifiers; r >= 0 && *i; i++)
                        r = add_match(j, "SYSLOG_IDENTIFIER", *i);
                if (r < 0)
                        return log_error_errno(r, "Cannot add the -t matches: %m");
        }
        if (f->n_facilities > 0) {
                r = sd_journal_add_conjunction(j);
                for (int i = 0; r >= 0 && i < f->n_facilities; i++) {
                        snprintf(num, sizeof(num), "%d", f->facilities[i]);
                        r = add_match(j, "SYSLOG_FACILITY", num);
                }
                if (r < 0)
                        return log_error_errno(r, "Cannot add the --facility matches: %m");
        }
        return sd_journal_add_conjunction(j);
}

int filters_seek_since(const struct filters *f, sd_journal *j) {
        int r;

        if (f->since == 0)
                return 0;
        r = sd_journal_seek_realtime_usec(j, f->since);
        return r < 0 ? r : 1;
}

bool filters_entry_wanted(const struct filters *f, sd_journal *j) {
        const void *data;
        size_t len;

        if (!f->exclude_identifiers)
                return true;
        if (sd_journal_get_data(j, "SYSLOG_IDENTIFIER", &data, &len) < 0)
                return true;
        len -= strlen("SYSLOG_IDENTIFIER=");
        data = (const char *) data + strlen("SYSLOG_IDENTIFIER=");
        for (char **x = f->exclude_identifiers; *x; x++)
                if (strlen(*x) == len && memcmp(*x, data, len) == 0)
                        return false;
        return true;
}

bool filters_past_until(const struct filters *f, sd_journal *j) {
        uint64_t t;

        if (f->until == UINT64_MAX)
                return false;
        return sd_journal_get_realtime_usec(j, &t) >= 0 && t > f->until;
}
