#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# build-l1.sh: build the initramfs of L1, the nested testbed's guest
# hypervisor, and the L2 guest it runs.
#
# usage: build-l1.sh [--env KERNEL_ENV] OUTDIR
#   KERNEL_ENV  kernel.env from ../fetch-kernel.sh (default: run it)
# Writes OUTDIR/guest.cpio (L2: the flat testbed's guest, built by
# ../build-initramfs.sh, unchanged) and OUTDIR/l1.cpio; prints the latter.
#
# l1.cpio is guest.cpio followed by an overlay archive (the kernel unpacks
# both; a later file replaces an earlier one), so L1 has the flat guest's
# busybox, vmet-helper and modules, plus:
#   /init                   l1-init.sh
#   /etc/vmet-truth.sh      the truth printer and the request loop, cut
#   /etc/vmet-serve.sh      from ../init.sh so that L1's truth has exactly
#                           the flat guest's format and protocol
#   /etc/vmet-nested.conf   settings for /init
#   /lib/modules/*.ko       irqbypass kvm ccp kvm-amd, from the same
#                           linux-image package as the kernel
#   /usr/bin/qemu-system-x86_64 with every library ldd lists, the loader,
#                           and the firmware files and QEMU modules it opens
#   /l2/vmlinuz /l2/initrd.cpio   L2's kernel (the same as L1's) and guest.cpio
#
# Needs (besides what the flat testbed needs): qemu-system-x86, strace,
# kmod (modinfo), cpio, xz-utils and zstd (for compressed modules).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kenv=
while [ $# -gt 0 ]; do
	case $1 in
	--env) kenv=$2; shift 2 ;;
	-h | --help) sed -n '4,25p' "$0"; exit 0 ;;
	-*) tb_die "unknown option $1" ;;
	*) break ;;
	esac
done
[ $# -eq 1 ] || tb_die "usage: build-l1.sh [--env KERNEL_ENV] OUTDIR"
out=$1
mkdir -p "$out"
out=$(cd "$out" && pwd)

# The KVM modules for AMD, dependencies first (checked below).
KVM_MODULES="irqbypass kvm ccp kvm-amd"
QEMU=$(command -v "$VMET_QEMU") || tb_die "no $VMET_QEMU (apt-get install qemu-system-x86)"
for tool in cpio strace modinfo dpkg-deb ldd; do
	command -v "$tool" >/dev/null || tb_die "missing $tool"
done

[ -n "$kenv" ] || kenv=$("$FLAT_DIR/fetch-kernel.sh" --quiet) || tb_die "fetch-kernel.sh failed"
# shellcheck disable=SC1090
. "$kenv"
[ -s "$VMLINUZ" ] || tb_die "no kernel at '$VMLINUZ' (from $kenv)"

# --- L2, and L1's base: the flat guest -------------------------------------
"$FLAT_DIR/build-initramfs.sh" --env "$kenv" "$out/guest.cpio" >/dev/null ||
	tb_die "build-initramfs.sh failed"

stage=$(mktemp -d /tmp/vmet-l1.XXXXXX)
trap 'rm -rf "$stage"' EXIT
root=$stage/root
mkdir -p "$root"/{etc,l2,lib/modules,usr/bin}
cp "$VMLINUZ" "$root/l2/vmlinuz"
cp "$out/guest.cpio" "$root/l2/initrd.cpio"

# --- the truth printer, from the flat guest's /init -----------------------
# Everything from the static facts up to the first 'truth boot' call: the
# functions catp, task_line and truth and the facts they print.
awk '/^# Static facts/ { on = 1 } /^truth boot/ { exit } on' "$FLAT_DIR/init.sh" \
	>"$root/etc/vmet-truth.sh"
for fn in catp task_line truth; do
	grep -q "^$fn()" "$root/etc/vmet-truth.sh" ||
		tb_die "$FLAT_DIR/init.sh changed shape: no $fn() between '# Static facts' and 'truth boot'"
done
# ... and its request loop, from '# Serve requests' to the end.
awk '/^# Serve requests/ { on = 1 } on' "$FLAT_DIR/init.sh" >"$root/etc/vmet-serve.sh"
grep -q 'truth "' "$root/etc/vmet-serve.sh" ||
	tb_die "$FLAT_DIR/init.sh changed shape: no request loop after '# Serve requests'"

# --- KVM modules, from the package the kernel came from -------------------
deb=$VMET_TESTBED_DIR/${KPKG}_${KPKG_VERSION//:/%3a}_amd64.deb
[ -s "$deb" ] || tb_die "no $KPKG $KPKG_VERSION package in $VMET_TESTBED_DIR (fetch-kernel.sh keeps it there)"
tb_kernel_modules "$deb" "$stage/mods" "$root" $KVM_MODULES
loaded=" $(tr '\n' ' ' <"$(dirname "$kenv")/modules/order" 2>/dev/null || true)"
for m in $KVM_MODULES; do
	dst=$root/lib/modules/$m.ko
	# A dependency missing from the load order would fail in L1 with a
	# bare "Unknown symbol"; say which here.
	for dep in $(modinfo -F depends "$dst" | tr ',' ' '); do
		case $loaded in
		*" ${dep//-/_} "* | *" ${dep//_/-} "*) ;;
		*) tb_die "module $m needs $dep, which is not loaded before it" ;;
		esac
	done
	loaded="$loaded$m "
done

# --- QEMU with its libraries, firmware and modules ------------------------
cp "$QEMU" "$root/usr/bin/qemu-system-x86_64"
tb_copy_libs "$root" "$QEMU"

# L2's machine, as L1 will start it (l1-init.sh adds the serial ports).
L2_QEMU_ARGS="-machine q35 -m $L2_MEM -kernel /l2/vmlinuz -initrd /l2/initrd.cpio"
L2_QEMU_ARGS="$L2_QEMU_ARGS -display none -vga none -monitor none -no-reboot -nic none -device vmcoreinfo"

# Which firmware files and modules QEMU opens depends on its version and
# build: ask it, by setting L2's machine up on this host under strace.  The
# host's KVM cannot run guests, so TCG stands in (the board and its ROMs
# are the same).  The board is built before QMP is served, so quitting
# through QMP at once ends QEMU after everything has been opened.
: | cpio -o -H newc --quiet >"$stage/empty.cpio"
read -r -a host_args <<<"${L2_QEMU_ARGS//\/l2\/vmlinuz/$VMLINUZ}"
host_args=("${host_args[@]//\/l2\/initrd.cpio/$stage/empty.cpio}")
printf '{"execute":"qmp_capabilities"}\n{"execute":"quit"}\n' |
	timeout 60 strace -f -e trace=openat,open -o "$stage/qemu.strace" \
		"$QEMU" -accel tcg -cpu qemu64 "${host_args[@]}" \
		-serial none -S -qmp stdio >/dev/null 2>&1 ||
	tb_die "$QEMU under strace failed ($stage/qemu.strace)"
opened=$(awk -F'"' '!/ENOENT/ && NF >= 3 { print $2 }' "$stage/qemu.strace" | sort -u |
	grep -E '/(share/qemu|share/seabios|lib/ipxe|lib/x86_64-linux-gnu/qemu)/' || true)
case $opened in
*bios*.bin*) ;;
*) tb_die "strace showed $QEMU opening no BIOS; cannot tell which files L1 needs" ;;
esac
for f in $opened; do
	f=$(realpath -m "$f") # /usr/bin/../share/... -> /usr/share/...
	tb_copy_file "$root" "$f"
	case $f in *.so) tb_copy_libs "$root" "$f" ;; esac
done

# --- /init and its settings ------------------------------------------------
install -m 0755 "$NESTED_DIR/l1-init.sh" "$root/init"
cat >"$root$L1_CONF" <<EOF
KVM_MODULES='$KVM_MODULES'
L2_APPEND='$L2_APPEND'
L2_QEMU_ARGS='$L2_QEMU_ARGS'
EOF

find "$root" -exec touch -h -d @0 {} +
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
	cpio -o -H newc -R 0:0 --reproducible --quiet) >"$stage/overlay.cpio"
cat "$out/guest.cpio" "$stage/overlay.cpio" >"$out/l1.cpio.tmp"
mv -f "$out/l1.cpio.tmp" "$out/l1.cpio"
echo "$out/l1.cpio"
