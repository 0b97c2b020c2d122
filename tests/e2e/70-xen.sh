#!/bin/bash
# Xen in both positions, on a real Xen 4.17 (Debian's packages, booted under
# QEMU TCG with AMD SVM + nested paging; tests/guest/xen):
#   - from dom0 (the "management VM" position): vmet on xen:DOMID and
#     xen:NAME lists the PVH, HVM and PV domUs' processes and sockets (the
#     PV domU's translation also checked against L0), also with --pause
#     (the domain is running again afterwards, after a SIGINT too) and from a
#     vmet snapshot taken of xen:DOMID;
#   - from L0 (the V-Met position, Xen untrusted): vmet guests on Xen's RAM
#     finds the VMCBs Xen keeps for the PVH and HVM domUs, and ps/netstat
#     --guest N reach each domU's kernel through Xen's nested page tables;
#     it finds the PV guests (the PV domU and dom0) by their kernel
#     page-table roots, and lists them too (dom0 against its own /proc);
#   - on this machine, which runs no Xen: "Xen not available".
# Each listing is compared with the domU's own truth (truth-ps.sh /
# truth-netstat.sh): nothing missing, nothing extra.
#
# The bed is booted once and shared ($VMET_STATE_DIR/xen, reused while it
# runs the same vmet binary and bed scripts); it takes 2-6 minutes to come
# up under TCG on 2 cores, and the PV and HVM domUs 1-4 more: about 7
# minutes in all.  VMET_XEN=0 leaves the bed out, and so does an
# instrumented vmet (make asan, make valgrind: dom0 runs a plain build):
# then only the checks that need no Xen run, and the test passes on them.
# A bed that cannot be built or does not come up: exit 77.
set -u
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VMET_LINUX_GUEST_LIB=1
# shellcheck source=40-linux-ps.sh
. "$E2E_DIR/40-linux-ps.sh"
XB=$TB/xen

# Needs no Xen at all: the same binary, asked for a xen: source here.
if [ ! -e /dev/xen/privcmd ] && [ ! -e /proc/xen/privcmd ]; then
	expect_exit 2 "$VMET" ps xen:1
	expect_err "Xen not available: "
	# (a vmet built without libxen-dev's headers says so instead)
	if ! grep -q 'built without' "$ERR"; then
		VMET_LIBXENCTRL=libvmet-no-such-xenctrl.so expect_exit 2 "$VMET" info xen:vmet-pvh
		expect_err "Xen not available: libvmet-no-such-xenctrl.so"
	fi
	[ "$FAILS" = 0 ] && echo "xen: sources fail plainly here: $(head -c 160 "$ERR")"
fi

# Without the bed what ran above passed, and a skip would count as a
# failure under CI, so this test ends here, saying why.
if [ "${VMET_XEN:-1}" = 0 ] || [ -n "${VMET_INSTRUMENTED:-}" ]; then
	[ "$FAILS" = 0 ] || exit 1
	echo "70-xen: the Xen bed itself not run ($([ "${VMET_XEN:-1}" = 0 ] && echo VMET_XEN=0 ||
		echo "vmet is instrumented ($VMET_INSTRUMENTED); the plain suite runs it"))"
	exit 0
fi
for tool in qemu-system-x86_64 jq socat apt-get dpkg-deb cpio; do
	command -v "$tool" >/dev/null || skip "$tool not installed"
done
[ -x "$XB/boot.sh" ] || skip "tests/guest/xen scripts missing"
# shellcheck source=../guest/xen/lib.sh
. "$XB/lib.sh"
NAME=${VMET_XEN_NAME:-xen}
S=$(tb_state "$NAME")
# A running bed is reused when it runs this vmet and these bed scripts.
vsum=$(cat "$VMET" "$XB"/*.sh | sha256sum | cut -d' ' -f1)
exec 9>"$VMET_STATE_DIR/.$NAME.lock"
flock -w 900 9 || skip "another run holds the Xen bed's lock"
if tb_pid "$S" >/dev/null && [ -s "$S/boot.env" ] && [ "$(cat "$S/vmet.sha256" 2>/dev/null)" = "$vsum" ]; then
	echo "reusing the running Xen bed $NAME"
else
	"$XB/stop.sh" "$NAME" >/dev/null 2>&1 9>&-
	# 9>&-: a QEMU that inherited the lock would hold it for life.
	VMET_XEN_VMET=$VMET "$XB/boot.sh" "$NAME" >"$TMP/boot.log" 2>&1 9>&- ||
		{ tail -15 "$TMP/boot.log"; skip "the Xen bed did not come up"; }
	echo "$vsum" >"$S/vmet.sha256"
fi
# shellcheck disable=SC1091
. "$S/boot.env"
echo "Xen $XEN_PKG_VERSION, dom0 and domU $KVER; bed up in ${BOOT_SECONDS}s"
R=$S/results
"$TB/truth-ps.sh" "$S/truth-domu.txt" >"$TMP/truth-ps.txt"
"$TB/truth-netstat.sh" "$S/truth-domu.txt" >"$TMP/truth-net.txt"
[ "$(wc -l <"$TMP/truth-ps.txt")" -gt 40 ] || { echo "FAIL: domU truth too short"; exit 1; }

# --- dom0 ----------------------------------------------------------------------
rc_of() { cat "$R/$1.rc" 2>/dev/null || echo missing; }
dom0_ok() { # dom0_ok RESULT LABEL: dom0's run of vmet exited 0
	if [ "$(rc_of "$1")" != 0 ]; then
		echo "FAIL: in dom0, $2 exited $(rc_of "$1"):"
		head -5 "$R/$1.err"
		FAILS=$((FAILS + 1))
		return 1
	fi
}
grep -q 'HVM/PVH: guest-physical' "$R/info.txt" && grep -q '(xen)' "$R/info.txt" ||
	{ echo "FAIL: vmet info xen:N in dom0:"; cat "$R/info.txt" "$R/info.txt.err"; FAILS=$((FAILS + 1)); }
if dom0_ok ps.json "vmet ps xen:DOMID"; then
	ps_norm "$R/ps.json" >"$TMP/dom0-ps.txt"
	compare_live "$TMP/truth-ps.txt" "$TMP/dom0-ps.txt" "domU processes from dom0 (xen:DOMID)"
	[ "$(jq -r .kernel.located_by "$R/ps.json")" = cr3 ] ||
		{ echo "FAIL: the domU's kernel not located through libxenctrl's CR3"; FAILS=$((FAILS + 1)); }
fi
if dom0_ok netstat.json "vmet netstat xen:NAME"; then
	inet_norm "$R/netstat.json" >"$TMP/dom0-net.txt"
	compare "$TMP/truth-net.txt" "$TMP/dom0-net.txt" "domU sockets from dom0 (xen:NAME)"
fi
if dom0_ok ps-pause.json "vmet ps --pause xen:DOMID"; then
	ps_norm "$R/ps-pause.json" >"$TMP/dom0-pause.txt"
	compare_live "$TMP/truth-ps.txt" "$TMP/dom0-pause.txt" "domU processes from dom0, paused"
fi
# vmet dump paused the domain (xl shows 'p' while it copies); the SIGINT
# that ended it also unpaused it (xl-list-after-sigint below).
st=$(awk -v n="$DOMU_NAME" '$1 == n { print $5 }' "$R/xl-list-during-dump.txt")
case $st in
*p*) echo "vmet dump xen:DOMID paused the domU (state $st)" ;;
*) echo "FAIL: the domU was not paused during vmet dump (state '$st')"; FAILS=$((FAILS + 1)) ;;
esac
grep -q 'interrupted' "$R/sigint.txt" ||
	{ echo "FAIL: vmet dump was not interrupted by SIGINT:"; cat "$R/sigint.txt"; FAILS=$((FAILS + 1)); }
for f in xl-list-after-pause.txt xl-list-after-sigint.txt; do
	st=$(awk -v n="$DOMU_NAME" '$1 == n { print $5 }' "$R/$f")
	case $st in
	*p*) echo "FAIL: the domU stayed paused ($f: state $st)"; FAILS=$((FAILS + 1)) ;;
	'') echo "FAIL: no $DOMU_NAME in $f"; FAILS=$((FAILS + 1)) ;;
	*) echo "${f%.txt}: the domU runs (state $st)" ;;
	esac
done
if dom0_ok dump.txt "vmet dump --pages-for ps,netstat xen:DOMID" && dom0_ok ps-snap.json "vmet ps SNAPSHOT"; then
	ps_norm "$R/ps-snap.json" >"$TMP/dom0-snap.txt"
	compare_live "$TMP/truth-ps.txt" "$TMP/dom0-snap.txt" "domU processes from a vmet snapshot of xen:DOMID"
fi
# And now, on the running bed (dom0 serves requests on its console).
if xen_dom0_run "$S" ps-now 120 "vmet ps --profile auto --json xen:$DOMU_NAME"; then
	if [ "$(cat "$S/req/ps-now.rc")" = 0 ]; then
		ps_norm "$S/req/ps-now.out" >"$TMP/dom0-now.txt"
		compare_live "$TMP/truth-ps.txt" "$TMP/dom0-now.txt" "domU processes from dom0, now"
	else
		echo "FAIL: vmet ps xen:$DOMU_NAME in dom0 now:"; head -5 "$S/req/ps-now.err"; FAILS=$((FAILS + 1))
	fi
else
	echo "FAIL: dom0 did not answer on its console"; FAILS=$((FAILS + 1))
fi

# domu_up TAG NAME CREATE TRIES PAUSE: start domU NAME in dom0 with CREATE
# (unless it runs already: a reused bed) and wait for its truth on its
# console, TRIES looks PAUSE seconds apart: $TMP/truth-TAG.txt, and its ps
# and netstat forms $TMP/truth-TAG-ps.txt and $TMP/truth-TAG-net.txt.
domu_up() {
	local tag=$1 name=$2 create=$3 tries=$4 pause=$5
	xen_dom0_run "$S" "$tag-create" 300 "xl domid $name || $create" || return 1
	for _ in $(seq "$tries"); do
		if xen_dom0_run "$S" "$tag-log" 60 "cat /var/log/xen/console/guest-$name.log" &&
		   tb_extract_truth "$S/req/$tag-log.out" boot "$TMP/truth-$tag.txt" 2>/dev/null; then
			"$TB/truth-ps.sh" "$TMP/truth-$tag.txt" >"$TMP/truth-$tag-ps.txt"
			"$TB/truth-netstat.sh" "$TMP/truth-$tag.txt" >"$TMP/truth-$tag-net.txt"
			return 0
		fi
		sleep "$pause"
	done
	return 1
}

# dom0_lists TAG NAME LABEL: vmet ps and netstat on xen:NAME in dom0 equal
# the domU's truth ($TMP/truth-TAG-ps.txt, $TMP/truth-TAG-net.txt).
dom0_lists() {
	local tag=$1 name=$2 label=$3 cmd kind norm cmp what
	for kind in ps net; do
		case $kind in
		ps) cmd=ps norm=ps_norm cmp=compare_live what=processes ;;
		net) cmd=netstat norm=inet_norm cmp=compare what=sockets ;;
		esac
		if xen_dom0_run "$S" "$tag-$kind" 600 "vmet $cmd --profile auto --json xen:$name" &&
		   [ "$(cat "$S/req/$tag-$kind.rc")" = 0 ]; then
			"$norm" "$S/req/$tag-$kind.out" >"$TMP/$tag-$kind.txt"
			"$cmp" "$TMP/truth-$tag-$kind.txt" "$TMP/$tag-$kind.txt" "$label domU $what from dom0 (xen:NAME)"
		else
			echo "FAIL: vmet $cmd xen:$name in dom0:"; head -5 "$S/req/$tag-$kind.err"; FAILS=$((FAILS + 1))
		fi
	done
}

# --- a PV domU: CR3 and page tables hold machine frames ------------------------
# vmet on xen:NAME of a PV domU reads machine memory through libxenctrl's
# machine CR3; the kernel image is contiguous only in the domU's
# pseudo-physical space, so vmet finds its root and reads its image through
# the domU's own tables.  Its listings must equal the domU's truth, and its
# translation of linux_banner must land on a machine address where L0,
# reading Xen's RAM file (offset = machine address), finds the banner.
# The domU stays up for the L0 checks below (destroyed at the end).
pv_ok=0
domu_up pv "$DOMU_PV_NAME" "xl create /etc/xen/domu-pv.cfg" 60 3 && pv_ok=1
if [ "$pv_ok" = 1 ]; then
	va=0x$(awk -F'\t' '$1 == "ksym" { split($2, f, " "); if (f[3] == "linux_banner") { print f[1]; exit } }' "$TMP/truth-pv.txt")
	xen_dom0_run "$S" pv-info 120 "vmet info xen:$DOMU_PV_NAME; vmet translate --json xen:$DOMU_PV_NAME $va"
	ma=$(sed -n '/^{/,$p' "$S/req/pv-info.out" | jq -r '.translations[0].host_physical' 2>/dev/null)
	if grep -q 'PV: machine addresses' "$S/req/pv-info.out" && [ -n "$ma" ] && [ "$ma" != null ] &&
	   dd if="$RAM" bs=1 skip=$((ma)) count=14 status=none | grep -q '^Linux version '; then
		echo "PV domU: linux_banner $va -> machine $ma (libxenctrl's CR3); L0 reads the banner there"
	else
		echo "FAIL: PV domU: linux_banner $va -> '$ma', no banner there at L0:"
		head -12 "$S/req/pv-info.out" "$S/req/pv-info.err"
		FAILS=$((FAILS + 1))
	fi
	dom0_lists pv "$DOMU_PV_NAME" PV
	# a snapshot of the PV domU (machine frames and CR3), listed again
	if xen_dom0_run "$S" pv-snap 600 "vmet dump --pages-for ps,netstat -o /tmp/pv.vmsnap xen:$DOMU_PV_NAME >/dev/null && vmet ps --profile auto --json /tmp/pv.vmsnap" &&
	   [ "$(cat "$S/req/pv-snap.rc")" = 0 ]; then
		ps_norm "$S/req/pv-snap.out" >"$TMP/pv-snap.txt"
		compare_live "$TMP/truth-pv-ps.txt" "$TMP/pv-snap.txt" "PV domU processes from a vmet snapshot of xen:NAME"
	else
		echo "FAIL: vmet dump/ps of a snapshot of xen:$DOMU_PV_NAME in dom0:"; head -5 "$S/req/pv-snap.err"
		FAILS=$((FAILS + 1))
	fi
else
	echo "FAIL: the PV domU did not come up"; FAILS=$((FAILS + 1))
fi

# --- an HVM domU: hvmloader, SeaBIOS and Debian's qemu-system-xen in dom0 ------
# Its console is Xen's PV console (hvc0), as the others'.
hvm_ok=0
domu_up hvm "$DOMU_HVM_NAME" start-hvm.sh 100 5 && hvm_ok=1
if [ "$hvm_ok" = 1 ]; then
	dom0_lists hvm "$DOMU_HVM_NAME" HVM
else
	echo "FAIL: the HVM domU did not come up"; FAILS=$((FAILS + 1))
fi

# --- L0: Xen's RAM, Xen untrusted ----------------------------------------------
# dom0's own view of its processes, taken just before L0 looks: PID PPID
# COMM from /proc/PID/stat, without the request's own shell and what it
# starts (PIDs from its own on), and without kworkers (they come and go).
xen_dom0_run "$S" dom0-truth 60 'for d in /proc/[0-9]*; do read -r l <"$d/stat" && echo "$l"; done; echo "self $$"' ||
	{ echo "FAIL: no process list from dom0"; FAILS=$((FAILS + 1)); }
dom0_stat_norm() { # /proc/PID/stat lines: PID PPID COMM, comm as task_struct holds it
	awk '$1 == "self" { next }
	     { o = index($0, "("); c = 0; for (i = length($0); i > o; i--) if (substr($0, i, 1) == ")") { c = i; break }
	       comm = substr($0, o + 1, c - o - 1); split(substr($0, c + 2), f, " ")
	       if (comm ~ /^kworker\//) next
	       print $1, f[2], substr(comm, 1, 15) }' "$1" | LC_ALL=C sort -n
}
self=$(awk '$1 == "self" { print $2 }' "$S/req/dom0-truth.out")
dom0_stat_norm "$S/req/dom0-truth.out" | awk -v s="${self:-999999999}" '$1 < s' >"$TMP/truth-dom0.txt"

SRC="qemu:$RAM,qmp=$QMP"
expect_exit 0 "$VMET" guests --json "$SRC"
cp "$OUT" "$TMP/guests.json"
n=$(jq '.guests | length' "$TMP/guests.json")
nvmcb=$(jq '[.guests[] | select(.structure == "vmcb")] | length' "$TMP/guests.json")
# (a reused bed may hold the roots of a PV domU destroyed before: Xen's M2P
# marks their frames free, and vmet calls them stale)
npv=$(jq '[.guests[] | select(.structure == "xen-pv-root" and .trust != "stale")] | length' "$TMP/guests.json")
want=1
[ "$hvm_ok" = 1 ] && want=2
echo "vmet guests on Xen's RAM: $n guest(s): $(jq -r '[.guests[] | "\(.guest) \(.structure) \(.stage2) root \(.stage2_root) trust \(.trust)"] | join("; ")' "$TMP/guests.json")"
[ "$nvmcb" = "$want" ] || { echo "FAIL: $nvmcb VMCB guests on Xen's RAM, wanted $want (PVH, HVM)"; FAILS=$((FAILS + 1)); }
# PV guests have no VMCB: dom0 and the PV domU, found by their kernel roots.
wantpv=1
[ "$pv_ok" = 1 ] && wantpv=2
[ "$npv" = "$wantpv" ] || { echo "FAIL: $npv Xen PV guests on Xen's RAM, wanted $wantpv (dom0, PV domU)"; FAILS=$((FAILS + 1)); }
# Each VMCB guest must be one of the domUs, listed exactly: which one, its
# kernel's _text tells (each domU's own kallsyms, in its truth: the HVM
# domU's kernel has KASLR, the PVH one, entered without the decompressor,
# has not).  Both domUs spin (idle=poll) and share one CPU, so L0's 16
# register samples catch one of them running, not always both: each
# guest's trust is agree or no-helper (never a disagreement), and at least
# one is confirmed.
text_of() { awk -F'\t' '$1 == "ksym" { split($2, f, " "); if (f[3] == "_text") { print "0x" f[1]; exit } }' "$1"; }
pvh_text=$(text_of "$S/truth-domu.txt")
hvm_text=$( [ "$hvm_ok" = 1 ] && text_of "$TMP/truth-hvm.txt")
agreed=0 seen_dom0=0 seen_pv=0
for g in $(seq "$n"); do
	kt=$(jq -r ".guests[$((g - 1))].kernel_text_va" "$TMP/guests.json")
	kind=$(jq -r ".guests[$((g - 1))].structure" "$TMP/guests.json")
	trust=$(jq -r ".guests[$((g - 1))].trust" "$TMP/guests.json")
	if [ "$kind" = xen-pv-root ]; then
		# dom0 or the PV domU: the PV domU's listing is its truth's
		case $trust in
		agree | no-helper) ;;
		stale) echo "PV guest $g: $(jq -r ".guests[$((g - 1))].note" "$TMP/guests.json")"; continue ;;
		*) echo "FAIL: PV guest $g: trust $trust"; FAILS=$((FAILS + 1)); continue ;;
		esac
		expect_exit 0 "$VMET" ps --json --profile auto --guest "$g" "$SRC"
		cp "$OUT" "$TMP/l0-pv-$g.json"
		if [ "$pv_ok" = 1 ] && jq -e '.tasks[] | select(.pid == 1) | .cmdline | test("^/bin/sh /init")' "$OUT" >/dev/null &&
		   ! jq -e '.tasks[] | select(.comm == "xenstored")' "$OUT" >/dev/null; then
			seen_pv=$((seen_pv + 1))
			pv_half=$(jq -r ".guests[$((g - 1))].stage2_root" "$TMP/guests.json")
			ps_norm "$OUT" >"$TMP/l0-ps-$g.txt"
			compare_live "$TMP/truth-pv-ps.txt" "$TMP/l0-ps-$g.txt" "PV domU processes from L0, by its kernel roots (--guest $g)"
			expect_exit 0 "$VMET" netstat --json --profile auto --guest "$g" "$SRC"
			inet_norm "$OUT" >"$TMP/l0-net-$g.txt"
			compare "$TMP/truth-pv-net.txt" "$TMP/l0-net-$g.txt" "PV domU sockets from L0 (--guest $g)"
		else
			seen_dom0=$((seen_dom0 + 1))
			jq -r '.tasks[] | select(.comm | test("^kworker/") | not) | "\(.pid) \(.ppid) \(.comm)"' "$OUT" |
				LC_ALL=C sort -n | awk -v s="${self:-999999999}" '$1 < s' >"$TMP/l0-dom0.txt"
			compare "$TMP/truth-dom0.txt" "$TMP/l0-dom0.txt" "dom0's processes from L0 (--guest $g; dom0 is a PV guest too)"
		fi
		continue
	fi
	if [ "$((kt))" = "$((pvh_text))" ]; then
		which=PVH truth_ps=$TMP/truth-ps.txt truth_net=$TMP/truth-net.txt
	elif [ -n "$hvm_text" ] && [ "$((kt))" = "$((hvm_text))" ]; then
		which=HVM truth_ps=$TMP/truth-hvm-ps.txt truth_net=$TMP/truth-hvm-net.txt
	else
		echo "FAIL: guest $g's kernel (_text $kt) is neither domU's"; FAILS=$((FAILS + 1))
		continue
	fi
	case $trust in
	agree) agreed=$((agreed + 1)) ;;
	no-helper) ;;
	*) echo "FAIL: the $which domU's VMCB: trust $trust"; FAILS=$((FAILS + 1)) ;;
	esac
	expect_exit 0 "$VMET" ps --json --profile auto --guest "$g" "$SRC"
	ps_norm "$OUT" >"$TMP/l0-ps-$g.txt"
	compare_live "$truth_ps" "$TMP/l0-ps-$g.txt" "$which domU processes from L0 through Xen's NPT (--guest $g)"
	expect_exit 0 "$VMET" netstat --json --profile auto --guest "$g" "$SRC"
	inet_norm "$OUT" >"$TMP/l0-net-$g.txt"
	compare "$truth_net" "$TMP/l0-net-$g.txt" "$which domU sockets from L0 through Xen's NPT (--guest $g)"
done
[ "$agreed" -ge 1 ] || { echo "FAIL: L0's samples confirmed no domU's VMCB"; FAILS=$((FAILS + 1)); }
[ "$seen_dom0" = 1 ] || { echo "FAIL: $seen_dom0 PV guests at L0 look like dom0, wanted 1"; FAILS=$((FAILS + 1)); }
[ "$pv_ok" = 0 ] || [ "$seen_pv" = 1 ] || { echo "FAIL: $seen_pv PV guests at L0 look like the PV domU, wanted 1"; FAILS=$((FAILS + 1)); }
# Once destroyed, the PV domU is gone or, while Xen has not scrubbed its
# memory yet, stale (its roots' frames free in Xen's M2P), never live.
if [ "$pv_ok" = 1 ]; then
	xen_dom0_run "$S" pv-destroy 60 "xl destroy $DOMU_PV_NAME" >/dev/null
	expect_exit 0 "$VMET" guests --json "$SRC"
	st=$(jq -r --arg h "${pv_half:-none}" '[.guests[] | select(.stage2_root == $h) | .trust] | join(",")' "$OUT")
	case $st in
	'') echo "destroyed PV domU: its roots are gone from Xen's memory" ;;
	stale) echo "destroyed PV domU: listed stale ($(jq -r --arg h "$pv_half" '.guests[] | select(.stage2_root == $h) | .note' "$OUT"))" ;;
	*) echo "FAIL: the destroyed PV domU (kernel half $pv_half) is listed with trust '$st'"; FAILS=$((FAILS + 1)) ;;
	esac
fi

[ "$FAILS" = 0 ] || exit 1
echo "70-xen: all passed"
