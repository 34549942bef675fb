#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# libFuzzer targets of the project, built by clang in a build of their own.
#   fuzz.sh build <build dir>                       configure + build (incremental)
#   fuzz.sh run <build dir> <stream|blk> <seconds> [<runs> <seed>]
#                                                   regressions, seed corpus, then fuzzing
# With runs and seed (> 0) the run is reproducible: the same inputs every time, so the test
# command passes or fails for the code, not for the luck of the draw; <seconds> only caps it.
# Without them, a random seed explores for <seconds> (the long runs). A crash leaves its input in <build dir>/artifacts-<target>/ and fails; the findings go to
# tests/fuzz/regressions/<target>/ once fixed, where every run replays them first.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cmd=$1
dir=$2
CC=${FUZZ_CC:-$(command -v clang-14 || command -v clang)}

case "$cmd" in
build)
	cmake -S "$here/standalone" -B "$dir" -DCMAKE_C_COMPILER="$CC" \
		-DCMAKE_BUILD_TYPE=None -DFUZZ_EXTRA_FLAGS="${FUZZ_EXTRA_FLAGS:-}" >/dev/null
	cmake --build "$dir" -j "${FUZZ_JOBS:-2}"
	;;
run)
	target=$3
	seconds=$4
	runs=${5:-0}
	seed=${6:-0}
	bound=""
	norandom=""
	if [ "$runs" -gt 0 ]; then
		bound="-runs=$runs -reload=0"
		# addresses steer some branches (alignment): the same ones every run
		setarch "$(uname -m)" -R true 2>/dev/null && norandom="setarch $(uname -m) -R"
	fi
	bin="$dir/fuzz_$target"
	[ -x "$bin" ] || { echo "fuzz: $bin not built" >&2; exit 1; }
	export PMEM2_FORCE_GRANULARITY=CACHE_LINE
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1:allocator_may_return_null=1"
	corpus="$dir/corpus-$target"
	artifacts="$dir/artifacts-$target"
	# a reproducible run starts from the seed corpus alone, not from what earlier runs found
	[ "$runs" -gt 0 ] && rm -rf "$corpus"
	mkdir -p "$corpus" "$artifacts"
	regress="$here/regressions/$target"
	if ls "$regress"/* >/dev/null 2>&1; then
		n=$(ls "$regress" | wc -l)
		echo "fuzz $target: replaying $n regression inputs"
		if ! "$bin" -rss_limit_mb=1024 -timeout=30 $(ls -d "$regress"/*) >"$dir/regress-$target.log" 2>&1; then
			echo "fuzz $target: a regression input fails again:" >&2
			grep -E 'Running:|ERROR|SUMMARY|fuzz check|#[0-9]+ 0x' "$dir/regress-$target.log" | head -30 >&2
			exit 1
		fi
	fi
	if [ -z "$(ls -A "$corpus")" ]; then
		FUZZ_MAKE_SEEDS="$corpus" "$bin"
		echo "fuzz $target: $(ls "$corpus" | wc -l) seed files made by the library"
	fi
	log="$dir/fuzz-$target.log"
	rc=0
	start=$(date +%s)
	$norandom "$bin" $bound -seed="$seed" -max_total_time="$seconds" -rss_limit_mb=1024 -malloc_limit_mb=512 -timeout=20 \
		-print_final_stats=1 -artifact_prefix="$artifacts/" \
		"$corpus" >"$log" 2>&1 || rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
	echo "fuzz $target: ${execs:-?} executions in $(($(date +%s) - start)) s, $cov, corpus $(ls "$corpus" | wc -l) files"
	if [ "$rc" -ne 0 ]; then
		echo "fuzz $target: FINDING (exit $rc); input(s) in $artifacts:" >&2
		ls -l "$artifacts" >&2
		grep -E 'ERROR|SUMMARY|==[0-9]+==|#[0-9]+ 0x|deadly|timeout' "$log" | head -40 >&2
		exit 1
	fi
	;;
*)
	echo "usage: $0 build <dir> | run <dir> <target> <seconds> [<runs> <seed>]" >&2
	exit 2
	;;
esac
