#!/bin/bash
# The QEMU ELF dump of a 5-level-paging guest (test bed "flat-max", -cpu
# max: CR4.LA57): the mode vmet infers from the QEMU note is 5-level, the
# CR3 is QMP's, the kernel's _stext translates through the 5-level tables,
# and the record survives a snapshot round trip.
set -u
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/../.."

if [ ! -x tests/guest/testbed.sh ]; then
	echo "SKIP: tests/guest/testbed.sh is not there: no real guest to test against"
	exit 77
fi
if ! state=$(tests/guest/testbed.sh --cpu max 2>"$TMP/testbed.err" | tail -n 1) || [ ! -d "$state" ]; then
	echo "SKIP: tests/guest/testbed.sh --cpu max gave no guest: $(tail -n 3 "$TMP/testbed.err")"
	exit 77
fi
elf=$state/dump.elf
qcr3=$(grep -oiE '(0x)?[0-9a-f]+' "$state/cr3.txt" | head -n 1)

expect_exit 0 "$VMET" info --json --no-kernel "$elf"
cp "$OUT" "$TMP/elf.json"
expect_exit 0 jq -e --arg c "$(printf 0x%x $((qcr3)))" '.vcpus[0].cr3 == $c and
	.vcpus[0].mode == "5" and .vcpus[0].cr3_origin == "dump-note" and .vcpus[0].efer == "0x500"' \
	"$TMP/elf.json"
stext=$(jq -r '.vmcoreinfo["SYMBOL(_stext)"] // empty' "$TMP/elf.json")
if [ -n "$stext" ]; then
	expect_exit 0 "$VMET" translate "$elf" "0x$stext"
	expect_out "PML5"
	expect_out "host physical"
else
	echo "FAIL: no SYMBOL(_stext) in the dump's VMCOREINFO"
	FAILS=$((FAILS + 1))
fi
expect_exit 0 "$VMET" dump --quiet --no-banner "$elf" -o "$TMP/g.vmsnap"
expect_exit 0 "$VMET" info --json --no-kernel "$TMP/g.vmsnap"
expect_exit 0 jq -e --slurpfile e "$TMP/elf.json" '.vcpus == $e[0].vcpus' "$OUT"
[ -n "$stext" ] && expect_exit 0 "$VMET" translate "$TMP/g.vmsnap" "0x$stext"
finish
