#!/bin/bash
# vmet mount and vmet shell against the real test guest of 40-linux-ps.sh.
#
# 1. `vmet shell DUMP -- ps -eo pid,ppid,uid,comm,args` (Debian's unmodified
#    procps, the shadow /proc at /proc in a private mount namespace) must
#    list the guest's processes: PID, PPID, effective UID, comm and command
#    line equal truth-ps.txt's.  ps shows a kernel thread's empty command
#    line as [comm] and a zombie's with " <defunct>": both are mapped back.
#    ps -eL lists truth-threads.txt's threads; ps aux and ps -ef run through.
# 2. `netstat -tunap` and `netstat -tunape` (net-tools) through the same
#    namespace must list truth-netstat.txt's sockets: protocol, local and
#    remote address:port, state, owning PID, and (with -e) the inode that
#    the processes' fd links carry.
# 3. `vmet mount DUMP DIR`: the files have the kernel's shapes (52 stat
#    fields, fd links equal to /net/tcp's inodes); every process's exe, cwd
#    and root links and environ equal the guest's own readlink and environ
#    (truth.txt's exe/cwd/root/environ lines: a cwd across a mount with a
#    space in it, a deleted exe); SIGTERM unmounts with exit 0.
# 4. `vmet mount --refresh 1` on the live RAM file reads the guest again.
# 5. SIGTERM to `vmet shell` is passed on to COMMAND.
# 6. Debian's chkrootkit (its /proc checks: lkm = chkproc + chkdirs, ps,
#    sniffer) runs to completion in `vmet shell` and reports only what
#    vmet-mount(1) says it reports.
# Needs root, /dev/fuse, procps and net-tools, else exit 77 (chkrootkit:
# its part is skipped, saying so, when it is not installed).
set -u
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VMET_LINUX_GUEST_LIB=1
# shellcheck source=40-linux-ps.sh
. "$E2E_DIR/40-linux-ps.sh"

[ "$(id -u)" = 0 ] || skip "needs root (mount namespace, FUSE)"
[ -c /dev/fuse ] || skip "no /dev/fuse"
for tool in ps netstat unshare; do
	command -v "$tool" >/dev/null || skip "$tool not installed"
done

LINUX_TB_PROFILE=btf linux_testbed mount
[ "$(wc -l <"$TRUTH_PS")" -gt 40 ] || { echo "FAIL: guest truth too short"; exit 1; }

# --- 1. ps --------------------------------------------------------------
expect_exit 0 "$VMET" shell --profile "$PROF" "$DUMP" -- ps -eo pid,ppid,uid,comm,args
cp "$OUT" "$TMP/ps.out"
# PID PPID EUID COMM|CMDLINE, from both sides.
sed -E 's/^([0-9]+) ([0-9]+) [0-9]+ ([0-9]+) [0-9]+ [0-9]+ [0-9]+ /\1 \2 \3 /' "$TRUTH_PS" |
	LC_ALL=C sort -n >"$TMP/truth-ps.txt"
tail -n +2 "$TMP/ps.out" | while read -r pid ppid uid comm args; do
	args=${args% <defunct>}
	[ "$args" = "[$comm]" ] && args=
	printf '%s %s %s %s|%s\n' "$pid" "$ppid" "$uid" "$comm" "$args"
done | LC_ALL=C sort -n >"$TMP/mine-ps.txt"
compare "$TMP/truth-ps.txt" "$TMP/mine-ps.txt" "procps ps -eo pid,ppid,uid,comm,args in vmet shell"

# Threads (task/TID/): ps -eL against truth-threads.txt (TID PID COMM).
expect_exit 0 "$VMET" shell --profile "$PROF" "$DUMP" -- ps -eLo lwp=,pid=,comm=
awk '{ print $1, $2, $3 }' "$OUT" | LC_ALL=C sort -n >"$TMP/mine-thr.txt"
LC_ALL=C sort -n "$TRUTH_THREADS" >"$TMP/truth-thr.txt"
compare "$TMP/truth-thr.txt" "$TMP/mine-thr.txt" "procps ps -eLo lwp,pid,comm in vmet shell"
# The BSD and SysV forms need the system files (boot time, CPUs): they must run through.
expect_exit 0 "$VMET" shell --profile "$PROF" "$DUMP" -- sh -c 'ps aux >/dev/null && ps -ef >/dev/null'

# --- 2. netstat ----------------------------------------------------------
# netstat's lines to truth-netstat.txt's form: PROTO LOCAL REMOTE STATE [INODE] PID.
# The PID/Program column is the first field after the addresses that is
# "PID/..." or "-"; what lies between is [state] (and with -e: user inode).
netstat_norm() {
	awk -v with_inode="$1" '
	function ep(a,   i, addr, port) {
		i = match(a, /:[^:]*$/); addr = substr(a, 1, i - 1); port = substr(a, i + 1)
		if (port == "*") port = 0
		if (addr ~ /:/) addr = "[" addr "]"
		return addr ":" port
	}
	$1 ~ /^(tcp|udp)6?$/ {
		for (p = 6; p <= NF && $p !~ /^([0-9]+\/|-$)/; p++) ;
		n = p - 6; state = "-"
		if ((with_inode && n == 3) || (!with_inode && n == 1)) state = $6
		pid = $p; sub(/\/.*/, "", pid)
		printf "%s %s %s %s", $1, ep($4), ep($5), state
		if (with_inode) printf " %s", $(p - 1)
		printf " %s\n", pid
	}' | LC_ALL=C sort
}
expect_exit 0 "$VMET" shell --profile "$PROF" "$DUMP" -- netstat -tunap
netstat_norm 0 <"$OUT" >"$TMP/mine-ns.txt"
awk '{ print $1, $2, $3, $4, $6 }' "$TRUTH_NETSTAT" | LC_ALL=C sort >"$TMP/truth-ns.txt"
compare "$TMP/truth-ns.txt" "$TMP/mine-ns.txt" "net-tools netstat -tunap in vmet shell"
# The program name is argv[0]'s base name: /PID/cmdline keeps the arguments
# apart.  The listener's PID is the guest's own (boot order may change it).
LPID=$(awk '$8 ~ /^vmet-listen\|/ { print $1; exit }' "$TRUTH_PS")
if [ -z "$LPID" ]; then
	echo "FAIL: no vmet-listen process in the guest's truth"; FAILS=$((FAILS + 1))
elif ! grep -q " $LPID/vmet-helper *$" "$OUT"; then
	echo "FAIL: netstat's program name for PID $LPID (vmet-listen):"; grep " $LPID/" "$OUT"; FAILS=$((FAILS + 1))
else
	echo "netstat's program name for vmet-listen (PID $LPID): vmet-helper"
fi
expect_exit 0 "$VMET" shell --profile "$PROF" "$DUMP" -- netstat -tunape
netstat_norm 1 <"$OUT" >"$TMP/mine-nse.txt"
LC_ALL=C sort "$TRUTH_NETSTAT" >"$TMP/truth-nse.txt"
compare "$TMP/truth-nse.txt" "$TMP/mine-nse.txt" "net-tools netstat -tunape (inodes) in vmet shell"

# --- 3. vmet mount on a directory ----------------------------------------
MNT=$TMP/mnt
mkdir -p "$MNT"
"$VMET" mount --profile "$PROF" "$DUMP" "$MNT" >"$TMP/mount.out" 2>"$TMP/mount.err" &
MPID=$!
for _ in $(seq 100); do
	[ -f "$MNT/version" ] && break
	sleep 0.1
done
if [ ! -f "$MNT/version" ]; then
	echo "FAIL: vmet mount did not come up"; cat "$TMP/mount.err"; FAILS=$((FAILS + 1))
else
	grep -q "^Linux version " "$MNT/version" || { echo "FAIL: version: $(cat "$MNT/version")"; FAILS=$((FAILS + 1)); }
	n=$(awk '{ sub(/^.*\) /, "x x "); print NF }' "$MNT/1/stat")
	[ "$n" = 52 ] || { echo "FAIL: /1/stat has $n fields"; FAILS=$((FAILS + 1)); }
	# Every socket fd link names an inode that /net/* lists.
	links=0
	for l in "$MNT"/[0-9]*/fd/*; do
		[ -L "$l" ] || continue
		ino=$(readlink "$l" | sed -E 's/^socket:\[([0-9]+)\]$/\1/')
		links=$((links + 1))
		cat "$MNT"/net/{tcp,tcp6,udp,udp6} | awk '{ print $10 }' | grep -qx "$ino" ||
			awk '{ print $7 }' "$MNT/net/unix" | grep -qx "$ino" ||
			{ echo "FAIL: $l -> $(readlink "$l") not in /net"; FAILS=$((FAILS + 1)); }
	done
	[ "$links" -ge 10 ] || { echo "FAIL: only $links socket fd links"; FAILS=$((FAILS + 1)); }
	echo "vmet mount: $(ls -d "$MNT"/[0-9]* | wc -l) process directories, $links socket fd links, all in /net"
	# exe, cwd, root and environ of every process, as the guest's own
	# vmet-helper fds read them (readlink; environ's bytes in hex).
	for d in "$MNT"/[0-9]*; do
		p=${d##*/}
		for l in exe cwd root; do
			[ -L "$d/$l" ] && printf '%s\t%s\t%s\n' "$l" "$p" "$(readlink "$d/$l")"
		done
		printf 'environ\t%s\t%s\n' "$p" "$(od -An -v -tx1 "$d/environ" | tr -d ' \n')"
	done | LC_ALL=C sort >"$TMP/mine-links.txt"
	grep -P '^(exe|cwd|root|environ)\t' "$TRUTH" | LC_ALL=C sort >"$TMP/truth-links.txt"
	[ "$(grep -c '^exe' "$TMP/truth-links.txt")" -gt 20 ] &&
		grep -qP '^cwd\t[0-9]+\t/run/vmet/a dir$' "$TMP/truth-links.txt" &&
		grep -qP '^exe\t[0-9]+\t/run/vmet/gone-helper \(deleted\)$' "$TMP/truth-links.txt" ||
		{ echo "FAIL: the guest's truth lacks the exe/cwd scene (old initramfs?)"; FAILS=$((FAILS + 1)); }
	compare "$TMP/truth-links.txt" "$TMP/mine-links.txt" "/PID/{exe,cwd,root,environ} of every process"
	# Read-only.
	if (echo x >"$MNT/1/comm") 2>/dev/null; then
		echo "FAIL: a write succeeded"; FAILS=$((FAILS + 1))
	fi
fi
kill -TERM "$MPID"
wait "$MPID"
rc=$?
[ "$rc" = 0 ] || { echo "FAIL: vmet mount exited $rc after SIGTERM"; cat "$TMP/mount.err"; FAILS=$((FAILS + 1)); }
if grep -q " $MNT " /proc/mounts; then
	echo "FAIL: $MNT still mounted after SIGTERM"; FAILS=$((FAILS + 1))
	umount -l "$MNT"
else
	echo "SIGTERM: unmounted, exit 0"
fi

# --- 4. --refresh: the live RAM file re-read after the interval -----------
# The guest runs on; its process set may churn (kworkers), so what is
# checked is that a re-reading happens (strace sees the source opened again)
# and serves a whole tree.
if command -v strace >/dev/null; then
	"$VMET" mount --refresh 1 --profile "$PROF" --cr3 "$CR3" "$RAM" "$MNT" >/dev/null 2>"$TMP/refresh.err" &
	MPID=$!
	for _ in $(seq 100); do
		[ -f "$MNT/version" ] && break
		sleep 0.1
	done
	strace -f -e trace=openat -p "$MPID" -o "$TMP/strace.txt" 2>/dev/null &
	SPID=$!
	sleep 1.5
	n1=$(ls -d "$MNT"/[0-9]* | wc -l)
	sleep 1.2
	n2=$(ls -d "$MNT"/[0-9]* | wc -l)
	sleep 0.2
	kill "$SPID"; wait "$SPID" 2>/dev/null
	opens=$(grep -c -F "$RAM" "$TMP/strace.txt")
	[ "$opens" -ge 2 ] || { echo "FAIL: --refresh 1: the source was opened $opens times in 2.7 s"; FAILS=$((FAILS + 1)); }
	[ "$n1" -gt 40 ] && [ "$n2" -gt 40 ] || { echo "FAIL: --refresh: $n1 then $n2 processes"; FAILS=$((FAILS + 1)); }
	echo "--refresh 1 on the live RAM: $opens re-readings, $n1 then $n2 processes"
	kill -TERM "$MPID"
	wait "$MPID" || { echo "FAIL: vmet mount --refresh exited $?"; cat "$TMP/refresh.err"; FAILS=$((FAILS + 1)); }
	grep -q " $MNT " /proc/mounts && { echo "FAIL: still mounted"; umount -l "$MNT"; FAILS=$((FAILS + 1)); }
fi

# --- 5. SIGTERM to vmet shell reaches COMMAND; vmet cleans up and exits 128+15.
"$VMET" shell --quiet --profile "$PROF" "$DUMP" -- sleep 59.7 &
SHPID=$!
sleep 1.5
kill -TERM "$SHPID"
wait "$SHPID"
rc=$?
[ "$rc" = 143 ] || { echo "FAIL: vmet shell after SIGTERM exited $rc, wanted 143"; FAILS=$((FAILS + 1)); }
pgrep -f "^sleep 59.7$" >/dev/null && { echo "FAIL: COMMAND survived SIGTERM"; FAILS=$((FAILS + 1)); }
echo "SIGTERM to vmet shell: COMMAND ended, exit $rc"

# --- 6. chkrootkit --------------------------------------------------------
# Its checks that read /proc: lkm (chkproc compares chdir("/proc/N") for
# every N up to 4194304 with readdir and ps; chkdirs compares link counts),
# ps, sniffer (ifpromisc scans /proc/*/fd).  They must run to completion;
# what they report is what vmet-mount(1) documents: chkproc's one "hidden"
# process is chkproc itself (the /self alias), nothing else.
if [ -n "${VMET_INSTRUMENTED:-}" ]; then
	# 4 million lookups through vmet: 75-100 s plain, far longer under a
	# sanitizer or valgrind.  The plain run of the suite covers it.
	echo "chkrootkit: run by the plain suite only (vmet here is under $VMET_INSTRUMENTED)"
elif command -v chkrootkit >/dev/null; then
	t0=$(date +%s)
	expect_exit 0 timeout -s KILL 900 "$VMET" shell --quiet --profile "$PROF" "$DUMP" -- \
		chkrootkit lkm ps sniffer
	t1=$(date +%s)
	cp "$OUT" "$TMP/chkrootkit.out"
	grep -q "Checking \`lkm'.*finished" "$OUT" && grep -q "Checking \`sniffer'" "$OUT" ||
		{ echo "FAIL: chkrootkit did not finish:"; cat "$OUT" "$ERR" | head -20; FAILS=$((FAILS + 1)); }
	if grep -q -i -E "segmentation|core dumped|aborted" "$OUT" "$ERR" || grep -q INFECTED "$OUT"; then
		echo "FAIL: chkrootkit crashed or found an infection:"; cat "$OUT" | head -20; FAILS=$((FAILS + 1))
	fi
	grep -q "hidden directories using chkdirs.*not found" "$OUT" ||
		{ echo "FAIL: chkdirs reported:"; cat "$OUT"; FAILS=$((FAILS + 1)); }
	hidden=$(grep -E "You have +[0-9]+ process hidden" "$OUT" | awk '{ s += $3 } END { print s + 0 }')
	[ "$hidden" -le 2 ] ||
		{ echo "FAIL: chkproc reports $hidden hidden processes:"; cat "$OUT"; FAILS=$((FAILS + 1)); }
	echo "chkrootkit lkm ps sniffer in vmet shell: finished in $((t1 - t0)) s; chkproc: $hidden hidden (itself, for readdir and for ps)"
else
	echo "chkrootkit not installed (tests/deps.sh): its part skipped"
fi

[ "$FAILS" -eq 0 ] || exit 1
echo "ok"
