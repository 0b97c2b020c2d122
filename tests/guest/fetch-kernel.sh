#!/bin/bash
# Fetch the current Debian 12 kernel for the test guest, without installing
# it: a linux-image package's maintainer scripts would touch this machine's
# own /boot, so we only `apt-get download` and unpack the few members we need.
#
# usage: fetch-kernel.sh [--dbg] [--kver KVER] [--modules "m1 m2"] [--quiet]
#   --dbg       also unpack vmlinux (DWARF) and the real System.map from the
#               -dbg package (an 860 MB download the first time)
#   --kver      use this kernel ABI (e.g. 6.1.0-56-amd64) instead of the one
#               linux-image-amd64 depends on today
#   --modules   modules the guest loads (default: $VMET_GUEST_MODULES or
#               qemu_fw_cfg); their dependencies are added
#
# Cache: $VMET_TESTBED_DIR (default /var/cache/vmet-testbed), one directory
# per kernel ABI.  Writes $DIR/$KVER/kernel.env and prints its path last;
# every step is skipped when its marker says it was done for the same
# package version.
set -euo pipefail

DIR=${VMET_TESTBED_DIR:-/var/cache/vmet-testbed}
want_dbg=0
kver='' kver_given=
modules=${VMET_GUEST_MODULES:-qemu_fw_cfg}
quiet=0
while [ $# -gt 0 ]; do
	case $1 in
	--dbg) want_dbg=1 ;;
	--kver) kver=$2; kver_given=1; shift ;;
	--modules) modules=$2; shift ;;
	--quiet|-q) quiet=1 ;;
	-h|--help) sed -n '2,20p' "$0"; exit 0 ;;
	*) echo "fetch-kernel.sh: unknown argument: $1" >&2; exit 2 ;;
	esac
	shift
done

log() { [ "$quiet" = 1 ] || echo "fetch-kernel: $*" >&2; }
die() { echo "fetch-kernel: error: $*" >&2; exit 1; }

mkdir -p "$DIR"

# One apt-cache call (each costs ~2 s where apt keeps no binary cache) gives
# both the ABI name and the exact version: the metapackage pins it with "=".
# Prints "KVER VERSION" (VERSION may be empty).
resolve() {
	apt-cache show --no-all-versions linux-image-amd64 2>/dev/null |
		awk '/^Depends:/ {
			if (match($0, /linux-image-[0-9][^ ,]*/)) {
				k = substr($0, RSTART + 12, RLENGTH - 12)
				v = ""
				if (match($0, /linux-image-[0-9][^ ,]* \(= [^)]*\)/)) {
					v = substr($0, RSTART, RLENGTH); sub(/.*\(= /, "", v); sub(/\)$/, "", v)
				}
				print k, v; exit
			}
		}'
}

candidate() {
	apt-cache policy "$1" 2>/dev/null | awk '$1 == "Candidate:" { print $2; exit }'
}

kpkg_ver=
if [ -z "$kver" ]; then
	read -r kver kpkg_ver < <(resolve) || true
	if [ -z "$kver" ]; then
		# A fresh machine may have no package lists yet.
		log "apt-cache knows no linux-image-amd64; running apt-get update"
		apt-get update -qq >&2 || true
		read -r kver kpkg_ver < <(resolve) || true
	fi
	if [ -z "$kver" ]; then
		# Offline with an old cache is still good enough for tests.
		cached=$(ls -1t "$DIR"/*/kernel.env 2>/dev/null | head -1 || true)
		[ -n "$cached" ] || die "cannot resolve linux-image-amd64 and nothing is cached in $DIR"
		log "warning: cannot resolve linux-image-amd64; using cached $cached"
		echo "$cached"
		exit 0
	fi
fi
case $kver in
*[!A-Za-z0-9._+-]*|'') die "odd kernel version '$kver'" ;;
esac

K=$DIR/$kver
mkdir -p "$K"

# download PKG [VERSION]: fetch the .deb into $DIR (once), print its path.
download() {
	local pkg=$1 ver=${2:-} deb
	[ -n "$ver" ] || ver=$(candidate "$pkg")
	if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
		# No candidate (lists gone): take whatever .deb we already have.
		deb=$(ls -1t "$DIR/${pkg}_"*_amd64.deb 2>/dev/null | head -1 || true)
		[ -n "$deb" ] || die "apt has no candidate for $pkg and none is cached"
		echo "$deb"
		return
	fi
	deb=$DIR/${pkg}_${ver//:/%3a}_amd64.deb
	if [ -s "$deb" ] && dpkg-deb --info "$deb" >/dev/null 2>&1; then
		echo "$deb"
		return
	fi
	rm -f "$deb"
	log "downloading $pkg $ver"
	# The sandbox user _apt may not write to a root-owned cache: download
	# as root on purpose instead of living with apt's warning.
	(cd "$DIR" && apt-get -q -o APT::Sandbox::User=root download "$pkg=$ver" >&2) ||
		die "apt-get download $pkg=$ver failed"
	[ -s "$deb" ] || die "apt-get download did not produce $deb"
	echo "$deb"
}

# Module file names use '-' or '_' at will; the kernel treats them alike.
modpat() { local n=${1//[-_]/[-_]}; echo "./lib/modules/$kver/kernel/*/$n.ko*"; }

# extract DEB DEST PATTERN...: unpack only the matching members.
extract() {
	local deb=$1 dest=$2; shift 2
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dest" --wildcards "$@" 2>"$dest/.tar.err" || {
		# tar fails when a pattern matched nothing; callers check files.
		grep -v -e 'Not found in archive' -e 'Exiting with failure' "$dest/.tar.err" >&2 || true
	}
	rm -f "$dest/.tar.err"
}

decompress_ko() {
	local f=$1
	case $f in
	*.ko.xz) xz -d -f "$f"; echo "${f%.xz}" ;;
	*.ko.zst) zstd -q -d --rm -f "$f"; echo "${f%.zst}" ;;
	*.ko.gz) gzip -d -f "$f"; echo "${f%.gz}" ;;
	*) echo "$f" ;;
	esac
}

image_pkg=linux-image-$kver
done_stamp=$(cat "$K/.image-done" 2>/dev/null || true)
if [ -n "$kver_given" ] && [ "${done_stamp#* }" = "modules=$modules" ]; then
	# A pinned, already unpacked kernel needs no apt at all (apt-cache
	# costs seconds a call here).
	image_ver=${done_stamp%% *}
	image_stamp=$done_stamp
else
	image_deb=$(download "$image_pkg" "$kpkg_ver")
	image_ver=$(dpkg-deb -f "$image_deb" Version)
	image_stamp="$image_ver modules=$modules"
fi

if [ "$done_stamp" != "$image_stamp" ]; then
	log "unpacking $image_pkg $image_ver"
	tmp=$(mktemp -d "$K/.image.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	pats=("./boot/vmlinuz-$kver" "./boot/config-$kver" "./boot/System.map-$kver"
		"./lib/modules/$kver/modules.builtin" "./lib/modules/$kver/modules.order")
	for m in $modules; do pats+=("$(modpat "$m")"); done
	extract "$image_deb" "$tmp" "${pats[@]}"
	[ -s "$tmp/boot/vmlinuz-$kver" ] || die "no vmlinuz-$kver in $image_deb"

	# Resolve modules and their dependencies into a load order (deps first).
	# The package ships no modules.dep (depmod runs at install time), so
	# read each module's own 'depends' field instead.
	mkdir -p "$tmp/modules"
	order=()
	declare -A seen=()
	resolve_mod() {
		local m=${1//-/_} f dep
		[ -n "${seen[$m]:-}" ] && return
		seen[$m]=1
		if grep -q -E "/${m//_/[-_]}\.ko(\.[a-z]+)?\$" "$tmp/lib/modules/$kver/modules.builtin" 2>/dev/null; then
			log "module $m is built in"
			return
		fi
		f=$(find "$tmp/lib/modules/$kver/kernel" -name "${m//_/[-_]}.ko*" 2>/dev/null | head -1)
		if [ -z "$f" ]; then
			# A dependency found late: one more pass over the archive.
			extract "$image_deb" "$tmp" "$(modpat "$m")"
			f=$(find "$tmp/lib/modules/$kver/kernel" -name "${m//_/[-_]}.ko*" 2>/dev/null | head -1)
		fi
		[ -n "$f" ] || die "module $m is neither built in nor in $image_deb"
		f=$(decompress_ko "$f")
		for dep in $(modinfo -F depends "$f" | tr ',' ' '); do
			resolve_mod "$dep"
		done
		cp "$f" "$tmp/modules/$m.ko"
		order+=("$m")
	}
	for m in $modules; do resolve_mod "$m"; done
	printf '%s\n' "${order[@]}" >"$tmp/modules/order"

	rm -rf "${K:?}/boot" "${K:?}/modules" "${K:?}/lib"
	mv "$tmp/boot" "$tmp/modules" "$K/"
	mkdir -p "$K/lib/modules/$kver"
	cp "$tmp/lib/modules/$kver/modules.builtin" "$K/lib/modules/$kver/" 2>/dev/null || true
	rm -rf "$tmp"
	trap - EXIT
	echo "$image_stamp" >"$K/.image-done"
fi

# vmlinux_complete FILE: an interrupted unpack leaves a truncated ELF; the
# section headers sit at its very end, so check that they fit.
vmlinux_complete() {
	local f=$1 size shoff shentsize shnum
	[ -s "$f" ] || return 1
	[ "$(od -An -c -N4 "$f" | tr -d ' ')" = '177ELF' ] || return 1
	size=$(stat -c %s "$f")
	shoff=$(od -An -t u8 -j 40 -N 8 "$f" | tr -d ' ')
	shentsize=$(od -An -t u2 -j 58 -N 2 "$f" | tr -d ' ')
	shnum=$(od -An -t u2 -j 60 -N 2 "$f" | tr -d ' ')
	[ $((shoff + shentsize * shnum)) -le "$size" ]
}

vmlinux=$K/usr/lib/debug/boot/vmlinux-$kver
sysmap_dbg=$K/usr/lib/debug/boot/System.map-$kver
if [ "$want_dbg" = 1 ]; then
	dbg_pkg=$image_pkg-dbg
	# Built from the same source as the image: same version.
	dbg_ver=$image_ver
	if [ "$(cat "$K/.dbg-done" 2>/dev/null)" = "$dbg_ver" ] && vmlinux_complete "$vmlinux"; then
		:
	elif [ ! -e "$K/.dbg-done" ] && vmlinux_complete "$vmlinux" && [ -s "$sysmap_dbg" ]; then
		# Unpacked earlier by hand (dpkg -x gives the same layout).
		echo "$dbg_ver" >"$K/.dbg-done"
	else
		dbg_deb=$(download "$dbg_pkg" "$dbg_ver")
		log "unpacking vmlinux from $(basename "$dbg_deb")"
		tmp=$(mktemp -d "$K/.dbg.XXXXXX")
		trap 'rm -rf "$tmp"' EXIT
		# The two members sit near the start of a 5 GB stream: with
		# --occurrence tar stops once it has them, and dpkg-deb then dies of
		# SIGPIPE, so its status is not ours to check.
		set +o pipefail
		dpkg-deb --fsys-tarfile "$dbg_deb" 2>/dev/null |
			tar -x -C "$tmp" --occurrence=1 \
				"./usr/lib/debug/boot/vmlinux-$kver" "./usr/lib/debug/boot/System.map-$kver"
		set -o pipefail
		vmlinux_complete "$tmp/usr/lib/debug/boot/vmlinux-$kver" ||
			die "vmlinux-$kver from $dbg_deb is missing or truncated"
		mkdir -p "$K/usr/lib/debug/boot"
		mv -f "$tmp/usr/lib/debug/boot/"* "$K/usr/lib/debug/boot/"
		rm -rf "$tmp"
		trap - EXIT
		dpkg-deb -f "$dbg_deb" Version >"$K/.dbg-done"
	fi
fi

# The System.map in the image package is a one-line placeholder; only the
# -dbg one is real.
sysmap=
[ -s "$sysmap_dbg" ] && sysmap=$sysmap_dbg
vml=
vmlinux_complete "$vmlinux" 2>/dev/null && vml=$vmlinux
fw_cfg=builtin
[ -f "$K/modules/qemu_fw_cfg.ko" ] && fw_cfg=module

env_file=$K/kernel.env
cat >"$env_file.tmp" <<EOF
KVER=$kver
KPKG=$image_pkg
KPKG_VERSION=$image_ver
KDIR=$K
VMLINUZ=$K/boot/vmlinuz-$kver
KCONFIG=$K/boot/config-$kver
MODULES_DIR=$K/modules
MODULES='$(tr '\n' ' ' <"$K/modules/order" | sed 's/ $//')'
QEMU_FW_CFG=$fw_cfg
SYSTEM_MAP=$sysmap
VMLINUX=$vml
EOF
mv "$env_file.tmp" "$env_file"
[ "$quiet" = 1 ] || sed 's/^/  /' "$env_file" >&2
echo "$env_file"
