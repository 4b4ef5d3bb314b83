# shellcheck shell=bash
# shellcheck disable=SC2034 # the CT_* globals are read by test/integration/lib.sh
# Helpers for bench/run.sh, on top of test/integration/lib.sh (cached rootfs, staged install,
# systemd-nspawn boots, in_ct, ct_stop): boots whose stdout/stderr pipes are read by
# bench/pipe-stamp, results recorded as JSON lines, small statistics for the console.

BENCH_BIN=${BENCH_BIN:-build/bench}

# rec SECTION CASE METRIC ROUND VALUE: one raw measurement, appended to $BENCH_RESULTS (JSON lines;
# bench/report.py takes medians and ratios from them).
rec() {
        printf '{"sec":"%s","case":"%s","metric":"%s","round":%s,"value":%s}\n' \
                "$1" "$2" "$3" "$4" "$5" >>"$BENCH_RESULTS"
}

# rec_text SECTION CASE TEXT: a string (metric "text").
rec_text() {
        jq -cn --arg s "$1" --arg c "$2" --arg v "$3" \
                '{sec: $s, case: $c, metric: "text", round: 0, value: $v}' >>"$BENCH_RESULTS"
}

# bench_ct_boot READER COMMAND [NSPAWN-ARGS...]: as ct_boot (test/integration/lib.sh), but the
# container's stdout and stderr pipes are read by READER: "stamp" (bench/pipe-stamp: probe arrival
# times into $CT_DIR/stdout.tsv and stderr.tsv) or "discard". Sets the same CT_* globals, so
# in_ct, ct_wait_running and ct_stop work as usual. $CT_DIR/t0: CLOCK_REALTIME in µs just before
# nspawn's exec. Returns 1 (after cleaning up) if nspawn died before PID 1 became systemd: on this
# kind of host nspawn sometimes fails to set up cgroups while other containers start and stop.
bench_ct_boot() {
        local reader=$1 cmd=$2
        shift 2
        : >"$CT_OUT"
        : >"$CT_ERR"
        : >"$CT_DIR/stdout.tsv"
        : >"$CT_DIR/stderr.tsv"
        (
                if [[ $reader == stamp ]]; then
                        exec > >(exec "$BENCH_BIN/pipe-stamp" "$CT_DIR/stdout.tsv")
                        echo "$!" >"$CT_DIR/outcat.pid"
                        exec 2> >(exec "$BENCH_BIN/pipe-stamp" "$CT_DIR/stderr.tsv")
                        echo "$!" >"$CT_DIR/errcat.pid"
                else
                        exec > >(exec cat >/dev/null)
                        echo "$!" >"$CT_DIR/outcat.pid"
                        exec 2> >(exec cat >"$CT_ERR")
                        echo "$!" >"$CT_DIR/errcat.pid"
                fi
                # When nspawn starts, in µs (section d measures boots from here).
                echo "${EPOCHREALTIME/./}" >"$CT_DIR/t0"
                ct_exec_nspawn "$cmd" "$@"
        ) &
        CT_NSPAWN_PID=$!
        log "booting $CT_NAME: nspawn pid $CT_NSPAWN_PID, $cmd ${*:-}"
        ct_await_readers
        JA_POLL_INTERVAL=0.05 wait_until 30 "PID 1 of $CT_NAME to be systemd" bench_find_pid1 ||
                ct_boot_failed "PID 1 never became systemd"
        if [[ -z $CT_PID1 ]]; then
                log "WARNING: systemd-nspawn exited before PID 1 started: $(tail -n 3 "$CT_ERR" | tr '\n' ' ')"
                ct_stop
                return 1
        fi
}

# As ct_find_pid1, but nspawn exiting ends the wait (with CT_PID1 empty) instead of the run.
bench_find_pid1() {
        pid_alive "$CT_NSPAWN_PID" || return 0
        nspawn_systemd_child
}

# bench_ct_boot_retry READER COMMAND [NSPAWN-ARGS...]: bench_ct_boot, up to three attempts.
bench_ct_boot_retry() {
        local _
        for _ in 1 2 3; do
                bench_ct_boot "$@" && return 0
                sleep 1
        done
        die "systemd-nspawn failed to start $CT_NAME three times (see above)"
}

# stamped_count FILE TAG: how many probes of TAG have arrived in a pipe-stamp file.
stamped_count() {
        awk -v t="$2" '$1 == t { n++ } END { print n + 0 }' "$1"
}

# stamps_complete FILE TAG N: all N probes of TAG have arrived.
stamps_complete() {
        (($(stamped_count "$1" "$2") >= $3))
}

# ct_proc_stat PID-INSIDE: "CPU_NS VMHWM_KB" of a process of the container: CPU time (user +
# system, from /proc/PID/schedstat, in ns) and peak RSS.
ct_proc_stat() {
        local out
        # shellcheck disable=SC2016 # expanded by the shell inside the container
        out=$(in_ct sh -c 'read -r cpu _ < /proc/'"$1"'/schedstat &&
                hwm=$(awk "/^VmHWM:/ { print \$2 }" /proc/'"$1"'/status) && echo "$cpu $hwm"')
        [[ $out =~ ^[0-9]+\ [0-9]+$ ]] || die "cannot read the CPU time and peak RSS of pid $1 in $CT_NAME: '$out'"
        echo "$out"
}

ct_main_pid() {
        in_ct systemctl show -p MainPID --value "$1"
}

# median N...: the median of the arguments (the lower middle one for an even count).
median() {
        printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}
