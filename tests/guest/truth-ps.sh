#!/bin/bash
# Normalize the guest's task list (truth.txt) for comparison with vmet ps.
#
# usage: truth-ps.sh [--threads] [--raw-comm] TRUTH
#   default     one line per thread-group leader, sorted by PID:
#                 PID PPID UID EUID GID EGID NTHREADS COMM|CMDLINE
#   --threads   one line per thread (leaders included), sorted by TID:
#                 TID TGID COMM
#   --raw-comm  COMM exactly as /proc printed it (see below)
#
# UID/GID are the real ids, EUID/EGID the effective ones.  CMDLINE is
# /proc/PID/cmdline with its final NUL dropped and every other NUL made a
# space; it is empty for kernel threads and zombies (no mm).
#
# COMM is the comm stored in the task (task_struct.comm, at most 15 bytes),
# derived from what /proc printed by two exact rules:
#   - a workqueue worker (kworker/N:M[H], kworker/uN:M) gets "+desc" or
#     "-desc" appended by /proc (wq_worker_comm): that suffix is cut;
#   - any other kernel thread whose name was cut to fit shows its full name
#     in /proc (kthread full_name, Linux >= 5.17): it is cut back to 15 bytes.
# If TRUTH holds several blocks, the last one counts.
set -euo pipefail

mode=ps raw=0
while [ $# -gt 0 ]; do
	case $1 in
	--threads) mode=threads ;;
	--raw-comm) raw=1 ;;
	-h|--help) sed -n '2,22p' "$0"; exit 0 ;;
	-*) echo "truth-ps.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
	shift
done
[ $# -eq 1 ] || { echo "usage: truth-ps.sh [--threads] [--raw-comm] TRUTH" >&2; exit 2; }
[ -r "$1" ] || { echo "truth-ps.sh: cannot read $1" >&2; exit 1; }

LC_ALL=C awk -F'\t' -v mode="$mode" -v raw="$raw" '
function stored_comm(c, kthread) {
	if (raw || !kthread)
		return c
	if (match(c, /^kworker\/u?[0-9]+:[0-9]+H?[-+]/))
		return substr(c, 1, RLENGTH - 1)
	return substr(c, 1, 15)
}
/^===VMET-TRUTH-BEGIN===/ { n = 0; delete tid; delete line; delete nthr; next }
$1 == "task" {
	cmd = $12
	for (i = 13; i <= NF; i++) cmd = cmd "\t" $i	# a tab inside an argument
	comm = stored_comm($11, $10 == 1)
	n++
	tid[n] = $2
	nthr[$3]++
	if (mode == "threads")
		line[n] = $2 " " $3 " " comm
	else if ($2 == $3)
		line[n] = $2 " " $4 " " $5 " " $6 " " $7 " " $8 " @NTHR@ " comm "|" cmd
	else
		line[n] = ""
	tg[n] = $3
}
END {
	if (n == 0) { print "truth-ps.sh: no task lines in the truth" > "/dev/stderr"; exit 1 }
	for (i = 1; i <= n; i++) {
		if (line[i] == "") continue
		l = line[i]
		sub(/@NTHR@/, nthr[tg[i]], l)
		print l
	}
}' "$1" | sort -n -k1,1 -s
