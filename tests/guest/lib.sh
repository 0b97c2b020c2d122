# Shared by the testbed scripts (sourced, bash).  Paths are overridable so
# that CI, developers and parallel runs can keep their guests apart:
#   VMET_TESTBED_DIR  kernel/package cache       (/var/cache/vmet-testbed)
#   VMET_STATE_DIR    one directory per guest     (/var/tmp/vmet-state)
#   VMET_RAM_DIR      where guest RAM files live  (/dev/shm; for another
#                     state directory /dev/shm/vmet-HASH, so that two state
#                     directories never share a guest's RAM file)
#   VMET_QEMU         the emulator                (qemu-system-x86_64)

# shellcheck disable=SC2034 # used by the scripts that source this
GUEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VMET_TESTBED_DIR=${VMET_TESTBED_DIR:-/var/cache/vmet-testbed}
VMET_STATE_DIR=${VMET_STATE_DIR:-/var/tmp/vmet-state}
if [ -z "${VMET_RAM_DIR:-}" ]; then
	if [ "$VMET_STATE_DIR" = /var/tmp/vmet-state ]; then
		VMET_RAM_DIR=/dev/shm
	else
		VMET_RAM_DIR=/dev/shm/vmet-$(printf %s "$VMET_STATE_DIR" | md5sum | cut -c1-8)
		mkdir -p "$VMET_RAM_DIR"
	fi
fi
VMET_QEMU=${VMET_QEMU:-qemu-system-x86_64}

tb_die() { echo "${0##*/}: error: $*" >&2; exit 1; }
tb_log() { echo "${0##*/}: $*" >&2; }

# tb_name_ok NAME: names become file names and QEMU -name values.
tb_name_ok() {
	case $1 in
	''|*[!A-Za-z0-9_.-]*|.*) tb_die "bad guest name '$1' (letters, digits, _ . - only)" ;;
	esac
}

tb_state() { echo "$VMET_STATE_DIR/$1"; }

# tb_pid STATEDIR: print the PID of this guest's QEMU if it is alive.  The
# PID file alone is not trusted: the process must be QEMU started for this
# very state directory (PIDs get reused).
tb_pid() {
	local s=$1 pid
	[ -s "$s/qemu.pid" ] || return 1
	read -r pid <"$s/qemu.pid" || return 1
	case $pid in ''|*[!0-9]*) return 1 ;; esac
	[ -r "/proc/$pid/cmdline" ] || return 1
	tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$s/qemu.pid" || return 1
	echo "$pid"
}

# tb_extract_truth LOG TAG OUT: copy the block tagged TAG (markers included,
# carriage returns dropped) from the truth channel log; fail if incomplete.
tb_extract_truth() {
	local log=$1 tag=$2 out=$3
	if awk -v tag="$tag" '
		{ sub(/\r$/, "") }
		$0 == "===VMET-TRUTH-BEGIN=== " tag { on = 1; n = 0; buf = "" }
		on { buf = buf $0 "\n" }
		on && $0 == "===VMET-TRUTH-END=== " tag { printf "%s", buf; done = 1; on = 0 }
		END { exit done ? 0 : 1 }
	' "$log" >"$out.tmp"; then
		mv -f "$out.tmp" "$out"
	else
		rm -f "$out.tmp"
		return 1
	fi
}

# tb_wait_truth STATEDIR TAG TIMEOUT_S: wait for the END marker of TAG.
tb_wait_truth() {
	local s=$1 tag=$2 to=$3 t0=$SECONDS
	while ! grep -qaE -- "^===VMET-TRUTH-END=== $tag"$'\r''?$' "$s/truth.log" 2>/dev/null; do
		if ! tb_pid "$s" >/dev/null; then
			echo "${0##*/}: QEMU for $s is gone; last console lines:" >&2
			tail -n 30 "$s/serial.log" >&2 2>/dev/null || true
			return 1
		fi
		if [ $((SECONDS - t0)) -ge "$to" ]; then
			echo "${0##*/}: no truth '$tag' after ${to}s; last console lines:" >&2
			tail -n 30 "$s/serial.log" >&2 2>/dev/null || true
			return 1
		fi
		sleep 0.1
	done
}

# tb_bed_begin NAME [KENV]: the common start of a boot.sh (flat, nested,
# xen): check NAME, set S (its state directory) and ram (its RAM file),
# refuse one that is running, note the start time in t0, and source the
# kernel's env KENV (default: fetch Debian's current kernel), its file in
# kenv (KVER, VMLINUZ...).
tb_bed_begin() {
	local pid
	name=$1
	kenv=${2:-}
	tb_name_ok "$name"
	S=$(tb_state "$name")
	ram=$VMET_RAM_DIR/$name.ram
	if pid=$(tb_pid "$S"); then
		tb_die "$name is already running (QEMU PID $pid); stop.sh $name first"
	fi
	t0=$(date +%s.%N)
	[ -n "$kenv" ] || kenv=$("$GUEST_DIR/fetch-kernel.sh" --quiet) || tb_die "fetch-kernel.sh failed"
	# shellcheck disable=SC1090
	. "$kenv"
}

# tb_bed_giveup STOP WHY: the bed $name did not come up: say WHY with the
# last lines of its console ($S/serial.log; result lines "VMETX..." left
# out), stop it with the script STOP, exit 1.
tb_bed_giveup() {
	tb_log "$name: $2; last console lines:"
	tr -d '\r' <"$S/serial.log" | grep -v '^VMETX' | tail -n 30 >&2 || true
	"$1" "$name" >&2 || true
	exit 1
}

# tb_kernel_modules DEB STAGE ROOT MODULE...: each MODULE (named as lsmod
# names it: - and _ alike) out of the kernel package DEB, unpacked under
# STAGE, stored uncompressed as ROOT/lib/modules/MODULE.ko.
tb_kernel_modules() {
	local deb=$1 stage=$2 root=$3 m src dst pats=()
	shift 3
	mkdir -p "$stage" "$root/lib/modules"
	for m in "$@"; do
		pats+=("./lib/modules/$KVER/kernel/*/${m//[-_]/[-_]}.ko*")
	done
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$stage" --wildcards "${pats[@]}" ||
		tb_die "cannot unpack $* from $deb"
	for m in "$@"; do
		src=$(find "$stage" -name "${m//[-_]/[-_]}.ko*" | head -n 1)
		[ -n "$src" ] || tb_die "module $m is not in $deb"
		dst=$root/lib/modules/$m.ko
		case $src in
		*.ko) cp "$src" "$dst" ;;
		*.ko.xz) xz -dc "$src" >"$dst" ;;
		*.ko.zst) zstd -qdc "$src" >"$dst" ;;
		*.ko.gz) gzip -dc "$src" >"$dst" ;;
		*) tb_die "module $src: unknown compression" ;;
		esac
	done
}

# tb_copy_file ROOT FILE: a host file to the same path under ROOT (an
# initramfs tree), links resolved.
tb_copy_file() {
	mkdir -p "$1$(dirname "$2")"
	cp -L "$2" "$1$2"
}

# tb_copy_libs ROOT BINARY: every library (and the loader) ldd lists for
# BINARY, under ROOT; a library ldd cannot find is an error here, not a
# failed start inside the guest.
tb_copy_libs() {
	local l n=0 line
	while read -r line; do
		case $line in *"not found"*) tb_die "ldd $2: $line" ;; esac
	done < <(ldd "$2")
	for l in $(ldd "$2" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
		tb_copy_file "$1" "$l"
		n=$((n + 1))
	done
	[ "$n" -gt 0 ] || tb_die "ldd $2 listed no library"
}

# tb_secs A B: seconds from A to B (date +%s.%N), one decimal.
tb_secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# tb_truth_now STATEDIR TAG TIMEOUT_S OUT [CHANNEL WHO]: ask the /init at
# the other end of STATEDIR/CHANNEL.sock (default: truth, the guest's) for
# a fresh block and store it in OUT; WHO names that guest in messages.
# - The block is read from the socket itself, not from truth.log: while a
#   client is connected QEMU 7.2's chardev logfile repeats bytes now and
#   then (seen: "rem_addrress"), whereas the socket stream is exact.
# - The guest's output must be drained anyway: QEMU sends each UART byte as
#   its own socket message and an unread unix socket fills after a few
#   hundred of them, stalling the guest.
# - The connection stays open until the block is complete: QEMU drops a
#   socket chardev on hang-up, unread input included.
# - The leading newline ends any partial line left on the guest's side.
tb_truth_now() {
	local s=$1 tag=$2 to=$3 out=$4 chan=${5:-truth} who=${6:-the guest}
	local raw=$1/$chan-req.raw t0=$SECONDS rc=1 req_pid
	: >"$raw"
	coproc TBREQ { exec socat - "UNIX-CONNECT:$s/$chan.sock" >"$raw" 2>/dev/null; }
	req_pid=$TBREQ_PID
	printf '\ntruth %s\n' "$tag" >&"${TBREQ[1]}"
	while :; do
		if grep -qaE -- "^===VMET-TRUTH-END=== $tag"$'\r''?$' "$raw"; then
			rc=0
			break
		fi
		if ! tb_pid "$s" >/dev/null; then
			tb_log "QEMU for $s is gone"
			break
		fi
		if ! kill -0 "$req_pid" 2>/dev/null; then
			tb_log "lost the connection to $s/$chan.sock"
			break
		fi
		if [ $((SECONDS - t0)) -ge "$to" ]; then
			tb_log "no truth '$tag' from $who after ${to}s"
			break
		fi
		sleep 0.05
	done
	kill "$req_pid" 2>/dev/null || true
	wait "$req_pid" 2>/dev/null || true
	[ $rc = 0 ] || return 1
	tb_extract_truth "$raw" "$tag" "$out"
}
