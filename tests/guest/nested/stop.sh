#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# stop.sh NAME: stop the nested testbed NAME and delete its RAM file; the
# state dir (logs, truths, captures) is kept.
#
# L0's QEMU has been seen to hang in 'quit' in this set-up (stuck pausing
# its vCPU while L2 runs); 'stop' has not.  So pause L0 first, then let the
# flat testbed's stop.sh quit it and, if it hangs, end it by its PID.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

case ${1:-} in
-h | --help) sed -n '4,9p' "$0"; exit 0 ;;
esac
[ $# -eq 1 ] || { echo "usage: stop.sh NAME" >&2; exit 2; }
name=$1
tb_name_ok "$name"
S=$(tb_state "$name")

if tb_pid "$S" >/dev/null; then
	QMP_TIMEOUT=10 timeout 15 "$FLAT_DIR/qmp.sh" "$S/qmp.sock" stop >/dev/null 2>&1 ||
		tb_log "$name: QMP stop did not answer; going on"
fi
"$FLAT_DIR/stop.sh" "$name"
rm -f "$S/truth-l1.sock"
