#!/bin/bash
# Zero-configuration profiles on real guests: the profile vmet derives from
# a kernel's own BTF and kallsyms.
#
# 1. Debian's current generic kernel (the shared test guest): `vmet profile
#    extract` on its ELF dump gives, line for line, the profile `vmet profile
#    build` makes from the -dbg package's DWARF vmlinux; the same from the
#    raw RAM copy, where the kernel is found by a banner scan; vmet ps with it
#    matches the guest; the cache stores it under the banner; forged
#    kallsyms, BTF and init_task bytes are each rejected with exit 2 and a
#    message naming them.
# 2. (Debian's cloud flavour, for which vmet has no profile: 43-linux-cloud-btf.sh.)
# 3. The newest kernel in Debian 12's apt lists (bookworm-backports' 6.12
#    today: the newer kallsyms layout): vmet ps and netstat with no profile
#    given match the guest's own view.
#
# No guest tools or kernel: exit 77.
set -u
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VMET_LINUX_GUEST_LIB=1
# shellcheck source=40-linux-ps.sh
. "$E2E_DIR/40-linux-ps.sh"
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

# ---- 1. the generic kernel, against its DWARF --------------------------------
linux_testbed auto
G1=$TMP/generic
mkdir -p "$G1"
KVER1=$KVER
expect_exit 0 "$VMET" profile extract --json "$DUMP" -o "$G1/mem.vmprof"
cp "$OUT" "$G1/extract.json"
[ "$(jq -r .btf.found_by "$G1/extract.json")" = symbols ] || fail "BTF not found by __start_BTF"
[ "$(jq .kallsyms.symbols "$G1/extract.json")" -gt 50000 ] || fail "too few kallsyms entries"
[ "$(jq -r .located_by "$G1/extract.json")" = vmcoreinfo ] || fail "dump not located by VMCOREINFO"
grep -q "^source btf:memory" "$G1/mem.vmprof" || fail "derived profile's source line"
grep -q "^banner Linux version $KVER1 " "$G1/mem.vmprof" || fail "derived profile's banner"
if [ -f "$PROF" ]; then
	cp "$PROF" "$G1/dwarf.vmprof"
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
ps_norm "$OUT" >"$G1/ps.txt"
compare "$TRUTH_PS" "$G1/ps.txt" "generic kernel, derived profile, ps"

# The cache: stored under the banner, the same profile.
expect_exit 0 env VMET_CACHE_DIR="$TMP/cache" "$VMET" profile extract --cache "$DUMP"
expect_out "cache:"
cached=$(ls "$TMP"/cache/auto-*.vmprof 2>/dev/null | head -1)
if [ -f "$cached" ] && cmp -s "$cached" "$G1/mem.vmprof"; then
	echo "cache: $(basename "$cached") holds the same profile"
else
	fail "no cached profile equal to the extracted one in $TMP/cache"
fi

# The RAM copy: raw, no VMCOREINFO and no CR3: the banner scan finds it.
cp "$RAW" "$G1/ram.raw"
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

# ---- 3. the newest kernel Debian 12 offers (backports), no profile -----------
meta=$(apt-cache search --names-only '^linux-image-[0-9.]+-amd64$' 2>/dev/null | awk '{print $1}' |
	sort -V | tail -n 1)
KVER3=$(apt-cache show --no-all-versions "$meta" 2>/dev/null |
	sed -n 's/^Depends:.*linux-image-\([^ ,]*\).*/\1/p' | head -n 1)
if [ -z "$KVER3" ] || [ "$KVER3" = "$KVER1" ]; then
	echo "note: no kernel newer than $KVER1 in the apt lists: part 3 not run"
else
	LINUX_TB_KVER=$KVER3 linux_testbed newest
	export VMET_CACHE_DIR=$TMP/cache3
	expect_exit 0 "$VMET" profile extract --json "$DUMP"
	echo "newest kernel $KVER3: $(jq .kallsyms.symbols "$OUT") kallsyms entries, $(jq .btf.types "$OUT") BTF types"
	expect_exit 0 "$VMET" ps --json "$DUMP"
	case $(jq -r .kernel.profile "$OUT") in *derived*) ;; *) fail "newest kernel: profile not derived from memory" ;; esac
	ps_norm "$OUT" >"$TMP/ps3.txt"
	compare "$TRUTH_PS" "$TMP/ps3.txt" "newest kernel ($KVER3), no profile, ps"
	expect_exit 0 "$VMET" netstat -tux --json "$DUMP"
	inet_norm "$OUT" >"$TMP/net3.txt"
	compare "$TRUTH_NETSTAT" "$TMP/net3.txt" "newest kernel ($KVER3), no profile, TCP/UDP"
	unix_norm "$OUT" >"$TMP/unix3.txt"
	compare "$TRUTH_UNIX" "$TMP/unix3.txt" "newest kernel ($KVER3), no profile, UNIX"
	unset VMET_CACHE_DIR
fi
finish
