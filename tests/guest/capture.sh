#!/bin/bash
# Freeze a running test guest at one moment and write, into its state dir:
#   truth.txt       the guest's own view, printed just before the freeze
#   dump.elf        QMP dump-guest-memory (ELF, paging=false)
#   ram.raw         a copy of the RAM file taken while stopped (offset = GPA)
#   regs.txt        `info registers` of every vCPU;  cr3.txt  vCPU 0's CR3
#   truth-ps.txt truth-threads.txt truth-netstat.txt truth-unix.txt
#                   the normalized listings (truth-ps.sh, truth-netstat.sh)
#   capture.env     paths and timings (sourceable); TRUTH_FRESH=no when
#                   --no-truth kept an older truth.txt
# A dump or RAM copy this capture does not take is deleted (it would be
# from another moment).
# and resumes the guest unless --keep-stopped.
#
# usage: capture.sh [--keep-stopped] [--no-dump] [--no-raw] [--no-truth] NAME
set -euo pipefail
. "$(dirname "$0")/lib.sh"

keep_stopped=0 do_dump=1 do_raw=1 do_truth=1
while [ $# -gt 0 ]; do
	case $1 in
	--keep-stopped) keep_stopped=1 ;;
	--no-dump) do_dump=0 ;;
	--no-raw) do_raw=0 ;;
	--no-truth) do_truth=0 ;;
	-h|--help) sed -n '2,14p' "$0"; exit 0 ;;
	-*) tb_die "unknown option $1" ;;
	*) break ;;
	esac
	shift
done
[ $# -eq 1 ] || tb_die "usage: capture.sh [options] NAME"
name=$1
tb_name_ok "$name"
S=$(tb_state "$name")
tb_pid "$S" >/dev/null || tb_die "guest $name is not running (boot.sh $name)"
Q() { "$GUEST_DIR/qmp.sh" "$S/qmp.sock" "$@"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

rm -f "$S/capture.env"
t0=$(now)
state=$(Q status)
if [ "$do_truth" = 1 ]; then
	[ "$state" = running ] || tb_die "guest $name is $state; a fresh truth needs it running (or use --no-truth)"
	tag=cap-$(date +%s)-$$
	tb_truth_now "$S" "$tag" 60 "$S/truth.txt.new" || tb_die "no fresh truth from guest $name"
fi
# Stop right after the truth: /init is back in its blocking read, and
# nothing in the scene moves on its own (bar kernel threads, see docs).
Q stop
t_stop=$(now)
[ "$do_truth" = 1 ] && mv -f "$S/truth.txt.new" "$S/truth.txt"

Q registers >"$S/regs.txt"
Q cr3 >"$S/cr3.txt"

t_raw0=$(now)
if [ "$do_raw" = 1 ]; then
	ram=$(cat "$S/ram.path")
	cp --sparse=never "$ram" "$S/ram.raw.tmp"
	mv -f "$S/ram.raw.tmp" "$S/ram.raw"
fi
t_raw1=$(now)
if [ "$do_dump" = 1 ]; then
	rm -f "$S/dump.elf.tmp"
	Q dump "$S/dump.elf.tmp" 300 >/dev/null
	mv -f "$S/dump.elf.tmp" "$S/dump.elf"
fi
t_dump=$(now)

if [ "$keep_stopped" = 0 ]; then
	Q cont
fi
# What this capture did not take would be from another moment: drop it.
[ "$do_raw" = 1 ] || rm -f "$S/ram.raw"
[ "$do_dump" = 1 ] || rm -f "$S/dump.elf"

if [ -s "$S/truth.txt" ]; then
	"$GUEST_DIR/truth-ps.sh" "$S/truth.txt" >"$S/truth-ps.txt"
	"$GUEST_DIR/truth-ps.sh" --threads "$S/truth.txt" >"$S/truth-threads.txt"
	"$GUEST_DIR/truth-netstat.sh" "$S/truth.txt" >"$S/truth-netstat.txt"
	"$GUEST_DIR/truth-netstat.sh" --unix "$S/truth.txt" >"$S/truth-unix.txt"
fi

cat >"$S/capture.env" <<EOF
STATE=$S
TRUTH=$S/truth.txt
TRUTH_PS=$S/truth-ps.txt
TRUTH_THREADS=$S/truth-threads.txt
TRUTH_NETSTAT=$S/truth-netstat.txt
TRUTH_UNIX=$S/truth-unix.txt
DUMP=$( [ "$do_dump" = 1 ] && echo "$S/dump.elf")
RAW=$( [ "$do_raw" = 1 ] && echo "$S/ram.raw")
REGS=$S/regs.txt
CR3=$(cat "$S/cr3.txt")
STOPPED=$( [ "$keep_stopped" = 1 ] && echo yes || echo no)
TRUTH_FRESH=$( [ "$do_truth" = 1 ] && echo yes || echo no)
TRUTH_SECONDS=$(secs "$t0" "$t_stop")
RAW_COPY_SECONDS=$(secs "$t_raw0" "$t_raw1")
DUMP_SECONDS=$(secs "$t_raw1" "$t_dump")
EOF
tb_log "captured $name: truth $(secs "$t0" "$t_stop")s, ram copy $(secs "$t_raw0" "$t_raw1")s, dump $(secs "$t_raw1" "$t_dump")s$( [ "$keep_stopped" = 1 ] && echo ', left stopped')"
echo "$S"
