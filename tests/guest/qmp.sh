#!/bin/bash
# A tiny QMP client (socat + jq) for the test guests; written for QEMU 7.2.
#
# usage: qmp.sh SOCK VERB [ARGS...]
#   stop | cont | quit          pause, resume, end QEMU
#   status                      print the run state ("running", "paused", ...)
#   hmp 'CMDLINE'               human-monitor-command; prints its text
#   registers                   = hmp 'info registers'
#   cr3                         CR3 of vCPU 0 as 0x%016x
#   gva2gpa ADDR                guest-physical address of a guest-virtual one
#                               (walks the current vCPU's page tables)
#   x FMT ADDR | xp FMT ADDR    hmp x / xp, e.g. xp /8xb 0x1000
#   dump PATH [TIMEOUT_S]       dump-guest-memory as ELF (paging=false) to
#                               PATH, waiting until query-dump says completed
#   raw CMD [ARGS_JSON]         any QMP command; prints its "return" as JSON
#   CMD [ARGS_JSON]             same as raw, for any other word
# Exit status 1 when QEMU answers with an error or not at all (timeout
# QMP_TIMEOUT seconds per answer, default 30).
set -euo pipefail

[ $# -ge 2 ] || { sed -n '2,18p' "$0" >&2; exit 2; }
sock=$1 verb=$2
shift 2
TO=${QMP_TIMEOUT:-30}
[ -S "$sock" ] || { echo "qmp.sh: no QMP socket at $sock" >&2; exit 1; }

coproc QMP { exec socat -t 0.2 - "UNIX-CONNECT:$sock" 2>/dev/null; }
# shellcheck disable=SC2153 # QMP_PID is set by coproc
qmp_pid=$QMP_PID
# Plain descriptors: bash hides coproc ones from subshells ($(...), pipes).
exec 5<&"${QMP[0]}" 6>&"${QMP[1]}"
in=6 out=5
# QEMU serves one QMP client at a time: never leave socat holding the line.
trap 'kill "$qmp_pid" 2>/dev/null || true' EXIT

# qmp_read_reply ID: the next line carrying our id; events are skipped.
qmp_read_reply() {
	local want=$1 line
	while IFS= read -r -t "$TO" line <&"$out"; do
		line=${line%$'\r'}
		case $line in
		*'"event"'*) continue ;;
		esac
		if [ "$(jq -r '.id // empty' <<<"$line")" = "$want" ]; then
			echo "$line"
			return 0
		fi
	done
	echo "qmp.sh: no answer from $sock within ${TO}s" >&2
	return 1
}

# qmp_exec CMD [ARGS_JSON]: run one command; print the whole reply line.
qmp_exec() {
	local cmd=$1 args=${2:-'{}'} req id
	# Often called in a subshell, so no counter: a random id per request.
	id=vmet-$RANDOM$RANDOM
	req=$(jq -nc --arg c "$cmd" --argjson a "$args" --arg id "$id" \
		'{execute: $c, arguments: $a, id: $id}')
	printf '%s\n' "$req" >&"$in"
	qmp_read_reply "$id"
}

# qmp_return CMD [ARGS_JSON]: print .return (compact JSON) or fail.
qmp_return() {
	local r
	r=$(qmp_exec "$@") || return 1
	if jq -e 'has("error")' <<<"$r" >/dev/null; then
		echo "qmp.sh: $1: $(jq -r '.error.class + ": " + .error.desc' <<<"$r")" >&2
		return 1
	fi
	jq -c '.return' <<<"$r"
}

hmp() {
	local r
	r=$(qmp_return human-monitor-command "$(jq -nc --arg l "$1" '{"command-line": $l}')") || return 1
	jq -r '.' <<<"$r"
}

# Handshake: the greeting, then capabilities negotiation.
IFS= read -r -t "$TO" greeting <&"$out" || { echo "qmp.sh: no QMP greeting on $sock (busy or dead?)" >&2; exit 1; }
case $greeting in *'"QMP"'*) ;; *) echo "qmp.sh: not a QMP greeting: $greeting" >&2; exit 1 ;; esac
qmp_return qmp_capabilities >/dev/null

case $verb in
stop|cont)
	qmp_return "$verb" >/dev/null ;;
quit)
	# QEMU may close the socket before or after answering.
	qmp_exec quit >/dev/null 2>&1 || true ;;
status)
	qmp_return query-status | jq -r '.status' ;;
hmp)
	[ $# -eq 1 ] || { echo "qmp.sh: hmp needs one command line" >&2; exit 2; }
	hmp "$1" ;;
registers)
	hmp 'info registers' ;;
cr3)
	hmp 'info registers' | awk '
		{ for (i = 1; i <= NF; i++) if ($i ~ /^CR3=/) { v = substr($i, 5); printf "0x%s\n", v; exit } }
		END { if (v == "") exit 1 }' ;;
gva2gpa)
	[ $# -eq 1 ] || { echo "qmp.sh: gva2gpa needs ADDR" >&2; exit 2; }
	r=$(hmp "gva2gpa $1")
	case $r in
	gpa:*) echo "${r#gpa: }" | tr -d '\r' ;;
	*) echo "qmp.sh: gva2gpa $1: $r" >&2; exit 1 ;;
	esac ;;
x|xp)
	[ $# -eq 2 ] || { echo "qmp.sh: $verb needs FMT ADDR" >&2; exit 2; }
	hmp "$verb $1 $2" ;;
dump)
	[ $# -ge 1 ] || { echo "qmp.sh: dump needs PATH" >&2; exit 2; }
	path=$1 dto=${2:-300}
	case $path in /*) ;; *) path=$PWD/$path ;; esac
	qmp_return dump-guest-memory "$(jq -nc --arg p "file:$path" \
		'{paging: false, protocol: $p, detach: true}')" >/dev/null
	t0=$SECONDS
	while :; do
		st=$(qmp_return query-dump)
		case $(jq -r '.status' <<<"$st") in
		completed) break ;;
		failed) echo "qmp.sh: dump to $path failed" >&2; exit 1 ;;
		esac
		if [ $((SECONDS - t0)) -ge "$dto" ]; then
			echo "qmp.sh: dump to $path not done after ${dto}s: $st" >&2
			exit 1
		fi
		sleep 0.1
	done
	echo "$path" ;;
raw)
	[ $# -ge 1 ] || { echo "qmp.sh: raw needs CMD" >&2; exit 2; }
	qmp_return "$@" ;;
*)
	qmp_return "$verb" "$@" ;;
esac
