#!/bin/bash
# vmet ps and netstat in a nested set-up, V-Met's own case: L0 QEMU (TCG,
# AMD SVM with nested paging) runs L1 (Debian's kernel + KVM + QEMU), which
# runs L2 (the flat test guest).  From L0's ELF dump:
#   - L1's processes and sockets (VMCOREINFO of the dump's own layer),
#   - L2's, through L1's nested page tables (--guest 1: the VMCB found in
#     L1's memory gives the nCR3, checked against L0's records),
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
env=$("$TB/fetch-kernel.sh" --dbg --quiet 2>"$TMP/fetch.log" | tail -n 1)
[ -f "$env" ] || { cat "$TMP/fetch.log"; skip "no Debian kernel"; }
# shellcheck disable=SC1090
VMLINUX=$(. "$env"; echo "${VMLINUX:-}")
[ -f "$VMLINUX" ] || skip "no DWARF vmlinux in $env"
PROF=$TMP/kernel.vmprof
"$VMET" profile build "$VMLINUX" -o "$PROF" >/dev/null 2>&1 || { echo "FAIL: profile build"; exit 1; }

export VMET_STATE_DIR=$TMP/state
NAME=e2e-nested-$$
trap '"$NB/stop.sh" "$NAME" >/dev/null 2>&1; rm -rf "$TMP"' EXIT
# The bed itself failing (it is slow and load-sensitive under TCG) is not a
# vmet failure: reported as a skip, which CI counts as a failure anyway.
"$NB/boot.sh" "$NAME" >"$TMP/boot.log" 2>&1 ||
	{ grep -v '^\[' "$TMP/boot.log" | tail -8; skip "the nested testbed did not come up"; }
"$NB/capture.sh" "$NAME" >"$TMP/capture.log" 2>&1 ||
	{ tail -8 "$TMP/capture.log"; skip "the nested testbed's capture failed"; }
S=$VMET_STATE_DIR/$NAME
DUMP=$S/dump.elf

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
# L2's kernel is found by a CR3 through the NPT, never by L0's VMCOREINFO
[ "$(jq -r .kernel.located_by "$TMP/l2-ps.json")" = cr3 ] ||
	{ echo "FAIL: L2 not located through its CR3"; FAILS=$((FAILS + 1)); }
# and L1's QEMU, which runs L2, is in L1's list
jq -e '[.tasks[] | select(.comm | startswith("qemu-system"))] | length >= 1' "$TMP/l1-ps.json" >/dev/null ||
	{ echo "FAIL: no QEMU in L1"; FAILS=$((FAILS + 1)); }
finish
