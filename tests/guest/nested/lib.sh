# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by the nested testbed's scripts (bash), after the flat testbed's
# lib.sh, whose paths and helpers it shares: the same VMET_STATE_DIR,
# VMET_RAM_DIR and VMET_TESTBED_DIR, the same state-dir layout, the same
# truth format and channel protocol.

NESTED_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib.sh
. "$NESTED_DIR/../lib.sh"
FLAT_DIR=$GUEST_DIR

# L0: the emulated host that runs L1.  SVM with nested paging is what lets
# L1's KVM run L2 at all; QEMU 7.2's TCG offers both on qemu64.
L0_CPU=qemu64,+svm,+npt
L0_MEM=2G
# L2: the flat guest, run by L1's QEMU/KVM.  idle=poll keeps L2's vCPU in
# guest mode while L2 idles (HLT would exit to L1, which then idles too), so
# that L0's register samples catch L2's CR3 rather than L1's; the price is
# one host core kept busy while the bed is up.
L2_MEM=256M
L2_APPEND='console=ttyS0 panic=-1 idle=poll'

# Where L1 finds its L2 and settings (inside L1's initramfs).
L1_CONF=/etc/vmet-nested.conf

# has_truth_end LOG TAG: true once LOG holds TAG's END marker line (the
# channel may or may not turn newlines into CR LF).
has_truth_end() {
	local cr=$'\r'
	grep -qaE -- "^===VMET-TRUTH-END=== $2$cr?\$" "$1" 2>/dev/null
}

# wait_truth STATEDIR LOG TAG TIMEOUT_S: wait for TAG's END marker in LOG,
# failing early if L0's QEMU is gone or L1 reported a failure.
wait_truth() {
	local s=$1 log=$2 tag=$3 to=$4 t0=$SECONDS
	until has_truth_end "$log" "$tag"; do
		tb_pid "$s" >/dev/null || { echo "${0##*/}: L0 QEMU for $s is gone" >&2; return 1; }
		if grep -qa 'vmet-l1: FAIL' "$s/serial.log" 2>/dev/null; then
			echo "${0##*/}: $(grep -a -m1 'vmet-l1: FAIL' "$s/serial.log" | tr -d '\r')" >&2
			return 1
		fi
		if [ $((SECONDS - t0)) -ge "$to" ]; then
			echo "${0##*/}: no truth '$tag' in ${log##*/} after ${to}s" >&2
			return 1
		fi
		sleep 0.2
	done
}

# l1_truth STATEDIR TAG TIMEOUT_S: have L1's /init print a truth block
# tagged TAG on its channel (truth-l1.log) and wait for its END marker.
# A request sent before L1 opened its end of the line would be lost, so
# the channel is first proved with ping/pong; the truth is asked for once,
# so the log never holds two blocks of one tag.
l1_truth() {
	local s=$1 tag=$2 to=$3 t0=$SECONDS n=0
	until grep -qa -- "^pong $tag-[0-9]" "$s/truth-l1.log" 2>/dev/null; do
		if [ $((SECONDS - t0)) -ge "$to" ]; then
			echo "${0##*/}: L1's truth channel does not answer after ${to}s" >&2
			return 1
		fi
		tb_pid "$s" >/dev/null || { echo "${0##*/}: L0 QEMU for $s is gone" >&2; return 1; }
		n=$((n + 1))
		printf 'ping %s\n' "$tag-$n" | socat -u - "UNIX-CONNECT:$s/truth-l1.sock" || return 1
		sleep 2
	done
	printf 'truth %s\n' "$tag" | socat -u - "UNIX-CONNECT:$s/truth-l1.sock" || return 1
	wait_truth "$s" "$s/truth-l1.log" "$tag" $((to - (SECONDS - t0)))
}
