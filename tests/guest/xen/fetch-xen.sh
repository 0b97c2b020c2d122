#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# fetch-xen.sh: download Debian's Xen packages (apt-get download, no
# install) into $XEN_PKG_DIR/debs and unpack them (dpkg-deb -x) into
# $XEN_PKG_DIR/root; writes and prints $XEN_PKG_DIR/xen.env:
#   XEN_ROOT    the unpacked tree
#   XEN_KERNEL  the hypervisor, gunzipped (QEMU's multiboot loader wants
#               the plain image)
#   XEN_PKG_VERSION
# Reuses what is there when the versions match.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

quiet=0
[ "${1:-}" = --quiet ] && quiet=1
log() { [ "$quiet" = 1 ] || echo "fetch-xen: $*" >&2; }

mkdir -p "$XEN_PKG_DIR/debs"
ver=$(apt-cache policy "xen-hypervisor-$XEN_VER-amd64" 2>/dev/null | awk '$1 == "Candidate:" { print $2 }')
if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
	tb_die "apt knows no xen-hypervisor-$XEN_VER-amd64 (apt-get update?)"
fi
env=$XEN_PKG_DIR/xen.env
if [ -s "$env" ] && grep -qx "XEN_PKG_VERSION=$ver" "$env" && grep -qx "XEN_PKGS='$XEN_PKGS'" "$env"; then
	echo "$env"
	exit 0
fi
log "downloading $XEN_PKGS ($ver)"
# apt-get download writes into the current directory; as root it warns that
# _apt cannot reach it, which is harmless.
(cd "$XEN_PKG_DIR/debs" && rm -f ./*.deb &&
	timeout 300 apt-get download $XEN_PKGS >/dev/null 2>&1) ||
	tb_die "apt-get download $XEN_PKGS failed"
root=$XEN_PKG_DIR/root
rm -rf "$root.new"
mkdir -p "$root.new"
for d in "$XEN_PKG_DIR"/debs/*.deb; do
	dpkg-deb -x "$d" "$root.new" || tb_die "cannot unpack $d"
done
rm -rf "$root"
mv "$root.new" "$root"
xz=$root/boot/xen-$XEN_VER-amd64.gz
[ -s "$xz" ] || tb_die "no $xz in the hypervisor package"
gzip -dc "$xz" >"$XEN_PKG_DIR/xen-$XEN_VER-amd64"
cat >"$env" <<EOT
XEN_ROOT=$root
XEN_KERNEL=$XEN_PKG_DIR/xen-$XEN_VER-amd64
XEN_PKG_VERSION=$ver
XEN_PKGS='$XEN_PKGS'
EOT
log "Xen $ver unpacked in $root"
echo "$env"
