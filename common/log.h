/* SPDX-License-Identifier: MIT */
/*
 * Logging for the broker and the clients: one line on stderr. Under systemd stderr is the
 * journal, so the line carries a "<N>" priority prefix there (sd-daemon's SD_ERR & co.) and
 * nothing else; on a terminal it is plain text prefixed with the program name.
 */
#pragma once

#include <stdbool.h>
#include <syslog.h>

#include "macros.h"

void log_setup(const char *program_name);

/* True when fd is the stream systemd connected to the journal ($JOURNAL_STREAM = "dev:inode"):
 * a service's stdout/stderr. Writing the journal there would feed it back into itself. */
bool log_fd_is_journal_stream(int fd);
void log_set_max_level(int level);

/* Logs at level; with error != 0 "%m" names that error. Returns -|error| so callers can write
 * `return log_error_errno(r, "Failed to ...: %m");` */
int log_full_errno(int level, int error, const char *format, ...) _printf_(3, 4);

#define log_error_errno(e, ...)   log_full_errno(LOG_ERR, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, (e), __VA_ARGS__)
#define log_error(...)            (void) log_full_errno(LOG_ERR, 0, __VA_ARGS__)
#define log_warning(...)          (void) log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_notice(...)           (void) log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_info(...)             (void) log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_debug(...)            (void) log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
