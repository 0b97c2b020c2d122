#!/bin/bash
# vmet ps against a real Debian guest's own view of itself.
#
# Boots Debian's current kernel (tests/guest/fetch-kernel.sh --dbg) under
# QEMU TCG with a busybox init and tests/guest/helper.c, which set up known
# processes (threads, changed credentials, a zombie, a long argv) and print
# the guest's own `ps` to the console.  The profile is built now from that
# kernel's DWARF vmlinux, since CI always gets Debian's newest kernel.
# vmet ps runs on the RAM file while the guest still runs (raw + --cr3),
# then on the ELF dump (VMCOREINFO, no help), and both must match the
# guest's list exactly: every PID, PPID, effective UID/GID, comm and
# command line; nothing missing, nothing extra.
#
# Sourced with VMET_LINUX_GUEST_LIB=1 (by 41-linux-netstat.sh) it only
# defines linux_guest_boot.  Missing tools or kernel: exit 77.
set -u
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$E2E_DIR/lib.sh"
cd "$E2E_DIR/../.."
ROOT=$PWD

skip() { echo "skipped: $*"; exit 77; }

# linux_guest_boot: sets G (work dir), CR3, PROF, RAM (live), DUMP, SERIAL,
# QMP; the guest keeps running until linux_guest_stop.
linux_guest_boot() {
	local env tool b init
	for tool in qemu-system-x86_64 busybox cpio jq gcc python3; do
		command -v "$tool" >/dev/null || skip "$tool not installed"
	done
	file -L "$(command -v busybox)" 2>/dev/null | grep -q 'statically linked' ||
		skip "busybox is not static (install busybox-static)"
	env=$(tests/guest/fetch-kernel.sh --dbg --quiet 2>/dev/null | tail -n 1)
	[ -f "$env" ] || skip "no Debian kernel (tests/guest/fetch-kernel.sh --dbg failed)"
	# shellcheck disable=SC1090
	. "$env"
	[ -f "${VMLINUX:-}" ] && [ -f "${VMLINUZ:-}" ] || skip "kernel.env lacks VMLINUX/VMLINUZ"
	G=$TMP/guest
	mkdir -p "$G/root/bin" "$G/root/proc" "$G/root/sys" "$G/root/dev" "$G/root/tmp" \
		 "$G/root/lib/modules"
	PROF=$G/k.vmprof
	"$VMET" profile build "$VMLINUX" -o "$PROF" >/dev/null 2>"$G/profile.err" ||
		{ cat "$G/profile.err"; echo "FAIL: vmet profile build"; exit 1; }
	gcc -static -O2 -pthread -o "$G/root/bin/vmet-helper" tests/guest/helper.c 2>"$G/cc.err" ||
		skip "cannot build the static guest helper: $(head -1 "$G/cc.err")"
	cp "$(command -v busybox)" "$G/root/bin/busybox"
	for b in sh mount insmod sleep ps cat echo ifconfig mkfifo chmod; do
		ln -sf busybox "$G/root/bin/$b"
	done
	for m in $MODULES; do
		cp "$MODULES_DIR/$m.ko" "$G/root/lib/modules/" 2>/dev/null || true
	done
	init=$G/root/init
	cat >"$init" <<'EOF'
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in /lib/modules/*.ko; do insmod "$m"; done
ifconfig lo 127.0.0.1 up
chmod 1777 /tmp
H=/bin/vmet-helper
w() { while [ ! -s "$1" ]; do sleep 0.1; done; }
VMET_READY=/tmp/r1 $H -n vmet-lsn listen tcp:0.0.0.0:8080 tcp6:[::]:8443 udp:0.0.0.0:5353 udp6:[::]:5354 unix:/tmp/vmet.sock unixdg:@vmet-abstract & w /tmp/r1
VMET_READY=/tmp/r2 $H -n vmet-estab estab 127.0.0.1 9000 & w /tmp/r2
VMET_READY=/tmp/r3 $H -n vmet-estab6 estab ::1 9001 & w /tmp/r3
VMET_READY=/tmp/r4 $H -n vmet-udpc udpconn udp:127.0.0.1:6000 127.0.0.1 53 & w /tmp/r4
VMET_READY=/tmp/r5 $H -n vmet-thr threads 4 & w /tmp/r5
VMET_READY=/tmp/r6 $H -n vmet-creds creds 1000 1001 2000 2001 & w /tmp/r6
VMET_READY=/tmp/r7 $H -n vmet-zparent zombie & w /tmp/r7
VMET_READY=/tmp/r8 $H -n vmet-long longargs 6000 & w /tmp/r8
VMET_READY=/tmp/r9 $H -n vmet-sleep sleep one 'two words' three & w /tmp/r9
sleep 100000 &
sleep 1
echo ===PS===
COLUMNS=200000 ps -o pid,ppid,user,group,comm,args >/tmp/ps.txt
cat /tmp/ps.txt
echo ===FDS===
$H fds
echo ===NET===
for f in tcp tcp6 udp udp6; do echo "== $f"; cat /proc/net/$f; done
echo ===END===
# Block in a builtin (open of a FIFO nobody writes), so that PID 1 stays
# what the truth above shows and no process is added after it.
mkfifo /tmp/hold
read x </tmp/hold
EOF
	chmod +x "$init"
	(cd "$G/root" && find . | cpio -o -H newc 2>/dev/null) >"$G/guest.cpio"
	RAM=/dev/shm/vmet-e2e-linux-$$.ram
	QMP=$G/qmp.sock
	SERIAL=$G/serial.log
	rm -f "$RAM"
	qemu-system-x86_64 -accel tcg -cpu qemu64 -m 512M \
		-object memory-backend-file,id=mem,size=512M,mem-path="$RAM",share=on \
		-machine q35,memory-backend=mem -kernel "$VMLINUZ" -initrd "$G/guest.cpio" \
		-append 'console=ttyS0 panic=-1 quiet' -nographic -no-reboot -nic none \
		-device vmcoreinfo -qmp unix:"$QMP",server=on,wait=off \
		>"$SERIAL" 2>&1 </dev/null &
	QEMU_PID=$!
	trap 'linux_guest_stop; rm -rf "$TMP"' EXIT
	for _ in $(seq 240); do
		grep -q '^===END===' "$SERIAL" 2>/dev/null && break
		kill -0 "$QEMU_PID" 2>/dev/null || break
		sleep 0.5
	done
	grep -q '^===END===' "$SERIAL" || { tail -20 "$SERIAL"; echo "FAIL: guest did not print its truth"; exit 1; }
	sleep 1	# let /init reap ps, cat and the fd lister
	CR3=$(qmp 'hmp:info registers' | grep -o 'CR3=[0-9a-f]*' | head -1 | cut -d= -f2)
	[ -n "$CR3" ] || { echo "FAIL: no CR3 from QMP"; exit 1; }
	CR3=0x$CR3
	DUMP=$G/dump.elf
}

# qmp CMD...: each CMD is JSON or hmp:TEXT; prints each answer.
qmp() {
	python3 - "$QMP" "$@" <<'EOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile('rw')
def rd():
    while True:
        m = json.loads(f.readline())
        if 'event' not in m: return m
rd(); f.write(json.dumps({"execute": "qmp_capabilities"}) + "\n"); f.flush(); rd()
for c in sys.argv[2:]:
    if c.startswith('hmp:'):
        c = json.dumps({"execute": "human-monitor-command", "arguments": {"command-line": c[4:]}})
    f.write(c + "\n"); f.flush(); r = rd()
    print(r['return'] if isinstance(r.get('return'), str) else json.dumps(r))
EOF
}

linux_guest_dump() {
	qmp '{"execute":"stop"}' '{"execute":"dump-guest-memory","arguments":{"paging":false,"protocol":"file:'"$DUMP"'"}}' >/dev/null
}

linux_guest_stop() {
	[ -n "${QEMU_PID:-}" ] || return 0
	kill "$QEMU_PID" 2>/dev/null
	wait "$QEMU_PID" 2>/dev/null
	QEMU_PID=
	rm -f "${RAM:-}"
}

# The console section between ===NAME=== and the next marker.
section() {
	# A marker may follow terminal escapes on its line: match its end.
	tr -d '\r' <"$SERIAL" | awk -v s="===$1===" '
		length($0) >= length(s) && substr($0, length($0) - length(s) + 1) == s {on = 1; next}
		/===[A-Z]+===$/ {on = 0} on'
}

[ "${VMET_LINUX_GUEST_LIB:-}" = 1 ] && return 0

# ---- truth: "PID PPID EUID EGID COMM<TAB>ARGS" (ARGS '-' for [kernel] / zombie) ----
# busybox ps shows the owner of /proc/PID, i.e. the effective IDs.
ps_truth() {
	section PS | awk 'NR > 1 && $5 != "ps" {
		pid = $1; ppid = $2; u = $3; g = $4; comm = $5
		args = $0; sub(/^ *[0-9]+ +[0-9]+ +[^ ]+ +[^ ]+ +[^ ]+ +/, "", args)
		sub(/ +$/, "", args)
		if (args ~ /^\[.*\]$/) args = "-"
		sub(/^\{[^}]*\} /, "", args)	# busybox: "{comm} argv" when they differ
		printf "%s %s %s %s %s\t%s\n", pid, ppid, u, g, comm, args
	}' | sort -n
}

# The same from vmet's JSON.  Kernel-thread names may carry a workqueue
# suffix in /proc that the task does not store: the comparison allows it.
ps_vmet() {
	jq -r '.tasks[] | "\(.pid) \(.ppid) \(.euid) \(.egid) \(.comm)\t\(if .cmdline == null or .cmdline == "" then "-" else .cmdline end)"' "$1" | sort -n
}

# compare TRUTH VMET LABEL: same PIDs, and field by field equal.
compare_ps() {
	local t=$1 v=$2 label=$3
	local bad
	bad=$(join -t $'\001' -a1 -a2 -e MISSING -o 0,1.2,2.2 \
		<(awk '{i = index($0, " "); print substr($0, 1, i - 1) "\001" substr($0, i + 1)}' "$t" | sort -t $'\001' -k1,1) \
		<(awk '{i = index($0, " "); print substr($0, 1, i - 1) "\001" substr($0, i + 1)}' "$v" | sort -t $'\001' -k1,1) |
	awk -F $'\001' '{
		if ($2 == $3) next
		split($2, a, "\t"); split($3, b, "\t")
		n = split(a[1], ta, " "); split(b[1], va, " ")
		# kworker/0:1-events in /proc, kworker/0:1 in the task
		# fields: PPID EUID EGID COMM (the PID is the join key)
		same = ta[1] == va[1] && ta[2] == va[2] && ta[3] == va[3]
		if (same && index(ta[4], va[4] "-") == 1 && a[2] == b[2]) next
		# busybox ps cuts its lines at 2048 bytes: a prefix must match
		if (same && ta[4] == va[4] && length(a[2]) > 1900 && index(b[2], a[2]) == 1) next
		print "pid " $1 ": guest says [" $2 "], vmet says [" $3 "] (" length(a[2]) "/" length(b[2]) " bytes)"
	}')
	if [ -n "$bad" ]; then
		echo "FAIL: $label differs from the guest's ps:"
		echo "$bad" | head -20
		FAILS=$((FAILS + 1))
	else
		echo "$label: $(wc -l <"$t") processes match the guest's own ps"
	fi
}

linux_guest_boot
ps_truth >"$TMP/truth.txt"
grep -q "vmet-long" "$TMP/truth.txt" || { echo "FAIL: guest truth incomplete"; cat "$TMP/truth.txt"; sed -n "/===PS===/,/===FDS===/p" "$SERIAL" | head -20; exit 1; }

# 1. Live: the RAM file while the guest runs, entered by the vCPU's CR3.
expect_exit 0 "$VMET" ps --json --profile "$PROF" --cr3 "$CR3" "$RAM"
cp "$OUT" "$TMP/live.json"
[ "$(jq -r .kernel.located_by "$TMP/live.json")" = cr3 ] || { echo "FAIL: live run not located by CR3"; FAILS=$((FAILS + 1)); }
ps_vmet "$TMP/live.json" >"$TMP/live.txt"
compare_ps "$TMP/truth.txt" "$TMP/live.txt" "live RAM + --cr3"

# 2. The ELF dump: no CR3 given, VMCOREINFO finds the kernel.
linux_guest_dump
expect_exit 0 "$VMET" ps --json --profile "$PROF" "$DUMP"
cp "$OUT" "$TMP/dump.json"
ps_vmet "$TMP/dump.json" >"$TMP/dump.txt"
compare_ps "$TMP/truth.txt" "$TMP/dump.txt" "ELF dump"

# 3. What ps alone cannot show, checked against the scene init set up.
j=$TMP/dump.json
[ "$(jq '[.tasks[] | select(.comm == "vmet-thr")][0].threads' "$j")" = 4 ] ||
	{ echo "FAIL: vmet-thr should have 4 threads"; FAILS=$((FAILS + 1)); }
[ "$(jq -r '[.tasks[] | select(.comm == "vmet-creds")][0] | "\(.uid) \(.euid) \(.gid) \(.egid)"' "$j")" = "1000 1001 2000 2001" ] ||
	{ echo "FAIL: vmet-creds real/effective IDs"; FAILS=$((FAILS + 1)); }
[ "$(jq -r '[.tasks[] | select(.comm == "vmet-zombie")][0].state' "$j")" = Z ] ||
	{ echo "FAIL: vmet-zombie is not Z"; FAILS=$((FAILS + 1)); }
[ "$(jq '[.tasks[] | select(.kernel_thread == false and .cr3 == null)] | map(select(.state != "Z")) | length' "$j")" = 0 ] ||
	{ echo "FAIL: a user process without CR3"; FAILS=$((FAILS + 1)); }
[ "$(jq '[.tasks[] | select(.comm == "vmet-longargs")][0].cmdline | length' "$j")" -ge 6000 ] ||
	{ echo "FAIL: long command line cut short"; FAILS=$((FAILS + 1)); }
# threads listed with -T: the group's LWPs
expect_exit 0 "$VMET" ps -T --json --profile "$PROF" "$DUMP"
[ "$(jq '[.tasks[] | select(.comm | startswith("vmet-thr"))] | length' "$OUT")" = 4 ] ||
	{ echo "FAIL: -T should list 4 threads of vmet-thr"; FAILS=$((FAILS + 1)); }
# text output, tree, -p
expect_exit 0 "$VMET" ps --profile "$PROF" --tree "$DUMP"
expect_out "\\_ "
expect_out "[kthreadd]"
expect_exit 0 "$VMET" ps --profile "$PROF" -p 1 "$DUMP"
[ "$(wc -l <"$OUT")" = 2 ] || { echo "FAIL: -p 1 should print one process"; FAILS=$((FAILS + 1)); }
# --max-cmdline caps and marks
expect_exit 0 "$VMET" ps --json --profile "$PROF" --max-cmdline 100 "$DUMP"
[ "$(jq '[.tasks[] | select(.comm == "vmet-longargs")][0] | (.cmdline | length) <= 100 and .cmdline_truncated' "$OUT")" = true ] ||
	{ echo "FAIL: --max-cmdline"; FAILS=$((FAILS + 1)); }

# 4. Damage: a task_struct's tasks.next pointing out of memory in a copy of the
# RAM: the rest still listed (walked backwards), exit 1, the address named.
if [ -w "$TMP" ]; then
	addr=$(jq -r '[.tasks[] | select(.comm == "vmet-sleep")][0].task' "$TMP/live.json")
	pa=$("$VMET" translate --cr3 "$CR3" "$RAM" "$addr" 2>/dev/null | sed -n 's/.*host physical \(0x[0-9a-f]*\)$/\1/p' | tail -1)
	off=$(jq -r '.kernel.banner' "$TMP/live.json" >/dev/null; grep -E '^member task_struct tasks ' "$PROF" | awk '{print $4}')
	if [ -n "$pa" ] && [ -n "$off" ]; then
		cp "$RAM" "$TMP/bad.raw"
		put64 "$TMP/bad.raw" $((pa + off)) $((0xffff888fff000000))
		expect_exit 1 "$VMET" ps --json --profile "$PROF" --cr3 "$CR3" "$TMP/bad.raw"
		expect_err "0xffff888fff000000"
		n=$(jq '.tasks | length' "$OUT")
		want=$(jq '.tasks | length' "$TMP/live.json")
		[ "$n" = "$want" ] || { echo "FAIL: after damage $n of $want tasks listed"; FAILS=$((FAILS + 1)); }
		rm -f "$TMP/bad.raw"
	else
		echo "FAIL: could not place the damage (pa=$pa off=$off)"
		FAILS=$((FAILS + 1))
	fi
fi
linux_guest_stop
finish
