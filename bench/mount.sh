#!/bin/bash
# Reading a guest through the shadow /proc (vmet shell, vmet mount) against
# reading it directly (vmet ps), measured in one run so the ratios hold on
# a shared machine:
#   - whole-process time of `vmet ps` vs `vmet shell -- true` (mount and
#     reading, no file read), `vmet shell -- ps -e` and
#     `vmet shell -- ps -eo pid,ppid,uid,comm,args` (median of RUNS);
#   - per-file latency through a `vmet mount`: every /PID/stat and
#     /PID/environ opened, read and closed, an absent /PID looked up (what
#     chkrootkit's chkproc does 4 million times), each against the same
#     loop over the host's own /proc.
# Figures only: no assertion on them.
#
# The guest: $VMET_BENCH_SOURCE (and $VMET_BENCH_PROFILE), else the newest
# ELF dump captured by tests/guest/capture.sh under $VMET_STATE_DIR
# (default /var/tmp/vmet-state).  Needs root, /dev/fuse and procps' ps;
# without them, or without a guest, it says so and exits 0.
set -u
cd "$(dirname "$0")/.."
: "${VMET:=$PWD/vmet}"
RUNS=${VMET_BENCH_RUNS:-11}
LOOPS=${VMET_BENCH_LOOPS:-20}

skip() { echo "bench/mount.sh: $*: skipped"; exit 0; }
[ "$(id -u)" = 0 ] || skip "needs root (FUSE, mount namespace)"
[ -c /dev/fuse ] || skip "no /dev/fuse"
command -v ps >/dev/null || skip "no ps (procps)"

src=${VMET_BENCH_SOURCE:-}
if [ -z "$src" ]; then
	src=$(ls -1t "${VMET_STATE_DIR:-/var/tmp/vmet-state}"/*/dump.elf 2>/dev/null | head -n 1)
fi
[ -n "$src" ] && [ -f "$src" ] ||
	skip "no guest dump (run tests/guest/testbed.sh, or set VMET_BENCH_SOURCE)"
# The profile: $VMET_BENCH_PROFILE, else one beside the dump, else vmet's
# own choice (a bundled profile whose banner fits, else the kernel's BTF).
prof=${VMET_BENCH_PROFILE:-}
if [ -z "$prof" ]; then
	for p in "$(dirname "$src")"/*.vmprof; do
		[ -f "$p" ] && { prof=$p; break; }
	done
fi
popt=()
[ -n "$prof" ] && popt=(--profile "$prof")
"$VMET" ps "${popt[@]}" "$src" >/dev/null 2>&1 ||
	skip "vmet ps cannot read $src with profile ${prof:-auto}"

mnt=$(mktemp -d /tmp/vmet-bench-mnt.XXXXXX)
mpid=
cleanup() {
	if [ -n "$mpid" ]; then
		kill -TERM "$mpid" 2>/dev/null
		wait "$mpid" 2>/dev/null
	fi
	grep -q " $mnt " /proc/mounts && fusermount3 -u "$mnt"
	rmdir "$mnt"
}
trap cleanup EXIT

now_us() { local t; t=$(date +%s%N); echo $((t / 1000)); }

# time_us CMD...: wall time of one run, in µs.
time_us() {
	local s e
	s=$(now_us)
	"$@" >/dev/null 2>&1
	e=$(now_us)
	echo $((e - s))
}

# median_ms US...: the median of the values, in ms.
median_ms() {
	printf '%s\n' "$@" | sort -n |
		awk '{ a[NR] = $1 } END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.2f", m / 1000 }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fx", (b > 0) ? a / b : 0 }'; }

echo "source: $src; profile: ${prof:-chosen by vmet}; $RUNS runs each, medians"
ntask=$("$VMET" ps "${popt[@]}" "$src" 2>/dev/null | tail -n +2 | wc -l)
echo "processes: $ntask"
# Rounds, each running every command once, so that a busy moment on a
# shared machine weighs on all of them alike.
t_direct=() t_empty=() t_pse=() t_args=() t_host=()
for _ in $(seq "$RUNS"); do
	t_direct+=("$(time_us "$VMET" ps "${popt[@]}" "$src")")
	t_empty+=("$(time_us "$VMET" shell --quiet "${popt[@]}" "$src" -- true)")
	t_pse+=("$(time_us "$VMET" shell --quiet "${popt[@]}" "$src" -- ps -e)")
	t_args+=("$(time_us "$VMET" shell --quiet "${popt[@]}" "$src" -- ps -eo pid,ppid,uid,comm,args)")
	t_host+=("$(time_us ps -e)")
done
direct=$(median_ms "${t_direct[@]}")
empty=$(median_ms "${t_empty[@]}")
pse=$(median_ms "${t_pse[@]}")
psargs=$(median_ms "${t_args[@]}")
hostps=$(median_ms "${t_host[@]}")
printf '%-52s %8s ms\n' "vmet ps (read the guest, print)" "$direct"
printf '%-52s %8s ms  %s of vmet ps\n' "vmet shell -- true (read, mount, unmount)" "$empty" "$(ratio "$empty" "$direct")"
printf '%-52s %8s ms  %s of vmet ps\n' "vmet shell -- ps -e" "$pse" "$(ratio "$pse" "$direct")"
printf '%-52s %8s ms  %s of vmet ps\n' "vmet shell -- ps -eo pid,ppid,uid,comm,args" "$psargs" "$(ratio "$psargs" "$direct")"
printf '%-52s %8s ms  (host ps -e on the host /proc, %d processes: %s ms)\n' \
	"ps -e's own share through the mount (ps -e - true)" \
	"$(awk -v a="$pse" -v b="$empty" 'BEGIN { printf "%.2f", a - b }')" \
	"$(find /proc -maxdepth 1 -name '[0-9]*' | wc -l)" "$hostps"

# Per-file latency: the same bash loop (builtins only: open, read, close)
# over the shadow files and over the host's own /proc.
"$VMET" mount --quiet "${popt[@]}" "$src" "$mnt" >/dev/null 2>&1 &
mpid=$!
for _ in $(seq 100); do
	[ -f "$mnt/version" ] && break
	sleep 0.1
done
[ -f "$mnt/version" ] || { echo "vmet mount did not come up"; exit 0; }

# per_file FILES...: mean µs per open+read+close over LOOPS passes.
per_file() {
	local s e n=0 x f
	s=$(now_us)
	for _ in $(seq "$LOOPS"); do
		for f in "$@"; do
			read -r -d '' x 2>/dev/null <"$f"
			n=$((n + 1))
		done
	done
	e=$(now_us)
	awk -v d=$((e - s)) -v n="$n" 'BEGIN { printf "%.1f", d / n }'
}

# per_lookup DIR FROM: mean µs per lookup of absent DIR/N, N = FROM.., LOOPS*100 of them.
per_lookup() {
	local s e i n=$((LOOPS * 100))
	s=$(now_us)
	for ((i = $2; i < $2 + n; i++)); do
		[ -e "$1/$i" ]
	done
	e=$(now_us)
	awk -v d=$((e - s)) -v n="$n" 'BEGIN { printf "%.1f", d / n }'
}

# readable FILES...: those that open now (the host's kernel threads have
# no environ to read, other processes come and go).
readable() {
	local f x
	for f in "$@"; do
		x=
		{ read -r -d '' x <"$f"; } 2>/dev/null
		[ -n "$x" ] && printf '%s\n' "$f"
	done
}
shadow_stat=("$mnt"/[0-9]*/stat)
shadow_env=("$mnt"/[0-9]*/environ)
mapfile -t host_stat < <(readable /proc/[0-9]*/stat)
mapfile -t host_env < <(readable /proc/[0-9]*/environ)
a=$(per_file "${shadow_stat[@]}"); b=$(per_file "${host_stat[@]}")
echo "per file, mean of a bash loop of builtins (its own cost included on both sides):"
printf '  %-50s %6s us  host /proc %s us (%d files): %s\n' "open+read+close /PID/stat (${#shadow_stat[@]} files)" \
	"$a" "$b" "${#host_stat[@]}" "$(ratio "$a" "$b")"
a=$(per_file "${shadow_env[@]}"); b=$(per_file "${host_env[@]}")
printf '  %-50s %6s us  host /proc %s us (%d files): %s\n' "open+read+close /PID/environ" "$a" "$b" \
	"${#host_env[@]}" "$(ratio "$a" "$b")"
a=$(per_lookup "$mnt" 3000000); b=$(per_lookup /proc 3000000)
printf '  %-50s %6s us  host /proc %s us: %s\n' "lookup of an absent /PID ([ -e ])" "$a" "$b" "$(ratio "$a" "$b")"
