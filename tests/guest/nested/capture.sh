#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# capture.sh NAME: capture the running nested testbed NAME into its state
# dir, leaving it running.
#
# usage: capture.sh [--samples N] NAME          (default 8 samples)
#
# Writes into $VMET_STATE_DIR/NAME:
#   regs-samples.txt    L0's vCPU registers, one line per sample:
#                         sample=I cr3=0x.. rip=0x.. efer=0x.. cr0=0x.. cr4=0x..
#                       N samples with L0 run for 0.3 s after each, then
#                       sample=capture at the instant of the RAM copy/dump
#   truth-l2.txt truth-l1.txt  fresh truth blocks, asked for just before
#                       L0 is paused for the capture (they replace boot.sh's)
#   ram.raw             copy of L0's RAM file (sparse), i.e. L1's memory
#   dump.elf            QMP dump-guest-memory of L0, the same instant
#   truth-LVL-ps.txt truth-LVL-threads.txt truth-LVL-netstat.txt
#   truth-LVL-unix.txt  (LVL = l1, l2) the truths normalized by the flat
#                       testbed's truth-ps.sh and truth-netstat.sh
#   capture.env         paths, and CAPTURE_CR3 (sourceable)
#
# While L2 runs, L0's vCPU is in L2 and 'info registers' shows L2's CR3 (an
# L2 physical address) and RIP; otherwise L1's.  QEMU shows no guest-mode
# flag, and EFER.SVME is set either way (KVM keeps it set in L2's VMCB), so
# the samples are recorded as they are, not labelled.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

samples=8
while [ $# -gt 0 ]; do
	case $1 in
	--samples) samples=$2; shift ;;
	-h | --help) sed -n '4,29p' "$0"; exit 0 ;;
	-*) echo "capture.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
	shift
done
[ $# -eq 1 ] || { echo "usage: capture.sh [--samples N] NAME" >&2; exit 2; }
case $samples in '' | *[!0-9]* | 0) tb_die "--samples wants a positive count, not '$samples'" ;; esac
name=$1
tb_name_ok "$name"
S=$(tb_state "$name")
tb_pid "$S" >/dev/null || tb_die "bed $name is not running (boot.sh $name)"
ram=$(cat "$S/ram.path")
[ -f "$ram" ] || tb_die "no RAM file $ram"
qmp() { "$FLAT_DIR/qmp.sh" "$S/qmp.sock" "$@"; }
state=$(qmp status) || tb_die "bed $name does not answer on QMP"
[ "$state" = running ] || tb_die "bed $name is $state; fresh truths need it running"

rm -f "$S"/{regs-samples.txt,ram.raw,dump.elf,capture.env} "$S"/truth-l?-*.txt

# regs LABEL: the registers a walker needs, from 'info registers'.
regs() {
	local text
	text=$(qmp registers) || tb_die "info registers failed"
	awk -v label="$1" '
		{ sub(/\r$/, "") }
		match($0, /RIP=[0-9a-f]+/) { rip = substr($0, RSTART + 4, RLENGTH - 4) }
		match($0, /CR0=[0-9a-f]+/) { cr0 = substr($0, RSTART + 4, RLENGTH - 4) }
		match($0, /CR3=[0-9a-f]+/) { cr3 = substr($0, RSTART + 4, RLENGTH - 4) }
		match($0, /CR4=[0-9a-f]+/) { cr4 = substr($0, RSTART + 4, RLENGTH - 4) }
		match($0, /EFER=[0-9a-f]+/) { efer = substr($0, RSTART + 5, RLENGTH - 5) }
		END {
			if (rip == "" || cr3 == "" || cr0 == "" || cr4 == "" || efer == "")
				exit 1
			printf "sample=%s cr3=0x%s rip=0x%s efer=0x%s cr0=0x%s cr4=0x%s\n",
				label, cr3, rip, efer, cr0, cr4
		}' <<<"$text" || tb_die "info registers gave no CR3/RIP/EFER/CR0/CR4: $text"
}

# Whatever happens from here on, leave L0 running.
trap 'qmp cont >/dev/null 2>&1 || true' EXIT
for ((i = 1; i <= samples; i++)); do
	qmp stop >/dev/null || tb_die "QMP stop failed"
	regs "$i" >>"$S/regs-samples.txt"
	qmp cont >/dev/null || tb_die "QMP cont failed"
	sleep 0.3
done

# Fresh truths, then the pause right after them, as the flat bed does.
tag=capture-$(date +%s)
tb_truth_now "$S" "$tag" 120 "$S/truth-l2.txt.new" || tb_die "no fresh truth from L2"
l1_truth_now "$S" "$tag" 120 "$S/truth-l1.txt.new" || tb_die "no fresh truth from L1"
qmp stop >/dev/null || tb_die "QMP stop failed"
regs capture >>"$S/regs-samples.txt"

# Paused: the RAM copy and the dump show the same instant as "capture".
# Where L1 never wrote, the RAM file has holes; keep the copy sparse.
cp --sparse=always "$ram" "$S/ram.raw"
qmp dump "$S/dump.elf" 600 >/dev/null || tb_die "dump-guest-memory failed"
qmp cont >/dev/null || tb_die "QMP cont failed"
trap - EXIT

mv -f "$S/truth-l2.txt.new" "$S/truth-l2.txt"
mv -f "$S/truth-l1.txt.new" "$S/truth-l1.txt"
for lvl in l1 l2; do
	t=$S/truth-$lvl.txt
	if ! "$FLAT_DIR/truth-ps.sh" "$t" >"$S/truth-$lvl-ps.txt" ||
		! "$FLAT_DIR/truth-ps.sh" --threads "$t" >"$S/truth-$lvl-threads.txt" ||
		! "$FLAT_DIR/truth-netstat.sh" "$t" >"$S/truth-$lvl-netstat.txt" ||
		! "$FLAT_DIR/truth-netstat.sh" --unix "$t" >"$S/truth-$lvl-unix.txt"; then
		tb_die "cannot normalize $t"
	fi
done
cat >"$S/capture.env" <<EOF
STATE=$S
TRUTH_L1=$S/truth-l1.txt
TRUTH_L2=$S/truth-l2.txt
DUMP=$S/dump.elf
RAW=$S/ram.raw
REGS_SAMPLES=$S/regs-samples.txt
CAPTURE_CR3=$(sed -n 's/^sample=capture cr3=\(0x[0-9a-f]*\).*/\1/p' "$S/regs-samples.txt")
EOF
tb_log "captured $name into $S: truths, $samples register samples + capture, ram.raw, dump.elf"
echo "$S"
