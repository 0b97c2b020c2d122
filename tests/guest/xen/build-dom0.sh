#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# build-dom0.sh: build the Xen bed's dom0 initramfs and the domU it runs.
#
# usage: build-dom0.sh [--env KERNEL_ENV] [--vmet BIN] OUTDIR
#   KERNEL_ENV  kernel.env from ../fetch-kernel.sh (default: run it)
#   BIN         the vmet binary to put into dom0 (default: the tree's ./vmet)
# Writes OUTDIR/guest.cpio (the domU: the flat testbed's guest, unchanged)
# and OUTDIR/dom0.cpio; prints the latter.
#
# dom0.cpio is guest.cpio followed by an overlay (the kernel unpacks both),
# so dom0 has the flat guest's busybox and vmet-helper, plus:
#   /init                       dom0-init.sh
#   /etc/vmet-xen.conf          its settings
#   /lib/modules/*.ko           the Xen modules ($XEN_MODULES), from the
#                               linux-image package the kernel came from
#   /usr/lib/xen-4.17/bin/{xl,xenstored,xenconsoled,xen-init-dom0}
#                               from the unpacked Xen packages, with every
#                               library ldd lists (and libgcc_s, which xl
#                               opens at run time)
#   /usr/bin/vmet               with its libraries and the Xen libraries it
#                               dlopen()s
#   /domu/vmlinuz /domu/guest.cpio /etc/xen/domu.cfg   the PVH domU
#   /etc/xen/domu-pv.cfg        the same guest as a PV domU (on request)
#   /etc/xen/domu-hvm.cfg, /usr/bin/start-hvm.sh   and as an HVM domU (on
#                               request), with Debian's qemu-system-xen
#                               (/usr/libexec/xen-qemu-system-i386 and its
#                               libraries), hvmloader, SeaBIOS, the
#                               linuxboot option ROMs and a keymap
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kenv= vmet_bin=
while [ $# -gt 0 ]; do
	case $1 in
	--env) kenv=$2; shift 2 ;;
	--vmet) vmet_bin=$2; shift 2 ;;
	-h | --help) sed -n '4,25p' "$0"; exit 0 ;;
	-*) tb_die "unknown option $1" ;;
	*) break ;;
	esac
done
[ $# -eq 1 ] || tb_die "usage: build-dom0.sh [--env KERNEL_ENV] [--vmet BIN] OUTDIR"
out=$1
mkdir -p "$out"
out=$(cd "$out" && pwd)
[ -n "$vmet_bin" ] || vmet_bin=$XEN_BED_DIR/../../../vmet
[ -x "$vmet_bin" ] || tb_die "no vmet binary at $vmet_bin (make first)"
for tool in cpio modinfo dpkg-deb ldd; do
	command -v "$tool" >/dev/null || tb_die "missing $tool"
done

[ -n "$kenv" ] || kenv=$("$FLAT_DIR/fetch-kernel.sh" --quiet) || tb_die "fetch-kernel.sh failed"
# shellcheck disable=SC1090
. "$kenv"
xenv=$("$XEN_BED_DIR/fetch-xen.sh" --quiet) || tb_die "fetch-xen.sh failed"
# shellcheck disable=SC1090
. "$xenv"

"$FLAT_DIR/build-initramfs.sh" --env "$kenv" "$out/guest.cpio" >/dev/null ||
	tb_die "build-initramfs.sh failed"

stage=$(mktemp -d /tmp/vmet-dom0.XXXXXX)
trap 'rm -rf "$stage"' EXIT
root=$stage/root
mkdir -p "$root"/{etc/xen,domu,lib/modules,usr/bin,var/lib/xen,var/log/xen/console,var/run/xen,var/lib/xenstored}
cp "$VMLINUZ" "$root/domu/vmlinuz"
cp "$out/guest.cpio" "$root/domu/guest.cpio"

# --- Xen modules, from the package the kernel came from ----------------------
deb=$VMET_TESTBED_DIR/${KPKG}_${KPKG_VERSION//:/%3a}_amd64.deb
[ -s "$deb" ] || tb_die "no $KPKG $KPKG_VERSION package in $VMET_TESTBED_DIR"
tb_kernel_modules "$deb" "$stage/mods" "$root" $XEN_MODULES

# --- Xen's tools and every library they use ------------------------------------
xbin=/usr/lib/xen-$XEN_VER/bin
mkdir -p "$root$xbin"
for t in xl xenstored xenconsoled xen-init-dom0; do
	[ -x "$XEN_ROOT$xbin/$t" ] || tb_die "no $xbin/$t in $XEN_ROOT"
	cp "$XEN_ROOT$xbin/$t" "$root$xbin/$t"
	# Xen's own libraries come from the host (libxen-dev brings the same
	# release's); the unpacked tree goes first in case it has more.
	LD_LIBRARY_PATH=$XEN_ROOT/usr/lib/x86_64-linux-gnu tb_copy_libs "$root" "$XEN_ROOT$xbin/$t"
done
# xl's threads end through pthread_cancel, which opens libgcc_s at run time.
gcc_s=$(ldconfig -p | awk '/libgcc_s.so.1 .*x86-64/ && !p { print $NF; p = 1 }')
[ -n "$gcc_s" ] || tb_die "no libgcc_s.so.1 on this host"
tb_copy_file "$root" "$gcc_s"
[ -f "$XEN_ROOT/etc/xen/xl.conf" ] && cp "$XEN_ROOT/etc/xen/xl.conf" "$root/etc/xen/"

# The HVM device model, and the firmware it and hvmloader load: SeaBIOS,
# the option ROM for direct kernel boot, a keymap.
[ -x "$XEN_ROOT$XEN_DM" ] || tb_die "no $XEN_DM in $XEN_ROOT ($XEN_DM_PKG)"
mkdir -p "$root$(dirname "$XEN_DM")"
cp "$XEN_ROOT$XEN_DM" "$root$XEN_DM"
LD_LIBRARY_PATH=$XEN_ROOT/usr/lib/x86_64-linux-gnu tb_copy_libs "$root" "$XEN_ROOT$XEN_DM"
mkdir -p "$root/usr/lib/xen-$XEN_VER/boot"
cp "$XEN_ROOT/usr/lib/xen-$XEN_VER/boot/hvmloader" "$root/usr/lib/xen-$XEN_VER/boot/"
for f in /usr/share/qemu/keymaps/en-us /usr/share/qemu/keymaps/common /usr/share/qemu/keymaps/modifiers \
	/usr/share/seabios/bios-256k.bin /usr/share/seabios/bios.bin /usr/share/qemu/bios-256k.bin \
	/usr/share/qemu/linuxboot.bin /usr/share/qemu/linuxboot_dma.bin /usr/share/qemu/kvmvapic.bin \
	/usr/share/qemu/vgabios-stdvga.bin /usr/share/seabios/vgabios-stdvga.bin; do
	[ -e "$f" ] && tb_copy_file "$root" "$f"
done
[ -e "$root/usr/share/qemu/linuxboot_dma.bin" ] || tb_die "no linuxboot_dma.bin (qemu-system-data)"
# --- vmet, its libraries and the Xen libraries it loads at run time ---------------
cp "$vmet_bin" "$root/usr/bin/vmet"
tb_copy_libs "$root" "$vmet_bin"
for l in libxenctrl.so.$XEN_VER libxenforeignmemory.so.1 libxenstore.so.4; do
	p=$(ldconfig -p | awk -v l="$l" '$1 == l && !p { print $NF; p = 1 }')
	[ -n "$p" ] || tb_die "no $l on this host (apt-get install libxen-dev)"
	tb_copy_file "$root" "$p"
	tb_copy_libs "$root" "$p"
done

# --- the domU and /init ----------------------------------------------------------------
cat >"$root/etc/xen/domu.cfg" <<EOT
name = "$DOMU_NAME"
type = "pvh"
kernel = "/domu/vmlinuz"
ramdisk = "/domu/guest.cpio"
extra = "$DOMU_APPEND"
memory = $DOMU_MEM
vcpus = 1
# QEMU's SVM reports RDTSCP as RDTSC: a TSC the guest reads natively.
tsc_mode = "native"
on_crash = "preserve"
EOT
# A PV domU of the same guest, started on request (70-xen.sh): its CR3 and
# page tables hold machine frames.  It idles normally: only the PVH domU
# needs to keep its vCPU in guest mode for L0's samples.
cat >"$root/etc/xen/domu-pv.cfg" <<EOT
name = "$DOMU_PV_NAME"
type = "pv"
kernel = "/domu/vmlinuz"
ramdisk = "/domu/guest.cpio"
extra = "$DOMU_PV_APPEND"
memory = $DOMU_MEM
vcpus = 1
tsc_mode = "native"
on_crash = "preserve"
EOT
cat >"$root/etc/xen/domu-hvm.cfg" <<EOT
name = "$DOMU_HVM_NAME"
type = "hvm"
kernel = "/domu/vmlinuz"
ramdisk = "/domu/guest.cpio"
extra = "$DOMU_HVM_APPEND"
memory = $DOMU_MEM
vcpus = 1
tsc_mode = "native"
vga = "none"
vnc = 0
sdl = 0
on_crash = "preserve"
EOT
# start-hvm.sh: create the HVM domU (a short request line).
cat >"$root/usr/bin/start-hvm.sh" <<'EOT'
#!/bin/sh
xl create /etc/xen/domu-hvm.cfg || exit 1
echo "domain $(xl domid vmet-hvm)"
EOT
chmod 0755 "$root/usr/bin/start-hvm.sh"
install -m 0755 "$XEN_BED_DIR/dom0-init.sh" "$root/init"
cat >"$root/etc/vmet-xen.conf" <<EOT
XEN_MODULES='$XEN_MODULES'
XEN_BIN=$xbin
DOMU_NAME=$DOMU_NAME
EOT

find "$root" -exec touch -h -d @0 {} +
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
	cpio -o -H newc -R 0:0 --reproducible --quiet) >"$stage/overlay.cpio"
cat "$out/guest.cpio" "$stage/overlay.cpio" >"$out/dom0.cpio.tmp"
mv -f "$out/dom0.cpio.tmp" "$out/dom0.cpio"
echo "$out/dom0.cpio"
