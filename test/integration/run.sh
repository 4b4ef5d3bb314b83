#!/bin/bash
# Integration tests for journalagent: boot real systemd (Debian 12, systemd 252) as PID 1 under
# systemd-nspawn with a pipe as its stdout, and check what reaches that pipe.
#
#   sudo make check-integration          (runs this from the repo root, after `make`)
#   sudo test/integration/run.sh         (same; needs build/ and build/test/ja-peer)
#
# Environment:
#   JA_CACHE=/var/cache/journalagent     where the debootstrapped rootfs is cached
#   JA_MIRROR=http://deb.debian.org/debian
#   JA_WORKDIR=/var/tmp                  scratch space for the per-boot copies
#   JA_KEEP=1                            keep the copies, stdout and stderr files for inspection
#   JA_ENTRYPOINT=PATH                   PID 1 command (default /usr/bin/systemd-bootstrap)
#
# First boot: cases a–e and g in order, then a final check that every journal entry of the whole
# run reached stdout, then an orderly poweroff. Second boot (f): pidfd_open/pidfd_getfd denied by
# seccomp, cases a–c again. The last line of output is exactly "N passed, N failed"; the exit
# status is non-zero if anything failed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=test/integration/lib.sh
. test/integration/lib.sh

# JA_ENTRYPOINT=/usr/lib/systemd/systemd boots without the shim: a negative control, every case
# about stdout must then fail.
ENTRYPOINT=${JA_ENTRYPOINT:-/usr/bin/systemd-bootstrap}
BROKER_SOCK=/run/journalagent/broker.sock
BURST_LINES=5000
BURST_KILLS=5

# ---- a: every entry of the boot, from the first, reaches stdout ------------------------------

# case_boot_entries NAME: every entry `journalctl -b` shows inside has reached stdout (same
# __CURSOR) within 10 s; the MESSAGE of each is the same, and so is the whole entry, field for
# field (journalctl -o json and journalagent print the same fields); stdout holds only JSON.
case_boot_entries() {
        local name=$1 d=$CT_DIR/$1 n_inside missing
        mkdir -p "$d"
        in_ct journalctl -b -o json --no-pager >"$d/inside.json"
        jq -r '.__CURSOR' "$d/inside.json" | LC_ALL=C sort -u >"$d/inside.cursors"
        n_inside=$(wc -l <"$d/inside.cursors")
        ((n_inside > 0)) || { fail "$name/journal-not-empty" "journalctl -b printed nothing inside"; return; }

        wait_until 10 "all $n_inside boot entries on stdout" \
                cursors_on_stdout "$d/inside.cursors" "$d/missing.cursors" || true
        missing=$(wc -l <"$d/missing.cursors")
        log "$((n_inside - missing)) of the $n_inside entries of journalctl -b are on stdout" \
                "($(wc -l <"$CT_OUT") lines there)"
        if ((missing == 0)); then
                pass "$name/every-boot-entry-on-stdout"
        else
                fail "$name/every-boot-entry-on-stdout" "$missing of $n_inside entries of the boot missing on stdout"
                log "first missing entries (SYSLOG_IDENTIFIER: MESSAGE):"
                jq -r --rawfile m "$d/missing.cursors" '
                        ($m | split("\n") | map(select(length > 0) | {key: ., value: true}) | from_entries) as $set
                        | select($set[.__CURSOR]) | "  \(.SYSLOG_IDENTIFIER // ._COMM): \(.MESSAGE)"' \
                        "$d/inside.json" | head -n 10 >&2 || true
        fi

        # Same MESSAGE, and the same entry field for field, for every cursor that did arrive.
        # Objects are compared with sorted keys: journalctl's key order is random per run.
        # With nothing arrived there is nothing to compare: that fails too, not passes vacuously.
        local msg_diff full_diff compared
        compared=$((n_inside - missing))
        jq -r '[.__CURSOR, (.MESSAGE | tojson)] | @tsv' "$d/inside.json" | LC_ALL=C sort -u >"$d/inside.msg"
        out_json | jq -r '[.__CURSOR, (.MESSAGE | tojson)] | @tsv' | LC_ALL=C sort -u >"$d/out.msg"
        msg_diff=$(LC_ALL=C join -t $'\t' "$d/inside.msg" "$d/out.msg" | awk -F'\t' '$2 != $3' | wc -l)
        check "$name/same-MESSAGE" "$msg_diff of $compared entries arrived with a different MESSAGE" \
                test "$msg_diff" -eq 0 -a "$compared" -gt 0

        jq -S -c . "$d/inside.json" | LC_ALL=C sort -u >"$d/inside.sorted"
        out_json | jq -S -c . | LC_ALL=C sort -u >"$d/out.sorted"
        LC_ALL=C comm -23 "$d/inside.sorted" "$d/out.sorted" | jq -r .__CURSOR | LC_ALL=C sort -u |
                LC_ALL=C comm -23 - "$d/missing.cursors" >"$d/differing.cursors"
        full_diff=$(wc -l <"$d/differing.cursors")
        if ((full_diff == 0 && compared > 0)); then
                pass "$name/entries-identical-to-journalctl"
        elif ((compared == 0)); then
                fail "$name/entries-identical-to-journalctl" "no entry arrived to compare"
        else
                fail "$name/entries-identical-to-journalctl" "$full_diff entries differ from journalctl -o json"
                show_entry_diff "$d" "$(head -n 1 "$d/differing.cursors")"
        fi

        local non_json
        non_json=$(out_non_json | wc -l)
        if ((non_json == 0)); then
                pass "$name/stdout-only-json-objects"
        else
                fail "$name/stdout-only-json-objects" "$non_json lines of stdout are not JSON objects"
                out_non_json | head -n 5 >&2
        fi
}

# cursors_on_stdout EXPECTED MISSING-OUT: write the cursors of EXPECTED not yet on stdout to
# MISSING-OUT; succeed if there are none.
cursors_on_stdout() {
        out_json | jq -r '.__CURSOR // empty' | LC_ALL=C sort -u >"$2.out"
        LC_ALL=C comm -23 "$1" "$2.out" >"$2"
        [[ ! -s $2 ]]
}

# For the log: which fields of one entry differ between journalctl and stdout.
show_entry_diff() {
        local d=$1 cursor=$2
        log "entry $cursor: fields that differ (< journalctl, > stdout):"
        diff <(jq -S --arg c "$cursor" 'select(.__CURSOR == $c)' "$d/inside.json") \
                <(out_json | jq -S --arg c "$cursor" 'select(.__CURSOR == $c)' | head -n 200) >&2 || true
}

# ---- b: a line logged after boot arrives within 2 s --------------------------------------------

case_probe() {
        local name=$1 latency
        if latency=$(probe_latency_ms 2) && ((latency <= 2000)); then
                log "probe line arrived after ${latency} ms"
                pass "$name/probe-within-2s"
        else
                fail "$name/probe-within-2s" "a line logged with systemd-cat did not reach stdout within 2 s"
        fi
}

# ---- c: the broker holds the runtime's stdout -------------------------------------------------

# The broker's status says which pipe it holds; it must be the very pipe nspawn's stdout is.
# (nspawn --console=pipe gives the payload its own fds 1 and 2, no pipe of its own in between,
# so the inodes must match.) Same for stderr.
case_broker_holds_stdout() {
        local name=$1 status held_out held_err
        status=$(broker_status_line)
        log "broker status: $status"
        if [[ $status =~ holding\ stdout\ \(pipe:\[([0-9]+)\]\) ]]; then
                held_out=${BASH_REMATCH[1]}
                pass "$name/broker-holds-stdout"
                check "$name/held-stdout-is-runtime-pipe" \
                        "broker holds pipe:[$held_out], nspawn's stdout is pipe:[$(nspawn_fd_inode 1)]" \
                        test "$held_out" = "$(nspawn_fd_inode 1)"
        else
                fail "$name/broker-holds-stdout" "status is '$status', expected 'holding stdout (pipe:[N])'"
        fi
        if [[ $status =~ stderr\ \(pipe:\[([0-9]+)\]\) ]]; then
                held_err=${BASH_REMATCH[1]}
                check "$name/held-stderr-is-runtime-pipe" \
                        "broker holds pipe:[$held_err] as stderr, nspawn's stderr is pipe:[$(nspawn_fd_inode 2)]" \
                        test "$held_err" = "$(nspawn_fd_inode 2)"
        else
                fail "$name/held-stderr-is-runtime-pipe" "status is '$status', expected 'stderr (pipe:[N])'"
        fi
}

# ---- d: forwarder SIGKILLed during a burst: nothing lost, repeats carry their cursor ----------

case_burst_with_kills() {
        local name=$1 d=$CT_DIR/$1 burst_pid k old_pid killed=0
        mkdir -p "$d"
        # shellcheck disable=SC2016 # expanded by the shell inside the container
        # Paced (50 lines every 80 ms, about 8 s in all) so that all the kills, about 1.5 s apart
        # with the unit's RestartSec=500ms, land inside the burst.
        in_ct sh -c 'i=0; while [ $i -lt '"$BURST_LINES"' ]; do i=$((i + 1)); echo "burst-$i";
                [ $((i % 50)) -ne 0 ] || sleep 0.08; done | systemd-cat -t ja-burst' &
        burst_pid=$!
        sleep 0.5
        for ((k = 1; k <= BURST_KILLS; k++)); do
                old_pid=$(unit_main_pid journalagent.service)
                if [[ $old_pid == 0 ]]; then
                        log "journalagent.service has no main process before kill $k"
                        break
                fi
                log "kill $k: SIGKILL to journalagent pid $old_pid;" \
                        "$(grep -c '"SYSLOG_IDENTIFIER":"ja-burst"' "$CT_OUT" || true) burst lines on stdout so far" \
                        "$(pid_alive "$burst_pid" || echo "(burst already over)")"
                # SIGKILL to the main PID itself: `systemctl kill` also signals the cgroup, which
                # fails at random with EIO on this CI host's hybrid cgroup layout.
                in_ct sh -c "kill -KILL $old_pid" # the builtin: minbase has no procps
                if ! wait_until 10 "journalagent.service to be restarted after kill $k" \
                        unit_restarted journalagent.service "$old_pid"; then
                        break
                fi
                killed=$k
                sleep 0.5
        done
        check "$name/forwarder-restarted-after-each-kill" \
                "only $killed of $BURST_KILLS SIGKILLs were followed by a restart" test "$killed" -eq "$BURST_KILLS"

        wait_until 30 "the burst writer to finish" burst_writer_done "$burst_pid" || kill "$burst_pid" || true
        wait "$burst_pid" || log "burst writer exited with status $?"

        # What journald stored is the reference: if it dropped lines (rate limiting), that is
        # not the forwarder's fault, but it makes the case meaningless, so it fails on its own.
        in_ct journalctl -b -t ja-burst -o cat --no-pager | LC_ALL=C sort -u >"$d/journal.msgs"
        local in_journal
        in_journal=$(wc -l <"$d/journal.msgs")
        check "$name/journald-stored-the-burst" \
                "journald stored $in_journal of $BURST_LINES burst lines (rate limited?)" \
                test "$in_journal" -eq "$BURST_LINES"

        wait_until 20 "all $in_journal burst lines on stdout" burst_on_stdout "$d" || true
        local total distinct pairs lost repeated
        total=$(wc -l <"$d/out.tsv")
        distinct=$(cut -f1 "$d/out.tsv" | LC_ALL=C sort -u | tee "$d/out.msgs" | wc -l)
        pairs=$(LC_ALL=C sort -u "$d/out.tsv" | wc -l)
        lost=$(LC_ALL=C comm -23 "$d/journal.msgs" "$d/out.msgs" | wc -l)
        repeated=$((total - distinct))
        log "burst: $total lines on stdout, $distinct distinct, lost $lost, repeated $repeated," \
                "$pairs distinct (MESSAGE, __CURSOR) pairs"
        check "$name/no-burst-line-lost" "$lost of $in_journal burst lines never reached stdout" \
                test "$lost" -eq 0
        check "$name/repeats-carry-same-cursor" \
                "$pairs distinct (MESSAGE, __CURSOR) pairs for $distinct distinct lines" \
                test "$pairs" -eq "$distinct" -a "$distinct" -gt 0
        # DESIGN.md: at most one entry repeated per forwarder crash.
        check "$name/at-most-one-repeat-per-kill" "$repeated lines repeated after $BURST_KILLS kills ($distinct distinct lines arrived)" \
                test "$repeated" -le "$BURST_KILLS" -a "$distinct" -gt 0
}

unit_main_pid() {
        in_ct systemctl show -P MainPID "$1"
}

# unit_restarted UNIT OLD-PID: UNIT is active again with a main process other than OLD-PID.
unit_restarted() {
        local state pid
        state=$(in_ct systemctl show -P ActiveState "$1")
        pid=$(unit_main_pid "$1")
        [[ $state == active && $pid != 0 && $pid != "$2" ]]
}

burst_writer_done() {
        ! pid_alive "$1"
}

# burst_on_stdout DIR: extract (MESSAGE, __CURSOR) of the burst lines on stdout into DIR/out.tsv;
# succeed once every line journald stored is among them.
burst_on_stdout() {
        out_json | jq -r 'select(.SYSLOG_IDENTIFIER == "ja-burst") | [.MESSAGE, .__CURSOR] | @tsv' >"$1/out.tsv"
        [[ -z $(cut -f1 "$1/out.tsv" | LC_ALL=C sort -u | LC_ALL=C comm -23 "$1/journal.msgs" -) ]]
}

# ---- e: daemon-reexec, then restarts of both services ----------------------------------------

case_reexec() {
        local name=$1 latency held
        in_ct systemctl daemon-reexec
        in_ct systemctl restart journalagent-broker.service journalagent.service
        if latency=$(probe_latency_ms 5); then
                log "probe line arrived ${latency} ms after the restarts"
                pass "$name/probe-after-reexec-and-restart"
        else
                fail "$name/probe-after-reexec-and-restart" "no line reached stdout within 5 s after daemon-reexec and restarts"
        fi
        held=$(broker_held_inode stdout)
        check "$name/broker-still-holds-stdout" \
                "broker status after reexec+restart: '$(broker_status_line)', nspawn's stdout is pipe:[$(nspawn_fd_inode 1)]" \
                test "$held" = "$(nspawn_fd_inode 1)"
}

# ---- g: who may talk to the broker ------------------------------------------------------------

case_peers() {
        local name=$1 out rc before after restarts_before

        # An unprivileged user cannot even connect (socket mode 0600) and gets no fds.
        rc=0
        out=$(in_ct setpriv --reuid=65534 --regid=65534 --clear-groups ja-peer "$BROKER_SOCK" fetch 2>&1) || rc=$?
        log "fetch as nobody: status $rc, '$out'"
        if [[ $out == *"reply: fds"* ]]; then
                fail "$name/nobody-gets-no-fds" "an unprivileged peer got fds: '$out'"
        elif ((rc == 126 || rc == 127 || rc == 124 || rc == 137)); then
                fail "$name/nobody-gets-no-fds" "ja-peer could not run or hung (status $rc): '$out'"
        elif ((rc != 0)) || [[ $out == *error* ]]; then
                pass "$name/nobody-gets-no-fds"
        else
                fail "$name/nobody-gets-no-fds" "expected a failure or an error reply, got status 0 and '$out'"
        fi

        # Only PID 1 may deposit: a root peer that is not PID 1 is refused, and the broker keeps
        # the runtime's stdout.
        before=$(broker_held_inode stdout)
        out=$(in_ct ja-peer "$BROKER_SOCK" deposit 2>&1) || true
        check "$name/deposit-by-non-pid1-refused" "deposit by a root peer: '$out', expected 'reply: error EPERM'" \
                test "$out" = "reply: error EPERM"
        after=$(broker_held_inode stdout)
        check "$name/deposit-leaves-stdout-unchanged" \
                "broker held pipe:[$before] before the deposit, '${after:-nothing}' after" \
                test -n "$before" -a "$before" = "$after"

        # Malformed requests get an error (or the connection closed) and harm nothing.
        restarts_before=$(in_ct systemctl show -P NRestarts journalagent-broker.service)
        local verb
        for verb in garbage oversized; do
                out=$(in_ct ja-peer "$BROKER_SOCK" "$verb" 2>&1) || true
                if [[ $out == "reply: error EBADMSG" || $out == "reply: closed" ]]; then
                        pass "$name/$verb-rejected"
                else
                        fail "$name/$verb-rejected" "'$verb' request: '$out', expected 'reply: error EBADMSG' or 'reply: closed'"
                fi
        done

        # A client that connects and says nothing must not stall the broker for everyone else.
        local idle_pid
        in_ct ja-peer "$BROKER_SOCK" idle >"$CT_DIR/idle-peer.out" 2>&1 &
        idle_pid=$!
        sleep 0.5
        rc=0
        out=$(JA_IN_CT_TIMEOUT=5 in_ct ja-peer "$BROKER_SOCK" fetch 2>&1) || rc=$?
        check "$name/fetch-while-idle-peer-connected" \
                "fetch while an idle peer is connected: status $rc, '$out'" test "$out" = "reply: fds stdout,stderr"
        kill "$idle_pid" 2>/dev/null || true
        wait "$idle_pid" 2>/dev/null || true

        case_probe "$name/after-bad-peers"
        out=$(in_ct ja-peer "$BROKER_SOCK" fetch 2>&1) || true
        check "$name/root-fetch-gets-fds" "fetch as root: '$out', expected 'reply: fds stdout,stderr'" \
                test "$out" = "reply: fds stdout,stderr"
        local restarts_after state result
        restarts_after=$(in_ct systemctl show -P NRestarts journalagent-broker.service)
        state=$(in_ct systemctl show -P ActiveState journalagent-broker.service)
        result=$(in_ct systemctl show -P Result journalagent-broker.service)
        check "$name/broker-did-not-crash" \
                "journalagent-broker.service: $state, result $result, NRestarts $restarts_before before the bad peers, $restarts_after after" \
                test "$state" = active -a "$result" = success -a "$restarts_after" = "$restarts_before"
}

# ---- f: pidfd_open/pidfd_getfd denied (Docker's default seccomp without CAP_SYS_PTRACE) -------

# Processes entered with nsenter do not inherit the container's seccomp filter: ask PID 1 to run
# the check as a service, which does. 434 is pidfd_open on every architecture.
case_seccomp_active() {
        local name=$1 out
        # shellcheck disable=SC2016 # perl code
        out=$(in_ct systemd-run --wait --pipe --quiet perl -e \
                'my $r = syscall(434, 1, 0); print $r < 0 ? "denied: $!\n" : "allowed\n"' 2>&1) || true
        check "$name/pidfd_open-denied-in-container" "pidfd_open in a service: '$out'" \
                test "$out" = "denied: Operation not permitted"
}

# ---- after poweroff: nothing lost while the container stops ---------------------------------

# DESIGN.md: nothing is lost during container stop, until journald itself stops. The forwarder
# is not stopped by the shutdown transaction; after systemd-shutdown's final SIGTERM it follows
# the journal up to journald's own "Journal stopped". So every entry of the boot, that one
# included, must be on stdout. The container's journal persists in its /var/log/journal, read
# here with the host's journalctl.
case_shutdown() {
        local name=$1 d=$CT_DIR/$1 jdir=$CT_ROOT/var/log/journal n_before missing
        mkdir -p "$d"
        [[ -d $jdir ]] || { fail "$name/persistent-journal" "$jdir missing: cannot see what was logged at stop"; return; }
        journalctl -D "$jdir" -o json --no-pager >"$d/journal.json"
        # journald's last entry, SD_MESSAGE_JOURNAL_STOP: the end of what can ever be forwarded.
        jq -r 'select(.MESSAGE_ID == "d93fb3c9c24d451a97cea615ce59c00b") | .__CURSOR' \
                "$d/journal.json" | tail -n 1 >"$d/cutoff.cursor"
        [[ -s $d/cutoff.cursor ]] || { fail "$name/journal-stopped" "no 'Journal stopped' entry in the journal"; return; }
        jq -r '.__CURSOR' "$d/journal.json" | LC_ALL=C sort -u >"$d/before.cursors"
        n_before=$(wc -l <"$d/before.cursors")
        cursors_on_stdout "$d/before.cursors" "$d/missing.cursors" || true
        missing=$(wc -l <"$d/missing.cursors")
        log "at stop: $((n_before - missing)) of the $n_before entries of the boot, up to 'Journal stopped', are on stdout"
        if ((missing == 0)); then
                pass "$name/every-entry-until-journald-stopped-on-stdout"
        else
                fail "$name/every-entry-until-journald-stopped-on-stdout" "$missing of $n_before entries of the boot never reached stdout"
                jq -r --rawfile m "$d/missing.cursors" '
                        ($m | split("\n") | map(select(length > 0) | {key: ., value: true}) | from_entries) as $set
                        | select($set[.__CURSOR]) | "  \(.SYSLOG_IDENTIFIER // ._COMM): \(.MESSAGE)"' \
                        "$d/journal.json" | head -n 10 >&2 || true
        fi
}

# ---- the run ------------------------------------------------------------------------------

main() {
        check_prerequisites
        ja_results_init
        ja_trap_exit ja_cleanup
        ROOTFS=$(ensure_rootfs bookworm)
        stage_install

        boot boot1
        run_case a case_boot_entries a
        run_case b case_probe b
        run_case c case_broker_holds_stdout c
        run_case d case_burst_with_kills d
        run_case e case_reexec e
        run_case g case_peers g
        run_case end case_boot_entries end-of-boot1
        check_poweroff boot1
        run_case stop case_shutdown stop

        boot boot2 --system-call-filter='~pidfd_getfd pidfd_open'
        run_case f/seccomp case_seccomp_active f
        run_case f/a case_boot_entries f/a
        run_case f/b case_probe f/b
        run_case f/c case_broker_holds_stdout f/c
        check_poweroff boot2
        # ja_cleanup (EXIT) prints "N passed, N failed" and sets the exit status.
}

# Sourcing this file (e.g. to try one case by hand) defines everything but runs nothing.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
        main "$@"
fi
