/* SPDX-License-Identifier: MIT */
/*
 * When PID 1 (of our PID namespace: the container's init) started, on the journal's clock.
 * Containers share the host's boot ID, so "this boot" in the journal also holds the entries of
 * earlier containers that used the same journal (a reused volume, a Kubernetes container
 * restart); the first entry of this container is the first one after its PID 1 started.
 */
#pragma once

#include <stdint.h>

/* CLOCK_MONOTONIC usec at which PID 1 started. Returns 0 or -errno. */
int pid1_start_monotonic_usec(uint64_t *ret);
