#!/bin/bash
# make bench: journalagent against journalctl and the physical floor, side by side, on this
# machine, now. Prints a table and writes it to bench/results.md (see README.md, "Benchmarks"), a
# chart to bench/results.png, the raw samples to bench/results.jsonl (`bench/report.py
# bench/results.jsonl OUT.md` and `bench/chart.py bench/results.jsonl OUT.png` re-render).
#
#   sudo make bench                    (builds, then runs this from the repo root)
#
# Sections (every figure a median over interleaved rounds, every ratio from the same rounds):
#   a  batch throughput: journalagent / journalctl / bench/floor -D over a 200,000-entry journal
#      written by a real journald, -o json, short-iso, cat; to /dev/null and to a pipe; plus
#      instructions per entry under callgrind on the journal's first file
#   b  follow mode end to end in a real container (systemd-nspawn, pipe stdout): latency of single
#      entries (paced and sporadic), throughput of a live burst and of catching up with a backlog,
#      journalagent.service vs journalctl -f in the same boot
#   c  resources: peak RSS and CPU time per 100,000 entries (from a and b), broker included
#   d  PID 1: boot time to "Startup finished", plain systemd vs the shim vs hostile brokers
#   e  broker: fetches per second and latency of one fetch (bench/fetch-load)
#
# Environment:
#   BENCH_SECTIONS="a b d e"   which sections to run (c comes with a and b)
#   BENCH_ROUNDS=9             rounds of section a; BENCH_BOOTS=60 boots per configuration (d);
#                              BENCH_FOLLOW_ROUNDS=3 rounds of section b (1,000 probes each,
#                              BENCH_SPORADIC=20, BENCH_BURST=20000, BENCH_BACKLOG=50000)
#   JA_CACHE, JA_MIRROR, JA_WORKDIR, JA_KEEP=1   as test/integration/run.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=test/integration/lib.sh
. test/integration/lib.sh
# shellcheck source=bench/lib.sh
. bench/lib.sh
# shellcheck source=bench/journal.sh
. bench/journal.sh
# shellcheck source=bench/follow.sh
. bench/follow.sh
# shellcheck source=bench/boot.sh
. bench/boot.sh

BENCH_SECTIONS=${BENCH_SECTIONS:-a b d e}
# 9, not 5: a run into a pipe now and then takes 1.5 times its usual wall time (0.74 s, not
# 0.49 s, on a quiet machine), and with five rounds two such runs move the median.
BENCH_ROUNDS=${BENCH_ROUNDS:-9}
# 60, not 30: one boot varies by ±5–10 % here, as much as the 5 % the target allows, and with
# 30 the median ratio of the shim's boots still moved from 0.98 to 1.05 between two runs.
BENCH_BOOTS=${BENCH_BOOTS:-60}
BENCH_FOLLOW_ROUNDS=${BENCH_FOLLOW_ROUNDS:-3}
PYTHON=${PYTHON:-/usr/bin/python3}

bench_prerequisites() {
        check_prerequisites
        need_cmd valgrind valgrind
        [[ -x $PYTHON ]] || die "$PYTHON not found: install python3 (Debian: apt-get install python3)"
        "$PYTHON" -c "import matplotlib" 2>/dev/null ||
                die "matplotlib not found for $PYTHON (bench/chart.py draws bench/results.png): install it (Debian: apt-get install python3-matplotlib)"
        local f
        for f in floor loggen pipe-stamp fetch-load; do
                [[ -x $BENCH_BIN/$f ]] || die "$BENCH_BIN/$f is missing: run 'make bench'"
        done
}

bench_cleanup() {
        local rc=$? d
        set +e
        trap '' PIPE
        ct_stop
        if [[ ${JA_KEEP:-0} == 1 ]]; then
                log "JA_KEEP=1: leaving $JA_RUN_DIR"
        else
                for d in "${CT_DIRS[@]}"; do remove_tree "$d"; done
                remove_tree "$JA_RUN_DIR"
        fi
        exit "$rc"
}

bench_load() {
        cut -d' ' -f1-3 /proc/loadavg
}

bench_meta() {
        local commit
        commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
        [[ -z $(git status --porcelain --untracked-files=no 2>/dev/null) ]] ||
                commit+=" with uncommitted changes"
        rec_text meta date "$(date -u '+%Y-%m-%d %H:%M UTC')"
        rec_text meta commit "$commit"
        rec_text meta machine "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), \
$(nproc) cores, $(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, \
Linux $(uname -r) (VM: $(systemd-detect-virt --vm 2>/dev/null), container: $(systemd-detect-virt --container 2>/dev/null))"
        rec_text meta software "Debian $(cat /etc/debian_version), journalctl $(journalctl --version |
                awk 'NR == 1 { print $2, $3 }'), container systemd 252 (Debian 12), $(cc --version | head -n 1)"
        BENCH_LOAD_START=$(bench_load)
}

main() {
        local t0 rootfs
        t0=$(now_ms)
        bench_prerequisites
        JA_RUN_DIR=$(mktemp -d "$JA_WORKDIR/journalagent-bench.XXXXXX")
        JA_RESULTS=$JA_RUN_DIR/results
        : >"$JA_RESULTS"
        BENCH_RESULTS=$JA_RUN_DIR/results.jsonl
        : >"$BENCH_RESULTS"
        trap bench_cleanup EXIT

        bench_meta
        rootfs=$(ensure_rootfs bookworm)
        stage_install
        install -D -m 0755 "$BENCH_BIN/loggen" "$JA_STAGE/usr/local/bin/loggen"
        install -D -m 0755 "$BENCH_BIN/fetch-load" "$JA_STAGE/usr/local/bin/fetch-load"

        ensure_bench_journal "$rootfs"
        log "benchmark journal: $(cat "$BENCH_JOURNAL/info")"

        if [[ " $BENCH_SECTIONS " == *" a "* ]]; then
                local info
                read -ra info <"$BENCH_JOURNAL/info" # version V entries N slice_entries N
                "$PYTHON" bench/throughput.py --journal "$BENCH_JOURNAL/full" \
                        --slice "$BENCH_JOURNAL/slice" --entries "${info[3]}" --slice-entries "${info[5]}" \
                        --rounds "$BENCH_ROUNDS" --agent build/journalagent --floor "$BENCH_BIN/floor" \
                        --out "$BENCH_RESULTS" --work "$JA_RUN_DIR"
        fi
        if [[ " $BENCH_SECTIONS " == *" b "* || " $BENCH_SECTIONS " == *" e "* ]]; then
                section_follow "$rootfs"
                [[ " $BENCH_SECTIONS " != *" e "* ]] || section_broker
                ct_stop
        fi
        if [[ " $BENCH_SECTIONS " == *" d "* ]]; then
                section_boot "$rootfs"
        fi

        rec_text meta load "$BENCH_LOAD_START / $(bench_load)"
        cp "$BENCH_RESULTS" bench/results.jsonl
        "$PYTHON" bench/report.py bench/results.jsonl bench/results.md
        "$PYTHON" bench/chart.py bench/results.jsonl bench/results.png
        log "wrote bench/results.md and bench/results.png (raw samples: bench/results.jsonl); done in $((($(now_ms) - t0) / 1000)) s"
}

main "$@"
