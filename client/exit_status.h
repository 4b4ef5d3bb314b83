/* SPDX-License-Identifier: MIT */
/* The clients' exit statuses (documented in --help and README.md), sysexits.h values where one
 * fits, so a unit can tell "retry later" from "give up" (RestartPreventExitStatus=). */
#pragma once

#include <errno.h>
#include <stdlib.h>

#define EXIT_USAGE         2
#define EXIT_NO_FD         66  /* EX_NOINPUT: the broker holds no stdout */
#define EXIT_NO_BROKER     69  /* EX_UNAVAILABLE: nothing listens on the broker socket */
#define EXIT_OUTPUT_GONE   74  /* EX_IOERR: the container's log reader went away (EPIPE) */
#define EXIT_NOT_PERMITTED 77  /* EX_NOPERM */
#define EXIT_CANNOT_EXEC   126 /* journalagent-attach: COMMAND not executable */
#define EXIT_NOT_FOUND     127 /* journalagent-attach: COMMAND not found */

/* Maps the -errno of a failed run (broker_fetch()'s, or -EPIPE) to the exit status. */
static inline int exit_status_for(int r) {
        switch (r) {
        case -ENOENT:
                return EXIT_NO_FD;
        case -ECONNREFUSED:
        case -ETIMEDOUT:
                return EXIT_NO_BROKER;
        case -EACCES:
                return EXIT_NOT_PERMITTED;
        case -EPIPE:
                return EXIT_OUTPUT_GONE;
        default:
                return EXIT_FAILURE;
        }
}
