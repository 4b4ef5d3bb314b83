# shellcheck shell=bash
# shellcheck disable=SC2034 # the CT_* globals are read by test/integration/lib.sh
# The benchmark journal: 200,000 varied entries written by a real journald (systemd 252 in a booted
# Debian 12 container), cached in $JA_CACHE/bench-journal so later runs reuse it:
#
#   full/   every journal file of the generator boot (as journald left them at poweroff)
#   slice/  the first file only: the boot and the first 2.5 % of the lines (journalctl --rotate
#           after them), about 5,000 entries, for the runs under callgrind (50 times slower)
#   info    "version V entries N slice_entries N": V is a hash of the generator's sources; a
#           change of them makes the next run generate the journal again
#
# Sourced by bench/run.sh after test/integration/lib.sh and bench/lib.sh.

BENCH_JOURNAL=$JA_CACHE/bench-journal
# Per mille of the generator's lines before and after the rotation that ends the slice.
BENCH_JOURNAL_SPLIT=(25 975)

bench_journal_version() {
        { cat bench/gen.awk bench/gen-journal.sh bench/loggen.c; echo "${BENCH_JOURNAL_SPLIT[*]}"; } |
                sha256sum | cut -c 1-16
}

bench_journal_current() {
        [[ -r $BENCH_JOURNAL/info ]] &&
                [[ $(awk '{ print $2 }' "$BENCH_JOURNAL/info") == "$(bench_journal_version)" ]]
}

# ensure_bench_journal ROOTFS: make sure $BENCH_JOURNAL holds the current journal.
ensure_bench_journal() {
        local rootfs=$1 lock_fd
        bench_journal_current && return 0
        mkdir -p "$JA_CACHE"
        exec {lock_fd}>"$JA_CACHE/.bench-journal.lock"
        flock -w 900 "$lock_fd" || die "timed out waiting for another run generating $BENCH_JOURNAL"
        bench_journal_current || generate_bench_journal "$rootfs"
        exec {lock_fd}>&-
}

generate_bench_journal() {
        local rootfs=$1 tmp mid files slice entries slice_entries t0
        t0=$(now_ms)
        log "generating the benchmark journal (200,000 lines through journald in a container; once)"
        CT_NAME=jabench-gen
        CT_DIR=$JA_RUN_DIR/gen
        CT_ROOT=$CT_DIR/root
        CT_OUT=$CT_DIR/stdout
        CT_ERR=$CT_DIR/stderr
        mkdir -p "$CT_DIR"
        CT_DIRS+=("$CT_DIR")
        # Plain Debian and plain systemd: nothing of ours runs while the journal is written.
        cp -a --reflink=auto "$rootfs" "$CT_ROOT"
        install -D -m 0755 "$BENCH_BIN/loggen" "$CT_ROOT/usr/local/bin/loggen"
        install -D -m 0644 bench/gen.awk "$CT_ROOT/usr/local/lib/jabench/gen.awk"
        install -D -m 0755 bench/gen-journal.sh "$CT_ROOT/usr/local/lib/jabench/gen-journal.sh"
        mkdir -p "$CT_ROOT/etc/systemd/journald.conf.d" "$CT_ROOT/var/log/journal"
        # No rate limit (it would drop lines of the burst), persistent storage.
        printf '[Journal]\nStorage=persistent\nRateLimitIntervalSec=0\n' \
                >"$CT_ROOT/etc/systemd/journald.conf.d/jabench.conf"

        bench_ct_boot_retry discard /usr/lib/systemd/systemd
        ct_wait_running 120
        JA_IN_CT_TIMEOUT=300 in_ct /usr/local/lib/jabench/gen-journal.sh "${BENCH_JOURNAL_SPLIT[0]}" 1 ||
                die "the journal generator failed (first part)"
        in_ct journalctl --rotate
        JA_IN_CT_TIMEOUT=600 in_ct /usr/local/lib/jabench/gen-journal.sh "${BENCH_JOURNAL_SPLIT[1]}" 2 ||
                die "the journal generator failed (second part)"
        ct_stop
        [[ $CT_EXIT_STATUS == 0 ]] || die "the generator container did not power off cleanly ($CT_EXIT_STATUS)"

        mid=$(<"$CT_ROOT/etc/machine-id")
        files=$CT_ROOT/var/log/journal/$mid
        [[ -d $files ]] || die "no journal in $files"
        tmp=$(mktemp -d "$JA_CACHE/bench-journal.tmp.XXXXXX")
        chmod 0755 "$tmp"
        mkdir "$tmp/full" "$tmp/slice"
        cp -a "$files"/*.journal "$tmp/full/"
        # Archived files are named system@<seqnum id>-<first seqnum>-<first realtime>.journal:
        # the first in name order holds the start of the boot, up to the --rotate.
        slice=$(find "$tmp/full" -name 'system@*.journal' | LC_ALL=C sort | head -n 1)
        [[ -n $slice ]] || die "no archived journal file after journalctl --rotate in $files"
        cp -a "$slice" "$tmp/slice/"
        entries=$("$BENCH_BIN/floor" -D "$tmp/full" 2>&1 >/dev/null | awk '{ print $1 }')
        slice_entries=$("$BENCH_BIN/floor" -D "$tmp/slice" 2>&1 >/dev/null | awk '{ print $1 }')
        ((entries >= 200000)) || die "the generated journal has only $entries entries (expected >= 200000)"
        echo "version $(bench_journal_version) entries $entries slice_entries $slice_entries" >"$tmp/info"
        remove_tree "$BENCH_JOURNAL"
        mv -T "$tmp" "$BENCH_JOURNAL"
        remove_tree "$CT_ROOT"
        log "benchmark journal ready: $entries entries ($(du -sh "$BENCH_JOURNAL/full" | cut -f1)) in $(($(now_ms) - t0)) ms"
}
