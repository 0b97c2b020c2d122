#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# check-vmcb.sh NAME: check a captured nested bed against the hardware's
# own record of L2, with no vmet code involved (find-vmcb.c is a separate
# oracle on purpose).
#
# L1's memory (ram.raw) must hold exactly one VMCB with nested paging on
# (L2 has one vCPU); its guest CR3 must be the CR3 L0's vCPU showed in at
# least one register sample (those taken while L2 ran); and walking L2's
# linux_banner through that CR3 and nCR3 must land on the text of L2's
# /proc/version.  Prints what it found and the verdicts; exit 0 if all
# hold, 1 if not, 2 on a usage or set-up error.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

case ${1:-} in
-h | --help) sed -n '4,14p' "$0"; exit 0 ;;
esac
[ $# -eq 1 ] || { echo "usage: check-vmcb.sh NAME" >&2; exit 2; }
tb_name_ok "$1"
dir=$(tb_state "$1")
die() { echo "check-vmcb.sh: $*" >&2; exit 2; }
for f in ram.raw regs-samples.txt; do
	[ -s "$dir/$f" ] || die "$dir/$f missing: run capture.sh $1 first"
done

bin=$dir/find-vmcb
src=$NESTED_DIR/find-vmcb.c
if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ]; then
	${CC:-cc} -std=c11 -O2 -Wall -Wextra -Werror -o "$bin" "$src" ||
		die "cannot build $src"
fi

rc=0
out=$("$bin" "$dir/ram.raw") || rc=$?
[ "$rc" -le 1 ] || die "find-vmcb failed on $dir/ram.raw"
printf '%s\n' "$out" | sed 's/^/  /'
vmcbs=$(printf '%s\n' "$out" | grep ' np=1 ' || true)
n=$(printf '%s' "$vmcbs" | grep -c . || true)
if [ "$n" -ne 1 ]; then
	echo "FAIL: $n VMCBs with nested paging in $dir/ram.raw, expected 1"
	exit 1
fi

# Compare as numbers: 'info registers' pads to 16 digits, find-vmcb does not.
vmcb_cr3=$(printf '%s\n' "$vmcbs" | sed -n 's/.* cr3=\(0x[0-9a-f]*\).*/\1/p')
seen=0
while read -r line; do
	s_cr3=$(printf '%s\n' "$line" | sed -n 's/.* cr3=\(0x[0-9a-f]*\).*/\1/p')
	[ -n "$s_cr3" ] || continue
	if [ $((s_cr3)) -eq $((vmcb_cr3)) ]; then
		seen=$((seen + 1))
	fi
done <"$dir/regs-samples.txt"
total=$(grep -c . "$dir/regs-samples.txt")
if [ "$seen" -eq 0 ]; then
	echo "FAIL: the VMCB's CR3 $vmcb_cr3 is in none of the $total register samples"
	exit 1
fi
echo "OK: one VMCB with nested paging; its CR3 $vmcb_cr3 is in $seen of $total register samples"

# Through the VMCB's CR3 and nCR3, L2's linux_banner (its address from L2's
# own kallsyms) must hold what L2's /proc/version says.
va=$(awk -F'\t' '$1 == "ksym" && $2 ~ / linux_banner$/ { split($2, f, " "); print f[1]; exit }' \
	"$dir/truth-l2.txt")
want=$(awk -F'\t' '$1 == "version" { print substr($2, 1, 40); exit }' "$dir/truth-l2.txt")
[ -n "$va" ] && [ -n "$want" ] || die "no linux_banner address or version line in $dir/truth-l2.txt"
walks=$("$bin" "$dir/ram.raw" "$va" | grep '^walk ' || true)
printf '%s\n' "$walks" | sed 's/^/  /'
if ! printf '%s\n' "$walks" | grep -qF -- " bytes=$want"; then
	echo "FAIL: L2's linux_banner 0x$va does not read '$want' through the VMCB's CR3 and nCR3"
	exit 1
fi
echo "OK: L2's linux_banner 0x$va reads L2's /proc/version through the VMCB's CR3 and nCR3"
