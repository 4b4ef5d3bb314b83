/* SPDX-License-Identifier: MIT */
/*
 * The broker's connections: accepts on the activated socket, reads one request per connection,
 * answers it and closes. Bounded (max connections, idle timeout); a bad peer is answered with an
 * error and dropped, the loop goes on.
 */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

#include "store.h"

struct server_config {
        unsigned max_connections;
        uint64_t idle_timeout_usec;
};

#define SERVER_MAX_CONNECTIONS_DEFAULT   256
#define SERVER_IDLE_TIMEOUT_USEC_DEFAULT (5 * 1000000ULL)

struct connection;

struct server {
        sd_event *event;
        struct store *store;
        struct server_config config;
        int listen_fd;
        sd_event_source *listen_source;
        struct connection *connections;
        unsigned n_connections;
        unsigned long n_served;   /* fetches answered with fds */
        unsigned long n_deposits; /* deposits accepted from PID 1 */
        void (*on_change)(struct server *server);
};

/* Starts accepting on listen_fd (not owned). on_change runs after every served request. */
int server_start(struct server *server, sd_event *event, struct store *store, int listen_fd,
                 const struct server_config *config, void (*on_change)(struct server *));
void server_stop(struct server *server);
