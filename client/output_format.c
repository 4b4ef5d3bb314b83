/* SPDX-License-Identifier: MIT */
#include "output_format.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "export_output.h"
#include "macros.h"
#include "text_output.h"

static const char *const mode_names[_OUTPUT_MODE_MAX] = {
        [OUTPUT_SHORT] = "short",
        [OUTPUT_SHORT_FULL] = "short-full",
        [OUTPUT_SHORT_ISO] = "short-iso",
        [OUTPUT_SHORT_ISO_PRECISE] = "short-iso-precise",
        [OUTPUT_SHORT_PRECISE] = "short-precise",
        [OUTPUT_SHORT_MONOTONIC] = "short-monotonic",
        [OUTPUT_SHORT_DELTA] = "short-delta",
        [OUTPUT_SHORT_UNIX] = "short-unix",
        [OUTPUT_VERBOSE] = "verbose",
        [OUTPUT_EXPORT] = "export",
        [OUTPUT_JSON] = "json",
        [OUTPUT_JSON_PRETTY] = "json-pretty",
        [OUTPUT_JSON_SSE] = "json-sse",
        [OUTPUT_JSON_SEQ] = "json-seq",
        [OUTPUT_CAT] = "cat",
        [OUTPUT_WITH_UNIT] = "with-unit",
};

const char *output_mode_to_string(enum output_mode m) {
        return m < _OUTPUT_MODE_MAX ? mode_names[m] : NULL;
}

int output_mode_from_string(const char *s) {
        for (int m = 0; m < _OUTPUT_MODE_MAX; m++)
                if (strcmp(s, mode_names[m]) == 0)
                        return m;
        return -EINVAL;
}

static bool mode_is_json(enum output_mode m) {
        return m == OUTPUT_JSON || m == OUTPUT_JSON_PRETTY || m == OUTPUT_JSON_SSE ||
               m == OUTPUT_JSON_SEQ;
}

/* The modes in which journalctl prints "-- Boot ID --" between boots: it forces --quiet for
 * export, json* and cat. */
static bool mode_has_separators(enum output_mode m) {
        return !mode_is_json(m) && m != OUTPUT_EXPORT && m != OUTPUT_CAT;
}

void output_format_init(struct output_format *f) {
        f->json = (struct json_options){.show_all = f->show_all, .output_fields = f->output_fields};
        /* Month names (short, short-precise) follow LC_TIME as in journalctl, which calls
         * setlocale(LC_ALL, ""); the zone follows $TZ. */
        (void) setlocale(LC_TIME, "");
        tzset();
}

void output_format_done(struct output_format *f) {
        json_scratch_free(&f->json_scratch);
        buffer_free(&f->scratch);
        buffer_free(&f->scratch2);
}

static int append_boot_separator(struct output_format *f, sd_journal *j, struct buffer *out) {
        sd_id128_t boot_id;
        char line[64];
        int n;

        if (sd_journal_get_monotonic_usec(j, NULL, &boot_id) < 0)
                return 0;
        if (f->have_separator_boot_id && !sd_id128_equal(boot_id, f->separator_boot_id)) {
                n = snprintf(line, sizeof(line), "-- Boot " SD_ID128_FORMAT_STR " --\n",
                             SD_ID128_FORMAT_VAL(boot_id));
                if (buffer_append(out, line, (size_t) n) < 0)
                        return -ENOMEM;
        }
        f->separator_boot_id = boot_id;
        f->have_separator_boot_id = true;
        return 0;
}

static int append_json(struct output_format *f, sd_journal *j, const char *cursor,
                       struct buffer *out) {
        size_t start = out->len;
        int r;

        switch (f->mode) {
        case OUTPUT_JSON_PRETTY:
                f->scratch.len = 0;
                r = json_append_entry(j, cursor, &f->scratch, &f->json_scratch, &f->json);
                if (r < 0)
                        return r;
                r = output_json_prettify(f->scratch.data, f->scratch.len, out);
                if (r >= 0)
                        r = buffer_append(out, "\n", 1);
                break;
        case OUTPUT_JSON_SEQ:
                r = buffer_append(out, "\x1e", 1);
                if (r >= 0)
                        r = json_append_entry(j, cursor, out, &f->json_scratch, &f->json);
                break;
        case OUTPUT_JSON_SSE:
                r = buffer_append(out, "data: ", 6);
                if (r >= 0)
                        r = json_append_entry(j, cursor, out, &f->json_scratch, &f->json);
                if (r >= 0)
                        r = buffer_append(out, "\n", 1);
                break;
        default:
                r = json_append_entry(j, cursor, out, &f->json_scratch, &f->json);
                break;
        }
        if (r < 0)
                out->len = start;
        return r;
}

int output_format_entry(struct output_format *f, sd_journal *j, const char *cursor,
                        struct buffer *out) {
        size_t start = out->len, after_separator;
        int r;

        /* journalctl sets it per entry too: values up to 4096 bytes decide JSON's null, every
         * other mode prints values whole. */
        (void) sd_journal_set_data_threshold(
                j, mode_is_json(f->mode) && !f->show_all ? JSON_THRESHOLD : 0);

        if (!f->quiet && mode_has_separators(f->mode)) {
                r = append_boot_separator(f, j, out);
                if (r < 0)
                        return r;
        }
        after_separator = out->len;

        switch (f->mode) {
        case OUTPUT_VERBOSE:
                r = text_output_verbose(f, j, cursor, out);
                break;
        case OUTPUT_EXPORT:
                r = export_output_entry(f, j, cursor, out);
                break;
        case OUTPUT_CAT:
                r = text_output_cat(f, j, out);
                break;
        case OUTPUT_JSON:
        case OUTPUT_JSON_PRETTY:
        case OUTPUT_JSON_SSE:
        case OUTPUT_JSON_SEQ:
                r = append_json(f, j, cursor, out);
                break;
        default:
                r = text_output_short(f, j, out);
                break;
        }
        /* journalctl has printed the separator before it finds an entry unreadable. */
        if ((r == -EBADMSG || r == -EADDRNOTAVAIL) && after_separator > start) {
                out->len = after_separator;
                return 0;
        }
        if (r < 0)
                out->len = start;
        return r;
}

/* ---- json-pretty -------------------------------------------------------------------------- */

static int append_indent(struct buffer *out, size_t depth) {
        if (buffer_reserve(out, depth + 1) < 0)
                return -ENOMEM;
        out->data[out->len++] = '\n';
        memset(out->data + out->len, '\t', depth);
        out->len += depth;
        return 0;
}

/* Length of the JSON string literal at s[0] == '"'; 0 if unterminated. */
static size_t string_literal_len(const char *s, size_t n) {
        for (size_t i = 1; i < n; i++) {
                if (s[i] == '\\')
                        i++;
                else if (s[i] == '"')
                        return i + 1;
        }
        return 0;
}

int output_json_prettify(const char *s, size_t n, struct buffer *out) {
        size_t depth = 0, start = out->len;
        int r = 0;

        for (size_t i = 0; i < n && r >= 0; i++) {
                char c = s[i];

                switch (c) {
                case '"': {
                        size_t len = string_literal_len(s + i, n - i);

                        if (len == 0)
                                goto invalid;
                        r = buffer_append(out, s + i, len);
                        i += len - 1;
                        break;
                }
                case '{':
                case '[':
                        if (i + 1 < n && (s[i + 1] == '}' || s[i + 1] == ']')) {
                                r = buffer_append(out, s + i, 2);
                                i++;
                                break;
                        }
                        r = buffer_append(out, &c, 1);
                        if (r >= 0)
                                r = append_indent(out, ++depth);
                        break;
                case '}':
                case ']':
                        if (depth == 0)
                                goto invalid;
                        r = append_indent(out, --depth);
                        if (r >= 0)
                                r = buffer_append(out, &c, 1);
                        if (r >= 0 && depth == 0)
                                return 0;
                        break;
                case ',':
                        r = buffer_append(out, ",", 1);
                        if (r >= 0)
                                r = append_indent(out, depth);
                        break;
                case ':':
                        r = buffer_append(out, " : ", 3);
                        break;
                case '\n':
                        if (depth == 0)
                                return 0;
                        goto invalid;
                default:
                        r = buffer_append(out, &c, 1);
                        break;
                }
        }
        if (r < 0) {
                out->len = start;
                return r;
        }
        if (depth == 0)
                return 0;
invalid:
        out->len = start;
        return -EINVAL;
}
