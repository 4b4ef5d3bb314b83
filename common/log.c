/* SPDX-License-Identifier: MIT */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static const char *program = "journalagent";
static bool to_journal;
static int max_level = LOG_INFO;

bool log_fd_is_journal_stream(int fd) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2 || fstat(fd, &st) < 0)
                return false;
        return (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

void log_setup(const char *program_name) {
        const char *e = getenv("JOURNALAGENT_LOG_LEVEL");

        program = program_name;
        to_journal = log_fd_is_journal_stream(STDERR_FILENO);
        if (e && e[0] >= '0' && e[0] <= '7' && e[1] == '\0')
                max_level = e[0] - '0';
}

void log_set_max_level(int level) {
        max_level = level;
}

int log_full_errno(int level, int error, const char *format, ...) {
        char buf[2048];
        va_list ap;

        if (error < 0)
                error = -error;
        if (level > max_level)
                return -error;

        errno = error;
        va_start(ap, format);
        vsnprintf(buf, sizeof(buf), format, ap);
        va_end(ap);

        if (to_journal)
                fprintf(stderr, "<%d>%s\n", level, buf);
        else
                fprintf(stderr, "%s: %s\n", program, buf);
        return -error;
}
