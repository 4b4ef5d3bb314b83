#!/bin/bash
# Integration tests for the forwarder's settings and consumers in a real container (Debian 12,
# systemd 252 as PID 1 under systemd-nspawn, stdout and stderr each a pipe): the stderr split,
# configuration from the container's environment, a second forwarder instance, journalagent-attach,
# and a damaged or vacuumed cursor.
#
#   sudo test/integration/run-forwarder.sh     (from anywhere; needs `make all build/test/ja-peer`)
#
# Environment: as test/integration/run.sh (JA_CACHE, JA_MIRROR, JA_WORKDIR, JA_KEEP=1,
# JA_ENTRYPOINT).
#
# First boot, with JOURNALAGENT_OUTPUT=short-iso and JOURNALAGENT_STDERR_PRIORITY=err in the
# container's environment (nspawn --setenv, as docker run -e): the stderr split, and the text
# output against journalctl -o short-iso. Second boot, with JOURNALAGENT_OUTPUT=bogus: the warning
# and JSON output, journalagent@errors.service beside the main forwarder, journalagent-attach, a
# damaged cursor file, a cursor whose entry was vacuumed. The last line of output is exactly
# "N passed, N failed"; the exit status is non-zero if anything failed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=test/integration/lib.sh
. test/integration/lib.sh

ENTRYPOINT=${JA_ENTRYPOINT:-/usr/bin/systemd-bootstrap}
# Lines logged while the forwarder is stopped, then vacuumed away (case vacuumed-cursor).
VACUUM_LINES=20

# A string no other run or case logs.
uniq_tag() {
        echo "$1-$RANDOM$RANDOM-$(date +%s%N)"
}

# arrival_ms TIMEOUT_S T0_MS CMD...: poll CMD every 50 ms; print the ms from T0_MS to its first
# success, or nothing and return 1 after TIMEOUT_S seconds from T0_MS.
arrival_ms() {
        local timeout_ms=$(($1 * 1000)) t0=$2 now
        shift 2
        while :; do
                now=$(now_ms)
                if "$@"; then
                        echo $((now - t0))
                        return 0
                fi
                ((now - t0 <= timeout_ms)) || return 1
                sleep 0.05
        done
}

# check_arrives NAME TIMEOUT_S T0_MS WHAT CMD...: pass if CMD succeeds within TIMEOUT_S of T0_MS.
check_arrives() {
        local name=$1 timeout=$2 t0=$3 what=$4 ms
        shift 4
        if ms=$(arrival_ms "$timeout" "$t0" "$@"); then
                log "$what: after ${ms} ms"
                pass "$name"
        else
                fail "$name" "$what: not within ${timeout} s"
        fi
}

# check_still_forwarding NAME TAG: after what case NAME did to it, journalagent.service runs and a
# new probe line (uniq_tag TAG, left in PROBE) reaches stdout within 2 s.
check_still_forwarding() {
        local name=$1 t0
        check "$name/forwarder-running" "journalagent.service: $(unit_prop journalagent.service ActiveState)" \
                unit_running journalagent.service
        PROBE=$(uniq_tag "$2")
        t0=$(now_ms)
        in_ct systemd-cat -t ja-probe echo "$PROBE"
        check_arrives "$name/probe-within-2s" 2 "$t0" "a probe line" out_has_message "$PROBE"
}

# complete_lines FILE: FILE without an unterminated last line (a write still being copied).
complete_lines() {
        head -n "$(wc -l <"$1")" "$1"
}

# check_absent NAME WHAT FILE STRING: STRING is nowhere in FILE.
check_absent() {
        local name=$1 what=$2 file=$3 str=$4 hits
        hits=$(grep -F -c -- "$str" "$file" || true)
        if ((hits == 0)); then
                pass "$name"
        else
                fail "$name" "$what: '$str' found on $(basename "$file") ($hits lines): $(grep -F -m 1 -- "$str" "$file" | cut -c1-200)"
        fi
}

unit_prop() {
        in_ct systemctl show -P "$2" "$1"
}

# unit_running UNIT: active with a main process.
unit_running() {
        [[ $(unit_prop "$1" ActiveState) == active && $(unit_prop "$1" MainPID) != 0 ]]
}

# The __CURSOR of the JSON entry on stdout with exactly this MESSAGE (the first one).
out_cursor_of() {
        grep -F -- "$1" "$CT_OUT" | jq -r -R --arg m "$1" 'fromjson? | objects | select(.MESSAGE == $m) | .__CURSOR' |
                head -n 1 || true
}

# journal_short_iso_of IDENTIFIER MESSAGE: journalctl -o short-iso's line for the entry of
# IDENTIFIER (used for nothing else) whose text ends in ": MESSAGE".
journal_short_iso_of() {
        local lines
        lines=$(in_ct journalctl -b -o short-iso --no-pager -t "$1")
        grep -F -- ": $2" <<<"$lines" | head -n 1 || true
}

# seqnum CURSOR: the entry's sequence number (the i= field of the cursor), decimal.
seqnum() {
        local hex
        hex=$(sed -n 's/.*\(^\|;\)i=\([0-9a-f]*\)\(;.*\|$\)/\2/p' <<<"$1")
        [[ -n $hex ]] || { echo -1; return; }
        echo $((16#$hex))
}

# cursors_on_stdout EXPECTED MISSING-OUT: the cursors of EXPECTED not on stdout go to MISSING-OUT;
# succeed if there are none. (Same as run.sh's.)
cursors_on_stdout() {
        out_json | jq -r '.__CURSOR // empty' | LC_ALL=C sort -u >"$2.out"
        LC_ALL=C comm -23 "$1" "$2.out" >"$2"
        [[ ! -s $2 ]]
}

# check_every_entry_on_stdout NAME: every entry journalctl -b shows inside (now) is on stdout as
# JSON, same __CURSOR, within 10 s.
check_every_entry_on_stdout() {
        local name=$1 d=$CT_DIR/$1 n missing
        mkdir -p "$d"
        in_ct journalctl -b -o json --no-pager | jq -r .__CURSOR | LC_ALL=C sort -u >"$d/inside.cursors"
        n=$(wc -l <"$d/inside.cursors")
        wait_until 10 "all $n entries of the boot on stdout" \
                cursors_on_stdout "$d/inside.cursors" "$d/missing.cursors" || true
        missing=$(wc -l <"$d/missing.cursors")
        check "$name" "$missing of the $n entries of journalctl -b are not on stdout (first: $(head -n 1 "$d/missing.cursors"))" \
                test "$missing" -eq 0 -a "$n" -gt 0
}

# ==== boot 1: JOURNALAGENT_OUTPUT=short-iso JOURNALAGENT_STDERR_PRIORITY=err ======================

# The settings reached the forwarder: nspawn --setenv puts them into PID 1's environment, the
# unit's PassEnvironment= into the service's.
case_env_passed() {
        local name=$1 pid env
        pid=$(unit_prop journalagent.service MainPID)
        env=$( ((pid == 0)) || in_ct cat "/proc/$pid/environ" | tr '\0' '\n' || true)
        check "$name/stderr-priority-in-service-env" "journalagent.service (pid $pid) environment: $(tr '\n' ' ' <<<"$env")" \
                grep -q -F -x JOURNALAGENT_STDERR_PRIORITY=err <<<"$env"
        check "$name/output-in-service-env" "journalagent.service (pid $pid) environment: $(tr '\n' ' ' <<<"$env")" \
                grep -q -F -x JOURNALAGENT_OUTPUT=short-iso <<<"$env"
}

# 1. --stderr-priority=err from the environment: err and more severe to the container's stderr,
# the rest to stdout, within 2 s; warning (4) is the first level on stdout.
case_stderr_split() {
        local name=$1 d=$CT_DIR/$1 tag t0 level
        mkdir -p "$d"
        tag=$(uniq_tag split)
        t0=$(now_ms)
        in_ct logger -p user.err -t ja-split "$tag-err"
        in_ct systemd-cat -t ja-split -p crit echo "$tag-crit"
        in_ct logger -p user.warning -t ja-split "$tag-warning"
        in_ct logger -p user.info -t ja-split "$tag-info"
        # Matched as plain strings, whatever the output mode: a broken JOURNALAGENT_OUTPUT shows in
        # case short-iso, not here.
        for level in err crit; do
                check_arrives "$name/$level-on-stderr-within-2s" 2 "$t0" "the $level line on the container's stderr" \
                        file_mentions "$CT_ERR" "$tag-$level"
        done
        for level in warning info; do
                check_arrives "$name/$level-on-stdout-within-2s" 2 "$t0" "the $level line on the container's stdout" \
                        file_mentions "$CT_OUT" "$tag-$level"
        done
        sleep 0.3 # a wrongly split line written a little later would be missed otherwise
        for level in err crit; do
                check_absent "$name/$level-not-on-stdout" "$level line" "$CT_OUT" "$tag-$level"
        done
        for level in warning info; do
                check_absent "$name/$level-not-on-stderr" "$level line" "$CT_ERR" "$tag-$level"
        done
        # What reached stderr, as a set of lines, is exactly journalctl -b -p err in the same
        # mode, and stdout holds none of those lines.
        in_ct journalctl -b -p err -o short-iso --no-pager | LC_ALL=C sort -u >"$d/err.journal"
        complete_lines "$CT_ERR" | LC_ALL=C sort -u >"$d/err.out"
        complete_lines "$CT_OUT" | LC_ALL=C sort -u >"$d/out.out"
        check "$name/stderr-is-exactly-journalctl-p-err" \
                "diff of journalctl -b -p err -o short-iso (<) and the container's stderr (>): $({ diff "$d/err.journal" "$d/err.out" || true; } | head -n 6 | tr '\n' '|')" \
                cmp -s "$d/err.journal" "$d/err.out"
        check "$name/stdout-has-no-err-entry" \
                "lines of journalctl -p err on stdout: $(LC_ALL=C comm -12 "$d/err.journal" "$d/out.out" | head -n 3 | tr '\n' '|')" \
                test -z "$(LC_ALL=C comm -12 "$d/err.journal" "$d/out.out")"
}

# 2a. JOURNALAGENT_OUTPUT=short-iso: what reaches stdout and stderr is journalctl -o short-iso,
# byte for byte: the probe line, and the whole boot as a set of lines.
case_short_iso() {
        local name=$1 d=$CT_DIR/$1 probe t0 line expected json_lines
        mkdir -p "$d"
        probe=$(uniq_tag iso)
        t0=$(now_ms)
        in_ct systemd-cat -t ja-iso echo "$probe"
        check_arrives "$name/probe-on-stdout-within-2s" 2 "$t0" "the probe line on stdout" \
                file_mentions "$CT_OUT" ": $probe"
        line=$(grep -F -- ": $probe" "$CT_OUT" | head -n 1 || true)
        expected=$(journal_short_iso_of ja-iso "$probe")
        log "stdout:     $line"
        log "journalctl: $expected"
        check "$name/probe-identical-to-journalctl" "stdout '$line', journalctl -o short-iso '$expected'" \
                test -n "$line" -a "$line" = "$expected"
        check "$name/probe-is-short-iso" "'$line' is not 'YYYY-MM-DDTHH:MM:SS+ZZZZ HOST ja-iso[PID]: $probe'" \
                grep -q -E -x "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{4} [^ ]+ ja-iso\[[0-9]+\]: $probe" <<<"$line"
        json_lines=$(grep -c '^{"__CURSOR"' "$CT_OUT" || true)
        check "$name/no-json-on-stdout" "$json_lines JSON lines on stdout with JOURNALAGENT_OUTPUT=short-iso" \
                test "$json_lines" -eq 0

        # The whole boot: every line journalctl -b -o short-iso prints is on stdout or stderr
        # (within 10 s), and every line there is one journalctl prints (read after them).
        in_ct journalctl -b -o short-iso --no-pager | LC_ALL=C sort -u >"$d/journal.1"
        wait_until 10 "every line of journalctl -b -o short-iso on stdout/stderr" \
                short_iso_forwarded "$d" || true
        local missing extra
        missing=$(wc -l <"$d/missing")
        check "$name/every-journalctl-line-forwarded" \
                "$missing of $(wc -l <"$d/journal.1") lines of journalctl -b -o short-iso not on stdout/stderr, e.g. '$(head -n 1 "$d/missing")'" \
                test "$missing" -eq 0
        { complete_lines "$CT_OUT"; complete_lines "$CT_ERR"; } | LC_ALL=C sort -u >"$d/forwarded.2"
        in_ct journalctl -b -o short-iso --no-pager | LC_ALL=C sort -u >"$d/journal.2"
        LC_ALL=C comm -23 "$d/forwarded.2" "$d/journal.2" >"$d/extra"
        extra=$(wc -l <"$d/extra")
        check "$name/every-forwarded-line-is-journalctls" \
                "$extra lines on stdout/stderr that journalctl -b -o short-iso does not print, e.g. '$(head -n 1 "$d/extra")'" \
                test "$extra" -eq 0
}

short_iso_forwarded() {
        { complete_lines "$CT_OUT"; complete_lines "$CT_ERR"; } | LC_ALL=C sort -u >"$1/forwarded.1"
        LC_ALL=C comm -23 "$1/journal.1" "$1/forwarded.1" >"$1/missing"
        [[ ! -s $1/missing ]]
}

# ==== boot 2: JOURNALAGENT_OUTPUT=bogus ===========================================================

# 2b. An invalid JOURNALAGENT_OUTPUT: a warning in the container log (a JSON entry on stdout) and
# the default, JSON.
case_bogus_output() {
        local name=$1 warning n_non_json
        wait_until 10 "the warning about JOURNALAGENT_OUTPUT=bogus on stdout" has_output_of bogus_warning_on_stdout || true
        warning=$(bogus_warning_on_stdout)
        log "warning: $warning"
        check "$name/warning-on-stdout" "no JSON entry from journalagent with MESSAGE 'Invalid JOURNALAGENT_OUTPUT=bogus ...' on stdout" \
                test -n "$warning"
        local priority=
        [[ -z $warning ]] || priority=$(jq -r .PRIORITY <<<"$warning")
        check "$name/warning-is-priority-warning" "PRIORITY '$priority' in: $warning" \
                test "$priority" = 4
        check "$name/forwarder-running" "journalagent.service: $(unit_prop journalagent.service ActiveState)" \
                unit_running journalagent.service
        local probe t0
        probe=$(uniq_tag bogus)
        t0=$(now_ms)
        in_ct systemd-cat -t ja-probe echo "$probe"
        check_arrives "$name/probe-as-json-within-2s" 2 "$t0" "the probe as a JSON entry on stdout" \
                out_has_message "$probe"
        n_non_json=$(out_non_json | wc -l)
        check "$name/stdout-only-json-objects" "$n_non_json lines on stdout are not JSON objects, e.g. $(out_non_json | head -n 1 || true)" \
                test "$n_non_json" -eq 0
}

# The journalagent entry on stdout about JOURNALAGENT_OUTPUT=bogus, or nothing.
bogus_warning_on_stdout() {
        grep -F 'Invalid JOURNALAGENT_OUTPUT=bogus' "$CT_OUT" |
                jq -c -R 'fromjson? | objects | select(.SYSLOG_IDENTIFIER == "journalagent"
                        and (.MESSAGE | tostring | startswith("Invalid JOURNALAGENT_OUTPUT=bogus")))' |
                head -n 1 || true
}

# has_output_of CMD...: CMD prints something.
has_output_of() {
        [[ -n $("$@") ]]
}

# 3. Two consumers: journalagent@errors.service (short-iso, only err, all to stderr) beside the
# main forwarder (JSON, everything, stdout).
case_two_consumers() {
        local name=$1 tag t0 err_line expected err_cursor
        in_ct sh -c 'mkdir -p /etc/journalagent && printf "%s\n" JOURNALAGENT_OUTPUT=short-iso \
                JOURNALAGENT_PRIORITY=err JOURNALAGENT_STDERR_PRIORITY=debug >/etc/journalagent/errors.env'
        in_ct systemctl start journalagent@errors.service
        check "$name/instance-running" \
                "journalagent@errors.service: $(unit_prop journalagent@errors.service ActiveState) ($(unit_prop journalagent@errors.service Result))" \
                unit_running journalagent@errors.service
        tag=$(uniq_tag consumers)
        t0=$(now_ms)
        in_ct logger -p user.err -t ja-consumers "$tag-err"
        in_ct logger -p user.info -t ja-consumers "$tag-info"
        check_arrives "$name/err-as-json-on-stdout" 2 "$t0" "the err line as JSON on stdout (main forwarder)" \
                out_has_message "$tag-err"
        check_arrives "$name/err-as-text-on-stderr" 2 "$t0" "the err line as text on stderr (instance)" \
                file_mentions "$CT_ERR" ": $tag-err"
        check_arrives "$name/info-as-json-on-stdout" 2 "$t0" "the info line as JSON on stdout (main forwarder)" \
                out_has_message "$tag-info"
        err_line=$(grep -F -- ": $tag-err" "$CT_ERR" | head -n 1 || true)
        expected=$(journal_short_iso_of ja-consumers "$tag-err")
        check "$name/err-on-stderr-identical-to-journalctl" "stderr '$err_line', journalctl -o short-iso '$expected'" \
                test -n "$err_line" -a "$err_line" = "$expected"
        sleep 0.3
        check_absent "$name/info-not-on-stderr" "info line (instance forwards only err)" "$CT_ERR" "$tag-info"
        check_absent "$name/err-text-not-on-stdout" "err line as text (instance writes only to stderr)" "$CT_OUT" ": $tag-err"
        # Only JSON on stdout: the instance wrote nothing there.
        local n_non_json
        n_non_json=$(out_non_json | wc -l)
        check "$name/stdout-still-only-json" "$n_non_json lines on stdout are not JSON objects, e.g. $(out_non_json | head -n 1 || true)" \
                test "$n_non_json" -eq 0

        # Own cursor files: errors.cursor ends at the err line, the main one moves on past it.
        err_cursor=$(out_cursor_of "$tag-err")
        wait_until 5 "errors.cursor to hold the err line's cursor" cursor_file_is /var/lib/journalagent/errors.cursor "$err_cursor" || true
        check "$name/instance-own-cursor-file" \
                "/var/lib/journalagent/errors.cursor holds '$(ct_cursor_file /var/lib/journalagent/errors.cursor)', the err line is '$err_cursor'" \
                cursor_file_is /var/lib/journalagent/errors.cursor "$err_cursor"
        wait_until 5 "the main cursor file to pass the info line" \
                cursor_file_at_or_after /var/lib/journalagent/cursor "$(out_cursor_of "$tag-info")" || true
        check "$name/main-cursor-file-separate" \
                "/var/lib/journalagent/cursor holds '$(ct_cursor_file /var/lib/journalagent/cursor)', expected the info line '$(out_cursor_of "$tag-info")' or later" \
                cursor_file_at_or_after /var/lib/journalagent/cursor "$(out_cursor_of "$tag-info")"
        log "cursor files: $(in_ct ls -l /var/lib/journalagent/ | tr '\n' '|')"

        in_ct systemctl stop journalagent@errors.service
        in_ct rm -f /etc/journalagent/errors.env
}

cursor_file_is() {
        [[ -n $2 && $(ct_cursor_file "$1") == "$2" ]]
}

# cursor_file_at_or_after PATH CURSOR: PATH's cursor is CURSOR or an entry logged after it
# (same sequence number source, sequence number not smaller).
cursor_file_at_or_after() {
        local saved
        saved=$(ct_cursor_file "$1")
        [[ -n $saved && -n $2 ]] || return 1
        [[ ${saved%%;*} == "${2%%;*}" ]] && (($(seqnum "$saved") >= $(seqnum "$2")))
}

# 4. journalagent-attach: a command's raw output on the container's stdout/stderr, not through
# the journal; its errors.
case_attach() {
        local name=$1 n t0 rc out
        n=$RANDOM$RANDOM
        t0=$(now_ms)
        rc=0
        # The description keeps the command line (and so the test strings) out of systemd's
        # "Started ..." entry.
        out=$(in_ct systemd-run --wait --quiet --collect --description="ja attach test" \
                -p StandardOutput=journal -p StandardError=journal \
                /usr/bin/journalagent-attach -- sh -c "echo attach-out-$n; echo attach-err-$n >&2" 2>&1) || rc=$?
        check "$name/service-succeeded" "systemd-run --wait: status $rc, '$out'" test "$rc" -eq 0
        check_arrives "$name/raw-line-on-stdout" 2 "$t0" "the raw line attach-out-$n on stdout" \
                file_has_line "$CT_OUT" "attach-out-$n"
        check_arrives "$name/raw-line-on-stderr" 2 "$t0" "the raw line attach-err-$n on stderr" \
                file_has_line "$CT_ERR" "attach-err-$n"
        check_absent "$name/stdout-line-not-on-stderr" "attach's stdout line" "$CT_ERR" "attach-out-$n"
        check_absent "$name/stderr-line-not-on-stdout" "attach's stderr line" "$CT_OUT" "attach-err-$n"
        local in_journal
        in_journal=$(in_ct journalctl -b -o json --no-pager |
                jq -r --arg a "attach-out-$n" --arg b "attach-err-$n" 'select(.MESSAGE == $a or .MESSAGE == $b) | .MESSAGE' | wc -l)
        check "$name/not-via-journal" "$in_journal journal entries with the attached command's output" \
                test "$in_journal" -eq 0

        # The command's exit status is attach's; a missing command is 127, and the message about
        # it reaches the container's stderr.
        rc=0
        in_ct journalagent-attach -- sh -c 'exit 3' || rc=$?
        check "$name/exit-status-is-commands" "journalagent-attach -- sh -c 'exit 3': status $rc" test "$rc" -eq 3
        rc=0
        in_ct journalagent-attach -- "/nonexistent-$n" 2>/dev/null || rc=$?
        check "$name/missing-command-127" "journalagent-attach -- /nonexistent-$n: status $rc" test "$rc" -eq 127
        check_arrives "$name/missing-command-message-on-stderr" 2 "$(now_ms)" \
                "'Cannot execute /nonexistent-$n' on the container's stderr" \
                file_mentions "$CT_ERR" "Cannot execute /nonexistent-$n"

        # No broker at that path: 69, and the message says how to start it.
        rc=0
        out=$(in_ct journalagent-attach --broker-socket=/run/nope -- true 2>&1) || rc=$?
        log "attach --broker-socket=/run/nope: status $rc, '$out'"
        check "$name/no-broker-69" "status $rc, '$out'" test "$rc" -eq 69
        check "$name/no-broker-says-how-to-start" "message '$out'" \
                grep -q -F -- "systemctl start journalagent-broker.socket" <<<"$out"
        # Not root: 77.
        rc=0
        out=$(in_ct setpriv --reuid=65534 --regid=65534 --clear-groups journalagent-attach -- true 2>&1) || rc=$?
        log "attach as nobody: status $rc, '$out'"
        check "$name/not-root-77" "status $rc, '$out'" test "$rc" -eq 77
}

# 5. A damaged cursor file: a warning in the container log, a start from the beginning of the
# boot, nothing lost.
case_corrupt_cursor() {
        local name=$1 tag t0 before
        tag=$(uniq_tag corrupt)
        before=$(damaged_warnings)
        in_ct systemctl stop journalagent.service
        in_ct logger -t ja-corrupt "$tag-before"
        # shellcheck disable=SC2016 # expanded by the shell inside the container
        in_ct sh -c 'printf "not a cursor, junk %s\n" "$(date +%s%N)" >/var/lib/journalagent/cursor'
        t0=$(now_ms)
        in_ct systemctl start journalagent.service
        in_ct logger -t ja-corrupt "$tag-after"
        check_arrives "$name/warning-on-stdout" 5 "$t0" "the 'damaged or not ours' warning as JSON on stdout" \
                damaged_warning_added "$before"
        check_arrives "$name/line-logged-while-stopped-on-stdout" 5 "$t0" "the line logged while stopped" \
                out_has_message "$tag-before"
        check_arrives "$name/line-logged-after-start-on-stdout" 5 "$t0" "the line logged after the start" \
                out_has_message "$tag-after"
        check_still_forwarding "$name" corrupt-probe
        wait_until 5 "a valid cursor record in /var/lib/journalagent/cursor" \
                cursor_file_at_or_after /var/lib/journalagent/cursor "$(out_cursor_of "$PROBE")" || true
        check "$name/cursor-file-rewritten" "/var/lib/journalagent/cursor: '$(head -c 80 "$CT_ROOT/var/lib/journalagent/cursor" | tr '\n' ' ')'" \
                cursor_file_at_or_after /var/lib/journalagent/cursor "$(out_cursor_of "$PROBE")"
        check_every_entry_on_stdout "$name/every-boot-entry-on-stdout"
}

damaged_warnings() {
        { grep -F 'is damaged or not ours' "$CT_OUT" || true; } |
                jq -R 'fromjson? | objects | select(.SYSLOG_IDENTIFIER == "journalagent"
                        and (.MESSAGE | tostring | contains("is damaged or not ours"))) | 1' | wc -l
}

damaged_warning_added() {
        (($(damaged_warnings) > $1))
}

# 6. The saved cursor's entry rotated and vacuumed away while the forwarder was stopped: a warning
# with the number of entries lost, then forwarding goes on.
case_vacuumed_cursor() {
        local name=$1 d=$CT_DIR/$1 tag saved after_saved t0 rc out
        mkdir -p "$d"
        tag=$(uniq_tag vac)
        in_ct systemctl stop journalagent.service
        saved=$(ct_cursor_file /var/lib/journalagent/cursor)
        log "saved cursor: $saved"
        [[ -n $saved ]] || { fail "$name/saved-cursor" "no valid cursor in /var/lib/journalagent/cursor after the stop"; return; }
        in_ct sh -c "i=0; while [ \$i -lt $VACUUM_LINES ]; do i=\$((i + 1)); logger -t ja-vac $tag-\$i; done"
        in_ct sh -c 'ls -l /var/log/journal/*/' >"$d/files.before"
        in_ct journalctl --rotate
        # What the vacuum is about to delete after the saved cursor: the entries of the file(s)
        # just archived (journald numbers entries across its files, so this is the seqnum gap).
        # shellcheck disable=SC2016 # expanded by the shell inside the container
        after_saved=$(in_ct sh -c 'journalctl --file="/var/log/journal/*/system@*.journal" \
                --after-cursor="$1" -o json --no-pager | wc -l' sh "$saved")
        log "$after_saved entries after the saved cursor in the archived journal file"
        rc=0
        out=$(in_ct journalctl --vacuum-files=1 2>&1) || rc=$?
        log "journalctl --vacuum-files=1: status $rc: $(tr '\n' '|' <<<"$out")"
        in_ct sh -c 'ls -l /var/log/journal/*/' >"$d/files.after"
        log "journal files before: $(grep -o '[^ ]*\.journal$' "$d/files.before" | tr '\n' ' ')"
        log "journal files after:  $(grep -o '[^ ]*\.journal$' "$d/files.after" | tr '\n' ' ')"
        # The case means something only if the saved entry and the lines are really gone.
        local left
        left=$(in_ct journalctl -b -o json --no-pager |
                jq -r --arg c "$saved" --arg t "$tag-" 'select(.__CURSOR == $c or (.MESSAGE | tostring | startswith($t))) | 1' | wc -l)
        check "$name/vacuum-removed-cursor-entry-and-lines" \
                "$left of the saved cursor's entry and the $VACUUM_LINES lines still in the journal after --rotate and --vacuum-files=1" \
                test "$left" -eq 0

        t0=$(now_ms)
        in_ct systemctl start journalagent.service
        check_arrives "$name/warning-on-stdout" 5 "$t0" "the 'entries were lost' warning as JSON on stdout" \
                has_output_of lost_warning_on_stdout
        local warning lost
        warning=$(lost_warning_on_stdout)
        lost=
        if [[ -n $warning ]]; then
                log "warning: $(jq -r .MESSAGE <<<"$warning")"
                lost=$(jq -r .MESSAGE <<<"$warning" | sed -n 's/.*up to \([0-9]*\) entries were lost.*/\1/p')
        fi
        check "$name/lost-count-covers-the-lines" \
                "warning says '${lost:-no count}' entries lost; $VACUUM_LINES lines were logged after the cursor ($after_saved entries in all)" \
                test -n "$lost" -a "${lost:-0}" -ge "$VACUUM_LINES"
        check "$name/lost-count-matches-journal" \
                "warning says '${lost:-no count}' entries lost, the vacuumed file held $after_saved entries after the cursor" \
                test "${lost:-0}" -eq "$after_saved"
        check_still_forwarding "$name" vac-probe
        check_every_entry_on_stdout "$name/every-remaining-entry-on-stdout"
}

# The (last) journalagent entry on stdout saying that entries were lost, or nothing.
lost_warning_on_stdout() {
        grep -F 'entries were lost' "$CT_OUT" |
                jq -c -R 'fromjson? | objects | select(.SYSLOG_IDENTIFIER == "journalagent"
                        and (.MESSAGE | tostring | contains("entries were lost")))' | tail -n 1 || true
}

# ==== the run =====================================================================================

main() {
        check_prerequisites
        [[ -x build/journalagent-attach ]] || die "build/journalagent-attach is missing: run 'make all' first"
        ja_results_init
        ja_trap_exit ja_cleanup
        local t_start
        t_start=$(now_ms)
        ROOTFS=$(ensure_rootfs bookworm)
        stage_install

        boot fwd-env --setenv=JOURNALAGENT_OUTPUT=short-iso --setenv=JOURNALAGENT_STDERR_PRIORITY=err
        run_case env case_env_passed env
        run_case stderr-split case_stderr_split stderr-split
        run_case short-iso case_short_iso short-iso
        check_poweroff fwd-env

        boot fwd-more --setenv=JOURNALAGENT_OUTPUT=bogus
        run_case bogus-output case_bogus_output bogus-output
        run_case two-consumers case_two_consumers two-consumers
        run_case attach case_attach attach
        run_case corrupt-cursor case_corrupt_cursor corrupt-cursor
        run_case vacuumed-cursor case_vacuumed_cursor vacuumed-cursor
        check_poweroff fwd-more
        log "run took $((($(now_ms) - t_start) / 1000)) s (before the cleanup)"
        # ja_cleanup (EXIT) prints "N passed, N failed" and sets the exit status.
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
        main "$@"
fi
