# shellcheck shell=bash
# Sections b (follow mode end to end), c (the follow half: forwarder, journalctl -f and broker
# resources) and e (broker fetches), all in one boot of a real container: Debian 12, systemd 252
# as PID 1 through /usr/bin/systemd-bootstrap under systemd-nspawn, stdout and stderr each a pipe
# read on the host by bench/pipe-stamp.
#
# Two forwarders follow the same journal in that boot:
#   ours        journalagent.service as shipped (--follow --boot --to=broker --cursor-file, -o
#               json), writing to the container's stdout pipe
#   journalctl  jabench-journalctl.service: journalctl -f -o json --no-tail -b, started through
#               journalagent-attach so that its stdout is the container's stderr pipe (the same
#               kind of pipe, read by the same kind of reader)
# Each round, three measurements, probes logged inside by bench/loggen (a probe carries its send
# time; the reader notes its arrival):
#   latency  1,000 probes one by one, 2-18 ms apart (random)
#   sporadic BENCH_SPORADIC probes 200-800 ms apart: what a quiet service's line waits
#   live     BENCH_BURST probes as fast as journald takes them, both forwarders following: the
#            end-to-end rate, bounded by journald's
#   backlog  BENCH_BACKLOG probes logged while both forwarders are stopped (SIGSTOP), then both
#            continued at once (SIGCONT): how fast a follower catches up with a chatty service
# journald's rate limit is off in this image (it would drop the bursts).
# Sourced by bench/run.sh.
# shellcheck disable=SC2086 # `set -- $stats`: splitting a line of numbers into words on purpose

BENCH_BURST=${BENCH_BURST:-20000}
BENCH_BACKLOG=${BENCH_BACKLOG:-50000}
BENCH_PROBES=1000
BENCH_SPORADIC=${BENCH_SPORADIC:-20}

section_follow() {
        local r tag ours_pid jctl_pid broker_pid ours_host jctl_host s0 s1 s2 t_cont
        CT_NAME=jabench-follow
        ct_prepare "$CT_NAME" "$1"
        mkdir -p "$CT_ROOT/etc/systemd/journald.conf.d"
        printf '[Journal]\nStorage=persistent\nRateLimitIntervalSec=0\n' \
                >"$CT_ROOT/etc/systemd/journald.conf.d/jabench.conf"
        cat >"$CT_ROOT/etc/systemd/system/jabench-journalctl.service" <<'EOF'
[Unit]
Description=journalctl -f -o json onto the container's stderr (benchmark comparison)
[Service]
ExecStart=/usr/bin/journalagent-attach -- /bin/sh -c 'exec journalctl -f -o json --no-tail -b >&2'
EOF
        bench_ct_boot_retry stamp /usr/bin/systemd-bootstrap
        ct_wait_running 120
        in_ct systemctl start jabench-journalctl.service
        # Both have forwarded the boot when a first probe has come through on both pipes.
        in_ct loggen burst 1 sync >/dev/null
        wait_until 30 "the sync probe on both pipes" follow_arrived sync 1 ||
                die "the forwarders do not forward (no probe on the container's stdout/stderr)"

        ours_pid=$(ct_main_pid journalagent.service)
        jctl_pid=$(ct_main_pid jabench-journalctl.service)
        broker_pid=$(ct_main_pid journalagent-broker.service)
        [[ $ours_pid != 0 && $jctl_pid != 0 && $broker_pid != 0 ]] ||
                die "a service is not running (journalagent $ours_pid, journalctl $jctl_pid, broker $broker_pid)"

        ours_host=$(host_pid "$ours_pid" journalagent)
        jctl_host=$(host_pid "$jctl_pid" journalctl)
        for ((r = 1; r <= BENCH_FOLLOW_ROUNDS; r++)); do
                log "b: round $r of $BENCH_FOLLOW_ROUNDS: $BENCH_PROBES probes one by one"
                tag=lat$r
                in_ct loggen paced "$BENCH_PROBES" 2000 18000 "$tag" >/dev/null
                wait_until 30 "$BENCH_PROBES probes on both pipes" follow_arrived "$tag" "$BENCH_PROBES" ||
                        log "WARNING: not every probe of round $r arrived (counted as late)"
                follow_record_latency "$tag" "$r"

                log "b: round $r: $BENCH_SPORADIC probes 200-800 ms apart"
                tag=sporadic$r
                in_ct loggen paced "$BENCH_SPORADIC" 200000 800000 "$tag" >/dev/null
                wait_until 10 "the sporadic probes on both pipes" follow_arrived "$tag" "$BENCH_SPORADIC" ||
                        log "WARNING: not every sporadic probe of round $r arrived within 10 s"

                log "b: round $r: live burst of $BENCH_BURST"
                s0=$(follow_snapshot "$ours_pid" "$jctl_pid" "$broker_pid")
                tag=burst$r
                JA_IN_CT_TIMEOUT=300 in_ct loggen burst "$BENCH_BURST" "$tag" >"$CT_DIR/$tag.sent"
                wait_until 180 "the burst on both pipes" follow_arrived "$tag" "$BENCH_BURST" ||
                        log "WARNING: not every probe of burst $r arrived"
                s1=$(follow_snapshot "$ours_pid" "$jctl_pid" "$broker_pid")
                follow_record_burst "$tag" "$r" "$s0" "$s1"

                log "b: round $r: backlog of $BENCH_BACKLOG (forwarders stopped while it is logged)"
                tag=backlog$r
                kill -STOP "$ours_host" "$jctl_host"
                JA_IN_CT_TIMEOUT=300 in_ct loggen burst "$BENCH_BACKLOG" "$tag" >/dev/null
                s0=$(follow_snapshot "$ours_pid" "$jctl_pid" "$broker_pid")
                t_cont=${EPOCHREALTIME/./}
                kill -CONT "$ours_host" "$jctl_host"
                wait_until 180 "the backlog on both pipes" follow_arrived "$tag" "$BENCH_BACKLOG" ||
                        log "WARNING: not every probe of backlog $r arrived"
                s1=$(follow_snapshot "$ours_pid" "$jctl_pid" "$broker_pid")
                follow_record_backlog "$tag" "$r" "$t_cont" "$s0" "$s1"
        done
        # Sporadic latencies and lost probes only now: a probe that arrives late, e.g. only with the
        # next round's traffic, counts with its real latency.
        in_ct loggen burst 1 final >/dev/null
        wait_until 30 "the final probe on both pipes" follow_arrived final 1 || true
        for ((r = 1; r <= BENCH_FOLLOW_ROUNDS; r++)); do
                follow_record_sporadic "sporadic$r" "$r"
        done
        follow_record_missing
        s2=$(follow_snapshot "$ours_pid" "$jctl_pid" "$broker_pid")
        # Peak RSS over the whole boot: catching up with the boot, the probes and the bursts.
        set -- $s2
        rec c follow/ours rss_kb 1 "$2"
        rec c follow/journalctl rss_kb 1 "$4"
        rec c follow/broker rss_kb 1 "$6"
        rec c follow/ours anon_kb 1 "$(ct_rss_anon "$ours_pid")"
        rec c follow/journalctl anon_kb 1 "$(ct_rss_anon "$jctl_pid")"
        rec c follow/broker anon_kb 1 "$(ct_rss_anon "$broker_pid")"
}

# host_pid PID-INSIDE COMM: the host's PID of the container's process PID-INSIDE.
host_pid() {
        local d
        for d in /proc/[0-9]*; do
                [[ $(cat "$d/comm" 2>/dev/null) == "$2" ]] || continue
                if awk -v p="$1" '/^NSpid:/ && $NF == p { f = 1 } END { exit !f }' "$d/status" 2>/dev/null &&
                        [[ $(readlink "$d/ns/pid") == "$(readlink "/proc/$CT_PID1/ns/pid")" ]]; then
                        echo "${d#/proc/}"
                        return 0
                fi
        done
        die "no host PID for $2 (pid $1 in $CT_NAME)"
}

# ct_rss_anon PID-INSIDE: the process's private (anonymous) resident memory now, in kB.
ct_rss_anon() {
        # shellcheck disable=SC2016 # awk's $2
        in_ct awk '/^RssAnon:/ { print $2 }' "/proc/$1/status"
}

follow_arrived() {
        stamps_complete "$CT_DIR/stdout.tsv" "$1" "$2" && stamps_complete "$CT_DIR/stderr.tsv" "$1" "$2"
}

# "CPU_NS HWM_KB" for each of the three PIDs, on one line.
follow_snapshot() {
        local p
        for p in "$@"; do
                printf '%s ' "$(ct_proc_stat "$p")"
        done
        echo
}

follow_record_latency() {
        local tag=$1 r=$2 who stats
        for who in ours journalctl; do
                stats=$("$PYTHON" bench/stamps.py "$(follow_file "$who")" "$tag" "$BENCH_PROBES")
                log "b: $who: $stats"
                set -- $stats
                rec b "latency/$who" arrived "$r" "$2"
                rec b "latency/$who" p50_ms "$r" "$4"
                rec b "latency/$who" p99_ms "$r" "$6"
                rec b "latency/$who" max_ms "$r" "$8"
                rec b "latency/$who" percentiles_ms "$r" \
                        "$("$PYTHON" bench/stamps.py --percentiles "$(follow_file "$who")" "$tag" "$BENCH_PROBES")"
        done
        # Probe by probe: which pipe had the line first.
        stats=$("$PYTHON" bench/stamps.py --pair "$(follow_file ours)" "$(follow_file journalctl)" "$tag")
        log "b: ours vs journalctl, probe by probe: $stats"
        set -- $stats
        rec b latency/pair ours_first_pct "$r" "$2"
        rec b latency/pair lead_ms "$r" "$4"
        rec b latency/pair ours_later_100ms "$r" "$6"
        rec b latency/pair ours_earlier_100ms "$r" "$8"
}

follow_record_burst() {
        local tag=$1 r=$2 s0 s1 who stats sent i
        read -ra s0 <<<"$3"
        read -ra s1 <<<"$4"
        sent=$(awk '$1 == "sent" { printf "%.6f", ($4 - $3) / 1e9 }' "$CT_DIR/$tag.sent")
        rec b burst/loggen span_s "$r" "$sent"
        i=0
        for who in ours journalctl broker; do
                # CPU time per 100,000 entries of the burst (the broker has no part in it: ~0).
                rec c "follow/$who" cpu_s_per_100k "$r" "$(cpu_per_100k "${s0[i]}" "${s1[i]}" "$BENCH_BURST")"
                i=$((i + 2))
                [[ $who != broker ]] || continue
                stats=$("$PYTHON" bench/stamps.py "$(follow_file "$who")" "$tag" "$BENCH_BURST")
                log "b: burst $who: $stats"
                set -- $stats
                rec b "burst/$who" arrived "$r" "$2"
                rec b "burst/$who" span_s "$r" "${10}"
        done
}

# follow_record_backlog TAG ROUND T_CONT_US SNAPSHOT-BEFORE SNAPSHOT-AFTER
follow_record_backlog() {
        local tag=$1 r=$2 t_cont=$3 s0 s1 who stats i=0
        read -ra s0 <<<"$4"
        read -ra s1 <<<"$5"
        for who in ours journalctl; do
                stats=$("$PYTHON" bench/stamps.py "$(follow_file "$who")" "$tag" "$BENCH_BACKLOG")
                log "b: backlog $who: $stats"
                set -- $stats
                rec b "backlog/$who" arrived "$r" "$2"
                rec b "backlog/$who" span_s "$r" "$(awk -v a="$t_cont" -v b="${12}" \
                        'BEGIN { printf "%.6f", (b / 1e3 - a) / 1e6 }')"
                rec c "backlog/$who" cpu_s_per_100k "$r" "$(cpu_per_100k "${s0[i]}" "${s1[i]}" "$BENCH_BACKLOG")"
                i=$((i + 2))
        done
}

follow_record_sporadic() {
        local tag=$1 r=$2 who stats
        for who in ours journalctl; do
                stats=$("$PYTHON" bench/stamps.py "$(follow_file "$who")" "$tag" "$BENCH_SPORADIC")
                log "b: sporadic $who: $stats"
                set -- $stats
                rec b "sporadic/$who" sent "$r" "$BENCH_SPORADIC"
                rec b "sporadic/$who" p50_ms "$r" "$4"
                rec b "sporadic/$who" max_ms "$r" "$8"
        done
}

# Probes that never reached a pipe (by the end of section b), per follower, all kinds together.
follow_record_missing() {
        local who r tag n missing
        for who in ours journalctl; do
                missing=0
                for ((r = 1; r <= BENCH_FOLLOW_ROUNDS; r++)); do
                        for tag in "lat$r:$BENCH_PROBES" "sporadic$r:$BENCH_SPORADIC" \
                                "burst$r:$BENCH_BURST" "backlog$r:$BENCH_BACKLOG"; do
                                n=$(awk -v t="${tag%%:*}" '$1 == t { s[$2] = 1 } END { print length(s) }' \
                                        "$(follow_file "$who")")
                                missing=$((missing + ${tag##*:} - n))
                        done
                done
                log "b: $who: $missing probes never arrived"
                rec b "probes/$who" missing 1 "$missing"
        done
        rec b probes/all sent 1 $((BENCH_FOLLOW_ROUNDS * (BENCH_PROBES + BENCH_SPORADIC + BENCH_BURST + BENCH_BACKLOG)))
}

follow_file() {
        if [[ $1 == ours ]]; then echo "$CT_DIR/stdout.tsv"; else echo "$CT_DIR/stderr.tsv"; fi
}

# cpu_per_100k NS-BEFORE NS-AFTER ENTRIES
cpu_per_100k() {
        awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { printf "%.6f", (b - a) / 1e9 * 100000 / n }'
}

# Section e, in the same boot: bench/fetch-load against the broker, sequential (latency) and
# 4 clients at once (throughput), BENCH_FOLLOW_ROUNDS rounds interleaved; the broker's CPU time
# per fetch from its schedstat.
section_broker() {
        local r c out broker_pid s0 s1 p0 p1 n=2000
        broker_pid=$(ct_main_pid journalagent-broker.service)
        for ((r = 1; r <= BENCH_FOLLOW_ROUNDS; r++)); do
                for c in 1 4; do
                        s0=$(ct_proc_stat "$broker_pid")
                        read -r p0 _ <"/proc/$CT_PID1/schedstat"
                        out=$(in_ct fetch-load -n "$n" -c "$c") || die "fetch-load failed: $out"
                        read -r p1 _ <"/proc/$CT_PID1/schedstat"
                        s1=$(ct_proc_stat "$broker_pid")
                        log "e: round $r, $c client(s): $out"
                        set -- $out
                        rec e "fetch/c$c" per_second "$r" "${8}"
                        rec e "fetch/c$c" p50_us "$r" "${10}"
                        rec e "fetch/c$c" p99_us "$r" "${12}"
                        rec e "fetch/c$c" broker_cpu_us_per_fetch "$r" \
                                "$(awk -v a="${s0%% *}" -v b="${s1%% *}" -v n="$n" \
                                        'BEGIN { printf "%.3f", (b - a) / 1e3 / n }')"
                        # PID 1 works for every fetch too: the broker's STATUS= update.
                        rec e "fetch/c$c" pid1_cpu_us_per_fetch "$r" \
                                "$(awk -v a="$p0" -v b="$p1" -v n="$n" 'BEGIN { printf "%.3f", (b - a) / 1e3 / n }')"
                done
        done
        rec e broker rss_kb 1 "$(ct_proc_stat "$broker_pid" | awk '{ print $2 }')"
        rec_text e broker "$(broker_status_line)"
}
