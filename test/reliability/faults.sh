#!/bin/bash
# Reliability suite for journalagent (issue 5, items 1–3): faults, backpressure and shutdown
# during numbered bursts of 20,000 lines, on systemd 252 (Debian bookworm) and 257 (trixie),
# booted as PID 1 under systemd-nspawn with a pipe as stdout, and (a subset) in the project's
# Docker image under Docker Engine.
#
#   sudo test/reliability/faults.sh       (from anywhere; builds what it needs)
#
# Every case logs a numbered burst inside the container (`TAG-1` .. `TAG-20000`, identifier
# ja-burst, paced over several seconds so that the faults land in the middle of it) and counts
# the numbers that reached the container's stdout (JSON lines, MESSAGE of SYSLOG_IDENTIFIER=
# ja-burst): lost=N (stored by journald, never on stdout) and repeated=N (extra copies). Passing
# means 0 lost, and every repeat is a re-write of the forwarder's last (unconfirmed) write of at
# most PIPE_BUF bytes, with the same __CURSOR as the first copy, at most one per forwarder death
# (the counting is checked on made-up input first: counting-selftest).
#
# Cases (one boot per runtime and systemd version, in this order):
#   fwd-kill        SIGKILL to journalagent.service's main PID ×10
#   broker-kill     SIGKILL to journalagent-broker.service's main PID ×10
#   both-kill       both at once ×5
#   fwd-restart     systemctl restart journalagent.service ×3
#   broker-restart  systemctl restart journalagent-broker.service ×3
#   broker-stop     systemctl stop journalagent-broker.service, start journalagent-broker.socket;
#                   the running forwarder keeps writing; then it must fetch again (SIGKILL): on
#                   systemd >= 254 from the preserved fd store, on older systemd after the README's
#                   recovery (systemctl restart journalagent-broker.socket)
#   reload          systemctl daemon-reload ×5
#   reexec          systemctl daemon-reexec ×3, then a fresh deposit by PID 1 (socket restart) and
#                   a fresh fetch (forwarder SIGKILL)
#   journald        systemctl restart systemd-journald
#   oom             the forwarder OOM-killed. With a MemoryMax= drop-in where the container's
#                   systemd can enforce it (Docker here: values from 512K down until the kernel
#                   kills it). Under nspawn on this cgroup v1 host the container's memory hierarchy
#                   is read-only, MemoryMax= is not enforced, and the OOM kill comes from a host-side
#                   v1 memory cgroup with a limit of a few dozen KiB around the forwarder's process
#   backpressure    the reader of the stdout pipe stopped (SIGSTOP to its cat) for 30 s during the
#                   burst: every second `systemctl is-system-running` answers within 1 s and another
#                   service's lines reach the journal; after SIGCONT every line arrives (nspawn only)
#   shutdown        poweroff (nspawn: SIGTERM, --kill-signal=SIGRTMIN+3; Docker: docker stop) while a
#                   service logs the burst: every entry in the container's persistent journal,
#                   read afterwards from the host, is on stdout
#
# Environment:
#   REL_RUNTIMES="nspawn docker"   runtimes (Docker: the image of test/e2e, built with its lib.sh;
#                                  a daemon is started with test/e2e/start-dockerd.sh if none answers)
#   REL_SUITES="bookworm trixie"   Debian suites (systemd 252, 257); suites other than the host's are
#                                  built inside their own rootfs (cached in $JA_CACHE/reliability)
#   REL_CASES="fwd-kill ..."       nspawn cases (shutdown always ends a boot)
#   REL_DOCKER_CASES="fwd-kill both-kill reexec oom"   Docker cases
#   REL_BURST_LINES=20000   REL_STALL_SECONDS=30   REL_OOM_MEMORYMAX="512K 480K ..."
#   REL_RESULTS_MD=test/reliability/results.md   where the table goes
#   JA_CACHE, JA_MIRROR, JA_WORKDIR, JA_KEEP=1   as in test/integration/run.sh
#
# Output: one "CASE lost=N repeated=N" line per case, the results table (also written to
# test/reliability/results.md), and last "N passed, N failed"; non-zero exit if anything failed.
# About 12 minutes on 2 cores.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=test/integration/lib.sh
. test/integration/lib.sh
# shellcheck source=test/reliability/lib.sh
. test/reliability/lib.sh

REL_SUITES=${REL_SUITES:-bookworm trixie}
REL_RUNTIMES=${REL_RUNTIMES:-nspawn docker}
ALL_CASES=(fwd-kill broker-kill both-kill fwd-restart broker-restart broker-stop reload reexec journald oom backpressure)
read -r -a CASES <<<"${REL_CASES:-${ALL_CASES[*]}}"
RESULTS_MD=${REL_RESULTS_MD:-test/reliability/results.md}
FWD=journalagent.service
BROKER=journalagent-broker.service
BROKER_SOCKET=journalagent-broker.socket

# ---- helpers of the cases -----------------------------------------------------------------------

# tag_of CASE: the burst's message prefix (no dashes: the number follows the last one).
tag_of() {
        echo "${1//[^a-z0-9]/}"
}

burst_on_stdout_now() {
        burst_lines_on_stdout_since "$CASE_OUT_OFFSET"
}

# fault_mark N WHAT: log the fault with the burst's progress; count faults that landed mid-burst.
FAULTS_MID_BURST=0
fault_mark() {
        local state="burst still being written"
        if pid_alive "$BURST_PID"; then
                FAULTS_MID_BURST=$((FAULTS_MID_BURST + 1))
        else
                state="burst writer already done"
        fi
        log "fault $1: $2; $(burst_on_stdout_now) burst lines on stdout so far, $state"
}

check_mid_burst() {
        local total=$1 need=$((($1 + 1) / 2))
        check "$CASE_NAME/faults-landed-mid-burst" \
                "only $FAULTS_MID_BURST of $total faults happened while the burst was being written (need $need)" \
                test "$FAULTS_MID_BURST" -ge "$need"
}

# wait_restart UNIT OLD-PID WHAT: bounded wait for UNIT to run again with a new main PID.
wait_restart() {
        wait_until 30 "$1 to be restarted after $3" unit_restarted "$1" "$2"
}

# forwarder_stable: journalagent.service active with the same main PID for 1.5 s (on systemd
# 252 a forwarder that gets no fd from the broker exits 66 and is restarted every 0.5 s).
forwarder_stable() {
        local p1 p2
        p1=$(unit_main_pid "$FWD")
        [[ $p1 != 0 && $(unit_prop "$FWD" ActiveState) == active ]] || return 1
        sleep 1.5
        p2=$(unit_main_pid "$FWD")
        [[ $p1 == "$p2" && $(unit_prop "$FWD" ActiveState) == active ]]
}

# Forwarder processes that ended since the case began (killed, stopped, OOM-killed, or exited
# 66 while the broker held nothing): each was followed by a start of journalagent.service.
# (NRestarts cannot tell: systemd resets it on a manual restart.)
fwd_deaths_since_begin() {
        unit_starts_since_mark "$FWD"
}

# A probe line logged now reaches stdout within TIMEOUT seconds.
probe_arrives() {
        local timeout=$1 probe off
        probe="ja-probe-$RANDOM$RANDOM-$(date +%s%N)"
        off=$(stat -c %s "$CT_OUT")
        in_ct systemd-cat -t ja-probe echo "$probe"
        JA_POLL_INTERVAL=0.1 wait_until "$timeout" "probe $probe on stdout" probe_seen "$off" "$probe"
}

probe_seen() {
        tail -c "+$(($1 + 1))" "$CT_OUT" | grep -F -- "\"MESSAGE\":\"$2\"" >/dev/null
}

# ---- 1. faults --------------------------------------------------------------------------------

# kills_with_restarts UNIT WHAT N PAUSE_S: N times: wait for UNIT to run, SIGKILL its main process
# (WHAT: its name in the log), wait for UNIT to be restarted, pause. Stops at the first kill that
# is not followed by a restart. Checks CASE/restarted-after-each-kill and that the kills landed
# mid-burst.
kills_with_restarts() {
        local unit=$1 what=$2 n=$3 pause=$4 k pid killed=0
        for ((k = 1; k <= n; k++)); do
                wait_until 30 "$unit to run before kill $k" unit_active_with_pid "$unit" || break
                pid=$(unit_main_pid "$unit")
                fault_mark "$k" "SIGKILL $what (pid $pid)"
                kill_in_ct "$pid"
                wait_restart "$unit" "$pid" "kill $k" || break
                killed=$k
                sleep "$pause"
        done
        check "$CASE_NAME/restarted-after-each-kill" "only $killed of $n SIGKILLs were followed by a restart" \
                test "$killed" -eq "$n"
        check_mid_burst "$n"
}

case_fwd_kill() {
        local name=$1 n=10
        case_begin "$name"
        burst_start "$(tag_of "$name")" 16
        sleep 1
        kills_with_restarts "$FWD" journalagent "$n" 0.3
        burst_finish 90
        case_count "$n"
}

case_broker_kill() {
        local name=$1 n=10 fwd0
        case_begin "$name"
        fwd0=$(unit_main_pid "$FWD")
        burst_start "$(tag_of "$name")" 10
        sleep 1
        kills_with_restarts "$BROKER" journalagent-broker "$n" 0.2
        wait_until 10 "the restarted broker to hold the runtime's stdout" broker_holds_runtime_stdout || true
        check "$name/broker-holds-runtime-stdout" \
                "after the kills the broker says '$(broker_status_line)', the runtime's stdout is pipe:[$(runtime_stdout_inode)]" \
                broker_holds_runtime_stdout
        check "$name/forwarder-untouched" "journalagent's main PID was $fwd0, is $(unit_main_pid "$FWD")" \
                test "$(unit_main_pid "$FWD")" = "$fwd0"
        burst_finish 90
        case_count "$(fwd_deaths_since_begin)"
}

case_both_kill() {
        local name=$1 k fpid bpid killed=0 n=5
        case_begin "$name"
        burst_start "$(tag_of "$name")" 10
        sleep 1
        for ((k = 1; k <= n; k++)); do
                wait_until 30 "both services to run before kill $k" both_active || break
                fpid=$(unit_main_pid "$FWD")
                bpid=$(unit_main_pid "$BROKER")
                fault_mark "$k" "SIGKILL journalagent (pid $fpid) and journalagent-broker (pid $bpid) together"
                kill_in_ct "$fpid" "$bpid"
                wait_restart "$FWD" "$fpid" "kill $k" || break
                wait_restart "$BROKER" "$bpid" "kill $k" || break
                killed=$k
                sleep 0.3
        done
        check "$name/both-restarted-after-each-kill" "only $killed of $n double SIGKILLs were followed by restarts" \
                test "$killed" -eq "$n"
        check_mid_burst "$n"
        check "$name/broker-holds-runtime-stdout" \
                "after the kills the broker says '$(broker_status_line)', the runtime's stdout is pipe:[$(runtime_stdout_inode)]" \
                broker_holds_runtime_stdout
        burst_finish 90
        case_count "$n"
}

both_active() {
        unit_active_with_pid "$FWD" && unit_active_with_pid "$BROKER"
}

# case_restart NAME UNIT: systemctl restart UNIT ×3 during the burst.
case_restart() {
        local name=$1 unit=$2 k pid done_=0 n=3 fwd0
        case_begin "$name"
        fwd0=$(unit_main_pid "$FWD")
        burst_start "$(tag_of "$name")" 8
        sleep 1
        for ((k = 1; k <= n; k++)); do
                pid=$(unit_main_pid "$unit")
                fault_mark "$k" "systemctl restart $unit (pid $pid)"
                in_ct systemctl restart "$unit"
                wait_restart "$unit" "$pid" "restart $k" || break
                done_=$k
                sleep 1.2
        done
        check "$name/restarted-each-time" "only $done_ of $n restarts gave a new main process" test "$done_" -eq "$n"
        check_mid_burst "$n"
        check "$name/broker-holds-runtime-stdout" \
                "after the restarts the broker says '$(broker_status_line)', the runtime's stdout is pipe:[$(runtime_stdout_inode)]" \
                broker_holds_runtime_stdout
        if [[ $unit == "$BROKER" ]]; then
                check "$name/forwarder-untouched" "journalagent's main PID was $fwd0, is $(unit_main_pid "$FWD")" \
                        test "$(unit_main_pid "$FWD")" = "$fwd0"
                burst_finish 90
                case_count "$(fwd_deaths_since_begin)"
        else
                burst_finish 90
                case_count "$(fwd_deaths_since_begin)"
        fi
}

case_fwd_restart() { case_restart "$1" "$FWD"; }
case_broker_restart() { case_restart "$1" "$BROKER"; }

# systemctl stop of the broker service, then start of its socket. The running forwarder keeps its
# fd and keeps writing. Then it is made to fetch again (SIGKILL): on systemd >= 254 the fd store
# survived the stop (FileDescriptorStorePreserve=yes) and the fetch succeeds at once; on older
# systemd the stop flushed it, the broker holds nothing, the forwarder exits 66 and is retried
# every 0.5 s until the README's recovery, `systemctl restart journalagent-broker.socket`,
# makes PID 1 deposit its copies again.
case_broker_stop() {
        local name=$1 n1 n2 pid status held
        case_begin "$name"
        burst_start "$(tag_of "$name")" 14
        sleep 1
        fault_mark 1 "systemctl stop $BROKER; systemctl start $BROKER_SOCKET"
        in_ct systemctl stop "$BROKER"
        in_ct systemctl start "$BROKER_SOCKET"
        n1=$(burst_on_stdout_now)
        sleep 1.5
        n2=$(burst_on_stdout_now)
        check "$name/running-forwarder-keeps-writing" \
                "burst lines on stdout did not grow after the broker was stopped ($n1, then $n2)" test "$n2" -gt "$n1"
        pid=$(unit_main_pid "$FWD")
        fault_mark 2 "SIGKILL journalagent (pid $pid): it must fetch the fds again"
        kill_in_ct "$pid"
        if ((CT_SYSTEMD_VERSION >= 254)); then
                wait_until 30 "the forwarder to run again on the preserved fd store" forwarder_stable || true
                case_note "fd store preserved across the stop (systemd $CT_SYSTEMD_VERSION, FileDescriptorStorePreserve=yes); no recovery needed"
                check "$name/fd-store-survived-stop" \
                        "after stop/start the broker says '$(broker_status_line)', the runtime's stdout is pipe:[$(runtime_stdout_inode)]" \
                        broker_holds_runtime_stdout
        else
                sleep 2
                status=$(journal_since_mark -o cat | grep -c 'journalagent.service: Main process exited, code=exited, status=66') || true
                held=$(broker_held_inode stdout)
                log "systemd $CT_SYSTEMD_VERSION: after the stop the broker holds '${held:-nothing}'" \
                        "(status '$(broker_status_line)'); the forwarder has exited 66 (broker holds no stdout) $status times"
                case_note "fd store flushed by the stop (systemd $CT_SYSTEMD_VERSION); the forwarder exited 66 $status times in 2 s, then \`systemctl restart $BROKER_SOCKET\` brought the fds back"
                fault_mark 3 "recovery: systemctl restart $BROKER_SOCKET"
                in_ct systemctl restart "$BROKER_SOCKET"
                wait_until 30 "the broker to hold the runtime's stdout after the recovery" broker_holds_runtime_stdout || true
                check "$name/recovery-redeposits" \
                        "after 'systemctl restart $BROKER_SOCKET' the broker says '$(broker_status_line)', the runtime's stdout is pipe:[$(runtime_stdout_inode)]" \
                        broker_holds_runtime_stdout
                wait_until 30 "the forwarder to run again after the recovery" forwarder_stable || true
        fi
        check "$name/forwarder-recovered" "journalagent.service is not running steadily: $(unit_prop "$FWD" ActiveState), last exit status $(unit_prop "$FWD" ExecMainStatus)" \
                forwarder_stable
        check_mid_burst 2
        burst_finish 90
        case_count "$(fwd_deaths_since_begin)"
}

case_reload() {
        local name=$1 k n=5 fwd0
        case_begin "$name"
        fwd0=$(unit_main_pid "$FWD")
        burst_start "$(tag_of "$name")" 7
        sleep 1
        for ((k = 1; k <= n; k++)); do
                fault_mark "$k" "systemctl daemon-reload"
                in_ct systemctl daemon-reload
                sleep 0.6
        done
        check_mid_burst "$n"
        check "$name/forwarder-untouched" "journalagent's main PID was $fwd0, is $(unit_main_pid "$FWD")" \
                test "$(unit_main_pid "$FWD")" = "$fwd0"
        check "$name/broker-holds-runtime-stdout" \
                "after the reloads the broker says '$(broker_status_line)', the runtime's stdout is pipe:[$(runtime_stdout_inode)]" \
                broker_holds_runtime_stdout
        burst_finish 90
        case_count "$(fwd_deaths_since_begin)"
}

# daemon-reexec ×3; then PID 1's copies (carried across the reexecs by the shim) are deposited
# again (socket restart), and the forwarder fetches again (SIGKILL): both must give the runtime's
# pipe.
case_reexec() {
        local name=$1 k n=3 fwd0 pid
        case_begin "$name"
        fwd0=$(unit_main_pid "$FWD")
        burst_start "$(tag_of "$name")" 12
        sleep 1
        for ((k = 1; k <= n; k++)); do
                fault_mark "$k" "systemctl daemon-reexec"
                in_ct systemctl daemon-reexec
                wait_until 30 "PID 1 to answer after daemon-reexec $k" ct_manager_answers
                sleep 0.8
        done
        check "$name/forwarder-untouched" "journalagent's main PID was $fwd0, is $(unit_main_pid "$FWD")" \
                test "$(unit_main_pid "$FWD")" = "$fwd0"
        check "$name/broker-holds-runtime-stdout" \
                "after the reexecs the broker says '$(broker_status_line)', the runtime's stdout is pipe:[$(runtime_stdout_inode)]" \
                broker_holds_runtime_stdout
        fault_mark 4 "systemctl restart $BROKER_SOCKET: PID 1 deposits its (re-executed) copies again"
        in_ct systemctl restart "$BROKER_SOCKET"
        wait_until 30 "the broker to hold the runtime's stdout after the socket restart" broker_holds_runtime_stdout || true
        check "$name/pid1-copies-survived-reexec" \
                "after the reexecs and a socket restart the broker says '$(broker_status_line)', the runtime's stdout is pipe:[$(runtime_stdout_inode)]" \
                broker_holds_runtime_stdout
        pid=$(unit_main_pid "$FWD")
        fault_mark 5 "SIGKILL journalagent (pid $pid): fetch after the reexecs"
        kill_in_ct "$pid"
        wait_restart "$FWD" "$pid" "the SIGKILL" || true
        check "$name/forwarder-fetches-after-reexec" "journalagent.service is not running steadily after the SIGKILL" \
                forwarder_stable
        check_mid_burst 5
        burst_finish 90
        case_count "$(fwd_deaths_since_begin)"
}

case_journald() {
        local name=$1 jpid
        case_begin "$name"
        burst_start "$(tag_of "$name")" 8
        sleep 2.5
        jpid=$(unit_main_pid systemd-journald.service)
        fault_mark 1 "systemctl restart systemd-journald (pid $jpid)"
        in_ct systemctl restart systemd-journald
        wait_restart systemd-journald.service "$jpid" "the restart" || true
        check_mid_burst 1
        burst_finish 90
        log "journalagent.service restarts during the case: $(fwd_deaths_since_begin)"
        case_count "$(fwd_deaths_since_begin)"
}

# The forwarder OOM-killed. First the drop-in the issue asks for (MemoryMax= on
# journalagent.service); if the container's systemd cannot enforce it (no memory controller it
# may write: cgroup v1 is mounted read-only inside the container, as on this CI host), the same
# kernel OOM kill is produced from the host: a v1 memory cgroup (child of ours) with a limit of a
# few dozen KiB, into which the forwarder's process is moved.
# MemoryMax= values tried in turn, largest first, until one OOM-kills the forwarder: on this host
# (cgroup v1 under Docker) a fresh forwarder uses about 450–500 KiB, so 512K may let it live
# while 384K kills it at its start; in between it dies while forwarding the burst.
REL_OOM_MEMORYMAX=${REL_OOM_MEMORYMAX:-512K 480K 448K 416K 384K 320K 256K}
OOM_DROPIN=/run/systemd/system/journalagent.service.d/50-ja-oom.conf

oom_dropin() {
        in_ct mkdir -p "${OOM_DROPIN%/*}"
        in_ct sh -c "printf '[Service]\nMemoryMax=$1\n' >$OOM_DROPIN"
        in_ct systemctl daemon-reload
}

case_oom() {
        local name=$1 current enforced=0 kills=0 v first
        case_begin "$name"
        first=${REL_OOM_MEMORYMAX%% *}
        oom_dropin "$first"
        current=$(unit_prop "$FWD" MemoryCurrent)
        log "drop-in MemoryMax=$first: MemoryMax=$(unit_prop "$FWD" MemoryMax), MemoryCurrent=$current"
        if [[ $current =~ ^[0-9]+$ ]]; then
                enforced=1
        else
                log "MemoryMax= is not enforced here: MemoryCurrent is '$current'; the container's" \
                        "cgroup hierarchy: $(in_ct sh -c 'stat -f -c %T /sys/fs/cgroup; grep " /sys/fs/cgroup/memory " /proc/self/mounts || echo "no memory hierarchy"')"
        fi
        burst_start "$(tag_of "$name")" 14
        sleep 1
        local oom_lines0
        oom_lines0=$(kernel_oom_kills)
        if ((enforced)); then
                # daemon-reload applies the limit to the running cgroup only if the kernel can
                # reclaim down to it (cgroup v1 refuses with EBUSY otherwise); a restart gives a
                # fresh cgroup created with the limit, in which the forwarder then runs the burst.
                for v in $REL_OOM_MEMORYMAX; do
                        [[ $v == "$first" ]] || oom_dropin "$v"
                        fault_mark 1 "drop-in MemoryMax=$v, systemctl restart $FWD"
                        in_ct systemctl restart "$FWD"
                        if wait_until 3 "the forwarder to be OOM-killed under MemoryMax=$v" fwd_oom_killed; then
                                break
                        fi
                done
                kills=$(fwd_sigkills_since_begin)
                log "under MemoryMax=$v: $kills SIGKILLs of journalagent.service (nobody else sends one in this case)," \
                        "Result=$(unit_prop "$FWD" Result), memory.oom_control of its cgroup now: $(oom_control_of_unit)"
                check "$name/oom-killed" "journalagent.service was not OOM-killed under MemoryMax=$REL_OOM_MEMORYMAX (Result=$(unit_prop "$FWD" Result), $kills SIGKILLs)" \
                        test "$kills" -ge 1
                log "kernel log: $(($(kernel_oom_kills) - oom_lines0)) memory-cgroup OOM kills in .../system.slice/journalagent.service during the case"
                case_note "MemoryMax=$v drop-in (enforced): $kills SIGKILLs of the forwarder, $(($(kernel_oom_kills) - oom_lines0)) memory-cgroup OOM kills in the kernel log"
        else
                oom_host_cgroup
                kills=$OOM_KILLS
        fi
        in_ct rm -f "$OOM_DROPIN"
        in_ct systemctl daemon-reload
        # A forwarder in a crash loop under the limit gets a fresh cgroup without it.
        [[ $(unit_prop "$FWD" ActiveState) == active ]] || in_ct systemctl restart "$FWD"
        wait_until 30 "the forwarder to run again after the OOM kill" forwarder_stable || true
        check "$name/forwarder-recovered" "journalagent.service is not running steadily after the OOM kill" forwarder_stable
        burst_finish 90
        case_count "$(fwd_deaths_since_begin)"
}

# The forwarder's process was killed (SIGKILL: nobody else sends one in this case) or systemd saw
# an OOM kill (cgroup v2 reports it; on v1 systemd only sees the SIGKILL).
fwd_sigkills_since_begin() {
        local n
        n=$(journal_since_mark -o cat | grep -c -F 'journalagent.service: Main process exited, code=killed, status=9/KILL') || true
        echo "${n:-0}"
}

# Memory-cgroup OOM kills the kernel logged for a journalagent.service cgroup (of this container
# where the cgroup path names it: Docker's /docker/<id>/...). Evidence only: reading the kernel
# log may be denied.
kernel_oom_kills() {
        local n
        n=$(dmesg 2>/dev/null | grep -F "oom_memcg=" | grep -F "${CT_DOCKER_ID:+/docker/$CT_DOCKER_ID}/system.slice/journalagent.service," |
                grep -c -F "task=journalagent") || true
        echo "${n:-0}"
}

fwd_oom_killed() {
        [[ $(unit_prop "$FWD" Result) == oom-kill ]] || (($(fwd_sigkills_since_begin) > 0))
}

# The host-side memory cgroup: created under our own v1 memory cgroup, the forwarder's host PID
# moved in (its charges stay behind, so the limit can be below what it already uses), then the
# limit lowered until the kernel accepts it; the forwarder's next allocations while it forwards
# the burst exceed it and the memory cgroup's OOM killer kills it. Sets OOM_KILLS.
oom_host_cgroup() {
        local mcg cg fpid hpid limit oom_kills=0 k
        OOM_KILLS=0
        mcg=/sys/fs/cgroup/memory$(awk -F: '$2 == "memory" { print $3 }' /proc/self/cgroup)
        if [[ ! -w $mcg/cgroup.procs ]]; then
                fail "$CASE_NAME/oom-killed" "cannot trigger an OOM kill here: MemoryMax= is not enforced in the container and the host's cgroup v1 memory hierarchy ($mcg) is not writable"
                return 0
        fi
        cg=$mcg/ja-reliability-oom-$$
        mkdir -p "$cg"
        fpid=$(unit_main_pid "$FWD")
        hpid=$(host_pid_of "$fpid") || { fail "$CASE_NAME/oom-killed" "no host PID for the forwarder $fpid"; rmdir "$cg"; return 0; }
        echo "$hpid" >"$cg/cgroup.procs"
        for limit in 48K 64K 96K 128K 256K; do
                if echo "$limit" >"$cg/memory.limit_in_bytes" 2>/dev/null; then break; fi
        done
        fault_mark 1 "forwarder (pid $fpid, host pid $hpid) in memory cgroup $cg, memory.limit_in_bytes=$(cat "$cg/memory.limit_in_bytes")"
        for ((k = 0; k < 100; k++)); do
                oom_kills=$(awk '$1 == "oom_kill" { print $2 }' "$cg/memory.oom_control")
                ((${oom_kills:-0} == 0)) || break
                pid_alive "$hpid" || break
                # Still alive after 3 s: halve the limit (the kernel refuses a limit below usage).
                if ((k % 15 == 14)); then
                        limit=$(($(cat "$cg/memory.limit_in_bytes") / 2))
                        echo "$limit" >"$cg/memory.limit_in_bytes" 2>/dev/null || true
                fi
                sleep 0.2
        done
        log "memory cgroup: oom_kill ${oom_kills:-0}, failcnt $(cat "$cg/memory.failcnt"), limit $(cat "$cg/memory.limit_in_bytes")"
        OOM_KILLS=${oom_kills:-0}
        case_note "MemoryMax= drop-in not enforced (container's cgroup v1 memory hierarchy read-only, MemoryCurrent=[not set]); host-side memory cgroup, limit $(cat "$cg/memory.limit_in_bytes") bytes: oom_kill $OOM_KILLS"
        check "$CASE_NAME/oom-killed" "the forwarder (host pid $hpid) was not OOM-killed in $cg (oom_kill ${oom_kills:-0})" \
                test "$OOM_KILLS" -ge 1
        wait_restart "$FWD" "$fpid" "the OOM kill" || true
        # The cgroup is empty once the killed process is gone.
        wait_until 10 "the OOM-killed forwarder to be reaped" cgroup_empty "$cg" || true
        rmdir "$cg" 2>/dev/null || log "could not remove $cg (still has $(wc -l <"$cg/cgroup.procs") processes)"
}

# The kernel's OOM kill count of the forwarder's memory cgroup (cgroup v1, as seen from the host).
oom_control_of_unit() {
        local pid hpid path
        pid=$(unit_main_pid "$FWD")
        hpid=$(host_pid_of "$pid") || { echo "no process"; return 0; }
        path=$(awk -F: '$2 == "memory" { print $3 }' "/proc/$hpid/cgroup")
        awk '$1 == "oom_kill" { printf "oom_kill %s", $2 }' "/sys/fs/cgroup/memory$path/memory.oom_control" 2>/dev/null ||
                echo "not readable"
}

cgroup_empty() {
        [[ -z $(cat "$1/cgroup.procs" 2>/dev/null) ]]
}

# ---- 2. backpressure ----------------------------------------------------------------------------

# The runtime stops reading the pipe for 30 s (SIGSTOP to the `cat` copying it into CT_OUT) while
# 20,000 lines are logged. Every second: `systemctl is-system-running` answers within 1 s (timed
# inside the container), and the ticker service's newest line in the journal is newer than the
# second before. After SIGCONT every line arrives.
REL_STALL_SECONDS=${REL_STALL_SECONDS:-30}
case_backpressure() {
        local name=$1 s t rc ms max_ms=0 slow=0 tick prev_tick=0 stalled=0 wchan hpid writer_done_at=- t_stop
        case_begin "$name"
        in_ct systemd-run --quiet --unit=ja-ticker --property=StandardOutput=journal \
                sh -c 'i=0; while :; do i=$((i + 1)); echo "tick-$i"; sleep 0.2; done'
        sleep 1
        log "stopping the runtime's reader of stdout (SIGSTOP to cat, pid $CT_OUTCAT_PID) for ${REL_STALL_SECONDS}s"
        kill -STOP "$CT_OUTCAT_PID"
        t_stop=$(now_ms)
        # shellcheck disable=SC2064 # the pid now, in case the case aborts
        trap "kill -CONT $CT_OUTCAT_PID 2>/dev/null || true" EXIT
        burst_start "$(tag_of "$name")" 10
        for ((s = 1; s <= REL_STALL_SECONDS; s++)); do
                # shellcheck disable=SC2016 # expanded inside the container
                rc=124 ms=99999
                read -r rc ms < <(in_ct sh -c 't0=$(date +%s%N); timeout 1 systemctl is-system-running >/dev/null 2>&1; rc=$?;
                        echo "$rc $((($(date +%s%N) - t0) / 1000000))"')
                ((ms <= max_ms)) || max_ms=$ms
                if ((rc == 124 || ms > 1000)); then
                        slow=$((slow + 1))
                        log "second $s: systemctl is-system-running took ${ms} ms (status $rc)"
                fi
                tick=$(in_ct journalctl -u ja-ticker -n 1 -o cat --no-pager | sed -n 's/^tick-//p')
                if ((${tick:-0} <= prev_tick)); then
                        stalled=$((stalled + 1))
                        log "second $s: the ticker's newest journal line is still tick-${tick:-none}"
                fi
                prev_tick=${tick:-0}
                if [[ $writer_done_at == - ]] && burst_writer_done; then writer_done_at=$s; fi
                if ((s == 5)); then
                        hpid=$(host_pid_of "$(unit_main_pid "$FWD")") || true
                        wchan=$(cat "/proc/${hpid:-0}/wchan" 2>/dev/null) || wchan='?'
                        log "second $s: the forwarder (host pid ${hpid:-?}) waits in '$wchan'; stdout holds $(burst_on_stdout_now) burst lines"
                fi
                # One check per second of the stall.
                t=$((t_stop + s * 1000 - $(now_ms)))
                ((t <= 0)) || sleep "$(awk -v t="$t" 'BEGIN { printf "%.3f", t / 1000 }')"
        done
        local on_stdout_stalled
        on_stdout_stalled=$(burst_on_stdout_now)
        kill -CONT "$CT_OUTCAT_PID"
        trap - EXIT
        log "resumed the reader after $((($(now_ms) - t_stop) / 1000)) s; $on_stdout_stalled burst lines had reached stdout during the stall"
        check "$name/pid1-answers-within-1s" "$slow of $REL_STALL_SECONDS checks of systemctl is-system-running took over 1 s (max ${max_ms} ms)" \
                test "$slow" -eq 0
        log "slowest systemctl is-system-running during the stall: ${max_ms} ms"
        case_note "reader stopped ${REL_STALL_SECONDS} s; slowest is-system-running ${max_ms} ms; ticker stalled in $stalled s; $on_stdout_stalled burst lines got through meanwhile; forwarder waited in '${wchan:-?}'"
        check "$name/journald-not-stalled" "in $stalled of $REL_STALL_SECONDS seconds the ticker service's lines did not advance in the journal" \
                test "$stalled" -eq 0
        check "$name/burst-logged-during-stall" "the burst writer was still running after ${REL_STALL_SECONDS}s of stall" \
                test "$writer_done_at" != -
        check "$name/pipe-was-full" "$on_stdout_stalled of $REL_BURST_LINES burst lines got through a stopped reader (the stall did not hold the forwarder back)" \
                test "$on_stdout_stalled" -lt "$REL_BURST_LINES"
        burst_finish 60
        REL_ARRIVAL_TIMEOUT=120 case_count "$(fwd_deaths_since_begin)"
        check "$name/forwarder-not-restarted" "journalagent.service restarted $(fwd_deaths_since_begin) times during the stall" \
                test "$(fwd_deaths_since_begin)" -eq 0
        in_ct systemctl stop ja-ticker
}

# ---- 3. shutdown ----------------------------------------------------------------------------------

# Poweroff (SIGTERM to nspawn, which sends SIGRTMIN+3 to PID 1) while a burst is being written by
# a service of the container. Afterwards the container's persistent journal is read from the host
# (with the suite's own journalctl, chroot: newer journal files may have features an older
# journalctl lacks) and compared with stdout: every entry of the boot must be there (issue 5,
# item 3). Entries logged from the 'Stopping journalagent.service' entry on are counted apart, to
# say where a loss comes from.
#
# shutdown_poweroff runs in the main shell, not in run_case's subshell: nspawn is a child of the
# main shell, and only the main shell can wait for it and see its exit status.
shutdown_poweroff() {
        local name=$1 t_stop
        SHUTDOWN_T0=$(now_ms)
        case_begin "$name" || return 1
        burst_start_unit "$(tag_of "$name")" 8 || return 1
        sleep 3
        log "fault 1: poweroff: $(if [[ $CT_RUNTIME == docker ]]; then echo "docker stop (STOPSIGNAL SIGRTMIN+3)"; else echo "SIGTERM to systemd-nspawn (--kill-signal=SIGRTMIN+3 to PID 1)"; fi);" \
                "$(burst_on_stdout_now) burst lines on stdout so far, $BURST_UNIT is $(unit_prop "$BURST_UNIT" ActiveState)"
        t_stop=$(now_ms)
        rel_ct_stop
        SHUTDOWN_STATUS=$CT_EXIT_STATUS
        log "container stopped in $((($(now_ms) - t_stop) / 1000)) s, exit status $SHUTDOWN_STATUS"
}

case_shutdown() {
        local name=$1 d=$CASE_DIR t0
        check "$name/clean-poweroff" "exit status '$SHUTDOWN_STATUS' after the stop ($CT_RUNTIME)" test "$SHUTDOWN_STATUS" = 0
        t0=$(now_ms)
        read_persistent_journal "$d/journal.json" SYSLOG_IDENTIFIER,MESSAGE,UNIT ||
                { fail "$name/persistent-journal" "the container's persistent journal could not be read"; return 0; }
        log "read the persistent journal ($(wc -l <"$d/journal.json") entries) in $(($(now_ms) - t0)) ms"
        # Burst numbers that journald stored (the burst was cut by the poweroff).
        grep -F "\"MESSAGE\":\"$BURST_TAG-" "$d/journal.json" |
                jq -r --arg p "$BURST_TAG-" 'select(.SYSLOG_IDENTIFIER == "ja-burst") | .MESSAGE | strings
                        | select(startswith($p)) | ltrimstr($p)' | LC_ALL=C sort -u >"$d/journal.nums"
        log "journald stored $(wc -l <"$d/journal.nums") lines of the burst before it stopped"
        CASE_SKIP_JOURNAL_QUERY=1 REL_ARRIVAL_TIMEOUT=1 case_count 1

        # Every entry of the boot (each copy of the rootfs boots once), by cursor. Cursors hold no
        # quotes or escapes, so grep finds them in the JSON lines.
        local cut n_all n_missing n_after
        grep -o '"__CURSOR":"[^"]*"' "$d/journal.json" | cut -d'"' -f4 >"$d/boot.cursors"
        cut=$(grep -F 'Stopping journalagent.service' "$d/journal.json" |
                jq -r 'select(.SYSLOG_IDENTIFIER == "systemd" and .UNIT == "journalagent.service"
                        and (.MESSAGE | tostring | startswith("Stopping"))) | .__CURSOR' | tail -n 1)
        grep -o '"__CURSOR":"[^"]*"' "$CT_OUT" | cut -d'"' -f4 | LC_ALL=C sort -u >"$d/stdout.cursors"
        awk -v cut="$cut" 'NR == FNR { have[$0] = 1; next }
                $0 == cut { after = 1 }
                !($0 in have) { print (after ? "after" : "before") "\t" $0 }' "$d/stdout.cursors" "$d/boot.cursors" >"$d/missing"
        n_all=$(wc -l <"$d/boot.cursors")
        n_missing=$(wc -l <"$d/missing")
        n_after=$(grep -c '^after' "$d/missing" || true)
        log "shutdown: $n_all entries of the boot in the journal, $n_missing not on stdout" \
                "($n_after of them from the 'Stopping journalagent.service' entry on)"
        if ((n_missing > 0)); then
                log "entries of the boot missing on stdout (first 40, in journal order):"
                cut -f2 "$d/missing" | head -n 40 >"$d/missing.head"
                grep -F -f "$d/missing.head" "$d/journal.json" |
                        jq -r '"    \(.__REALTIME_TIMESTAMP) \(.SYSLOG_IDENTIFIER // "-"): \(.MESSAGE | tostring | .[0:110])"' >&2 || true
        fi
        case_note "$n_all journal entries in the boot, $n_missing not on stdout ($n_after of them logged from 'Stopping journalagent.service' on, the rest before)"
        check "$name/entries-before-forwarder-stop-on-stdout" \
                "$((n_missing - n_after)) entries logged before 'Stopping journalagent.service' are not on stdout" \
                test "$((n_missing - n_after))" -eq 0 -a -n "$cut"
        check "$name/every-journal-entry-on-stdout" \
                "$n_missing of the $n_all entries journald stored in this boot are not on stdout ($n_after logged from 'Stopping journalagent.service' on)" \
                test "$n_missing" -eq 0
}

# ---- the run ---------------------------------------------------------------------------------------

# Before each case: the forwarder runs, the broker holds the runtime's stdout, a probe arrives.
# If not (an earlier case broke the container), the failure is recorded and the next cases get a
# fresh boot, so that one broken case does not fail all that follow.
REBOOTS=0
healthy_or_reboot() {
        local suite=$1 next=$2 name=$CT_RUNTIME/$1
        if unit_active_with_pid "$FWD" && broker_holds_runtime_stdout && probe_arrives 15; then
                return 0
        fi
        fail "$name/healthy-before-$next" "before case $next: journalagent.service $(unit_prop "$FWD" ActiveState), broker status '$(broker_status_line)', or a probe line did not arrive within 15 s; rebooting"
        ct_dump_debug
        rel_ct_stop
        REBOOTS=$((REBOOTS + 1))
        rel_boot_any "$suite" "rel-$CT_RUNTIME-$suite-$REBOOTS"
}

rel_cleanup() {
        local rc=$?
        ja_cleanup_begin "$rc"
        [[ -n ${CT_OUTCAT_PID:-} ]] && kill -CONT "$CT_OUTCAT_PID" 2>/dev/null
        rel_ct_stop
        rel_docker_remove_all
        rel_report
        ja_cleanup_end "$rc" journalagent-it
}

# The table on stdout and in test/reliability/results.md.
rel_report() {
        local secs table
        [[ -s ${REL_TABLE:-/nonexistent} ]] || return 0
        secs=$((($(now_ms) - REL_T0) / 1000))
        table=$(rel_table)
        echo
        echo "$table"
        echo "suite runtime: ${secs} s"
        {
                echo "# Reliability suite results"
                echo
                echo "\`sudo test/reliability/faults.sh\` (issue 5, items 1–3), $(date -u +%Y-%m-%dT%H:%MZ), kernel $(uname -r)," \
                        "host cgroup layout: $(if [[ $(stat -f -c %T /sys/fs/cgroup) == cgroup2fs ]]; then echo unified; else echo 'hybrid (v1 controllers)'; fi)," \
                        "$(nproc) CPUs; runtimes: $REL_RUNTIMES; suites: $REL_SUITES; whole run ${secs} s. Every case runs during a burst of $REL_BURST_LINES numbered lines;" \
                        "lost = numbers journald stored that never reached the container's stdout, repeated = extra copies."
                echo
                echo "$table"
                echo
                echo "Failed checks:"
                echo
                if grep -q '^FAIL ' "$JA_RESULTS"; then sed -n 's/^FAIL \(.*\)$/- \1/p' "$JA_RESULTS"; else echo "- none"; fi
                echo
                echo "Observations:"
                echo
                if [[ -s $JA_RUN_DIR/notes ]]; then sed 's/^/- /' "$JA_RUN_DIR/notes"; else echo "- none"; fi
                echo
                echo "How it runs:"
                echo
                echo "- nspawn: \`systemd-nspawn --console=pipe\`, stdout a pipe copied into a file by \`cat\` (the runtime's"
                echo "  reader); Docker: the image of test/e2e (docker/Dockerfile on the debootstrapped suite), no --privileged,"
                echo "  default seccomp, stdout as \`docker logs -f\` shows it. Commands inside run through nsenter."
                echo "- Builds: bookworm uses the host's build (Debian 12, libsystemd 252); trixie is built inside a copy of"
                echo "  its own rootfs (\`systemd-nspawn --pipe\`, build-essential pkg-config libsystemd-dev added once),"
                echo "  cached per source hash in \$JA_CACHE/reliability/. Docker images are built by docker/Dockerfile."
                echo "- journald's rate limit is off in the test containers (RateLimitIntervalSec=0): 20,000 lines from one"
                echo "  source exceed the default 10,000 per 30 s. Each case checks that journald stored the whole burst."
                echo "- repeated: a run of repeated lines passes if it repeats the block of first copies right before it,"
                echo "  <= 4096 bytes (one write), same __CURSOR; at most one such re-write per forwarder death."
                echo "- oom: under nspawn on this cgroup v1 (hybrid) host the container's memory hierarchy is mounted"
                echo "  read-only, so a \`MemoryMax=\` drop-in is accepted but not enforced (MemoryCurrent=[not set]); the"
                echo "  OOM kill is produced from the host (v1 memory cgroup, limit of a few dozen KiB, around the"
                echo "  forwarder's process). Under Docker (cgroup v1 mounted rw) the drop-in is enforced: values from"
                echo "  512K down are tried until the kernel's memory-cgroup OOM killer kills the forwarder."
                echo "- shutdown: the burst comes from a transient service (a process entered with nsenter would hold up"
                echo "  the halt: nsenter, outside the container, stops itself when systemd-shutdown SIGSTOPs its child)."
        } >"$RESULTS_MD"
        log "results table written to $RESULTS_MD"
}

# Cases under Docker: the kills, reexec and the OOM kill by a real MemoryMax= drop-in (Docker
# gives the container's systemd a writable cgroup v1 memory hierarchy on this host), then
# `docker stop`. Not backpressure: the runtime's reader there is containerd-shim, which cannot be
# paused without pausing the container's management with it.
REL_DOCKER_CASES=${REL_DOCKER_CASES:-fwd-kill both-kill reexec oom}

main() {
        REL_T0=$(now_ms)
        rel_prerequisites
        ja_results_init
        REL_TABLE=$JA_RUN_DIR/table
        : >"$REL_TABLE"
        : >"$REL_TABLE.result"
        ja_trap_exit rel_cleanup
        counting_selftest
        local runtime suite c cases
        for runtime in $REL_RUNTIMES; do
                case $runtime in
                nspawn) cases=("${CASES[@]}") ;;
                docker)
                        rel_docker_ready
                        read -r -a cases <<<"$REL_DOCKER_CASES"
                        ;;
                *) die "unknown runtime '$runtime' (REL_RUNTIMES takes nspawn, docker)" ;;
                esac
                for suite in $REL_SUITES; do
                        CT_RUNTIME=$runtime
                        REL_RUNTIME=$runtime
                        if [[ $runtime == docker ]]; then rel_docker_image "$suite"; else rel_stage "$suite"; fi
                        rel_boot_any "$suite" "rel-$runtime-$suite"
                        for c in "${cases[@]}"; do
                                declare -F "case_${c//-/_}" >/dev/null || die "unknown case '$c' (cases: ${ALL_CASES[*]})"
                                healthy_or_reboot "$suite" "$c"
                                rel_run_case "$runtime/$suite/$c" "case_${c//-/_}" "$runtime/$suite/$c"
                        done
                        healthy_or_reboot "$suite" shutdown
                        if shutdown_poweroff "$runtime/$suite/shutdown"; then
                                REL_CASE_T0=$SHUTDOWN_T0 rel_run_case "$runtime/$suite/shutdown" case_shutdown "$runtime/$suite/shutdown"
                        else
                                fail "$runtime/$suite/shutdown" "could not start the burst before the poweroff"
                                rel_ct_stop
                        fi
                        # Free the disk (a few hundred MB of stdout and journal) before the next boot.
                        if [[ ${JA_KEEP:-0} != 1 ]]; then
                                [[ -z $CT_ROOT ]] || remove_tree "$CT_ROOT"
                                [[ $runtime != docker ]] || { rel_docker_remove_all; remove_tree "$CT_DIR/journal"; }
                        fi
                done
        done
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
        main "$@"
fi
