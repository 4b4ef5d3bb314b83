#!/bin/bash
# Start a Docker daemon for the e2e tests if none answers (CI machines and sandboxes without an
# init system that would start docker.service). Needs Debian's docker.io. No bridge and no
# iptables: the tests run containers with --network none and builds with --network host.
#
#   test/e2e/start-dockerd.sh      prints the daemon's PID (or "running" if one already answered)
#
# The daemon keeps running after this script exits; its log is $JA_WORKDIR/journalagent-dockerd.log.
set -euo pipefail

JA_WORKDIR=${JA_WORKDIR:-/var/tmp}
DOCKER=${DOCKER:-/usr/bin/docker}
DOCKERD=${DOCKERD:-/usr/sbin/dockerd}
LOG=$JA_WORKDIR/journalagent-dockerd.log

((EUID == 0)) || { echo "start-dockerd.sh: must run as root" >&2; exit 2; }
[[ -x $DOCKER && -x $DOCKERD ]] ||
        { echo "start-dockerd.sh: $DOCKER or $DOCKERD missing: apt-get install docker.io" >&2; exit 2; }

if timeout 20 "$DOCKER" info >/dev/null 2>&1; then
        echo running
        exit 0
fi

setsid "$DOCKERD" --iptables=false --bridge=none </dev/null >"$LOG" 2>&1 &
pid=$!
for _ in $(seq 1 60); do
        if timeout 5 "$DOCKER" info >/dev/null 2>&1; then
                echo "$pid"
                exit 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
                break
        fi
        sleep 0.5
done
echo "start-dockerd.sh: dockerd did not come up within 30 s; last lines of $LOG:" >&2
tail -n 20 "$LOG" >&2
exit 1
