/* SPDX-License-Identifier: MIT */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "fdpass.h"
#include "log.h"
#include "macros.h"

struct connection {
        struct server *server;
        int fd;
        struct ucred peer;
        sd_event_source *io;
        sd_event_source *timer;
        struct connection *prev, *next;
};

static int update_accepting(struct server *server) {
        return sd_event_source_set_enabled(server->listen_source,
                                           server->n_connections < server->config.max_connections
                                                   ? SD_EVENT_ON
                                                   : SD_EVENT_OFF);
}

static void connection_free(struct connection *c) {
        struct server *server = c->server;

        sd_event_source_disable_unref(c->io);
        sd_event_source_disable_unref(c->timer);
        safe_close(c->fd);
        if (c->prev)
                c->prev->next = c->next;
        else
                server->connections = c->next;
        if (c->next)
                c->next->prev = c->prev;
        server->n_connections--;
        free(c);
        (void) update_accepting(server);
}

static void reply_error(struct connection *c, int err, const char *why) {
        int r;

        log_notice("Refusing request from pid %d uid %u: %s.", (int) c->peer.pid,
                   (unsigned) c->peer.uid, why);
        r = fdpass_send_error(c->fd, err);
        if (r < 0)
                log_debug("Could not send the error reply to pid %d: %s", (int) c->peer.pid,
                          "peer gone");
}

static void handle_deposit(struct connection *c, const struct proto_message *m, int *fds) {
        struct server *server = c->server;
        size_t k = 0;
        int changed = 0;

        /* Only PID 1 has the runtime's stdout; anyone else would hijack the container's logs. */
        if (c->peer.pid != 1 || c->peer.uid != 0) {
                for (size_t i = 0; i < proto_stream_count(m->streams); i++)
                        safe_close(fds[i]);
                reply_error(c, EPERM, "only PID 1 (uid 0) may deposit");
                return;
        }

        for (int index = 0; index < STORE_N; index++) {
                int r;

                if (!(m->streams & (1u << index)))
                        continue;
                r = store_put(server->store, index, fds[k++]);
                if (r < 0)
                        log_warning_errno(r, "PID 1 deposited /dev/null as %s, ignoring it.",
                                          proto_stream_name((uint8_t) (1u << index)));
                else
                        changed |= r;
        }
        server->n_deposits++;
        log_info("Deposit from PID 1 %s.", changed ? "stored" : "unchanged (already held)");
        (void) fdpass_send(c->fd, &(struct proto_message){.type = PROTO_OK}, NULL, 0,
                           MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void handle_fetch(struct connection *c, const struct proto_message *m) {
        struct server *server = c->server;
        int fds[PROTO_MAX_FDS];
        uint8_t streams = 0;
        size_t n = 0;
        int r;

        /* Default policy: root only (the socket is 0600 too; this check holds if someone widens
         * the socket mode). */
        if (c->peer.uid != 0) {
                reply_error(c, EPERM, "only root may fetch");
                return;
        }

        for (int index = 0; index < STORE_N; index++) {
                int fd = store_get(server->store, index);

                if (!(m->streams & (1u << index)) || fd < 0)
                        continue;
                fds[n++] = fd;
                streams |= (uint8_t) (1u << index);
        }
        if (n == 0) {
                reply_error(c, ENOENT, "nothing of what was asked for is held");
                return;
        }

        r = fdpass_send(c->fd, &(struct proto_message){.type = PROTO_FDS, .streams = streams}, fds,
                        n, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (r < 0) {
                log_warning_errno(r, "Failed to send fds to pid %d, ignoring: %m",
                                  (int) c->peer.pid);
                return;
        }
        server->n_served++;
}

static int on_connection_io(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        struct connection *c = userdata;
        struct server *server = c->server;
        struct proto_message m;
        int fds[PROTO_MAX_FDS];
        size_t n_fds = 0;
        int r;

        (void) source;
        (void) fd;
        (void) revents;

        r = fdpass_recv(c->fd, &m, fds, ELEMENTSOF(fds), &n_fds, MSG_DONTWAIT);
        if (r == -EAGAIN || r == -EINTR)
                return 0;
        if (r == -EBADMSG || r == -EPROTONOSUPPORT)
                reply_error(c, -r,
                            r == -EBADMSG ? "malformed message" : "unknown protocol version");
        else if (r < 0)
                log_debug("Connection from pid %d ended: %d", (int) c->peer.pid, r);
        else if (m.type == PROTO_DEPOSIT)
                handle_deposit(c, &m, fds);
        else if (m.type == PROTO_FETCH)
                handle_fetch(c, &m);
        else {
                for (size_t i = 0; i < n_fds; i++)
                        safe_close(fds[i]);
                reply_error(c, EBADMSG, "not a request");
        }

        /* One request per connection: answered or refused, the connection is done. */
        connection_free(c);
        if (server->on_change)
                server->on_change(server);
        return 0;
}

static int on_connection_timeout(sd_event_source *source, uint64_t usec, void *userdata) {
        struct connection *c = userdata;

        (void) source;
        (void) usec;
        reply_error(c, ETIMEDOUT, "no request within the idle timeout");
        connection_free(c);
        return 0;
}

static int connection_new(struct server *server, int fd) {
        struct connection *c;
        socklen_t len = sizeof(struct ucred);
        uint64_t now;
        int r;

        c = calloc(1, sizeof(*c));
        if (!c) {
                safe_close(fd);
                return -ENOMEM;
        }
        c->server = server;
        c->fd = fd;
        c->next = server->connections;
        if (c->next)
                c->next->prev = c;
        server->connections = c;
        server->n_connections++;

        /* SO_PEERCRED holds the credentials of the peer at connect() time. */
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c->peer, &len) < 0) {
                r = log_warning_errno(errno, "Cannot read peer credentials, dropping: %m");
                goto fail;
        }

        r = sd_event_add_io(server->event, &c->io, fd, EPOLLIN, on_connection_io, c);
        if (r < 0)
                goto fail;
        r = sd_event_now(server->event, CLOCK_MONOTONIC, &now);
        if (r < 0)
                goto fail;
        r = sd_event_add_time(server->event, &c->timer, CLOCK_MONOTONIC,
                              now + server->config.idle_timeout_usec, 0, on_connection_timeout, c);
        if (r < 0)
                goto fail;
        return update_accepting(server);
fail:
        connection_free(c);
        return r;
}

static int on_listen_io(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        struct server *server = userdata;

        (void) source;
        (void) revents;
        while (server->n_connections < server->config.max_connections) {
                int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

                if (cfd < 0) {
                        if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                                log_warning_errno(errno, "accept() failed, ignoring: %m");
                        break;
                }
                (void) connection_new(server, cfd);
        }
        return 0;
}

int server_start(struct server *server, sd_event *event, struct store *store, int listen_fd,
                 const struct server_config *config, void (*on_change)(struct server *)) {
        int flags;

        /* systemd hands the socket over in blocking mode; the loop must never block in accept(). */
        flags = fcntl(listen_fd, F_GETFL);
        if (flags < 0 || fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK) < 0)
                return -errno;

        *server = (struct server){
                .event = event,
                .store = store,
                .config = *config,
                .listen_fd = listen_fd,
                .on_change = on_change,
        };
        return sd_event_add_io(event, &server->listen_source, listen_fd, EPOLLIN, on_listen_io,
                               server);
}

void server_stop(struct server *server) {
        while (server->connections)
                connection_free(server->connections);
        server->listen_source = sd_event_source_disable_unref(server->listen_source);
}
