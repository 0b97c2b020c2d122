#!/bin/bash
# Build the test guest's initramfs: busybox-static, vmet-helper (static),
# init.sh as /init and the kernel modules fetch-kernel.sh unpacked.
#
# usage: build-initramfs.sh [--env KERNEL_ENV] OUT.cpio
#   KERNEL_ENV defaults to what `fetch-kernel.sh --quiet` prints.
#
# The archive is byte-for-byte reproducible from its inputs (fixed mtimes,
# sorted names, owner 0), so a caller can compare checksums to tell whether
# a running guest was booted from the same scene.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
env_file=
while [ $# -gt 0 ]; do
	case $1 in
	--env) env_file=$2; shift 2 ;;
	-h|--help) sed -n '2,9p' "$0"; exit 0 ;;
	-*) echo "build-initramfs.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# -eq 1 ] || { echo "usage: build-initramfs.sh [--env KERNEL_ENV] OUT.cpio" >&2; exit 2; }
out=$1
[ -n "$env_file" ] || env_file=$("$here/fetch-kernel.sh" --quiet)
# shellcheck disable=SC1090
. "$env_file"

busybox=${VMET_BUSYBOX:-/bin/busybox}
[ -x "$busybox" ] || { echo "build-initramfs.sh: no $busybox (apt-get install busybox-static)" >&2; exit 1; }
# Debian's dynamic 'busybox' package also installs /bin/busybox; it would
# not run in a guest that has no libc.
if ldd "$busybox" >/dev/null 2>&1; then
	echo "build-initramfs.sh: $busybox is dynamically linked; install busybox-static" >&2
	exit 1
fi

stage=$(mktemp -d /tmp/vmet-initramfs.XXXXXX)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,dev,proc,sys,run,tmp,etc,root,lib/modules}

cc=${CC_GUEST:-gcc}
"$cc" -static -O2 -Wall -Wextra -o "$stage/bin/vmet-helper" "$here/helper.c" -lpthread
strip "$stage/bin/vmet-helper" 2>/dev/null || true
ln -s vmet-helper "$stage/bin/vmet-very-long-process-name"

cp "$busybox" "$stage/bin/busybox"
for a in $("$busybox" --list); do
	[ -e "$stage/bin/$a" ] || ln -s busybox "$stage/bin/$a"
done
install -m 0755 "$here/init.sh" "$stage/init"

if [ -f "$MODULES_DIR/order" ]; then
	cp "$MODULES_DIR/order" "$stage/lib/modules/order"
	while read -r m; do
		[ -n "$m" ] && cp "$MODULES_DIR/$m.ko" "$stage/lib/modules/"
	done <"$MODULES_DIR/order"
fi

cat >"$stage/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/tmp:/bin/sh
EOF
cat >"$stage/etc/group" <<'EOF'
root:x:0:
user:x:1000:
EOF
# The kernel's built-in initramfs already has /dev/console; ours adds it
# too in case a kernel is built without one (needs root for mknod).
mknod -m 600 "$stage/dev/console" c 5 1 2>/dev/null || true

find "$stage" -exec touch -h -d @0 {} +
tmp_out=$out.tmp.$$
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
	cpio -o -H newc -R 0:0 --reproducible --quiet) >"$tmp_out"
mv -f "$tmp_out" "$out"
echo "$out"
