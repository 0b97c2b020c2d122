#!/bin/bash
# vmet netstat against a real Debian guest's own view of its sockets.
#
# The test guest of 40-linux-ps.sh (listeners on TCP/UDP v4/v6, established
# TCP pairs on 127.0.0.1 and ::1, connected UDP v4/v6 sockets, unix stream
# and datagram sockets) is booted and captured; its truth (/proc/net/* and
# every process's fds, normalized by tests/guest/truth-netstat.sh) must
# equal vmet netstat --json normalized the same way: protocol, local and
# remote address:port, state, inode and owning PIDs; nothing missing,
# nothing extra.  On the live RAM file (raw + CR3), the ELF dump and the RAM
# copy.  No QEMU, kernel or tools: exit 77.
set -u
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VMET_LINUX_GUEST_LIB=1
# shellcheck source=40-linux-ps.sh
. "$E2E_DIR/40-linux-ps.sh"

# Profile from the kernel itself: the DWARF path is 40's.
LINUX_TB_PROFILE=btf linux_testbed net
[ "$(wc -l <"$TRUTH_NETSTAT")" -ge 8 ] || { echo "FAIL: guest socket truth too short"; cat "$TRUTH_NETSTAT"; exit 1; }

expect_exit 0 "$VMET" netstat -tux --json --profile "$PROF" --cr3 "$CR3" "$RAM"
cp "$OUT" "$TMP/live.json"
inet_norm "$TMP/live.json" >"$TMP/live.txt"
compare "$TRUTH_NETSTAT" "$TMP/live.txt" "live RAM + --cr3, TCP/UDP"

expect_exit 0 "$VMET" netstat -tux --json --profile "$PROF" "$DUMP"
cp "$OUT" "$TMP/dump.json"
inet_norm "$TMP/dump.json" >"$TMP/dump.txt"
compare "$TRUTH_NETSTAT" "$TMP/dump.txt" "ELF dump, TCP/UDP"
unix_norm "$TMP/dump.json" >"$TMP/unix.txt"
compare "$TRUTH_UNIX" "$TMP/unix.txt" "ELF dump, UNIX"

expect_exit 0 "$VMET" netstat --json --profile "$PROF" "$RAW"
inet_norm "$OUT" >"$TMP/raw.txt"
compare "$TRUTH_NETSTAT" "$TMP/raw.txt" "RAM copy (scan), TCP/UDP"

# Text output and filters.
expect_exit 0 "$VMET" netstat --profile "$PROF" "$DUMP"
expect_out "0.0.0.0:7001"
expect_out "LISTEN"
expect_out "/vmet-listen"
expect_exit 0 "$VMET" netstat -x --profile "$PROF" "$DUMP"
expect_out "/run/vmet/listen.sock"
expect_out "@vmet-dgram"
expect_exit 0 "$VMET" netstat -l --json --profile "$PROF" "$DUMP"
[ "$(jq '[.sockets[] | select(.state == "ESTABLISHED")] | length' "$OUT")" = 0 ] ||
	{ echo "FAIL: -l lists established sockets"; FAILS=$((FAILS + 1)); }
[ "$(jq '[.sockets[] | select(.state == "LISTEN")] | length' "$OUT")" -ge 5 ] ||
	{ echo "FAIL: -l lost listeners"; FAILS=$((FAILS + 1)); }
expect_exit 0 "$VMET" netstat --no-hash --json --profile "$PROF" "$DUMP"
[ "$(jq '[.sockets[] | select(.owners == [])] | length' "$OUT")" = 0 ] ||
	{ echo "FAIL: --no-hash lists unowned sockets"; FAILS=$((FAILS + 1)); }

# Damage in a copy of the RAM: the UDP chain of port 7003 made to loop on
# itself.  Bounded, reported, exit 1, TCP still listed.
udp_sk=$(jq -r '[.sockets[] | select(.proto == "udp" and .local_port == 7003)][0].sock' "$TMP/dump.json")
node_off=$(awk '$1 == "member" && $2 == "sock_common" && $3 == "skc_node" {print $4}' "$PROF")
if [ -n "$udp_sk" ] && [ "$udp_sk" != null ] && [ -n "$node_off" ]; then
	node=$(printf '0x%x' $((udp_sk + node_off)))
	pa=$("$VMET" translate --cr3 "$CR3" "$RAW" "$node" 2>/dev/null | sed -n 's/.*host physical \(0x[0-9a-f]*\)$/\1/p' | tail -n 1)
	if [ -n "$pa" ]; then
		cp "$RAW" "$TMP/bad.raw"
		put64 "$TMP/bad.raw" "$pa" $((node))	# node->next = node
		expect_exit 1 "$VMET" netstat --json --profile "$PROF" --cr3 "$CR3" "$TMP/bad.raw"
		expect_err "loops"
		[ "$(jq '[.sockets[] | select(.proto == "tcp")] | length' "$OUT")" = \
		  "$(jq '[.sockets[] | select(.proto == "tcp")] | length' "$TMP/dump.json")" ] ||
			{ echo "FAIL: TCP sockets lost after the UDP damage"; FAILS=$((FAILS + 1)); }
		rm -f "$TMP/bad.raw"
	else
		echo "FAIL: could not translate the UDP node $node"; FAILS=$((FAILS + 1))
	fi
else
	echo "FAIL: no UDP socket on port 7003 to damage"; FAILS=$((FAILS + 1))
fi
finish
