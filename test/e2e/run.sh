#!/bin/bash
# End-to-end tests for journalagent on real container managers: the image built from
# docker/Dockerfile on Debian bullseye (systemd 247), bookworm (252) and trixie (257), run by
# Docker Engine (default seccomp profile, no --privileged), Podman (rootful, runc) and
# systemd-nspawn (the same image's files, exported), checked on what the runtime itself shows as
# the container's stdout (`docker logs C 2>/dev/null`, `podman logs`, nspawn's stdout pipe).
#
#   sudo make check-e2e         (from the repository root)
#   sudo test/e2e/run.sh
#
# Per cell (engine × suite):
#   image   the image builds (Docker and Podman each build their own; nspawn uses Docker's)
#   boot    systemd reaches running/degraded; no failed units
#   a       every entry of `journalctl -b -o json` inside is on stdout (same __CURSOR) within 20 s
#           of the start, identical field for field; stdout holds only JSON objects
#   b       a line logged with systemd-cat reaches stdout within 2 s
#   d       after `docker stop` (STOPSIGNAL SIGRTMIN+3): a clean exit (status 0) within 60 s, and
#           every entry of the persistent journal (a volume on /var/log/journal, read afterwards
#           with a throwaway container) logged before "Stopping journalagent.service" is on stdout
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
# anything failed. A missing prerequisite ends the run at once with what to install.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=test/e2e/lib.sh
. test/e2e/lib.sh

ENGINES=${JA_E2E_ENGINES:-docker podman nspawn}
SUITES=${JA_E2E_SUITES:-bullseye bookworm trixie}
BOOT_ENTRIES_WITHIN_S=20
PROBE_WITHIN_MS=2000
STOP_TIMEOUT_S=60

# ---- boot ------------------------------------------------------------------------------------

# case_boot CELL: systemd answers and finishes booting (running, or degraded with the failed
# units named); no unit failed.
case_boot() {
        local cell=$1 state t
        wait_until 60 "systemd in $CT_NAME to answer" manager_answers || {
                fail "$cell/boot" "systemctl never got an answer from PID 1"
                return
        }
        # stdout only: podman prints its own warnings on stderr (e.g. about a cgroup v1
        # controller the host lacks), which are not the container's state.
        state=$(JA_CMD_TIMEOUT=90 ct_exec systemctl is-system-running --wait 2>"$CT_DIR/is-system-running.err") || true
        t=$(($(now_ms) - CT_T0))
        timing "$cell" "boot finished (ms after start)" "$t"
        case $state in
        running | degraded) pass "$cell/boot" ;;
        *)
                fail "$cell/boot" "system state '$state' after boot ($(tail -n 3 "$CT_DIR/is-system-running.err" | tr '\n' ' '))"
                return
                ;;
        esac
        ct_exec systemctl --failed --no-legend --plain >"$CT_DIR/failed-units" || true
        if [[ -s $CT_DIR/failed-units ]]; then
                fail "$cell/no-failed-units" "$(tr '\n' ' ' <"$CT_DIR/failed-units")"
        else
                pass "$cell/no-failed-units"
        fi
}

manager_answers() {
        local state
        ct_running || { log "$CT_NAME is not running"; return 2; }
        state=$(ct_exec systemctl is-system-running 2>/dev/null) || true
        [[ $state =~ ^(initializing|starting|running|degraded|maintenance|stopping)$ ]]
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

case_probe() {
        local cell=$1 d=$CT_DIR/b probe t0 now
        mkdir -p "$d"
        probe="ja-e2e-probe-$RANDOM$RANDOM-$(date +%s%N)"
        t0=$(now_ms)
        ct_exec systemd-cat -t ja-e2e-probe echo "$probe"
        while :; do
                now=$(now_ms)
                ct_stdout "$d/stdout"
                if stdout_has_message "$d/stdout" "$probe"; then
                        timing "$cell" "b: probe latency incl. exec (ms)" $((now - t0))
                        log "probe line on stdout after $((now - t0)) ms (including the exec)"
                        pass "$cell/b/probe-within-2s"
                        return
                fi
                if ((now - t0 > PROBE_WITHIN_MS)); then
                        fail "$cell/b/probe-within-2s" "'$probe' logged with systemd-cat not on stdout after $((now - t0)) ms"
                        return
                fi
                sleep 0.05
        done
}

stdout_has_message() {
        local lines n
        lines=$(grep -F -- "$2" "$1" || true)
        [[ -n $lines ]] || return 1
        n=$(jq -R --arg m "$2" 'fromjson? | objects | select(.MESSAGE == $m) | 1' <<<"$lines" | wc -l)
        ((n > 0))
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

# The forwarder cannot forward what is logged after it exits, so the cut-off is the entry in which
# PID 1 announces "Stopping journalagent.service" (right before it sends SIGTERM); every entry of
# the journal before it must be on stdout. The entries after it are counted for the log.
case_after_stop() {
        local cell=$1 d=$CT_DIR/d n_before missing n_after after_missing
        mkdir -p "$d"
        ct_stdout "$d/stdout"
        ct_persistent_journal "$d/journal.json" || { fail "$cell/d/persistent-journal" "cannot read the journal volume"; return; }
        [[ -s $d/journal.json ]] || { fail "$cell/d/persistent-journal" "the journal volume holds no entries"; return; }
        jq -r 'select(.SYSLOG_IDENTIFIER == "systemd" and .UNIT == "journalagent.service"
                        and (.MESSAGE | tostring | startswith("Stopping"))) | .__CURSOR' \
                "$d/journal.json" | head -n 1 >"$d/cutoff.cursor"
        [[ -s $d/cutoff.cursor ]] || { fail "$cell/d/forwarder-stopped" "no 'Stopping journalagent.service' entry in the journal"; return; }
        jq -r '.__CURSOR' "$d/journal.json" |
                awk -v cut="$(<"$d/cutoff.cursor")" 'done { next } $0 == cut { done = 1; next } { print }' |
                LC_ALL=C sort -u >"$d/before.cursors"
        jq -r '.__CURSOR' "$d/journal.json" |
                awk -v cut="$(<"$d/cutoff.cursor")" '$0 == cut { done = 1 } done { print }' |
                LC_ALL=C sort -u >"$d/after.cursors"
        stdout_json "$d/stdout" | jq -r '.__CURSOR // empty' | LC_ALL=C sort -u >"$d/stdout.cursors"
        LC_ALL=C comm -23 "$d/before.cursors" "$d/stdout.cursors" >"$d/missing.cursors"
        LC_ALL=C comm -23 "$d/after.cursors" "$d/stdout.cursors" >"$d/after-missing.cursors"
        n_before=$(wc -l <"$d/before.cursors")
        missing=$(wc -l <"$d/missing.cursors")
        n_after=$(wc -l <"$d/after.cursors")
        after_missing=$(wc -l <"$d/after-missing.cursors")
        log "journal at stop: $n_before entries before 'Stopping journalagent.service', $missing of them not on stdout;" \
                "$n_after from that one on, $((n_after - after_missing)) of them on stdout"
        if ((missing == 0)); then
                pass "$cell/d/entries-before-forwarder-stop-on-stdout"
        else
                fail "$cell/d/entries-before-forwarder-stop-on-stdout" \
                        "$missing of $n_before entries logged before 'Stopping journalagent.service' never reached stdout"
                show_entries "$d/journal.json" "$d/missing.cursors"
        fi
        if ((after_missing > 0)); then
                log "not on stdout, logged after the forwarder was told to stop (for information):"
                show_entries "$d/journal.json" "$d/after-missing.cursors"
        fi
}

# ---- the matrix ---------------------------------------------------------------------------------

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

# cell ENGINE SUITE: build, boot, cases a, b, d, remove.
cell() {
        local engine=$1 suite=$2 cell=$1/$2 t_cell
        t_cell=$(now_ms)
        log "===== $cell"
        if ! cell_image "$engine" "$suite" "$cell"; then
                fail "$cell/not-run" "no image for $suite: the cases of this cell did not run"
                return
        fi
        local fails_before
        fails_before=$(count_results FAIL)
        if ! ct_start "$engine" "$suite" "$cell"; then
                fail "$cell/start" "the container did not start"
                ct_dump_debug
                ct_remove
                return
        fi
        run_case "$cell/boot" case_boot "$cell"
        if grep -q "^FAIL $cell/boot:" "$E2E_RESULTS"; then
                fail "$cell/not-run" "boot failed: cases a, b, d did not run"
                ct_dump_debug
        else
                run_case "$cell/a" case_boot_entries "$cell"
                run_case "$cell/b" case_probe "$cell"
                if (($(count_results FAIL) > fails_before)); then
                        ct_dump_debug
                fi
                stop_container "$cell"
                run_case "$cell/d" case_after_stop "$cell"
        fi
        ct_remove
        timing "$cell" "whole cell incl. build (ms)" $(($(now_ms) - t_cell))
}

summary() {
        local passed failed engine suite
        log "timings:"
        awk -F'\t' '{ printf "  %-16s %-48s %8.1f s\n", $1, $2, $3 / 1000 }' "$E2E_TIMINGS" >&2
        log "matrix (passed/failed checks per cell):"
        for engine in $ENGINES; do
                for suite in $SUITES; do
                        printf '  %-16s %s passed, %s failed\n' "$engine/$suite" \
                                "$(grep -c "^PASS $engine/$suite/" "$E2E_RESULTS" || true)" \
                                "$(grep -c "^FAIL $engine/$suite/" "$E2E_RESULTS" || true)" >&2
                done
        done
        passed=$(count_results PASS)
        failed=$(count_results FAIL)
        if ((failed > 0)); then
                echo "failed:" >&2
                sed -n 's/^FAIL /  /p' "$E2E_RESULTS" >&2
        fi
        echo "$passed passed, $failed failed"
        ((failed == 0))
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
