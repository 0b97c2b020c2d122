#!/bin/bash
# Normalize the guest's sockets (truth.txt) for comparison with vmet netstat.
#
# usage: truth-netstat.sh [--unix] TRUTH
#   default   IP sockets, one per line, sorted (LC_ALL=C sort):
#               PROTO LOCAL REMOTE STATE INODE PID
#   --unix    unix sockets, sorted by inode:
#               unix INODE PATH STATE PID
#
# PROTO   tcp | tcp6 | udp | udp6 (the /proc/net file the socket is in)
# LOCAL, REMOTE
#         IPv4 "a.b.c.d:PORT"; IPv6 "[ADDR]:PORT" with ADDR as glibc's
#         inet_ntop(3) writes it: lowercase hex, no leading zeros, the
#         longest run (leftmost on a tie) of two or more zero groups as "::",
#         and a dotted IPv4 tail for ::ffff:a.b.c.d and ::a.b.c.d.  PORT is
#         decimal; an unconnected remote end is 0.0.0.0:0 or [::]:0.
# STATE   TCP: ESTABLISHED SYN_SENT SYN_RECV FIN_WAIT1 FIN_WAIT2 TIME_WAIT
#         CLOSE CLOSE_WAIT LAST_ACK LISTEN CLOSING NEW_SYN_RECV;
#         UDP: ESTABLISHED when connected, else "-".
#         unix: LISTEN for a listening socket, else from the socket state:
#         UNCONNECTED CONNECTING CONNECTED DISCONNECTING.
# INODE   the socket inode number (0 for sockets no file refers to)
# PID     the TGIDs of the processes holding an fd to the socket, ascending,
#         comma-separated; "-" when none does.
# PATH    the bound path, "@name" for an abstract one, "-" when unbound.
# If TRUTH holds several blocks, the last one counts.
set -euo pipefail

mode=inet
while [ $# -gt 0 ]; do
	case $1 in
	--unix) mode=unix ;;
	-h|--help) sed -n '2,28p' "$0"; exit 0 ;;
	-*) echo "truth-netstat.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
	shift
done
[ $# -eq 1 ] || { echo "usage: truth-netstat.sh [--unix] TRUTH" >&2; exit 2; }
[ -r "$1" ] || { echo "truth-netstat.sh: cannot read $1" >&2; exit 1; }

if [ "$mode" = unix ]; then sorter=(sort -n -k 2); else sorter=(sort); fi

LC_ALL=C awk -F'\t' -v mode="$mode" '
function hex(s,   i, v) {
	v = 0
	s = tolower(s)
	for (i = 1; i <= length(s); i++)
		v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
	return v
}
# /proc/net prints the address as 32-bit words in host (little-endian) order.
function bytes(h, b,   n, w, i) {
	n = 0
	for (w = 0; w < length(h) / 8; w++)
		for (i = 3; i >= 0; i--)
			b[n++] = hex(substr(h, w * 8 + i * 2 + 1, 2))
	return n
}
function ntop4(b, o) { return b[o] "." b[o + 1] "." b[o + 2] "." b[o + 3] }
function ntop6(b,   w, i, cb, cl, bb, bl, out) {
	for (i = 0; i < 8; i++) w[i] = b[2 * i] * 256 + b[2 * i + 1]
	bb = -1; bl = 0; cb = -1; cl = 0
	for (i = 0; i < 8; i++) {
		if (w[i] == 0) {
			if (cb == -1) { cb = i; cl = 1 } else cl++
		} else if (cb != -1) {
			if (bb == -1 || cl > bl) { bb = cb; bl = cl }
			cb = -1
		}
	}
	if (cb != -1 && (bb == -1 || cl > bl)) { bb = cb; bl = cl }
	if (bb != -1 && bl < 2) bb = -1
	out = ""
	for (i = 0; i < 8; i++) {
		if (bb != -1 && i >= bb && i < bb + bl) {
			if (i == bb) out = out ":"
			continue
		}
		if (i != 0) out = out ":"
		if (i == 6 && bb == 0 && (bl == 6 || (bl == 5 && w[5] == 65535))) {
			out = out ntop4(b, 12)
			return out
		}
		out = out sprintf("%x", w[i])
	}
	if (bb != -1 && bb + bl == 8) out = out ":"
	return out
}
function endpoint(s,   p, b, n) {
	split(s, p, ":")
	n = bytes(p[1], b)
	if (n == 4) return ntop4(b, 0) ":" hex(p[2])
	return "[" ntop6(b) "]:" hex(p[2])
}
function owners(ino) { return (ino in own) ? own[ino] : "-" }
BEGIN {
	split("ESTABLISHED SYN_SENT SYN_RECV FIN_WAIT1 FIN_WAIT2 TIME_WAIT CLOSE CLOSE_WAIT LAST_ACK LISTEN CLOSING NEW_SYN_RECV", tcpst, " ")
	split("UNCONNECTED CONNECTING CONNECTED DISCONNECTING", unixst, " ")
}
/^===VMET-TRUTH-BEGIN===/ { delete own; delete pids; nl = 0; next }
$1 == "fd" {
	# fd PID FD socket:[INODE]
	if ($4 ~ /^socket:\[[0-9]+\]$/) {
		ino = substr($4, 9, length($4) - 9)
		if (!((ino, $2) in pids)) {
			pids[ino, $2] = 1
			# (mawk creates own[ino] before testing "in" on the same line)
			if (ino in own) v = own[ino] "," $2
			else v = $2
			own[ino] = v
		}
	}
	next
}
$1 == "net" {
	proto = $2
	rawl = $3
	for (i = 4; i <= NF; i++) rawl = rawl "\t" $i
	nl++; np[nl] = proto; nr[nl] = rawl
	next
}
END {
	# owner lists ascending
	for (ino in own) {
		k = split(own[ino], p, ",")
		for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++)
			if (p[j] + 0 < p[i] + 0) { t = p[i]; p[i] = p[j]; p[j] = t }
		s = p[1]
		for (i = 2; i <= k; i++) s = s "," p[i]
		own[ino] = s
	}
	for (l = 1; l <= nl; l++) {
		proto = np[l]
		nf = split(nr[l], f, /[ \t]+/)
		# split() on a leading blank gives an empty first field
		o = (f[1] == "") ? 1 : 0
		if (proto == "unix") {
			if (mode != "unix" || f[1 + o] == "Num") continue
			flags = hex(f[4 + o]); st = hex(f[6 + o]); ino = f[7 + o]
			path = (nf >= 8 + o) ? f[8 + o] : "-"
			for (i = 9 + o; i <= nf; i++) path = path " " f[i]
			state = (int(flags / 65536) % 2) ? "LISTEN" : ((st in unixst) ? unixst[st] : sprintf("%02X", st))
			printf "unix %s %s %s %s\n", ino, path, state, owners(ino)
			continue
		}
		if (mode != "inet" || f[1 + o] !~ /^[0-9]+:$/) continue
		st = hex(f[4 + o]); ino = f[10 + o]
		if (proto ~ /^tcp/)
			state = (st in tcpst) ? tcpst[st] : sprintf("%02X", st)
		else
			state = (st == 1) ? "ESTABLISHED" : "-"
		printf "%s %s %s %s %s %s\n", proto, endpoint(f[2 + o]), endpoint(f[3 + o]), state, ino, owners(ino)
	}
}' "$1" | LC_ALL=C "${sorter[@]}"
