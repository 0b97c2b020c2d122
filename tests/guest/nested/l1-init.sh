#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# /init of L1, the nested testbed's guest hypervisor (busybox ash, PID 1):
# Debian's kernel with kvm_amd, running the flat testbed's guest as L2
# under QEMU/KVM.
#
# Serial ports, as L0's QEMU wires them (see boot.sh):
#   ttyS0  console: L1's messages and L2's console, which L2's QEMU copies
#          to its stdio; L0 logs it to serial.log
#   ttyS1  handed to L2 as L2's own ttyS1, the flat guest's truth channel:
#          L2's truths reach L0 (truth.log) and L0's requests reach L2
#          without L1 reading or writing anything on the way
#   PCI    L1's truth channel (truth-l1.log, truth-l1.sock), a PCI serial
#          port (a third ISA port would share COM1's IRQ line, which QEMU
#          does not wire-OR): a line "truth TAG" prints L1's own view in
#          the flat guest's format
#
# L1 prints no truth of its own accord: boot.sh asks for one once L2's is
# in, so that it lists what runs in L1 while L2 runs (QEMU and KVM's
# threads).  The truth printer and the request loop are the flat guest's
# (/etc/vmet-truth.sh, /etc/vmet-serve.sh, cut from its /init by
# build-l1.sh); the printer forks nothing while it lists tasks.
#
# PID 1 must never exit (the kernel panics), so every path ends in a loop.

export PATH=/bin:/usr/bin
# The libraries sit where Debian puts them; there is no ld.so.cache to say so.
export LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu
umask 022

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /run /tmp
mount -t tmpfs -o mode=0755 tmpfs /run

say() { echo "vmet-l1: $*"; }
# Say what failed (boot.sh looks for "vmet-l1: FAIL") and stay up, so that
# L0 can still be inspected.
fail() {
	say "FAIL: $*"
	while :; do sleep 3600; done
}

. /etc/vmet-nested.conf

# The flat guest's modules first (qemu_fw_cfg: L1's VMCOREINFO for L0's
# dumps), then KVM.  npt=1: L2 runs on nested paging, which is what the bed
# is for; nested=1 lets L2 see SVM as well.
if [ -f /lib/modules/order ]; then
	while read -r m; do
		[ -n "$m" ] || continue
		insmod "/lib/modules/$m.ko" || fail "insmod $m"
	done </lib/modules/order
fi
for m in $KVM_MODULES; do
	case $m in
	kvm-amd) insmod "/lib/modules/$m.ko" npt=1 nested=1 ;;
	*) insmod "/lib/modules/$m.ko" ;;
	esac || fail "insmod $m"
done
[ -c /dev/kvm ] || fail "no /dev/kvm after loading kvm_amd"
read -r npt </sys/module/kvm_amd/parameters/npt || fail "kvm_amd has no npt parameter"
[ "$npt" = Y ] || fail "kvm_amd runs without nested paging (npt=$npt): does L0 offer +npt?"
say "kvm_amd loaded with nested paging"

hostname vmet-l1
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up

# L1's own kernel messages would cut into L2's console lines; dmesg keeps them.
dmesg -n 1

# A subshell waits for L2's QEMU so that its end is reported (boot.sh then
# stops waiting); it is one more process in L1, listed in L1's truth.
# shellcheck disable=SC2086
{
	qemu-system-x86_64 -enable-kvm -cpu host $L2_QEMU_ARGS -append "$L2_APPEND" \
		-chardev stdio,id=con,signal=off -serial chardev:con -serial /dev/ttyS1
	say "FAIL: L2's QEMU exited with status $?"
} &
say "L2 starting"

chan=
for d in /sys/bus/pci/drivers/serial/*/tty/ttyS*; do
	[ -e "$d" ] && chan=/dev/${d##*/}
done
[ -n "$chan" ] || fail "no PCI serial port for the truth channel"
exec 3<>"$chan" || fail "cannot open $chan"
stty raw -echo clocal <&3 || fail "cannot set $chan raw"

# shellcheck disable=SC2034 # the truth printer runs $H fds
H=/bin/vmet-helper
. /etc/vmet-truth.sh
say "truth on $chan"

# Serve requests on fd 3 as the flat guest does, with its own loop.
. /etc/vmet-serve.sh
fail "request loop ended"
