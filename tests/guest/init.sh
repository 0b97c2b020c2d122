#!/bin/sh
# /init of vmet's test guest (busybox ash, PID 1).
#
# Sets up a known scene of processes and sockets, then prints the guest's
# own view of it ("ground truth") between markers on the truth channel
# (/dev/ttyS1; /dev/console if there is no second UART), and serves further
# requests on that channel: a line "truth TAG" prints a fresh block tagged
# TAG, so the host can take a truth that matches a later memory capture.
#
# The truth listing must not change what it lists, so it uses shell builtins
# only (read, printf, globs, arithmetic): no $(...), no pipes, no external
# command, which would each add a task.  The one exception, the fd scan
# (busybox has no readlink builtin), runs first and is gone before the task
# listing starts; /proc/loadavg's last-PID field, read before and after,
# proves that nothing was forked during the listing.
#
# PID 1 must never exit (the kernel panics), so every path ends in a loop.

export PATH=/bin
umask 022

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /run /tmp
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/ready /run/vmet
chmod 1777 /run/ready /tmp

say() { echo "vmet-guest: $*"; }

# Modules first: qemu_fw_cfg hands the guest's VMCOREINFO note to QEMU's
# -device vmcoreinfo, which then puts it into every dump-guest-memory ELF.
if [ -f /lib/modules/order ]; then
	while read -r m; do
		[ -n "$m" ] || continue
		insmod "/lib/modules/$m.ko" || say "insmod $m failed"
	done </lib/modules/order
fi

hostname vmet-guest
ip link set lo up || ifconfig lo 127.0.0.1 up

# ---- the scene --------------------------------------------------------
# Distinctive arguments make each process easy to find in a listing.
H=/bin/vmet-helper
start() { # start READY_NAME CMD... : background CMD that signals readiness
	name=$1
	shift
	VMET_READY=/run/ready/$name "$@" &
}

sleep 1000001 &
sleep 1000002 &
sleep 1000003 &
sleep 1000004 &
to_stop=$! # stopped once it has exec'd (below): one task in state T
sh -c 'sleep 1000005; :' & # a non-init parent (the ':' stops ash exec'ing)

start listen $H -n vmet-listen listen \
	tcp:0.0.0.0:7001 'tcp6:[::]:7002' udp:0.0.0.0:7003 'udp6:[::]:7004' \
	tcp:127.0.0.1:7005 'tcp6:[::1]:7006' unix:/run/vmet/listen.sock unixdg:@vmet-dgram
start estab $H -n vmet-estab estab 127.0.0.1 7010
start estab6 $H -n vmet-estab6 estab ::1 7011
start udpconn $H -n vmet-udpconn udpconn udp:127.0.0.1:7020 127.0.0.1 7003
start udpconn6 $H -n vmet-udpconn6 udpconn 'udp6:[::1]:7021' ::1 7004
start unixconn $H -n vmet-unixconn unixconn /run/vmet/conn.sock
start threads $H -n vmet-threads threads 3
start creds $H -n vmet-creds creds 1001 1002 1003 1004
start user $H creds 1000 1000 1000 1000 $H -n vmet-user listen tcp:0.0.0.0:7030
$H creds 1000 1000 1000 1000 /bin/sleep 1000010 & # plain sleep as uid 1000
start longargs $H longargs 5000
start zombie $H -n vmet-zparent zombie
# exec through a symlink whose name is longer than TASK_COMM_LEN
start longname /bin/vmet-very-long-process-name sleep
# Paths that are not "/" (for /proc/PID/exe and cwd): a working directory
# on another mount (the tmpfs at /run) whose name holds a space, and a
# program deleted once it runs (its exe reads "... (deleted)").  Last, so
# that the PIDs above stay what they were.
mkdir -p "/run/vmet/a dir"
(cd "/run/vmet/a dir" && exec sleep 1000007) &
cp $H /run/vmet/gone-helper
start gone /run/vmet/gone-helper -n vmet-gone sleep

want="listen estab estab6 udpconn udpconn6 unixconn threads creds user longargs zombie longname gone"
i=0
while :; do
	missing=
	for w in $want; do [ -e "/run/ready/$w" ] || missing="$missing $w"; done
	[ -z "$missing" ] && break
	i=$((i + 1))
	if [ $i -gt 300 ]; then
		say "helpers not ready after 15 s:$missing"
		break
	fi
	usleep 50000
done
# Let the plain background commands reach their exec before anyone looks.
sleep 1
kill -STOP $to_stop
rm -f /run/vmet/gone-helper

# ---- the truth channel ------------------------------------------------
if exec 3<>/dev/ttyS1 2>/dev/null && stty raw -echo clocal <&3 2>/dev/null; then
	chan=/dev/ttyS1
else
	exec 3>&1
	chan=console
fi
say "scene set; truth on $chan"

# Static facts, gathered once (forking is fine before the first listing).
grep -E ' (_text|_stext|_etext|linux_banner|init_task|init_top_pgt|swapper_pg_dir|init_mm|init_net|init_uts_ns|phys_base|page_offset_base|vmemmap_base|vmalloc_base|vmcoreinfo_note|vmcoreinfo_data|modules)$' \
	/proc/kallsyms >/run/ksyms 2>/dev/null
fwcfg=no
[ -e /sys/firmware/qemu_fw_cfg/by_name/etc/vmcoreinfo/raw ] && fwcfg=yes

# catp FILE TAG [TAG2]: print every line of FILE as "TAG<TAB>[TAG2<TAB>]line".
catp() {
	local l
	if [ $# -gt 2 ]; then
		while IFS= read -r l || [ -n "$l" ]; do
			printf '%s\t%s\t%s\n' "$2" "$3" "$l"
		done <"$1"
	else
		while IFS= read -r l || [ -n "$l" ]; do
			printf '%s\t%s\n' "$2" "$l"
		done <"$1"
	fi
}

# task_line DIR: one "task" line for /proc/PID/task/TID.
task_line() {
	local t="$1" comm st state ppid flags kt k a b ruid euid rgid egid tgid cmd arg
	IFS= read -r comm <"$t/comm" || return 0 # the task went away
	IFS= read -r st <"$t/stat" || return 0
	# comm may hold spaces and ')': the fixed fields follow the last ") ".
	st=${st##*) }
	set -f
	# shellcheck disable=SC2086 # splitting wanted, globbing off
	set -- $st
	set +f
	state=$1 ppid=$2 flags=$7
	kt=0
	[ $((flags & 0x200000)) -ne 0 ] && kt=1 # PF_KTHREAD
	tgid='' ruid='' euid='' rgid='' egid=''

	while read -r k a b _; do
		case $k in
		Tgid:) tgid=$a ;;
		Uid:) ruid=$a euid=$b ;;
		Gid:) rgid=$a egid=$b; break ;;
		esac
	done <"$t/status"
	# cmdline: the final NUL dropped, every other NUL turned into a space.
	cmd=
	while IFS= read -r -d '' arg; do
		cmd="$cmd$arg "
	done <"$t/cmdline"
	cmd=${cmd% }
	[ -n "$arg" ] && cmd="$cmd${cmd:+ }$arg" # unterminated tail (rewritten argv)
	printf 'task\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
		"${t##*/}" "$tgid" "$ppid" "$ruid" "$euid" "$rgid" "$egid" \
		"$state" "$kt" "$comm" "$cmd"
}

truth() {
	local tag="$1" l0 l1 u0 u1 f d t
	IFS= read -r u0 </proc/uptime
	printf '===VMET-TRUTH-BEGIN=== %s\n' "$tag"
	catp /proc/sys/kernel/osrelease release
	catp /proc/version version
	catp /proc/cmdline cmdline
	catp /run/ksyms ksym
	catp /sys/kernel/vmcoreinfo vmcoreinfo
	printf 'fwcfg_vmcoreinfo\t%s\n' "$fwcfg"
	catp /proc/iomem iomem
	# The one forked scan; it has exited by the time the next line runs.
	$H fds
	for f in tcp tcp6 udp udp6 unix; do
		catp /proc/net/$f net $f
	done
	IFS= read -r l0 </proc/loadavg
	for d in /proc/[0-9]*; do
		for t in "$d"/task/[0-9]*; do
			[ -d "$t" ] && task_line "$t"
		done
	done
	IFS= read -r l1 </proc/loadavg
	IFS= read -r u1 </proc/uptime
	# last field of loadavg: the last PID handed out; equal = nothing forked
	printf 'loadavg\t%s\t%s\n' "$l0" "$l1"
	printf 'uptime\t%s\t%s\n' "${u0%% *}" "${u1%% *}"
	printf '===VMET-TRUTH-END=== %s\n' "$tag"
}

truth boot >&3
say "truth printed"

# Serve requests.  A tty that keeps failing must not become a busy loop in
# PID 1: after a while, block forever on a FIFO nobody writes to.
mkfifo /run/idle
fails=0
while :; do
	if IFS= read -r req <&3; then
		fails=0
		set -f
		# shellcheck disable=SC2086 # splitting wanted, globbing off
		set -- $req
		set +f
		case ${1:-} in
		truth) truth "${2:-0}" >&3 ;;
		ping) printf 'pong %s\n' "${2:-}" >&3 ;;
		esac
	else
		fails=$((fails + 1))
		if [ $fails -gt 1000 ]; then
			say "truth channel dead; idling"
			while :; do read -r _ </run/idle; done
		fi
	fi
done
