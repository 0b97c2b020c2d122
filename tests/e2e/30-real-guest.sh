#!/bin/bash
# Snapshots of a real guest (tests/guest/testbed.sh: Debian's kernel under
# QEMU TCG, captured at one moment as dump.elf from QMP dump-guest-memory,
# ram.raw copied from the RAM file, cr3.txt from `info registers`):
#   - the ELF dump gives the same bytes as ram.raw over every PT_LOAD range
#     that is RAM (0xa0000-0xfffff is left out: the RAM file holds what is
#     behind the VGA window and ROM shadows, the dump what the guest sees);
#   - the CR3 in the dump's QEMU note equals the one QMP reported, and it
#     translates the kernel's _stext (from VMCOREINFO);
#   - ELF -> vmsnap -> raw is byte-identical, the digest verifies, and the
#     vCPU record and VMCOREINFO survive;
#   - a --pages-for ps,netstat snapshot gives the same listings as the dump;
#   - a live dump (qemu:RAM,qmp=SOCK) pauses the guest and leaves it running.
set -u
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/../.."

state=${VMET_TESTBED_STATE:-}
if [ -z "$state" ]; then
	if [ ! -x tests/guest/testbed.sh ]; then
		echo "SKIP: tests/guest/testbed.sh is not there: no real guest to test against"
		exit 77
	fi
	if ! state=$(tests/guest/testbed.sh 2>"$TMP/testbed.err" | tail -n 1) || [ ! -d "$state" ]; then
		echo "SKIP: tests/guest/testbed.sh gave no guest: $(tail -n 3 "$TMP/testbed.err")"
		exit 77
	fi
fi
for f in dump.elf ram.raw cr3.txt; do
	if [ ! -f "$state/$f" ]; then
		echo "SKIP: the testbed state '$state' has no $f"
		exit 77
	fi
done
elf=$state/dump.elf ram=$state/ram.raw
ramsize=$(stat -L -c %s "$ram")

# QMP's CR3: "CR3=00000000024b4000" as in `info registers`, or a bare number
qcr3=$(grep -oiE 'cr3[=: ]+(0x)?[0-9a-f]+' "$state/cr3.txt" | head -n 1 | grep -oiE '[0-9a-f]+$')
[ -n "$qcr3" ] || qcr3=$(grep -oiE '(0x)?[0-9a-f]+' "$state/cr3.txt" | head -n 1 | sed 's/^0x//')
qcr3=$((16#$qcr3))

expect_exit 0 "$VMET" info --json "$elf"
cp "$OUT" "$TMP/elf.json"
ecr3=$(jq -r '.vcpus[0].cr3' "$TMP/elf.json")
if [ $((ecr3)) -ne "$qcr3" ]; then
	echo "FAIL: CR3 in the ELF note $ecr3, QMP said $(printf 0x%x "$qcr3")"
	FAILS=$((FAILS + 1))
else
	echo "ok: CR3 $ecr3 from the dump note equals QMP's"
fi
[ "$(jq -r '.vcpus[0].cr3_origin' "$TMP/elf.json")" = dump-note ] ||
	{ echo "FAIL: CR3 origin is not dump-note"; FAILS=$((FAILS + 1)); }
stext=$(jq -r '.vmcoreinfo["SYMBOL(_stext)"] // empty' "$TMP/elf.json")
if [ -n "$stext" ]; then
	expect_exit 0 "$VMET" translate "$elf" "0x$stext"
	expect_out "host physical"
else
	echo "FAIL: the dump has no VMCOREINFO SYMBOL(_stext) (is qemu_fw_cfg loaded in the guest?)"
	FAILS=$((FAILS + 1))
fi

# ELF -> raw, compared with the RAM file range by range
t0=$(date +%s.%N)
expect_exit 0 "$VMET" dump --quiet --format raw "$elf" -o "$TMP/elf.raw"
compared=0
while read -r s e; do
	s=$((s)) e=$((e))
	[ "$e" -gt "$ramsize" ] && e=$ramsize
	# cut out 0xa0000-0xfffff
	for piece in "$s $((e < 0xa0000 ? e : 0xa0000))" "$((s > 0x100000 ? s : 0x100000)) $e"; do
		set -- $piece
		[ "$2" -gt "$1" ] || continue
		if cmp -s -i "$1:$1" -n $(($2 - $1)) "$TMP/elf.raw" "$ram"; then
			compared=$((compared + $2 - $1))
		else
			echo "FAIL: the ELF dump and ram.raw differ in [$(printf 0x%x "$1"), $(printf 0x%x "$2"))"
			cmp -i "$1:$1" -n $(($2 - $1)) "$TMP/elf.raw" "$ram" | head -n 2
			FAILS=$((FAILS + 1))
		fi
	done
done < <(jq -r '.ranges[] | "\(.start) \(.end)"' "$TMP/elf.json")
if [ "$compared" -lt $((ramsize * 9 / 10)) ]; then
	echo "FAIL: only $compared of $ramsize RAM bytes were compared"
	FAILS=$((FAILS + 1))
else
	echo "ok: $compared bytes of the ELF dump equal ram.raw"
fi

# ELF -> vmsnap -> raw
expect_exit 0 "$VMET" dump --json "$elf" -o "$TMP/g.vmsnap"
t1=$(date +%s.%N)
echo "dump of the real guest: $(jq -r '"\(.memory_bytes / 1048576 | floor) MiB in \(.milliseconds) ms, file \(.file_bytes / 1048576 | floor) MiB"' "$OUT")"
expect_exit 0 "$VMET" info --json --verify "$TMP/g.vmsnap"
cp "$OUT" "$TMP/snap.json"
expect_exit 0 jq -e --arg c "$ecr3" '.verify.ok and .vcpus[0].cr3 == $c and
	.vcpus[0].cr3_origin == "dump-note" and .snapshot.metadata.source_format == "elf"' \
	"$TMP/snap.json"
[ "$(jq -c .vmcoreinfo "$TMP/snap.json")" = "$(jq -c .vmcoreinfo "$TMP/elf.json")" ] ||
	{ echo "FAIL: VMCOREINFO differs after the round trip"; FAILS=$((FAILS + 1)); }
expect_exit 0 "$VMET" dump --quiet --format raw "$TMP/g.vmsnap" -o "$TMP/g.raw"
# (over the memory ranges only: the sparse images span up to 4 GiB)
while read -r s e; do
	cmp -s -i "$((s)):$((s))" -n $((e - s)) "$TMP/elf.raw" "$TMP/g.raw" ||
		{ echo "FAIL: ELF -> vmsnap -> raw differs in [$s, $e)"; FAILS=$((FAILS + 1)); }
done < <(jq -r '.ranges[] | "\(.start) \(.end)"' "$TMP/elf.json")
rm -f "$TMP/g.raw"

# A live dump of the running guest: paused over QMP while it is read, and
# running again afterwards.  Under the test bed's lock, so that it never
# resumes a guest that capture.sh is holding stopped.
if [ -S "$state/qmp.sock" ] && [ -s "$state/ram.path" ] && [ -x tests/guest/qmp.sh ]; then
	name=$(basename "$state")
	live="qemu:$(cat "$state/ram.path"),qmp=$state/qmp.sock"
	exec 8>"$(dirname "$state")/.$name.lock"
	if flock -w 300 8; then
		before=$(tests/guest/qmp.sh "$state/qmp.sock" status 2>/dev/null)
		expect_exit 0 "$VMET" dump --quiet --no-banner "$live" -o "$TMP/live.vmsnap"
		after=$(tests/guest/qmp.sh "$state/qmp.sock" status 2>/dev/null)
		flock -u 8
		[ "$before" = "$after" ] ||
			{ echo "FAIL: guest was '$before' before the live dump, '$after' after"; FAILS=$((FAILS + 1)); }
		expect_exit 0 "$VMET" info --json --no-kernel --verify "$TMP/live.vmsnap"
		expect_exit 0 jq -e '.verify.ok and .vcpus[0].cr3_origin == "helper" and
			.snapshot.metadata.source_format == "qemu" and .memory_bytes > 500000000' "$OUT"
		echo "ok: live dump of guest $name (status $before before and after)"
	else
		echo "FAIL: the test bed's lock for $name stayed busy for 5 minutes"
		FAILS=$((FAILS + 1))
	fi
	exec 8>&-
else
	echo "NOTE: guest $(basename "$state") is not running: no live dump tried"
fi

# A minimal snapshot reproduces the listings
if "$VMET" ps "$elf" >"$TMP/ps.elf" 2>"$TMP/ps.err"; then
	"$VMET" netstat "$elf" >"$TMP/ns.elf" 2>/dev/null
	expect_exit 0 "$VMET" dump --pages-for ps,netstat "$elf" -o "$TMP/mini.vmsnap"
	"$VMET" ps "$TMP/mini.vmsnap" >"$TMP/ps.mini" 2>&1
	"$VMET" netstat "$TMP/mini.vmsnap" >"$TMP/ns.mini" 2>&1
	if cmp -s "$TMP/ps.elf" "$TMP/ps.mini" && cmp -s "$TMP/ns.elf" "$TMP/ns.mini"; then
		echo "ok: a $(stat -c %s "$TMP/mini.vmsnap")-byte --pages-for snapshot lists the same $(wc -l <"$TMP/ps.elf") ps lines and $(wc -l <"$TMP/ns.elf") netstat lines"
	else
		echo "FAIL: ps/netstat on the minimal snapshot differ from the dump"
		diff "$TMP/ps.elf" "$TMP/ps.mini" | head -n 5
		diff "$TMP/ns.elf" "$TMP/ns.mini" | head -n 5
		FAILS=$((FAILS + 1))
	fi
else
	echo "NOTE: vmet ps cannot read this guest, so --pages-for was not tried: $(head -c 300 "$TMP/ps.err")"
fi
finish
