# shellcheck shell=bash
# shellcheck disable=SC2034 # the CT_* globals are read by test/integration/lib.sh
# Section d: PID 1's boot time, plain systemd against systemd with the shim, and with hostile or
# absent brokers. Every boot is a fresh one of the same tree (systemd-nspawn --volatile=overlay:
# the tree read-only under a tmpfs), stdout and stderr pipes, BENCH_BOOTS boots per configuration,
# configurations interleaved (rotated by one each round).
#
#   plain        Debian 12 as debootstrapped, /usr/lib/systemd/systemd as PID 1
#   no-shim      our install (units enabled), /usr/lib/systemd/systemd as PID 1: nothing deposits,
#                the forwarder finds the broker empty and retries
#   shim         our install, /usr/bin/systemd-bootstrap: the product
#   file         as shim, /run/journalagent/broker.sock is a regular file (bind-mounted over the
#                path): the socket unit cannot listen, the shim never deposits
#   no-accept    as shim, the broker replaced by `sleep infinity`: the socket listens, PID 1's
#                deposit and every fetch wait in a backlog nobody drains
#   masked       as shim, journalagent-broker.service masked: systemd refuses to listen
#
# Two figures per boot: "wall", from systemd-nspawn's exec on the host to READY=1 reaching the
# host (nspawn --notify-ready=yes passes on PID 1's READY=1, which systemd sends when it logs
# "Startup finished"), so the entrypoint's exec and the shim's constructor count too; and
# "userspace", systemd's own FinishTimestamp - UserspaceTimestamp (`systemd-analyze` shows it).
# And PID 1's CPU time up to READY=1 (schedstat): the work PID 1 does, shim included, which
# other load on the machine hardly changes (the two times above it does).
# Sourced by bench/run.sh.

BOOT_CONFIGS=(plain no-shim shim file no-accept masked)

section_boot() {
        local rootfs=$1 dir=$JA_RUN_DIR/boot r i k n
        mkdir -p "$dir/noaccept.d"
        CT_DIRS+=("$dir")
        log "d: preparing the trees (plain and with our install)"
        cp -a --reflink=auto "$rootfs" "$dir/plain"
        cp -a --reflink=auto "$rootfs" "$dir/ours"
        cp -a "$JA_STAGE/." "$dir/ours/"
        : >"$dir/regular-file"
        printf '[Service]\nType=simple\nExecStart=\nExecStart=/bin/sleep infinity\n' \
                >"$dir/noaccept.d/jabench.conf"
        n=${#BOOT_CONFIGS[@]}
        for ((r = 1; r <= BENCH_BOOTS; r++)); do
                for ((i = 0; i < n; i++)); do
                        k=$(((i + r - 1) % n))
                        boot_once "$dir" "${BOOT_CONFIGS[k]}" "$r"
                done
        done
}

# boot_once DIR CONFIG ROUND
boot_once() {
        local dir=$1 config=$2 r=$3 root=$1/ours cmd=/usr/bin/systemd-bootstrap args=() rw_pid
        local t0 ready us attempt pid1_cpu
        case $config in
        plain) root=$dir/plain cmd=/usr/lib/systemd/systemd ;;
        no-shim) cmd=/usr/lib/systemd/systemd ;;
        shim) ;;
        file) args=(--bind-ro="$dir/regular-file:/run/journalagent/broker.sock") ;;
        no-accept) args=(--bind-ro="$dir/noaccept.d:/etc/systemd/system/journalagent-broker.service.d") ;;
        masked) args=(--bind-ro=/dev/null:/etc/systemd/system/journalagent-broker.service) ;;
        *) die "unknown boot configuration $config" ;;
        esac
        CT_NAME=jabench-boot
        CT_DIR=$dir/$config.$r
        CT_ROOT=$root
        CT_OUT=$CT_DIR/stdout
        CT_ERR=$CT_DIR/stderr
        mkdir -p "$CT_DIR"
        for attempt in 1 2 3; do
                rm -f "$CT_DIR/notify"
                "$PYTHON" bench/ready-wait.py "$CT_DIR/notify" 60 >"$CT_DIR/ready" &
                rw_pid=$!
                wait_until 10 "the notification socket" test -S "$CT_DIR/notify" ||
                        die "ready-wait.py did not start"
                if NOTIFY_SOCKET=$CT_DIR/notify bench_ct_boot discard "$cmd" --volatile=overlay \
                        --notify-ready=yes "${args[@]}"; then
                        break
                fi
                kill "$rw_pid" 2>/dev/null || true
                wait "$rw_pid" 2>/dev/null || true
                ((attempt < 3)) || die "$config boot $r: systemd-nspawn failed three times"
                sleep 1
        done
        wait "$rw_pid" || die "$config boot $r: no READY=1 within 60 s"
        read -r pid1_cpu _ <"/proc/$CT_PID1/schedstat"
        ready=$(awk '$1 == "ready" { print $2 }' "$CT_DIR/ready")
        t0=$(<"$CT_DIR/t0")
        us=$(in_ct systemctl show -p UserspaceTimestampMonotonic -p FinishTimestampMonotonic |
                awk -F= '{ v[$1] = $2 } END { print v["FinishTimestampMonotonic"] - v["UserspaceTimestampMonotonic"] }')
        log "d: $config boot $r: wall $(((ready / 1000 - t0) / 1000)) ms, userspace $((us / 1000)) ms"
        rec d "boot/$config" wall_ms "$r" "$(awk -v a="$t0" -v b="$ready" 'BEGIN { printf "%.3f", (b / 1e3 - a) / 1e3 }')"
        rec d "boot/$config" userspace_ms "$r" "$(awk -v u="$us" 'BEGIN { printf "%.3f", u / 1e3 }')"
        rec d "boot/$config" pid1_cpu_ms "$r" "$(awk -v c="$pid1_cpu" 'BEGIN { printf "%.3f", c / 1e6 }')"
        ct_stop
        [[ $CT_EXIT_STATUS == 0 ]] || log "WARNING: $config boot $r: nspawn exited with $CT_EXIT_STATUS"
}
