/* SPDX-License-Identifier: MIT */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "log.h"
#include "macros.h"

static const char *const store_names[STORE_N] = {"stdout", "stderr"};

static void update_description(struct store *s) {
        size_t used = 0, size = sizeof(s->description);

        s->generation++;
        for (int i = 0; i < STORE_N; i++) {
                if (s->fd[i] < 0)
                        continue;
                used += (size_t) snprintf(s->description + used, size - used, "%s%s (%s)",
                                          used == 0 ? "holding " : ", ", store_names[i],
                                          s->target[i]);
                if (used >= size)
                        return;
        }
        if (used == 0)
                snprintf(s->description, size,
                         "holding nothing: no deposit from PID 1 yet (is "
                         "/usr/bin/systemd-bootstrap the entrypoint?)");
}

void store_init(struct store *s, sd_event *event) {
        *s = (struct store){.fd = {-1, -1}, .event = event};
        update_description(s);
}

static void store_forget(struct store *s, int index) {
        s->watch[index] = sd_event_source_disable_unref(s->watch[index]);
        s->fd[index] = safe_close(s->fd[index]);
        s->target[index][0] = '\0';
}

static void store_drop(struct store *s, int index) {
        store_forget(s, index);
        update_description(s);
}

void store_done(struct store *s) {
        for (int i = 0; i < STORE_N; i++)
                store_drop(s, i);
}

int store_index_from_name(const char *name) {
        for (int i = 0; i < STORE_N; i++)
                if (strcmp(name, store_names[i]) == 0)
                        return i;
        return -1;
}

/* systemd drops its fd store copy of a pipe when the reader goes away (EPOLLERR on the write
 * end); ours goes at the same moment, so clients get ENOENT instead of EPIPE forever. */
static int on_fd_gone(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        struct store *s = userdata;

        (void) fd;
        for (int i = 0; i < STORE_N; i++)
                if (s->watch[i] == source) {
                        log_notice("The container runtime closed the reader of %s (events 0x%x), "
                                   "dropping it.",
                                   store_names[i], revents);
                        store_drop(s, i);
                }
        return 0;
}

static void describe_fd(int fd, char *buf, size_t size) {
        char path[64];
        ssize_t n;

        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        n = readlink(path, buf, size - 1);
        if (n < 0)
                n = snprintf(buf, size, "fd %d", fd);
        buf[n] = '\0';
}

static int store_hold(struct store *s, int index, int fd) {
        int r;

        store_forget(s, index);
        s->fd[index] = fd;
        describe_fd(fd, s->target[index], sizeof(s->target[index]));
        update_description(s);
        /* Regular files and /dev/null cannot be polled (-EPERM); they never "go away" anyway. */
        r = sd_event_add_io(s->event, &s->watch[index], fd, 0, on_fd_gone, s);
        if (r < 0 && r != -EPERM)
                log_warning_errno(r, "Cannot watch %s for its reader going away, ignoring: %m",
                                  store_names[index]);
        return 0;
}

int store_adopt(struct store *s, int index, int fd) {
        return store_hold(s, index, fd);
}

static bool fd_is_dev_null(int fd) {
        struct stat st;

        return fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3);
}

static bool fd_same_file(int a, int b) {
        struct stat sa, sb;

        return a >= 0 && b >= 0 && fstat(a, &sa) == 0 && fstat(b, &sb) == 0 &&
               sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int store_put(struct store *s, int index, int fd) {
        char msg[64];
        int r;

        if (fd_is_dev_null(fd)) {
                safe_close(fd);
                return -EINVAL;
        }
        if (fd_same_file(s->fd[index], fd)) {
                safe_close(fd);
                return 0;
        }

        /* Remove the old entry first: FDSTORE=1 with a name that exists adds a second entry. */
        snprintf(msg, sizeof(msg), "FDSTOREREMOVE=1\nFDNAME=%s", store_names[index]);
        r = sd_notify(0, msg);
        if (r < 0)
                log_warning_errno(r, "Failed to remove the old %s from the fd store, ignoring: %m",
                                  store_names[index]);

        snprintf(msg, sizeof(msg), "FDSTORE=1\nFDNAME=%s", store_names[index]);
        r = sd_pid_notify_with_fds(0, 0, msg, &fd, 1);
        if (r < 0)
                log_warning_errno(r,
                                  "Failed to put %s into systemd's fd store, holding it only in "
                                  "memory (lost if the broker dies): %m",
                                  store_names[index]);
        else if (r == 0)
                log_debug("Not running under systemd, %s is held only in memory.",
                          store_names[index]);

        store_hold(s, index, fd);
        return 1;
}

int store_get(const struct store *s, int index) {
        return s->fd[index];
}

const char *store_describe(const struct store *s) {
        return s->description;
}
