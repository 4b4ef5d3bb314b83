/* SPDX-License-Identifier: MIT */
#include "export_output.h"

#include <endian.h>
#include <string.h>

#include "journal_entry.h"
#include "json_output.h"

static int append_header(sd_journal *j, const char *cursor, struct buffer *out) {
        uint64_t realtime, monotonic;
        sd_id128_t boot_id;
        int r;

        r = journal_entry_header(j, &realtime, &monotonic, &boot_id);
        if (r < 0)
                return r;
        if (buffer_append_str(out, "__CURSOR=") < 0 || buffer_append_str(out, cursor) < 0 ||
            buffer_append_str(out, "\n__REALTIME_TIMESTAMP=") < 0 ||
            buffer_append_u64(out, realtime) < 0 ||
            buffer_append_str(out, "\n__MONOTONIC_TIMESTAMP=") < 0 ||
            buffer_append_u64(out, monotonic) < 0 || buffer_append_str(out, "\n") < 0)
                return -ENOMEM;
#if LIBSYSTEMD_VERSION >= 254
        {
                /* journalctl >= 254 (systemd commit 2bc70e2e9d). */
                uint64_t seqnum;
                sd_id128_t seqnum_id;

                r = sd_journal_get_seqnum(j, &seqnum, &seqnum_id);
                if (r < 0)
                        return r;
                if (buffer_append_str(out, "__SEQNUM=") < 0 || buffer_append_u64(out, seqnum) < 0 ||
                    buffer_append_str(out, "\n__SEQNUM_ID=") < 0 ||
                    buffer_append_hex(out, seqnum_id.bytes, sizeof(seqnum_id.bytes)) < 0 ||
                    buffer_append_str(out, "\n") < 0)
                        return -ENOMEM;
        }
#endif
        if (buffer_append_str(out, "_BOOT_ID=") < 0 ||
            buffer_append_hex(out, boot_id.bytes, sizeof(boot_id.bytes)) < 0 ||
            buffer_append_str(out, "\n") < 0)
                return -ENOMEM;
        return 0;
}

static int append_field(const char *data, size_t len, size_t name_len, struct buffer *out) {
        uint64_t le;

        if (json_utf8_is_printable(data, len) && !memchr(data, '\n', len)) {
                if (buffer_append(out, data, len) < 0)
                        return -ENOMEM;
        } else {
                le = htole64((uint64_t) (len - name_len - 1));
                if (buffer_append(out, data, name_len) < 0 || buffer_append(out, "\n", 1) < 0 ||
                    buffer_append(out, &le, sizeof(le)) < 0 ||
                    buffer_append(out, data + name_len + 1, len - name_len - 1) < 0)
                        return -ENOMEM;
        }
        return buffer_append(out, "\n", 1);
}

int export_output_entry(struct output_format *f, sd_journal *j, const char *cursor,
                        struct buffer *out) {
        size_t start = out->len;
        const void *data;
        size_t len;
        int r;

        r = append_header(j, cursor, out);
        sd_journal_restart_data(j);
        while (r >= 0 && (r = sd_journal_enumerate_data(j, &data, &len)) > 0) {
                const char *eq;
                size_t name_len;

                /* The header's boot ID was printed already. */
                if (len >= 9 && memcmp(data, "_BOOT_ID=", 9) == 0)
                        continue;
                eq = memchr(data, '=', len);
                /* journalctl stops with "Invalid field." on these. */
                if (!eq || !journal_field_name_valid(data, (size_t) (eq - (const char *) data))) {
                        r = -EBADMSG;
                        break;
                }
                name_len = (size_t) (eq - (const char *) data);
                if (journal_field_wanted(f->output_fields, data, name_len))
                        r = append_field(data, len, name_len, out);
        }
        if (r >= 0)
                r = buffer_append(out, "\n", 1);
        if (r < 0)
                out->len = start;
        return r;
}
