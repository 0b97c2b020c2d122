#!/bin/bash
# vmet translate on a real Debian guest: kernel symbols (addresses from the
# guest's own /proc/kallsyms, so KASLR included) must translate to the
# guest-physical address QEMU's monitor gives (gva2gpa), and the bytes there
# must be the bytes QEMU shows at that virtual address.  Checked on the live
# RAM file (CR3 from QMP), on the ELF dump (CR3 from its CPU note) and on
# the raw copy with --cr3; then on a 5-level (LA57) guest.
set -u
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/../.."

check_guest() {
	local name=$1; shift
	local state
	state=$(tests/guest/testbed.sh "$@" | tail -n 1)
	if [ ! -f "$state/testbed.env" ]; then
		echo "FAIL: test guest $name did not come up"
		FAILS=$((FAILS + 1))
		return
	fi
	# shellcheck disable=SC1091
	. "$state/testbed.env"
	local sym va gpa want got raw
	for sym in linux_banner init_task init_top_pgt _text; do
		va=0x$(awk -v s="$sym" '$1 == "ksym" && $4 == s { print $2; exit }' FS='[\t ]' "$TRUTH")
		[ "$va" != 0x ] || { echo "FAIL: $name: no ksym $sym in truth"; FAILS=$((FAILS + 1)); continue; }
		gpa=$(tests/guest/qmp.sh "$QMP" gva2gpa "$va" | grep -o '0x[0-9a-f]*' | head -n 1)
		want=$(tests/guest/qmp.sh "$QMP" x /16xb "$va" | sed 's/^[^:]*://' | tr -s ' \r\n' ' ')

		# live RAM file, registers through QMP
		expect_exit 0 "$VMET" translate --json "qemu:$RAM,qmp=$QMP" "$va"
		got=$(jq -r '.translations[0].host_physical' "$OUT")
		[ "$got" = "$gpa" ] || { echo "FAIL: $name $sym $va: vmet (live) says $got, QEMU gva2gpa $gpa"; FAILS=$((FAILS + 1)); }
		raw=$(od -An -tx1 -j $((got)) -N 16 "$RAM" | sed 's/ / 0x/g' | tr -s ' \n' ' ')
		[ "$raw" = "$want" ] || { echo "FAIL: $name $sym: bytes at $got: '$raw', QEMU x shows '$want'"; FAILS=$((FAILS + 1)); }

		# ELF dump: CR3 from the dump's own CPU note
		expect_exit 0 "$VMET" translate --json "$DUMP" "$va"
		got=$(jq -r '.translations[0].host_physical' "$OUT")
		[ "$got" = "$gpa" ] || { echo "FAIL: $name $sym: vmet (ELF dump) says $got, QEMU $gpa"; FAILS=$((FAILS + 1)); }

		# raw copy with the CR3 QMP reported at capture time; a raw image has
		# no registers, so the paging depth comes from CR4.LA57 as QMP saw it
		mode=4
		(( 0x$(grep -o 'CR4=[0-9a-f]*' "$REGS" | head -n 1 | cut -d= -f2) & 0x1000 )) && mode=5
		expect_exit 0 "$VMET" translate --json --cr3 "$CR3" --mode $mode "$RAW" "$va"
		got=$(jq -r '.translations[0].host_physical' "$OUT")
		[ "$got" = "$gpa" ] || { echo "FAIL: $name $sym: vmet (raw + --cr3) says $got, QEMU $gpa"; FAILS=$((FAILS + 1)); }
	done
	# the banner bytes really are the banner
	va=0x$(awk '$1 == "ksym" && $4 == "linux_banner" { print $2; exit }' FS='[\t ]' "$TRUTH")
	expect_exit 0 "$VMET" translate --json "qemu:$RAM,qmp=$QMP" "$va"
	got=$(jq -r '.translations[0].host_physical' "$OUT")
	if ! dd if="$RAM" bs=1 skip=$((got)) count=14 status=none | grep -q '^Linux version '; then
		echo "FAIL: $name: no 'Linux version ' at $got"; FAILS=$((FAILS + 1))
	fi
	# the trace names every level, and the levels a 4-/5-level walk has
	levels=$(jq -r '[.translations[0].steps[].level_name] | join(",")' "$OUT")
	echo "$name: linux_banner $va -> $got via $levels"
	case "$name:$levels" in
	flat:PML4,PDPT,PD*|flat-max:PML5,PML4,PDPT,PD*) ;;
	*) echo "FAIL: $name: unexpected levels $levels"; FAILS=$((FAILS + 1)) ;;
	esac
}

check_guest flat
check_guest flat-max --cpu max
finish
