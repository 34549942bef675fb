#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Is revision B faster than revision A? Builds libpmemstream and libpmemblk of both and runs
# bench_ab twice, A against B and B against A, in one process each (bench_ab.c says why).
#
#	bench/ab/run.sh REV_A REV_B stream SIZE THREADS same|own
#	bench/ab/run.sh REV_A REV_B stream-async SIZE THREADS own
#	bench/ab/run.sh REV_A REV_B blk-write|blk-read BSIZE THREADS
#
# A revision is anything git names (HEAD~1, a branch, a commit), or "." for the working
# tree as it is, uncommitted changes included. Example: bench/ab/run.sh HEAD . stream 64 1 same
set -eu
[ $# -ge 5 ] || {
	sed -n '3,12p' "$0" >&2
	exit 2
}
root=$(cd "$(dirname "$0")/../.." && pwd)
rev_a=$1
rev_b=$2
shift 2
case $1 in
stream | stream-async) lib=src/stream/libpmemstream.so.0 ;;
blk-write | blk-read) lib=src/blk/libpmemblk.so.1 ;;
*)
	echo "unknown workload $1" >&2
	exit 2
	;;
esac

work=$(mktemp -d /tmp/bench_ab.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM

# build <rev> <dir>: the two libraries of that revision, in <dir>/build
build() {
	if [ "$1" = . ]; then
		src=$root
	else
		src=$2/src
		mkdir -p "$src"
		git -C "$root" archive "$1" | tar -x -C "$src"
	fi
	cmake -S "$src" -B "$2/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$2/build" -j2 --target pmemstream pmemblk >/dev/null
}
echo "building $rev_a and $rev_b..." >&2
build "$rev_a" "$work/a"
build "$rev_b" "$work/b"
# the tool of this checkout, whatever the revisions have
ab=$work/bench_ab
# shellcheck disable=SC2046 # pkg-config prints several words
${CC:-cc} -O2 -Wall -Wextra -I"$root/include" "$root/bench/ab/bench_ab.c" -o "$ab" \
	$(pkg-config --cflags --libs libpmem2) -pthread -ldl

export PMEM2_FORCE_GRANULARITY="${PMEM2_FORCE_GRANULARITY:-CACHE_LINE}"
first=$("$ab" "$@" "$work/a/build/$lib" "$work/b/build/$lib")
second=$("$ab" "$@" "$work/b/build/$lib" "$work/a/build/$lib")
echo "A = $rev_a, B = $rev_b"
echo "$first"
echo "swapped: $second"
# the swapped run loaded B first, so its "B/A" is A over B
r1=$(echo "$first" | sed 's/.*B\/A //')
r2=$(echo "$second" | sed 's/.*B\/A //')
awk -v r1="$r1" -v r2="$r2" 'BEGIN {
	printf "B over A: %.3f, swapped %.3f, geometric mean %.3f\n", r1, 1 / r2, sqrt(r1 / r2) }'
