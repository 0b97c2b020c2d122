#!/bin/bash
# vmet netstat against a real Debian guest's own view of its sockets.
#
# The guest of 40-linux-ps.sh (same boot: listeners on TCP/UDP v4/v6, an
# established TCP pair on 127.0.0.1 and on ::1, a connected UDP socket, unix
# sockets) prints /proc/net/{tcp,tcp6,udp,udp6} and every process's open fds
# (which give the owners) to its console.  vmet netstat --json on the live
# RAM file (raw + --cr3) and on the ELF dump must list exactly those
# sockets: protocol, local and remote address and port, state, inode and
# owning PIDs; nothing missing, nothing extra.  Missing tools: exit 77.
set -u
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VMET_LINUX_GUEST_LIB=1
# shellcheck source=40-linux-ps.sh
. "$E2E_DIR/40-linux-ps.sh"

# "proto laddr lport raddr rport state inode owners", addresses in full
# lowercase form (IPv6: 8 groups of 4 digits), owners "pid,pid" or "-".
net_truth() {
	{
		section FDS | sed 's/^/FD /'
		section NET
	} | awk '
	function hex(s,   i, v, c) {
		v = 0; s = tolower(s)
		for (i = 1; i <= length(s); i++) {
			c = index("0123456789abcdef", substr(s, i, 1)) - 1
			v = v * 16 + c
		}
		return v
	}
	# /proc/net prints each 32-bit word of the address in host (little-endian) order
	function addr(h,   i, w, out, b) {
		if (length(h) == 8)
			return hex(substr(h, 7, 2)) "." hex(substr(h, 5, 2)) "." hex(substr(h, 3, 2)) "." hex(substr(h, 1, 2))
		b = ""
		for (w = 0; w < 4; w++)
			for (i = 3; i >= 0; i--)
				b = b substr(h, w * 8 + i * 2 + 1, 2)
		out = ""
		for (i = 0; i < 8; i++)
			out = out (i ? ":" : "") tolower(substr(b, i * 4 + 1, 4))
		return out
	}
	BEGIN {
		split("ESTABLISHED SYN_SENT SYN_RECV FIN_WAIT1 FIN_WAIT2 TIME_WAIT CLOSE CLOSE_WAIT LAST_ACK LISTEN CLOSING", st, " ")
	}
	$1 == "FD" {
		# "FD fd PID FD TARGET" from vmet-helper fds
		if ($5 ~ /^socket:\[/) {
			ino = $5; gsub(/[^0-9]/, "", ino)
			if (!((ino, $3) in seen)) { seen[ino, $3] = 1; own[ino] = own[ino] (own[ino] ? "," : "") $3 }
		}
		next
	}
	$1 == "==" { proto = $2; next }
	$1 == "sl" || NF < 10 { next }
	{
		split($2, l, ":"); split($3, r, ":")
		s = hex($4)
		state = proto ~ /^tcp/ ? st[s] : (s == 1 ? "ESTABLISHED" : "-")
		printf "%s %s %d %s %d %s %s %s\n", proto, addr(l[1]), hex(l[2]), addr(r[1]), hex(r[2]), state, $10, ($10 in own) ? own[$10] : "-"
	}' | sort_owners | sort
}

# Owner lists sorted numerically, so both sides spell them the same way.
sort_owners() {
	awk '{ n = split($8, p, ","); if (n > 1) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (p[j] + 0 < p[i] + 0) { t = p[i]; p[i] = p[j]; p[j] = t }
	       $8 = p[1]; for (i = 2; i <= n; i++) $8 = $8 "," p[i] } print }'
}

net_vmet() {
	jq -r '.sockets[] | select(.proto != "unix") |
		"\(.proto) \(.local_address) \(.local_port) \(.remote_address) \(.remote_port) \(if .state == "" then "-" else .state end) \(.inode // 0) \(if (.owners | length) == 0 then "-" else (.owners | map(.pid | tostring) | join(",")) end)"' "$1" |
	awk '
	# inet_ntop form -> 8 full groups (an embedded IPv4 tail becomes 2 groups)
	function expand6(a,   n, i, g, left, right, nl, nr, out, q, v4) {
		if (index(a, ":") == 0) return a
		if (a ~ /[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/) {
			n = split(a, g, ":"); split(g[n], q, ".")
			v4 = sprintf("%02x%02x:%02x%02x", q[1], q[2], q[3], q[4])
			sub(/[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/, v4, a)
		}
		if (index(a, "::")) {
			left = substr(a, 1, index(a, "::") - 1); right = substr(a, index(a, "::") + 2)
			nl = left == "" ? 0 : split(left, L, ":"); nr = right == "" ? 0 : split(right, R, ":")
			out = ""
			for (i = 1; i <= nl; i++) out = out (out == "" ? "" : ":") sprintf("%4s", L[i])
			for (i = 0; i < 8 - nl - nr; i++) out = out (out == "" ? "" : ":") "0000"
			for (i = 1; i <= nr; i++) out = out (out == "" ? "" : ":") sprintf("%4s", R[i])
		} else {
			n = split(a, g, ":"); out = ""
			for (i = 1; i <= n; i++) out = out (i > 1 ? ":" : "") sprintf("%4s", g[i])
		}
		gsub(/ /, "0", out)
		return tolower(out)
	}
	{ $2 = expand6($2); $4 = expand6($4); print }' | sort_owners | sort
}

compare_net() {
	local t=$1 v=$2 label=$3
	if ! diff -u "$t" "$v" >"$TMP/net.diff"; then
		echo "FAIL: $label differs from the guest's /proc/net (- guest, + vmet):"
		grep '^[-+][a-z]' "$TMP/net.diff" | head -20
		FAILS=$((FAILS + 1))
	else
		echo "$label: $(wc -l <"$t") sockets match the guest's /proc/net and fd tables"
	fi
}

linux_guest_boot
net_truth >"$TMP/net-truth.txt"
[ "$(wc -l <"$TMP/net-truth.txt")" -ge 10 ] || { echo "FAIL: guest socket truth incomplete"; cat "$TMP/net-truth.txt"; exit 1; }

expect_exit 0 "$VMET" netstat --json --profile "$PROF" --cr3 "$CR3" "$RAM"
cp "$OUT" "$TMP/live.json"
net_vmet "$TMP/live.json" >"$TMP/net-live.txt"
compare_net "$TMP/net-truth.txt" "$TMP/net-live.txt" "live RAM + --cr3"

linux_guest_dump
expect_exit 0 "$VMET" netstat --json --profile "$PROF" "$DUMP"
cp "$OUT" "$TMP/dump.json"
net_vmet "$TMP/dump.json" >"$TMP/net-dump.txt"
compare_net "$TMP/net-truth.txt" "$TMP/net-dump.txt" "ELF dump"

# Text output and UNIX sockets (the listener's path and abstract name).
expect_exit 0 "$VMET" netstat --profile "$PROF" "$DUMP"
expect_out "0.0.0.0:8080"
expect_out "LISTEN"
expect_out "/vmet-lsn"
expect_exit 0 "$VMET" netstat -x --profile "$PROF" "$DUMP"
expect_out "/tmp/vmet.sock"
expect_out "@vmet-abstract"
expect_exit 0 "$VMET" netstat -l --json --profile "$PROF" "$DUMP"
[ "$(jq '[.sockets[] | select(.state == "ESTABLISHED")] | length' "$OUT")" = 0 ] ||
	{ echo "FAIL: -l lists established sockets"; FAILS=$((FAILS + 1)); }
# --no-hash: only what the fd tables show; every socket then has an owner.
expect_exit 0 "$VMET" netstat --no-hash --json --profile "$PROF" "$DUMP"
[ "$(jq '[.sockets[] | select(.owners == [])] | length' "$OUT")" = 0 ] ||
	{ echo "FAIL: --no-hash lists unowned sockets"; FAILS=$((FAILS + 1)); }

# Damage: the UDP hash table's first chain made to loop on itself in a copy
# of the RAM: bounded, reported, exit 1, TCP still listed.
udp_sk=$(jq -r '[.sockets[] | select(.proto == "udp" and .local_port == 5353)][0].sock' "$TMP/live.json")
node_off=$(grep -E '^member sock_common skc_node ' "$PROF" | awk '{print $4}')
if [ -n "$udp_sk" ] && [ "$udp_sk" != null ] && [ -n "$node_off" ]; then
	node=$((udp_sk + node_off))
	pa=$("$VMET" translate --cr3 "$CR3" "$RAM" "$(printf '0x%x' "$node")" 2>/dev/null | sed -n 's/.*host physical \(0x[0-9a-f]*\)$/\1/p' | tail -1)
	if [ -n "$pa" ]; then
		cp "$RAM" "$TMP/bad.raw"
		put64 "$TMP/bad.raw" "$pa" "$node"	# node->next = node
		expect_exit 1 "$VMET" netstat --json --profile "$PROF" --cr3 "$CR3" "$TMP/bad.raw"
		expect_err "loops"
		[ "$(jq '[.sockets[] | select(.proto == "tcp")] | length' "$OUT")" -ge 3 ] ||
			{ echo "FAIL: TCP sockets lost after UDP damage"; FAILS=$((FAILS + 1)); }
		rm -f "$TMP/bad.raw"
	else
		echo "FAIL: could not translate the UDP node"; FAILS=$((FAILS + 1))
	fi
else
	echo "FAIL: no UDP socket on port 5353 to damage"; FAILS=$((FAILS + 1))
fi
linux_guest_stop
finish
