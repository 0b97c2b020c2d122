#!/bin/bash
# The seed paper's comparison on the Xen bed (tests/guest/xen): listing a
# PVH domU's processes
#   - from dom0, the conventional "guest management VM" position: one
#     stage, the frames mapped through Xen (xen:NAME), Xen trusted;
#   - from L0, outside the whole virtualization system: two stages through
#     Xen's NPT, Xen untrusted, from Xen's RAM file while it runs: with
#     --guest N (finds the VMCB, samples L0's registers 16 times, checks)
#     and with the NPT root and CR3 handed over (--ncr3 --cr3), the
#     steady-state cost of the two-stage walk.
# 10 runs each, whole process.  dom0 itself runs under QEMU's emulation
# (TCG) here while L0 runs natively, so the two columns say what each
# position costs on this bed, not how they would compare on hardware; the
# dom0 figures have the 10 ms resolution of dom0's /proc/uptime.
#
# Needs the Xen bed running (tests/e2e/70-xen.sh leaves it up;
# tests/guest/xen/boot.sh xen starts it); skipped otherwise.
set -u
cd "$(dirname "$0")/.."
: "${VMET:=$PWD/vmet}"
RUNS=${VMET_BENCH_RUNS:-10}
. tests/guest/xen/lib.sh
S=$(tb_state "${VMET_XEN_NAME:-xen}")
if ! tb_pid "$S" >/dev/null || [ ! -s "$S/boot.env" ]; then
	echo "bench/xen.sh: the Xen bed is not running: skipped"
	exit 0
fi
# shellcheck disable=SC1091
. "$S/boot.env"

# dom0: RUNS runs timed inside dom0, after one warm-up (the profile cache).
cmd="vmet ps --profile auto xen:$DOMU_NAME >/dev/null 2>&1; for k in \$(seq $RUNS); do read -r a _ </proc/uptime; vmet ps --profile auto xen:$DOMU_NAME >/dev/null 2>&1; read -r b _ </proc/uptime; echo \$a \$b; done"
xen_dom0_run "$S" bench 900 "$cmd" || { echo "bench/xen.sh: dom0 did not answer: skipped"; exit 0; }
dom0=$(awk '{ t += $2 - $1; n++ } END { if (n) printf "%.0f", t / n * 1000 }' "$S/req/bench.out")
n_dom0=$(awk 'END { print NR }' "$S/req/bench.out")

mean_ms() { # mean wall time of RUNS runs of vmet ARGS (one warm-up)
	local s e total=0
	"$VMET" "$@" >/dev/null 2>&1
	for _ in $(seq "$RUNS"); do
		s=$(date +%s%N)
		"$VMET" "$@" >/dev/null 2>&1
		e=$(date +%s%N)
		total=$((total + e - s))
	done
	awk -v t="$total" -v n="$RUNS" 'BEGIN { printf "%.1f", t / n / 1e6 }'
}
SRC="qemu:$RAM,qmp=$QMP"
"$VMET" guests --json "$SRC" >"$S/bench-guests.json" 2>/dev/null
# The PVH domU's VMCB: the one whose kernel is at the PVH domU's _text (its
# truth's kallsyms); dom0 and any PV domU are listed too, by their roots.
pvh_text=$(awk -F'\t' '$1 == "ksym" { split($2, f, " "); if (f[3] == "_text") { print "0x" f[1]; exit } }' "$S/truth-domu.txt")
sel='[.guests[] | select(.structure == "vmcb" and .kernel_text_va == $t)][0]'
g=$(jq -r --arg t "$pvh_text" "$sel.guest" "$S/bench-guests.json")
ncr3=$(jq -r --arg t "$pvh_text" "$sel.stage2_root" "$S/bench-guests.json")
cr3=$(jq -r --arg t "$pvh_text" "$sel.cr3" "$S/bench-guests.json")
if [ -z "$g" ] || [ "$g" = null ]; then
	echo "bench/xen.sh: no VMCB at L0 reaches the PVH domU's kernel: skipped"
	exit 0
fi
l0_guest=$(mean_ms ps --profile auto --guest "$g" "$SRC")
l0_direct=$(mean_ms ps --profile auto --ncr3 "$ncr3" --cr3 "$cr3" "qemu:$RAM")
n_l0=$("$VMET" ps --json --profile auto --ncr3 "$ncr3" --cr3 "$cr3" "qemu:$RAM" 2>/dev/null | jq '.tasks | length')

echo "vmet ps of the PVH domU ($DOMU_NAME, 256 MiB), whole process, mean of $RUNS runs"
printf "  %-58s %8s ms  (%s runs; dom0 under TCG)\n" \
	"from dom0, one stage through Xen (xen:$DOMU_NAME)" "$dom0" "$n_dom0"
printf "  %-58s %8s ms  %s tasks\n" \
	"from L0, two stages, --guest $g (VMCB scan + 16 samples)" "$l0_guest" "$n_l0" \
	"from L0, two stages, --ncr3/--cr3 given" "$l0_direct" "$n_l0"
