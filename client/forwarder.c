/* SPDX-License-Identifier: MIT */
#include "forwarder.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-event.h>

#include "log.h"
#include "macros.h"
#include "output_writer.h"

/* How long the final drain at the end of a shutdown waits for journald's last entry. */
#define SHUTDOWN_DRAIN_USEC (3 * 1000000ULL)

/* journald writes each entry into the mmapped journal file at once, but tells readers (an
 * inotify IN_MODIFY, from the ftruncate() of its post-change timer) only up to 250 ms later:
 * POST_CHANGE_TIMER_INTERVAL_USEC in systemd's src/journal/journald-server.c (the same from v252
 * to v256 at least), for journal_file_enable_post_change_timer(). Waiting for inotify alone delays
 * every line by 125 ms on average and by up to 250 ms, as journalctl -f does. So once the
 * journal had something new, look again every RECHECK_INTERVAL_USEC while entries keep coming;
 * after RECHECK_WINDOW_USEC without a new entry go back to waiting for inotify alone, so an idle
 * journal costs no wake-ups. */
#define RECHECK_INTERVAL_USEC (10 * 1000ULL)
#define RECHECK_WINDOW_USEC   (1000 * 1000ULL)
/* sd-event's default accuracy (250 ms) would let it coalesce the re-check as late as journald's
 * own notification. */
#define RECHECK_ACCURACY_USEC (1000ULL)

void forwarder_done(struct forwarder *f) {
        buffer_free(&f->out);
        free(f->pending_cursor);
        f->pending_cursor = NULL;
}

/* Reads "KEY=value" out of a cursor ("s=<seqnum id>;i=<seqnum hex>;b=<boot id>;..."). Cursors
 * are opaque to everything but this warning, which only needs the numbers to estimate a loss. */
static bool cursor_field(const char *cursor, char key, char *buf, size_t size) {
        for (const char *p = cursor; p && *p; p = strchr(p, ';') ? strchr(p, ';') + 1 : NULL) {
                size_t n;

                if (p[0] != key || p[1] != '=')
                        continue;
                n = strcspn(p + 2, ";");
                if (n == 0 || n >= size)
                        return false;
                memcpy(buf, p + 2, n);
                buf[n] = '\0';
                return true;
        }
        return false;
}

/* The saved cursor's entry is gone (rotated and vacuumed while we were not running): say how
 * much was lost, from the sequence number gap, once, where the container log shows it. */
static void warn_cursor_entry_gone(sd_journal *j, const char *saved) {
        char saved_id[64], cur_id[64], saved_boot[64], cur_boot[64], saved_seq[32], cur_seq[32];
        char *current = NULL;
        unsigned long long a, b;

        if (sd_journal_get_cursor(j, &current) < 0)
                return;
        if (cursor_field(saved, 's', saved_id, sizeof(saved_id)) &&
            cursor_field(current, 's', cur_id, sizeof(cur_id)) && strcmp(saved_id, cur_id) == 0 &&
            cursor_field(saved, 'b', saved_boot, sizeof(saved_boot)) &&
            cursor_field(current, 'b', cur_boot, sizeof(cur_boot)) &&
            strcmp(saved_boot, cur_boot) == 0 &&
            cursor_field(saved, 'i', saved_seq, sizeof(saved_seq)) &&
            cursor_field(current, 'i', cur_seq, sizeof(cur_seq))) {
                a = strtoull(saved_seq, NULL, 16);
                b = strtoull(cur_seq, NULL, 16);
                if (b > a + 1)
                        log_warning("The journal entry of the saved cursor is gone (rotated and "
                                    "vacuumed while journalagent was not running): up to %llu "
                                    "entries were lost before this point.",
                                    b - a - 1);
        }
        free(current);
}

int forwarder_position(struct forwarder *f, const char *cursor, long lines,
                       bool *ret_have_current) {
        sd_journal *j = f->journal;
        int r;

        *ret_have_current = false;
        if (cursor) {
                r = sd_journal_seek_cursor(j, cursor);
                if (r >= 0) {
                        /* seek_cursor lands on the cursor's entry if it still exists, else on
                         * the next one: print it only in the second case. */
                        r = sd_journal_next(j);
                        if (r > 0)
                                *ret_have_current = sd_journal_test_cursor(j, cursor) <= 0;
                        if (*ret_have_current)
                                warn_cursor_entry_gone(j, cursor);
                        return 0;
                }
                log_warning_errno(r, "Cannot seek to the saved cursor (%m), starting from the "
                                     "beginning; entries may be repeated.");
        }

        if (lines >= 0) {
                r = sd_journal_seek_tail(j);
                if (r < 0)
                        return r;
                /* previous() after seek_tail lands on the last entry on every systemd version
                 * (next() does not since 254). */
                if (lines == 0) {
                        r = sd_journal_previous(j);
                        return r < 0 ? r : 0;
                }
                r = sd_journal_previous_skip(j, (uint64_t) lines);
                if (r < 0)
                        return r;
                *ret_have_current = r > 0;
                return 0;
        }
        if (f->filters && filters_seek_since(f->filters, j) > 0)
                return 0;
        if (f->start_monotonic > 0) {
                sd_id128_t boot;

                r = sd_id128_get_boot(&boot);
                if (r >= 0)
                        return sd_journal_seek_monotonic_usec(j, boot, f->start_monotonic);
        }
        return sd_journal_seek_head(j);
}

static void save_cursor(struct forwarder *f) {
        int r;

        if (!f->cursor_file || !f->pending_cursor)
                return;
        r = cursor_file_save(f->cursor_file, f->pending_cursor);
        if (r < 0 && !f->cursor_save_failed) {
                /* Keep forwarding: a stale cursor only means repeats after a restart. */
                log_warning_errno(r,
                                  "Cannot save the cursor to %s, ignoring (a restart will "
                                  "repeat entries): %m",
                                  f->cursor_file->path);
                f->cursor_save_failed = true;
        } else if (r >= 0)
                f->cursor_save_failed = false;
}

/* Writes the first n bytes of the buffer and records the position after them. */
static int write_out(struct forwarder *f, size_t n) {
        int r;

        if (n == 0)
                return 0;
        r = output_write_all(f->out_fds[f->stream], f->out.data, n);
        if (r < 0)
                return r;
        buffer_consume(&f->out, n);
        return 0;
}

static int flush(struct forwarder *f) {
        int r = write_out(f, f->out.len);

        if (r < 0)
                return r;
        save_cursor(f);
        return 0;
}

/* 1 (stderr) for entries at or above --stderr-priority, else 0. Entries without a valid
 * PRIORITY count as info, as journald's own default for stdout streams. */
static int entry_stream(struct forwarder *f) {
        const void *data;
        size_t len;
        int priority = 6;

        if (f->stderr_priority < 0)
                return 0;
        if (sd_journal_get_data(f->journal, "PRIORITY", &data, &len) >= 0 &&
            len == strlen("PRIORITY=") + 1) {
                char c = ((const char *) data)[len - 1];

                if (c >= '0' && c <= '7')
                        priority = c - '0';
        }
        return priority <= f->stderr_priority ? 1 : 0;
}

/* journald's "Journal stopped" (SD_MESSAGE_JOURNAL_STOP): the last entry of a shutdown. */
static bool entry_is_journal_stopped(sd_journal *j) {
        static const char id[] = "MESSAGE_ID=d93fb3c9c24d451a97cea615ce59c00b";
        const void *data;
        size_t len;

        return sd_journal_get_data(j, "MESSAGE_ID", &data, &len) >= 0 && len == strlen(id) &&
               memcmp(data, id, len) == 0;
}

static int emit_current(struct forwarder *f) {
        char *cursor = NULL;
        size_t before;
        int r, stream;

        if (f->filters) {
                if (filters_past_until(f->filters, f->journal)) {
                        f->until_reached = true;
                        return 0;
                }
                if (!filters_entry_wanted(f->filters, f->journal))
                        return 0;
        }
        /* One buffer for both streams keeps the entries in journal order: switching streams
         * writes out what the other one holds first. */
        stream = entry_stream(f);
        if (stream != f->stream && f->out.len > 0) {
                r = flush(f);
                if (r < 0)
                        return r;
        }
        f->stream = stream;
        before = f->out.len;

        r = sd_journal_get_cursor(f->journal, &cursor);
        if (r < 0)
                return r == -EADDRNOTAVAIL ? 0 : r;
        r = output_format_entry(f->format, f->journal, cursor, &f->out);
        if (r == -EBADMSG || r == -EADDRNOTAVAIL) {
                /* An unreadable (e.g. half-written or corrupt) entry: journalctl skips it too. */
                free(cursor);
                return 0;
        }
        if (r < 0) {
                free(cursor);
                return r;
        }
        f->n_entries++;
        if (f->await_journal_stop && entry_is_journal_stopped(f->journal))
                f->journal_stopped = true;

        /* Batches hold whole lines: write what came before once this entry does not fit. */
        if (f->out.len > f->batch_sizes[f->stream] && before > 0) {
                r = write_out(f, before);
                if (r < 0) {
                        free(cursor);
                        return r;
                }
                save_cursor(f);
        }
        free(f->pending_cursor);
        f->pending_cursor = cursor;
        if (f->out.len >= f->batch_sizes[f->stream])
                return flush(f);
        return 0;
}

/* Forwards every entry available now. Returns 1 when the journal had new entries (forwarded or
 * filtered out), 0 when it had none, or -errno. */
static int drain(struct forwarder *f, bool have_current) {
        bool found = have_current;
        int r = 0;

        if (have_current) {
                r = emit_current(f);
                if (r < 0)
                        return r;
        }
        while (!f->until_reached && (r = sd_journal_next(f->journal)) > 0) {
                found = true;
                r = emit_current(f);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        r = flush(f);
        return r < 0 ? r : found;
}

struct follow_state {
        struct forwarder *f;
        sd_event_source *timer;   /* sd_journal_get_timeout(): journals on network file systems */
        sd_event_source *recheck; /* the next look at the journal while it is busy */
        uint64_t recheck_until;   /* CLOCK_MONOTONIC end of the re-check window */
        int result;
};

static int rearm_timer(struct follow_state *s) {
        uint64_t t;
        int r;

        r = sd_journal_get_timeout(s->f->journal, &t);
        if (r < 0)
                return r;
        if (t == UINT64_MAX)
                return sd_event_source_set_enabled(s->timer, SD_EVENT_OFF);
        r = sd_event_source_set_time(s->timer, t);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(s->timer, SD_EVENT_ONESHOT);
}

/* found: this look at the journal had new entries, which opens (or extends) the window. */
static int schedule_recheck(struct follow_state *s, bool found) {
        uint64_t now;
        int r;

        r = sd_event_now(sd_event_source_get_event(s->recheck), CLOCK_MONOTONIC, &now);
        if (r < 0)
                return r;
        if (found)
                s->recheck_until = now + RECHECK_WINDOW_USEC;
        if (now >= s->recheck_until)
                return sd_event_source_set_enabled(s->recheck, SD_EVENT_OFF);
        r = sd_event_source_set_time(s->recheck, now + RECHECK_INTERVAL_USEC);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(s->recheck, SD_EVENT_ONESHOT);
}

/* process: read the inotify events first (a wake-up by inotify or the timeout). A re-check
 * skips that: sd_journal_next() reads the entry count from each file's mmapped header, so it
 * sees what journald appended to a file we already have open without any notification.
 * Only a new file (rotation, a new user journal) needs sd_journal_process(), and its creation
 * is an inotify event journald does not delay, which wakes on_journal_io. */
static int on_journal_change(struct follow_state *s, bool process) {
        int r;

        if (process)
                (void) sd_journal_process(s->f->journal);
        r = drain(s->f, false);
        if (r >= 0)
                r = schedule_recheck(s, r > 0);
        if (r >= 0)
                r = rearm_timer(s);
        if (r < 0) {
                s->result = r;
                return sd_event_exit(sd_event_source_get_event(s->timer), r);
        }
        /* Final shutdown: journald's last entry is on its way out, we are done. */
        if (s->f->journal_stopped)
                return sd_event_exit(sd_event_source_get_event(s->timer), 0);
        return 0;
}

static int on_journal_io(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        (void) source;
        (void) fd;
        (void) revents;
        return on_journal_change(userdata, true);
}

static int on_journal_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        (void) source;
        (void) usec;
        return on_journal_change(userdata, true);
}

static int on_recheck(sd_event_source *source, uint64_t usec, void *userdata) {
        (void) source;
        (void) usec;
        return on_journal_change(userdata, false);
}

/* systemd-shutdown (PID 1 at the very end of a shutdown) sends SIGTERM to every process that is
 * left, journald included. */
static bool system_final_shutdown(void) {
        char comm[32] = "";
        FILE *f = fopen("/proc/1/comm", "re");

        if (!f)
                return false;
        if (!fgets(comm, sizeof(comm), f))
                comm[0] = '\0';
        fclose(f);
        return strncmp(comm, "systemd-shutdow", strlen("systemd-shutdow")) == 0;
}

static int on_shutdown_deadline(sd_event_source *source, uint64_t usec, void *userdata) {
        struct follow_state *s = userdata;

        (void) usec;
        log_debug("journald did not say it stopped within the deadline, exiting.");
        (void) sd_journal_process(s->f->journal);
        s->result = drain(s->f, false);
        return sd_event_exit(sd_event_source_get_event(source), 0);
}

static int on_stop_signal(sd_event_source *source, const struct signalfd_siginfo *si,
                          void *userdata) {
        struct follow_state *s = userdata;
        sd_event *event = sd_event_source_get_event(source);
        bool final = system_final_shutdown();
        uint64_t now;

        s->f->await_journal_stop = final;
        (void) sd_journal_process(s->f->journal);
        s->result = drain(s->f, false);
        if (s->result < 0 || s->f->journal_stopped || !final) {
                /* A plain stop or restart: forward what reached the journal so far, then go. */
                log_debug("Got signal %u, forwarded what is left, exiting.", si->ssi_signo);
                return sd_event_exit(event, 0);
        }

        /* The end of a shutdown: journald is stopping too and still writes its last entries
         * (everything logged since the services stopped, and "Journal stopped"). Keep following
         * until that last entry, for at most SHUTDOWN_DRAIN_USEC. */
        if (sd_event_now(event, CLOCK_MONOTONIC, &now) < 0 ||
            sd_event_add_time(event, NULL, CLOCK_MONOTONIC, now + SHUTDOWN_DRAIN_USEC, 0,
                              on_shutdown_deadline, s) < 0)
                return sd_event_exit(event, 0);
        return 0;
}

static int follow(struct forwarder *f) {
        struct follow_state s = {.f = f};
        sd_event *event = NULL;
        sd_event_source *io = NULL;
        sigset_t mask;
        int fd, r;

        fd = sd_journal_get_fd(f->journal);
        if (fd < 0)
                return log_error_errno(fd, "Cannot watch the journal for changes: %m");

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);

        r = sd_event_new(&event);
        if (r < 0)
                return r;
        r = sd_event_add_signal(event, NULL, SIGTERM, on_stop_signal, &s);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGINT, on_stop_signal, &s);
        if (r >= 0)
                r = sd_event_add_io(event, &io, fd, (uint32_t) sd_journal_get_events(f->journal),
                                    on_journal_io, &s);
        if (r >= 0)
                r = sd_event_add_time(event, &s.timer, CLOCK_MONOTONIC, UINT64_MAX, 0,
                                      on_journal_timer, &s);
        if (r >= 0)
                r = sd_event_add_time(event, &s.recheck, CLOCK_MONOTONIC, UINT64_MAX,
                                      RECHECK_ACCURACY_USEC, on_recheck, &s);
        if (r >= 0)
                r = sd_event_source_set_enabled(s.recheck, SD_EVENT_OFF);
        if (r >= 0)
                r = rearm_timer(&s);
        if (r < 0) {
                log_error_errno(r, "Cannot set up the event loop: %m");
                goto finish;
        }

        /* Entries may have arrived between the first drain and the watch being set up. */
        r = on_journal_change(&s, true);
        if (r >= 0 && s.result >= 0)
                r = sd_event_loop(event);
        if (s.result < 0)
                r = s.result;
finish:
        sd_event_source_disable_unref(io);
        sd_event_source_disable_unref(s.recheck);
        sd_event_source_disable_unref(s.timer);
        sd_event_unref(event);
        return r;
}

int forwarder_run(struct forwarder *f, bool have_current) {
        int r;

        if (f->follow) {
                /* Set up the journal's inotify watch before reading, so nothing slips between. */
                r = sd_journal_get_fd(f->journal);
                if (r < 0)
                        return log_error_errno(r, "Cannot watch the journal for changes: %m");
        }
        r = drain(f, have_current);
        if (r < 0)
                return r;
        if (!f->follow || f->until_reached)
                return 0;
        return follow(f);
}
