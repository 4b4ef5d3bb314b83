/* SPDX-License-Identifier: MIT */
/*
 * journalagent: forwards the journal, one journalctl-style line per entry, to the container's
 * stdout (fetched from journalagent-broker) or to its own stdout.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-id128.h>
#include <systemd/sd-journal.h>

#include "broker_client.h"
#include "cursor_file.h"
#include "exit_status.h"
#include "forwarder.h"
#include "log.h"
#include "macros.h"
#include "options.h"
#include "output_writer.h"
#include "pid1_start.h"
#include "protocol.h"

/* ret_fds[0] is where entries go, ret_fds[1] where --stderr-priority sends the severe ones;
 * *ret_target says which of the two targets they are. */
static int open_output(const struct options *o, int ret_fds[2], enum output_target *ret_target) {
        enum output_target t = o->target;
        int fds[2] = {-1, -1}, r;

        if (t == TARGET_AUTO)
                t = log_fd_is_journal_stream(STDOUT_FILENO) ? TARGET_BROKER : TARGET_STDOUT;
        *ret_target = t;
        if (t == TARGET_STDOUT) {
                ret_fds[0] = STDOUT_FILENO;
                ret_fds[1] = STDERR_FILENO;
                return 0;
        }

        r = broker_fetch(o->broker_socket, PROTO_STREAM_ALL, fds);
        if (r < 0)
                return r;
        if (fds[0] < 0) {
                safe_close(fds[1]);
                return log_error_errno(ENOENT, "The broker holds the container's stderr but not "
                                               "its stdout; nothing to write to.");
        }
        if (fds[1] < 0 && o->stderr_priority >= 0)
                log_warning("The broker holds no stderr (PID 1 had /dev/null there); entries for "
                            "--stderr-priority go to stdout.");
        ret_fds[0] = fds[0];
        ret_fds[1] = fds[1] >= 0 ? fds[1] : fds[0];
        return 0;
}

static int add_matches(sd_journal *j, const struct options *o) {
        int r;

        for (char **m = o->matches; m && *m; m++) {
                if (strcmp(*m, "+") == 0)
                        r = sd_journal_add_disjunction(j);
                else
                        r = sd_journal_add_match(j, *m, 0);
                if (r < 0)
                        return log_error_errno(r, "Invalid match '%s': %m", *m);
        }
        return 0;
}

/* -b: the running boot when reading the local journal (journalctl's shortcut too); with -D or
 * --file, the last boot in those files. */
static int add_boot_match(sd_journal *j, const struct options *o) {
        char match[sizeof("_BOOT_ID=") + 32];
        sd_id128_t id;
        int r;

        if (o->boot_id)
                r = sd_id128_from_string(o->boot_id, &id);
        else if (!o->directory && !o->files)
                r = sd_id128_get_boot(&id);
        else {
                r = sd_journal_seek_tail(j);
                if (r >= 0)
                        r = sd_journal_previous(j);
                if (r == 0)
                        return 0; /* empty journal: nothing to filter */
                if (r > 0)
                        r = sd_journal_get_monotonic_usec(j, NULL, &id);
        }
        if (r < 0)
                return log_error_errno(r, "Cannot determine the boot for -b: %m");

        snprintf(match, sizeof(match), "_BOOT_ID=" SD_ID128_FORMAT_STR, SD_ID128_FORMAT_VAL(id));
        if (o->matches) {
                /* journalctl ANDs the boot with the user's matches. */
                r = sd_journal_add_conjunction(j);
                if (r < 0)
                        return r;
        }
        r = sd_journal_add_match(j, match, 0);
        return r < 0 ? log_error_errno(r, "Cannot add the boot match: %m") : 0;
}

static int open_journal(const struct options *o, sd_journal **ret) {
        sd_journal *j = NULL;
        int r;

        if (o->directory)
                r = sd_journal_open_directory(&j, o->directory, 0);
        else if (o->files)
                r = sd_journal_open_files(&j, (const char **) o->files, 0);
        else
                r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY);
        if (r < 0)
                return log_error_errno(r, "Cannot open the journal%s%s: %m",
                                       o->directory ? " in " : "",
                                       o->directory ? o->directory : "");

        r = sd_journal_set_data_threshold(j, o->all ? 0 : JSON_THRESHOLD);
        if (r >= 0)
                r = add_matches(j, o);
        if (r >= 0 && o->boot)
                r = add_boot_match(j, o);
        if (r >= 0)
                r = filters_apply(&o->filters, j);
        if (r < 0) {
                sd_journal_close(j);
                return r;
        }
        *ret = j;
        return 0;
}

/* Whether writes to a pipe must stay within PIPE_BUF (--pipe-writes). By default they do where
 * other writers are expected: on the container's stdout, which PID 1, other forwarders and
 * journalagent-attach services share, and while following, as a log shipper does. A one-shot
 * dump to a pipe of our own writes 64 KiB at a time: about 1.2 times as fast into a reader such
 * as cat, 16 times fewer wake-ups for it (make bench, section a). */
static bool pipe_shared(const struct options *o, enum output_target target) {
        switch (o->pipe_writes) {
        case PIPE_WRITES_ATOMIC:
                return true;
        case PIPE_WRITES_LARGE:
                return false;
        default:
                return target == TARGET_BROKER || o->follow;
        }
}

/* Returns the saved cursor (NULL when there is none or it cannot be used). */
static char *load_cursor(struct cursor_file *c) {
        char *cursor = NULL;
        int r = cursor_file_load(c, &cursor);

        if (r == -EBADMSG)
                log_warning("The cursor file %s is damaged or not ours; starting from the "
                            "beginning (entries may be repeated) and overwriting it.",
                            c->path);
        else if (r < 0)
                log_warning_errno(r,
                                  "Cannot read the cursor file %s (%m); starting from the "
                                  "beginning.",
                                  c->path);
        return r > 0 ? cursor : NULL;
}

int main(int argc, char *argv[]) {
        struct options o;
        struct cursor_file cursor_file = {.fd = -EBADF};
        struct forwarder f = {.out_fds = {-EBADF, -EBADF}};
        struct output_format format = {};
        _cleanup_free_ char *cursor = NULL;
        bool have_current = false;
        int out_fds[2] = {-EBADF, -EBADF}, r;
        enum output_target target;
        bool shared;

        log_setup("journalagent");
        r = options_parse(argc, argv, &o);
        if (r <= 0) {
                options_free(&o);
                return r < 0 ? EXIT_USAGE : EXIT_SUCCESS;
        }
        /* A vanished reader must show up as EPIPE, not kill us silently. */
        signal(SIGPIPE, SIG_IGN);

        r = open_output(&o, out_fds, &target);
        if (r < 0)
                goto finish;
        shared = pipe_shared(&o, target);

        format = (struct output_format){
                .mode = o.output,
                .show_all = o.all,
                .utc = o.utc,
                .no_hostname = o.no_hostname,
                .quiet = o.quiet,
                .output_fields = o.output_fields,
        };
        output_format_init(&format);
        f = (struct forwarder){
                .out_fds = {out_fds[0], out_fds[1]},
                .batch_sizes = {output_batch_size(out_fds[0], shared),
                                output_batch_size(out_fds[1], shared)},
                .stderr_priority = o.stderr_priority,
                .filters = &o.filters,
                .format = &format,
                .follow = o.follow,
        };
        r = open_journal(&o, &f.journal);
        if (r < 0)
                goto finish;

        if (o.cursor_file) {
                r = cursor_file_open(&cursor_file, o.cursor_file);
                if (r < 0) {
                        log_error_errno(r, "Cannot open the cursor file %s: %m", o.cursor_file);
                        goto finish;
                }
                f.cursor_file = &cursor_file;
                cursor = load_cursor(&cursor_file);
        }

        if (o.since_pid1 && !cursor) {
                r = pid1_start_monotonic_usec(&f.start_monotonic);
                if (r < 0)
                        log_warning_errno(r, "Cannot tell when PID 1 started (%m), starting from "
                                             "the beginning of the boot.");
        }

        r = forwarder_position(&f, cursor, o.no_tail ? -1 : o.lines, &have_current);
        if (r < 0) {
                log_error_errno(r, "Cannot position in the journal: %m");
                goto finish;
        }

        r = forwarder_run(&f, have_current);
        if (r == -EPIPE)
                log_error("The container's log reader is gone (EPIPE): nothing more can be "
                          "forwarded until the container is restarted.");
        else if (r < 0)
                log_error_errno(r, "Forwarding failed: %m");

finish:
        forwarder_done(&f);
        output_format_done(&format);
        if (f.journal)
                sd_journal_close(f.journal);
        if (cursor_file.path)
                cursor_file_close(&cursor_file);
        if (out_fds[1] > STDERR_FILENO && out_fds[1] != out_fds[0])
                safe_close(out_fds[1]);
        if (out_fds[0] > STDERR_FILENO)
                safe_close(out_fds[0]);
        options_free(&o);
        return r < 0 ? exit_status_for(r) : EXIT_SUCCESS;
}
