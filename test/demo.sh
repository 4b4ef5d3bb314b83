#!/usr/bin/env bash
# make demo: boot Debian 12 (systemd 252) under systemd-nspawn with /usr/bin/systemd-bootstrap as
# PID 1 and a pipe as the container's stdout, and show what arrives there: every journal entry of
# the boot, from the first, one `journalctl -o json` line each. Then log a line from a "service"
# inside, show it arrive, and power the container off. Needs root (systemd-nspawn).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=test/integration/lib.sh
. test/integration/lib.sh

check_prerequisites
JA_RUN_DIR=$(mktemp -d "$JA_WORKDIR/journalagent-demo.XXXXXX")
JA_RESULTS=$JA_RUN_DIR/results
cleanup() {
        ct_stop || true
        remove_tree "$JA_RUN_DIR"
}
trap cleanup EXIT

ROOTFS=$(ensure_rootfs bookworm)
stage_install
ct_prepare demo "$ROOTFS"
ct_boot /usr/bin/systemd-bootstrap
ct_wait_running 90
sleep 1

echo
echo "=== The container's stdout (a pipe, as docker/podman give it), first 3 lines as they arrived:"
head -n 3 "$CT_OUT" | cut -c 1-300
echo "=== ... all $(wc -l <"$CT_OUT") lines, as IDENTIFIER: MESSAGE:"
jq -r '"\(.SYSLOG_IDENTIFIER // ._COMM // "-"): \(.MESSAGE)"' "$CT_OUT"

echo
echo "=== A service logs a line inside the container (systemd-cat -t demo-app ...):"
msg="hello from inside the container at $(date +%T)"
in_ct systemd-cat -t demo-app echo "$msg"
wait_until 5 "the line to reach stdout" out_has_message "$msg" || true
jq -r 'select(.SYSLOG_IDENTIFIER == "demo-app") | "stdout: \(.MESSAGE)"' "$CT_OUT"
echo
echo "=== journalctl -b inside counts $(in_ct journalctl -b -o json | wc -l) entries; stdout has $(wc -l <"$CT_OUT")."
echo "=== systemctl status journalagent-broker: $(in_ct systemctl show -p StatusText --value journalagent-broker)"
