#!/usr/bin/env bash
# Output equivalence: journalagent -o MODE against journalctl -o MODE on the same journal file.
#
# A journal file is written with systemd-journal-remote from Journal Export Format made here
# (deterministic input: fixed timestamps and boot IDs; the file's own IDs, hence cursors, differ
# per run, but both programs read the same file). Text modes must be byte-identical; the json
# modes are compared parsed with sorted keys (journalctl's key order is random per run), and
# their framing (json-seq's RS, json-sse's "data: ", json-pretty's layout) separately.
#
#   test/output/run.sh            (make check-output)
#   AGENT=path JOURNALCTL=path test/output/run.sh
#   KEEP=1 test/output/run.sh     keeps the scratch directory and prints its path
#
# Prints "N passed, N failed"; exits non-zero on any failure or missing prerequisite.
set -euo pipefail
cd "$(dirname "$0")/../.."

AGENT=${AGENT:-build/journalagent}
JOURNALCTL=${JOURNALCTL:-journalctl}

die() {
        echo "test/output: $*" >&2
        exit 1
}

command -v jq >/dev/null || die "jq not found: install it (Debian: apt-get install jq)"
command -v "$JOURNALCTL" >/dev/null ||
        die "journalctl not found: install systemd (Debian: apt-get install systemd)"
REMOTE=$(command -v systemd-journal-remote || true)
for p in /lib/systemd/systemd-journal-remote /usr/lib/systemd/systemd-journal-remote; do
        [[ -n $REMOTE ]] && break
        [[ -x $p ]] && REMOTE=$p
done
[[ -n $REMOTE ]] ||
        die "systemd-journal-remote not found: install it (Debian: apt-get install systemd-journal-remote)"
[[ -x $AGENT ]] || die "$AGENT not built: run make first"

TMP=$(mktemp -d)
if [[ -n ${KEEP:-} ]]; then
        echo "test/output: scratch directory $TMP"
else
        trap 'rm -rf "$TMP"' EXIT
fi

# ---- the journal ----------------------------------------------------------------------------

BOOT1=11111111111111111111111111111111
BOOT2=22222222222222222222222222222222
REALTIME=1700000000000000 # 2023-11-14 22:13:20 UTC (winter in the north)
MONOTONIC=5000000
BOOT=$BOOT1

# Starts an entry; REALTIME and MONOTONIC advance by odd steps so every digit gets exercised.
entry() {
        REALTIME=$((REALTIME + 1234567))
        MONOTONIC=$((MONOTONIC + 1234567))
        printf '__REALTIME_TIMESTAMP=%s\n__MONOTONIC_TIMESTAMP=%s\n_BOOT_ID=%s\n' \
                "$REALTIME" "$MONOTONIC" "$BOOT"
}
end() { printf '\n'; }

# txt NAME VALUE: a value without newlines, as is.
txt() { printf '%s=%s\n' "$1" "$2"; }

# bin NAME FORMAT: any bytes (printf %b escapes: \xHH, \0, \n, \t, \e), in the binary form.
bin() {
        printf '%b' "$2" >"$TMP/value"
        binfile "$1" "$TMP/value"
}

# binfile NAME FILE: the contents of FILE as the value, in the binary form.
binfile() {
        local n
        n=$(stat -c %s "$2")
        printf '%s\n' "$1"
        for i in 0 1 2 3 4 5 6 7; do
                # shellcheck disable=SC2059
                printf "\\x$(printf %02x $(((n >> (8 * i)) & 255)))"
        done
        cat "$2"
        printf '\n'
}

# repeat N STRING: N bytes of STRING repeated (no pipe: SIGPIPE would trip pipefail).
repeat() {
        local s=$2
        while ((${#s} < $1)); do s+=$s; done
        printf '%s' "${s:0:$1}"
}

std() {
        txt PRIORITY "${1:-6}"
        txt SYSLOG_IDENTIFIER app
        txt _PID 100
        txt _COMM app-comm
        txt _HOSTNAME host1
}

generate() {
        local p

        entry; std; txt MESSAGE "hello world"; txt _SYSTEMD_UNIT app.service; end
        for p in 0 1 2 3 4 5 6 7; do
                entry; std "$p"; txt MESSAGE "priority $p"; end
        done

        # Who: identifier/comm/"unknown", _PID/SYSLOG_PID, with and without hostname.
        entry; txt _COMM onlycomm; txt SYSLOG_PID 77; txt MESSAGE "comm and syslog pid"; end
        entry; txt MESSAGE "nobody at all"; end
        entry; txt MESSAGE "nobody, several lines"; bin MESSAGE 'nobody\nline 2\n\tline 3'; end
        entry; txt _HOSTNAME h; txt SYSLOG_IDENTIFIER "$(repeat 299 i)"; txt _PID 1
        txt MESSAGE "identifier of 299 bytes"; end
        entry; txt _HOSTNAME "$(repeat 300 h)"; txt SYSLOG_IDENTIFIER "$(repeat 300 i)"
        txt _COMM c; txt _PID "$(repeat 300 9)"; txt SYSLOG_PID 5
        txt MESSAGE "hostname, identifier and pid of 300 bytes"; end
        entry; bin _HOSTNAME 'ho\x01st'; bin SYSLOG_IDENTIFIER 'id\xff'; txt _COMM comm2
        bin _PID '1\x002'; bin SYSLOG_PID '\e[1m3'; txt MESSAGE "unprintable origin"; end
        entry; bin _HOSTNAME 'h\x00x'; txt SYSLOG_IDENTIFIER app; bin _PID '4\x002'
        bin MESSAGE 'nul\x00inside\nsecond line\x00hidden'; end

        # Messages: multi-line, empty, escapes, control characters, UTF-8.
        entry; std; bin MESSAGE 'first\nsecond\n\nfourth after an empty line\n'; end
        entry; std; bin MESSAGE '\n'; end
        entry; std; txt MESSAGE ""; end
        entry; std; bin MESSAGE 'tab\there and\ttwo\t\tand trailing\t'; end
        entry; std; bin MESSAGE '\e[31mred\e[0m \e[1;32mbold green\e[m plain'; end
        entry; std; bin MESSAGE 'link \e]8;;http://example.com/\aexample\e]8;;\a done'; end
        entry; std; bin MESSAGE 'cursor \e[2Jclear \e[1;2Hmove \e(B charset \e[1;\x002m nul \e'; end
        entry; std; bin MESSAGE 'osc cut \e]8;;abc\x01def and \e]unterminated'; end
        entry; std; bin MESSAGE 'carriage\r\nreturns\r\r\nmiddle\rhere\r'; end
        entry; std; bin MESSAGE 'bell\x07 and del\x7f'; end
        entry; std; bin MESSAGE 'c1 \xc2\x85 next line'; end
        entry; std; bin MESSAGE 'invalid \xff\xfe utf-8'; end
        entry; std; bin MESSAGE 'overlong \xc0\xaf and truncated \xe2\x82'; end
        entry; std; bin MESSAGE 'surrogate \xed\xa0\x80 and nonchar \xef\xbf\xbe'; end
        entry; std; txt MESSAGE "héllo wörld € 😀 ✓"; end
        entry; std; bin MESSAGE '\e[31m\x01\e[0m'; end
        entry; std; txt MESSAGE "$(repeat 1000 'long line ')"; end

        # Fields: binary, repeated, empty, sizes around 4096 (JSON's null) and large.
        entry; std; txt MESSAGE "binary fields"
        printf '' >"$TMP/all-bytes"
        for p in $(seq 0 255); do
                # shellcheck disable=SC2059
                printf "\\x$(printf %02x "$p")" >>"$TMP/all-bytes"
        done
        binfile BINARY "$TMP/all-bytes"; bin ZERO '\x00'; bin NL 'a\nb'; bin TAB 'a\tb'
        bin CR 'a\rb'; bin ESC '\e[1mbold'; end
        entry; std; txt MESSAGE "first message"; txt FOO one; txt FOO two; bin FOO '\xff'
        txt BAR single; txt MESSAGE "second message"; txt FOO two; end
        entry; std; txt MESSAGE "empty fields"; txt EMPTY ""; txt EMPTY2 ""; end
        entry; std; txt MESSAGE "sizes"
        txt V4095 "$(repeat 4095 a)"; txt V4096 "$(repeat 4096 b)"
        txt V4097 "$(repeat 4097 c)"; txt V70000 "$(repeat 70000 d)"
        txt DATA4095 "$(repeat 4087 e)"; txt DATA4096 "$(repeat 4088 f)"
        txt DATA4097 "$(repeat 4089 g)"; end
        entry; std; txt MESSAGE "$(repeat 4097 m)"; end
        entry; std; repeat 70000 'multi-line 70000@' | tr @ '\n' >"$TMP/big"
        binfile MESSAGE "$TMP/big"; binfile BIGBIN "$TMP/all-bytes"; end
        entry; std; txt MESSAGE "no message below"; end
        entry; std; txt FOO "entry without MESSAGE"; end

        # Timestamps: _SOURCE_REALTIME_TIMESTAMP/_SOURCE_MONOTONIC_TIMESTAMP, good and bad.
        entry; std; txt MESSAGE "source realtime"; txt _SOURCE_REALTIME_TIMESTAMP 1690000000654321; end
        entry; std; txt MESSAGE "source monotonic"; txt _SOURCE_MONOTONIC_TIMESTAMP 123456789; end
        entry; std; txt MESSAGE "source both"; txt _SOURCE_REALTIME_TIMESTAMP 1600000000000001
        txt _SOURCE_MONOTONIC_TIMESTAMP 42; end
        entry; std; txt MESSAGE "source invalid"; txt _SOURCE_REALTIME_TIMESTAMP abc
        txt _SOURCE_MONOTONIC_TIMESTAMP -5; end
        entry; std; txt MESSAGE "source hex"; txt _SOURCE_REALTIME_TIMESTAMP 0x60a24182f6480; end
        entry; std; txt MESSAGE "source zero"; txt _SOURCE_REALTIME_TIMESTAMP 0; end
        entry; std; txt MESSAGE "source spaces"; txt _SOURCE_REALTIME_TIMESTAMP " 1680000000000000"; end
        entry; std; txt MESSAGE "source repeated"; txt _SOURCE_REALTIME_TIMESTAMP 1680000000000000
        txt _SOURCE_REALTIME_TIMESTAMP 1681000000000000; end
        entry; std; txt MESSAGE "summer time"; txt _SOURCE_REALTIME_TIMESTAMP 1689999999999999; end
        entry; std; txt MESSAGE "source octal"
        txt _SOURCE_REALTIME_TIMESTAMP "$(repeat 70 0)$(printf %o 1680000000000000)"; end
        entry; std; txt MESSAGE "source with NUL"; bin _SOURCE_REALTIME_TIMESTAMP '1680000000000000\x00junk'; end
        entry; txt MESSAGE ""; end

        # Units (with-unit), CONFIG_FILE (verbose), a second boot and back.
        entry; std; txt MESSAGE "/etc/app.conf: bad line"; txt CONFIG_FILE /etc/app.conf
        txt _SYSTEMD_UNIT app.service; txt _SYSTEMD_USER_UNIT user.service; end
        entry; std; txt MESSAGE "user unit only"; txt _SYSTEMD_USER_UNIT user.service; end
        entry; std; txt MESSAGE "unprintable unit"; bin _SYSTEMD_UNIT 'a\x01'
        txt _SYSTEMD_USER_UNIT u.service; end
        BOOT=$BOOT2
        MONOTONIC=1000
        entry; std; txt MESSAGE "second boot"; end
        entry; txt MESSAGE "second boot, multi"; bin MESSAGE 'x\ny'; end
        entry; std; txt FOO "second boot, no message"; end
        BOOT=$BOOT1
        MONOTONIC=900000000
        entry; std; txt MESSAGE "first boot again"; end
}

generate >"$TMP/input.export"
"$REMOTE" --output="$TMP/test.journal" --split-mode=none - <"$TMP/input.export" \
        >"$TMP/remote.log" 2>&1 ||
        die "systemd-journal-remote failed: $(cat "$TMP/remote.log")"
JOURNAL=$TMP/test.journal
n_entries=$("$JOURNALCTL" --file="$JOURNAL" -o export | grep -c '^__CURSOR=' || true)
n_input=$(grep -c '^__REALTIME_TIMESTAMP=' "$TMP/input.export" || true)
[[ $n_entries == "$n_input" ]] ||
        die "the journal has $n_entries entries, the input $n_input: systemd-journal-remote dropped some ($(cat "$TMP/remote.log"))"

# ---- comparing ------------------------------------------------------------------------------

passed=0
failed=0

# JSON lines (or RS-prefixed lines) → one object per line with sorted keys.
norm_json() { jq -cS . ; }
norm_seq() { sed 's/^\x1e//' | jq -cS . ; }
norm_sse() { sed -n 's/^data: //p' | jq -cS . ; }
# Framing: every object replaced by "O", the rest kept.
frame_lines() { sed 's/^\(\x1e\|data: \)\?{.*}$/\1O/'; }
# json-pretty: each line on its own with the trailing comma dropped, sorted: equal when the
# layout is (members in another order move lines and commas, nothing else).
pretty_lines() { sed 's/,$//' | LC_ALL=C sort; }

# run NAME ENV... -- ARGS...: runs both programs with ENV, stores outputs.
run_both() {
        local name=$1
        shift
        local envs=()
        while [[ $1 != -- ]]; do
                envs+=("$1")
                shift
        done
        shift
        env "${envs[@]}" "$JOURNALCTL" --file="$JOURNAL" "$@" >"$TMP/$name.want" 2>"$TMP/$name.want-err" &&
                env "${envs[@]}" "$AGENT" --to=stdout --file="$JOURNAL" "$@" >"$TMP/$name.got" \
                        2>"$TMP/$name.got-err"
}

# compare NAME KIND: KIND raw | json | seq | sse | pretty | sorted.
compare() {
        local name=$1 kind=$2 w=$TMP/$1.want g=$TMP/$1.got ok=1

        case $kind in
        raw) cmp -s "$w" "$g" || ok=0 ;;
        sorted) cmp -s <(LC_ALL=C sort "$w") <(LC_ALL=C sort "$g") || ok=0 ;;
        json | seq | sse)
                cmp -s <(frame_lines <"$w") <(frame_lines <"$g") || ok=0
                cmp -s <("norm_$kind" <"$w") <("norm_$kind" <"$g") || ok=0
                ;;
        pretty)
                cmp -s <(pretty_lines <"$w") <(pretty_lines <"$g") || ok=0
                cmp -s <(norm_json <"$w") <(norm_json <"$g") || ok=0
                ;;
        esac
        [[ -s $w ]] || ok=0 # journalctl printed nothing: the case tests nothing
        if ((ok)); then
                passed=$((passed + 1))
        else
                failed=$((failed + 1))
                echo "FAIL $name ($kind)"
                { diff <(cat -A "$w") <(cat -A "$g") || true; } | head -n 10 | cut -c 1-200 |
                        sed 's/^/    /'
        fi
}

kind_of() {
        case $1 in
        json) echo json ;;
        json-seq) echo seq ;;
        json-sse) echo sse ;;
        json-pretty) echo pretty ;;
        *) echo raw ;;
        esac
}

# check NAME KIND ENV... -- ARGS...: one case.
check() {
        local name=$1 kind=$2
        shift 2
        if run_both "$name" "$@"; then
                compare "$name" "$kind"
        else
                failed=$((failed + 1))
                echo "FAIL $name: exit status (journalctl: $(head -c 300 "$TMP/$name.want-err"); journalagent: $(head -c 300 "$TMP/$name.got-err"))"
        fi
}

MODES=(short short-full short-iso short-iso-precise short-precise short-monotonic short-delta
        short-unix with-unit verbose export cat json json-pretty json-seq json-sse)
OPTION_SETS=("" "-a" "--utc" "--no-hostname" "-q" "--output-fields=MESSAGE,FOO,_PID,V4097"
        "-a --utc --no-hostname --output-fields=MESSAGE,BINARY,_HOSTNAME")

# Every mode with every option set, in a zone with summer time.
for mode in "${MODES[@]}"; do
        for opts in "${OPTION_SETS[@]}"; do
                name="$mode${opts:+ $opts}"
                name=${name// /_}
                kind=$(kind_of "$mode")
                # cat prints several fields in journalctl's hash order, random per run.
                [[ $mode == cat && $opts == *,* ]] && kind=sorted
                # shellcheck disable=SC2086
                check "$name" "$kind" TZ=EST5EDT,M3.2.0,M11.1.0 LC_ALL=C -- -o "$mode" $opts
        done
done

# The time modes in other zones: a half-hour offset, a zone name too long for verbose's
# buffer, UTC by name, and whatever /etc/localtime says.
for tz in '<+0530>-5:30' '<ABCDEFGHIJKLMNOPQRST>5' UTC0 ''; do
        envs=(LC_ALL=C TZ="$tz")
        [[ -z $tz ]] && envs=(-u TZ LC_ALL=C)
        for mode in short short-full short-iso short-iso-precise short-precise verbose with-unit; do
                for opts in "" "--utc"; do
                        # shellcheck disable=SC2086
                        check "tz-${tz//[^A-Za-z0-9]/_}-$mode$opts" raw "${envs[@]}" -- -o "$mode" $opts
                done
        done
done

# A single --output-fields field for cat (no hash order involved), and repeated options.
check cat-one raw LC_ALL=C -- -o cat --output-fields=FOO
check fields-twice json LC_ALL=C -- -o json --output-fields=FOO --output-fields=BAR,FOO

# Filters, as journalctl's, on the same journal (JSON compared parsed).
for filter in "-p err" "-p warning..err" "-p debug..notice" "-p 7" "-t app" "-u app" \
        "-u app.service -p info" "PRIORITY=3 + PRIORITY=6" "SYSLOG_IDENTIFIER=app PRIORITY=6" \
        "-b" "-n 3" "-n 1"; do
        # shellcheck disable=SC2086
        check "filter ${filter// /_}" json LC_ALL=C -- -o json $filter
done

# Time bounds: the middle entry's time, from the journal itself.
mid=$("$JOURNALCTL" --file="$JOURNAL" -o json | jq -r .__REALTIME_TIMESTAMP | sort -n |
        awk '{ t[NR] = $1 } END { print int(t[int(NR / 2)] / 1000000) }')
check "filter since" json LC_ALL=C -- -o json --since "@$mid"
check "filter until" json LC_ALL=C -- -o json --until "@$mid"

# -T (journalctl 256's --exclude-identifier; 252 lacks it): against journalctl's full output
# without the entries of that identifier.
if "$AGENT" --to=stdout --file="$JOURNAL" -o json -T app >"$TMP/exclude.got" 2>"$TMP/exclude.err"; then
        "$JOURNALCTL" --file="$JOURNAL" -o json |
                jq -c 'select(.SYSLOG_IDENTIFIER != "app")' >"$TMP/exclude.want"
        got=$(jq -cS . "$TMP/exclude.got" | md5sum)
        want=$(jq -cS . "$TMP/exclude.want" | md5sum)
        n_app=$(jq -c 'select(.SYSLOG_IDENTIFIER == "app")' "$TMP/exclude.got" | wc -l)
        if [[ $got == "$want" && $n_app == 0 && -s $TMP/exclude.want ]]; then
                passed=$((passed + 1))
        else
                failed=$((failed + 1))
                echo "FAIL filter -T app: $n_app entries of app left, or other entries differ"
        fi
else
        failed=$((failed + 1))
        echo "FAIL filter -T app: exit status ($(head -c 300 "$TMP/exclude.err"))"
fi

# --stderr-priority: the split is the same entries as -p on stderr and the rest on stdout.
if "$AGENT" --to=stdout --file="$JOURNAL" -o json --stderr-priority=warning \
        >"$TMP/split.out" 2>"$TMP/split.err"; then
        err_want=$("$JOURNALCTL" --file="$JOURNAL" -o json -p warning | jq -cS . | md5sum)
        err_got=$(jq -cS . "$TMP/split.err" | md5sum)
        out_bad=$(jq -r 'select((.PRIORITY // "6") | tonumber <= 4) | .PRIORITY' "$TMP/split.out" | wc -l)
        total=$(($(wc -l <"$TMP/split.out") + $(wc -l <"$TMP/split.err")))
        all=$("$JOURNALCTL" --file="$JOURNAL" -o json | wc -l)
        if [[ $err_got == "$err_want" && $out_bad == 0 && $total == "$all" ]]; then
                passed=$((passed + 1))
        else
                failed=$((failed + 1))
                echo "FAIL stderr split: stderr differs from -p warning, or $out_bad severe entries on stdout, or $total != $all entries"
        fi
else
        failed=$((failed + 1))
        echo "FAIL stderr split: exit status"
fi

# Write sizes into a pipe (--pipe-writes), seen by strace: every write ends at an entry's end;
# atomic writes are at most PIPE_BUF bytes (an entry larger than that alone in its write), so
# other writers on the same pipe interleave only between entries; large writes, the default of a
# one-shot dump, go beyond PIPE_BUF; --follow writes atomically by default.
# write_sizes NAME ARGS...: "bytes lines ends-with-newline" per write to fd 1 into $TMP/NAME.writes.
write_sizes() {
        local name=$1
        shift
        timeout 5 strace -qq -e trace=write -e signal=none -xx -s 1048576 -o "$TMP/$name.strace" \
                "$AGENT" --to=stdout --file="$JOURNAL" -o json -a "$@" 2>"$TMP/$name.err" |
                cat >"$TMP/$name.out" || true
        awk '/^write\(1, "/ {
                s = $0; sub(/^write\(1, "/, "", s); sub(/", [0-9]+\) = [0-9]+$/, "", s)
                n = $NF; nl = gsub(/\\x0a/, "", s)
                print n, nl, (substr($0, length($0) - length(" = " n) - length(", " n) - 5, 5) == "\\x0a\"" ? 1 : 0)
        }' "$TMP/$name.strace" >"$TMP/$name.writes"
}
# check_writes NAME WANT: WANT atomic | large.
check_writes() {
        local name=$1 want=$2 verdict bytes
        bytes=$(awk '{ t += $1 } END { print t + 0 }' "$TMP/$name.writes")
        verdict=$(awk -v want="$want" -v pipebuf=4096 '
                { n++; if (!$3) cut++; if ($1 > pipebuf && $2 > 1) big++; if ($1 > max) max = $1 }
                END {
                        if (n < 2) { print "only " n + 0 " writes"; exit }
                        if (cut) { print cut " of " n " writes end inside an entry"; exit }
                        if (want == "atomic" && big) { print big " writes of several entries beyond PIPE_BUF"; exit }
                        if (want == "large" && !big) { print "no write beyond PIPE_BUF (largest " max ")"; exit }
                        print "ok"
                }' "$TMP/$name.writes")
        if [[ $verdict == ok && $bytes == "$(stat -c %s "$TMP/$name.out")" && $bytes -gt 65536 ]]; then
                passed=$((passed + 1))
        else
                failed=$((failed + 1))
                echo "FAIL pipe writes $name: $verdict; $bytes bytes written, $(stat -c %s "$TMP/$name.out") read ($(head -c 300 "$TMP/$name.err"))"
        fi
}
command -v strace >/dev/null || die "strace not found: install it (Debian: apt-get install strace)"
write_sizes default
check_writes default large
write_sizes large --pipe-writes=large
check_writes large large
write_sizes atomic --pipe-writes=atomic
check_writes atomic atomic
write_sizes follow -f --pipe-writes=auto
check_writes follow atomic
if "$AGENT" --to=stdout --file="$JOURNAL" --pipe-writes=bogus >/dev/null 2>"$TMP/bogus.err"; then
        failed=$((failed + 1))
        echo "FAIL --pipe-writes=bogus was accepted"
elif [[ $? == 2 ]] && grep -q 'expected atomic, large or auto' "$TMP/bogus.err"; then
        passed=$((passed + 1))
else
        failed=$((failed + 1))
        echo "FAIL --pipe-writes=bogus: exit status or message ($(cat "$TMP/bogus.err"))"
fi

echo "$passed passed, $failed failed"
((failed == 0))
