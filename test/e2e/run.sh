#!/bin/bash
# End-to-end tests for journalagent on real container managers: the image built from
# docker/Dockerfile on Debian bullseye (systemd 247), bookworm (252) and trixie (257), run by
# Docker Engine (default seccomp profile, no --privileged), Podman (rootful, runc) and
# systemd-nspawn (the same image's files, exported), checked on what the runtime itself shows as
# the container's output (`docker logs C 2>/dev/null` for stdout, `docker logs C 2>&1 >/dev/null`
# for stderr, `podman logs` likewise, nspawn's stdout and stderr pipes).
#
#   sudo make check-e2e         (from the repository root)
#   sudo test/e2e/run.sh
#
# Per cell (engine × suite), in this order; each line is a container (Docker, Podman) or a boot of
# the cell's one exported root file system (nspawn):
#   main     the recipe's flags (README.md, "Container recipes"), journal on a volume:
#     image  the image builds (Docker and Podman each build their own; nspawn uses Docker's)
#     boot   systemd reaches running/degraded; no failed units
#     a      every entry of `journalctl -b -o json` inside is on stdout (same __CURSOR) within 20 s
#            of the start, identical field for field; stdout holds only JSON objects
#     b      a line logged with systemd-cat reaches stdout within 2 s
#     d      after `docker stop` (STOPSIGNAL SIGRTMIN+3): a clean exit (status 0) within 60 s, and
#            every entry of the persistent journal (a volume on /var/log/journal, read afterwards
#            with a throwaway container) logged before "Stopping journalagent.service" is on stdout
#     e      (control) ja-e2e-helper, run as a service, sees pidfd_open work: it can tell
#     f      the same container started again (`docker start`; nspawn: the same directory booted
#            again, its stdout appended to the same capture): no __CURSOR twice in the whole log,
#            and every entry logged since the restart on stdout within 20 s
#     h      (Docker, Podman) the container removed and a new one run on the same journal
#            volume (compose recreate, a pod restart with an emptyDir journal): it shares the host's
#            boot ID with the old one and has no cursor file, yet its stdout holds none of the old
#            container's entries (--since-pid1), and every entry of its own on stdout within 20 s
#   seccomp  + a seccomp profile under which pidfd_open and pidfd_getfd fail with ENOSYS
#            (test/e2e/seccomp-no-pidfd.json; nspawn: --system-call-filter='~pidfd_getfd
#            pidfd_open', EPERM) and JOURNALAGENT_STDERR_PRIORITY=err:
#     e      a service inside gets ENOSYS (EPERM) from both; every boot entry arrives (on stdout
#            or stderr) within 20 s; a probe on stdout within 2 s
#     c      an `err` entry is on the stderr stream only, an `info` entry on stdout only, and
#            every forwarded entry is on the stream its PRIORITY says, on one stream only
#   tty      + `-t` (Docker, Podman): every boot entry and a probe arrive in the tty's log
#   sockact  (Podman, nspawn) the engine runs under `systemd-socket-activate -l PATH`, which hands
#            it a listening socket (LISTEN_FDS) that it passes to PID 1; a socket unit inside
#            with ListenStream=PATH (Accept=yes, `echo` as the service):
#     g      a connection from the host to PATH gets the service's answer (PID 1 adopted the
#            inherited socket: it did not create PATH itself), the unit is active, and every boot
#            entry reaches stdout within 20 s. Docker cannot pass a socket to a container: n/a.
#   own      (Docker) docker/Dockerfile.own-image-example built on the suite's base with
#            /sbin/init, /usr/sbin/init, /bin/systemd and /usr/bin/systemd removed: it boots from
#            /usr/lib/systemd/systemd, and every boot entry and a probe reach stdout
#
# Environment:
#   JA_E2E_ENGINES="docker podman nspawn"   engines to test (each must work: nothing is skipped)
#   JA_E2E_SUITES="bullseye bookworm trixie"
#   JA_CACHE=/var/cache/journalagent         debootstrapped root file systems (shared with
#                                            test/integration), built once per suite
#   JA_MIRROR=http://deb.debian.org/debian   JA_WORKDIR=/var/tmp   JA_KEEP=1 (keep containers,
#   DOCKER=/usr/bin/docker   PODMAN=podman   volumes and the run directory for inspection)
#
# The last line of output is exactly "N passed, N failed"; the exit status is non-zero if
# anything failed. A missing prerequisite ends the run at once with what to install. What an
# engine cannot do at all (Docker: socket activation; nspawn: -t) is listed as n/a, not counted.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=test/e2e/lib.sh
. test/e2e/lib.sh

ENGINES=${JA_E2E_ENGINES:-docker podman nspawn}
SUITES=${JA_E2E_SUITES:-bullseye bookworm trixie}
BOOT_ENTRIES_WITHIN_S=20
PROBE_WITHIN_MS=2000
STOP_TIMEOUT_S=60
# Case e's profile (test/e2e/seccomp-no-pidfd.json): every syscall allowed except pidfd_open and
# pidfd_getfd, which fail with ENOSYS (38) as on kernels before 5.3 and 5.6. "Docker's default
# profile plus an ENOSYS rule" cannot be written here: Docker 20.10 compiles its default profile
# into dockerd, nothing on disk to extend. For this case the two are equivalent: the allow-all base
# only allows more than the default, and anything journalagent needs that the default denies would
# already fail in the main container of the same cell, which runs under the engine's real default
# profile; journalagent calls neither pidfd syscall (the fds come from the broker), and systemd,
# which does, falls back to plain PIDs on ENOSYS, with syscalls the default allows. So what the
# case varies is exactly the two syscalls being absent. Podman takes the same file.
SECCOMP_NO_PIDFD=$PWD/test/e2e/seccomp-no-pidfd.json
CASES="image boot a b c d e f g t own"

# ---- what the runtime shows ------------------------------------------------------------------

# ct_json STREAM OUT: the complete JSON objects (one per line) the runtime shows on STREAM:
#   stdout, stderr, both (stdout's, then stderr's), or tty (the one stream of a `-t` container:
#   CR LF line ends, and systemd's own console output between and before our lines).
ct_json() {
        local stream=$1 out=$2 raw=$2.raw
        case $stream in
        stdout | stderr)
                "ct_$stream" "$raw"
                stdout_json "$raw" >"$out"
                ;;
        both)
                ct_stdout "$raw"
                stdout_json "$raw" >"$out"
                ct_stderr "$raw"
                stdout_json "$raw" >>"$out"
                ;;
        tty)
                ct_stdout "$raw"
                tr -d '\r' <"$raw" | sed -n 's/^[^{]*\({".*\)$/\1/p' | jq -c -R 'fromjson? | objects' >"$out"
                ;;
        esac
}

# cursors_on STREAM EXPECTED MISSING-OUT JSON-OUT: fetch STREAM's JSON objects into JSON-OUT,
# write the cursors of EXPECTED not among them to MISSING-OUT; succeed if there are none.
cursors_on() {
        ct_json "$1" "$4"
        jq -r '.__CURSOR // empty' "$4" | LC_ALL=C sort -u >"$3.out"
        LC_ALL=C comm -23 "$2" "$3.out" >"$3"
        [[ ! -s $3 ]]
}

# expect_entries NAME STREAM CURSORS JOURNAL-JSON: every cursor of CURSORS is on STREAM within
# BOOT_ENTRIES_WITHIN_S of CT_T0 (the missing ones are shown from JOURNAL-JSON).
expect_entries() {
        local name=$1 stream=$2 cursors=$3 journal=$4 n missing t
        n=$(wc -l <"$cursors")
        wait_until_ms $((CT_T0 + BOOT_ENTRIES_WITHIN_S * 1000)) "all $n entries on $stream" \
                cursors_on "$stream" "$cursors" "$cursors.missing" "$cursors.$stream.json" || true
        t=$(($(now_ms) - CT_T0))
        missing=$(wc -l <"$cursors.missing")
        log "$((n - missing)) of $n entries on $stream, ${t} ms after the start"
        if ((missing == 0)); then
                timing "$(cell_of "$name")" "$(case_of "$name"): all entries on $stream (ms after start)" "$t"
                pass "$name"
        else
                fail "$name" "$missing of $n entries missing on $stream after ${t} ms"
                show_entries "$journal" "$cursors.missing"
        fi
}

# expect_boot_entries NAME STREAM: every entry of `journalctl -b -o json` inside, on STREAM.
expect_boot_entries() {
        local name=$1 stream=$2 d
        d=$CT_DIR/entries-$stream
        mkdir -p "$d"
        ct_exec journalctl -b -o json --no-pager >"$d/inside.json"
        jq -r '.__CURSOR' "$d/inside.json" | LC_ALL=C sort -u >"$d/inside.cursors"
        [[ -s $d/inside.cursors ]] || { fail "$name" "journalctl -b printed nothing inside"; return; }
        expect_entries "$name" "$stream" "$d/inside.cursors" "$d/inside.json"
}

# case_of NAME: the case letter of a result name (ENGINE/SUITE/CASE/...).
case_of() {
        local IFS=/ parts
        read -ra parts <<<"$1"
        echo "${parts[2]:-}"
}

cell_of() {
        local IFS=/ parts
        read -ra parts <<<"$1"
        echo "${parts[0]}/${parts[1]}"
}

# ---- boot ------------------------------------------------------------------------------------

# case_boot PREFIX: systemd answers and finishes booting (running, or degraded with the failed
# units named); no unit failed. Results PREFIX/boot, PREFIX/no-failed-units.
case_boot() {
        local p=$1 state t label
        label=${p#"$(cell_of "$p")"}
        label=${label#/}
        wait_until 60 "systemd in $CT_NAME to answer" manager_answers || {
                fail "$p/boot" "systemctl never got an answer from PID 1"
                return
        }
        # stdout only: podman prints its own warnings on stderr (e.g. about a cgroup v1
        # controller the host lacks), which are not the container's state.
        state=$(JA_CMD_TIMEOUT=90 ct_exec systemctl is-system-running --wait 2>"$CT_DIR/is-system-running.err") || true
        t=$(($(now_ms) - CT_T0))
        timing "$(cell_of "$p")" "${label:-main}: boot finished (ms after start)" "$t"
        case $state in
        running | degraded) pass "$p/boot" ;;
        *)
                fail "$p/boot" "system state '$state' after boot ($(tail -n 3 "$CT_DIR/is-system-running.err" | tr '\n' ' '))"
                return
                ;;
        esac
        ct_exec systemctl --failed --no-legend --plain >"$CT_DIR/failed-units" || true
        if [[ -s $CT_DIR/failed-units ]]; then
                fail "$p/no-failed-units" "$(tr '\n' ' ' <"$CT_DIR/failed-units")"
        else
                pass "$p/no-failed-units"
        fi
}

manager_answers() {
        local state
        ct_running || { log "$CT_NAME is not running"; return 2; }
        state=$(ct_exec systemctl is-system-running 2>/dev/null) || true
        [[ $state =~ ^(initializing|starting|running|degraded|maintenance|stopping)$ ]]
}

booted() {
        ! grep -q "^FAIL $1/boot:" "$E2E_RESULTS"
}

# ---- a: every boot entry, from the first, on the runtime's stdout ------------------------------

case_boot_entries() {
        local cell=$1 d=$CT_DIR/a n_inside missing t
        mkdir -p "$d"
        ct_exec journalctl -b -o json --no-pager >"$d/inside.json"
        jq -r '.__CURSOR' "$d/inside.json" | LC_ALL=C sort -u >"$d/inside.cursors"
        n_inside=$(wc -l <"$d/inside.cursors")
        ((n_inside > 0)) || { fail "$cell/a/journal-not-empty" "journalctl -b printed nothing inside"; return; }

        wait_until_ms $((CT_T0 + BOOT_ENTRIES_WITHIN_S * 1000)) "all $n_inside boot entries on stdout" \
                cursors_on_stdout "$d/inside.cursors" "$d/missing.cursors" "$d/stdout" || true
        t=$(($(now_ms) - CT_T0))
        missing=$(wc -l <"$d/missing.cursors")
        log "$((n_inside - missing)) of the $n_inside entries of journalctl -b are on stdout" \
                "($(wc -l <"$d/stdout") lines there), ${t} ms after the start"
        if ((missing == 0)); then
                timing "$cell" "a: all boot entries on stdout (ms after start)" "$t"
                pass "$cell/a/every-boot-entry-on-stdout-within-${BOOT_ENTRIES_WITHIN_S}s"
        else
                fail "$cell/a/every-boot-entry-on-stdout-within-${BOOT_ENTRIES_WITHIN_S}s" \
                        "$missing of $n_inside entries missing on stdout after ${t} ms"
                show_entries "$d/inside.json" "$d/missing.cursors"
        fi

        # The same entry, field for field, for every cursor that arrived (keys sorted: journalctl's
        # key order is random per run).
        local diff_n
        jq -S -c . "$d/inside.json" | LC_ALL=C sort -u >"$d/inside.sorted"
        stdout_json "$d/stdout" | jq -S -c . | LC_ALL=C sort -u >"$d/out.sorted"
        LC_ALL=C comm -23 "$d/inside.sorted" "$d/out.sorted" | jq -r .__CURSOR | LC_ALL=C sort -u |
                LC_ALL=C comm -23 - "$d/missing.cursors" >"$d/differing.cursors"
        diff_n=$(wc -l <"$d/differing.cursors")
        if ((diff_n == 0)); then
                pass "$cell/a/entries-identical-to-journalctl"
        else
                fail "$cell/a/entries-identical-to-journalctl" "$diff_n entries differ from journalctl -o json"
                local c
                c=$(head -n 1 "$d/differing.cursors")
                diff <(jq -S --arg c "$c" 'select(.__CURSOR == $c)' "$d/inside.json") \
                        <(stdout_json "$d/stdout" | jq -S --arg c "$c" 'select(.__CURSOR == $c)') >&2 || true
        fi

        local non_json
        non_json=$(stdout_non_json "$d/stdout" | wc -l)
        if ((non_json == 0)); then
                pass "$cell/a/stdout-only-json-objects"
        else
                fail "$cell/a/stdout-only-json-objects" "$non_json lines of stdout are not JSON objects"
                stdout_non_json "$d/stdout" | head -n 5 >&2
        fi
}

# cursors_on_stdout EXPECTED MISSING-OUT STDOUT-OUT: fetch the runtime's stdout into STDOUT-OUT,
# write the cursors of EXPECTED not on it to MISSING-OUT; succeed if there are none.
cursors_on_stdout() {
        ct_stdout "$3"
        stdout_json "$3" | jq -r '.__CURSOR // empty' | LC_ALL=C sort -u >"$2.out"
        LC_ALL=C comm -23 "$1" "$2.out" >"$2"
        [[ ! -s $2 ]]
}

# The complete JSON objects of a stdout capture, one per line.
stdout_json() {
        jq -c -R 'fromjson? | objects' "$1"
}

# Complete lines of a stdout capture that are not a JSON object.
stdout_non_json() {
        head -n "$(wc -l <"$1")" "$1" | jq -R '(try fromjson catch null) as $v | if ($v | type) == "object" then empty else . end'
}

# show_entries JOURNAL-JSON CURSORS: the first ten of these entries, for the log.
show_entries() {
        log "first entries concerned (SYSLOG_IDENTIFIER: MESSAGE):"
        jq -r --rawfile m "$2" '
                ($m | split("\n") | map(select(length > 0) | {key: ., value: true}) | from_entries) as $set
                | select($set[.__CURSOR]) | "  \(.SYSLOG_IDENTIFIER // ._COMM): \(.MESSAGE)"' \
                "$1" | head -n 10 >&2 || true
}

# ---- b: a line logged now reaches stdout within 2 s --------------------------------------------

# case_probe NAME STREAM: a line logged with systemd-cat inside is on STREAM within 2 s.
case_probe() {
        local name=$1 stream=${2:-stdout} d probe t0 now
        d=$CT_DIR/probe
        mkdir -p "$d"
        probe="ja-e2e-probe-$RANDOM$RANDOM-$(date +%s%N)"
        t0=$(now_ms)
        ct_exec systemd-cat -t ja-e2e-probe echo "$probe"
        while :; do
                now=$(now_ms)
                ct_json "$stream" "$d/$stream.json"
                if json_has_message "$d/$stream.json" "$probe"; then
                        timing "$(cell_of "$name")" "$(case_of "$name"): probe latency incl. exec (ms)" $((now - t0))
                        log "probe line on $stream after $((now - t0)) ms (including the exec)"
                        pass "$name"
                        return
                fi
                if ((now - t0 > PROBE_WITHIN_MS)); then
                        fail "$name" "'$probe' logged with systemd-cat not on $stream after $((now - t0)) ms"
                        return
                fi
                sleep 0.05
        done
}

# json_has_message FILE MESSAGE [N]: FILE (JSON objects) holds N (default: at least one) entries
# with this MESSAGE.
json_has_message() {
        local n
        n=$(count_message "$1" "$2")
        if [[ -n ${3:-} ]]; then ((n == $3)); else ((n > 0)); fi
}

count_message() {
        local lines
        lines=$(grep -F -- "$2" "$1" || true)
        [[ -n $lines ]] || { echo 0; return; }
        jq --arg m "$2" 'select(.MESSAGE == $m) | 1' <<<"$lines" | wc -l
}

# ---- d: stop; nothing logged before the forwarder stopped is lost ------------------------------

# stop_container CELL: `docker stop` / `podman stop` / SIGTERM to nspawn, timed; the exit status
# must be 0 (systemd shut down by itself, not SIGKILLed after the timeout). Runs in the main shell,
# not in a run_case subshell: nspawn is a child of the main shell, and only it can wait for it.
stop_container() {
        local cell=$1 t0 t
        t0=$(now_ms)
        ct_stop "$STOP_TIMEOUT_S"
        t=$(($(now_ms) - t0))
        timing "$cell" "d: stop (ms)" "$t"
        log "$CT_NAME stopped after $t ms, exit status $CT_EXIT_STATUS"
        check "$cell/d/clean-stop" "exit status '$CT_EXIT_STATUS' after ${t} ms (0 expected: systemd shut down)" \
                test "$CT_EXIT_STATUS" = 0
}

# The forwarder is not stopped by the shutdown transaction; after systemd-shutdown's final SIGTERM
# it follows the journal up to journald's own "Journal stopped" (SD_MESSAGE_JOURNAL_STOP). So every
# entry of the journal, that last one included, must be on stdout.
case_after_stop() {
        local cell=$1 d=$CT_DIR/d n_before missing n_after after_missing
        mkdir -p "$d"
        ct_stdout "$d/stdout"
        ct_persistent_journal "$d/journal.json" || { fail "$cell/d/persistent-journal" "cannot read the journal volume"; return; }
        [[ -s $d/journal.json ]] || { fail "$cell/d/persistent-journal" "the journal volume holds no entries"; return; }
        jq -r 'select(.MESSAGE_ID == "d93fb3c9c24d451a97cea615ce59c00b") | .__CURSOR' \
                "$d/journal.json" | tail -n 1 >"$d/cutoff.cursor"
        [[ -s $d/cutoff.cursor ]] || { fail "$cell/d/journal-stopped" "no 'Journal stopped' entry in the journal"; return; }
        jq -r '.__CURSOR' "$d/journal.json" | LC_ALL=C sort -u >"$d/before.cursors"
        : >"$d/after.cursors"
        stdout_json "$d/stdout" | jq -r '.__CURSOR // empty' | LC_ALL=C sort -u >"$d/stdout.cursors"
        LC_ALL=C comm -23 "$d/before.cursors" "$d/stdout.cursors" >"$d/missing.cursors"
        LC_ALL=C comm -23 "$d/after.cursors" "$d/stdout.cursors" >"$d/after-missing.cursors"
        n_before=$(wc -l <"$d/before.cursors")
        missing=$(wc -l <"$d/missing.cursors")
        n_after=$(wc -l <"$d/after.cursors")
        after_missing=$(wc -l <"$d/after-missing.cursors")
        log "journal at stop: $n_before entries up to 'Journal stopped', $missing of them not on stdout"
        if ((missing == 0)); then
                pass "$cell/d/every-entry-until-journald-stopped-on-stdout"
        else
                fail "$cell/d/every-entry-until-journald-stopped-on-stdout" \
                        "$missing of $n_before entries of the journal never reached stdout"
                show_entries "$d/journal.json" "$d/missing.cursors"
        fi
        if ((after_missing > 0)); then
                log "not on stdout, logged after the forwarder was told to stop (for information):"
                show_entries "$d/journal.json" "$d/after-missing.cursors"
        fi
}

# ---- c: the stderr split --------------------------------------------------------------------

# case_stderr_split PREFIX: (JOURNALAGENT_STDERR_PRIORITY=err) an err entry on stderr only, an info
# entry on stdout only, and every forwarded entry on the stream its PRIORITY says, once.
case_stderr_split() {
        local p=$1 d=$CT_DIR/c tag errmsg infomsg
        mkdir -p "$d"
        tag=$RANDOM$RANDOM-$(date +%s%N)
        errmsg="ja-e2e-split-err-$tag"
        infomsg="ja-e2e-split-info-$tag"
        ct_exec systemd-cat -t ja-e2e-split -p err echo "$errmsg"
        ct_exec systemd-cat -t ja-e2e-split -p info echo "$infomsg"
        wait_until 10 "both lines on stdout or stderr" both_arrived "$d" "$errmsg" "$infomsg" || true
        ct_json stdout "$d/stdout.json"
        ct_json stderr "$d/stderr.json"
        check "$p/err-entry-on-stderr-only" \
                "err line: $(count_message "$d/stderr.json" "$errmsg") on stderr, $(count_message "$d/stdout.json" "$errmsg") on stdout (1 and 0 expected)" \
                split_ok "$d" "$errmsg" 1 0
        check "$p/info-entry-on-stdout-only" \
                "info line: $(count_message "$d/stdout.json" "$infomsg") on stdout, $(count_message "$d/stderr.json" "$infomsg") on stderr (1 and 0 expected)" \
                split_ok "$d" "$infomsg" 0 1

        local wrong_out wrong_err both n_out n_err
        # journalctl's PRIORITY is a string; entries without one count as info (6).
        wrong_out=$(jq -r 'select(((.PRIORITY // "6") | tonumber) <= 3) | .__CURSOR' "$d/stdout.json" | wc -l)
        wrong_err=$(jq -r 'select(((.PRIORITY // "6") | tonumber) > 3) | .__CURSOR' "$d/stderr.json" | wc -l)
        both=$(LC_ALL=C comm -12 <(jq -r .__CURSOR "$d/stdout.json" | LC_ALL=C sort -u) \
                <(jq -r .__CURSOR "$d/stderr.json" | LC_ALL=C sort -u) | wc -l)
        n_out=$(wc -l <"$d/stdout.json")
        n_err=$(wc -l <"$d/stderr.json")
        log "stderr split: $n_out entries on stdout, $n_err on stderr"
        if ((wrong_out + wrong_err + both == 0)); then
                pass "$p/every-entry-on-its-priority-stream-once"
        else
                fail "$p/every-entry-on-its-priority-stream-once" \
                        "$wrong_out err-or-worse entries on stdout, $wrong_err milder ones on stderr, $both on both"
        fi
}

both_arrived() {
        local d=$1
        ct_json both "$d/both.json"
        json_has_message "$d/both.json" "$2" && json_has_message "$d/both.json" "$3"
}

# split_ok DIR MESSAGE N-ON-STDERR N-ON-STDOUT
split_ok() {
        json_has_message "$1/stderr.json" "$2" "$3" && json_has_message "$1/stdout.json" "$2" "$4"
}

# ---- e: without pidfd_open / pidfd_getfd --------------------------------------------------------

# pidfd_probe: what ja-e2e-helper sees when systemd runs it as a service (the forwarder's
# situation: a child of PID 1, under whatever filter the runtime gave PID 1).
pidfd_probe() {
        ct_copy_in "$E2E_HELPER" /usr/local/bin/ja-e2e-helper
        ct_exec systemd-run --quiet --wait --pipe --collect /usr/local/bin/ja-e2e-helper pidfd </dev/null
}

# case_pidfd_control PREFIX: without the filter, pidfd_open works (so the helper can tell).
case_pidfd_control() {
        local p=$1 got
        got=$(pidfd_probe)
        log "ja-e2e-helper as a service under the engine's default profile: $got"
        check "$p/control-pidfd_open-works-without-the-filter" "helper printed '$got'" \
                test "${got%% *}" = pidfd_open=ok
}

# case_seccomp PREFIX ERRNO: both syscalls fail with ERRNO in a service; the journal still arrives.
case_seccomp() {
        local p=$1 errno=$2 got mainpid
        got=$(pidfd_probe)
        log "ja-e2e-helper as a service under the filter: $got"
        check "$p/filter-in-force-in-services" "helper printed '$got', not 'pidfd_open=$errno pidfd_getfd=$errno'" \
                test "$got" = "pidfd_open=$errno pidfd_getfd=$errno"
        mainpid=$(ct_exec systemctl show -p MainPID --value journalagent.service) || true
        log "journalagent.service (pid $mainpid): $(ct_exec grep -h '^Seccomp' "/proc/$mainpid/status" 2>/dev/null | tr '\n\t' '  ' || true)"
        expect_boot_entries "$p/every-boot-entry-on-stdout-or-stderr-within-${BOOT_ENTRIES_WITHIN_S}s" both
        case_probe "$p/probe-within-2s" stdout
}

# ---- f: restart with the persistent journal --------------------------------------------------

# case_restart PREFIX: after ct_restart. DIR_D is case d's directory (the journal at the stop and
# the stdout before the restart).
case_restart() {
        local p=$1 dir_d=$2 d=$CT_DIR/f dups n_new n_old_tail
        mkdir -p "$d"
        ct_exec journalctl -o json --no-pager >"$d/journal.json"
        jq -r .__CURSOR "$dir_d/journal.json" | LC_ALL=C sort -u >"$d/before-restart.cursors"
        jq -r .__CURSOR "$d/journal.json" | LC_ALL=C sort -u |
                LC_ALL=C comm -23 - "$d/before-restart.cursors" >"$d/new.cursors"
        n_new=$(wc -l <"$d/new.cursors")
        ((n_new > 0)) || { fail "$p/entries-since-restart-on-stdout" "no new entries in the journal after the restart"; return; }
        expect_entries "$p/entries-since-restart-on-stdout-within-${BOOT_ENTRIES_WITHIN_S}s" stdout "$d/new.cursors" "$d/journal.json"

        # The whole log, both streams (the main container has no stderr split, so stderr holds no
        # entries unless something is wrong).
        ct_json both "$d/stdout.json"
        jq -r '.__CURSOR // empty' "$d/stdout.json" | LC_ALL=C sort | uniq -d >"$d/dup.cursors"
        dups=$(wc -l <"$d/dup.cursors")
        # For the log: Docker and Podman containers keep the host's boot ID across a restart, so
        # the entries the first run logged after its forwarder stopped belong to "this boot" and
        # arrive now; nspawn gives every boot of the container a boot ID of its own.
        stdout_json "$dir_d/stdout" | jq -r '.__CURSOR // empty' | LC_ALL=C sort -u >"$d/before.stdout.cursors"
        n_old_tail=$(LC_ALL=C comm -23 "$d/before-restart.cursors" "$d/before.stdout.cursors" |
                LC_ALL=C comm -12 - <(jq -r '.__CURSOR // empty' "$d/stdout.json" | LC_ALL=C sort -u) | wc -l)
        log "after the restart: $(wc -l <"$d/stdout.json") entries in the whole log, $n_new new ones;" \
                "$n_old_tail entries the first run logged after its forwarder stopped arrived after the restart"
        if ((dups == 0)); then
                pass "$p/no-entry-printed-twice"
        else
                fail "$p/no-entry-printed-twice" "$dups entries are in the log more than once (same __CURSOR)"
                show_entries "$d/journal.json" "$d/dup.cursors"
        fi
}

# ---- h: a new container on an old container's journal volume ------------------------------

# case_recreated PREFIX OLD-JOURNAL-JSON: the new container's own entries (those of the journal
# that OLD-JOURNAL-JSON, the volume's entries before, does not have) all on stdout; none of the
# old ones.
case_recreated() {
        local p=$1 old=$2 d=$CT_DIR/h n_old n_new repeated
        mkdir -p "$d"
        jq -r .__CURSOR "$old" | LC_ALL=C sort -u >"$d/old.cursors"
        n_old=$(wc -l <"$d/old.cursors")
        ((n_old > 0)) || { fail "$p/old-entries" "the volume held no entries before"; return; }
        ct_exec journalctl -o json --no-pager >"$d/journal.json"
        jq -r .__CURSOR "$d/journal.json" | LC_ALL=C sort -u |
                LC_ALL=C comm -23 - "$d/old.cursors" >"$d/new.cursors"
        n_new=$(wc -l <"$d/new.cursors")
        ((n_new > 0)) || { fail "$p/own-entries-on-stdout" "the new container logged nothing"; return; }
        expect_entries "$p/own-entries-on-stdout-within-${BOOT_ENTRIES_WITHIN_S}s" stdout "$d/new.cursors" "$d/journal.json"

        ct_json stdout "$d/stdout.json"
        jq -r '.__CURSOR // empty' "$d/stdout.json" | LC_ALL=C sort -u |
                LC_ALL=C comm -12 - "$d/old.cursors" >"$d/repeated.cursors"
        repeated=$(wc -l <"$d/repeated.cursors")
        log "new container on the old volume: $n_old entries there before, $n_new of its own;" \
                "$(wc -l <"$d/stdout.json") entries on its stdout, $repeated of them the old container's"
        if ((repeated == 0)); then
                pass "$p/none-of-the-old-containers-entries"
        else
                fail "$p/none-of-the-old-containers-entries" \
                        "$repeated of the old container's $n_old entries are on the new container's stdout"
                show_entries "$old" "$d/repeated.cursors"
        fi
}

# ---- g: a socket the runtime hands to PID 1 --------------------------------------------------

G_ANSWER=ja-e2e-passed-socket-answer

# g_units DIR SOCKET: a socket unit for the inherited socket and its Accept=yes service.
g_units() {
        local dir=$1 sock=$2
        mkdir -p "$dir/sockets.target.wants"
        cat >"$dir/ja-e2e-passed.socket" <<UNIT
[Unit]
Description=journalagent e2e: the listening socket the container runtime handed to PID 1

[Socket]
# The path the socket is bound to on the host: PID 1 adopts an inherited socket whose address
# matches (it does not create one, and the path need not exist inside).
ListenStream=$sock
Accept=yes

[Install]
WantedBy=sockets.target
UNIT
        cat >"$dir/ja-e2e-passed@.service" <<UNIT
[Unit]
Description=journalagent e2e: answer on the inherited socket

[Service]
ExecStart=/bin/echo $G_ANSWER
StandardInput=socket
StandardOutput=socket
UNIT
        ln -sf ../ja-e2e-passed.socket "$dir/sockets.target.wants/ja-e2e-passed.socket"
}

# case_sockact PREFIX SOCKET: the answer came through the inherited socket, PID 1 did not bind one
# of its own, the unit is active, and the journal still arrives.
case_sockact() {
        local p=$1 sock=$2 d=$CT_DIR state
        check "$p/answer-through-the-inherited-socket" \
                "host connect to $sock: '$(tr '\n' ' ' <"$d/answer" 2>/dev/null)' (status $(cat "$d/answer.rc" 2>/dev/null)); $(tr '\n' ' ' <"$d/answer.err" 2>/dev/null)" \
                grep -qx "$G_ANSWER" "$d/answer"
        state=$(ct_exec systemctl is-active ja-e2e-passed.socket) || true
        check "$p/socket-unit-active" "ja-e2e-passed.socket is '$state'" test "$state" = active
        check "$p/pid1-did-not-bind-its-own" "$sock exists inside the container: PID 1 created the socket itself" \
                ct_exec test ! -e "$sock"
        expect_boot_entries "$p/every-boot-entry-on-stdout-within-${BOOT_ENTRIES_WITHIN_S}s" stdout
}

# ---- own: the example Dockerfile for users' own images -----------------------------------------

# build_own_image SUITE LOG: a base without /sbin/init, /usr/sbin/init, /bin/systemd and
# /usr/bin/systemd (systemd only as /usr/lib/systemd/systemd, as on distributions without Debian's
# links), then docker/Dockerfile.own-image-example on it.
build_own_image() {
        local suite=$1 logf=$2 empty=$E2E_RUN_DIR/empty-context
        mkdir -p "$empty"
        timeout 600 "$DOCKER" build --network none -t "ja-own-layout:$suite" - >"$logf" 2>&1 <<DOCKERFILE || return 1
FROM $BASE_REPO:$suite
RUN rm -f /sbin/init /usr/sbin/init /bin/systemd /usr/bin/systemd \\
    && test -x /usr/lib/systemd/systemd \\
    && ! test -e /sbin/init && ! test -e /usr/sbin/init && ! test -e /usr/bin/systemd && ! test -e /bin/systemd
DOCKERFILE
        timeout 600 "$DOCKER" build --network none -f docker/Dockerfile.own-image-example \
                --build-arg JOURNALAGENT_IMAGE="$IMAGE_REPO:$suite" --build-arg BASE="ja-own-layout:$suite" \
                -t "ja-own-e2e:$suite" "$empty" >>"$logf" 2>&1
}

case_own_layout() {
        local p=$1 links argv0
        # shellcheck disable=SC2016 # expanded by the container's shell
        links=$(ct_exec sh -c 'for f in /sbin/init /usr/sbin/init /bin/systemd /usr/bin/systemd; do [ -e "$f" ] && echo "$f"; done; true')
        argv0=$(ct_exec sh -c 'tr "\0" "\n" </proc/1/cmdline | head -n 1')
        check "$p/systemd-only-under-usr-lib" "present: '$links'; PID 1 started as '$argv0'" \
                test -z "$links" -a "$argv0" = /usr/lib/systemd/systemd
        expect_boot_entries "$p/every-boot-entry-on-stdout-within-${BOOT_ENTRIES_WITHIN_S}s" stdout
        case_probe "$p/probe-within-2s" stdout
}

# ---- the matrix ---------------------------------------------------------------------------------

# na NAME REASON: a case an engine cannot run at all; listed, not counted.
na() {
        printf 'NA %s: %s\n' "$1" "$2" >>"$E2E_RESULTS"
        log "n/a $1: $2"
}

# cell_image ENGINE SUITE CELL: the image this cell runs exists (built now, from the sources).
cell_image() {
        local engine=$1 suite=$2 cell=$3 t0 logf
        if [[ $engine == nspawn ]]; then
                # The Docker (or Podman) cell of this suite has just built it from the sources; if
                # that cell is not part of this run, or has not run yet, build it here.
                if [[ " $ENGINES " == *" $NSPAWN_IMAGE_ENGINE "* ]] &&
                        grep -q "^PASS $NSPAWN_IMAGE_ENGINE/$suite/image-builds$" "$E2E_RESULTS"; then
                        return 0
                fi
                cell_image "$NSPAWN_IMAGE_ENGINE" "$suite" "$cell"
                return
        fi
        ensure_base_image "$engine" "$suite"
        logf=$E2E_RUN_DIR/build-$engine-$suite.log
        t0=$(now_ms)
        if build_image "$engine" "$suite" "$logf"; then
                timing "$cell" "image build (ms)" $(($(now_ms) - t0))
                pass "$cell/image-builds"
        else
                fail "$cell/image-builds" "$engine build -f docker/Dockerfile --build-arg BASE=$BASE_REPO:$suite failed"
                tail -n 40 "$logf" >&2
                return 1
        fi
}

# start_variant CELL VARIANT PREFIX [FLAGS...]: start one of the cell's containers and wait for its
# boot (results PREFIX/start, PREFIX/boot, PREFIX/no-failed-units); fails if it did not boot.
start_variant() {
        local cell=$1 variant=$2 p=$3 engine=${1%%/*} suite=${1#*/}
        shift 3
        if ! ct_start "$engine" "$suite" "$cell" "$variant" "$@" || ! ct_start_wait; then
                fail "$p/start" "the container did not start"
                ct_dump_debug
                return 1
        fi
        CT_WRAP=()
        run_case "$p/boot" case_boot "$p"
        booted "$p" && return 0
        ct_dump_debug
        return 1
}

# end_variant CELL WHAT T0 FAILS-BEFORE: debug output if a check failed since, timing, removal.
end_variant() {
        local cell=$1 what=$2 t0=$3 fails_before=$4
        if (($(count_results FAIL) > fails_before)) && ct_running; then
                ct_dump_debug
        fi
        ct_remove
        timing "$cell" "$what: whole container (ms)" $(($(now_ms) - t0))
}

# variant_main CELL: boot, a, b, the pidfd control, d (stop), f (start again), h (a new container
# on the same journal volume).
variant_main() {
        local cell=$1 t0 fails_before
        t0=$(now_ms)
        fails_before=$(count_results FAIL)
        if ! start_variant "$cell" main "$cell"; then
                fail "$cell/not-run" "boot failed: cases a, b, d, f did not run"
                end_variant "$cell" main "$t0" "$fails_before"
                return
        fi
        run_case "$cell/a" case_boot_entries "$cell"
        run_case "$cell/b" case_probe "$cell/b/probe-within-2s" stdout
        run_case "$cell/e/control" case_pidfd_control "$cell/e"
        if (($(count_results FAIL) > fails_before)); then
                ct_dump_debug
        fi
        stop_container "$cell"
        run_case "$cell/d" case_after_stop "$cell"

        # f: the same container again, same journal, same cursor file.
        if ! ct_restart; then
                fail "$cell/f/start" "the stopped container did not start again"
        else
                run_case "$cell/f/boot" case_boot "$cell/f"
                if booted "$cell/f"; then
                        run_case "$cell/f" case_restart "$cell/f" "$CT_DIR/d"
                fi
        fi

        # h: a new container on the same journal volume.
        if [[ $CT_ENGINE == nspawn ]]; then
                na "$cell/h" "every boot of an nspawn container has a boot ID of its own: f covers booting the same journal again"
        else
                recreate_on_volume "$cell"
        fi
        end_variant "$cell" "main (a b d f h)" "$t0" "$fails_before"
}

# recreate_on_volume CELL: stop the main container, note what its journal volume holds, and run
# a new container on that volume (case h).
recreate_on_volume() {
        local cell=$1 d=$CT_DIR/h-before
        mkdir -p "$d"
        ct_stop "$STOP_TIMEOUT_S"
        if ! ct_persistent_journal "$d/journal.json" || [[ ! -s $d/journal.json ]]; then
                fail "$cell/h/old-entries" "cannot read the journal volume after the stop"
                return
        fi
        if ! ct_recreate; then
                fail "$cell/h/start" "no new container on the volume"
                return
        fi
        run_case "$cell/h/boot" case_boot "$cell/h"
        if booted "$cell/h"; then
                run_case "$cell/h" case_recreated "$cell/h" "$d/journal.json"
        fi
}

# variant_seccomp CELL: c and e in one container.
variant_seccomp() {
        local cell=$1 engine=${1%%/*} t0 fails_before flags errno
        t0=$(now_ms)
        fails_before=$(count_results FAIL)
        if [[ $engine == nspawn ]]; then
                nspawn_fresh_state "$E2E_RUN_DIR/$cell/root"
                flags=("--system-call-filter=~pidfd_getfd pidfd_open" --setenv=JOURNALAGENT_STDERR_PRIORITY=err)
                errno=EPERM
        else
                flags=(--security-opt "seccomp=$SECCOMP_NO_PIDFD" -e JOURNALAGENT_STDERR_PRIORITY=err)
                errno=ENOSYS
        fi
        if start_variant "$cell" seccomp "$cell/e" "${flags[@]}"; then
                run_case "$cell/e" case_seccomp "$cell/e" "$errno"
                run_case "$cell/c" case_stderr_split "$cell/c"
        else
                fail "$cell/c/not-run" "the seccomp container did not boot: case c did not run"
        fi
        end_variant "$cell" "seccomp (c e)" "$t0" "$fails_before"
}

# variant_tty CELL: `-t`.
variant_tty() {
        local cell=$1 t0 fails_before
        if [[ ${cell%%/*} == nspawn ]]; then
                na "$cell/t" "systemd-nspawn gives the payload a terminal only with --console=interactive or read-only, which need nspawn itself on one (the recipe is --console=pipe)"
                return
        fi
        t0=$(now_ms)
        fails_before=$(count_results FAIL)
        if start_variant "$cell" tty "$cell/t" -t; then
                run_case "$cell/t" expect_boot_entries "$cell/t/every-boot-entry-in-the-tty-log-within-${BOOT_ENTRIES_WITHIN_S}s" tty
                run_case "$cell/t/probe" case_probe "$cell/t/probe-within-2s" tty
        fi
        end_variant "$cell" "tty (t)" "$t0" "$fails_before"
}

# variant_sockact CELL: g.
variant_sockact() {
        local cell=$1 engine=${1%%/*} suite=${1#*/} t0 fails_before sock units flags=() rc=0
        if [[ $engine == docker ]]; then
                na "$cell/g" "Docker starts containers in its daemon: the client cannot hand the container a socket (no LISTEN_FDS passing)"
                return
        fi
        t0=$(now_ms)
        fails_before=$(count_results FAIL)
        sock=$E2E_RUN_DIR/g-$engine-$suite.sock
        units=$E2E_RUN_DIR/$cell/g-units
        rm -f "$sock"
        g_units "$units" "$sock"
        if [[ $engine == nspawn ]]; then
                nspawn_fresh_state "$E2E_RUN_DIR/$cell/root"
                mkdir -p "$E2E_RUN_DIR/$cell/root/usr/local/lib/systemd/system"
                cp -a "$units/." "$E2E_RUN_DIR/$cell/root/usr/local/lib/systemd/system/"
        else
                flags=(-v "$units:/usr/local/lib/systemd/system:ro")
        fi
        CT_WRAP=(systemd-socket-activate -l "$sock")
        if ! ct_start "$engine" "$suite" "$cell" sockact "${flags[@]}"; then
                CT_WRAP=()
                fail "$cell/g/start" "the container did not start"
                end_variant "$cell" "sockact (g)" "$t0" "$fails_before"
                return
        fi
        if ! wait_until 10 "systemd-socket-activate to listen on $sock" test -S "$sock"; then
                CT_WRAP=()
                fail "$cell/g/start" "systemd-socket-activate did not listen on $sock"
                end_variant "$cell" "sockact (g)" "$t0" "$fails_before"
                return
        fi
        # The first connection makes systemd-socket-activate run the engine; it waits in the
        # socket's backlog until systemd inside accepts it.
        "$E2E_HELPER" connect "$sock" 60 >"$CT_DIR/answer" 2>"$CT_DIR/answer.err" &
        local helper=$!
        CT_T0=$(now_ms)
        if ! ct_start_wait; then
                CT_WRAP=()
                kill "$helper" 2>/dev/null || true
                wait "$helper" 2>/dev/null || true
                fail "$cell/g/start" "the container did not start"
                ct_dump_debug
                end_variant "$cell" "sockact (g)" "$t0" "$fails_before"
                return
        fi
        CT_WRAP=()
        wait "$helper" || rc=$?
        echo "$rc" >"$CT_DIR/answer.rc"
        timing "$cell" "g: answer through the inherited socket (ms after connect)" $(($(now_ms) - CT_T0))
        run_case "$cell/g/boot" case_boot "$cell/g"
        if booted "$cell/g"; then
                run_case "$cell/g" case_sockact "$cell/g" "$sock"
        fi
        end_variant "$cell" "sockact (g)" "$t0" "$fails_before"
        [[ $engine == nspawn ]] && rm -f "$E2E_RUN_DIR/$cell/root/usr/local/lib/systemd/system/ja-e2e-passed"* \
                "$E2E_RUN_DIR/$cell/root/usr/local/lib/systemd/system/sockets.target.wants/ja-e2e-passed.socket"
        rm -f "$sock"
}

# variant_own CELL: docker/Dockerfile.own-image-example on a non-Debian layout (Docker only: the
# recipe is a Dockerfile; the other engines run the same kind of image).
variant_own() {
        local cell=$1 suite=${1#*/} t0 fails_before logf
        [[ ${cell%%/*} == docker ]] || return 0
        t0=$(now_ms)
        fails_before=$(count_results FAIL)
        logf=$E2E_RUN_DIR/build-own-$suite.log
        if ! build_own_image "$suite" "$logf"; then
                fail "$cell/own/image-builds" "docker/Dockerfile.own-image-example on ja-own-layout:$suite failed"
                tail -n 30 "$logf" >&2
                return
        fi
        timing "$cell" "own: both image builds (ms)" $(($(now_ms) - t0))
        pass "$cell/own/image-builds"
        if CT_IMAGE_OVERRIDE=ja-own-e2e:$suite start_variant "$cell" own "$cell/own"; then
                run_case "$cell/own" case_own_layout "$cell/own"
        fi
        end_variant "$cell" "own" "$t0" "$fails_before"
}

# cell ENGINE SUITE: build, then the cell's containers one after the other.
cell() {
        local engine=$1 suite=$2 cell=$1/$2 t_cell
        t_cell=$(now_ms)
        log "===== $cell"
        if ! cell_image "$engine" "$suite" "$cell"; then
                fail "$cell/not-run" "no image for $suite: the cases of this cell did not run"
                return
        fi
        variant_main "$cell"
        variant_seccomp "$cell"
        variant_tty "$cell"
        variant_sockact "$cell"
        variant_own "$cell"
        [[ $engine == nspawn ]] && nspawn_remove_root "$cell"
        timing "$cell" "whole cell incl. build (ms)" $(($(now_ms) - t_cell))
}

# The result of case COLUMN in CELL: FAIL, ok, n/a or - (not run).
matrix_entry() {
        local cell=$1 col=$2 re
        # nspawn boots the image the Docker (or Podman) cell of the suite built.
        if [[ $col == image && ${cell%%/*} == nspawn ]]; then
                cell=$NSPAWN_IMAGE_ENGINE/${cell#*/}
        fi
        case $col in
        image) re="$cell/image-builds" ;;
        boot) re="$cell/(boot|no-failed-units|start|not-run)" ;;
        *) re="$cell/$col/" ;;
        esac
        if grep -Eq "^FAIL $re" "$E2E_RESULTS"; then
                echo FAIL
        elif grep -Eq "^PASS $re" "$E2E_RESULTS"; then
                echo ok
        elif grep -Eq "^NA $cell/$col:" "$E2E_RESULTS"; then
                echo n/a
        else
                echo -
        fi
}

summary() {
        local engine suite col line
        log "timings:"
        awk -F'\t' '{ printf "  %-16s %-56s %8.1f s\n", $1, $2, $3 / 1000 }' "$E2E_TIMINGS" >&2
        log "matrix (passed/failed checks per cell):"
        for engine in $ENGINES; do
                for suite in $SUITES; do
                        printf '  %-16s %s passed, %s failed\n' "$engine/$suite" \
                                "$(grep -c "^PASS $engine/$suite/" "$E2E_RESULTS" || true)" \
                                "$(grep -c "^FAIL $engine/$suite/" "$E2E_RESULTS" || true)" >&2
                done
        done
        log "matrix (cases per cell; see the header of test/e2e/run.sh):"
        line=$(printf '  %-16s' cell)
        for col in $CASES; do line+=$(printf ' %-5s' "$col"); done
        echo "$line" >&2
        for engine in $ENGINES; do
                for suite in $SUITES; do
                        line=$(printf '  %-16s' "$engine/$suite")
                        for col in $CASES; do line+=$(printf ' %-5s' "$(matrix_entry "$engine/$suite" "$col")"); done
                        echo "$line" >&2
                done
        done
        echo "  (ok: every check passed; FAIL: one failed; n/a: the engine cannot; -: not run in this" \
                "cell: own is built and booted with Docker only, nspawn boots ${NSPAWN_IMAGE_ENGINE:-docker}'s image)" >&2
        if grep -q '^NA ' "$E2E_RESULTS"; then
                echo "not applicable:" >&2
                sed -n 's/^NA /  /p' "$E2E_RESULTS" >&2
        fi
        summarize_results "$E2E_RESULTS"
}

main() {
        local engine suite t0
        t0=$(now_ms)
        check_common_prerequisites
        for engine in $ENGINES; do check_engine "$engine"; done
        if [[ " $ENGINES " == *" nspawn "* ]]; then
                # nspawn boots the files of the image Docker (or Podman) built for the same suite.
                for engine in docker podman; do
                        if [[ " $ENGINES " == *" $engine "* ]]; then
                                NSPAWN_IMAGE_ENGINE=$engine
                                break
                        fi
                done
                if [[ -z $NSPAWN_IMAGE_ENGINE ]]; then
                        NSPAWN_IMAGE_ENGINE=docker
                        check_engine docker
                fi
        fi
        log "host cgroup layout: $(host_cgroup_layout); engines: $ENGINES; suites: $SUITES"
        e2e_results_init
        trap e2e_cleanup EXIT
        trap 'exit 130' INT
        trap 'exit 143' TERM
        build_helper
        # Base root file systems first: a missing debootstrap or mirror fails before any build.
        for suite in $SUITES; do ensure_rootfs "$suite" >/dev/null; done
        for suite in $SUITES; do
                for engine in $ENGINES; do
                        cell "$engine" "$suite"
                done
        done
        timing all "whole run (ms)" $(($(now_ms) - t0))
        summary
}

main "$@"
