#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# /init of the Xen bed's dom0 (busybox ash, PID 1): Debian's kernel under
# Xen 4.17, with the Xen tools and vmet.
#
# Starts xenstored, xenconsoled (logging the domU's console to a file) and
# a PVH domU, the flat testbed's guest, whose /init prints its ground truth
# on its console (hvc0: it has no second serial port).  Once the truth is
# in, runs vmet on xen:DOMID and xen:NAME — the conventional "management
# VM" position — and sends every result to the host on dom0's console,
# which Xen copies to its serial port (L0's serial.log):
#   vmet-dom0: ...              progress; "vmet-dom0: FAIL ..." on failure
#   VMETX FILE LINE             FILE's content, base64, line by line
#   VMETX-END FILE SHA256       FILE complete, with its checksum
# then stays up with the domU running, for L0's view of the same guest.
#
# PID 1 must never exit (the kernel panics), so every path ends in a loop.

export PATH=/bin:/usr/bin
export LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu
export HOME=/root
umask 022

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
# xenconsoled gives each guest console a pty
mkdir -p /dev/pts
mount -t devpts devpts /dev/pts
mkdir -p /run /tmp /var/run/xen /var/lib/xen /var/log/xen/console /var/lib/xenstored
mount -t tmpfs -o mode=0755 tmpfs /run

. /etc/vmet-xen.conf
# xl and friends for requests too
export PATH=$PATH:$XEN_BIN

say() { echo "vmet-dom0: $*"; }
fail() {
	say "FAIL: $*"
	while :; do sleep 3600; done
}
# emit FILE: FILE's content for the host (see above).  Xen drops console
# output that outruns its serial buffer, so a pause every 40 lines.
emit() {
	local n=${1##*/} i=0 l
	base64 "$1" | while IFS= read -r l; do
		echo "VMETX $n $l"
		i=$((i + 1))
		[ $((i % 40)) = 0 ] && usleep 100000
	done
	set -- $(sha256sum "$1")
	echo "VMETX-END $n $1"
}

dmesg -n 1
# xen-privcmd before xenfs (xenfs offers privcmd through it).
for m in $XEN_MODULES; do
	insmod "/lib/modules/$m.ko" || fail "insmod $m"
done
mkdir -p /proc/xen
mount -t xenfs xenfs /proc/xen || fail "mount xenfs"
hostname vmet-dom0
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up

R=/tmp/results
mkdir -p $R
"$XEN_BIN/xenstored" --pid-file /var/run/xenstored.pid || fail "xenstored"
"$XEN_BIN/xen-init-dom0" >$R/init-dom0.log 2>&1 || fail "xen-init-dom0: $(cat $R/init-dom0.log)"
"$XEN_BIN/xenconsoled" --log=guest --log-dir=/var/log/xen/console || fail "xenconsoled"
"$XEN_BIN/xl" info >$R/xl-info.txt 2>&1 || fail "xl info: $(tail -3 $R/xl-info.txt)"
say "$(grep -E '^(xen_version|virt_caps)' $R/xl-info.txt | tr -s ' \n' ' ')"

t0=$(date +%s)
"$XEN_BIN/xl" create /etc/xen/domu.cfg >$R/xl-create.log 2>&1 ||
	fail "xl create: $(tail -5 $R/xl-create.log)"
domid=$("$XEN_BIN/xl" domid "$DOMU_NAME") || fail "xl domid $DOMU_NAME"
say "domU $DOMU_NAME is domain $domid"
log=/var/log/xen/console/guest-$DOMU_NAME.log
i=0
until grep -q '^===VMET-TRUTH-END=== boot' "$log" 2>/dev/null; do
	i=$((i + 1))
	[ $i -gt 900 ] && fail "no truth from the domU after 180 s: $(tail -5 "$log" 2>/dev/null)"
	usleep 200000
done
say "domU truth in after $(($(date +%s) - t0)) s"
cp "$log" $R/domu-console.log

# vmet in the management-VM position: by number and by name, with the
# profile read out of the domU's own kernel (BTF + kallsyms).
vp() { # vp COMMAND ARGS...: vmet COMMAND with the profile read from the domU
	local c=$1
	shift
	vmet "$c" --profile auto "$@"
}
run() { # run NAME CMD...: stdout to $R/NAME, stderr to $R/NAME.err, status to $R/NAME.rc
	local n=$1
	shift
	"$@" >$R/$n 2>$R/$n.err
	echo $? >$R/$n.rc
}
run info.txt vmet info "xen:$domid"
run ps.json vp ps --json "xen:$domid"
run netstat.json vp netstat --json "xen:$DOMU_NAME"
run ps-pause.json vp ps --json --pause "xen:$domid"
"$XEN_BIN/xl" list >$R/xl-list-after-pause.txt 2>&1
# SIGINT while the domain is paused: vmet dump pauses a live source for
# the whole copy (seconds here), and must unpause it on its way out.
vmet dump --quiet "xen:$domid" -o /tmp/full.vmsnap >$R/sigint.txt 2>&1 &
dump=$!
sleep 3
"$XEN_BIN/xl" list >$R/xl-list-during-dump.txt 2>&1
kill -INT $dump
wait $dump
echo "vmet dump exit status after SIGINT: $?" >>$R/sigint.txt
rm -f /tmp/full.vmsnap
usleep 300000
"$XEN_BIN/xl" list >$R/xl-list-after-sigint.txt 2>&1
run translate.txt vmet translate --quiet "xen:$domid" 0xffffffff81000000
# A minimal snapshot of the domU, and the same listing from it.
run dump.txt vp dump --quiet --pages-for ps,netstat "xen:$domid" -o /tmp/domu.vmsnap
run ps-snap.json vp ps --json /tmp/domu.vmsnap
rm -f /tmp/domu.vmsnap
# The conventional position's cost: the domU's process list from dom0, 10
# runs, in centiseconds of dom0's uptime (busybox date has no %N).
: >$R/bench-dom0.txt
for k in 1 2 3 4 5 6 7 8 9 10; do
	read -r a _ </proc/uptime
	vp ps "xen:$domid" >/dev/null 2>&1
	read -r b _ </proc/uptime
	echo "$a $b" >>$R/bench-dom0.txt
done
say "vmet ran; sending results"
for f in $R/*; do
	emit "$f"
done
say "results sent"

# Serve requests from the host on the console (Xen passes its serial input
# to dom0): a line "vmet-run TAG SUM CMD" runs CMD with sh -c and sends
# TAG.out, TAG.err and TAG.rc as above, between "vmet-dom0: running TAG"
# and "vmet-dom0: done TAG".  SUM is
# the first 16 hex digits of CMD's SHA-256: Xen's serial input ring drops
# bytes when dom0 is slow to drain it, and a command that lost some must
# not run ("vmet-dom0: garbled TAG" asks the host to send it again).
stty -echo 2>/dev/null
mkdir -p /tmp/req
while :; do
	while IFS= read -r line; do
		line=${line%"$(printf '\r')"}
		case $line in
		"vmet-run "*) ;;
		*) continue ;;
		esac
		line=${line#vmet-run }
		tag=${line%% *}
		line=${line#* }
		sum=${line%% *}
		cmd=${line#* }
		case $tag in
		'' | *[!A-Za-z0-9_-]*) say "bad request tag '$tag'"; continue ;;
		esac
		if [ "$(printf '%s' "$cmd" | sha256sum | cut -c1-16)" != "$sum" ]; then
			say "garbled $tag"
			continue
		fi
		say "running $tag"
		sh -c "$cmd" >/tmp/req/$tag.out 2>/tmp/req/$tag.err </dev/null
		echo $? >/tmp/req/$tag.rc
		for f in out err rc; do
			emit /tmp/req/$tag.$f
		done
		say "done $tag"
	done
	sleep 1
done
