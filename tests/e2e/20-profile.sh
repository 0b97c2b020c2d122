#!/bin/bash
# vmet profile on a real kernel: build a profile from Debian's DWARF vmlinux
# and check every struct size, member offset and size, bit-field position,
# symbol address and the banner against independent oracles (gdb reading
# the same vmlinux, the -dbg package's System.map); check that an ISF made
# from the same data imports to the same dictionary, that the bundled
# profile is what the builder makes today, and that bad inputs fail with
# exit 2 and a message naming the problem.
#
# The vmlinux: $VMET_VMLINUX, else VMLINUX of the kernel.env that
# tests/guest/fetch-kernel.sh --dbg names (when that script exists), else one already extracted under
# /var/cache/vmet-testbed/KVER/usr/lib/debug/boot/, else extracted here from
# a linux-image-*-dbg .deb in /var/cache/vmet-testbed.  None: exit 77.
set -u
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/../.."

CACHE=/var/cache/vmet-testbed
find_vmlinux() {
	local v deb kver
	if [ -n "${VMET_VMLINUX:-}" ]; then
		echo "$VMET_VMLINUX"
		return
	fi
	if [ -x tests/guest/fetch-kernel.sh ]; then
		# It prints the path of a kernel.env (VMLINUX=..., SYSTEM_MAP=...) last.
		v=$(tests/guest/fetch-kernel.sh --dbg --quiet 2>/dev/null | tail -n 1)
		if [ -f "$v" ]; then
			v=$(. "$v" && echo "${VMLINUX:-}")
			if [ -f "$v" ]; then
				echo "$v"
				return
			fi
		fi
	fi
	for v in "$CACHE"/*/usr/lib/debug/boot/vmlinux-*; do
		[ -f "$v" ] && { echo "$v"; return; }
	done
	for deb in "$CACHE"/linux-image-*-dbg_*_amd64.deb; do
		[ -f "$deb" ] || continue
		kver=$(basename "$deb" | sed -E 's/^linux-image-(.*)-dbg_.*/\1/')
		mkdir -p "$CACHE/$kver"
		dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$CACHE/$kver" ./usr/lib/debug/boot/ || return
		for v in "$CACHE/$kver"/usr/lib/debug/boot/vmlinux-*; do
			[ -f "$v" ] && { echo "$v"; return; }
		done
	done
}

VMLINUX=$(find_vmlinux)
if [ -z "$VMLINUX" ] || [ ! -f "$VMLINUX" ]; then
	echo "no DWARF vmlinux (set VMET_VMLINUX or run tests/guest/fetch-kernel.sh --dbg)"
	exit 77
fi
SYSMAP=$(dirname "$VMLINUX")/System.map-${VMLINUX##*/vmlinux-}
echo "vmlinux: $VMLINUX"
P=$TMP/k.vmprof

# ---- build, and how long it takes ----
start=$(date +%s%N)
expect_exit 0 "$VMET" profile build "$VMLINUX" -o "$P"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "build: $ms ms; $(head -n 1 "$OUT")"
expect_out "structs"
if [ "$ms" -gt 20000 ]; then
	echo "FAIL: building took $ms ms (the target is a few seconds)"
	FAILS=$((FAILS + 1))
fi
expect_exit 0 "$VMET" profile show --json "$P"
cp "$OUT" "$TMP/k.json"
nstructs=$(jq '.structs | length' "$TMP/k.json")
nmembers=$(jq '[.structs[].members[]] | length' "$TMP/k.json")
nsyms=$(jq '.symbols | length' "$TMP/k.json")
echo "profile: $nstructs structs, $nmembers members, $nsyms symbols"
for s in task_struct mm_struct cred sock_common inet_sock unix_sock list_head; do
	jq -e --arg s "$s" '.structs[] | select(.name == $s)' "$TMP/k.json" >/dev/null ||
		{ echo "FAIL: no struct $s"; FAILS=$((FAILS + 1)); }
done
# ps and netstat need these; a kernel that renamed one makes the build exit 1.
expect_exit 0 "$VMET" profile show "$P" --struct task_struct

# ---- oracle 1: gdb evaluates offsetof/sizeof on the same vmlinux ----
# gdb's C expression evaluator resolves members of anonymous structs and
# unions itself, so this checks the flattening too.  Bit-fields have no
# address: they are checked against ptype/o below.
# The struct type is looked up once per struct, through $p.
jq -r '.structs[] | .name as $s |
	"set $p = (struct \(.name) *)0",
	"printf \"S \(.name) %d\\n\", sizeof(*$p)",
	(.members[] | select(.bit_size == null) |
	 "printf \"M \($s) \(.name) %d %d\\n\", (long)&$p->\(.name), sizeof($p->\(.name))")' \
	"$TMP/k.json" > "$TMP/gdb.cmds"
jq -r '.structs[] | "S \(.name) \(.size)", (.name as $s | .members[] |
	select(.bit_size == null) | "M \($s) \(.name) \(.offset) \(.size)")' "$TMP/k.json" |
	sort > "$TMP/vmet.facts"
# One -ex per line so that one failing expression does not end the batch.
mapfile -t cmds < "$TMP/gdb.cmds"
args=()
for c in "${cmds[@]}"; do args+=(-ex "$c"); done
structs=$(jq -r '.structs[].name' "$TMP/k.json")
for s in $structs; do args+=(-ex "ptype/o struct $s"); done
args+=(-ex 'printf "BANNER %s", linux_banner')
t0=$(date +%s)
gdb -nx -batch "${args[@]}" "$VMLINUX" > "$TMP/gdb.out" 2> "$TMP/gdb.err"
echo "gdb: $(( $(date +%s) - t0 )) s"
grep -E '^[SM] ' "$TMP/gdb.out" | sort > "$TMP/gdb.facts"
checked=$(wc -l < "$TMP/gdb.facts")
if ! diff "$TMP/vmet.facts" "$TMP/gdb.facts" > "$TMP/facts.diff"; then
	echo "FAIL: struct sizes / member offsets differ from gdb's (< vmet, > gdb):"
	head -20 "$TMP/facts.diff"
	FAILS=$((FAILS + 1))
fi
echo "gdb agrees on $checked sizes and offsets"
[ "$checked" -ge 500 ] || { echo "FAIL: only $checked facts from gdb"; FAILS=$((FAILS + 1)); }

# Bit-fields: ptype/o prints "/* OFFSET: BIT | SIZE */ type name : BITS;" for
# the struct's own bit-fields (members of named inner structs are not
# flattened, so only the struct's direct ones are compared).
nbits=0
while read -r s m off bit bits; do
	if ! awk -v s="$s" -v m="$m" -v off="$off" -v bit="$bit" -v bits="$bits" '
		$0 ~ "^/\\* offset" { cur = ($0 ~ "type = struct " s " \\{") }
		cur && $0 ~ (" " m " : " bits ";") {
			split($0, a, /[:|]/); o = a[1]; sub(/^\/\* */, "", o); b = a[2] + 0
			# gdb counts the bit from the start of the struct'"'"'s byte at o
			if (o * 8 + b == off * 8 + bit) found = 1
		}
		END { exit !found }' "$TMP/gdb.out"; then
		echo "FAIL: bit-field $s.$m at byte $off bit $bit ($bits bits) not in gdb's ptype/o"
		FAILS=$((FAILS + 1))
	fi
	nbits=$((nbits + 1))
done < <(jq -r '.structs[] | .name as $s | .members[] | select(.bit_size != null) |
	"\($s) \(.name) \(.offset) \(.bit_offset) \(.bit_size)"' "$TMP/k.json" |
	grep -E '^(task_struct|sock_common|sock|tcp_sock|inet_sock) ')
echo "gdb agrees on $nbits bit-fields"
[ "$nbits" -ge 5 ] || { echo "FAIL: only $nbits bit-fields checked"; FAILS=$((FAILS + 1)); }

# The banner: gdb reads linux_banner from the ELF; the profile drops the newline.
gdb_banner=$(sed -n 's/^BANNER //p' "$TMP/gdb.out" | head -n 1)
if [ "$gdb_banner" != "$(jq -r .banner "$TMP/k.json")" ] || [ -z "$gdb_banner" ]; then
	echo "FAIL: banner differs from gdb's linux_banner: '$gdb_banner'"
	FAILS=$((FAILS + 1))
fi

# ---- oracle 2: the System.map of the -dbg package ----
if [ -f "$SYSMAP" ]; then
	bad=0 n=0
	while read -r name addr; do
		n=$((n + 1))
		grep -qiE "^0*${addr#0x} [a-zA-Z] $name\$" "$SYSMAP" ||
			{ echo "FAIL: symbol $name $addr not in $SYSMAP"; bad=$((bad + 1)); }
	done < <(jq -r '.symbols[] | "\(.name) \(.address)"' "$TMP/k.json")
	echo "System.map agrees on $((n - bad)) of $n symbols"
	FAILS=$((FAILS + bad))
	# The same profile from --system-map instead of the symbol table.
	expect_exit 0 "$VMET" profile build "$VMLINUX" --system-map "$SYSMAP" -o "$TMP/m.vmprof"
	if ! diff <(grep -v '^source ' "$P") <(grep -v '^source ' "$TMP/m.vmprof") >/dev/null; then
		echo "FAIL: the --system-map profile differs from the symbol-table one"
		FAILS=$((FAILS + 1))
	fi
	# Debian's linux-image ships a one-line placeholder System.map: refused.
	echo "ffffffffffffffff B The real System.map is in the linux-image-<version>-dbg package" \
		> "$TMP/placeholder.map"
	expect_exit 2 "$VMET" profile build "$VMLINUX" --system-map "$TMP/placeholder.map" -o "$TMP/x"
	expect_err "placeholder"
else
	echo "FAIL: no System.map beside $VMLINUX"
	FAILS=$((FAILS + 1))
fi

# ---- the bundled profile is what the builder makes today ----
bundled=""
for f in profiles/*.vmprof; do
	if [ "$(sed -n 's/^banner //p' "$f")" = "$(sed -n 's/^banner //p' "$P")" ]; then
		bundled=$f
	fi
done
if [ -n "$bundled" ]; then
	if ! diff <(grep -v '^source ' "$bundled") <(grep -v '^source ' "$P") > "$TMP/b.diff"; then
		echo "FAIL: $bundled is stale against the builder (< bundled, > built):"
		head -10 "$TMP/b.diff"
		FAILS=$((FAILS + 1))
	else
		echo "bundled $bundled matches"
	fi
	# and the search path finds it: from the source tree when the binary
	# lives there (./vmet, build-*/vmet), else through VMET_PROFILE_DIR
	case $(readlink -f "$VMET") in
	"$PWD"/vmet | "$PWD"/build*/vmet)
		expect_exit 0 env -u VMET_PROFILE_DIR "$VMET" profile list ;;
	*)
		expect_exit 0 env VMET_PROFILE_DIR="$PWD/profiles" "$VMET" profile list ;;
	esac
	expect_out "$PWD/$bundled"
fi

# ---- ISF: the same facts written as a Volatility symbol table ----
# Each member becomes a char array of its size; a bit-field becomes kind
# "bitfield" on a 4-byte storage unit aligned below it (as dwarf2json
# writes), so the importer must re-base it; the banner is base64 with its
# NUL, as dwarf2json stores constant data.
jq --arg banner "$(jq -r .banner "$TMP/k.json")" '
	def member:
		if .bit_size then
			((.offset * 8 + .bit_offset) as $abs | (($abs / 32 | floor) * 4) as $unit |
			 { offset: $unit, type: { kind: "bitfield", bit_position: ($abs - $unit * 8),
			   bit_length: .bit_size, type: { kind: "base", name: "unsigned int" } } })
		else { offset: .offset, type: { kind: "array", count: .size,
			subtype: { kind: "base", name: "char" } } } end;
	{ metadata: { format: "6.2.0", producer: { name: "vmet-e2e" } },
	  base_types: { pointer: { size: 8, signed: false, kind: "int", endian: "little" },
			char: { size: 1, signed: true, kind: "char", endian: "little" },
			"unsigned int": { size: 4, signed: false, kind: "int", endian: "little" } },
	  enums: {},
	  user_types: ([.structs[] | { key: .name, value: { size: .size, kind: "struct",
		fields: ([.members[] | { key: .name, value: member }] | from_entries) } }]
		| from_entries),
	  symbols: (([.symbols[] | { key: .name, value: { address: (.address | ltrimstr("0x") |
		explode | map(if . >= 97 then . - 87 elif . >= 65 then . - 55 else . - 48 end) |
		reduce .[] as $d (0; . * 16 + $d)) } }] | from_entries) +
		{ linux_banner: { address: 0, constant_data: ($banner + "\n\u0000" | @base64) } })
	}' "$TMP/k.json" > "$TMP/k.isf.json"
expect_exit 0 "$VMET" profile import "$TMP/k.isf.json" -o "$TMP/i.vmprof"
expect_exit 0 "$VMET" profile show --json "$TMP/i.vmprof"
# jq numbers are doubles: kernel addresses lose their low bits there, so the
# symbols are compared by name only; structs must agree exactly.
if ! diff <(jq -S '.structs' "$TMP/k.json") <(jq -S '.structs' "$OUT") > "$TMP/isf.diff"; then
	echo "FAIL: ISF import differs from the DWARF profile (< dwarf, > isf):"
	head -20 "$TMP/isf.diff"
	FAILS=$((FAILS + 1))
fi
if [ "$(jq -r .banner "$OUT")" != "$(jq -r .banner "$TMP/k.json")" ]; then
	echo "FAIL: ISF banner differs"
	FAILS=$((FAILS + 1))
fi
if ! diff <(jq -r '.symbols[].name' "$TMP/k.json") <(jq -r '.symbols[].name' "$OUT") >/dev/null; then
	echo "FAIL: ISF import has other symbols than the DWARF profile"
	FAILS=$((FAILS + 1))
fi
echo "ISF import agrees on $(jq '[.structs[].members[]] | length' "$OUT") members"

# Without -o the profile goes to stdout, the same bytes as the file.
expect_exit 0 "$VMET" profile import "$TMP/k.isf.json" --quiet
if ! cmp -s "$OUT" "$TMP/i.vmprof"; then
	echo "FAIL: import to stdout differs from import -o"
	FAILS=$((FAILS + 1))
fi

# ---- bad inputs: exit 2 and a message naming the problem ----
expect_exit 2 "$VMET" profile build "$TMP/k.json" -o "$TMP/x"
expect_err "not an ELF file"
# an ELF file that is not a kernel (the real binary: $VMET may be a wrapper)
elf=$(sed -n 's/^exec .* "\(\/[^"]*\)" "\$@"$/\1/p' "$VMET" 2>/dev/null)
expect_exit 2 "$VMET" profile build "${elf:-$VMET}" -o "$TMP/x"
expect_err "no symbol linux_banner"
expect_exit 2 "$VMET" profile build "$TMP/none" -o "$TMP/x"
expect_err "$TMP/none"
expect_exit 2 "$VMET" profile build --json "$VMLINUX"
expect_err "give -o PROFILE"
expect_exit 2 "$VMET" profile frob "$P"
expect_err "unknown action 'frob'"
printf '{"symbols": {,}}' > "$TMP/bad.json"
expect_exit 2 "$VMET" profile import "$TMP/bad.json" -o "$TMP/x"
expect_err "bad.json:1:14:"
sed '5s/.*/struct task_struct nine/' "$P" > "$TMP/bad.vmprof"
expect_exit 2 "$VMET" profile show "$TMP/bad.vmprof"
expect_err "bad.vmprof:5: expected 'struct NAME SIZE'"
expect_exit 1 "$VMET" profile show "$P" --struct no_such_struct
expect_err "no struct no_such_struct"
[ ! -e "$TMP/x" ] || { echo "FAIL: a failed build left $TMP/x"; FAILS=$((FAILS + 1)); }
expect_exit 0 "$VMET" profile --help
expect_out "vmet profile build VMLINUX"

finish
