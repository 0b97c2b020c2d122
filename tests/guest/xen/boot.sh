#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# boot.sh NAME: start the Xen bed NAME in the background and wait until
# dom0 has run vmet on its PVH domU and sent the results.
#
# usage: boot.sh [--timeout S] NAME
#   --timeout S   seconds to wait for dom0's results (default 420)
# VMET_XEN_VMET=BIN puts BIN into dom0 as vmet (default: the tree's ./vmet),
# e.g. an ASan build.
#
# L0 = QEMU TCG (qemu64,+svm,+npt, 2G, RAM in a shared file); L1 = Xen 4.17
# + dom0 (build-dom0.sh, dom0-init.sh); the domU = the flat guest, PVH.
#
# State directory $VMET_STATE_DIR/NAME:
#   serial.log          Xen's serial console (Xen, dom0, dom0's results)
#   console.sock        the same console, for requests to dom0 (xen_dom0_run, lib.sh)
#   results/            the files dom0 sent (checked against their SHA-256):
#                       domu-console.log (the domU's truth), ps.json,
#                       netstat.json, info.txt, ... (see dom0-init.sh)
#   truth-domu.txt      the domU's first truth block (tag "boot")
#   qmp.sock qemu.pid ram.path boot.env
# RAM: $VMET_RAM_DIR/NAME.ram, file offset = Xen's machine address.
# Exit 0 with the results in, 1 when the bed did not come up (its QEMU is
# stopped, the state dir kept), 2 on bad usage.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

timeout=420
while [ $# -gt 0 ]; do
	case $1 in
	--timeout) timeout=$2; shift ;;
	-h | --help) sed -n '4,26p' "$0"; exit 0 ;;
	-*) echo "boot.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
	shift
done
[ $# -eq 1 ] || { echo "usage: boot.sh [--timeout S] NAME" >&2; exit 2; }
tb_bed_begin "$1"
xenv=$("$XEN_BED_DIR/fetch-xen.sh" --quiet) || tb_die "fetch-xen.sh failed"
# shellcheck disable=SC1090
. "$xenv"
mkdir -p "$S"
rm -rf "$S"/{serial.log,serial.txt,console.sock,req,qmp.sock,qemu.pid,boot.env,results,truth-domu.txt}
initrd=$("$XEN_BED_DIR/build-dom0.sh" --env "$kenv" ${VMET_XEN_VMET:+--vmet "$VMET_XEN_VMET"} "$S") ||
	tb_die "build-dom0.sh failed"
t_built=$(date +%s.%N)

# A reused RAM file would hold stale VMCBs and page tables.
rm -f "$ram"
# Multiboot: Xen is the kernel, dom0's kernel (with its command line) and
# initramfs are the modules.
"$VMET_QEMU" -accel tcg -cpu "$L0_CPU" -m "$L0_MEM" -smp 1 \
	-object "memory-backend-file,id=mem,size=$L0_MEM,mem-path=$ram,share=on" \
	-machine q35,memory-backend=mem \
	-kernel "$XEN_KERNEL" -append "$XEN_APPEND" \
	-initrd "$VMLINUZ $DOM0_APPEND,$initrd" \
	-display none -vga none -monitor none -no-reboot -nic none \
	-chardev "socket,id=con,path=$S/console.sock,server=on,wait=off,logfile=$S/serial.log,logappend=off" \
	-serial chardev:con \
	-qmp "unix:$S/qmp.sock,server=on,wait=off" \
	-name "$name" -pidfile "$S/qemu.pid" -daemonize ||
	tb_die "L0 QEMU did not start"
echo "$ram" >"$S/ram.path"

giveup() { tb_bed_giveup "$XEN_BED_DIR/stop.sh" "$1"; }
t_start=$SECONDS
until grep -qa '^vmet-dom0: results sent' "$S/serial.log" 2>/dev/null; do
	grep -qa '^vmet-dom0: FAIL' "$S/serial.log" 2>/dev/null &&
		giveup "$(grep -a -m1 '^vmet-dom0: FAIL' "$S/serial.log" | tr -d '\r')"
	tb_pid "$S" >/dev/null || giveup "L0 QEMU is gone"
	[ $((SECONDS - t_start)) -lt "$timeout" ] || giveup "no results from dom0 after ${timeout}s"
	sleep 0.5
done
t_up=$(date +%s.%N)

# Unpack dom0's results (from the log: no client was connected, so it is
# exact) and check each against its checksum.
tr -d '\r' <"$S/serial.log" >"$S/serial.txt"
xen_unpack "$S/serial.txt" "$S/results" || giveup "dom0's results did not arrive whole"
tb_extract_truth "$S/results/domu-console.log" boot "$S/truth-domu.txt" ||
	giveup "the domU's truth block is unreadable"

cat >"$S/boot.env" <<EOT
NAME=$name
LEVELS=xen
STATE=$S
RAM=$ram
MEM=$L0_MEM
CPU=$L0_CPU
XEN_PKG_VERSION=$XEN_PKG_VERSION
KERNEL_ENV=$kenv
KVER=$KVER
VMLINUZ=$VMLINUZ
INITRD=$initrd
DOMU_NAME=$DOMU_NAME
QMP=$S/qmp.sock
CONSOLE_SOCK=$S/console.sock
SERIAL=$S/serial.log
PIDFILE=$S/qemu.pid
BUILD_SECONDS=$(tb_secs "$t0" "$t_built")
BOOT_SECONDS=$(tb_secs "$t0" "$t_up")
EOT
tb_log "Xen bed $name up (QEMU PID $(tb_pid "$S")): dom0's results in $(tb_secs "$t_built" "$t_up")s after L0 start"
echo "$S"
