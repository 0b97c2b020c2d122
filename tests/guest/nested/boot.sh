#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# boot.sh NAME: start the nested testbed NAME in the background and wait
# for L2's and L1's first ground truths.
#
# usage: boot.sh [--cpu MODEL] [--timeout S] NAME
#   --cpu MODEL   L0's CPU (default qemu64,+svm,+npt); max gives L1 and L2
#                 5-level paging and L1's KVM a 5-level NPT
#   --timeout S   seconds to wait for the truths (default 240)
#
# L0 = QEMU TCG emulating AMD SVM with nested paging (qemu64,+svm,+npt, 2G);
# L1 = Debian's kernel + kvm_amd + QEMU/KVM (build-l1.sh, l1-init.sh);
# L2 = the flat testbed's guest (its kernel and initramfs, 256M, idle=poll).
#
# State directory $VMET_STATE_DIR/NAME, laid out as the flat testbed's:
#   serial.log          L0's ttyS0: L1's console, with L2's console in it
#   truth.log truth.sock   L2's truth channel (L0's ttyS1, passed by L1 to L2)
#   truth-l1.log truth-l1.sock   L1's truth channel (a PCI serial port:
#                       a third ISA port would share COM1's IRQ line)
#   truth-l2.txt truth-l1.txt    the first truth blocks (tag "boot")
#   qmp.sock qemu.pid ram.path   L0's QMP, PID, RAM file
#   boot.env            what was booted and how long it took (sourceable)
#   guest.cpio l1.cpio  L2's and L1's initramfs
# RAM: $VMET_RAM_DIR/NAME.ram (default /dev/shm), file offset = L1 physical
# address.
# Exit 0 with both truths in, 1 when the bed did not come up (its QEMU is
# stopped, the state dir kept), 2 on bad usage.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

timeout=240
while [ $# -gt 0 ]; do
	case $1 in
	--cpu) L0_CPU=$2; shift ;;
	--timeout) timeout=$2; shift ;;
	-h | --help) sed -n '4,29p' "$0"; exit 0 ;;
	-*) echo "boot.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
	shift
done
[ $# -eq 1 ] || { echo "usage: boot.sh [--cpu MODEL] [--timeout S] NAME" >&2; exit 2; }
tb_bed_begin "$1"
mkdir -p "$S"
rm -f "$S"/{serial.log,truth.log,truth.sock,truth-l1.log,truth-l1.sock,qmp.sock,qemu.pid} \
	"$S"/{boot.env,capture.env,dump.elf,ram.raw,regs-samples.txt} "$S"/truth-*.txt "$S"/truth*-req.raw
initrd=$("$NESTED_DIR/build-l1.sh" --env "$kenv" "$S") || tb_die "build-l1.sh failed"
t_built=$(date +%s.%N)

# QEMU does not clear a reused RAM file: stale VMCBs and page tables from an
# earlier run would look real to any scanner.
rm -f "$ram"

"$VMET_QEMU" -accel tcg -cpu "$L0_CPU" -m "$L0_MEM" \
	-object "memory-backend-file,id=mem,size=$L0_MEM,mem-path=$ram,share=on" \
	-machine q35,memory-backend=mem \
	-kernel "$VMLINUZ" -initrd "$initrd" -append 'console=ttyS0 panic=-1' \
	-display none -vga none -monitor none -no-reboot -nic none -device vmcoreinfo \
	-serial "file:$S/serial.log" \
	-chardev "socket,id=truth,path=$S/truth.sock,server=on,wait=off,logfile=$S/truth.log,logappend=off" \
	-serial chardev:truth \
	-chardev "socket,id=truth1,path=$S/truth-l1.sock,server=on,wait=off,logfile=$S/truth-l1.log,logappend=off" \
	-device pci-serial,chardev=truth1 \
	-qmp "unix:$S/qmp.sock,server=on,wait=off" \
	-name "$name" -pidfile "$S/qemu.pid" -daemonize ||
	tb_die "L0 QEMU did not start"
echo "$ram" >"$S/ram.path"

# giveup WHY: the bed did not come up; show why, stop it, exit 1.
giveup() { tb_bed_giveup "$NESTED_DIR/stop.sh" "$1"; }

# L2's truth comes on its own; L1's is asked for once L2's is in, so that
# it shows L1 running L2.
deadline=$((SECONDS + timeout))
wait_for "$S" "$S/serial.log" '^vmet-l1: truth on' "$timeout" || giveup "L1 did not come up"
wait_for "$S" "$S/truth.log" "^===VMET-TRUTH-END=== boot"$'\r''?$' \
	$((deadline - SECONDS > 10 ? deadline - SECONDS : 10)) || giveup "L2 did not come up"
t_l2=$(date +%s.%N)
tb_extract_truth "$S/truth.log" boot "$S/truth-l2.txt" || giveup "L2's truth block is unreadable"
l1_truth_now "$S" boot 120 "$S/truth-l1.txt" || giveup "no truth from L1"
t_l1=$(date +%s.%N)

cat >"$S/boot.env" <<EOF
NAME=$name
LEVELS=nested
STATE=$S
RAM=$ram
MEM=$L0_MEM
CPU=$L0_CPU
L2_MEM=$L2_MEM
L2_APPEND='$L2_APPEND'
KERNEL_ENV=$kenv
KVER=$KVER
VMLINUZ=$VMLINUZ
INITRD=$initrd
L2_INITRD=$S/guest.cpio
QMP=$S/qmp.sock
TRUTH_SOCK=$S/truth.sock
TRUTH_LOG=$S/truth.log
TRUTH_L1_SOCK=$S/truth-l1.sock
TRUTH_L1_LOG=$S/truth-l1.log
SERIAL=$S/serial.log
PIDFILE=$S/qemu.pid
BUILD_SECONDS=$(tb_secs "$t0" "$t_built")
L2_TRUTH_SECONDS=$(tb_secs "$t_built" "$t_l2")
BOOT_SECONDS=$(tb_secs "$t0" "$t_l1")
EOF
tb_log "bed $name up (QEMU PID $(tb_pid "$S")): L2 truth $(tb_secs "$t_built" "$t_l2")s after L0 start, all in $(tb_secs "$t0" "$t_l1")s"
echo "$S"
