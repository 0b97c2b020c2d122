#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# stop.sh NAME: stop the Xen bed NAME (its L0 QEMU, by PID) and remove its
# RAM file; the state directory stays.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
[ $# -eq 1 ] || { echo "usage: stop.sh NAME" >&2; exit 2; }
S=$(tb_state "$1")
if pid=$(tb_pid "$S"); then
	kill "$pid" 2>/dev/null || true
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.5
	done
	kill -9 "$pid" 2>/dev/null || true
fi
rm -f "$S/qemu.pid" "$(cat "$S/ram.path" 2>/dev/null || echo /nonexistent)"
