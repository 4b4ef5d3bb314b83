/* SPDX-License-Identifier: MIT */
/*
 * journalagent-attach -- COMMAND [ARGS...]: runs COMMAND with the container's stdout and stderr
 * (fetched from journalagent-broker) as its fds 1 and 2, so a service can write straight to the
 * container's log:  ExecStart=/usr/bin/journalagent-attach -- /usr/bin/myapp
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker_client.h"
#include "exit_status.h"
#include "log.h"
#include "macros.h"
#include "protocol.h"

static const char *arg_broker_socket;
static bool arg_stdout_only;

static void help(void) {
        printf("Usage: journalagent-attach [OPTIONS] -- COMMAND [ARGS...]\n"
               "\n"
               "Runs COMMAND with the container's stdout and stderr (held by journalagent-broker)\n"
               "as its standard output and error. If the broker holds no stderr, stderr goes to\n"
               "the container's stdout too.\n"
               "\n"
               "  -h --help                 Show this help\n"
               "     --version              Show the version\n"
               "     --stdout-only          Replace only stdout; keep our stderr (the journal)\n"
               "     --broker-socket=PATH   Broker socket (default $%s or %s)\n"
               "\n"
               "Exit status: COMMAND's, or 2 bad usage; 66 the broker holds no stdout; 69 no broker\n"
               "listening; 77 not permitted; 126 COMMAND not executable; 127 COMMAND not found.\n",
               BROKER_SOCKET_ENV, BROKER_SOCKET_DEFAULT);
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_STDOUT_ONLY, ARG_BROKER_SOCKET };
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, ARG_VERSION},
                {"stdout-only", no_argument, NULL, ARG_STDOUT_ONLY},
                {"broker-socket", required_argument, NULL, ARG_BROKER_SOCKET},
                {},
        };
        int c;

        arg_broker_socket = broker_socket_path();
        /* "+": stop at the first non-option, so COMMAND's own options are left alone. */
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("journalagent-attach %s\n", VERSION);
                        return 0;
                case ARG_STDOUT_ONLY:
                        arg_stdout_only = true;
                        break;
                case ARG_BROKER_SOCKET:
                        arg_broker_socket = optarg;
                        break;
                case '?':
                        return -EINVAL;
                default:
                        abort();
                }
        if (optind >= argc)
                return log_error_errno(EINVAL, "No COMMAND given. Usage: journalagent-attach -- "
                                               "COMMAND [ARGS...]");
        return 1;
}

/* Puts fd on target (1 or 2) without CLOEXEC, so COMMAND inherits it. */
static int install_fd(int fd, int target) {
        if (fd == target)
                return 0;
        if (dup2(fd, target) < 0)
                return -errno;
        return 0;
}

int main(int argc, char *argv[]) {
        int fds[2] = {-1, -1}, r;

        log_setup("journalagent-attach");
        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? EXIT_USAGE : EXIT_SUCCESS;

        r = broker_fetch(arg_broker_socket,
                         arg_stdout_only ? PROTO_STREAM_STDOUT : PROTO_STREAM_ALL, fds);
        if (r < 0)
                return exit_status_for(r);
        if (fds[0] < 0) {
                log_error("The broker holds the container's stderr but not its stdout.");
                safe_close(fds[1]);
                return EXIT_NO_FD;
        }

        r = install_fd(fds[0], STDOUT_FILENO);
        if (r >= 0 && !arg_stdout_only)
                r = install_fd(fds[1] >= 0 ? fds[1] : fds[0], STDERR_FILENO);
        if (r < 0)
                return log_error_errno(r, "Cannot install the container's stdout/stderr: %m"),
                       EXIT_FAILURE;
        if (fds[0] > STDERR_FILENO)
                safe_close(fds[0]);
        if (fds[1] > STDERR_FILENO)
                safe_close(fds[1]);

        execvp(argv[optind], argv + optind);
        r = errno;
        /* stderr may now be the container's: this message reaches the container log. */
        log_error_errno(r, "Cannot execute %s: %m", argv[optind]);
        return r == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC;
}
