# shellcheck shell=bash
# Helpers for the journalagent integration tests: a cached Debian rootfs, systemd-nspawn boots with
# a pipe as the container's stdout, commands inside the container, bounded waits, JSON parsing of
# what reached stdout, and pass/fail bookkeeping.
#
# Sourced by test/integration/run.sh, which sets `set -euo pipefail`. Every wait here has a
# timeout and says what it was waiting for. Never `grep -q` in a pipeline: under pipefail an early
# exit of grep makes the writer die of SIGPIPE and the pipeline "fail" at random.

JA_CACHE=${JA_CACHE:-/var/cache/journalagent}
JA_MIRROR=${JA_MIRROR:-http://deb.debian.org/debian}
# Where boots are copied to. /var/tmp, not /tmp: the host's /tmp may be a small tmpfs.
JA_WORKDIR=${JA_WORKDIR:-/var/tmp}
# Seconds a single command inside the container may take before it counts as hung.
JA_IN_CT_TIMEOUT=${JA_IN_CT_TIMEOUT:-60}

# log, now_ms, check, count_results_in, summarize_results, wait_until, pid_alive, need_cmd,
# remove_tree, nspawn_systemd_child: shared with test/e2e/lib.sh.
# shellcheck source=test/common.sh
. test/common.sh

# ---- logging and bookkeeping -----------------------------------------------------------------

# A broken environment fails the whole run loudly (never a skip: a skipped test proves nothing).
# Once results are being recorded it also counts as a failure in the summary.
die() {
        log "FATAL: $*"
        if [[ -n ${JA_RESULTS:-} ]]; then
                printf 'FAIL setup: %s\n' "$*" >>"$JA_RESULTS"
        fi
        exit 2
}

# Results go to a file, not to shell variables: cases run in subshells (see run_case) so that an
# unexpected error aborts only the case, and the counts must survive that.
ja_results_init() {
        JA_RUN_DIR=$(mktemp -d "$JA_WORKDIR/journalagent-it.XXXXXX")
        JA_RESULTS=$JA_RUN_DIR/results
        : >"$JA_RESULTS"
}

pass() {
        printf 'PASS %s\n' "$1" >>"$JA_RESULTS"
        log "PASS $1"
}

fail() {
        printf 'FAIL %s: %s\n' "$1" "$2" >>"$JA_RESULTS"
        log "FAIL $1: $2"
}

# count_results KIND: how many results of KIND (PASS, FAIL) so far.
count_results() {
        count_results_in "$JA_RESULTS" "$1"
}

# The failures, then the very last line of the run: "N passed, N failed". Printed from the EXIT
# trap, after the cleanup, so that it stays last whatever ended the run (also a FATAL or ^C).
print_summary() {
        summarize_results "$JA_RESULTS"
}

# run_case NAME FUNCTION [ARGS...]: run one test case in a subshell with errexit on. An unexpected
# command failure inside ends that case as a failure; the suite goes on with the next case.
# (`set -e` is ignored inside anything run as an `if`/`||` operand, so the status is taken with
# errexit switched off around a plain statement instead.)
run_case() {
        local name=$1 fails_before rc
        shift
        log "=== case $name"
        fails_before=$(count_results FAIL)
        set +e
        (
                set -eE
                trap 'case_error "$name" $? "$BASH_COMMAND"' ERR
                "$@"
        )
        rc=$?
        set -e
        if ((rc != 0)); then
                fail "$name" "case aborted (status $rc), see the log above"
        fi
        if (($(count_results FAIL) > fails_before)); then
                ct_dump_debug
        fi
}

# ERR trap of a case: what failed, and where, as a call stack up to the case function
# (innermost first), e.g. "lib.sh:250 in_ct < run.sh:251 case_reexec".
case_error() {
        local name=$1 status=$2 cmd=$3 i where=
        for ((i = 1; i < ${#FUNCNAME[@]}; i++)); do
                [[ ${FUNCNAME[i]} != run_case ]] || break
                where+="${where:+ < }${BASH_SOURCE[i]##*/}:${BASH_LINENO[i - 1]} ${FUNCNAME[i]}"
        done
        log "case $name: command failed with status $status at $where: $cmd"
}

# ---- prerequisites ------------------------------------------------------------------------

# need_nspawn_tools: what this file's functions run on the host: a rootfs (debootstrap), nspawn
# boots and their PID 1 (pgrep), commands inside (nsenter, timeout), JSON (jq), the cache lock and
# the cleanup (flock, findmnt).
need_nspawn_tools() {
        need_cmd systemd-nspawn systemd-container
        need_cmd debootstrap debootstrap
        need_cmd jq jq
        need_cmd nsenter util-linux
        need_cmd flock util-linux
        need_cmd findmnt util-linux
        need_cmd pgrep procps
        need_cmd timeout coreutils
}

check_prerequisites() {
        ((EUID == 0)) || die "must run as root (systemd-nspawn, nsenter): sudo make check-integration"
        need_nspawn_tools
        need_cmd make make
        local f
        for f in build/journalagent build/journalagent-broker build/systemd-bootstrap \
                build/libjournalagent_interceptor.so build/test/ja-peer; do
                [[ -e $f ]] || die "$f is missing: run 'make all build/test/ja-peer' first"
        done
}

# ---- rootfs cache --------------------------------------------------------------------------

# ensure_rootfs SUITE: print the path of a cached minimal Debian SUITE with systemd. Built once,
# into a temporary directory next to the cache entry and renamed into place, so an interrupted
# debootstrap never leaves a half rootfs that later runs would trust.
ensure_rootfs() {
        local suite=$1 dest lock_fd tmp
        dest=$JA_CACHE/rootfs-$suite
        if [[ -x $dest/usr/lib/systemd/systemd ]]; then
                echo "$dest"
                return
        fi
        mkdir -p "$JA_CACHE"
        exec {lock_fd}>"$JA_CACHE/.rootfs-$suite.lock"
        flock -w 1800 "$lock_fd" || die "timed out waiting for another run building $dest"
        if [[ ! -x $dest/usr/lib/systemd/systemd ]]; then
                local stale
                for stale in "$JA_CACHE/rootfs-$suite.tmp."*; do
                        [[ -e $stale ]] && remove_tree "$stale"
                done
                [[ -e $dest ]] && remove_tree "$dest" # not ours: lacks systemd
                tmp=$(mktemp -d "$JA_CACHE/rootfs-$suite.tmp.XXXXXX")
                chmod 0755 "$tmp" # mktemp makes it 0700; it becomes the container's /
                log "building $dest with debootstrap (a few minutes, once)"
                if ! debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus \
                        "$suite" "$tmp" "$JA_MIRROR" >"$tmp.log" 2>&1; then
                        tail -n 30 "$tmp.log" >&2
                        remove_tree "$tmp"
                        die "debootstrap $suite failed (network? mirror $JA_MIRROR; set JA_MIRROR)"
                fi
                rm -f "$tmp.log"
                mv -T "$tmp" "$dest"
        fi
        exec {lock_fd}>&-
        echo "$dest"
}

# ---- containers ----------------------------------------------------------------------------
#
# State of the current container, in globals so that case subshells can read them:
#   CT_DIR        scratch directory (root copy, stdout/stderr files)
#   CT_ROOT       the container's root file system (a fresh copy of the cached rootfs)
#   CT_OUT        everything that reached the container's stdout
#   CT_ERR        everything that reached the container's stderr (also nspawn's own messages)
#   CT_NSPAWN_PID host PID of systemd-nspawn
#   CT_PID1       host PID of the container's PID 1
#   CT_OUTCAT_PID, CT_ERRCAT_PID  the readers copying the pipes into CT_OUT / CT_ERR
CT_DIRS=()
CT_NSPAWN_PID=

# stage_install: `make install` once into a staging tree (plus ja-peer), so that every boot of the
# run gets the same build even if the sources change meanwhile.
stage_install() {
        JA_STAGE=$JA_RUN_DIR/stage
        log "make install DESTDIR=$JA_STAGE"
        make -s install DESTDIR="$JA_STAGE" >"$JA_RUN_DIR/make-install.log" 2>&1 ||
                { cat "$JA_RUN_DIR/make-install.log" >&2; die "make install DESTDIR=$JA_STAGE failed"; }
        install -D -m 0755 build/test/ja-peer "$JA_STAGE/usr/local/bin/ja-peer"
}

# ct_set_paths NAME: the CT_* paths of a new container NAME (above), all in its scratch directory
# $JA_RUN_DIR/NAME (not created here).
ct_set_paths() {
        CT_NAME=$1
        CT_DIR=$JA_RUN_DIR/$1
        CT_ROOT=$CT_DIR/root
        CT_OUT=$CT_DIR/stdout
        CT_ERR=$CT_DIR/stderr
}

# ct_prepare NAME ROOTFS: fresh copy of ROOTFS with the staged install on top.
ct_prepare() {
        local name=$1 rootfs=$2
        ct_set_paths "$name"
        mkdir -p "$CT_DIR"
        CT_DIRS+=("$CT_DIR")
        log "preparing $name: copy of $rootfs with the staged install"
        cp -a --reflink=auto "$rootfs" "$CT_ROOT"
        cp -a "$JA_STAGE/." "$CT_ROOT/"
        # The cached rootfs keeps debootstrap's /etc/machine-id. All copies share it, which is
        # harmless: boots never overlap, and each copy has its own /var/log/journal. (An empty
        # /etc/machine-id, as in many images, passes the suite too: systemd makes a transient one.)
}

# ct_boot COMMAND [NSPAWN-ARGS...]: boot the prepared copy with COMMAND as the container's PID 1.
#
# nspawn --console=pipe hands its own fds 1 and 2 to the payload unchanged (same open file
# description; checked on systemd 252), so whatever nspawn's stdout is, PID 1's stdout is. A
# plain file there would not be what Docker/Podman give (a pipe), so stdout and stderr are each
# a pipe with a `cat` copying it into a file. The cats are process substitutions of the subshell
# that then execs nspawn: $! is nspawn's PID and the pipes are held by nothing on the host but
# nspawn (and the cats), so the cats see EOF when the container is gone.
ct_boot() {
        local cmd=$1
        shift
        : >"$CT_OUT"
        : >"$CT_ERR"
        (
                exec > >(exec cat >"$CT_OUT")
                echo "$!" >"$CT_DIR/outcat.pid"
                exec 2> >(exec cat >"$CT_ERR")
                echo "$!" >"$CT_DIR/errcat.pid"
                ct_exec_nspawn "$cmd" "$@"
        ) &
        CT_NSPAWN_PID=$!
        log "booting $CT_NAME: nspawn pid $CT_NSPAWN_PID, $cmd ${*:-}"
        ct_await_readers
        wait_until 30 "PID 1 of $CT_NAME to be systemd" ct_find_pid1 ||
                ct_boot_failed "PID 1 never became systemd"
        log "container $CT_NAME: PID 1 is host pid $CT_PID1"
}

# ct_exec_nspawn COMMAND [NSPAWN-ARGS...]: become systemd-nspawn, booting the prepared copy with
# COMMAND as PID 1. The end of the boot's subshell (ct_boot, bench_ct_boot), once its stdout and
# stderr are the pipes.
ct_exec_nspawn() {
        local cmd=$1
        shift
        # --kill-signal: SIGTERM to nspawn then sends SIGRTMIN+3 (orderly poweroff) to PID 1;
        # without --boot nspawn would otherwise just kill the payload.
        exec systemd-nspawn -D "$CT_ROOT" --machine="$CT_NAME" --console=pipe \
                --register=no --keep-unit --kill-signal=SIGRTMIN+3 "$@" "$cmd" </dev/null
}

# ct_await_readers: once nspawn runs ($CT_NSPAWN_PID), wait for the readers of its pipes and take
# their PIDs (CT_OUTCAT_PID, CT_ERRCAT_PID). PID 1 is not known yet: CT_PID1 is emptied.
ct_await_readers() {
        wait_until 10 "the stdout/stderr readers of $CT_NAME" ct_have_readers ||
                ct_boot_failed "the pipe readers did not start"
        CT_OUTCAT_PID=$(<"$CT_DIR/outcat.pid")
        CT_ERRCAT_PID=$(<"$CT_DIR/errcat.pid")
        CT_PID1=
}

ct_have_readers() {
        pid_alive "$CT_NSPAWN_PID" || return 1
        [[ -s $CT_DIR/outcat.pid && -s $CT_DIR/errcat.pid ]]
}

# Has the container's PID 1 become systemd yet (nspawn_systemd_child)? nspawn exiting before that
# fails the boot.
ct_find_pid1() {
        pid_alive "$CT_NSPAWN_PID" || ct_boot_failed "systemd-nspawn exited"
        nspawn_systemd_child
}

ct_boot_failed() {
        log "container $CT_NAME failed to boot: $1"
        log "--- stderr of the container ($CT_ERR):"
        cat "$CT_ERR" >&2 || true
        die "boot of $CT_NAME failed: $1"
}

# in_ct CMD...: run CMD inside the current container (all its namespaces but the user and cgroup
# ones), with a clean environment and a timeout so that a hang fails instead of blocking the run.
in_ct() {
        timeout --kill-after=5 "$JA_IN_CT_TIMEOUT" \
                nsenter -t "$CT_PID1" -m -u -i -p -n -- \
                env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
                TERM=dumb SYSTEMD_COLORS=0 SYSTEMD_PAGER= SYSTEMD_URLIFY=0 "$@"
}

# ct_wait_running TIMEOUT: wait for the boot to finish; "degraded" is accepted (a unit of the
# minimal image failing is not our business; the cases say whether ours work).
# `is-system-running --wait` fails at once while PID 1 does not listen on its private bus socket
# yet ("Failed to connect to bus"), so first wait for any answer.
ct_wait_running() {
        local timeout=$1 state
        wait_until "$timeout" "systemd in $CT_NAME to answer systemctl" ct_manager_answers ||
                ct_boot_failed "systemctl never got an answer from PID 1"
        state=$(JA_IN_CT_TIMEOUT=$timeout in_ct systemctl is-system-running --wait 2>&1) || true
        case $state in
        running | degraded)
                log "container $CT_NAME is $state"
                [[ $state == running ]] || in_ct systemctl --failed --no-legend >&2 || true
                ;;
        *)
                log "container $CT_NAME did not finish booting within ${timeout}s: '$state'"
                in_ct systemctl --failed >&2 || true
                in_ct systemctl list-jobs >&2 || true
                ct_boot_failed "system state '$state', not running or degraded"
                ;;
        esac
}

ct_manager_answers() {
        local state
        pid_alive "$CT_NSPAWN_PID" || ct_boot_failed "systemd-nspawn exited"
        state=$(in_ct systemctl is-system-running 2>/dev/null) || true
        [[ $state =~ ^(initializing|starting|running|degraded|maintenance|stopping)$ ]]
}

# ct_stop: orderly poweroff, as a container manager does it: SIGTERM to nspawn, which sends
# --kill-signal (SIGRTMIN+3) to PID 1. If that takes longer than 30 s, SIGKILL PID 1 (the kernel
# then kills the whole PID namespace) and nspawn. Sets CT_EXIT_STATUS (nspawn's exit status, or
# "killed") and waits for the readers to have copied everything into CT_OUT/CT_ERR.
ct_stop() {
        CT_EXIT_STATUS=
        [[ -n $CT_NSPAWN_PID ]] || return 0
        if pid_alive "$CT_NSPAWN_PID"; then
                log "stopping $CT_NAME"
                kill -TERM "$CT_NSPAWN_PID" 2>/dev/null || true
                if ! wait_until 30 "$CT_NAME to power off" ct_gone; then
                        CT_EXIT_STATUS=killed
                        [[ -n ${CT_PID1:-} ]] && kill -KILL "$CT_PID1" 2>/dev/null
                        kill -KILL "$CT_NSPAWN_PID" 2>/dev/null || true
                        wait_until 10 "$CT_NAME to die after SIGKILL" ct_gone ||
                                log "WARNING: systemd-nspawn $CT_NSPAWN_PID survived SIGKILL"
                fi
        fi
        local rc=0
        wait "$CT_NSPAWN_PID" 2>/dev/null || rc=$?
        [[ -n $CT_EXIT_STATUS ]] || CT_EXIT_STATUS=$rc
        wait_until 10 "the stdout/stderr readers of $CT_NAME to finish" ct_readers_done || true
        CT_NSPAWN_PID=
        log "$CT_NAME stopped (nspawn status $CT_EXIT_STATUS)"
}

ct_gone() {
        ! pid_alive "$CT_NSPAWN_PID"
}

# boot NAME [NSPAWN-ARGS...]: fresh copy of $ROOTFS (ensure_rootfs), installed, booted with
# $ENTRYPOINT as PID 1, and running. ROOTFS and ENTRYPOINT: set by test/integration/run.sh and
# run-forwarder.sh, whose boots these are.
boot() {
        local name=$1
        shift
        ct_prepare "$name" "$ROOTFS"
        ct_boot "$ENTRYPOINT" "$@"
        ct_wait_running 90
}

# check_poweroff NAME: after the orderly poweroff nspawn exits 0 (the shim is also loaded into
# systemd-shutdown, which runs as PID 1, and must not get in its way).
check_poweroff() {
        local name=$1
        ct_stop
        check "$name/clean-poweroff" "systemd-nspawn exit status '$CT_EXIT_STATUS' after SIGTERM" \
                test "$CT_EXIT_STATUS" = 0
}

ct_readers_done() {
        ! pid_alive "${CT_OUTCAT_PID:-0}" && ! pid_alive "${CT_ERRCAT_PID:-0}"
}

# Everything that helps to see why a case failed: the container's stderr and our units' journal.
ct_dump_debug() {
        {
                echo "----- debug: stderr of ${CT_NAME:-the container} (${CT_ERR:-none yet}), last 60 lines:"
                tail -n 60 "${CT_ERR:-/dev/null}" 2>/dev/null || true
                if [[ -n ${CT_NSPAWN_PID:-} ]] && pid_alive "$CT_NSPAWN_PID"; then
                        echo "----- debug: systemctl status (inside):"
                        in_ct systemctl status --lines=0 journalagent-broker.socket \
                                journalagent-broker.service journalagent.service 2>&1 || true
                        echo "----- debug: journalctl -u journalagent -u journalagent-broker (inside), last 60 lines:"
                        in_ct journalctl -b --no-pager -n 60 -u journalagent.service \
                                -u journalagent-broker.service -u journalagent-broker.socket 2>&1 || true
                fi
                echo "----- end of debug"
        } >&2
}

# EXIT trap: stop whatever is still running, remove the scratch directories (unless JA_KEEP=1),
# print the summary. The exit status is non-zero if anything failed or the run was cut short.
ja_cleanup() {
        local rc=$?
        ja_cleanup_begin "$rc"
        ct_stop
        ja_cleanup_end "$rc" journalagent-it
}

# ja_trap_exit CLEANUP: CLEANUP (ja_cleanup or a suite's own) is the EXIT trap, and whatever ends
# the run goes through it: SIGINT, SIGTERM, and a reader of our output going away (`| head`),
# whose SIGPIPE would otherwise kill the script without cleanup, leaving the container running.
ja_trap_exit() {
        # shellcheck disable=SC2064 # CLEANUP is the name of the function, expanded now on purpose
        trap "$1" EXIT
        trap 'log "interrupted (SIGINT), cleaning up"; exit 130' INT
        trap 'log "interrupted (SIGTERM), cleaning up"; exit 143' TERM
        trap 'exit 141' PIPE
}

# ja_cleanup_begin STATUS: the start of every suite's EXIT trap, STATUS being the exit status it
# was entered with. The cleanup goes on whatever fails in it, a closed stdout/stderr (`| head`)
# must not kill it halfway, and a run cut short counts as a failure (unless a FATAL already did).
ja_cleanup_begin() {
        set +e
        trap '' PIPE
        if (($1 != 0)) && ! grep -q '^FAIL setup: ' "$JA_RESULTS"; then
                printf 'FAIL run: ended early with status %s\n' "$1" >>"$JA_RESULTS"
        fi
}

# ja_cleanup_end STATUS PREFIX: the end of every suite's EXIT trap, once its containers are
# stopped: the summary, then the scratch space removed (unless JA_KEEP=1; only a run directory of
# the suite's own PREFIX, e.g. journalagent-it, made by its results_init), then exit with STATUS,
# or 1 if a check failed.
ja_cleanup_end() {
        local rc=$1 prefix=$2 d
        [[ ${JA_KEEP:-0} != 1 ]] || log "JA_KEEP=1: leaving $JA_RUN_DIR"
        if ! print_summary && ((rc == 0)); then
                rc=1
        fi
        if [[ ${JA_KEEP:-0} != 1 && $JA_RUN_DIR == "$JA_WORKDIR/$prefix".* ]]; then
                for d in "${CT_DIRS[@]}"; do remove_tree "$d"; done
                remove_tree "$JA_RUN_DIR"
        fi
        exit "$rc"
}

# ---- what reached stdout ---------------------------------------------------------------------

# out_json: the complete JSON objects of the container's stdout, one per line. Lines that
# are not JSON objects (and a last line still being written) are dropped here; out_non_json counts
# them.
out_json() {
        jq -c -R 'fromjson? | objects' "$CT_OUT"
}

# out_non_json: lines of stdout that are not a JSON object, ignoring an unterminated last line
# (`wc -l` counts newlines, so `head` keeps exactly the complete lines).
out_non_json() {
        head -n "$(wc -l <"$CT_OUT")" "$CT_OUT" |
                jq -R '(try fromjson catch null) as $v | if ($v | type) == "object" then empty else . end'
}

# out_has_message MESSAGE: a JSON line with exactly this MESSAGE reached stdout. grep -F first
# (cheap, and the probe strings are unique), then jq on the few candidate lines.
out_has_message() {
        file_has_json_message "$CT_OUT" "$1"
}

# file_has_json_message FILE MESSAGE: as out_has_message, for any file (e.g. CT_ERR).
file_has_json_message() {
        local file=$1 msg=$2 lines n
        lines=$(grep -F -- "$msg" "$file" || true)
        [[ -n $lines ]] || return 1
        n=$(jq -R --arg m "$msg" 'fromjson? | objects | select(.MESSAGE == $m) | 1' <<<"$lines" | wc -l)
        ((n > 0))
}

# file_has_line FILE LINE: FILE has a line that is exactly LINE (for the text output modes and
# for raw lines such as journalagent-attach's).
file_has_line() {
        grep -F -x -- "$2" "$1" >/dev/null
}

# file_mentions FILE STRING: STRING occurs anywhere in FILE.
file_mentions() {
        grep -F -- "$2" "$1" >/dev/null
}

# ct_cursor_file PATH: the cursor saved in the container's cursor file PATH (a journalagent
# cursor record: "journalagent-cursor 1 <fnv1a32> <cursor>", padded to 512 bytes with newlines),
# or nothing if the file is missing or not such a record.
ct_cursor_file() {
        local f=$CT_ROOT$1
        [[ -f $f ]] || return 0
        awk 'NR == 1 && $1 == "journalagent-cursor" && $2 == "1" && NF == 4 { print $4 }' "$f"
}

# The broker's status text (STATUS= of sd_notify). `systemctl status --lines=0` shows it as
# `Status: "..."`; without --lines=0 the unit's own log lines below could match the pattern too.
broker_status_line() {
        in_ct systemctl status --lines=0 --no-pager journalagent-broker.service 2>&1 |
                sed -n 's/^ *Status: "\(.*\)"$/\1/p' || true
}

# broker_held_inode stdout|stderr: the pipe inode the broker says it holds, or nothing.
broker_held_inode() {
        local status
        status=$(broker_status_line)
        if [[ $status =~ $1\ \(pipe:\[([0-9]+)\]\) ]]; then
                echo "${BASH_REMATCH[1]}"
        fi
}

# The pipe inode of nspawn's own fd (1 or 2) on the host: the pipe the "runtime" reads.
nspawn_fd_inode() {
        stat -L -c %i "/proc/$CT_NSPAWN_PID/fd/$1"
}

# probe_latency_ms TIMEOUT_S: log a unique line inside the container and print how many ms it
# took to reach stdout; print nothing and return 1 if it did not arrive within TIMEOUT_S.
probe_latency_ms() {
        local timeout_ms=$(($1 * 1000)) probe t0 now
        probe="ja-probe-$RANDOM$RANDOM-$(date +%s%N)"
        t0=$(now_ms)
        in_ct systemd-cat -t ja-probe echo "$probe"
        while :; do
                now=$(now_ms)
                if out_has_message "$probe"; then
                        echo $((now - t0))
                        return 0
                fi
                if ((now - t0 > timeout_ms)); then
                        log "probe '$probe' did not reach stdout within ${1}s"
                        return 1
                fi
                sleep 0.05
        done
}
