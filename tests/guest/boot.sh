#!/bin/bash
# Boot a test guest under QEMU TCG, in the background, and wait for its
# first ground truth.
#
# usage: boot.sh [options] NAME
#   --kernel-env FILE  kernel.env from fetch-kernel.sh (default: run it)
#   --initrd CPIO      initramfs (default: build one into the state dir)
#   --nokaslr          boot with nokaslr (default: KASLR on, as in real life)
#   --append ARGS      extra kernel command-line arguments
#   --mem SIZE         guest RAM (default 512M; above 2 GiB q35 moves RAM
#                      past 2 GiB to 4 GiB and file offset != GPA)
#   --cpu MODEL        QEMU CPU model (default qemu64: AMD, no KPTI, 4-level)
#   --smp N            vCPUs (default 1)
#   --timeout S        seconds to wait for the truth (default 120); a guest
#                      that fails is stopped unless VMET_KEEP_FAILED=1
#
# State directory $VMET_STATE_DIR/NAME (default /var/tmp/vmet-state/NAME):
#   serial.log   console (ttyS0: kernel log and /init's messages)
#   truth.log    truth channel (ttyS1), every block the guest printed
#   truth.sock   "truth TAG\n" here asks for a fresh block (tb_truth_now in
#                lib.sh: keep the connection open and drain it)
#   truth.txt    the boot block (capture.sh replaces it with a fresh one)
#   qmp.sock     QMP;  qemu.pid  QEMU's PID;  ram.path  the RAM file's path
#   boot.env     what was booted (sourceable)
# RAM: $VMET_RAM_DIR/NAME.ram (default /dev/shm), file offset = guest
# physical address (below 2 GiB of RAM).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kenv='' initrd='' kaslr=on append='' mem=512M cpu=qemu64 smp=1 timeout=120
while [ $# -gt 0 ]; do
	case $1 in
	--kernel-env) kenv=$2; shift ;;
	--initrd) initrd=$2; shift ;;
	--nokaslr) kaslr=off ;;
	--append) append=$2; shift ;;
	--mem) mem=$2; shift ;;
	--cpu) cpu=$2; shift ;;
	--smp) smp=$2; shift ;;
	--timeout) timeout=$2; shift ;;
	-h|--help) sed -n '2,29p' "$0"; exit 0 ;;
	-*) tb_die "unknown option $1" ;;
	*) break ;;
	esac
	shift
done
[ $# -eq 1 ] || tb_die "usage: boot.sh [options] NAME"
tb_bed_begin "$1" "$kenv"

mkdir -p "$S"
rm -f "$S"/{serial.log,truth.log,truth.sock,qmp.sock,qemu.pid,truth.txt,truth-boot.txt} \
	"$S"/{dump.elf,ram.raw,regs.txt,cr3.txt,capture.env,testbed.env} "$S"/truth-*.txt
if [ -z "$initrd" ]; then
	initrd=$S/guest.cpio
	"$GUEST_DIR/build-initramfs.sh" --env "$kenv" "$initrd" >/dev/null
fi
[ -s "$initrd" ] || tb_die "no initramfs at $initrd"
case $initrd in /*) ;; *) initrd=$PWD/$initrd ;; esac

# QEMU does not clear a reused RAM file: stale structures from an earlier
# run would be found by a scanner.
rm -f "$ram"

cmdline="console=ttyS0 panic=-1"
[ "$kaslr" = off ] && cmdline="$cmdline nokaslr"
[ -n "$append" ] && cmdline="$cmdline $append"

t0=$(date +%s.%N)
# -daemonize instead of & : QEMU reports start-up errors before detaching,
# and the guest outlives this script.  (-nographic cannot be combined with
# -daemonize; -display none is the same minus the stdio mux.)
(
# QEMU outlives us: it must not inherit a caller's descriptors (a lock held
# by the caller would be held for as long as the guest runs).
for fd in /proc/self/fd/*; do
	fd=${fd##*/}
	[ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-" 2>/dev/null
done
exec "$VMET_QEMU" -accel tcg -cpu "$cpu" -smp "$smp" -m "$mem" \
	-object "memory-backend-file,id=mem,size=$mem,mem-path=$ram,share=on" \
	-machine q35,memory-backend=mem \
	-kernel "$VMLINUZ" -initrd "$initrd" -append "$cmdline" \
	-display none -monitor none -no-reboot -nic none -device vmcoreinfo \
	-serial "file:$S/serial.log" \
	-chardev "socket,id=truth,path=$S/truth.sock,server=on,wait=off,logfile=$S/truth.log,logappend=off" \
	-serial chardev:truth \
	-qmp "unix:$S/qmp.sock,server=on,wait=off" \
	-name "$name" -pidfile "$S/qemu.pid" -daemonize
)
echo "$ram" >"$S/ram.path"
cpio_sha=$(sha256sum "$initrd" | cut -d' ' -f1)
cat >"$S/boot.env" <<EOF
NAME=$name
STATE=$S
RAM=$ram
MEM=$mem
CPU=$cpu
SMP=$smp
KASLR=$kaslr
APPEND='$cmdline'
KERNEL_ENV=$kenv
KVER=$KVER
VMLINUZ=$VMLINUZ
INITRD=$initrd
INITRD_SHA256=$cpio_sha
QMP=$S/qmp.sock
TRUTH_SOCK=$S/truth.sock
TRUTH_LOG=$S/truth.log
SERIAL=$S/serial.log
PIDFILE=$S/qemu.pid
EOF

if ! tb_wait_truth "$S" boot "$timeout"; then
	# A half-booted guest would only hold a core and RAM; keep it on request.
	if [ "${VMET_KEEP_FAILED:-0}" = 1 ]; then
		tb_log "boot of $name failed; left as is (VMET_KEEP_FAILED=1); state in $S"
	else
		"$GUEST_DIR/stop.sh" "$name" >/dev/null 2>&1 || true
		tb_log "boot of $name failed; guest stopped; logs in $S"
	fi
	exit 1
fi
tb_extract_truth "$S/truth.log" boot "$S/truth-boot.txt" || tb_die "truth block unreadable in $S/truth.log"
cp "$S/truth-boot.txt" "$S/truth.txt"
t1=$(date +%s.%N)
boot_s=$(tb_secs "$t0" "$t1")
echo "BOOT_SECONDS=$boot_s" >>"$S/boot.env"
tb_log "guest $name up (QEMU PID $(tb_pid "$S")), truth after ${boot_s}s"
echo "$S"
