#!/bin/bash
# Compare two normalized listings (truth-ps.sh / truth-netstat.sh format,
# one from the guest, one from vmet) and show a readable diff.
#
# usage: truth-check.sh [--kworker-churn] [--quiet] A B
# Exit 0 when they agree, 1 when they differ, 2 on bad usage.
#
# Tolerances (each is an equal spelling of the same kernel fact, not a
# licence to be wrong), applied to the COMM of ps and thread lines only:
#   1. workqueue workers: "kworker/0:1-events" and "kworker/0:1" are the same
#      task.  /proc appends "+desc"/"-desc" (the work it runs or last ran)
#      to a worker's name; the task's stored comm has no such suffix.  Any
#      suffix after kworker/N:M[H] or kworker/uN:M is ignored.
#   2. names longer than 15 bytes: only the first 15 bytes are compared.
#      task_struct.comm holds 15 bytes; /proc shows a kernel thread's full
#      name (kthread full_name), a reader of the task struct the cut one.
# Opt-in:
#   --kworker-churn  a kworker present on one side only is not a difference.
#      The kernel starts and retires workers on its own, so a listing taken
#      from a running guest a moment after the truth may gain or lose one.
#      Off by default: capture.sh takes truth and memory at one moment.
# Netstat lines are compared exactly.
set -euo pipefail

churn=0 quiet=0
while [ $# -gt 0 ]; do
	case $1 in
	--kworker-churn) churn=1 ;;
	--quiet|-q) quiet=1 ;;
	-h|--help) sed -n '2,24p' "$0"; exit 0 ;;
	-*) echo "truth-check.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
	shift
done
[ $# -eq 2 ] || { echo "usage: truth-check.sh [--kworker-churn] [--quiet] A B" >&2; exit 2; }
for f in "$1" "$2"; do
	[ -r "$f" ] || { echo "truth-check.sh: cannot read $f" >&2; exit 2; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

norm() {
	LC_ALL=C awk -v churn="$churn" '
	function fixcomm(c) {
		if (match(c, /^kworker\/u?[0-9]+:[0-9]+H?[-+]/))
			c = substr(c, 1, RLENGTH - 1)
		return substr(c, 1, 15)
	}
	/^(tcp6?|udp6?|unix) / { print; next }	# netstat: exact
	{
		bar = index($0, "|")
		if (bar) {
			# PID PPID UID EUID GID EGID NTHREADS COMM|CMDLINE
			head = substr($0, 1, bar - 1); tail = substr($0, bar)
			n = split(head, f, " ")
			pre = ""
			for (i = 1; i <= 7 && i <= n; i++) pre = pre f[i] " "
			# COMM may hold spaces: it is whatever follows the 7th field
			comm = head
			for (i = 1; i <= 7; i++) sub(/^[^ ]* /, "", comm)
			if (churn && comm ~ /^kworker\// && tail == "|") next
			print pre fixcomm(comm) tail
			next
		}
		if (match($0, /^[0-9]+ [0-9]+ /)) {
			# TID TGID COMM
			comm = substr($0, RLENGTH + 1)
			if (churn && comm ~ /^kworker\//) next
			print substr($0, 1, RLENGTH) fixcomm(comm)
			next
		}
		print
	}' "$1"
}

norm "$1" >"$tmp/a"
norm "$2" >"$tmp/b"
if cmp -s "$tmp/a" "$tmp/b"; then
	[ "$quiet" = 1 ] || echo "truth-check: $1 and $2 agree ($(wc -l <"$tmp/a") lines)"
	exit 0
fi
if [ "$quiet" = 0 ]; then
	echo "truth-check: $1 and $2 differ (- only in A, + only in B; tolerances applied):"
	# One line of context; very long lines (the >4 KiB argv) shortened.
	diff -U1 "$tmp/a" "$tmp/b" | tail -n +3 |
		awk '/^@@/ { print "  ..."; next }
		     length($0) > 200 { $0 = substr($0, 1, 200) "...(" length($0) " bytes)" }
		     { print }' || true
	only_a=$(comm -23 <(sort "$tmp/a") <(sort "$tmp/b") | wc -l)
	only_b=$(comm -13 <(sort "$tmp/a") <(sort "$tmp/b") | wc -l)
	echo "truth-check: $only_a line(s) only in A, $only_b only in B"
fi
exit 1
