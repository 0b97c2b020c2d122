#!/bin/bash
# One command for the real-guest test bed: fetch Debian's current kernel,
# build the initramfs, boot the guest, capture it.  A guest that is already
# running from the same kernel and initramfs is reused (and its capture
# too), so a whole e2e suite boots it once.
#
# usage: testbed.sh [--name NAME] [--kver K] [--nokaslr] [--cpu M] [--dbg] [--recapture] [--fresh]
#   --name NAME   guest name (default flat, k-K with --kver, -M / -nokaslr appended)
#   --kver K      boot kernel ABI K (e.g. 6.1.0-56-cloud-amd64) instead of the current one
#   --nokaslr     boot with nokaslr (default: KASLR on)
#   --cpu MODEL   QEMU CPU model (default qemu64; max gives 5-level paging)
#   --dbg         also fetch vmlinux with DWARF and the real System.map
#   --recapture   take a new capture even of a reused guest
#   --fresh       stop a running guest and boot anew
#
# Writes $VMET_STATE_DIR/NAME/testbed.env (kernel, boot and capture facts,
# sourceable), prints a summary on stderr and the state directory as the
# last line of stdout.  Stop the guest with stop.sh NAME.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

name='' kaslr=on cpu=qemu64 dbg=0 recapture=0 fresh=0 kver=''
while [ $# -gt 0 ]; do
	case $1 in
	--name) name=$2; shift ;;
	--nokaslr) kaslr=off ;;
	--cpu) cpu=$2; shift ;;
	--kver) kver=$2; shift ;;
	--dbg) dbg=1 ;;
	--recapture) recapture=1 ;;
	--fresh) fresh=1 ;;
	-h|--help) sed -n '2,18p' "$0"; exit 0 ;;
	*) tb_die "unknown argument $1" ;;
	esac
	shift
done
if [ -z "$name" ]; then
	name=flat
	[ -z "$kver" ] || name=k-${kver//[!A-Za-z0-9_.-]/_}
	[ "$cpu" = qemu64 ] || name=$name-$cpu
	[ "$kaslr" = on ] || name=$name-nokaslr
fi
tb_name_ok "$name"
S=$(tb_state "$name")
t_start=$(date +%s.%N)
# e2e scripts may call this in parallel: one boots, the others wait and
# then reuse the guest.
mkdir -p "$VMET_STATE_DIR"
# Children get "9>&-": a QEMU that inherited the lock would hold it for life.
exec 9>"$VMET_STATE_DIR/.$name.lock"
if ! flock -w 600 9; then
	tb_die "another testbed.sh has held $VMET_STATE_DIR/.$name.lock for 10 minutes"
fi
dbg_flag=()
[ "$dbg" = 1 ] && dbg_flag=(--dbg)

reuse=0
if pid=$(tb_pid "$S") && [ "$fresh" = 0 ] && [ -s "$S/boot.env" ]; then
	# Same kernel, same scene, same KASLR choice?  Rebuilding the initramfs
	# is cheap and reproducible, so compare checksums.
	KERNEL_ENV='' INITRD_SHA256='' KASLR='' CPU=''
	# shellcheck disable=SC1091
	. "$S/boot.env"
	if [ -s "$KERNEL_ENV" ] && [ "$KASLR" = "$kaslr" ] && [ "$CPU" = "$cpu" ]; then
		# shellcheck disable=SC1090
		. "$KERNEL_ENV"
		[ -z "$kver" ] || [ "$kver" = "$KVER" ] || KASLR=other-kernel
	fi
	if [ -s "$KERNEL_ENV" ] && [ "$KASLR" = "$kaslr" ] && [ "$CPU" = "$cpu" ]; then
		kenv=$("$GUEST_DIR/fetch-kernel.sh" --quiet --kver "$KVER" "${dbg_flag[@]}" 9>&-)
		mkdir -p "$S"
		"$GUEST_DIR/build-initramfs.sh" --env "$kenv" "$S/guest.cpio.check" >/dev/null 9>&-
		if [ "$(sha256sum <"$S/guest.cpio.check" | cut -d' ' -f1)" = "$INITRD_SHA256" ]; then
			reuse=1
		fi
		rm -f "$S/guest.cpio.check"
	fi
	if [ "$reuse" = 1 ]; then
		tb_log "reusing running guest $name (QEMU PID $pid)"
	else
		tb_log "guest $name runs another kernel, scene, CPU or KASLR setting: rebooting it"
		"$GUEST_DIR/stop.sh" "$name" 9>&-
	fi
elif [ "$fresh" = 1 ] && tb_pid "$S" >/dev/null; then
	"$GUEST_DIR/stop.sh" "$name" 9>&-
fi

if [ "$reuse" = 0 ]; then
	kver_flag=()
	[ -z "$kver" ] || kver_flag=(--kver "$kver")
	kenv=$("$GUEST_DIR/fetch-kernel.sh" --quiet "${dbg_flag[@]}" "${kver_flag[@]}" 9>&-)
	mkdir -p "$S"
	cpio=$S/guest.cpio
	"$GUEST_DIR/build-initramfs.sh" --env "$kenv" "$cpio.new" >/dev/null 9>&-
	mv -f "$cpio.new" "$cpio"
	boot_args=(--kernel-env "$kenv" --initrd "$cpio" --cpu "$cpu")
	[ "$kaslr" = off ] && boot_args+=(--nokaslr)
	"$GUEST_DIR/boot.sh" "${boot_args[@]}" "$name" >/dev/null 9>&-
fi

if [ "$reuse" = 0 ] || [ "$recapture" = 1 ] || [ ! -s "$S/capture.env" ] ||
	[ ! -s "$S/dump.elf" ] || [ ! -s "$S/ram.raw" ]; then
	"$GUEST_DIR/capture.sh" "$name" >/dev/null 9>&-
fi

t_end=$(date +%s.%N)
{
	echo "# $(date -u +%FT%TZ) testbed.sh: kernel, boot and capture of guest $name"
	cat "$kenv"
	grep -v -e '^KVER=' -e '^VMLINUZ=' "$S/boot.env"
	grep -v '^STATE=' "$S/capture.env"
	echo "QEMU_PID=$(tb_pid "$S" || true)"
	echo "TESTBED_SECONDS=$(awk -v a="$t_start" -v b="$t_end" 'BEGIN { printf "%.1f", b - a }')"
} >"$S/testbed.env.tmp"
mv -f "$S/testbed.env.tmp" "$S/testbed.env"

# shellcheck disable=SC1091
. "$S/testbed.env"
{
	echo "testbed: guest $name ($KVER, CPU $CPU, KASLR $KASLR) in $S"
	echo "  env       $S/testbed.env"
	echo "  truth     $TRUTH"
	echo "  ps        $TRUTH_PS ($(wc -l <"$TRUTH_PS") processes, $(wc -l <"$TRUTH_THREADS") tasks)"
	echo "  netstat   $TRUTH_NETSTAT ($(wc -l <"$TRUTH_NETSTAT") IP sockets, $(wc -l <"$TRUTH_UNIX") unix)"
	echo "  dump      ${DUMP:-none}"
	echo "  ram.raw   ${RAW:-none}   live RAM: $RAM"
	echo "  cr3       $CR3   qmp: $QMP"
	echo "  vmlinuz   $VMLINUZ${VMLINUX:+   vmlinux: $VMLINUX}"
	echo "  timings   boot ${BOOT_SECONDS:-?}s, truth ${TRUTH_SECONDS}s, ram copy ${RAW_COPY_SECONDS}s, dump ${DUMP_SECONDS}s, this run ${TESTBED_SECONDS}s"
} >&2
echo "$S"
