#!/bin/sh
# shellcheck disable=SC2016 # the single-quoted commands are expanded by the services' shells
# bench/gen-journal.sh PERMILLE SEED: runs INSIDE the benchmark container (Debian minbase: dash,
# mawk, logger) and logs PERMILLE/1000 of the benchmark journal's 200,000 generator lines through
# journald, from six services at once, each a transient unit (so the entries carry _SYSTEMD_UNIT
# and the rest, as real services' do), over all three transports journald takes:
#
#   web 60k, db 40k, worker 30k, auth 30k   stdout streams, "<N>" priority prefixes (gen.awk)
#   sched 20k                              syslog (/dev/log, logger --prio-prefix)
#   payments 20k                           native protocol with extra fields (loggen varied)
#
# Returns when every line is in the journal (systemd-run --wait; journald's rate limit is off in
# the benchmark image).
set -eu
permille=$1
seed=$2
lib=/usr/local/lib/jabench

run() { # NAME LINES CMD...
        name=$1
        n=$(($2 * permille / 1000))
        shift 2
        systemd-run --quiet --wait --collect --unit="gen-$name-$seed" \
                -p SyslogIdentifier="$name" -p Type=exec "$@" "$n" &
        pids="$pids $!"
}
pids=

# The line count goes last: each command takes it as its final argument.
run web 60000 /bin/sh -c 'exec awk -v seed='"$seed"'1 -f '"$lib"'/gen.awk -v n="$0"'
run db 40000 /bin/sh -c 'exec awk -v seed='"$seed"'2 -f '"$lib"'/gen.awk -v n="$0"'
run worker 30000 /bin/sh -c 'exec awk -v seed='"$seed"'3 -f '"$lib"'/gen.awk -v n="$0"'
run auth 30000 /bin/sh -c 'exec awk -v seed='"$seed"'4 -f '"$lib"'/gen.awk -v n="$0"'
run sched 20000 /bin/sh -c 'awk -v seed='"$seed"'5 -f '"$lib"'/gen.awk -v n="$0" |
        logger --prio-prefix -p daemon.info -t sched'
run payments 20000 /bin/sh -c 'exec /usr/local/bin/loggen varied "$0" '"$seed"'6'
for pid in $pids; do
        wait "$pid" # systemd-run --wait fails if the service did
done
