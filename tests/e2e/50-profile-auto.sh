#!/bin/bash
# Zero-configuration profiles on real guests: the profile vmet derives from
# a kernel's own BTF and kallsyms.
#
# 1. Debian's current generic kernel: `vmet profile extract` on its ELF dump
#    gives, line for line, the profile `vmet profile build` makes from the
#    -dbg package's DWARF vmlinux (when that vmlinux is at hand); the same
#    from the raw RAM file, where the kernel is found by a banner scan; the
#    cache stores it under the banner; forged kallsyms, BTF and init_task
#    bytes are each rejected with exit 2 and a message naming them.
# 2. Debian's cloud flavour of the same release, for which vmet has no
#    profile and no debug symbols are fetched (its struct layouts differ):
#    vmet ps and vmet netstat with the derived profile, with no profile
#    given at all (derived, then served from the cache) and with --profile
#    auto match the guest's own ps and /proc/net exactly (PID, PPID, EUID,
#    EGID, comm, command line; protocol, addresses, ports, state, inode).
# 3. The newest kernel in Debian 12's apt lists (bookworm-backports' 6.12
#    today: the newer kallsyms layout, offsets after the token index):
#    the same with no profile given.
#
# Missing tools or kernels: exit 77.
set -u
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$E2E_DIR/lib.sh"
cd "$E2E_DIR/../.."

skip() { echo "skipped: $*"; exit 77; }
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }

# ---- 0. no guest needed: usage and sources without a usable kernel --------------
expect_exit 2 "$VMET" profile extract
expect_err "need exactly one SOURCE"
expect_exit 2 "$VMET" profile extract --profile x.vmprof "$TMP/none.raw"
expect_err "do not apply"
truncate -s 1M "$TMP/zero.raw"
expect_exit 2 "$VMET" profile extract "$TMP/zero.raw"
expect_err "no Linux kernel found"
# a banner and nothing else: no kallsyms around it
printf 'Linux version 9.9.9-fake (nobody@nowhere) #1 SMP\n' |
	dd of="$TMP/zero.raw" bs=1 seek=$((0x20000)) conv=notrunc status=none
expect_exit 2 "$VMET" profile extract "$TMP/zero.raw"
expect_err "no token table"
expect_exit 0 "$VMET" profile extract --help
expect_out "vmet profile extract"

for tool in qemu-system-x86_64 busybox cpio jq gcc python3; do
	command -v "$tool" >/dev/null || skip "$tool not installed"
done
file -L "$(command -v busybox)" 2>/dev/null | grep -q 'statically linked' ||
	skip "busybox is not static (install busybox-static)"
gcc -static -O2 -pthread -o "$TMP/vmet-helper" tests/guest/helper.c 2>"$TMP/cc.err" ||
	skip "cannot build the static guest helper: $(head -1 "$TMP/cc.err")"

QEMU_PID=
stop_guest() {
	[ -n "$QEMU_PID" ] || return 0
	kill "$QEMU_PID" 2>/dev/null
	wait "$QEMU_PID" 2>/dev/null
	QEMU_PID=
	rm -f "$RAM"
}
trap 'stop_guest; rm -rf "$TMP"' EXIT

# boot_guest KERNEL_ENV DIR: boot the kernel with a scene of processes and
# sockets; its truth is on the console; sets RAM, SERIAL, QMP, DUMP.
boot_guest() {
	local env=$1 g=$2 b m
	# shellcheck disable=SC1090
	. "$env"
	mkdir -p "$g/root/bin" "$g/root/proc" "$g/root/sys" "$g/root/dev" "$g/root/tmp" \
		 "$g/root/lib/modules"
	cp "$TMP/vmet-helper" "$g/root/bin/"
	cp "$(command -v busybox)" "$g/root/bin/busybox"
	for b in sh mount insmod sleep ps cat echo ifconfig mkfifo chmod; do
		ln -sf busybox "$g/root/bin/$b"
	done
	for m in $MODULES; do
		cp "$MODULES_DIR/$m.ko" "$g/root/lib/modules/" 2>/dev/null || true
	done
	cat >"$g/root/init" <<'EOF'
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
VMET_READY=/tmp/r1 $H -n auto-lsn listen tcp:0.0.0.0:8080 tcp6:[::]:8443 udp:0.0.0.0:5353 udp6:[::]:5354 unix:/tmp/a.sock & w /tmp/r1
VMET_READY=/tmp/r2 $H -n auto-estab estab 127.0.0.1 9000 & w /tmp/r2
VMET_READY=/tmp/r3 $H -n auto-estab6 estab ::1 9001 & w /tmp/r3
VMET_READY=/tmp/r4 $H -n auto-udpc udpconn udp:127.0.0.1:6000 127.0.0.1 53 & w /tmp/r4
VMET_READY=/tmp/r5 $H -n auto-thr threads 3 & w /tmp/r5
VMET_READY=/tmp/r6 $H -n auto-creds creds 1000 1001 2000 2001 & w /tmp/r6
VMET_READY=/tmp/r7 $H -n auto-args sleep one 'two words' three & w /tmp/r7
sleep 1
echo ===PS===
COLUMNS=20000 ps -o pid,ppid,user,group,comm,args </dev/null
echo ===NET===
for f in tcp tcp6 udp udp6; do echo "== $f"; cat /proc/net/$f; done
echo ===END===
mkfifo /tmp/hold
read x </tmp/hold
EOF
	chmod +x "$g/root/init"
	(cd "$g/root" && find . | cpio -o -H newc 2>/dev/null) >"$g/guest.cpio"
	RAM=/dev/shm/vmet-e2e-auto-$$.ram
	QMP=$g/qmp.sock
	SERIAL=$g/serial.log
	DUMP=$g/dump.elf
	rm -f "$RAM"
	qemu-system-x86_64 -accel tcg -cpu qemu64 -m 512M \
		-object memory-backend-file,id=mem,size=512M,mem-path="$RAM",share=on \
		-machine q35,memory-backend=mem -kernel "$VMLINUZ" -initrd "$g/guest.cpio" \
		-append 'console=ttyS0 panic=-1 quiet' -nographic -no-reboot -nic none \
		-device vmcoreinfo -qmp unix:"$QMP",server=on,wait=off \
		>"$SERIAL" 2>&1 </dev/null &
	QEMU_PID=$!
	for _ in $(seq 240); do
		grep -q '^===END===' "$SERIAL" 2>/dev/null && break
		kill -0 "$QEMU_PID" 2>/dev/null || break
		sleep 0.5
	done
	grep -q '^===END===' "$SERIAL" || { tail -20 "$SERIAL"; echo "FAIL: guest did not print its truth"; exit 1; }
	sleep 1	# let /init reap ps and cat
	python3 - "$QMP" "$DUMP" <<'EOF' || { echo "FAIL: QMP dump"; exit 1; }
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile('rw')
def rd():
    while True:
        m = json.loads(f.readline())
        if 'event' not in m: return m
rd()
for c in ({"execute": "qmp_capabilities"}, {"execute": "stop"},
          {"execute": "dump-guest-memory", "arguments": {"paging": False, "protocol": "file:" + sys.argv[2]}}):
    f.write(json.dumps(c) + "\n"); f.flush(); r = rd()
    if 'error' in r: sys.exit(r['error'])
EOF
}

# The console section between ===NAME=== and the next marker.
section() {
	tr -d '\r' <"$SERIAL" | awk -v s="===$1===" '
		length($0) >= length(s) && substr($0, length($0) - length(s) + 1) == s {on = 1; next}
		/===[A-Z]+===$/ {on = 0} on'
}

# "PID PPID EUID EGID COMM<TAB>ARGS" from the guest's ps (ARGS '-' for kernel threads).
ps_truth() {
	section PS | awk 'NR > 1 && $5 != "ps" {
		pid = $1; ppid = $2; u = $3; g = $4; comm = $5
		args = $0; sub(/^ *[0-9]+ +[0-9]+ +[^ ]+ +[^ ]+ +[^ ]+ +/, "", args)
		sub(/ +$/, "", args)
		if (args ~ /^\[.*\]$/) args = "-"
		sub(/^\{[^}]*\} /, "", args)
		printf "%s %s %s %s %s\t%s\n", pid, ppid, u, g, comm, args
	}' | sort
}

ps_vmet() {
	jq -r '.tasks[] | "\(.pid) \(.ppid) \(.euid) \(.egid) \(.comm)\t\(if .cmdline == null or .cmdline == "" then "-" else .cmdline end)"' "$1" |
		sort
}

# Kernel threads may show a workqueue suffix in /proc that the task's comm
# lacks (kworker/0:1-events): allow exactly that difference.
compare_ps() {
	local bad
	bad=$(python3 - "$1" "$2" <<'EOF'
import sys
def load(p):
    d = {}
    for l in open(p):
        head, _, args = l.rstrip('\n').partition('\t')
        f = head.split(' ')
        d[f[0]] = (f[1:5], args)
    return d
t, v = load(sys.argv[1]), load(sys.argv[2])
for pid in sorted(set(t) | set(v), key=int):
    a, b = t.get(pid), v.get(pid)
    if a == b:
        continue
    if a and b and a[0][:3] == b[0][:3] and a[1] == b[1] and a[0][3].startswith(b[0][3] + '-'):
        continue
    print("pid %s: guest %s, vmet %s" % (pid, a, b))
EOF
)
	if [ -n "$bad" ]; then
		fail "$3 differs from the guest's ps:"
		echo "$bad" | head -20
	else
		echo "$3: $(wc -l <"$1") processes match the guest's own ps"
	fi
}

# "PROTO LADDR LPORT RADDR RPORT STATE INODE" from /proc/net and from vmet.
net_truth() {
	section NET | python3 -c '
import ipaddress, sys
proto = None
for l in sys.stdin:
    l = l.strip()
    if l.startswith("== "):
        proto = l[3:]; continue
    f = l.split()
    if len(f) < 10 or f[0] == "sl":
        continue
    def addr(s):
        a, p = s.split(":")
        b = bytes.fromhex(a)
        b = b"".join(b[i:i + 4][::-1] for i in range(0, len(b), 4))
        return str(ipaddress.ip_address(b)), int(p, 16)
    la, lp = addr(f[1]); ra, rp = addr(f[2])
    print(proto.rstrip("6"), la, lp, ra, rp, int(f[3], 16), f[9])
' | sort
}

net_vmet() {
	jq -r '.sockets[] | select(.proto | test("^(tcp|udp)6?$")) |
		"\(.proto | rtrimstr("6")) \(.local_address) \(.local_port) \(.remote_address) \(.remote_port) \(if .state == "" then "-" else .state end) \(.inode)"' "$1" |
	awk 'BEGIN { split("ESTABLISHED SYN_SENT SYN_RECV FIN_WAIT1 FIN_WAIT2 TIME_WAIT CLOSE CLOSE_WAIT LAST_ACK LISTEN CLOSING", n, " ")
		     for (i in n) st[n[i]] = i }
	     { s = ($6 in st) ? st[$6] : $6; if ($1 == "udp" && s == "-") s = 7
	       print $1, $2, $3, $4, $5, s, $7 }' | sort
}

# ---- 1. the generic kernel, against its DWARF --------------------------------
ENV1=$(tests/guest/fetch-kernel.sh --dbg --quiet 2>/dev/null | tail -n 1)
[ -f "$ENV1" ] || ENV1=$(tests/guest/fetch-kernel.sh --quiet 2>/dev/null | tail -n 1)
[ -f "$ENV1" ] || skip "no Debian kernel (tests/guest/fetch-kernel.sh failed)"
G1=$TMP/generic
boot_guest "$ENV1" "$G1"
KVER1=$KVER
VMLINUX1=${VMLINUX:-}
ps_truth >"$G1/ps-truth.txt"

expect_exit 0 "$VMET" profile extract --json "$DUMP" -o "$G1/mem.vmprof"
cp "$OUT" "$G1/extract.json"
[ "$(jq -r .btf.found_by "$G1/extract.json")" = symbols ] || fail "BTF not found by __start_BTF"
[ "$(jq .kallsyms.symbols "$G1/extract.json")" -gt 50000 ] || fail "too few kallsyms entries"
[ "$(jq -r .located_by "$G1/extract.json")" = vmcoreinfo ] || fail "dump not located by VMCOREINFO"
grep -q "^source btf:memory" "$G1/mem.vmprof" || fail "derived profile's source line"
grep -q "^banner Linux version $KVER1 " "$G1/mem.vmprof" || fail "derived profile's banner"
if [ -f "$VMLINUX1" ]; then
	expect_exit 0 "$VMET" profile build "$VMLINUX1" -o "$G1/dwarf.vmprof"
	if diff <(grep -v '^source ' "$G1/dwarf.vmprof") <(grep -v '^source ' "$G1/mem.vmprof") >"$G1/diff"; then
		echo "generic $KVER1: memory profile = DWARF profile ($(grep -c '^member ' "$G1/mem.vmprof") members, $(grep -c '^symbol ' "$G1/mem.vmprof") symbols)"
	else
		fail "profile from memory differs from the DWARF one:"
		head -20 "$G1/diff"
	fi
else
	echo "note: no DWARF vmlinux for $KVER1: the DWARF comparison is left to test_btf_dwarf"
fi
expect_exit 0 "$VMET" ps --json --profile "$G1/mem.vmprof" "$DUMP"
ps_vmet "$OUT" >"$G1/ps-vmet.txt"
compare_ps "$G1/ps-truth.txt" "$G1/ps-vmet.txt" "generic kernel, derived profile"

# The cache: stored under the banner, the same profile.
expect_exit 0 env VMET_CACHE_DIR="$TMP/cache" "$VMET" profile extract --cache "$DUMP"
expect_out "cache:"
cached=$(ls "$TMP"/cache/auto-*.vmprof 2>/dev/null | head -1)
if [ -f "$cached" ] && cmp -s "$cached" "$G1/mem.vmprof"; then
	echo "cache: $(basename "$cached") holds the same profile"
else
	fail "no cached profile equal to the extracted one in $TMP/cache"
fi

# The RAM file: raw, no VMCOREINFO and no CR3: the banner scan finds it.
cp "$RAM" "$G1/ram.raw"
stop_guest
expect_exit 0 "$VMET" profile extract --json "$G1/ram.raw" -o "$G1/raw.vmprof"
[ "$(jq -r .located_by "$OUT")" = scan ] || fail "raw RAM not located by the banner scan"
cmp -s <(grep -v '^source ' "$G1/raw.vmprof") <(grep -v '^source ' "$G1/mem.vmprof") ||
	fail "profile from the raw RAM differs from the one from the dump"

# Forged tables, one at a time in the raw copy (file offset = physical address).
text_pa=$(jq -r .text_pa "$G1/extract.json")
text_va=$(jq -r .text_va "$G1/extract.json")
tok=$(jq -r .kallsyms.token_index_offset "$G1/extract.json")
btf_va=$(jq -r .btf.address "$G1/extract.json")
btf_pa=$((text_pa + btf_va - text_va))
# damage OFFSET HEXBYTES...: write bytes; undo restores them.
damage() {
	UNDO_OFF=$1; shift
	UNDO=$(dd if="$G1/ram.raw" bs=1 skip=$((UNDO_OFF)) count=$# status=none | od -An -tx1 | tr -d ' \n')
	printf "$(printf '\\x%s' "$@")" | dd of="$G1/ram.raw" bs=1 seek=$((UNDO_OFF)) conv=notrunc status=none
}
undo() {
	printf "$(echo "$UNDO" | sed 's/../\\x&/g')" | dd of="$G1/ram.raw" bs=1 seek=$((UNDO_OFF)) conv=notrunc status=none
}
# token_index[10] below token_index[9]: no token table anywhere
damage $((text_pa + tok + 20)) 01 00
expect_exit 2 "$VMET" profile extract "$G1/ram.raw"
expect_err "kallsyms"
undo
# BTF header: hdr_len 0x10000000
damage $((btf_pa + 4)) 00 00 00 10
expect_exit 2 "$VMET" profile extract "$G1/ram.raw"
expect_err "BTF"
undo
# init_task's name: the profile must fail its check against memory
it=$(grep '^symbol init_task ' "$G1/mem.vmprof" | awk '{print $3}')
comm=$(grep '^member task_struct comm ' "$G1/mem.vmprof" | awk '{print $4}')
damage $((text_pa + 0x$it - 0xffffffff81000000 + comm)) 58 58 58
expect_exit 2 "$VMET" profile extract "$G1/ram.raw"
expect_err "not swapper"
undo
expect_exit 0 "$VMET" profile extract "$G1/ram.raw"
rm -f "$G1/ram.raw"

# ---- 2. the cloud kernel: no profile, no debug symbols -----------------------
KVER2=${KVER1%-amd64}-cloud-amd64
ENV2=$(tests/guest/fetch-kernel.sh --kver "$KVER2" --quiet 2>/dev/null | tail -n 1)
[ -f "$ENV2" ] || { finish_note="no $KVER2"; skip "cannot fetch linux-image-$KVER2"; }
G2=$TMP/cloud
boot_guest "$ENV2" "$G2"
stop_guest
ps_truth >"$G2/ps-truth.txt"
net_truth >"$G2/net-truth.txt"
[ "$(wc -l <"$G2/net-truth.txt")" -ge 8 ] || fail "cloud guest truth lists too few sockets"

# vmet has no profile for it...
expect_exit 0 "$VMET" profile list
if grep -q "$KVER2 " "$OUT"; then
	fail "a profile for $KVER2 is already in the search path: not a test of zero configuration"
fi
# ...and derives one.
expect_exit 0 "$VMET" profile extract --json "$DUMP" -o "$G2/mem.vmprof"
grep -q "^banner Linux version $KVER2 " "$G2/mem.vmprof" || fail "cloud profile banner"
# Its layouts are not the generic kernel's: a profile from one would be wrong for the other.
if cmp -s <(grep '^struct ' "$G1/mem.vmprof") <(grep '^struct ' "$G2/mem.vmprof"); then
	fail "cloud and generic struct sizes are identical: not a test of a different layout"
else
	echo "cloud vs generic: $(diff <(grep '^struct \|^member ' "$G1/mem.vmprof") <(grep '^struct \|^member ' "$G2/mem.vmprof") | grep -c '^>') struct/member lines differ"
fi
expect_exit 0 "$VMET" ps --json --profile "$G2/mem.vmprof" "$DUMP"
ps_vmet "$OUT" >"$G2/ps-vmet.txt"
compare_ps "$G2/ps-truth.txt" "$G2/ps-vmet.txt" "cloud kernel ($KVER2), extracted profile"

# no_profile LABEL G: vmet ps and netstat with no profile given (a fresh
# cache: derived from memory), then again (served from the cache), then
# with --profile auto; each must match the guest's own view.
no_profile() {
	local label=$1 g=$2 prof
	export VMET_CACHE_DIR=$g/cache
	expect_exit 0 "$VMET" ps --json "$DUMP"
	prof=$(jq -r .kernel.profile "$OUT")
	case $prof in *derived*) ;; *) fail "$label: first run's profile is '$prof', not derived" ;; esac
	ps_vmet "$OUT" >"$g/ps-none.txt"
	compare_ps "$g/ps-truth.txt" "$g/ps-none.txt" "$label, no profile given"
	expect_exit 0 "$VMET" netstat --json "$DUMP"
	net_vmet "$OUT" >"$g/net-none.txt"
	if diff "$g/net-truth.txt" "$g/net-none.txt" >"$g/net.diff"; then
		echo "$label, no profile given: $(wc -l <"$g/net-truth.txt") TCP/UDP sockets match /proc/net (address, port, state, inode)"
	else
		fail "$label: netstat differs from /proc/net (< guest, > vmet):"
		head -20 "$g/net.diff"
	fi
	expect_exit 0 "$VMET" ps --json --profile auto "$DUMP"
	prof=$(jq -r .kernel.profile "$OUT")
	case $prof in "$g"/cache/auto-*.vmprof) ;; *) fail "$label: second run not served from the cache ($prof)" ;; esac
	ps_vmet "$OUT" >"$g/ps-auto.txt"
	compare_ps "$g/ps-truth.txt" "$g/ps-auto.txt" "$label, --profile auto from the cache"
	unset VMET_CACHE_DIR
}
no_profile "cloud kernel ($KVER2)" "$G2"

# ---- 3. the newest kernel Debian 12 offers (backports), no profile -----------
meta=$(apt-cache search --names-only '^linux-image-[0-9.]+-amd64$' 2>/dev/null | awk '{print $1}' |
	sort -V | tail -n 1)
KVER3=$(apt-cache show --no-all-versions "$meta" 2>/dev/null |
	sed -n 's/^Depends:.*linux-image-\([^ ,]*\).*/\1/p' | head -n 1)
if [ -z "$KVER3" ] || [ "$KVER3" = "$KVER1" ]; then
	echo "note: no kernel newer than $KVER1 in the apt lists: part 3 not run"
else
	ENV3=$(tests/guest/fetch-kernel.sh --kver "$KVER3" --quiet 2>/dev/null | tail -n 1)
	if [ ! -f "$ENV3" ]; then
		fail "cannot fetch linux-image-$KVER3 (named by $meta)"
	else
		G3=$TMP/newest
		boot_guest "$ENV3" "$G3"
		stop_guest
		ps_truth >"$G3/ps-truth.txt"
		net_truth >"$G3/net-truth.txt"
		expect_exit 0 "$VMET" profile extract --json "$DUMP"
		echo "newest kernel $KVER3: $(jq .kallsyms.symbols "$OUT") kallsyms entries (seqs_of_names between markers and tokens: $(jq .kallsyms.seqs_of_names "$OUT")), $(jq .btf.types "$OUT") BTF types"
		no_profile "newest kernel ($KVER3)" "$G3"
	fi
fi
finish
