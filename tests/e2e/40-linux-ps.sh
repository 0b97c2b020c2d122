#!/bin/bash
# vmet ps against a real Debian guest's own view of itself.
#
# The project's test guest (tests/guest: Debian's current kernel under QEMU
# TCG, a busybox init with a known scene: threads, changed credentials, a
# stopped task, a zombie, a long argv, a name longer than comm) is booted
# and captured; its truth (docs: tests/guest/truth-ps.sh) is compared with
# vmet ps --json, normalized the same way, on
#   1. the RAM file while the guest runs again (raw + the captured CR3),
#   2. the ELF dump (VMCOREINFO, nothing given),
#   3. the RAM copy taken while it was stopped (raw, no CR3: banner scan),
# and every PID, PPID, real and effective UID/GID, thread count, comm and
# command line must match: nothing missing, nothing extra.  Threads are
# compared with -T, executables (--exe) with the guest's readlink.  The
# profile is built now from the DWARF vmlinux of the kernel under test (CI
# always gets Debian's newest kernel).
#
# Sourced with VMET_LINUX_GUEST_LIB=1 (by 41-linux-netstat.sh) it only
# defines linux_testbed and the normalizers.  No QEMU, kernel or tools: exit 77.
set -u
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$E2E_DIR/lib.sh"
cd "$E2E_DIR/../.."
TB=$PWD/tests/guest

skip() { echo "skipped: $*"; exit 77; }

# linux_testbed TAG: the shared test guest of tests/guest/testbed.sh (booted
# once per run and reused by every test): Debian's current kernel with a
# profile built now from its DWARF vmlinux (LINUX_TB_PROFILE=btf: read from
# the kernel's own BTF instead, no debug symbols); with LINUX_TB_FLAVOUR=cloud the
# cloud flavour of the same release, and with LINUX_TB_KVER=K kernel ABI K,
# both with PROF=auto (read from the kernel's own BTF).  Sets PROF, NAME, S
# (state dir), RAM (the live file) and testbed.env's variables (TRUTH_PS,
# TRUTH_THREADS, TRUTH_NETSTAT, TRUTH_UNIX, DUMP, RAW, CR3, QMP...).
linux_testbed() {
	local env tool kv args=() derived=0
	for tool in qemu-system-x86_64 jq cpio gcc; do
		command -v "$tool" >/dev/null || skip "$tool not installed"
	done
	[ -x "$TB/testbed.sh" ] || skip "tests/guest testbed scripts missing"
	if [ "${LINUX_TB_FLAVOUR:-}" = cloud ] || [ -n "${LINUX_TB_KVER:-}" ]; then
		# Another build, no DWARF here: the profile is read from the kernel.
		kv=${LINUX_TB_KVER:-}
		if [ -z "$kv" ]; then
			env=$("$TB/fetch-kernel.sh" --quiet 2>"$TMP/fetch.log" | tail -n 1)
			[ -f "$env" ] || { cat "$TMP/fetch.log"; skip "no Debian kernel"; }
			# shellcheck disable=SC1090
			kv=$(. "$env"; echo "${KVER:-}")
			kv=${kv%-amd64}-cloud-amd64
		fi
		args=(--kver "$kv")
		derived=1
	elif [ "${LINUX_TB_PROFILE:-dwarf}" = btf ]; then
		derived=2
	else
		args=(--dbg)
	fi
	S=$("$TB/testbed.sh" "${args[@]}" 2>"$TMP/boot.log" | tail -n 1)
	[ -f "$S/testbed.env" ] || { tail -20 "$TMP/boot.log"; echo "FAIL: test guest did not come up"; exit 1; }
	# shellcheck disable=SC1091
	. "$S/testbed.env"
	if [ "$derived" = 1 ]; then
		PROF=auto
	elif [ "$derived" = 2 ]; then
		# The profile vmet reads out of the kernel itself (BTF + kallsyms),
		# kept as a file so tests can look offsets up in it.
		PROF=$TMP/kernel.vmprof
		"$VMET" profile extract "$DUMP" -o "$PROF" >/dev/null 2>"$TMP/profile.err" ||
			{ cat "$TMP/profile.err"; echo "FAIL: vmet profile extract $DUMP"; exit 1; }
	else
		[ -f "${VMLINUX:-}" ] || skip "no DWARF vmlinux for $KVER"
		PROF=$TMP/kernel.vmprof
		"$VMET" profile build "$VMLINUX" -o "$PROF" >/dev/null 2>"$TMP/profile.err" ||
			{ cat "$TMP/profile.err"; echo "FAIL: vmet profile build $VMLINUX"; exit 1; }
	fi
	echo "guest $NAME: kernel $KVER, profile $PROF, CR3 $CR3"
}

# vmet ps --json in truth-ps.sh's form: PID PPID UID EUID GID EGID NTHREADS COMM|CMDLINE
ps_norm() {
	jq -r '.tasks[] | "\(.pid) \(.ppid) \(.uid) \(.euid) \(.gid) \(.egid) \(.threads) \(.comm)|\(.cmdline // "")"' "$1" |
		LC_ALL=C sort -n
}

threads_norm() {
	jq -r '.tasks[] | "\(.tid) \(.pid) \(.comm)"' "$1" | LC_ALL=C sort -n
}

# compare TRUTH MINE LABEL
compare() {
	if diff -u "$1" "$2" >"$TMP/diff"; then
		echo "$3: $(wc -l <"$1") lines match the guest's own view"
	else
		echo "FAIL: $3 differs from the guest (- guest, + vmet):"
		grep -E '^[-+][^-+]' "$TMP/diff" | cut -c1-200 | head -20
		FAILS=$((FAILS + 1))
	fi
}

# compare_live TRUTH MINE LABEL: the same for a listing taken from the
# running guest some time after its truth: the guest's kernel may have
# started or retired a kworker meanwhile (truth-check.sh --kworker-churn);
# anything else must still match.
compare_live() {
	if "$TB/truth-check.sh" --kworker-churn -q "$1" "$2" >"$TMP/diff" 2>&1; then
		echo "$3: $(wc -l <"$1") lines match the guest's own view (kworker churn allowed)"
	else
		echo "FAIL: $3 differs from the guest:"
		head -20 "$TMP/diff"
		FAILS=$((FAILS + 1))
	fi
}

# truth-netstat.sh's form: PROTO LOCAL REMOTE STATE INODE PID
inet_norm() {
	jq -r '.sockets[] | select(.proto != "unix") |
		def ep(a; p): (if (a | contains(":")) then "[\(a)]" else a end) + ":\(p)";
		"\(.proto) \(ep(.local_address; .local_port)) \(ep(.remote_address; .remote_port)) \(if .state == "" then "-" else .state end) \(.inode // 0) \(if (.owners | length) == 0 then "-" else (.owners | map(.pid) | sort | map(tostring) | join(",")) end)"' "$1" |
		LC_ALL=C sort
}

# unix INODE PATH STATE PID
unix_norm() {
	jq -r '.sockets[] | select(.proto == "unix") |
		"unix \(.inode // 0) \(if .path == "" then "-" else .path end) \(.state) \(if (.owners | length) == 0 then "-" else (.owners | map(.pid) | sort | map(tostring) | join(",")) end)"' "$1" |
		LC_ALL=C sort -k2,2n
}

[ "${VMET_LINUX_GUEST_LIB:-}" = 1 ] && return 0

linux_testbed ps
[ "$(wc -l <"$TRUTH_PS")" -gt 40 ] || { echo "FAIL: guest truth too short"; cat "$TRUTH_PS"; exit 1; }

# 1. Live RAM, entered by the captured CR3 (the guest runs again).
expect_exit 0 "$VMET" ps --json --profile "$PROF" --cr3 "$CR3" "$RAM"
cp "$OUT" "$TMP/live.json"
[ "$(jq -r .kernel.located_by "$TMP/live.json")" = cr3 ] ||
	{ echo "FAIL: live run not located by its CR3"; FAILS=$((FAILS + 1)); }
ps_norm "$TMP/live.json" >"$TMP/live.txt"
compare_live "$TRUTH_PS" "$TMP/live.txt" "live RAM + --cr3"

# 2. ELF dump, nothing given.
expect_exit 0 "$VMET" ps --json --profile "$PROF" "$DUMP"
cp "$OUT" "$TMP/dump.json"
[ "$(jq -r .kernel.located_by "$TMP/dump.json")" = vmcoreinfo ] ||
	{ echo "FAIL: dump not located by VMCOREINFO"; FAILS=$((FAILS + 1)); }
ps_norm "$TMP/dump.json" >"$TMP/dump.txt"
compare "$TRUTH_PS" "$TMP/dump.txt" "ELF dump"

# 3. RAM copy, no CR3: found by a verified banner scan.
expect_exit 0 "$VMET" ps --json --profile "$PROF" "$RAW"
[ "$(jq -r .kernel.located_by "$OUT")" = scan ] ||
	{ echo "FAIL: raw copy not located by the scan"; FAILS=$((FAILS + 1)); }
ps_norm "$OUT" >"$TMP/raw.txt"
compare "$TRUTH_PS" "$TMP/raw.txt" "RAM copy, banner scan"

# Threads (-T), and the profile found by banner in a profile directory.
mkdir -p "$TMP/profiles"
cp "$PROF" "$TMP/profiles/"
expect_exit 0 "$VMET" ps -T --json --profile-dir "$TMP/profiles" "$DUMP"
threads_norm "$OUT" >"$TMP/threads.txt"
compare "$TRUTH_THREADS" "$TMP/threads.txt" "threads (-T)"

# --exe (DWARF profile): every process's executable equals the guest's own
# readlink of /proc/PID/exe (truth.txt's exe lines), "(deleted)" included.
expect_exit 0 "$VMET" ps --exe --json --profile "$PROF" "$DUMP"
jq -r '.tasks[] | select(.exe != null) | "exe\t\(.pid)\t\(.exe)"' "$OUT" | LC_ALL=C sort >"$TMP/exe.txt"
grep -P '^exe\t' "$TRUTH" | LC_ALL=C sort >"$TMP/truth-exe.txt"
compare "$TMP/truth-exe.txt" "$TMP/exe.txt" "ps --exe"

# What the scene set up, seen in vmet's own fields.
j=$TMP/dump.json
[ "$(jq -r '[.tasks[] | select(.comm == "vmet-zombie")][0].state' "$j")" = Z ] ||
	{ echo "FAIL: vmet-zombie is not Z"; FAILS=$((FAILS + 1)); }
[ "$(jq '[.tasks[] | select(.state == "T")] | length' "$j")" -ge 1 ] ||
	{ echo "FAIL: no stopped task"; FAILS=$((FAILS + 1)); }
[ "$(jq '[.tasks[] | select(.kernel_thread == false and .state != "Z" and .cr3 == null)] | length' "$j")" = 0 ] ||
	{ echo "FAIL: a user process without CR3"; FAILS=$((FAILS + 1)); }
[ "$(jq '.complete' "$j")" = true ] || { echo "FAIL: dump listing not complete"; FAILS=$((FAILS + 1)); }

# Text output, --tree, -p, --max-cmdline.
expect_exit 0 "$VMET" ps --profile "$PROF" --tree "$DUMP"
expect_out "\\_ "
expect_out "[kthreadd]"
expect_out "vmet-zombie] <defunct>"
expect_exit 0 "$VMET" ps --profile "$PROF" -p 1 "$DUMP"
[ "$(wc -l <"$OUT")" = 2 ] || { echo "FAIL: -p 1 should print one process"; FAILS=$((FAILS + 1)); }
expect_exit 0 "$VMET" ps --json --profile "$PROF" --max-cmdline 100 "$DUMP"
[ "$(jq '[.tasks[] | select(.comm == "vmet-longargs")][0] | (.cmdline | length) <= 100 and .cmdline_truncated' "$OUT")" = true ] ||
	{ echo "FAIL: --max-cmdline"; FAILS=$((FAILS + 1)); }

# Damage in a copy of the RAM: one task's tasks.next pointing out of memory.
# The rest is still listed (the list walked backwards), exit 1, address named.
addr=$(jq -r '[.tasks[] | select(.comm == "vmet-threads")][0].task' "$j")
off=$(awk '$1 == "member" && $2 == "task_struct" && $3 == "tasks" {print $4}' "$PROF")
pa=$("$VMET" translate --cr3 "$CR3" "$RAW" "$addr" 2>/dev/null | sed -n 's/.*host physical \(0x[0-9a-f]*\)$/\1/p' | tail -n 1)
if [ -n "$pa" ] && [ -n "$off" ]; then
	cp "$RAW" "$TMP/bad.raw"
	put64 "$TMP/bad.raw" $((pa + off)) $((0xffff888fff000000))
	expect_exit 1 "$VMET" ps --json --profile "$PROF" --cr3 "$CR3" "$TMP/bad.raw"
	expect_err "0xffff888fff000000"
	expect_err "backwards"
	[ "$(jq '.tasks | length' "$OUT")" = "$(jq '.tasks | length' "$j")" ] ||
		{ echo "FAIL: tasks lost after the damage"; FAILS=$((FAILS + 1)); }
	[ "$(jq '.complete' "$OUT")" = false ] || { echo "FAIL: damage not marked incomplete"; FAILS=$((FAILS + 1)); }
	rm -f "$TMP/bad.raw"
else
	echo "FAIL: could not place the damage (task $addr, pa '$pa', offset '$off')"
	FAILS=$((FAILS + 1))
fi
finish
