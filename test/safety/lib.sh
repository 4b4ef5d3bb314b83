# shellcheck shell=bash
# Helpers of the safety suite (test/safety/run.sh), on top of test/integration/lib.sh: one
# container per case (booted, checked and removed inside the case's subshell), PID 1 health
# probes, unit drop-ins, a cached rootfs with valgrind, and numbers out of key=value lines.

# shellcheck disable=SC2034 # used by run.sh
BROKER_SOCK=/run/journalagent/broker.sock

safety_prerequisites() {
        check_prerequisites
        local f
        for f in build/test/ja-load build/test/ja-hostile-broker build/test/ja-delay-sendmsg.so; do
                [[ -e $f ]] || die "$f is missing: run 'make check-safety' (it builds the tools first)"
        done
        need_cmd chroot coreutils
        need_cmd stat coreutils
        need_cmd mount mount
        need_cmd mountpoint util-linux
}

# The safety tools go into the staging tree next to ja-peer, so every container gets them.
safety_stage_tools() {
        install -D -m 0755 build/test/ja-load "$JA_STAGE/usr/local/bin/ja-load"
        install -D -m 0755 build/test/ja-hostile-broker "$JA_STAGE/usr/local/bin/ja-hostile-broker"
        install -D -m 0644 build/test/ja-delay-sendmsg.so "$JA_STAGE/usr/local/lib/ja-delay-sendmsg.so"
}

# ensure_valgrind_rootfs SUITE: print the path of a cached copy of the SUITE rootfs with valgrind
# installed (apt-get inside a chroot, from the rootfs's own apt sources; once, then reused).
# Built next to the cache entry and renamed into place, like ensure_rootfs.
ensure_valgrind_rootfs() {
        local suite=$1 base dest lock_fd tmp
        dest=$JA_CACHE/rootfs-$suite-valgrind
        if [[ -x $dest/usr/bin/valgrind && -x $dest/usr/lib/systemd/systemd ]]; then
                echo "$dest"
                return
        fi
        base=$(ensure_rootfs "$suite")
        exec {lock_fd}>"$JA_CACHE/.rootfs-$suite-valgrind.lock"
        flock -w 900 "$lock_fd" || die "timed out waiting for another run building $dest"
        if [[ ! -x $dest/usr/bin/valgrind ]]; then
                local stale
                for stale in "$dest.tmp."*; do
                        [[ -e $stale ]] && remove_tree "$stale"
                done
                [[ -e $dest ]] && remove_tree "$dest"
                tmp=$(mktemp -d "$dest.tmp.XXXXXX")
                log "building $dest: $base + valgrind (apt-get in a chroot, once)"
                cp -a --reflink=auto "$base/." "$tmp/"
                cp -L /etc/resolv.conf "$tmp/etc/resolv.conf" 2>/dev/null || true
                if ! timeout 600 chroot "$tmp" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
                        DEBIAN_FRONTEND=noninteractive sh -c \
                        'apt-get update -q && apt-get install -y -q --no-install-recommends valgrind && apt-get clean' \
                        >"$tmp.log" 2>&1; then
                        tail -n 30 "$tmp.log" >&2
                        remove_tree "$tmp"
                        rm -f "$tmp.log"
                        die "installing valgrind into a copy of $base failed (network? the rootfs's apt sources: $(cat "$base/etc/apt/sources.list" 2>/dev/null))"
                fi
                rm -rf "$tmp/var/lib/apt/lists/"* "$tmp.log"
                [[ -x $tmp/usr/bin/valgrind ]] || { remove_tree "$tmp"; die "apt-get left no /usr/bin/valgrind in $tmp"; }
                mv -T "$tmp" "$dest"
        fi
        exec {lock_fd}>&-
        echo "$dest"
}

# ---- one container per case ----------------------------------------------------------------
#
# A case that boots calls ct_case_begin first: the container then lives in the case's subshell
# (its nspawn is a child of that subshell), and an EXIT trap there stops it and removes its copy
# whatever ends the case (a failed command, a FATAL from lib.sh, the end of the function).
# The nspawn PID also goes into $JA_RUN_DIR/live-nspawn, so that the main shell can stop it if
# the whole run is interrupted.

ct_case_begin() {
        SAFETY_FAILS_BEFORE=$(count_results FAIL)
        trap ct_case_end EXIT
        trap 'exit 130' INT
        trap 'exit 143' TERM
}

ct_case_end() {
        local rc=$?
        set +e
        if [[ -n ${CT_NSPAWN_PID:-} ]] && pid_alive "$CT_NSPAWN_PID" &&
                { ((rc != 0)) || (($(count_results FAIL) > SAFETY_FAILS_BEFORE)); }; then
                ct_dump_debug
        fi
        ct_stop
        # The overlay goes either way; with JA_KEEP=1 what the boot changed stays in upper/.
        if [[ -n ${CT_ROOT:-} ]] && mountpoint -q "$CT_ROOT"; then
                umount "$CT_ROOT" || umount -l "$CT_ROOT"
        fi
        if [[ ${JA_KEEP:-0} != 1 && -n ${CT_DIR:-} ]]; then
                remove_tree "$CT_DIR"
        fi
        return "$rc"
}

# Results and scratch space in a directory of our own prefix (lib.sh's is journalagent-it.*,
# which other suites' cleanups may take for theirs).
safety_results_init() {
        JA_RUN_DIR=$(mktemp -d "$JA_WORKDIR/journalagent-safety.XXXXXX")
        JA_RESULTS=$JA_RUN_DIR/results
        : >"$JA_RESULTS"
}

# The main shell's EXIT trap (lib.sh's ja_cleanup, for our run directory): stop a container a
# case left behind (only after an interruption), print the summary last, remove the scratch
# space unless JA_KEEP=1. Non-zero exit status if anything failed or the run was cut short.
safety_cleanup() {
        local rc=$? pid
        ja_cleanup_begin "$rc"
        if [[ -s $JA_RUN_DIR/live-nspawn ]]; then
                while read -r pid; do
                        pid_alive "$pid" || continue
                        [[ $(cat "/proc/$pid/comm" 2>/dev/null) == systemd-nspawn ]] || continue
                        log "stopping leftover systemd-nspawn $pid"
                        kill -TERM "$pid" 2>/dev/null
                        CT_NSPAWN_PID=$pid wait_until 30 "nspawn $pid to exit" ct_gone ||
                                kill -KILL "$pid" 2>/dev/null
                done <"$JA_RUN_DIR/live-nspawn"
        fi
        ja_cleanup_end "$rc" journalagent-safety
}

# ct_prepare_overlay NAME ROOTFS: as lib.sh's ct_prepare (same CT_* globals), but the copy is an
# overlay mount on ROOTFS instead of a full copy: seconds saved per boot on a busy disk. The
# overlay is unmounted by remove_tree (ct_case_end, or the final cleanup).
ct_prepare_overlay() {
        local name=$1 rootfs=$2
        ct_set_paths "$name"
        mkdir -p "$CT_DIR/upper" "$CT_DIR/work" "$CT_ROOT"
        CT_DIRS+=("$CT_DIR")
        log "preparing $name: overlay on $rootfs with the staged install"
        mount -t overlay overlay -o "lowerdir=$rootfs,upperdir=$CT_DIR/upper,workdir=$CT_DIR/work" \
                "$CT_ROOT" || die "cannot mount an overlay of $rootfs on $CT_ROOT"
        cp -a "$JA_STAGE/." "$CT_ROOT/"
}

# ct_case_boot NAME ROOTFS [SETUP-FUNCTION [NSPAWN-ARGS...]]: fresh copy of ROOTFS with the
# staged install, SETUP-FUNCTION run with CT_ROOT set (drop-ins, masks), booted with the shim.
# Then the first assertion of every case: NAME/boots-to-running-or-degraded (within 90 s). The
# time from nspawn's start to "running"/"degraded" is in BOOT_MS (for the log, not an assertion:
# boot-time comparisons belong to the benchmark). Returns 1 if the boot did not complete.
ct_case_boot() {
        local name=$1 rootfs=$2 setup=${3:-} t0 state
        shift 3 || shift $#
        # The machine name (and scratch directory) cannot hold the "/" of a case name.
        ct_prepare_overlay "${name//\//-}" "$rootfs"
        if [[ -n $setup ]]; then
                "$setup"
        fi
        t0=$(now_ms)
        ct_boot /usr/bin/systemd-bootstrap "$@"
        echo "$CT_NSPAWN_PID" >>"$JA_RUN_DIR/live-nspawn"
        CT_PID1_AT_BOOT=$CT_PID1
        if ! wait_until 90 "systemd in $CT_NAME to answer systemctl" ct_answers_or_gone ||
                ! pid_alive "$CT_NSPAWN_PID"; then
                fail "$name/boots-to-running-or-degraded" "PID 1 never answered systemctl within 90 s (nspawn alive: $(pid_alive "$CT_NSPAWN_PID" && echo yes || echo no))"
                return 1
        fi
        state=$(JA_IN_CT_TIMEOUT=90 in_ct systemctl is-system-running --wait 2>&1) || true
        BOOT_MS=$(($(now_ms) - t0))
        if [[ $state == running || $state == degraded ]]; then
                pass "$name/boots-to-running-or-degraded"
                log "$CT_NAME is $state after ${BOOT_MS} ms (nspawn start to end of boot)"
                if [[ $state == degraded ]]; then
                        log "failed units: $(in_ct systemctl --failed --no-legend --plain 2>&1 | awk '{ print $1 }' | tr '\n' ' ')"
                fi
                return 0
        fi
        fail "$name/boots-to-running-or-degraded" "system state '$state' after ${BOOT_MS} ms, not running or degraded"
        in_ct systemctl list-jobs --no-legend >&2 || true
        return 1
}

ct_answers_or_gone() {
        local state
        pid_alive "$CT_NSPAWN_PID" || return 0
        state=$(JA_IN_CT_TIMEOUT=5 in_ct systemctl is-system-running 2>/dev/null) || true
        [[ $state =~ ^(initializing|starting|running|degraded|maintenance|stopping)$ ]]
}

# ct_case_poweroff NAME: orderly poweroff; nspawn must exit 0.
ct_case_poweroff() {
        local name=$1
        ct_stop
        check "$name/clean-poweroff" "systemd-nspawn exit status '$CT_EXIT_STATUS' after SIGTERM (0 expected)" \
                test "$CT_EXIT_STATUS" = 0
}

# run_case (lib.sh) dumps debug output after a failed case from the main shell, where no
# container is known any more: the case's own EXIT trap (ct_case_end) has done it already.
eval "$(declare -f ct_dump_debug | sed '1s/^ct_dump_debug/ja_lib_ct_dump_debug/')"
ct_dump_debug() {
        [[ -n ${CT_NAME:-} ]] || return 0
        ja_lib_ct_dump_debug
}

# ---- unit drop-ins in the copy, before boot ----------------------------------------------

# dropin UNIT NAME CONTENT: /etc/systemd/system/UNIT.d/NAME.conf in the container's copy.
dropin() {
        local unit=$1 name=$2 content=$3
        mkdir -p "$CT_ROOT/etc/systemd/system/$unit.d"
        printf '%s\n' "$content" >"$CT_ROOT/etc/systemd/system/$unit.d/$name.conf"
}

# mask_unit UNIT: what `systemctl mask UNIT` does, in the copy.
mask_unit() {
        mkdir -p "$CT_ROOT/etc/systemd/system"
        ln -sfn /dev/null "$CT_ROOT/etc/systemd/system/$1"
}

# ---- PID 1 health -------------------------------------------------------------------------

# A loop inside the container (one nsenter, so nsenter's own cost is not measured): every 0.2 s,
# time `systemctl is-system-running` (which PID 1 itself answers, over /run/systemd/private) and
# print "MS STATE STATUS"; a call taking more than 5 s is cut off (status 124). Runs until
# /run/ja-probe.stop exists, at most MAX seconds.
# shellcheck disable=SC2016 # expanded by the container's sh
PID1_PROBE_SCRIPT='
max=$1
rm -f /run/ja-probe.stop
end=$(( $(date +%s) + max ))
while [ ! -e /run/ja-probe.stop ] && [ "$(date +%s)" -lt "$end" ]; do
        t0=$(date +%s%N)
        s=$(timeout -k 1 5 systemctl is-system-running 2>/dev/null)
        rc=$?
        t1=$(date +%s%N)
        echo "$(( (t1 - t0) / 1000000 )) ${s:-none} $rc"
        sleep 0.2
done'

# pid1_probe_start FILE [MAX]: start the probe loop in the background, writing to FILE.
pid1_probe_start() {
        local file=$1 max=${2:-240}
        : >"$file"
        JA_IN_CT_TIMEOUT=$((max + 30)) in_ct sh -c "$PID1_PROBE_SCRIPT" probe "$max" >"$file" 2>&1 &
        PID1_PROBE_PID=$!
        # The loop must be running (first sample in) before the stress starts.
        wait_until 10 "the first PID 1 probe sample" test -s "$file" || true
}

# pid1_probe_stop NAME FILE: end the probe loop and assert on its samples: at least MIN_SAMPLES
# (default 10), every one answered with a state within 1000 ms.
pid1_probe_stop() {
        local name=$1 file=$2 min=${3:-10} n slow max p50 bad
        in_ct touch /run/ja-probe.stop || true
        if ! wait_until 15 "the PID 1 probe loop to end" probe_done; then
                kill "$PID1_PROBE_PID" 2>/dev/null || true
        fi
        wait "$PID1_PROBE_PID" 2>/dev/null || true
        n=$(awk 'NF == 3' "$file" | wc -l)
        slow=$(awk 'NF == 3 && $1 >= 1000' "$file" | wc -l)
        bad=$(awk 'NF == 3 && $2 !~ /^(running|degraded)$/' "$file" | wc -l)
        max=$(awk 'NF == 3 && $1 > m { m = $1 } END { print m + 0 }' "$file")
        p50=$(awk 'NF == 3 { print $1 }' "$file" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] + 0 }')
        log "$name: PID 1 probe: $n samples, median ${p50} ms, max ${max} ms, $slow at or over 1000 ms, $bad without running/degraded"
        # shellcheck disable=SC2034 # for the caller's log line
        PROBE_SUMMARY="$n samples, median ${p50} ms, max ${max} ms"
        check "$name/pid1-answers-within-1s" \
                "PID 1 probe: $n samples (at least $min wanted), $slow took 1000 ms or more (max ${max} ms), $bad answered no running/degraded state: $(awk 'NF == 3 && ($1 >= 1000 || $2 !~ /^(running|degraded)$/)' "$file" | head -n 3 | tr '\n' ';')" \
                test "$n" -ge "$min" -a "$slow" -eq 0 -a "$bad" -eq 0
}

probe_done() {
        ! kill -0 "$PID1_PROBE_PID" 2>/dev/null
}

# pid1_alive_check NAME: the container's PID 1 is still the systemd that booted (same host PID,
# comm "systemd", not a zombie), and PID 1 logged no crash ("Caught <SIG...>", "Freezing
# execution" are what systemd's crash handler prints).
pid1_alive_check() {
        local name=$1 comm crashes
        comm=$(cat "/proc/$CT_PID1_AT_BOOT/comm" 2>/dev/null) || comm=gone
        check "$name/pid1-alive" "PID 1 (host pid $CT_PID1_AT_BOOT) is '$comm', not the systemd that booted" \
                pid1_same
        crashes=$(in_ct journalctl -b _PID=1 -o cat --no-pager 2>/dev/null |
                grep -c -E 'Caught <[A-Z]+>|Freezing execution|dumped core' || true)
        check "$name/pid1-no-crash-logged" "PID 1 logged $crashes crash lines (Caught <SIG>/Freezing execution)" \
                test "${crashes:-0}" -eq 0
}

pid1_same() {
        pid_alive "$CT_PID1_AT_BOOT" && [[ $(cat "/proc/$CT_PID1_AT_BOOT/comm" 2>/dev/null) == systemd ]]
}

# ---- small parsing helpers -----------------------------------------------------------------

# kv KEY LINE: the value of KEY=VALUE in a line of key=value words (ja-load's output).
kv() {
        local key=$1 line=$2 w
        for w in $line; do
                if [[ $w == "$key="* ]]; then
                        echo "${w#*=}"
                        return 0
                fi
        done
        echo ""
}

# ct_fd_count PID: number of open fds of PID (a PID inside the container), counted inside.
ct_fd_count() {
        # shellcheck disable=SC2016 # expanded by the container's sh
        in_ct sh -c 'ls "/proc/$1/fd" | wc -l' sh "$1"
}

ct_main_pid() {
        in_ct systemctl show -P MainPID "$1"
}
