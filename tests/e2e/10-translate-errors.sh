#!/bin/bash
# vmet translate on bad input: every case gets a clear message naming what
# failed and the documented exit code, never a crash (the ASan build runs
# this same script).
set -u
. "$(dirname "$0")/lib.sh"

img=$TMP/img.raw
# 4 MiB image; one page table chain: CR3 0x1000 -> PDPT 0x2000 -> PD 0x3000
# mapping virtual 0x200000 (2 MiB page) -> physical 0x200000.
truncate -s 4M "$img"
put64 "$img" 0x1000 0x2003
put64 "$img" 0x2000 0x3003
put64 "$img" 0x3008 0x200083
printf 'VMETTEST' | dd of="$img" bs=1 seek=$((0x200010)) conv=notrunc status=none

# the good case first, so the failures below are failures of the input
expect_exit 0 "$VMET" translate --cr3 0x1000 "$img" 0x200010
expect_out "host physical 0x200010"
expect_exit 0 "$VMET" translate --json --cr3 0x1000 "$img" 0x200010
expect_out '"host_physical": "0x200010"'
expect_out '"page_size": 2097152'

# empty image
: > "$TMP/empty.raw"
expect_exit 2 "$VMET" translate --cr3 0x1000 "$TMP/empty.raw" 0x1000
expect_err "empty file"

# missing file
expect_exit 2 "$VMET" translate --cr3 0x1000 "$TMP/nope.raw" 0x1000
expect_err "No such file"

# truncated: the page tables are there, the mapped page is not
head -c 1M "$img" > "$TMP/trunc.raw"
expect_exit 1 "$VMET" translate --cr3 0x1000 "$TMP/trunc.raw" 0x200010
expect_out "beyond the end of memory"

# non-canonical address
expect_exit 1 "$VMET" translate --cr3 0x1000 "$img" 0x0000800000000000
expect_out "not a canonical 48-bit address"

# CR3 beyond memory
expect_exit 1 "$VMET" translate --cr3 0x40000000 "$img" 0x200010
expect_out "level 4 PML4: reading table 0x40000000"
expect_out "not in the raw source's memory"

# not present
expect_exit 1 "$VMET" translate --cr3 0x1000 "$img" 0x400000
expect_out "level 2 PD: table 0x3000 entry 2"
expect_out "not present"

# garbage EPTP (memory type 3, walk length 1)
expect_exit 2 "$VMET" translate --eptp 0xdeadbeef "$img" 0x1000
expect_err "EPTP 0xdeadbeef: memory type 7 is invalid"
expect_exit 2 "$VMET" translate --eptp 0x1006 "$img" 0x1000
expect_err "walk length 1 is invalid"

# bad numbers and usage
expect_exit 2 "$VMET" translate --cr3 zzz "$img" 0x1000
expect_err "--cr3: 'zzz' is not a number"
expect_exit 2 "$VMET" translate --cr3 0x1000 "$img" 0x12g
expect_err "'0x12g' is not an address"
expect_exit 2 "$VMET" translate "$img"
expect_err "need SOURCE and at least one ADDRESS"
expect_exit 2 "$VMET" translate --mode 7 --cr3 0x1000 "$img" 0x1000
expect_err "--mode: '7'"

# memory map: holes and mistakes
expect_exit 0 "$VMET" translate --memmap 0x0-0x400000@0 --cr3 0x1000 "$img" 0x200010
expect_exit 1 "$VMET" translate --memmap 0x0-0x100000@0,0x300000-0x400000@0x300000 --cr3 0x1000 "$img" 0x200010
expect_out "beyond the end of memory"
expect_exit 2 "$VMET" translate --memmap 0x0-0x900000@0 --cr3 0x1000 "$img" 0x200010
expect_err "reaches beyond the end"
expect_exit 2 "$VMET" translate --memmap 0x0-0x100000@0,0x80000-0x200000@0 --cr3 0x1000 "$img" 0x1
expect_err "overlap"
expect_exit 2 "$VMET" translate --memmap garbage --cr3 0x1000 "$img" 0x1
expect_err "cannot parse"
finish
