#!/bin/bash
# Stop a test guest: QMP quit, then SIGTERM/SIGKILL by PID if QEMU hangs
# (quit has been seen to hang while vCPUs spin in nested set-ups).
#
# usage: stop.sh [--keep-ram] NAME
#   --keep-ram  leave $VMET_RAM_DIR/NAME.ram (default: delete it, it is
#               guest-sized and lives in RAM)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

keep_ram=0
while [ $# -gt 0 ]; do
	case $1 in
	--keep-ram) keep_ram=1 ;;
	-h|--help) sed -n '2,8p' "$0"; exit 0 ;;
	-*) tb_die "unknown option $1" ;;
	*) break ;;
	esac
	shift
done
[ $# -eq 1 ] || tb_die "usage: stop.sh [--keep-ram] NAME"
name=$1
tb_name_ok "$name"
S=$(tb_state "$name")

gone() { ! kill -0 "$1" 2>/dev/null; }
wait_gone() { # PID SECONDS*10
	local i=0
	while [ $i -lt "$2" ]; do
		gone "$1" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

if pid=$(tb_pid "$S"); then
	QMP_TIMEOUT=5 timeout 10 "$GUEST_DIR/qmp.sh" "$S/qmp.sock" quit >/dev/null 2>&1 || true
	if ! wait_gone "$pid" 50; then
		tb_log "QEMU $pid ignored quit; SIGTERM"
		kill -TERM "$pid" 2>/dev/null || true
		if ! wait_gone "$pid" 50; then
			tb_log "QEMU $pid ignored SIGTERM; SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
			wait_gone "$pid" 50 || tb_die "QEMU $pid will not die"
		fi
	fi
	tb_log "guest $name stopped"
else
	tb_log "guest $name is not running"
fi
rm -f "$S/qemu.pid" "$S/qmp.sock" "$S/truth.sock"
if [ "$keep_ram" = 0 ] && [ -s "$S/ram.path" ]; then
	rm -f "$(cat "$S/ram.path")"
fi
