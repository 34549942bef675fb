#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Builds and runs the libpmemblk benchmark: ours (sync and async API) against Debian's PMDK
# libpmemblk (sync) and against the floor, bare libpmem2 copies of the same blocks (raw_blk.c;
# a read looks up a map entry first, as every BTT read must),
# bsize 512 and 4096, 1 and 2 threads, random blocks on a 1 GiB pool per library in /dev/shm.
# Prints one table with ratios ours/PMDK, ours/floor and the 2-thread scaling (about 2 minutes
# with the defaults).
#
#	bench/blk/run.sh [BUILD_DIR]
#
# Environment: BENCH_SECONDS (per measurement, default 1), BENCH_REPEAT (measurements per cell,
# alternating the libraries, best one reported; default 2), BENCH_POOL_MIB (1024),
# BENCH_DIR (/dev/shm), BENCH_BSIZES ("512 4096"), BENCH_FENCES=1 (preload fence_count.c and
# print fences/flushes per operation for every measurement; slows both sides a little),
# BENCH_QD (async futures in flight per thread, default 4), BENCH_MOVER_THREADS (workers of the
# threads mover, default 1), BENCH_MOVER=sync (the async column
# on miniasync's synchronous mover instead of the thread pool: the futures' own overhead),
# BENCH_ASYNC_WAIT=runtime (batches waited with runtime_wait_multiple instead of polling).
# shellcheck disable=SC2154 # status, tag, ops, rate, cpurate are read through eval
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
seconds=${BENCH_SECONDS:-1}
repeat=${BENCH_REPEAT:-2}
pool_mib=${BENCH_POOL_MIB:-1024}
pool_dir=${BENCH_DIR:-/dev/shm}
bsizes=${BENCH_BSIZES:-512 4096}

if [ ! -f "$build/CMakeCache.txt" ]; then
	cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build" -j2 --target bench_blk >/dev/null
bin=$build/bench/blk
preload=
[ "${BENCH_FENCES:-0}" = 0 ] || preload=$bin/bench_blk_fences.so

work=$(mktemp -d "$pool_dir/bench_blk.XXXXXX")
cleanup() {
	exec 3>&- 4<&- 5>&- 6<&- 7>&- 8<&- 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

# start_server <name> <in fd> <out fd> <bsize>: a warmed-up pool behind two FIFOs
start_server() {
	mkfifo "$work/$1.in" "$work/$1.out"
	case $1 in
	pmdk) LD_PRELOAD=$preload PMEM_IS_PMEM_FORCE=1 "$bin/bench_blk_pmdk" serve "$work/pmdk.pool" "$4" "$pool_mib" \
		<"$work/$1.in" >"$work/$1.out" & ;;
	ours) LD_PRELOAD=$preload PMEM2_FORCE_GRANULARITY=CACHE_LINE "$bin/bench_blk_ours" serve "$work/ours.pool" "$4" \
		"$pool_mib" <"$work/$1.in" >"$work/$1.out" & ;;
	raw) LD_PRELOAD=$preload PMEM2_FORCE_GRANULARITY=CACHE_LINE "$bin/bench_blk_raw" serve "$work/raw.pool" "$4" \
		"$pool_mib" <"$work/$1.in" >"$work/$1.out" & ;;
	esac
	eval "exec $2>\"$work/$1.in\" $3<\"$work/$1.out\""
	eval "read -r status nblock <&$3"
	[ "$status" = ready ] || {
		echo "$1 server failed to start" >&2
		exit 1
	}
}

stop_servers() {
	echo quit >&3
	echo quit >&5
	echo quit >&7
	exec 3>&- 4<&- 5>&- 6<&- 7>&- 8<&-
	wait
	rm -f "$work"/*.in "$work"/*.out
}

# measure <in fd> <out fd> <op> <api> <threads>: prints "<ops/s> <ops per CPU-second>"
measure() {
	eval "echo \"run $3 $4 $5 $seconds\" >&$1"
	eval "read -r tag ops elapsed rate cpurate <&$2"
	[ "$tag" = result ] || {
		echo "measurement failed: $tag $ops" >&2
		exit 1
	}
	echo "$rate $cpurate"
}

best() { # <"a a_cpu"> <"b b_cpu">: the better of each field
	echo "$1 $2" | awk '{ print ($1 > $3 ? $1 : $3), ($2 > $4 ? $2 : $4) }'
}

# other users of the machine skew every figure: the table states the load it ran under
load0=$(cut -d' ' -f1-3 /proc/loadavg)
results=$work/results
: >"$results"
for bsize in $bsizes; do
	echo "bsize $bsize: creating and filling three ${pool_mib} MiB pools..." >&2
	start_server pmdk 3 4 "$bsize"
	start_server ours 5 6 "$bsize"
	start_server raw 7 8 "$bsize"
	for op in write read; do
		for threads in 1 2; do
			p="0 0" s="0 0" a="0 0" f="0 0" r=0
			while [ "$r" -lt "$repeat" ]; do
				# alternate who goes first, so that neither side always runs warmer
				if [ $((r % 2)) -eq 0 ]; then
					p=$(best "$p" "$(measure 3 4 "$op" sync "$threads")")
					s=$(best "$s" "$(measure 5 6 "$op" sync "$threads")")
					a=$(best "$a" "$(measure 5 6 "$op" async "$threads")")
					f=$(best "$f" "$(measure 7 8 "$op" sync "$threads")")
				else
					f=$(best "$f" "$(measure 7 8 "$op" sync "$threads")")
					a=$(best "$a" "$(measure 5 6 "$op" async "$threads")")
					s=$(best "$s" "$(measure 5 6 "$op" sync "$threads")")
					p=$(best "$p" "$(measure 3 4 "$op" sync "$threads")")
				fi
				r=$((r + 1))
			done
			echo "$bsize $op $threads $p $s $a $f" >>"$results"
			echo "  $op x$threads: pmdk $p, ours $s, ours async $a, floor $f (ops/s, ops/CPU-s)" >&2
		done
	done
	stop_servers
done

echo
echo "libpmemblk: ours vs PMDK 1.12.1 (Debian) and vs the floor (bare libpmem2 copies of the same"
echo "blocks, reads through a 4-byte map entry as in any BTT), ${pool_mib} MiB pools in $pool_dir, random blocks, best of $repeat x ${seconds} s per cell;"
echo "M ops/s. Async: ${BENCH_MOVER:-threads} mover with ${BENCH_MOVER_THREADS:-1} worker(s), ${BENCH_QD:-4} futures in flight per thread."
echo "Targets: write >= 1.5x, read >= 1.2x, 2 thr >= 1.7x 1 thr. 'ceiling' = floor/PMDK, the most any"
echo "BTT pool that copies each block once could reach against PMDK. Load before: $load0"
awk '
function m(x) { return sprintf("%.3f", x / 1e6) }
function r(x, y) { return y > 0 ? sprintf("%.2fx", x / y) : "-" }
function mark(x, y, t) { return (y > 0 && x / y >= t) ? "ok" : "MISS" }
{
	key = $1 " " $2; thr = $3
	pm[key, thr] = $4; pmc[key, thr] = $5
	so[key, thr] = $6; soc[key, thr] = $7
	as[key, thr] = $8; asc[key, thr] = $9
	fl[key, thr] = $10
	if (!(key in seen)) { seen[key] = 1; order[++n] = key }
}
END {
	printf "\n%15s | %-31s | %-24s | %-17s | %s\n", "", "M ops/s", "ours/PMDK, ops/s",
		"ours/PMDK, CPU-s", "vs floor"
	printf "%-5s %-5s %3s | %7s %7s %7s %7s | %10s %-4s %8s | %8s %8s | %6s %7s\n", "bsize", "op",
		"thr", "PMDK", "ours", "async", "floor", "sync", "", "async", "sync", "async", "ours",
		"ceiling"
	for (i = 1; i <= n; i++) {
		split(order[i], k, " ")
		target = k[2] == "write" ? 1.5 : 1.2
		for (t = 1; t <= 2; t++) {
			o = order[i]
			printf "%-5s %-5s %3d | %7s %7s %7s %7s | %10s %-4s %8s | %8s %8s | %6s %7s\n",
				k[1], k[2], t, m(pm[o, t]), m(so[o, t]), m(as[o, t]), m(fl[o, t]),
				r(so[o, t], pm[o, t]), mark(so[o, t], pm[o, t], target),
				r(as[o, t], pm[o, t]), r(soc[o, t], pmc[o, t]), r(asc[o, t], pmc[o, t]),
				r(so[o, t], fl[o, t]), r(fl[o, t], pm[o, t])
		}
	}
	printf "\nscaling 2 threads / 1 thread, M ops/s (target >= 1.7x for ours)\n"
	printf "%-5s %-5s | %6s | %9s %-4s | %10s | %6s\n", "bsize", "op", "PMDK", "ours sync", "",
		"ours async", "floor"
	for (i = 1; i <= n; i++) {
		split(order[i], k, " ")
		o = order[i]
		printf "%-5s %-5s | %6s | %9s %-4s | %10s | %6s\n", k[1], k[2],
			r(pm[o, 2], pm[o, 1]), r(so[o, 2], so[o, 1]), mark(so[o, 2], so[o, 1], 1.7),
			r(as[o, 2], as[o, 1]), r(fl[o, 2], fl[o, 1])
	}
}' "$results"
