#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Pools written through our asynchronous API (write futures on the thread-pool mover) must be
# exactly what PMDK reads back, and pass PMDK's pmemblk_check and pmempool check; PMDK's
# writes must read back through our read futures. Both creators are tried.
#
# usage: async.sh <ours tool> <pmdk tool> <bsize> <pool size>
set -eu

ours=$1
pmdk=$2
bsize=$3
size=$4
count=400
pmempool=${PMEMPOOL:-pmempool}

base=${PMEMKIT_TEST_DIR:-}
if [ -z "$base" ]; then
	if [ -d /dev/shm ] && [ -w /dev/shm ]; then base=/dev/shm; else base=/tmp; fi
fi
dir=$(mktemp -d "$base/blk_interop_async.XXXXXX")
trap 'rm -rf "$dir"' EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

run() {
	impl=$1
	shift
	echo "+ [$impl] $*"
	case $impl in
	ours) "$ours" "$@" ;;
	pmdk) "$pmdk" "$@" ;;
	esac || fail "[$impl] $* failed"
}

pmempool_check() {
	"$pmempool" check -v "$1" >"$dir/check.log" 2>&1 || {
		cat "$dir/check.log" >&2
		fail "pmempool check: $1 not consistent"
	}
	echo "+ pmempool check: consistent"
}

"$ours" whoami | grep -q '^ours ' || fail "the 'ours' tool does not run our library"
"$pmdk" whoami | grep -q '^pmdk ' || fail "the 'pmdk' tool does not run PMDK's library"

for creator in pmdk ours; do
	f=$dir/created-by-$creator
	echo "=== created by $creator"
	run $creator create "$f" "$bsize" "$size"
	run ours write-async "$f" 5 $count
	run pmdk verify "$f" 5 $count
	run pmdk check "$f" "$bsize"
	pmempool_check "$f"
	run pmdk write "$f" 6 $count
	run ours verify-async "$f" 5,6 $count
	run ours write-async "$f" 7 $count
	run pmdk verify "$f" 5,6,7 $count
	run pmdk check "$f" "$bsize"
	run ours check "$f" "$bsize"
	pmempool_check "$f"
	rm -f "$f"
done
echo "PASS: async interop, bsize $bsize size $size"
