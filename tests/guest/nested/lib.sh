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

# wait_for STATEDIR FILE ERE TIMEOUT_S: wait until FILE has a line matching
# ERE; fail at once when L0's QEMU is gone or L1's /init reported a failure
# on the console ("vmet-l1: FAIL ...", in serial.log), as waiting on would
# only run into the timeout.
wait_for() {
	local s=$1 file=$2 re=$3 to=$4 t0=$SECONDS
	until grep -qaE -- "$re" "$file" 2>/dev/null; do
		if grep -qa '^vmet-l1: FAIL' "$s/serial.log" 2>/dev/null; then
			tb_log "$(grep -a -m1 '^vmet-l1: FAIL' "$s/serial.log" | tr -d '\r')"
			return 1
		fi
		tb_pid "$s" >/dev/null || { tb_log "L0 QEMU for $s is gone"; return 1; }
		if [ $((SECONDS - t0)) -ge "$to" ]; then
			tb_log "nothing like '$re' in ${file##*/} after ${to}s"
			return 1
		fi
		sleep 0.2
	done
}

# l1_truth_now STATEDIR TAG TIMEOUT_S OUT: a truth block from L1's /init,
# on its own channel (truth-l1.sock); the flat testbed's tb_truth_now, which
# serves L2's channel (truth.sock), makes the exchange.
l1_truth_now() {
	tb_truth_now "$1" "$2" "$3" "$4" truth-l1 L1
}
