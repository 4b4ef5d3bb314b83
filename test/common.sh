# shellcheck shell=bash
# Helpers that every shell harness of the project needs alike, whatever its results and containers:
# logging, the ms clock, counting and summing up results, bounded waits, checks of processes and commands, removing a scratch tree,
# finding an nspawn container's PID 1. Sourced (from the top of the source tree) by
# test/integration/lib.sh, which the safety, reliability and bench harnesses build on, and by
# test/e2e/lib.sh, which has results and containers of its own and cannot source that one (its
# helpers share names with it).
#
# pass and fail (used by check) are the sourcing harness's own: each records into its own file.

log() {
        printf '%s %s\n' "$(date +%H:%M:%S.%3N)" "$*" >&2
}

now_ms() {
        local ns
        ns=$(date +%s%N)
        echo $((ns / 1000000))
}

# check NAME DESCRIPTION-OF-FAILURE CMD...: pass if CMD succeeds, else fail with the message.
check() {
        local name=$1 msg=$2
        shift 2
        if "$@"; then pass "$name"; else fail "$name" "$msg"; fi
}

# count_results_in FILE KIND: how many results of KIND (PASS, FAIL, ...) the results file FILE
# holds (one "KIND name..." line per result, written by the harness's pass and fail).
count_results_in() {
        local n
        n=$(grep -c "^$2 " "$1" || true)
        echo "${n:-0}"
}

# summarize_results FILE: the failures FILE holds, then "N passed, N failed" on stdout, meant as
# the very last line of the run; fails if anything failed.
summarize_results() {
        local passed failed
        passed=$(count_results_in "$1" PASS)
        failed=$(count_results_in "$1" FAIL)
        if ((failed > 0)); then
                echo "failed:" >&2
                sed -n 's/^FAIL /  /p' "$1" >&2
        fi
        echo "$passed passed, $failed failed"
        ((failed == 0))
}

# wait_until TIMEOUT_S DESCRIPTION CMD...: poll CMD (every JA_POLL_INTERVAL seconds, default 0.2)
# until it succeeds; after TIMEOUT_S seconds say what was being waited for and return 1.
wait_until() {
        local timeout=$1 desc=$2 deadline
        shift 2
        deadline=$(($(now_ms) + timeout * 1000))
        while :; do
                if "$@"; then
                        return 0
                fi
                if (($(now_ms) >= deadline)); then
                        log "timed out after ${timeout}s waiting for $desc"
                        return 1
                fi
                sleep "${JA_POLL_INTERVAL:-0.2}"
        done
}

# pid_alive PID: PID exists and is not a zombie (a dead child not yet reaped still has a /proc entry).
pid_alive() {
        local state
        state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
        [[ -n $state && $state != Z ]]
}

# need_cmd COMMAND PACKAGE: COMMAND is installed, or the run dies saying which Debian package has it.
need_cmd() {
        command -v "$1" >/dev/null 2>&1 || die "'$1' not found: install it (Debian: apt-get install $2)"
}

# remove_tree DIR: unmount anything left mounted under DIR (debootstrap mounts /proc and /sys
# inside its target and an interrupted run leaves them; an overlay root is a mount too), then
# remove DIR without ever crossing into another file system.
remove_tree() {
        local dir=$1 m
        [[ -n $dir && $dir != / && -e $dir ]] || return 0
        while read -r m; do
                umount -l "$m" 2>/dev/null || true
        done < <(findmnt -rn -o TARGET | awk -v d="$dir" 'index($0, d "/") == 1' | sort -r)
        rm -rf --one-file-system -- "$dir"
}

# nspawn_systemd_child: the container's PID 1 is the child of systemd-nspawn ($CT_NSPAWN_PID) that
# lives in another PID namespace (the pipe readers may be children of nspawn too). It first runs
# the entrypoint (e.g. systemd-bootstrap), which must exec systemd: succeed, with CT_PID1 set, once
# its comm is "systemd". What a dead nspawn means is the caller's business (it is checked first).
nspawn_systemd_child() {
        local child my_ns
        my_ns=$(readlink /proc/self/ns/pid)
        for child in $(pgrep -P "$CT_NSPAWN_PID" || true); do
                [[ $(readlink "/proc/$child/ns/pid" 2>/dev/null) != "$my_ns" ]] || continue
                [[ $(cat "/proc/$child/comm" 2>/dev/null) == systemd ]] || return 1
                # shellcheck disable=SC2034 # read by the sourcing harness (in_ct, ct_stop)
                CT_PID1=$child
                return 0
        done
        return 1
}
