# shellcheck shell=bash
# Helpers for the journalagent end-to-end tests (test/e2e/run.sh): Debian base images built with
# debootstrap and imported, the project image built from docker/Dockerfile, and one interface over
# the container managers under test (Docker Engine, Podman, systemd-nspawn): start, exec, the
# runtime's own view of the container's stdout, stop, the persistent journal after the stop.
#
# Every wait has a timeout and says what it waited for. Never `grep -q` in a pipeline: under
# pipefail an early exit of grep makes the writer die of SIGPIPE and the pipeline fail at random.

JA_CACHE=${JA_CACHE:-/var/cache/journalagent}
JA_MIRROR=${JA_MIRROR:-http://deb.debian.org/debian}
JA_WORKDIR=${JA_WORKDIR:-/var/tmp}
# Seconds one command inside a container (or one engine command) may take before it counts as hung.
JA_CMD_TIMEOUT=${JA_CMD_TIMEOUT:-60}
# Debian's docker.io client, not whatever else is first in PATH (a newer client without buildx
# would print deprecation notices or refuse `docker build`).
DOCKER=${DOCKER:-$(if [[ -x /usr/bin/docker ]]; then echo /usr/bin/docker; else command -v docker || echo docker; fi)}
PODMAN=${PODMAN:-podman}
IMAGE_REPO=journalagent-e2e
BASE_REPO=ja-base

# log, now_ms, check, count_results_in, summarize_results, wait_until, pid_alive, need_cmd,
# remove_tree, nspawn_systemd_child: shared with test/integration/lib.sh.
# shellcheck source=test/common.sh
. test/common.sh

# ---- logging and bookkeeping -----------------------------------------------------------------

die() {
        log "FATAL: $*"
        exit 2
}

# Results and timings go to files: cases run in subshells (run_case) and the counts must survive.
e2e_results_init() {
        E2E_RUN_DIR=$(mktemp -d "$JA_WORKDIR/journalagent-e2e.XXXXXX")
        E2E_RESULTS=$E2E_RUN_DIR/results
        E2E_TIMINGS=$E2E_RUN_DIR/timings
        E2E_CREATED=$E2E_RUN_DIR/created
        : >"$E2E_RESULTS"
        : >"$E2E_TIMINGS"
        : >"$E2E_CREATED"
}

pass() {
        printf 'PASS %s\n' "$1" >>"$E2E_RESULTS"
        log "PASS $1"
}

fail() {
        printf 'FAIL %s: %s\n' "$1" "$2" >>"$E2E_RESULTS"
        log "FAIL $1: $2"
}

# count_results KIND: how many results of KIND (PASS, FAIL, NA) so far.
count_results() {
        count_results_in "$E2E_RESULTS" "$1"
}

# timing CELL WHAT MILLISECONDS
timing() {
        printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$E2E_TIMINGS"
}

# run_case NAME FUNCTION [ARGS...]: run one case in a subshell with errexit on; an unexpected
# failure ends that case as a failure and the suite goes on. (`set -e` is ignored inside anything
# run as an `if`/`||` operand, so the status is taken with errexit off around a plain statement.)
run_case() {
        local name=$1 rc
        shift
        log "=== $name"
        set +e
        (
                set -eE
                trap 'log "'"$name"': command failed (status $?) at ${BASH_SOURCE[0]##*/}:${LINENO}: ${BASH_COMMAND}"' ERR
                "$@"
        )
        rc=$?
        set -e
        if ((rc != 0)); then
                fail "$name" "case aborted (status $rc), see the log above"
        fi
        return 0
}

# wait_until_ms DEADLINE_MS DESCRIPTION CMD...: like wait_until, with an absolute deadline (now_ms
# clock); CMD is tried at least once even if the deadline has passed.
wait_until_ms() {
        local deadline=$1 desc=$2
        shift 2
        while :; do
                if "$@"; then
                        return 0
                fi
                if (($(now_ms) >= deadline)); then
                        log "deadline passed waiting for $desc"
                        return 1
                fi
                sleep "${JA_POLL_INTERVAL:-0.2}"
        done
}

# ---- prerequisites ----------------------------------------------------------------------------

check_common_prerequisites() {
        ((EUID == 0)) || die "must run as root (container engines, debootstrap): sudo make check-e2e"
        need_cmd jq jq
        need_cmd timeout coreutils
        need_cmd flock util-linux
        need_cmd nsenter util-linux
        need_cmd tar tar
        # ja-e2e-helper, linked statically (libc6-dev's libc.a) to run in every suite's container.
        need_cmd cc build-essential
        [[ $(cc -print-file-name=libc.a) == */* ]] ||
                die "no static libc for ja-e2e-helper: apt-get install libc6-dev"
        # Case g: the runtime is started under it and passes its socket on (LISTEN_FDS).
        need_cmd systemd-socket-activate systemd
}

# build_helper: test/e2e/ja-e2e-helper.c, static, into the run directory (E2E_HELPER).
build_helper() {
        E2E_HELPER=$E2E_RUN_DIR/ja-e2e-helper
        cc -static -O2 -std=gnu11 -Wall -Wextra -Werror -o "$E2E_HELPER" test/e2e/ja-e2e-helper.c ||
                die "cannot build test/e2e/ja-e2e-helper.c statically (apt-get install build-essential libc6-dev)"
}

# check_engine ENGINE: the engine's client and daemon/runtime work, or the run dies saying what to do.
check_engine() {
        case $1 in
        docker)
                [[ -x $DOCKER ]] || command -v "$DOCKER" >/dev/null 2>&1 ||
                        die "docker not found: install Docker Engine (Debian: apt-get install docker.io)"
                timeout 30 "$DOCKER" info >/dev/null 2>&1 ||
                        die "no Docker daemon answers $DOCKER: start one, e.g. test/e2e/start-dockerd.sh (dockerd --iptables=false --bridge=none)"
                ;;
        podman)
                need_cmd "$PODMAN" podman
                # crun (Podman's default runtime) refuses cgroup v1/hybrid hosts.
                need_cmd runc runc
                timeout 30 "$PODMAN" info >/dev/null 2>&1 ||
                        die "'$PODMAN info' fails: $(timeout 30 "$PODMAN" info 2>&1 | tail -n 3)"
                ;;
        nspawn)
                need_cmd systemd-nspawn systemd-container
                ;;
        *)
                die "unknown engine '$1' (JA_E2E_ENGINES takes docker, podman, nspawn)"
                ;;
        esac
}

# cgroup v2 only ("unified") or v1/hybrid: the Docker flags systemd needs differ.
host_cgroup_layout() {
        if [[ $(stat -f -c %T /sys/fs/cgroup) == cgroup2fs ]]; then echo unified; else echo legacy; fi
}

# ---- base images: debootstrap, cached, imported ------------------------------------------------

# ensure_rootfs SUITE: print the path of the cached minimal Debian SUITE with systemd, building it
# once. Same cache entry, layout and lock as test/integration/lib.sh, so both suites share it.
ensure_rootfs() {
        local suite=$1 dest lock_fd tmp
        dest=$JA_CACHE/rootfs-$suite
        if [[ -x $dest/usr/lib/systemd/systemd || -x $dest/lib/systemd/systemd ]]; then
                echo "$dest"
                return
        fi
        need_cmd debootstrap debootstrap
        mkdir -p "$JA_CACHE"
        exec {lock_fd}>"$JA_CACHE/.rootfs-$suite.lock"
        flock -w 1800 "$lock_fd" || die "timed out waiting for another run building $dest"
        if [[ ! -x $dest/usr/lib/systemd/systemd && ! -x $dest/lib/systemd/systemd ]]; then
                local stale
                for stale in "$JA_CACHE/rootfs-$suite.tmp."*; do
                        [[ -e $stale ]] && remove_tree "$stale"
                done
                [[ -e $dest ]] && remove_tree "$dest"
                tmp=$(mktemp -d "$JA_CACHE/rootfs-$suite.tmp.XXXXXX")
                log "building $dest with debootstrap (about a minute, once)"
                if ! timeout 1200 debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus \
                        "$suite" "$tmp" "$JA_MIRROR" >"$tmp.log" 2>&1; then
                        tail -n 30 "$tmp.log" >&2
                        remove_tree "$tmp"
                        die "debootstrap $suite failed (network? mirror $JA_MIRROR; set JA_MIRROR)"
                fi
                rm -f "$tmp.log"
                mv -T "$tmp" "$dest"
        fi
        exec {lock_fd}>&-
        echo "$dest"
}

# The cache entry's identity, stored as a label on the imported image: a rebuilt rootfs (new
# inode or mtime) is imported again, an unchanged one never.
rootfs_id() {
        stat -c '%i-%Y' "$1/etc/os-release"
}

engine_cli() {
        case $1 in
        docker) echo "$DOCKER" ;;
        podman) echo "$PODMAN" ;;
        esac
}

# Podman names local images localhost/NAME.
image_ref() {
        local engine=$1 name=$2
        if [[ $engine == podman ]]; then echo "localhost/$name"; else echo "$name"; fi
}

# ensure_base_image ENGINE SUITE: the debootstrapped SUITE imported as ja-base:SUITE.
ensure_base_image() {
        local engine=$1 suite=$2 rootfs id cli ref have
        cli=$(engine_cli "$engine")
        rootfs=$(ensure_rootfs "$suite")
        id=$(rootfs_id "$rootfs")
        ref=$(image_ref "$engine" "$BASE_REPO:$suite")
        have=$(timeout "$JA_CMD_TIMEOUT" "$cli" image inspect -f '{{ index .Config.Labels "org.journalagent.rootfs" }}' "$ref" 2>/dev/null) || true
        if [[ $have == "$id" ]]; then
                return 0
        fi
        log "importing $rootfs as $ref into $engine"
        # The rootfs sources list already names deb.debian.org for SUITE (debootstrap writes it).
        tar -C "$rootfs" --numeric-owner -c . |
                timeout 600 "$cli" import -c "LABEL org.journalagent.rootfs=$id" - "$ref" >/dev/null ||
                die "$engine import of $rootfs failed"
}

# build_image ENGINE SUITE LOG: docker/Dockerfile with BASE=ja-base:SUITE, tagged
# journalagent-e2e:SUITE. The context is the repository root (the cwd).
build_image() {
        local engine=$1 suite=$2 logf=$3 cli extra=()
        cli=$(engine_cli "$engine")
        # Podman's RUN steps use crun when it is installed, and crun refuses cgroup v1/hybrid
        # hosts ("cgroups in hybrid mode not supported, drop all controllers from cgroupv2").
        [[ $engine == podman ]] && extra=(--runtime runc)
        timeout 1200 "$cli" build "${extra[@]}" --network host -f docker/Dockerfile \
                --build-arg BASE="$(image_ref "$engine" "$BASE_REPO:$suite")" \
                -t "$(image_ref "$engine" "$IMAGE_REPO:$suite")" . >"$logf" 2>&1
}

# ---- containers ---------------------------------------------------------------------------------
#
# A cell (engine × suite) runs several containers, one per variant (main, seccomp, tty, sockact,
# own); the current one is described by globals that case subshells read:
#   CT_ENGINE  docker | podman | nspawn
#   CT_NAME    container name (docker/podman) or machine name (nspawn)
#   CT_IMAGE   image reference (docker/podman)
#   CT_VOLUME  named volume on /var/log/journal (docker/podman)
#   CT_DIR     scratch directory of this container (logs, files the cases write)
#   CT_T0      now_ms just before the engine was asked to start it (the cases' time origin)
#   CT_WRAP    (array, set by the caller) a command the engine's command line is run under, e.g.
#              (systemd-socket-activate -l PATH): ct_start then returns at once (the caller
#              waits for PATH and connects to it), and ct_start_wait waits for the engine
#   CT_ROOT, CT_OUT, CT_ERR, CT_NSPAWN_PID, CT_PID1   nspawn only: the exported rootfs (one per
#              cell, booted again by each variant), what reached its stdout/stderr, nspawn's and
#              PID 1's host PIDs
CT_WRAP=()

# The flags each engine needs to run systemd without --privileged, under its default seccomp
# profile (README.md, "Container recipes").
docker_run_flags() {
        local flags=(--network none --cap-add SYS_ADMIN --security-opt apparmor=unconfined
                --tmpfs /run --tmpfs /run/lock)
        if [[ $(host_cgroup_layout) == unified ]]; then
                flags+=(--cgroupns private)
        else
                flags+=(--cgroupns host -v /sys/fs/cgroup:/sys/fs/cgroup:rw)
        fi
        printf '%s\n' "${flags[@]}"
}

podman_run_flags() {
        local nofile nproc
        # Podman asks for nofile 1048576 and fails ("error setting rlimit type 7: operation not
        # permitted") where the host's hard limit is lower and raising it is not allowed.
        nofile=$(ulimit -Hn)
        [[ $nofile == unlimited ]] && nofile=1048576
        nproc=$(ulimit -Hu)
        [[ $nproc == unlimited || $nproc -gt 32768 ]] && nproc=32768
        printf '%s\n' --runtime runc --systemd=always --network none \
                --ulimit "nofile=$nofile:$nofile" --ulimit "nproc=$nproc:$nproc"
}

run_flags() {
        case $1 in
        docker) docker_run_flags ;;
        podman) podman_run_flags ;;
        esac
}

# ct_start ENGINE SUITE CELL VARIANT [FLAGS...]: start a container of the project image (or of
# $CT_IMAGE_OVERRIDE) detached, journal on a fresh volume. FLAGS go to `docker/podman run` before
# the image, or to systemd-nspawn before the command (e.g. --setenv=...).
ct_start() {
        local engine=$1 suite=$2 cell=$3 variant=$4
        shift 4
        CT_ENGINE=$engine
        CT_NAME=ja-e2e-$engine-$suite-$variant-$$
        CT_DIR=$E2E_RUN_DIR/$cell/$variant
        CT_WRAP_PID=
        mkdir -p "$CT_DIR"
        if [[ $engine == nspawn ]]; then
                nspawn_start "$suite" "$cell" "$@"
                return
        fi
        local cli flags
        cli=$(engine_cli "$engine")
        CT_IMAGE=${CT_IMAGE_OVERRIDE:-$(image_ref "$engine" "$IMAGE_REPO:$suite")}
        CT_VOLUME=$CT_NAME-journal
        mapfile -t flags < <(run_flags "$engine")
        flags+=("$@")
        timeout "$JA_CMD_TIMEOUT" "$cli" rm -f "$CT_NAME" >/dev/null 2>&1 || true
        timeout "$JA_CMD_TIMEOUT" "$cli" volume rm -f "$CT_VOLUME" >/dev/null 2>&1 || true
        timeout "$JA_CMD_TIMEOUT" "$cli" volume create "$CT_VOLUME" >/dev/null
        printf '%s volume %s\n' "$engine" "$CT_VOLUME" >>"$E2E_CREATED"
        printf '%s container %s\n' "$engine" "$CT_NAME" >>"$E2E_CREATED"
        log "${CT_WRAP[*]}${CT_WRAP:+ }$cli run -d --name $CT_NAME ${flags[*]} -v $CT_VOLUME:/var/log/journal $CT_IMAGE"
        # shellcheck disable=SC2034 # read by run.sh
        CT_T0=$(now_ms)
        if ((${#CT_WRAP[@]} == 0)); then
                timeout "$JA_CMD_TIMEOUT" "$cli" run -d --name "$CT_NAME" "${flags[@]}" \
                        -v "$CT_VOLUME:/var/log/journal" "$CT_IMAGE" >"$CT_DIR/run.out" 2>"$CT_DIR/run.err" || {
                        cat "$CT_DIR/run.err" >&2
                        return 1
                }
                return 0
        fi
        "${CT_WRAP[@]}" "$cli" run -d --name "$CT_NAME" "${flags[@]}" \
                -v "$CT_VOLUME:/var/log/journal" "$CT_IMAGE" >"$CT_DIR/run.out" 2>"$CT_DIR/run.err" </dev/null &
        CT_WRAP_PID=$!
}

# ct_start_wait: after ct_start under CT_WRAP, wait until the engine has started the container
# (the wrapper runs the engine only once something connected to its socket).
ct_start_wait() {
        if [[ $CT_ENGINE == nspawn ]]; then
                nspawn_wait_started
                return
        fi
        [[ -n $CT_WRAP_PID ]] || return 0
        local rc=0
        if ! wait_until "$JA_CMD_TIMEOUT" "'${CT_WRAP[*]} $CT_ENGINE run -d' to return" wrap_done; then
                kill -TERM "$CT_WRAP_PID" 2>/dev/null || true
        fi
        wait "$CT_WRAP_PID" || rc=$?
        CT_WRAP_PID=
        if ((rc != 0)); then
                cat "$CT_DIR/run.err" >&2
                return 1
        fi
}

wrap_done() {
        ! pid_alive "$CT_WRAP_PID"
}

# ct_restart: start the stopped container again (docker/podman start; nspawn: boot the same root
# file system again, its stdout appended to the same capture, as a runtime's log would be).
# Runs in the main shell (nspawn is its child).
ct_restart() {
        # shellcheck disable=SC2034 # read by run.sh
        CT_T0=$(now_ms)
        case $CT_ENGINE in
        nspawn) nspawn_launch append "${CT_NSPAWN_ARGS[@]}" ;;
        *)
                log "$(engine_cli "$CT_ENGINE") start $CT_NAME"
                timeout "$JA_CMD_TIMEOUT" "$(engine_cli "$CT_ENGINE")" start "$CT_NAME" >/dev/null
                ;;
        esac
}

# ct_recreate: replace the stopped container by a new one of the same image, flags and name on
# the same journal volume, as `docker compose up` after a change or a Kubernetes pod restart with
# an emptyDir journal do (docker/podman only). The new container shares the host's boot ID with
# the old one, and has a fresh /var/lib/journalagent (no cursor file).
ct_recreate() {
        local cli flags
        cli=$(engine_cli "$CT_ENGINE")
        mapfile -t flags < <(run_flags "$CT_ENGINE")
        timeout "$JA_CMD_TIMEOUT" "$cli" rm -f "$CT_NAME" >/dev/null 2>&1 || true
        log "$cli run -d --name $CT_NAME ${flags[*]} -v $CT_VOLUME:/var/log/journal $CT_IMAGE (same volume)"
        # shellcheck disable=SC2034 # read by run.sh
        CT_T0=$(now_ms)
        timeout "$JA_CMD_TIMEOUT" "$cli" run -d --name "$CT_NAME" "${flags[@]}" \
                -v "$CT_VOLUME:/var/log/journal" "$CT_IMAGE" >"$CT_DIR/run.out" 2>"$CT_DIR/run.err" || {
                cat "$CT_DIR/run.err" >&2
                return 1
        }
}

# ct_copy_in SRC DEST: put a file into the running container.
ct_copy_in() {
        case $CT_ENGINE in
        nspawn) install -D -m 0755 "$1" "$CT_ROOT$2" ;;
        *) timeout "$JA_CMD_TIMEOUT" "$(engine_cli "$CT_ENGINE")" cp "$1" "$CT_NAME:$2" >/dev/null ;;
        esac
}

# ct_exec CMD...: run CMD inside the container, with a timeout.
ct_exec() {
        case $CT_ENGINE in
        nspawn)
                timeout --kill-after=5 "$JA_CMD_TIMEOUT" nsenter -t "$CT_PID1" -m -u -i -p -n -- \
                        env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
                        SYSTEMD_COLORS=0 SYSTEMD_PAGER= "$@"
                ;;
        *)
                timeout --kill-after=5 "$JA_CMD_TIMEOUT" "$(engine_cli "$CT_ENGINE")" exec \
                        -e SYSTEMD_COLORS=0 -e SYSTEMD_PAGER= "$CT_NAME" "$@"
                ;;
        esac
}

# ct_stdout FILE: what the runtime shows as the container's stdout stream, into FILE.
ct_stdout() {
        case $CT_ENGINE in
        nspawn) cp "$CT_OUT" "$1" ;;
        *) timeout "$JA_CMD_TIMEOUT" "$(engine_cli "$CT_ENGINE")" logs "$CT_NAME" >"$1" 2>/dev/null ;;
        esac
}

# ct_stderr FILE: the runtime's stderr stream of the container (`docker logs C 2>&1 >/dev/null`).
# Podman's client may add its own warnings to it; the cases read only JSON objects from it.
ct_stderr() {
        case $CT_ENGINE in
        nspawn) cp "$CT_ERR" "$1" ;;
        *) timeout "$JA_CMD_TIMEOUT" "$(engine_cli "$CT_ENGINE")" logs "$CT_NAME" 2>"$1" >/dev/null ;;
        esac
}

ct_running() {
        case $CT_ENGINE in
        nspawn) [[ -n ${CT_NSPAWN_PID:-} ]] && pid_alive "$CT_NSPAWN_PID" ;;
        *)
                [[ $(timeout "$JA_CMD_TIMEOUT" "$(engine_cli "$CT_ENGINE")" inspect -f '{{.State.Running}}' \
                        "$CT_NAME" 2>/dev/null) == true ]]
                ;;
        esac
}

# ct_stop TIMEOUT_S: what `docker stop` / `podman stop` / SIGTERM to nspawn do (the image's
# STOPSIGNAL SIGRTMIN+3, then SIGKILL after TIMEOUT_S). Sets CT_EXIT_STATUS.
ct_stop() {
        local timeout=$1
        case $CT_ENGINE in
        nspawn) nspawn_stop "$timeout" ;;
        *)
                local cli
                cli=$(engine_cli "$CT_ENGINE")
                timeout $((timeout + 30)) "$cli" stop -t "$timeout" "$CT_NAME" >/dev/null ||
                        log "WARNING: $cli stop $CT_NAME failed"
                CT_EXIT_STATUS=$(timeout "$JA_CMD_TIMEOUT" "$cli" inspect -f '{{.State.ExitCode}}' "$CT_NAME" 2>/dev/null) ||
                        CT_EXIT_STATUS=unknown
                ;;
        esac
}

# ct_persistent_journal FILE: after the stop, `journalctl -o json` of the journal the container
# wrote to its /var/log/journal, read with the image's own journalctl (a newer systemd's journal
# files may use features an older host journalctl lacks).
ct_persistent_journal() {
        case $CT_ENGINE in
        nspawn)
                timeout "$JA_CMD_TIMEOUT" chroot "$CT_ROOT" journalctl -D /var/log/journal -o json --no-pager >"$1"
                ;;
        *)
                local cli flags
                cli=$(engine_cli "$CT_ENGINE")
                flags=(--network none)
                [[ $CT_ENGINE == podman ]] && mapfile -t flags < <(podman_run_flags)
                # SYSTEMD_COLORS=0: journalctl running as PID 1 colours even JSON unless TERM is
                # dumb, and Podman sets TERM=xterm.
                timeout "$JA_CMD_TIMEOUT" "$cli" run --rm "${flags[@]}" -e SYSTEMD_COLORS=0 \
                        --entrypoint journalctl -v "$CT_VOLUME:/j:ro" "$CT_IMAGE" -D /j -o json --no-pager >"$1"
                ;;
        esac
}

# ct_remove: the container and its volume (nspawn: stop it if running; the cell's root file
# system stays for the next variant and goes with nspawn_remove_root).
ct_remove() {
        [[ -n ${CT_ENGINE:-} ]] || return 0
        if [[ ${JA_KEEP:-0} == 1 ]]; then
                log "JA_KEEP=1: leaving container $CT_NAME"
                CT_ENGINE=
                return 0
        fi
        case $CT_ENGINE in
        nspawn)
                if ct_running; then nspawn_stop 10; fi
                ;;
        *)
                local cli
                cli=$(engine_cli "$CT_ENGINE")
                if [[ -n ${CT_WRAP_PID:-} ]] && pid_alive "$CT_WRAP_PID"; then
                        kill -TERM "$CT_WRAP_PID" 2>/dev/null || true
                        wait "$CT_WRAP_PID" 2>/dev/null || true
                fi
                # No clean stop needed here (case d tests that): Podman's rm -f would otherwise
                # wait up to 10 s for the stop signal to work, Docker's kills at once.
                local now=()
                [[ $CT_ENGINE == podman ]] && now=(--time 0)
                timeout "$JA_CMD_TIMEOUT" "$cli" rm -f "${now[@]}" "$CT_NAME" >/dev/null 2>&1 || true
                timeout "$JA_CMD_TIMEOUT" "$cli" volume rm -f "$CT_VOLUME" >/dev/null 2>&1 || true
                ;;
        esac
        CT_ENGINE=
}

# Why a case failed: the runtime's stderr stream and our units' state and journal.
ct_dump_debug() {
        {
                echo "----- debug: $CT_ENGINE $CT_NAME, stderr stream (last 30 lines):"
                ct_stderr "$CT_DIR/stderr.debug" 2>/dev/null || true
                tail -n 30 "$CT_DIR/stderr.debug" 2>/dev/null || true
                if ct_running; then
                        echo "----- debug: systemctl status (inside):"
                        ct_exec systemctl status --no-pager --lines=0 journalagent-broker.socket \
                                journalagent-broker.service journalagent.service 2>&1 || true
                        echo "----- debug: journal of our units (inside), last 40 lines:"
                        ct_exec journalctl -b --no-pager -n 40 -u journalagent.service \
                                -u journalagent-broker.service -u journalagent-broker.socket 2>&1 || true
                fi
                echo "----- end of debug"
        } >&2
}

# ---- systemd-nspawn ---------------------------------------------------------------------------
#
# The rootfs is the project image built by Docker (or Podman) for the same suite, exported once per
# cell: the same binaries, compiled against that suite's glibc and libsystemd, as in the other
# engines. Every variant boots that same directory again (nspawn -D, no overlay), as a restarted
# container would. nspawn --console=pipe hands its own fds 1 and 2 to the payload, so each is a
# pipe with a `cat` copying it into a file, as a container manager's log reader would.

NSPAWN_IMAGE_ENGINE=${NSPAWN_IMAGE_ENGINE:-}

nspawn_export_rootfs() {
        local suite=$1 cli ref cid
        cli=$(engine_cli "$NSPAWN_IMAGE_ENGINE")
        ref=$(image_ref "$NSPAWN_IMAGE_ENGINE" "$IMAGE_REPO:$suite")
        mkdir -p "$CT_ROOT"
        printf 'nspawn dir %s\n' "$CT_ROOT" >>"$E2E_CREATED"
        cid=$(timeout "$JA_CMD_TIMEOUT" "$cli" create "$ref") || return 1
        timeout 300 "$cli" export "$cid" | tar -x --numeric-owner -C "$CT_ROOT" || {
                timeout "$JA_CMD_TIMEOUT" "$cli" rm -f "$cid" >/dev/null 2>&1
                return 1
        }
        timeout "$JA_CMD_TIMEOUT" "$cli" rm -f "$cid" >/dev/null
        # The engine's placeholder files; nspawn sets up its own.
        rm -f "$CT_ROOT/.dockerenv"
}

# nspawn_start SUITE CELL [NSPAWN-ARGS...]
nspawn_start() {
        local suite=$1 cell=$2
        shift 2
        CT_ROOT=$E2E_RUN_DIR/$cell/root
        CT_OUT=$CT_DIR/stdout
        CT_ERR=$CT_DIR/stderr
        CT_NSPAWN_ARGS=("$@")
        if [[ ! -d $CT_ROOT/usr ]]; then
                nspawn_export_rootfs "$suite" || { log "exporting $IMAGE_REPO:$suite failed"; return 1; }
        fi
        # shellcheck disable=SC2034 # read by run.sh
        CT_T0=$(now_ms)
        nspawn_launch truncate "$@"
}

# nspawn_launch truncate|append [NSPAWN-ARGS...]: boot CT_ROOT; with CT_WRAP, return once the
# wrapper listens (nspawn_wait_started finishes the start), else once PID 1 is systemd.
nspawn_launch() {
        local mode=$1
        shift
        [[ $mode == append ]] || { : >"$CT_OUT"; : >"$CT_ERR"; }
        rm -f "$CT_DIR/outcat.pid" "$CT_DIR/errcat.pid"
        (
                exec > >(exec cat >>"$CT_OUT")
                echo "$!" >"$CT_DIR/outcat.pid"
                exec 2> >(exec cat >>"$CT_ERR")
                echo "$!" >"$CT_DIR/errcat.pid"
                # --kill-signal: SIGTERM to nspawn sends SIGRTMIN+3 to PID 1, as `docker stop` does.
                exec "${CT_WRAP[@]}" systemd-nspawn -D "$CT_ROOT" --machine="$CT_NAME" --console=pipe \
                        --register=no --keep-unit --kill-signal=SIGRTMIN+3 "$@" \
                        /usr/bin/systemd-bootstrap </dev/null
        ) &
        CT_NSPAWN_PID=$!
        log "${CT_WRAP[*]}${CT_WRAP:+ }systemd-nspawn -D $CT_ROOT --console=pipe --register=no --keep-unit --kill-signal=SIGRTMIN+3 ${*:+$* }/usr/bin/systemd-bootstrap: pid $CT_NSPAWN_PID"
        wait_until 10 "the stdout/stderr readers of $CT_NAME" nspawn_have_readers || return 1
        CT_OUTCAT_PID=$(<"$CT_DIR/outcat.pid")
        CT_ERRCAT_PID=$(<"$CT_DIR/errcat.pid")
        CT_PID1=
        ((${#CT_WRAP[@]} > 0)) && return 0
        nspawn_wait_started
}

nspawn_wait_started() {
        wait_until 30 "PID 1 of $CT_NAME to be systemd" nspawn_find_pid1
}

nspawn_have_readers() {
        pid_alive "$CT_NSPAWN_PID" && [[ -s $CT_DIR/outcat.pid && -s $CT_DIR/errcat.pid ]]
}

# Has PID 1 become systemd yet (nspawn_systemd_child)? A dead nspawn just fails the wait.
nspawn_find_pid1() {
        pid_alive "$CT_NSPAWN_PID" || return 1
        nspawn_systemd_child
}

nspawn_stop() {
        local timeout=$1 rc=0
        CT_EXIT_STATUS=
        [[ -n ${CT_NSPAWN_PID:-} ]] || return 0
        if pid_alive "$CT_NSPAWN_PID"; then
                kill -TERM "$CT_NSPAWN_PID" 2>/dev/null || true
                if ! wait_until "$timeout" "$CT_NAME to power off" nspawn_gone; then
                        CT_EXIT_STATUS=killed
                        [[ -n ${CT_PID1:-} ]] && kill -KILL "$CT_PID1" 2>/dev/null
                        kill -KILL "$CT_NSPAWN_PID" 2>/dev/null || true
                        wait_until 10 "$CT_NAME to die after SIGKILL" nspawn_gone ||
                                log "WARNING: systemd-nspawn $CT_NSPAWN_PID survived SIGKILL"
                fi
        fi
        wait "$CT_NSPAWN_PID" 2>/dev/null || rc=$?
        [[ -n $CT_EXIT_STATUS ]] || CT_EXIT_STATUS=$rc
        wait_until 10 "the stdout/stderr readers of $CT_NAME to finish" nspawn_readers_done || true
        CT_NSPAWN_PID=
}

nspawn_gone() {
        ! pid_alive "$CT_NSPAWN_PID"
}

nspawn_readers_done() {
        ! pid_alive "${CT_OUTCAT_PID:-0}" && ! pid_alive "${CT_ERRCAT_PID:-0}"
}

# nspawn_fresh_state ROOT: forget what earlier variants left in the cell's root file system (the
# persistent journal and the forwarder's cursor), so the next boot starts like a new container.
nspawn_fresh_state() {
        rm -rf "${1:?}"/var/log/journal/* "${1:?}"/var/lib/journalagent
}

# nspawn_remove_root CELL: the cell's exported root file system, after its last variant.
nspawn_remove_root() {
        [[ ${JA_KEEP:-0} == 1 ]] && return 0
        remove_tree "$E2E_RUN_DIR/$1/root"
}

# ---- cleanup -----------------------------------------------------------------------------------

# Remove every container and volume this run created (images stay: they are the cache that makes
# the next run fast), and the run directory unless JA_KEEP=1.
e2e_cleanup() {
        local rc=$? engine kind name
        set +e
        ct_remove
        if [[ ${JA_KEEP:-0} != 1 && -n ${E2E_CREATED:-} && -f $E2E_CREATED ]]; then
                while read -r engine kind name; do
                        case $kind in
                        container) timeout 60 "$(engine_cli "$engine")" rm -f "$name" >/dev/null 2>&1 ;;
                        volume) timeout 60 "$(engine_cli "$engine")" volume rm -f "$name" >/dev/null 2>&1 ;;
                        dir) remove_tree "$name" ;;
                        esac
                done < <(tac "$E2E_CREATED") # containers before their volumes
        fi
        if [[ ${JA_KEEP:-0} == 1 ]]; then
                log "JA_KEEP=1: leaving $E2E_RUN_DIR"
        elif [[ -n ${E2E_RUN_DIR:-} && $E2E_RUN_DIR == "$JA_WORKDIR"/journalagent-e2e.* ]]; then
                remove_tree "$E2E_RUN_DIR"
        fi
        return "$rc"
}
