#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Pools go back and forth between our libpmemblk and Debian's PMDK 1.12.1 build, in both
# directions: A creates, A writes, B verifies and checks, B writes on top (continuing A's flog),
# A verifies both layers; then B creates and A lays the BTT out with its first write.
# After every step pmempool (PMDK's own checker) must call the pool consistent and its
# statistics must agree with what the tools read back.
#
# usage: interop.sh <ours tool> <pmdk tool> <bsize> <pool size> <create mode> [count]
#   create mode: alloc | sparse | dirty (see blk_interop_tool) | pmempool (pmempool create -w)
set -eu

ours=$1
pmdk=$2
bsize=$3
size=$4
mode=$5
count=${6:-400}
pmempool=${PMEMPOOL:-pmempool}

base=${PMEMKIT_TEST_DIR:-}
if [ -z "$base" ]; then
	if [ -d /dev/shm ] && [ -w /dev/shm ]; then base=/dev/shm; else base=/tmp; fi
fi
dir=$(mktemp -d "$base/blk_interop.XXXXXX")
trap 'rm -rf "$dir"' EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

tool() {
	case $1 in
	ours) echo "$ours" ;;
	pmdk) echo "$pmdk" ;;
	*) fail "unknown implementation $1" ;;
	esac
}

run() {
	impl=$1
	shift
	echo "+ [$impl] $*" >&2
	"$(tool "$impl")" "$@" || fail "[$impl] $* failed"
}

# Both builds must really use their own library (they share the soname).
"$ours" whoami | grep -q '^ours ' || fail "the 'ours' tool does not run our library"
"$pmdk" whoami | grep -q '^pmdk ' || fail "the 'pmdk' tool does not run PMDK's library"
[ "$("$ours" whoami | cut -d' ' -f2)" != "$("$pmdk" whoami | cut -d' ' -f2)" ] ||
	fail "both tools load the same library file"

create_with() { # <impl|pmempool> <file>
	echo "+ [$1] create $2 $bsize $size $mode"
	if [ "$mode" = pmempool ]; then
		"$pmempool" create -s "$size" -w blk "$bsize" "$2" >/dev/null ||
			fail "pmempool create -w failed"
	else
		"$(tool "$1")" create "$2" "$bsize" "$size" "$mode" || fail "[$1] create failed"
	fi
}

pmempool_check() { # <file>
	out=$("$pmempool" check -v "$1" 2>&1) || {
		echo "$out" >&2
		fail "pmempool check: $1 not consistent"
	}
	echo "$out" | grep -q "^$1: consistent" || {
		echo "$out" >&2
		fail "pmempool check did not report $1 consistent"
	}
	echo "+ pmempool check: consistent"
}

stat_of() { # <pmempool info output> <field label>
	echo "$1" | sed -n "s/^$2 *: *\([0-9]*\).*/\1/p" | awk '{ s += $1 } END { print s + 0 }'
}

# pmempool info must parse the pool, agree on bsize and nblock, find every info block (primary
# and backup) with a valid checksum, and count data/zero/error blocks as our read-back did.
pmempool_info() { # <file> <"nblock N bsize B"> [verify output]
	nblock=$(echo "$2" | cut -d' ' -f2)
	# statistics walk the whole map: seconds for a pool of 100 M blocks
	stats=-s
	[ "$nblock" -le 16777216 ] || stats=
	out=$("$pmempool" info -B $stats "$1" 2>&1) || {
		echo "$out" >&2
		fail "pmempool info failed on $1"
	}
	if echo "$out" | grep -qi 'wrong\|invalid\|error:'; then
		echo "$out" >&2
		fail "pmempool info complains about $1"
	fi
	[ "$(stat_of "$out" 'Block size')" = "$bsize" ] || fail "pmempool info: block size"
	# the descriptor's is_zeroed: 1 only when create made the file itself
	zeroed=$(echo "$out" | sed -n 's/^Is zeroed *: *//p')
	case $mode in
	sparse | dirty) [ "$zeroed" = false ] || fail "pmempool info: is_zeroed '$zeroed', want false" ;;
	*) [ "$zeroed" = true ] || fail "pmempool info: is_zeroed '$zeroed', want true" ;;
	esac
	narenas=$(echo "$out" | grep -c '^\[ARENA ' || true)
	if [ "$narenas" -gt 0 ]; then
		[ "$(stat_of "$out" 'External LBA count')" = $((2 * nblock)) ] ||
			fail "pmempool info: external LBA counts (primary + backup) do not add up to 2 x $nblock"
		[ "$(echo "$out" | grep -c 'Checksum.*\[OK\]')" = $((1 + 2 * narenas)) ] ||
			fail "pmempool info: not every checksum is OK"
		[ -z "$stats" ] || [ "$(stat_of "$out" 'Total blocks')" = "$nblock" ] ||
			fail "pmempool info: total blocks"
	fi
	if [ -n "${3:-}" ]; then
		[ "$narenas" -gt 0 ] || fail "pmempool info: written pool without arenas"
		[ -n "$stats" ] || return 0
		# shellcheck disable=SC2086 # split "verified D data, Z zero, E EIO blocks, U untouched; B bad"
		set -- $3
		[ "$(stat_of "$out" 'Blocks without flag')" = "$2" ] ||
			fail "pmempool info: data blocks differ from the read-back ($2)"
		[ "$(stat_of "$out" 'Error blocks')" = "$6" ] ||
			fail "pmempool info: error blocks differ from the read-back ($6)"
		if [ "$(($2 + $4 + $6))" = "$nblock" ]; then # every block was read back
			[ "$(stat_of "$out" 'Zeroed blocks')" = "$4" ] ||
				fail "pmempool info: zeroed blocks differ from the read-back ($4)"
		fi
	fi
	echo "+ pmempool info: $narenas arena(s), agrees"
}

verify() { # <impl> <file> <seeds>
	echo "+ [$1] verify $2 $3 $count" >&2
	v=$("$(tool "$1")" verify "$2" "$3" "$count") || fail "[$1] verify $3 failed"
	echo "$v" >&2
	echo "$v"
}

direction() { # <A> <B>
	a=$1
	b=$2
	f=$dir/$a-then-$b
	s1=$(($(printf '%s' "$a" | cksum | cut -d' ' -f1) % 1000 + 1))
	s2=$((s1 + 1000))
	s3=$((s1 + 2000))
	echo "=== created by $a${mode:+ ($mode)}, continued by $b"
	create_with "$a" "$f"
	ia=$(run "$a" info "$f")
	ib=$(run "$b" info "$f")
	[ "$ia" = "$ib" ] || fail "geometry differs: $a '$ia', $b '$ib'"
	huge=0
	[ "$(echo "$ia" | cut -d' ' -f2)" -le 16777216 ] || huge=1
	run "$b" check "$f" "$bsize"
	run "$b" check "$f"
	run "$b" check-mismatch "$f" $((bsize + 1))
	# pmempool calls a never-written pool with a non-zero BTT area inconsistent, PMDK's too
	if [ "$mode" != dirty ]; then
		pmempool_check "$f"
		pmempool_info "$f" "$ia"
	fi

	run "$a" write "$f" "$s1" "$count"
	v=$(verify "$b" "$f" "$s1")
	run "$b" check "$f" "$bsize"
	# a full check of a pool of 100 M blocks takes seconds: huge pools get it after step two
	[ "$huge" = 1 ] || pmempool_check "$f"
	pmempool_info "$f" "$ia" "$v"

	run "$b" write "$f" "$s2" "$count"
	v=$(verify "$a" "$f" "$s1,$s2")
	run "$a" check "$f" "$bsize"
	ia2=$(run "$a" info "$f")
	[ "$ia2" = "$ia" ] || fail "geometry changed: '$ia2'"
	pmempool_check "$f"
	pmempool_info "$f" "$ia" "$v"
	# last: a failed PMDK open rewrites stale run-time words that pmempool info relies on
	run "$a" open-mismatch "$f" $((bsize * 2))
	run "$b" open-mismatch "$f" $((bsize * 2))
	run "$b" check-mismatch "$f" $((bsize + 1))
	rm -f "$f"
	# a second multi-arena layout adds only seconds of map walking to the above
	[ "$huge" = 0 ] || return 0

	echo "=== created by $b${mode:+ ($mode)}, laid out by $a"
	f=$dir/$b-layout-by-$a
	create_with "$b" "$f"
	run "$a" write "$f" "$s3" "$count"
	v=$(verify "$b" "$f" "$s3")
	run "$b" check "$f" "$bsize"
	[ "$huge" = 1 ] || run "$a" check "$f" "$bsize"
	pmempool_check "$f"
	pmempool_info "$f" "$ia" "$v"
	rm -f "$f"
}

direction ours pmdk
direction pmdk ours
echo "PASS: bsize $bsize size $size ($mode)"
