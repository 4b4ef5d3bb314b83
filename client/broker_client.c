/* SPDX-License-Identifier: MIT */
#include "broker_client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include "fdpass.h"
#include "log.h"
#include "macros.h"

#define BROKER_TIMEOUT_SEC 5

const char *broker_socket_path(void) {
        const char *p = getenv(BROKER_SOCKET_ENV);

        return p && *p ? p : BROKER_SOCKET_DEFAULT;
}

static int connect_broker(const char *path, int *ret) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        struct timeval tv = {.tv_sec = BROKER_TIMEOUT_SEC};
        _cleanup_close_ int fd = -EBADF;

        if (strlen(path) >= sizeof(sa.sun_path))
                return log_error_errno(ENAMETOOLONG, "Broker socket path too long: %s", path);
        strcpy(sa.sun_path, path);

        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return log_error_errno(errno, "Cannot create a socket: %m");
        /* Bounds connect() on a full backlog as well as the wait for the reply. */
        (void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                int e = errno;

                if (e == ENOENT || e == ECONNREFUSED)
                        return log_error_errno(ECONNREFUSED,
                                               "No broker listens on %s (%s). Start it with "
                                               "'systemctl start journalagent-broker.socket' "
                                               "(and enable it so it starts at boot).",
                                               path, strerror(e));
                if (e == EACCES || e == EPERM)
                        return log_error_errno(EACCES,
                                               "Not permitted to connect to %s: only root may "
                                               "fetch the container's stdout.",
                                               path);
                if (e == EAGAIN || e == ETIMEDOUT)
                        return log_error_errno(ETIMEDOUT,
                                               "The broker at %s does not accept connections "
                                               "(backlog full for %ds). Is journalagent-broker "
                                               "hung? Try 'systemctl restart journalagent-broker'.",
                                               path, BROKER_TIMEOUT_SEC);
                return log_error_errno(e, "Cannot connect to the broker at %s: %m", path);
        }
        *ret = TAKE_FD(fd);
        return 0;
}

static int explain_refusal(const char *path, int err) {
        switch (err) {
        case ENOENT:
                return log_error_errno(ENOENT,
                                       "The broker at %s holds no stdout/stderr: PID 1 never "
                                       "deposited them. Boot the container with "
                                       "/usr/bin/systemd-bootstrap as its entrypoint (it preloads "
                                       "/usr/lib/libjournalagent_interceptor.so into systemd). If "
                                       "the broker's fd store was flushed ('systemctl stop' on "
                                       "systemd < 254), run 'systemctl restart "
                                       "journalagent-broker.socket' to get a fresh deposit.",
                                       path);
        case EPERM:
        case EACCES:
                return log_error_errno(EACCES,
                                       "The broker at %s refused: only root may fetch the "
                                       "container's stdout.",
                                       path);
        default:
                return log_error_errno(EPROTO, "The broker at %s refused the request: %s.", path,
                                       strerror(err));
        }
}

int broker_fetch(const char *path, uint8_t streams, int ret_fds[2]) {
        struct proto_message m = {.type = PROTO_FETCH, .streams = streams};
        _cleanup_close_ int fd = -EBADF;
        int fds[PROTO_MAX_FDS];
        size_t n = 0, k = 0;
        int r;

        r = connect_broker(path, &fd);
        if (r < 0)
                return r;

        r = fdpass_send(fd, &m, NULL, 0, MSG_NOSIGNAL);
        /* EPIPE here is the broker's side of this connection (e.g. its idle timeout hit while we
         * were starved): retryable, and not to be confused with the container's log reader being
         * gone, which is what EPIPE means to our callers. */
        if (r == -EPIPE || r == -ECONNRESET)
                return log_error_errno(EPROTO,
                                       "The broker at %s closed the connection before our "
                                       "request arrived (%s); try again.",
                                       path, strerror(-r));
        if (r < 0)
                return log_error_errno(r, "Cannot send the request to the broker at %s: %m", path);

        r = fdpass_recv(fd, &m, fds, ELEMENTSOF(fds), &n, 0);
        if (r == -EAGAIN)
                return log_error_errno(ETIMEDOUT, "The broker at %s did not answer within %ds.",
                                       path, BROKER_TIMEOUT_SEC);
        if (r == -ECONNRESET)
                return log_error_errno(EPROTO,
                                       "The broker at %s closed the connection without an "
                                       "answer.",
                                       path);
        if (r < 0)
                return log_error_errno(EPROTO, "Cannot read the broker's answer: %s", strerror(-r));
        if (m.type == PROTO_ERROR)
                return explain_refusal(path, m.error);
        if (m.type != PROTO_FDS) {
                for (size_t i = 0; i < n; i++)
                        safe_close(fds[i]);
                return log_error_errno(EPROTO, "The broker sent an unexpected answer (type %u).",
                                       m.type);
        }

        ret_fds[0] = (m.streams & PROTO_STREAM_STDOUT) ? fds[k++] : -1;
        ret_fds[1] = (m.streams & PROTO_STREAM_STDERR) ? fds[k++] : -1;
        return 0;
}
