#!/bin/bash
# vmet dump / vmet info on synthetic images: raw -> vmsnap -> raw is
# byte-identical, LiME reads back, the digest is checked, and damage,
# usage errors and interruption leave no file behind (the ASan build runs
# this same script).
set -u
. "$(dirname "$0")/lib.sh"

img=$TMP/img.raw
# 8 MiB: 2 MiB of noise, zero pages, a marker, a text-like region.
truncate -s 8M "$img"
head -c 2M /dev/urandom | dd of="$img" bs=1M seek=1 conv=notrunc status=none
printf 'VMET-MARKER' | dd of="$img" bs=1 seek=$((0x600010)) conv=notrunc status=none
yes 'vmet snapshot round trip' | head -c 1M | dd of="$img" bs=1M seek=6 conv=notrunc status=none

expect_exit 0 "$VMET" dump --quiet "$img" -o "$TMP/a.vmsnap"
expect_exit 0 "$VMET" info --verify "$TMP/a.vmsnap"
expect_out "format:  vmsnap"
expect_out "(verified)"
expect_out "8388608 bytes"
expect_exit 0 "$VMET" dump --format raw "$TMP/a.vmsnap" -o "$TMP/b.raw"
expect_exit 0 cmp "$img" "$TMP/b.raw"
# raw export keeps zero pages sparse
blocks=$(stat -c %b "$TMP/b.raw")
[ $((blocks * 512)) -lt $((8 << 20)) ] || { echo "FAIL: raw export is not sparse"; FAILS=$((FAILS + 1)); }

# --json from both commands is valid JSON with the figures
expect_exit 0 "$VMET" dump --json "$img" -o "$TMP/j.vmsnap" --cr3 0x1000 --mode 4
if command -v jq >/dev/null; then
	expect_exit 0 jq -e '.pages_stored > 500 and .pages_zero > 1000 and .vcpu_records == 1' "$OUT"
	expect_exit 0 "$VMET" info --json --verify "$TMP/j.vmsnap"
	expect_exit 0 jq -e '.verify.ok == true and .vcpus[0].cr3 == "0x1000" and
		.vcpus[0].cr3_origin == "user" and .snapshot.metadata.source_format == "raw"' "$OUT"
fi
# the user's CR3 is used by translate on the snapshot (no --cr3 needed)
expect_exit 0 "$VMET" info "$TMP/j.vmsnap"
expect_out "cr3   0x1000 (user)"

# a snapshot of a snapshot keeps the original acquisition metadata
expect_exit 0 "$VMET" dump --quiet "$TMP/j.vmsnap" -o "$TMP/jj.vmsnap"
expect_exit 0 "$VMET" info --no-kernel "$TMP/jj.vmsnap"
expect_out "source.source_format raw"
expect_out "source_format        vmsnap"
expect_out "cr3   0x1000 (user)"

# LiME: two ranges with a gap, written here by hand (header: magic, version 1,
# start, inclusive end, 8 reserved bytes)
lime_hdr() {
	printf 'EMiL\x01\x00\x00\x00'
	local v
	for v in "$1" "$2"; do
		printf "$(printf '\\x%02x' $((v & 255)) $(((v >> 8) & 255)) $(((v >> 16) & 255)) \
			$(((v >> 24) & 255)) 0 0 0 0)"
	done
	printf '\0\0\0\0\0\0\0\0'
}
{
	lime_hdr 0 $((0x9ffff)); head -c $((0xa0000)) "$img"
	lime_hdr $((0x100000)) $((0x7fffff)); tail -c +$((0x100001)) "$img"
} > "$TMP/m.lime"
expect_exit 0 "$VMET" info "$TMP/m.lime"
expect_out "format:  lime"
expect_out "2 ranges"
expect_exit 0 "$VMET" dump --quiet "$TMP/m.lime" -o "$TMP/m.vmsnap"
expect_exit 0 "$VMET" dump --format raw "$TMP/m.vmsnap" -o "$TMP/m.raw"
expect_exit 0 cmp -n $((0xa0000)) "$img" "$TMP/m.raw"
expect_exit 0 cmp -i $((0x100000)) "$img" "$TMP/m.raw"
expect_exit 0 "$VMET" info "$TMP/m.vmsnap"
expect_out "[0x000000000000, 0x0000000a0000)"
expect_out "0x000000100000, 0x000000800000)"

# damage: truncation, a flipped byte inside the page data
cp "$TMP/a.vmsnap" "$TMP/t.vmsnap"
truncate -s -1 "$TMP/t.vmsnap"
expect_exit 2 "$VMET" info "$TMP/t.vmsnap"
expect_err "truncated"
cp "$TMP/a.vmsnap" "$TMP/f.vmsnap"
printf '\xff\xff\xff\xff' | dd of="$TMP/f.vmsnap" bs=1 seek=300000 conv=notrunc status=none
expect_exit 2 "$VMET" info --verify "$TMP/f.vmsnap"
expect_out "VERIFY FAILED"
grep -qE 'digest mismatch|chunk [0-9]+ .* is corrupt' "$ERR" ||
	{ echo "FAIL: damage not named: $(cat "$ERR")"; FAILS=$((FAILS + 1)); }
expect_exit 2 "$VMET" info --verify "$img"
expect_err "carries no digest"

# usage and write errors: nothing is left under the output name
expect_exit 2 "$VMET" dump "$img"
expect_err "need one SOURCE and -o FILE"
expect_exit 2 "$VMET" dump --format elf "$img" -o "$TMP/x"
expect_err "is not vmsnap or raw"
expect_exit 2 "$VMET" dump --level 12 "$img" -o "$TMP/x"
expect_err "--level"
expect_exit 2 "$VMET" dump "$img" -o "$TMP/no/such/dir/x.vmsnap"
expect_err "temporary file"
expect_exit 2 "$VMET" dump --source-format lime "$img" -o "$TMP/x.vmsnap"
expect_err "bad LiME magic"
[ ! -e "$TMP/x.vmsnap" ] || { echo "FAIL: x.vmsnap exists after an error"; FAILS=$((FAILS + 1)); }
# --pages-for on memory without a kernel: the command's failure stops the dump
expect_exit 2 "$VMET" dump --pages-for ps "$img" -o "$TMP/p.vmsnap"
expect_err "nothing written"
expect_exit 2 "$VMET" dump --pages-for top "$img" -o "$TMP/p.vmsnap"
expect_err "'top' is not one of ps, netstat"
[ ! -e "$TMP/p.vmsnap" ] || { echo "FAIL: p.vmsnap exists after an error"; FAILS=$((FAILS + 1)); }

# Ctrl-C in the middle: no file under the final name, no temporary left
big=$TMP/big.raw
head -c 192M /dev/urandom > "$big"
"$VMET" dump --level 9 --quiet "$big" -o "$TMP/big.vmsnap" 2>"$TMP/int.err" &
pid=$!
# Interrupt once the temporary file exists, i.e. mid-write (however slowly
# vmet starts: under valgrind it takes seconds).
for _ in $(seq 300); do
	ls "$TMP" | grep -q '^big\.vmsnap\.tmp\.' && break
	sleep 0.1
done
kill -INT "$pid"
wait "$pid"
rc=$?
rm -f "$big"
if [ "$rc" -ne 2 ] || ! grep -q interrupted "$TMP/int.err"; then
	echo "FAIL: interrupted dump: exit $rc, stderr: $(cat "$TMP/int.err")"
	FAILS=$((FAILS + 1))
fi
if [ -e "$TMP/big.vmsnap" ] || ls "$TMP" | grep -q '\.tmp\.'; then
	echo "FAIL: interrupted dump left a file: $(ls "$TMP")"
	FAILS=$((FAILS + 1))
fi
finish
