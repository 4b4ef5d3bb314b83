/* SPDX-License-Identifier: MIT */
/*
 * systemd-bootstrap: the container's entrypoint. Adds the journalagent shim to LD_PRELOAD
 * (keeping what is there) and execs systemd with the container's arguments, so PID 1 keeps the
 * runtime's stdout and stderr. Written in C so images need no shell.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXIT_NOT_FOUND 127 /* what a shell returns for a command it cannot find */

static const char *const systemd_paths[] = {
        "/usr/lib/systemd/systemd",
        "/lib/systemd/systemd",
        "/usr/bin/systemd",
        "/sbin/init",
};

/* True when the colon/space separated list already names path. */
static int preload_has(const char *list, const char *path) {
        size_t len = strlen(path);

        for (const char *p = list; (p = strstr(p, path)); p += len) {
                int starts = p == list || p[-1] == ':' || p[-1] == ' ';
                int ends = p[len] == '\0' || p[len] == ':' || p[len] == ' ';

                if (starts && ends)
                        return 1;
        }
        return 0;
}

static int add_preload(const char *shim) {
        const char *old = getenv("LD_PRELOAD");
        char *value;
        int r;

        if (access(shim, R_OK) < 0) {
                fprintf(stderr,
                        "systemd-bootstrap: %s is missing (%s); booting without it: the journal "
                        "will not reach the container's stdout. Reinstall journalagent.\n",
                        shim, strerror(errno));
                return 0;
        }
        if (old && preload_has(old, shim))
                return 0;
        if (!old || !*old)
                return setenv("LD_PRELOAD", shim, 1);

        /* Ours first: it must see fds 1 and 2 before anything else can touch them. */
        if (asprintf(&value, "%s:%s", shim, old) < 0)
                return -1;
        r = setenv("LD_PRELOAD", value, 1);
        free(value);
        return r;
}

int main(int argc, char *argv[]) {
        const char *shim = getenv("JOURNALAGENT_SHIM");
        const char *systemd = NULL;
        char **args;

        if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) &&
            getpid() != 1) {
                printf("Usage: systemd-bootstrap [SYSTEMD-ARGS...]\n"
                       "\n"
                       "Container entrypoint: execs systemd (the first of /usr/lib/systemd/systemd,\n"
                       "/lib/systemd/systemd, /usr/bin/systemd, /sbin/init that exists) with\n"
                       "LD_PRELOAD=%s added, passing SYSTEMD-ARGS through.\n"
                       "$JOURNALAGENT_SHIM overrides the shim's path.\n",
                       SHIM_PATH);
                return 0;
        }
        if (!shim || !*shim)
                shim = SHIM_PATH;

        for (size_t i = 0; i < sizeof(systemd_paths) / sizeof(systemd_paths[0]); i++)
                if (access(systemd_paths[i], X_OK) == 0) {
                        systemd = systemd_paths[i];
                        break;
                }
        if (!systemd) {
                fprintf(stderr,
                        "systemd-bootstrap: no systemd found (looked for "
                        "/usr/lib/systemd/systemd, /lib/systemd/systemd, /usr/bin/systemd, "
                        "/sbin/init). Install systemd in the image (Debian: apt-get install "
                        "systemd systemd-sysv).\n");
                return EXIT_NOT_FOUND;
        }

        if (add_preload(shim) < 0)
                fprintf(stderr,
                        "systemd-bootstrap: cannot set LD_PRELOAD (%s); booting without the "
                        "shim.\n",
                        strerror(errno));

        args = calloc((size_t) argc + 1, sizeof(char *));
        if (!args) {
                fprintf(stderr, "systemd-bootstrap: out of memory\n");
                return 1;
        }
        args[0] = (char *) systemd;
        for (int i = 1; i < argc; i++)
                args[i] = argv[i];

        execv(systemd, args);
        fprintf(stderr, "systemd-bootstrap: cannot execute %s: %s\n", systemd, strerror(errno));
        return errno == ENOENT ? EXIT_NOT_FOUND : 126;
}
