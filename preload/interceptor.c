/* SPDX-License-Identifier: MIT */
/*
 * libjournalagent_interceptor.so — loaded into PID 1 through LD_PRELOAD (systemd-bootstrap sets
 * it). Inside the systemd manager running as PID 1, and nowhere else, it
 *   1. keeps close-on-exec copies of the runtime's stdout and stderr, taken before main() while
 *      fds 1 and 2 still point at them (main() soon points them at /dev/null);
 *   2. keeps those copies open: systemd 252.0-252.10/253.0-253.4 close every inherited fd nobody
 *      claims through glibc close(), so close() pretends to close ours;
 *   3. carries them across daemon-reexec (execv of systemd itself), which would otherwise close
 *      every CLOEXEC fd;
 *   4. deposits them with the broker when PID 1 itself listen()s on the broker's socket.
 * Every other process that loads it (systemd-shutdown, which also runs as PID 1,
 * systemd-executor, generators, forked helpers) finds it inert. Any failure leaves PID 1 with
 * plain libc behaviour; errno is preserved and nothing is ever written anywhere.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "deposit.h"
#include "saved_fds.h"

#define BROKER_SOCKET_ENV     "JOURNALAGENT_BROKER_SOCKET"
#define BROKER_SOCKET_DEFAULT "/run/journalagent/broker.sock"

extern char **environ;

/* The shim is built with -fvisibility=hidden; these are the symbols it interposes. */
#define _public_ __attribute__((visibility("default")))

static bool active; /* set only in the systemd manager running as PID 1 */
static struct saved_fds saved = SAVED_FDS_NONE;
static char broker_path[108];

static int (*real_listen)(int, int);
static int (*real_execve)(const char *, char *const[], char *const[]);
static int (*real_close)(int);

static bool is_pid1(void) {
        return getpid() == 1;
}

/* The manager's binary is called "systemd" (/usr/lib/systemd/systemd, also reached through
 * /sbin/init); systemd-shutdown, systemd-executor and the rest have other names. */
static bool path_is_systemd(const char *path) {
        char resolved[PATH_MAX];
        const char *base;

        if (!path || !realpath(path, resolved))
                return false;
        base = strrchr(resolved, '/');
        return base && strcmp(base + 1, "systemd") == 0;
}

static bool argv_has_deserialize(int argc, char **argv) {
        for (int i = 1; i < argc && argv && argv[i]; i++)
                if (strncmp(argv[i], "--deserialize", strlen("--deserialize")) == 0)
                        return true;
        return false;
}

static void adopt_or_capture(int argc, char **argv) {
        const char *carried = getenv(SAVED_FDS_ENV);

        if (carried) {
                /* Re-executed by our execve() hook: the copies were handed through the exec. */
                if (saved_fds_parse(carried, &saved) < 0)
                        saved = SAVED_FDS_NONE;
                (void) saved_fds_set_cloexec(&saved, true);
                unsetenv(SAVED_FDS_ENV);
                return;
        }
        /* A re-executed manager without our variable has /dev/null on fds 1 and 2 (its previous
         * instance put it there); there is nothing to capture. */
        if (argv_has_deserialize(argc, argv))
                return;
        (void) saved_fds_capture(&saved);
}

__attribute__((constructor)) static void interceptor_init(int argc, char **argv, char **envp) {
        int saved_errno = errno;
        const char *p;

        (void) envp;
        real_listen = (int (*)(int, int)) dlsym(RTLD_NEXT, "listen");
        real_execve =
                (int (*)(const char *, char *const[], char *const[])) dlsym(RTLD_NEXT, "execve");
        real_close = (int (*)(int)) dlsym(RTLD_NEXT, "close");

        if (!is_pid1() || !path_is_systemd("/proc/self/exe") || !real_listen || !real_execve) {
                /* Not the manager: a stale variable must not reach anything we exec. */
                if (is_pid1())
                        unsetenv(SAVED_FDS_ENV);
                goto finish;
        }

        p = secure_getenv(BROKER_SOCKET_ENV);
        if (!p || p[0] != '/' || strlen(p) >= sizeof(broker_path))
                p = BROKER_SOCKET_DEFAULT;
        strcpy(broker_path, p);

        adopt_or_capture(argc, argv);
        active = saved.fd[SAVED_STDOUT] >= 0 || saved.fd[SAVED_STDERR] >= 0;
finish:
        errno = saved_errno;
}

static int call_real_close(int fd) {
        if (real_close)
                return real_close(fd);
        return (int) syscall(SYS_close, fd);
}

_public_ int close(int fd) {
        /* Forked children of PID 1 share our variables but may close whatever they like. */
        if (active && saved_fds_contains(&saved, fd) && is_pid1())
                return 0;
        return call_real_close(fd);
}

_public_ int listen(int fd, int backlog) {
        int r;

        if (!real_listen) {
                real_listen = (int (*)(int, int)) dlsym(RTLD_NEXT, "listen");
                if (!real_listen)
                        return (int) syscall(SYS_listen, fd, backlog);
        }

        r = real_listen(fd, backlog);
        if (r == 0 && active && is_pid1()) {
                int saved_errno = errno;

                if (deposit_is_broker_socket(fd, broker_path))
                        (void) deposit_send(fd, broker_path, &saved);
                errno = saved_errno;
        }
        return r;
}

/* Returns a copy of envp with SAVED_FDS_ENV set to value, or NULL. */
static char **env_with_saved_fds(char *const envp[], const char *assignment) {
        size_t n = 0, k = 0;
        char **copy;

        while (envp && envp[n])
                n++;
        copy = malloc((n + 2) * sizeof(char *));
        if (!copy)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (strncmp(envp[i], SAVED_FDS_ENV "=", strlen(SAVED_FDS_ENV "=")) != 0)
                        copy[k++] = envp[i];
        copy[k++] = (char *) assignment;
        copy[k] = NULL;
        return copy;
}

_public_ int execve(const char *path, char *const argv[], char *const envp[]) {
        static char assignment[sizeof(SAVED_FDS_ENV) + 32] = SAVED_FDS_ENV "=";
        char **env;
        int r, saved_errno;

        if (!real_execve) {
                real_execve = (int (*)(const char *, char *const[], char *const[])) dlsym(RTLD_NEXT,
                                                                                          "execve");
                if (!real_execve)
                        return (int) syscall(SYS_execve, path, argv, envp);
        }
        /* Only a re-executing manager (daemon-reexec, switch-root) takes the copies along. */
        if (!active || !is_pid1() || !path_is_systemd(path))
                return real_execve(path, argv, envp);

        if (saved_fds_format(&saved, assignment + strlen(SAVED_FDS_ENV "="),
                             sizeof(assignment) - strlen(SAVED_FDS_ENV "=")) < 0)
                return real_execve(path, argv, envp);
        env = env_with_saved_fds(envp, assignment);
        if (!env || saved_fds_set_cloexec(&saved, false) < 0) {
                free(env);
                (void) saved_fds_set_cloexec(&saved, true);
                return real_execve(path, argv, envp);
        }

        r = real_execve(path, argv, env);
        /* Still here: the exec failed and PID 1 goes on (systemd tries other paths next). */
        saved_errno = errno;
        (void) saved_fds_set_cloexec(&saved, true);
        free(env);
        errno = saved_errno;
        return r;
}

_public_ int execv(const char *path, char *const argv[]) {
        return execve(path, argv, environ);
}
