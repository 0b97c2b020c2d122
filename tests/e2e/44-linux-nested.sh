#!/bin/bash
# vmet ps and netstat in a nested set-up, V-Met's own case: L0 QEMU (TCG,
# AMD SVM with nested paging) runs L1 (Debian's kernel + KVM + QEMU), which
# runs L2 (the flat test guest).  From L0's ELF dump:
#   - L1's processes and sockets (VMCOREINFO of the dump's own layer),
#   - L2's, through L1's nested page tables (--guest 1: the VMCB found in
#     L1's memory gives the nCR3, checked against L0's records),
#   - both layers' executables (ps --exe; for L2 the dentry and mount walk
#     through L1's nested page tables),
#   - vmet translate --guest 1 of L2's linux_banner (both stages),
#   - a lying guest hypervisor: the VMCB's CR3 or nCR3 rewritten in a copy
#     of L1's RAM; with L0's register samples as the helper stream vmet
#     reports the disagreement and still lists L2 truthfully, without them
#     (and with a forged nCR3) it refuses rather than print a made-up list,
# each compared with that layer's own truth (tests/guest/nested/capture.sh,
# normalized by truth-ps.sh / truth-netstat.sh): nothing missing, nothing
# extra.  No nested testbed, QEMU or kernel, or a bed that does not come
# up: exit 77.
set -u
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VMET_LINUX_GUEST_LIB=1
# shellcheck source=40-linux-ps.sh
. "$E2E_DIR/40-linux-ps.sh"
NB=$TB/nested

for tool in qemu-system-x86_64 jq; do
	command -v "$tool" >/dev/null || skip "$tool not installed"
done
[ -x "$NB/boot.sh" ] && [ -x "$NB/capture.sh" ] || skip "tests/guest/nested scripts missing"
export VMET_STATE_DIR=$TMP/state
export VMET_CACHE_DIR=$TMP/cache	# guest-discovery cache: not the user's
NAME=e2e-nested-$$
trap '"$NB/stop.sh" "$NAME" >/dev/null 2>&1; rm -rf "$TMP"' EXIT
# The bed itself failing (it is slow and load-sensitive under TCG) is not a
# vmet failure: reported as a skip, which CI counts as a failure anyway.
# Two tries: under TCG on a loaded 2-core machine a boot can time out.
up=0
for try in 1 2; do
	if "$NB/boot.sh" "$NAME" >"$TMP/boot.log" 2>&1 &&
	   "$NB/capture.sh" "$NAME" >"$TMP/capture.log" 2>&1; then
		up=1
		break
	fi
	echo "nested testbed, try $try, did not come up:"
	grep -v '^\[' "$TMP/boot.log" "$TMP/capture.log" 2>/dev/null | tail -8
	"$NB/stop.sh" "$NAME" >/dev/null 2>&1
done
[ "$up" = 1 ] || skip "the nested testbed did not come up"
S=$VMET_STATE_DIR/$NAME
DUMP=$S/dump.elf
# The profile comes out of L1's kernel itself (BTF + kallsyms; L2 runs the
# same build): no debug symbols needed.
PROF=$TMP/kernel.vmprof
"$VMET" profile extract "$DUMP" -o "$PROF" >/dev/null 2>"$TMP/profile.err" ||
	{ cat "$TMP/profile.err"; echo "FAIL: vmet profile extract"; exit 1; }

for lvl in l1 l2; do
	gopt=()
	[ $lvl = l2 ] && gopt=(--guest 1)
	expect_exit 0 "$VMET" ps --json --profile "$PROF" "${gopt[@]}" "$DUMP"
	cp "$OUT" "$TMP/$lvl-ps.json"
	ps_norm "$TMP/$lvl-ps.json" >"$TMP/$lvl-ps.txt"
	compare "$S/truth-$lvl-ps.txt" "$TMP/$lvl-ps.txt" "$lvl processes from L0's dump"
	expect_exit 0 "$VMET" netstat --json --profile "$PROF" "${gopt[@]}" "$DUMP"
	inet_norm "$OUT" >"$TMP/$lvl-net.txt"
	compare "$S/truth-$lvl-netstat.txt" "$TMP/$lvl-net.txt" "$lvl sockets from L0's dump"
done
# Executables (ps --exe: dentries and mounts read through both stages for
# L2) against each layer's own readlink of /proc/PID/exe.
for lvl in l1 l2; do
	gopt=()
	[ $lvl = l2 ] && gopt=(--guest 1)
	expect_exit 0 "$VMET" ps --exe --json --profile "$PROF" "${gopt[@]}" "$DUMP"
	jq -r '.tasks[] | select(.exe != null) | "exe\t\(.pid)\t\(.exe)"' "$OUT" | LC_ALL=C sort >"$TMP/$lvl-exe.txt"
	grep -P '^exe\t' "$S/truth-$lvl.txt" | LC_ALL=C sort >"$TMP/truth-$lvl-exe.txt"
	[ -s "$TMP/truth-$lvl-exe.txt" ] || { echo "FAIL: $lvl's truth has no exe lines"; FAILS=$((FAILS + 1)); }
	compare "$TMP/truth-$lvl-exe.txt" "$TMP/$lvl-exe.txt" "$lvl executables (ps --exe) from L0's dump"
done
# L2's kernel is found by a CR3 through the NPT, never by L0's VMCOREINFO
[ "$(jq -r .kernel.located_by "$TMP/l2-ps.json")" = cr3 ] ||
	{ echo "FAIL: L2 not located through its CR3"; FAILS=$((FAILS + 1)); }
# The same live, from L1's RAM file while L0 runs (QMP: memory map,
# registers sampled while L2 runs, --pause for one consistent moment), and
# from a vmet snapshot of L0's dump (its CPU note travels with it).
RAMFILE=$(cat "$S/ram.path")
expect_exit 0 "$VMET" ps --json --profile "$PROF" --guest 1 --pause "qemu:$RAMFILE,qmp=$S/qmp.sock"
ps_norm "$OUT" >"$TMP/live-l2.txt"
compare_live "$S/truth-l2-ps.txt" "$TMP/live-l2.txt" "l2 processes, live from L0 (qemu:RAMFILE,qmp=)"
# The second --guest run on the same source re-checks the cached VMCB
# instead of scanning L1's memory (live: keyed by the spec, re-checked).
expect_exit 0 "$VMET" ps --json --profile "$PROF" --guest 1 --pause "qemu:$RAMFILE,qmp=$S/qmp.sock"
ps_norm "$OUT" >"$TMP/live-l2b.txt"
compare_live "$S/truth-l2-ps.txt" "$TMP/live-l2b.txt" "l2 processes, live, cached VMCB location"
n=$(ls "$VMET_CACHE_DIR"/guests/*.guests 2>/dev/null | wc -l)
[ "$n" -ge 2 ] || { echo "FAIL: $n guest-discovery cache entries (dump and live expected)"; FAILS=$((FAILS + 1)); }
# L2 runs no guest of its own: --depth 2 scans its memory through the NPT
# and says so; --guest 1/1 names the level.
expect_exit 0 "$VMET" guests --depth 2 --json "$DUMP"
jq -e '.guests[0].guests == [] and .guests[0].guests_note == null and .guests[0].guests_scanned_bytes > 0' \
	"$OUT" >/dev/null || { echo "FAIL: guests --depth 2: $(jq -c '.guests[0] | {guests, guests_note}' "$OUT")"; FAILS=$((FAILS + 1)); }
echo "L2's memory scanned for guests of its own: $(jq '.guests[0].guests_scanned_bytes' "$OUT") bytes"
expect_exit 2 "$VMET" ps --profile "$PROF" --guest 1/1 "$DUMP"
expect_err "guest 1 runs 0 guests of its own"
expect_exit 0 "$VMET" dump --quiet "$DUMP" -o "$TMP/nested.vmsnap"
expect_exit 0 "$VMET" ps --json --profile "$PROF" --guest 1 "$TMP/nested.vmsnap"
ps_norm "$OUT" >"$TMP/snap-l2.txt"
compare "$S/truth-l2-ps.txt" "$TMP/snap-l2.txt" "l2 processes from a vmet snapshot of L0"
rm -f "$TMP/nested.vmsnap"

# vmet translate --guest 1 shows both stages for an L2 kernel address and
# lands on L2's banner (the address from L2's own /proc/kallsyms)
va=0x$(awk -F'\t' '$1 == "ksym" { split($2, f, " "); if (f[3] == "linux_banner") { print f[1]; exit } }' "$S/truth-l2.txt")
expect_exit 0 "$VMET" translate --json --guest 1 "$DUMP" "$va"
pa=$(jq -r '.translations[0].host_physical' "$OUT")
# every stage-1 entry is fetched through a stage-2 walk, and so is the
# final page: at least 2 stage-2 entries (1 GiB NPT pages) per stage-1
# entry and one more walk (KVM maps L2 with 2 MiB NPT pages: 3 each)
s1=$(jq '[.translations[0].steps[] | select(.stage == 1)] | length' "$OUT")
s2=$(jq '[.translations[0].steps[] | select(.stage == 2)] | length' "$OUT")
echo "translate --guest 1 $va: $s1 stage-1 and $s2 stage-2 entries read"
[ "$s1" -ge 3 ] && [ "$s2" -ge $((2 * (s1 + 1))) ] ||
	{ echo "FAIL: translate --guest 1 does not show both stages"; FAILS=$((FAILS + 1)); }
dd if="$S/ram.raw" bs=1 skip=$((pa)) count=14 status=none | grep -q '^Linux version ' ||
	{ echo "FAIL: L2's linux_banner $va translates to $pa, which holds no banner"; FAILS=$((FAILS + 1)); }

# The host side's view: L0's register samples taken while the bed ran
# (capture.sh), fed as a helper record stream.  They must agree with the
# VMCB L1 keeps for L2.
H=$S/regs-samples.txt
expect_exit 0 "$VMET" guests --json --helper "$H" "$S/ram.raw"
[ "$(jq -r '.guests[0].trust' "$OUT")" = agree ] ||
	{ echo "FAIL: guest 1 not confirmed by L0's samples: $(jq -r '.guests[0].note' "$OUT")"; FAILS=$((FAILS + 1)); }
vmcb=$(jq -r '.guests[0].vcpus[0].address' "$OUT")
l1cr3=$(sed -n 's/^sample=capture cr3=\(0x[0-9a-f]*\).*/\1/p' "$H")

# A guest hypervisor that lies about its guest's CR3 (here: the VMCB says
# L1's own page tables): reported, and the host-side CR3 used instead, so
# the process list is still L2's.
cp --sparse=always "$S/ram.raw" "$TMP/lie.raw"
put64 "$TMP/lie.raw" $((vmcb + 0x550)) $((0x1000))
expect_exit 1 "$VMET" guests --helper "$H" "$TMP/lie.raw"
expect_out "DISAGREE"
expect_exit 0 "$VMET" ps --json --profile "$PROF" --guest 1 --helper "$H" "$TMP/lie.raw"
expect_err "misreports its guest"
ps_norm "$OUT" >"$TMP/lie-ps.txt"
compare "$S/truth-l2-ps.txt" "$TMP/lie-ps.txt" "L2 processes despite a lying VMCB CR3"
# Without the host side there is nothing to contradict the lie: vmet must
# not print a process list as if nothing were wrong.
expect_exit 2 "$VMET" ps --profile "$PROF" --guest 1 "$TMP/lie.raw"
expect_err "no kernel"
# A forged nCR3 (pointing at the VMCB page itself): no kernel behind it,
# through the VMCB's CR3 or the host's: an error, never a made-up list.
cp "$S/ram.raw" "$TMP/lie.raw" --sparse=always
put64 "$TMP/lie.raw" $((vmcb + 0xb0)) $((vmcb))
expect_exit 2 "$VMET" ps --profile "$PROF" --guest 1 --helper "$H" "$TMP/lie.raw"
expect_err "no kernel behind nCR3"
rm -f "$TMP/lie.raw"
echo "lying-hypervisor checks done (VMCB at $vmcb, L0 capture CR3 $l1cr3)"

# and L1's QEMU, which runs L2, is in L1's list
jq -e '[.tasks[] | select(.comm | startswith("qemu-system"))] | length >= 1' "$TMP/l1-ps.json" >/dev/null ||
	{ echo "FAIL: no QEMU in L1"; FAILS=$((FAILS + 1)); }
finish
