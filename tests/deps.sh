#!/bin/bash
# Install the Debian 12 packages that building vmet and running its whole
# test suite need.  README's quick start and .ci/run both call this; it is
# the only place the list lives.  Safe to run again.
set -euo pipefail

pkgs=(
	# build
	make gcc clang pkg-config libclang-rt-14-dev
	libelf-dev libdw-dev zlib1g-dev libssl-dev
	# the xen: source: Xen's headers (the libraries are dlopen'ed at run time)
	libxen-dev
	# unit tests
	libcmocka-dev
	# real-guest tests: QEMU under TCG, a busybox initramfs, QMP over socat
	qemu-system-x86 qemu-system-data seabios busybox-static cpio socat jq xz-utils kmod
	libc6-dev file strace zstd
	# vmet mount / vmet shell, and the unmodified tools they are tested with
	# (chkrootkit: the rootkit checker run against the shadow /proc)
	libfuse3-dev fuse3 procps net-tools chkrootkit
	# independent oracles for profile tests
	gdb binutils
	# the end-to-end tests under valgrind (make valgrind)
	valgrind
)

if [ "$(id -u)" != 0 ]; then
	echo "tests/deps.sh: run as root (apt-get install)" >&2
	exit 1
fi
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "tests/deps.sh: all ${#pkgs[@]} packages present"
	exit 0
fi
echo "tests/deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
