# shellcheck shell=bash
# Helpers for the reliability suite (test/reliability/faults.sh), on top of the integration
# harness (test/integration/lib.sh: cached rootfs, nspawn boots with a pipe as stdout, in_ct,
# run_case, pass/fail and the final "N passed, N failed"):
#
#   - a staging tree per Debian suite, built against that suite's own glibc and libsystemd
#     (the host's build for the host's suite, a build inside a copy of the suite's rootfs for any
#     other suite), cached by a hash of the sources;
#   - numbered bursts inside the container, and the counting of what reached its stdout:
#     lost numbers, repeated numbers, and whether every repeat is a whole unconfirmed write that
#     carries the same __CURSOR as its first copy;
#   - the results table (case, systemd version, lost, repeated, seconds).
#
# Every wait is bounded and says what it waited for (wait_until from test/integration/lib.sh).

# Lines per burst (the issue asks for at least 20,000).
REL_BURST_LINES=${REL_BURST_LINES:-20000}
# A write of the forwarder is at most PIPE_BUF bytes of whole lines (README, "The forwarder").
REL_PIPE_BUF=4096

# ---- prerequisites ----------------------------------------------------------------------------

rel_prerequisites() {
        ((EUID == 0)) || die "must run as root (systemd-nspawn, nsenter, cgroups): sudo test/reliability/faults.sh"
        need_nspawn_tools
        need_cmd sha256sum coreutils
        need_cmd make make
        need_cmd cc build-essential
        need_cmd pkg-config pkg-config
        need_cmd awk mawk
        pkg-config --exists libsystemd || die "libsystemd not found by pkg-config: apt-get install libsystemd-dev"
}

# ---- staging trees: the project built against each suite's own libsystemd ---------------------

# The files `make install` needs (the same set docker/Dockerfile copies).
REL_SOURCES=(Makefile LICENSE bootstrap broker client common preload systemd-units)

rel_source_hash() {
        find "${REL_SOURCES[@]}" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16
}

host_codename() {
        # shellcheck disable=SC1091
        (. /etc/os-release && echo "${VERSION_CODENAME:-unknown}")
}

# rel_stage SUITE: set JA_STAGE to a `make install DESTDIR=` tree built for SUITE.
#   - SUITE is the host's own Debian release: `make install` here, as the integration suite does.
#   - any other SUITE: compiled inside a copy of that suite's rootfs (with build-essential,
#     pkg-config and libsystemd-dev added once), so the binaries link that suite's libsystemd.
#     The tree is cached in $JA_CACHE/reliability/stage-SUITE-<hash of the sources>.
rel_stage() {
        local suite=$1
        if [[ $suite == "$(host_codename)" ]]; then
                JA_STAGE=$JA_RUN_DIR/stage-$suite
                log "make install DESTDIR=$JA_STAGE (host build, $(host_codename))"
                make -s install DESTDIR="$JA_STAGE" >"$JA_RUN_DIR/make-install-$suite.log" 2>&1 ||
                        { cat "$JA_RUN_DIR/make-install-$suite.log" >&2; die "make install DESTDIR=$JA_STAGE failed"; }
                return
        fi
        local hash dest lock_fd tmp src builder
        hash=$(rel_source_hash)
        dest=$JA_CACHE/reliability/stage-$suite-$hash
        JA_STAGE=$dest
        if [[ -f $dest.complete ]]; then
                log "staging tree for $suite (sources $hash) from the cache: $dest"
                return
        fi
        mkdir -p "$JA_CACHE/reliability"
        exec {lock_fd}>"$JA_CACHE/reliability/.stage-$suite.lock"
        flock -w 1800 "$lock_fd" || die "timed out waiting for another run building $dest"
        if [[ ! -f $dest.complete ]]; then
                builder=$(rel_builder "$suite")
                tmp=$(mktemp -d "$JA_CACHE/reliability/stage-$suite.tmp.XXXXXX")
                src=$JA_RUN_DIR/src-$suite
                mkdir -p "$src" "$tmp/out"
                tar -c "${REL_SOURCES[@]}" | tar -x -C "$src"
                log "building the project inside $builder (Debian $suite's own libsystemd)"
                if ! timeout 900 systemd-nspawn -q -D "$builder" --register=no --keep-unit --pipe \
                        --bind-ro="$src:/src" --bind="$tmp/out:/out" -- /bin/sh -ec \
                        'rm -rf /tmp/build && cp -a /src /tmp/build && cd /tmp/build &&
                         make -j2 >/dev/null && make install DESTDIR=/out/tree PREFIX=/usr >/dev/null &&
                         pkg-config --modversion libsystemd >/out/libsystemd-version' \
                        </dev/null >"$tmp/build.log" 2>&1; then
                        tail -n 40 "$tmp/build.log" >&2
                        rm -rf "$tmp"
                        die "building the project inside the $suite rootfs failed"
                fi
                log "built against libsystemd $(cat "$tmp/out/libsystemd-version") of $suite"
                [[ ! -e $dest ]] || rm -rf "$dest"
                mv -T "$tmp/out/tree" "$dest"
                cp "$tmp/build.log" "$dest.log"
                rm -rf "$tmp"
                touch "$dest.complete"
                # Trees of older sources are of no further use.
                local old
                for old in "$JA_CACHE/reliability/stage-$suite-"*.complete; do
                        [[ -e $old && $old != "$dest.complete" ]] || continue
                        rm -rf "${old%.complete}" "${old%.complete}.log" "$old"
                done
        fi
        exec {lock_fd}>&-
}

# rel_builder SUITE: print the path of a copy of the SUITE rootfs with the build dependencies
# installed (apt-get inside it, once; cached in $JA_CACHE/reliability/builder-SUITE).
rel_builder() {
        local suite=$1 rootfs dest tmp
        dest=$JA_CACHE/reliability/builder-$suite
        if [[ -f $dest/.ja-builder-ready ]]; then
                echo "$dest"
                return
        fi
        rootfs=$(ensure_rootfs "$suite")
        [[ -e $dest ]] && remove_tree "$dest"
        tmp=$dest.tmp
        [[ -e $tmp ]] && remove_tree "$tmp"
        log "preparing a $suite build root in $dest: copy of $rootfs + build-essential pkg-config libsystemd-dev (once)"
        cp -a --reflink=auto "$rootfs" "$tmp"
        if ! timeout 1200 systemd-nspawn -q -D "$tmp" --register=no --keep-unit --pipe -- /bin/sh -ec \
                'export DEBIAN_FRONTEND=noninteractive; apt-get update -q;
                 apt-get install -y -q --no-install-recommends build-essential pkg-config libsystemd-dev;
                 apt-get clean' </dev/null >"$tmp.log" 2>&1; then
                tail -n 30 "$tmp.log" >&2
                remove_tree "$tmp"
                die "installing the build dependencies into the $suite build root failed (network? mirror in its sources.list)"
        fi
        rm -f "$tmp.log"
        touch "$tmp/.ja-builder-ready"
        mv -T "$tmp" "$dest"
        echo "$dest"
}

# ---- the container ------------------------------------------------------------------------------

# CT_RUNTIME: nspawn (systemd-nspawn, test/integration/lib.sh) or docker (the project image of
# test/e2e). rel_boot_any / rel_ct_stop / runtime_stdout_inode / read_persistent_journal hide the
# difference from the cases, which only use in_ct (nsenter into the container's PID 1, which works
# for both), CT_OUT (what the runtime shows as the container's stdout) and the units.
CT_RUNTIME=nspawn

rel_boot_any() {
        if [[ $CT_RUNTIME == docker ]]; then rel_boot_docker "$@"; else rel_boot "$@"; fi
}

rel_ct_stop() {
        if [[ $CT_RUNTIME == docker ]]; then rel_docker_stop; else ct_stop; fi
}

# The pipe (inode) the runtime reads the container's stdout from.
runtime_stdout_inode() {
        if [[ $CT_RUNTIME == docker ]]; then echo "$CT_RUNTIME_INODE"; else nspawn_fd_inode 1; fi
}

# read_persistent_journal OUT FIELDS: after the stop, the container's persistent journal as
# journalctl -o json (only FIELDS besides the __ ones), read with the suite's own journalctl (newer
# journal files may use features an older journalctl lacks).
read_persistent_journal() {
        local out=$1 fields=$2 jdir=/var/log/journal/$CT_MACHINE_ID
        if [[ $CT_RUNTIME == docker ]]; then
                [[ -d $CT_DIR/journal/$CT_MACHINE_ID ]] || { log "$CT_DIR/journal/$CT_MACHINE_ID missing"; return 1; }
                timeout 300 docker run --rm --network none -e SYSTEMD_COLORS=0 --entrypoint journalctl \
                        -v "$CT_DIR/journal:/var/log/journal:ro" "$CT_IMAGE" -D "$jdir" -o json \
                        --output-fields="$fields" --no-pager >"$out"
        else
                [[ -d $CT_ROOT$jdir ]] || { log "$CT_ROOT$jdir missing"; return 1; }
                timeout 300 chroot "$CT_ROOT" journalctl -D "$jdir" -o json --output-fields="$fields" --no-pager >"$out"
        fi
}

# rel_boot SUITE NAME: fresh copy of the SUITE rootfs with JA_STAGE on top, booted, running.
# journald's rate limit is switched off in the copy: a 20,000-line burst from one source exceeds
# the default (10,000 per 30 s), and the cases count what the forwarder does with what journald
# stored (each case also checks that journald stored the whole burst).
rel_boot() {
        local suite=$1 name=$2
        CT_DOCKER_ID=
        ct_prepare "$name" "$(ensure_rootfs "$suite")"
        mkdir -p "$CT_ROOT/etc/systemd/journald.conf.d"
        printf '[Journal]\nRateLimitIntervalSec=0\n' >"$CT_ROOT/etc/systemd/journald.conf.d/50-ja-reliability.conf"
        ct_boot /usr/bin/systemd-bootstrap
        ct_wait_running 120
        CT_SUITE=$suite
        CT_SYSTEMD_VERSION=$(in_ct systemctl --version | awk 'NR == 1 { print $2 }')
        log "container $CT_NAME: Debian $suite, systemd $CT_SYSTEMD_VERSION"
        # The machine-id directory of the persistent journal (read from the host after poweroff).
        CT_MACHINE_ID=$(in_ct cat /etc/machine-id)
}

# ---- Docker -----------------------------------------------------------------------------------
#
# The project image as test/e2e builds it (docker/Dockerfile on the debootstrapped suite, tagged
# journalagent-e2e:SUITE), with test/e2e/lib.sh's own functions: it is sourced in a subshell,
# because its helpers share names with test/integration/lib.sh. Flags as there (no --privileged,
# Docker's default seccomp profile). What the runtime shows is `docker logs -f` (stdout only).

# rel_docker_ready: a Docker daemon answers (test/e2e/start-dockerd.sh starts one if none does).
rel_docker_ready() {
        [[ -x /usr/bin/docker ]] || die "docker not found: apt-get install docker.io (or leave docker out of REL_RUNTIMES)"
        if ! timeout 20 /usr/bin/docker info >/dev/null 2>&1; then
                log "no Docker daemon answers: test/e2e/start-dockerd.sh"
                test/e2e/start-dockerd.sh >&2 || die "test/e2e/start-dockerd.sh could not start dockerd"
        fi
}

# rel_docker_image SUITE: the project image for SUITE, built (or found in the build cache).
rel_docker_image() {
        local suite=$1 logf=$JA_RUN_DIR/docker-build-$1.log
        log "docker image journalagent-e2e:$suite (test/e2e/lib.sh: ensure_base_image, build_image)"
        # shellcheck source=/dev/null
        if ! (. test/e2e/lib.sh && ensure_base_image docker "$suite" && build_image docker "$suite" "$logf"); then
                tail -n 30 "$logf" >&2 || true
                die "building the Docker image journalagent-e2e:$suite failed (see above)"
        fi
        CT_IMAGE=journalagent-e2e:$suite
}

# rel_boot_docker SUITE NAME: docker run -d of the project image, running.
rel_boot_docker() {
        local suite=$1 name=$2 flags pid
        ct_set_paths "$name"
        # Docker's container: a name unique on the host, and no root file system of ours.
        CT_NAME=ja-rel-$name-$$
        CT_ROOT=
        mkdir -p "$CT_DIR/journal"
        CT_DIRS+=("$CT_DIR")
        printf '[Journal]\nRateLimitIntervalSec=0\n' >"$CT_DIR/50-ja-reliability.conf"
        # shellcheck source=/dev/null
        mapfile -t flags < <(. test/e2e/lib.sh && docker_run_flags)
        ((${#flags[@]} > 0)) || die "test/e2e/lib.sh's docker_run_flags gave no flags"
        timeout 60 docker rm -f "$CT_NAME" >/dev/null 2>&1 || true
        printf '%s\n' "$CT_NAME" >>"$JA_RUN_DIR/docker-containers"
        log "docker run -d --name $CT_NAME ${flags[*]} $CT_IMAGE"
        timeout 120 docker run -d --name "$CT_NAME" "${flags[@]}" -v "$CT_DIR/journal:/var/log/journal" \
                -v "$CT_DIR/50-ja-reliability.conf:/etc/systemd/journald.conf.d/50-ja-reliability.conf:ro" \
                "$CT_IMAGE" >"$CT_DIR/docker-run.out" 2>&1 || { cat "$CT_DIR/docker-run.out" >&2; die "docker run $CT_IMAGE failed"; }
        : >"$CT_OUT"
        : >"$CT_ERR"
        docker logs -f "$CT_NAME" >"$CT_OUT" 2>"$CT_ERR" &
        # The harness of test/integration/lib.sh takes nspawn's PID as "the container is alive":
        # here that is the `docker logs -f` reader, which ends when the container does.
        CT_NSPAWN_PID=$!
        # shellcheck disable=SC2034 # read by test/integration/lib.sh (ct_readers_done)
        CT_OUTCAT_PID=$CT_NSPAWN_PID
        # shellcheck disable=SC2034
        CT_ERRCAT_PID=$CT_NSPAWN_PID
        # shellcheck disable=SC2034 # used by faults.sh (kernel_oom_kills)
        CT_DOCKER_ID=$(timeout 30 docker inspect -f '{{.Id}}' "$CT_NAME")
        CT_PID1=
        wait_until 30 "PID 1 of $CT_NAME to be systemd" docker_find_pid1 || die "PID 1 of $CT_NAME never became systemd"
        ct_wait_running 120
        CT_SUITE=$suite
        CT_SYSTEMD_VERSION=$(in_ct systemctl --version | awk 'NR == 1 { print $2 }')
        CT_MACHINE_ID=$(in_ct cat /etc/machine-id)
        # The runtime's pipe: the one the broker holds once PID 1 deposited, which must also be a
        # pipe that the container's parent (containerd-shim, the runtime's reader) holds.
        wait_until 30 "the broker of $CT_NAME to hold stdout" broker_holds_something || die "the broker of $CT_NAME holds no stdout"
        CT_RUNTIME_INODE=$(broker_held_inode stdout)
        pid=$(awk '$1 == "PPid:" { print $2 }' "/proc/$CT_PID1/status")
        find "/proc/$pid/fd" -maxdepth 1 -type l -lname "pipe:\[$CT_RUNTIME_INODE\]" 2>/dev/null | grep -q . ||
                die "the broker holds pipe:[$CT_RUNTIME_INODE], which the container's parent ($pid, $(cat "/proc/$pid/comm")) does not hold"
        log "container $CT_NAME: Debian $suite, systemd $CT_SYSTEMD_VERSION, stdout is pipe:[$CT_RUNTIME_INODE] of $(cat "/proc/$pid/comm") $pid"
}

docker_find_pid1() {
        local pid
        pid=$(timeout 30 docker inspect -f '{{.State.Pid}}' "$CT_NAME" 2>/dev/null) || return 1
        [[ $pid =~ ^[1-9][0-9]*$ && $(cat "/proc/$pid/comm" 2>/dev/null) == systemd ]] || return 1
        CT_PID1=$pid
}

broker_holds_something() {
        [[ -n $(broker_held_inode stdout) ]]
}

# What `docker stop` does (the image's STOPSIGNAL SIGRTMIN+3, SIGKILL after 60 s). Sets
# CT_EXIT_STATUS and waits for `docker logs -f` to have copied everything.
rel_docker_stop() {
        CT_EXIT_STATUS=
        [[ -n ${CT_NSPAWN_PID:-} ]] || return 0
        log "docker stop -t 60 $CT_NAME"
        timeout 120 docker stop -t 60 "$CT_NAME" >/dev/null 2>&1 || log "WARNING: docker stop $CT_NAME failed"
        CT_EXIT_STATUS=$(timeout 30 docker inspect -f '{{.State.ExitCode}}' "$CT_NAME" 2>/dev/null) || CT_EXIT_STATUS=unknown
        wait_until 20 "docker logs -f $CT_NAME to finish" ct_readers_done || kill "$CT_NSPAWN_PID" 2>/dev/null || true
        wait "$CT_NSPAWN_PID" 2>/dev/null || true
        CT_NSPAWN_PID=
        log "$CT_NAME stopped (exit code $CT_EXIT_STATUS)"
}

rel_docker_remove_all() {
        local c
        [[ -f ${JA_RUN_DIR:-}/docker-containers ]] || return 0
        while read -r c; do timeout 60 docker rm -f "$c" >/dev/null 2>&1 || true; done <"$JA_RUN_DIR/docker-containers"
}

unit_main_pid() {
        in_ct systemctl show -p MainPID --value "$1"
}

unit_prop() {
        in_ct systemctl show -p "$2" --value "$1"
}

# unit_restarted UNIT OLD-PID: UNIT is active again with a main process other than OLD-PID.
unit_restarted() {
        local state pid
        state=$(unit_prop "$1" ActiveState)
        pid=$(unit_main_pid "$1")
        [[ $state == active && $pid != 0 && $pid != "$2" ]]
}

unit_active_with_pid() {
        local state pid
        state=$(unit_prop "$1" ActiveState)
        pid=$(unit_main_pid "$1")
        [[ $state == active && $pid != 0 ]]
}

# kill_in_ct PID...: SIGKILL by PID with the shell's builtin kill, inside the container
# (`systemctl kill` signals the whole cgroup and hits EIO on this host's hybrid cgroup layout;
# minbase images have no procps).
kill_in_ct() {
        in_ct sh -c "kill -KILL $*"
}

# broker_holds_runtime_stdout: the broker says it holds the very pipe that is nspawn's stdout.
broker_holds_runtime_stdout() {
        local held
        held=$(broker_held_inode stdout)
        [[ -n $held && $held == "$(runtime_stdout_inode)" ]]
}

# host_pid_of CT-PID: the host PID of the container's process CT-PID (NSpid's last field).
host_pid_of() {
        local p ns want=$1 ctns
        ctns=$(readlink "/proc/$CT_PID1/ns/pid")
        for p in /proc/[0-9]*; do
                ns=$(readlink "$p/ns/pid" 2>/dev/null) || continue
                [[ $ns == "$ctns" ]] || continue
                if awk -v w="$want" '$1 == "NSpid:" && $NF == w { found = 1 } END { exit !found }' "$p/status" 2>/dev/null; then
                        echo "${p#/proc/}"
                        return 0
                fi
        done
        return 1
}

# ---- bursts ------------------------------------------------------------------------------------

# burst_script TAG SECONDS LINES: the sh script, run inside the container, of a burst: LINES
# numbered lines "TAG-1".."TAG-N" to systemd-cat -t ja-burst, in 200 chunks over about SECONDS
# seconds.
burst_script() {
        local tag=$1 secs=$2 lines=$3 chunks=200 per pause
        per=$(((lines + chunks - 1) / chunks))
        # Each chunk costs a few ms besides its pause: aim a little short.
        pause=$(awk -v s="$secs" -v c="$chunks" 'BEGIN { p = s / c - 0.006; if (p < 0) p = 0; printf "%.3f", p }')
        # shellcheck disable=SC2016 # expanded by the shell inside the container
        echo '
                i=0; n='"$lines"'; per='"$per"'
                while [ $((i * per)) -lt $n ]; do
                        last=$(((i + 1) * per)); [ $last -le $n ] || last=$n
                        seq $((i * per + 1)) $last
                        i=$((i + 1))
                        sleep '"$pause"'
                done | sed -u "s/^/'"$tag"'-/" | systemd-cat -t ja-burst'
}

# burst_start TAG SECONDS [LINES]: in the background, log LINES numbered lines "TAG-1".."TAG-N"
# with SYSLOG_IDENTIFIER=ja-burst from inside the container (burst_script), paced over about
# SECONDS seconds so that the faults of the case land in the middle of it. Sets BURST_PID.
burst_start() {
        local tag=$1 secs=$2 lines=${3:-$REL_BURST_LINES} script
        script=$(burst_script "$tag" "$secs" "$lines")
        JA_IN_CT_TIMEOUT=$((secs * 4 + 120)) in_ct sh -c "$script" &
        BURST_PID=$!
        BURST_TAG=$tag
        BURST_T0=$(now_ms)
        log "burst $tag: $lines lines over about ${secs}s (writer pid $BURST_PID)"
}

# burst_start_unit TAG SECONDS [LINES]: the same burst from a transient service inside the
# container (systemd-run), as an application of the image would log. Used at poweroff: a writer
# entered with nsenter cannot be used there, because systemd-shutdown SIGSTOPs every process and
# nsenter (outside the container) then stops itself too and never reaps its child, which holds
# up the halt until systemd-shutdown's 90 s timeout. Sets BURST_UNIT (BURST_PID empty).
burst_start_unit() {
        local tag=$1 secs=$2 lines=${3:-$REL_BURST_LINES}
        BURST_UNIT=ja-burst-$tag
        in_ct systemd-run --quiet --unit="$BURST_UNIT" --property=StandardOutput=null \
                sh -c "$(burst_script "$tag" "$secs" "$lines")"
        BURST_PID=
        BURST_TAG=$tag
        BURST_T0=$(now_ms)
        log "burst $tag: $lines lines over about ${secs}s from the transient service $BURST_UNIT"
}

burst_writer_done() {
        [[ -z $BURST_PID ]] || ! pid_alive "$BURST_PID"
}

# burst_finish TIMEOUT: wait for the burst's writer; a writer that hangs is killed (and the
# journal count below says what it managed to log).
burst_finish() {
        local rc=0
        if ! wait_until "$1" "the burst writer $BURST_TAG to finish" burst_writer_done; then
                kill "$BURST_PID" 2>/dev/null || true
        fi
        wait "$BURST_PID" || rc=$?
        ((rc == 0)) || log "burst writer $BURST_TAG exited with status $rc"
        log "burst $BURST_TAG written in $(($(now_ms) - BURST_T0)) ms"
}

burst_lines_on_stdout_since() {
        tail -c "+$(($1 + 1))" "$CT_OUT" | grep -c -F "\"MESSAGE\":\"$BURST_TAG-" || true
}

# ---- what the case saw -------------------------------------------------------------------------

# case_begin NAME: the case's scratch directory, time origin, stdout offset and journal position.
case_begin() {
        CASE_NAME=$1
        CASE_DIR=$CT_DIR/cases/$1
        mkdir -p "$CASE_DIR"
        CASE_OUT_OFFSET=$(stat -c %s "$CT_OUT")
        # The journal's last entry before the case: only entries after it are the case's.
        CASE_JOURNAL_MARK=$(in_ct journalctl -n 1 --show-cursor -o cat --no-pager | sed -n 's/^-- cursor: //p')
        [[ -n $CASE_JOURNAL_MARK ]] || { log "journalctl --show-cursor printed no cursor"; return 1; }
        printf '%s\n' "$CASE_JOURNAL_MARK" >"$CASE_DIR/journal.mark"
}

# The complete lines of stdout written since the case began.
case_stdout() {
        local n
        tail -c "+$((CASE_OUT_OFFSET + 1))" "$CT_OUT" >"$CASE_DIR/stdout.raw"
        n=$(wc -l <"$CASE_DIR/stdout.raw")
        head -n "$n" "$CASE_DIR/stdout.raw"
}

# journal_since_mark ARGS...: journalctl --after-cursor=<the case's mark> ARGS. No matches here:
# journalctl 252 combines --after-cursor with a match wrongly (it skips the first matching entry
# when the cursor's own entry does not match), so entries are filtered afterwards.
journal_since_mark() {
        in_ct journalctl --after-cursor="$CASE_JOURNAL_MARK" --no-pager "$@"
}

# How many times journalctl.service (or UNIT) was started since the case began: every death
# or stop of the forwarder is followed by a start (MESSAGE_ID of "Started UNIT", from PID 1).
unit_starts_since_mark() {
        local unit=${1:-journalagent.service} n
        n=$(journal_since_mark -o json --output-fields=MESSAGE_ID,UNIT |
                grep -F '"MESSAGE_ID":"39f53479d3a045ac8e11786248231fbf"' | grep -c -F "\"UNIT\":\"$unit\"") || true
        echo "${n:-0}"
}

# The burst numbers journald stored, sorted (reference for "lost").
journal_burst_numbers() {
        journal_since_mark -o cat |
                awk -v p="$BURST_TAG-" 'index($0, p) == 1 { print substr($0, length(p) + 1) }' |
                LC_ALL=C sort -u
}

journal_has_burst() {
        journal_burst_numbers >"$1"
        (($(wc -l <"$1") >= REL_BURST_LINES))
}

# all_burst_on_stdout: every number journald stored is on stdout (cheap: grep, no JSON parse).
all_burst_on_stdout() {
        case_stdout | grep -o "\"MESSAGE\":\"$BURST_TAG-[0-9]*\"" |
                sed 's/.*-\([0-9]*\)"$/\1/' | LC_ALL=C sort -u >"$CASE_DIR/stdout.nums"
        [[ -s $CASE_DIR/stdout.nums && -z $(LC_ALL=C comm -23 "$CASE_DIR/journal.nums" "$CASE_DIR/stdout.nums") ]]
}

# count_tsv TSV NUMS TAG REPORT: the counting of case_count, on TSV (one row per line of stdout:
# cursor, identifier, message, bytes with the newline; "NONJSON" for a line that is not a JSON
# object) against NUMS (the burst numbers journald stored). Prints "lost repeated mismatch runs
# rewrites bad nonjson unknown distinct"; describes each run of repeated lines in REPORT.
count_tsv() {
        : >"$4"
        awk -F'\t' -v tag="$3" -v pipebuf="$REL_PIPE_BUF" -v nums="$2" -v report="$4" '
                BEGIN { while ((getline x < nums) > 0) stored[x] = 1 }
                $0 == "NONJSON" { nonjson++; next }
                {
                        n++; cur[n] = $1; bytes[n] = $4
                        if ($2 == "ja-burst" && index($3, tag "-") == 1) {
                                num = substr($3, length(tag) + 2)
                                copies[num]++
                                if (num in first_cursor) { if (first_cursor[num] != $1) mismatch++ }
                                else first_cursor[num] = $1
                                burst_lines++
                        }
                        if ($1 in seen) rep[n] = 1; else seen[$1] = n
                }
                END {
                        for (num in stored) if (!(num in copies)) lost++
                        for (num in copies) { distinct++; if (!(num in stored)) unknown++ }
                        # Runs of consecutive repeated lines.
                        i = 1
                        while (i <= n) {
                                if (!(i in rep)) { i++; continue }
                                s = i; while (i <= n && (i in rep)) i++
                                r = i - s
                                # The block repeated: from the first copy of the run s first entry
                                # up to the line right before the run.
                                bs = seen[cur[s]]; blen = s - bs; bb = 0
                                for (k = bs; k < s; k++) bb += bytes[k]
                                ok = (blen > 0 && r % blen == 0)
                                for (k = 0; ok && k < r; k++) if (cur[s + k] != cur[bs + (k % blen)]) ok = 0
                                if (ok && blen > 1 && bb > pipebuf) ok = 0
                                runs++; rewrites += (blen > 0 ? int(r / blen) : r)
                                if (!ok) bad++
                                printf "run at stdout line %d: %d repeated lines, block of %d lines (%d bytes) from line %d: %s\n", \
                                        s, r, blen, bb, bs, ok ? "a whole write" : "NOT a repeat of the last write" > report
                        }
                        printf "%d %d %d %d %d %d %d %d %d\n", lost + 0, burst_lines - distinct, mismatch + 0, runs + 0, \
                                rewrites + 0, bad + 0, nonjson + 0, unknown + 0, distinct + 0
                }' "$1"
}

# The counting, checked once per run on made-up stdout (so that "repeated=0" everywhere cannot
# hide a counter that sees nothing). Rows: cursor, identifier, message, bytes.
counting_selftest() {
        local d=$JA_RUN_DIR/selftest got
        mkdir -p "$d"
        printf '%s\n' 1 2 3 4 >"$d/nums"
        row() { printf '%s\t%s\t%s\t%s\n' "$@"; }
        # A whole write (c2, c3) repeated after a crash, and T-4 lost.
        { row c1 ja-burst T-1 100; row c2 ja-burst T-2 100; row c3 other x 100; row c2 ja-burst T-2 100
          row c3 other x 100; row c5 ja-burst T-3 100; } >"$d/good.tsv"
        got=$(count_tsv "$d/good.tsv" "$d/nums" T "$d/good.report")
        check counting-selftest/whole-rewrite "count_tsv gave '$got' for a whole re-write and one loss, expected '1 1 0 1 1 0 0 0 3'" \
                test "$got" = "1 1 0 1 1 0 0 0 3"
        # A repeat of an entry that was not the last write, a repeat with another cursor, and a
        # re-write of more than PIPE_BUF bytes.
        { row c1 ja-burst T-1 100; row c2 ja-burst T-2 100; row c3 ja-burst T-3 100; row c2 ja-burst T-2 100
          row c9 ja-burst T-1 100; row c4 ja-burst T-4 3000; row c5 other y 3000; row c4 ja-burst T-4 3000
          row c5 other y 3000; echo NONJSON; } >"$d/bad.tsv"
        got=$(count_tsv "$d/bad.tsv" "$d/nums" T "$d/bad.report")
        check counting-selftest/bad-repeats "count_tsv gave '$got' for bad repeats, expected '0 3 1 2 1 2 1 0 4'" \
                test "$got" = "0 3 1 2 1 2 1 0 4"
}

# case_count MAX-REWRITES: wait for the burst on stdout, then count and check.
#   lost      numbers journald stored that never reached stdout
#   repeated  extra copies of burst lines on stdout
# and check that every repeated entry (burst line or not) is part of a whole unconfirmed write:
# a run of repeated lines on stdout repeats the block of first copies right before it, that
# block is at most PIPE_BUF bytes of whole lines, each repeated entry has its first copy's
# __CURSOR, and there are at most MAX-REWRITES such re-writes (one per forwarder death).
# Also checks that journald stored the whole burst (else the case proves nothing).
case_count() {
        local max_rewrites=$1 name=$CASE_NAME d=$CASE_DIR stored
        # CASE_SKIP_JOURNAL_QUERY=1: the caller wrote journal.nums itself (the container is gone)
        # and the burst was cut short on purpose.
        if [[ ${CASE_SKIP_JOURNAL_QUERY:-0} != 1 ]]; then
                # journald may still be storing the last lines the writer sent.
                wait_until 30 "journald to store the $REL_BURST_LINES lines of burst $BURST_TAG" journal_has_burst "$d/journal.nums" || true
        fi
        stored=$(wc -l <"$d/journal.nums")
        if [[ ${CASE_SKIP_JOURNAL_QUERY:-0} != 1 ]]; then
                check "$name/journald-stored-the-burst" "journald stored $stored of $REL_BURST_LINES lines of burst $BURST_TAG" \
                        test "$stored" -eq "$REL_BURST_LINES"
        fi
        wait_until "${REL_ARRIVAL_TIMEOUT:-60}" "the $stored stored lines of burst $BURST_TAG on stdout" all_burst_on_stdout || true
        # One row per complete JSON line: position, bytes (with the newline), cursor, identifier,
        # message. Lines that are not JSON objects are counted apart.
        case_stdout | jq -R -r '(try fromjson catch null) as $v
                | if ($v | type) == "object" then
                        [($v.__CURSOR // ""), ($v.SYSLOG_IDENTIFIER // "" | tostring),
                         ($v.MESSAGE // "" | tostring | .[0:80] | gsub("[\t\n]"; " ")), (utf8bytelength + 1)] | @tsv
                  else "NONJSON" end' >"$d/stdout.tsv"
        count_tsv "$d/stdout.tsv" "$d/journal.nums" "$BURST_TAG" "$d/repeats.txt" >"$d/counts"
        local lost repeated mismatch runs rewrites bad nonjson unknown distinct
        read -r lost repeated mismatch runs rewrites bad nonjson unknown distinct <"$d/counts"
        printf '%s %s\n' "$lost" "$repeated" >"$d/lost-repeated"
        echo "$name lost=$lost repeated=$repeated"
        log "$name: $distinct of $stored burst numbers on stdout, lost=$lost repeated=$repeated;" \
                "$runs runs of repeated entries ($rewrites re-writes, at most $max_rewrites allowed), $bad not a whole write;" \
                "$mismatch repeats with another __CURSOR; $nonjson non-JSON lines"
        [[ ! -s $d/repeats.txt ]] || sed 's/^/    /' "$d/repeats.txt" >&2
        check "$name/no-line-lost" "$lost of $stored stored burst lines never reached stdout (lost=$lost)" \
                test "$lost" -eq 0 -a "$distinct" -gt 0
        check "$name/repeats-carry-same-cursor" "$mismatch repeated burst lines carry another __CURSOR than their first copy" \
                test "$mismatch" -eq 0
        check "$name/repeats-are-whole-unconfirmed-writes" \
                "$bad runs of repeated entries are not a re-write of the last write (<= $REL_PIPE_BUF bytes), see $d/repeats.txt" \
                test "$bad" -eq 0
        check "$name/at-most-one-rewrite-per-forwarder-death" \
                "$rewrites re-writes of a write for at most $max_rewrites forwarder deaths" \
                test "$rewrites" -le "$max_rewrites"
        check "$name/stdout-only-json" "$nonjson lines of stdout are not JSON objects" test "$nonjson" -eq 0
        check "$name/no-unknown-numbers" "$unknown burst numbers on stdout that journald does not have" test "$unknown" -eq 0
}

# case_note TEXT: a line about the case for results.md ("Observations").
case_note() {
        printf '%s: %s\n' "$CASE_NAME" "$*" >>"$JA_RUN_DIR/notes"
}

# ---- the table -----------------------------------------------------------------------------------

# rel_run_case NAME FUNCTION [ARGS...]: run_case (test/integration/lib.sh), then the case's row,
# marked FAIL if any of its checks failed (or it aborted).
rel_run_case() {
        local name=$1 fails_before t0 secs lost=- repeated=- result=pass d
        fails_before=$(count_results FAIL)
        t0=${REL_CASE_T0:-$(now_ms)}
        run_case "$@"
        secs=$(((($(now_ms) - t0) + 500) / 1000))
        d=$CT_DIR/cases/$name
        if [[ -f $d/lost-repeated ]]; then read -r lost repeated <"$d/lost-repeated"; fi
        (($(count_results FAIL) == fails_before)) || result=FAIL
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "${name##*/}" "$CT_SYSTEMD_VERSION" "$CT_SUITE" "${REL_RUNTIME:-nspawn}" \
                "$lost" "$repeated" "$secs" >>"$REL_TABLE"
        printf '%s\n' "$result" >>"$REL_TABLE.result"
}

# rel_table: the results table as Markdown (stdout), from REL_TABLE.
rel_table() {
        echo "| case | systemd | runtime | lost | repeated | seconds | result |"
        echo "| --- | --- | --- | ---: | ---: | ---: | --- |"
        paste "$REL_TABLE" "$REL_TABLE.result" | awk -F'\t' '{
                printf "| %s | %s (%s) | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8 }'
}
