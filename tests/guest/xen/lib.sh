# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by the Xen testbed's scripts (bash), after the flat testbed's
# lib.sh, whose paths, helpers and truth format it shares.
#
# The bed: L0 = QEMU TCG emulating AMD SVM with nested paging; L1 = Xen
# 4.17 (Debian's xen-hypervisor package, booted through QEMU's multiboot
# loader) with dom0 = Debian's kernel and a busybox initramfs holding the
# Xen tools and vmet; domU = the flat testbed's guest (its kernel and
# initramfs) as a PVH domain.

XEN_BED_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib.sh
. "$XEN_BED_DIR/../lib.sh"
FLAT_DIR=$GUEST_DIR

# Debian packages, downloaded and unpacked, never installed.
XEN_PKG_DIR=${VMET_XEN_PKG_DIR:-$VMET_STATE_DIR/xen-pkgs}
XEN_PKGS="xen-hypervisor-4.17-amd64 xen-utils-4.17 xen-utils-common xenstore-utils qemu-system-xen"
XEN_VER=4.17

# qemu64,+svm,+npt: Xen needs no extra option on it (-cpu max needs
# smap=hvm), and HAP (Xen's NPT) is what lets L0 walk to a PVH/HVM domU.
L0_CPU=qemu64,+svm,+npt
L0_MEM=2G
XEN_APPEND='console=com1 com1=115200,8n1 dom0_mem=768M,max:768M dom0_max_vcpus=1 noreboot loglvl=warning guest_loglvl=none'
DOM0_APPEND='console=hvc0 panic=-1'
# The domU: idle=poll keeps its vCPU in guest mode (L0's register samples
# then catch its CR3), as the nested bed does for L2.
DOMU_NAME=vmet-pvh
DOMU_MEM=256
DOMU_APPEND='console=hvc0 panic=-1 idle=poll'
DOMU_PV_NAME=vmet-pv
DOMU_PV_APPEND='console=hvc0 panic=-1'
# HVM: the console is Xen's PV console too (hvc0, logged by xenconsoled):
# every byte on the emulated UART is a trip through Xen to the device model
# in dom0, which under nested emulation printed the kernel's boot messages
# at a few bytes a second.
DOMU_HVM_NAME=vmet-hvm
DOMU_HVM_APPEND='console=hvc0 panic=-1 idle=poll'
# Debian's device model for HVM guests (libxl's default path).
XEN_DM_PKG=qemu-system-xen
XEN_DM=/usr/libexec/xen-qemu-system-i386

# The Xen modules dom0 loads, dependencies first.
XEN_MODULES="xen-privcmd xenfs xen-evtchn xen-gntdev xen-gntalloc"

# Lines dom0's /init prints for the host, on Xen's serial console:
#   vmet-dom0: ...              progress and "vmet-dom0: FAIL ..."
#   VMETX <file> <base64>       the files of its results, line by line
#   VMETX-END <file> <sha256>   the end of a file, with its checksum

# xen_unpack LOG DIR: the files dom0 sent in LOG (carriage returns already
# dropped) into DIR, each checked against the SHA-256 dom0 gave; an empty
# file has no VMETX line, only its VMETX-END.  Fails naming the first file
# that is damaged or incomplete.
xen_unpack() {
	local log=$1 dir=$2 f want have
	mkdir -p "$dir"
	rm -f "$dir"/*.b64 "$dir"/*.sha256
	awk -v dir="$dir" '
		$1 == "VMETX" && NF == 3 { print $3 > (dir "/" $2 ".b64") }
		$1 == "VMETX-END" && NF == 3 { print $3 > (dir "/" $2 ".sha256") }' "$log"
	for want in "$dir"/*.sha256; do
		[ -e "$want" ] || continue
		f=${want%.sha256}
		if [ -e "$f.b64" ]; then
			base64 -d <"$f.b64" >"$f" 2>/dev/null ||
				{ tb_log "dom0's ${f##*/} is not base64 (lost console output?)"; return 1; }
		else
			: >"$f"
		fi
		have=$(sha256sum <"$f" | cut -d' ' -f1)
		if [ "$(cat "$want")" != "$have" ]; then
			tb_log "dom0's ${f##*/} arrived damaged (SHA-256 $have, dom0 said $(cat "$want"))"
			return 1
		fi
		rm -f "$f.b64" "$want"
	done
	for f in "$dir"/*.b64; do
		[ -e "$f" ] || continue
		tb_log "dom0's ${f##*/} has no end line"
		return 1
	done
}

# xen_dom0_run STATEDIR TAG TIMEOUT_S CMD: run CMD (sh -c) in dom0 of the
# bed in STATEDIR; its STATEDIR/req/TAG.{out,err,rc} arrive as dom0 sent
# them.  The exchange is read from the console socket (exact, unlike
# QEMU's logfile while a client is connected); the connection stays open
# until dom0 says it is done.  The request goes out 16 bytes at a time
# (Xen's serial input ring overflows when dom0 is slow to drain it) with
# CMD's checksum: a request dom0 got garbled is sent again, up to 3 times.
# xen_dom0_said RAW LINE: how many times dom0 said "vmet-dom0: LINE" in the
# exchange RAW (its lines end in one or more carriage returns).
xen_dom0_said() { tr -d '\r' <"$1" | grep -cx -- "vmet-dom0: $2"; }

xen_dom0_run() {
	local s=$1 tag=$2 to=$3 cmd=$4 raw=$1/req-$2.raw t0=$SECONDS rc=1 req_pid req sum i try sent
	local garbled taken
	mkdir -p "$s/req"
	: >"$raw"
	sum=$(printf '%s' "$cmd" | sha256sum | cut -c1-16)
	req=$(printf '\nvmet-run %s %s %s\n' "$tag" "$sum" "$cmd")
	req="$req"$'\n'
	coproc DOM0REQ { exec socat - "UNIX-CONNECT:$s/console.sock" >"$raw" 2>/dev/null; }
	req_pid=$DOM0REQ_PID
	for try in 1 2 3; do
		# what dom0 had answered before this try went out
		garbled=$(xen_dom0_said "$raw" "garbled $tag")
		taken=$((garbled + $(xen_dom0_said "$raw" "running $tag")))
		for ((i = 0; i < ${#req}; i += 16)); do
			printf '%s' "${req:i:16}" >&"${DOM0REQ[1]}"
			sleep 0.05
		done
		sent=$SECONDS
		while :; do
			if [ "$(xen_dom0_said "$raw" "done $tag")" -gt 0 ]; then
				rc=0
				break 2
			fi
			if [ "$(xen_dom0_said "$raw" "garbled $tag")" -gt "$garbled" ]; then
				tb_log "dom0 got request '$tag' garbled (try $try)"
				break
			fi
			# a request whose head was lost gets no answer at all
			if [ $(($(xen_dom0_said "$raw" "running $tag") + $(xen_dom0_said "$raw" "garbled $tag"))) -le "$taken" ] &&
			   [ $((SECONDS - sent)) -ge 60 ]; then
				tb_log "dom0 did not take request '$tag' (try $try)"
				break
			fi
			tb_pid "$s" >/dev/null || { tb_log "L0 QEMU for $s is gone"; break 2; }
			kill -0 "$req_pid" 2>/dev/null || { tb_log "lost the connection to $s/console.sock"; break 2; }
			[ $((SECONDS - t0)) -lt "$to" ] || { tb_log "dom0 did not finish '$tag' in ${to}s"; break 2; }
			sleep 0.1
		done
	done
	kill "$req_pid" 2>/dev/null || true
	wait "$req_pid" 2>/dev/null || true
	[ $rc = 0 ] || return 1
	tr -d '\r' <"$raw" >"$raw.txt"
	xen_unpack "$raw.txt" "$s/req"
}
