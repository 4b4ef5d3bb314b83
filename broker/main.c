/* SPDX-License-Identifier: MIT */
/*
 * journalagent-broker: keeps the container runtime's stdout/stderr, deposited by PID 1's shim,
 * in systemd's fd store and hands them to permitted clients. Started by
 * journalagent-broker.socket (Accept=no); on every start it takes back the listening socket and
 * the stored fds from $LISTEN_FDS/$LISTEN_FDNAMES.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "log.h"
#include "macros.h"
#include "server.h"
#include "store.h"

#define EXIT_CONFIG 78 /* EX_CONFIG: started the wrong way, restarting will not help */

/* Every STATUS= is a message PID 1 parses and stores; sent after each fetch it cost the broker
 * 17 % of its CPU (and PID 1 its share) under a stream of fetches. The served count is for
 * people reading `systemctl status`: one update a second is plenty, and a pending one is sent by
 * a timer so that the last count always shows. A change of what is held (a new deposit from
 * PID 1: rare, and what tests and people look for) is published at once. */
#define STATUS_INTERVAL_USEC (1000000ULL)
#define STATUS_ACCURACY_USEC (50000ULL)

static struct server_config arg_config = {
        .max_connections = SERVER_MAX_CONNECTIONS_DEFAULT,
        .idle_timeout_usec = SERVER_IDLE_TIMEOUT_USEC_DEFAULT,
};

static void help(void) {
        printf("Usage: journalagent-broker [OPTIONS]\n"
               "\n"
               "Holds the container's stdout/stderr (deposited by PID 1) in systemd's fd store and\n"
               "hands them to root clients. Runs only socket-activated by\n"
               "journalagent-broker.socket.\n"
               "\n"
               "  -h --help                 Show this help\n"
               "     --version              Show the version\n"
               "     --max-connections=N    Connections served at once (default %u)\n"
               "     --idle-timeout=SECONDS Drop a connection that sends nothing (default %llu)\n",
               SERVER_MAX_CONNECTIONS_DEFAULT, SERVER_IDLE_TIMEOUT_USEC_DEFAULT / 1000000ULL);
}

static int parse_unsigned(const char *s, unsigned long max, unsigned long *ret) {
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno != 0 || end == s || *end != '\0' || v == 0 || v > max || s[0] == '-')
                return -EINVAL;
        *ret = v;
        return 0;
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_MAX_CONNECTIONS, ARG_IDLE_TIMEOUT };
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, ARG_VERSION},
                {"max-connections", required_argument, NULL, ARG_MAX_CONNECTIONS},
                {"idle-timeout", required_argument, NULL, ARG_IDLE_TIMEOUT},
                {},
        };
        unsigned long v;
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("journalagent-broker %s\n", VERSION);
                        return 0;
                case ARG_MAX_CONNECTIONS:
                        if (parse_unsigned(optarg, 65536, &v) < 0)
                                return log_error_errno(EINVAL,
                                                       "Invalid --max-connections=%s: "
                                                       "expected 1..65536.",
                                                       optarg);
                        arg_config.max_connections = (unsigned) v;
                        break;
                case ARG_IDLE_TIMEOUT:
                        if (parse_unsigned(optarg, 3600, &v) < 0)
                                return log_error_errno(EINVAL,
                                                       "Invalid --idle-timeout=%s: "
                                                       "expected 1..3600 seconds.",
                                                       optarg);
                        arg_config.idle_timeout_usec = v * 1000000ULL;
                        break;
                case '?':
                        return -EINVAL;
                default:
                        abort();
                }
        if (optind < argc)
                return log_error_errno(EINVAL, "Unexpected argument '%s'.", argv[optind]);
        return 1;
}

/* Sorts the activation fds: our listening socket, then what the fd store gave back. */
static int take_listen_fds(struct store *store, int *ret_listen_fd) {
        char **names = NULL;
        int listen_fd = -EBADF, n;

        n = sd_listen_fds_with_names(1, &names);
        if (n < 0)
                return log_error_errno(n, "Failed to read $LISTEN_FDS: %m");

        for (int i = 0; i < n; i++) {
                int fd = SD_LISTEN_FDS_START + i, index;
                const char *name = names && names[i] ? names[i] : "unknown";

                if (listen_fd < 0 && sd_is_socket_unix(fd, SOCK_SEQPACKET, 1, NULL, 0) > 0) {
                        listen_fd = fd;
                        continue;
                }
                index = store_index_from_name(name);
                if (index >= 0) {
                        log_info("Took back %s from systemd's fd store.", name);
                        store_adopt(store, index, fd);
                } else {
                        log_warning("Ignoring unexpected fd %d named '%s'.", fd, name);
                        safe_close(fd);
                }
        }
        for (int i = 0; names && i < n; i++)
                free(names[i]);
        free(names);

        if (listen_fd < 0)
                return log_error_errno(EBADF,
                                       "No listening SOCK_SEQPACKET socket was passed: "
                                       "journalagent-broker runs only socket-activated. Start it "
                                       "with 'systemctl start journalagent-broker.socket'.");
        *ret_listen_fd = listen_fd;
        return 0;
}

static struct {
        sd_event_source *timer; /* one-shot: sends the pending update */
        uint64_t sent_usec;     /* CLOCK_MONOTONIC of the last update; 0: none yet */
        unsigned long generation;
        bool pending;
} status;

static void send_status(struct server *server, uint64_t now) {
        (void) sd_notifyf(0, "STATUS=%s; %lu clients served", store_describe(server->store),
                          server->n_served);
        status.sent_usec = now;
        status.generation = server->store->generation;
        status.pending = false;
        if (status.timer)
                (void) sd_event_source_set_enabled(status.timer, SD_EVENT_OFF);
}

static int on_status_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        uint64_t now;

        /* usec is when it was due; with the accuracy slack, now may be later. */
        if (sd_event_now(sd_event_source_get_event(source), CLOCK_MONOTONIC, &now) < 0)
                now = usec;
        send_status(userdata, now);
        return 0;
}

static void update_status(struct server *server) {
        uint64_t now, due;
        int r;

        r = sd_event_now(server->event, CLOCK_MONOTONIC, &now);
        if (r < 0 || status.sent_usec == 0 || server->store->generation != status.generation ||
            now >= status.sent_usec + STATUS_INTERVAL_USEC) {
                send_status(server, r < 0 ? 0 : now);
                return;
        }
        if (status.pending)
                return;
        due = status.sent_usec + STATUS_INTERVAL_USEC;
        if (status.timer)
                r = sd_event_source_set_time(status.timer, due);
        else
                r = sd_event_add_time(server->event, &status.timer, CLOCK_MONOTONIC, due,
                                      STATUS_ACCURACY_USEC, on_status_timer, server);
        if (r >= 0)
                r = sd_event_source_set_enabled(status.timer, SD_EVENT_ONESHOT);
        if (r < 0) {
                /* Never leave the last count unpublished: send it now instead. */
                (void) log_full_errno(LOG_DEBUG, r,
                                      "Cannot schedule the status update, sending it now: %m");
                send_status(server, now);
                return;
        }
        status.pending = true;
}

int main(int argc, char *argv[]) {
        sd_event *event = NULL;
        struct store store;
        struct server server = {};
        int listen_fd = -EBADF, r;
        sigset_t mask;

        log_setup("journalagent-broker");
        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;

        r = sd_event_default(&event);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate the event loop: %m"), EXIT_FAILURE;
        store_init(&store, event);

        r = take_listen_fds(&store, &listen_fd);
        if (r < 0) {
                r = EXIT_CONFIG;
                goto finish;
        }

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        if (sd_event_add_signal(event, NULL, SIGTERM, NULL, NULL) < 0 ||
            sd_event_add_signal(event, NULL, SIGINT, NULL, NULL) < 0) {
                log_error("Failed to set up signal handling.");
                r = EXIT_FAILURE;
                goto finish;
        }
        /* Broken peers must never kill the broker with SIGPIPE. */
        signal(SIGPIPE, SIG_IGN);

        r = server_start(&server, event, &store, listen_fd, &arg_config, update_status);
        if (r < 0) {
                log_error_errno(r, "Failed to watch the listening socket: %m");
                r = EXIT_FAILURE;
                goto finish;
        }

        update_status(&server);
        (void) sd_notify(0, "READY=1");

        r = sd_event_loop(event);
        if (r < 0)
                log_error_errno(r, "Event loop failed: %m");
        if (status.pending)
                send_status(&server, 0);
        (void) sd_notify(0, "STOPPING=1");
        r = r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
finish:
        status.timer = sd_event_source_disable_unref(status.timer);
        server_stop(&server);
        store_done(&store);
        safe_close(listen_fd);
        sd_event_unref(event);
        return r;
}
