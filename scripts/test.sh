#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The test command of the README: installs what is missing, builds, runs the whole suite.
# usage: test.sh [--sanitize | --valgrind | --long]   (default: a RelWithDebInfo build in build/)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh"
case "${1:-}" in
--sanitize)
	dir="$root/build-sanitize"
	opts="-DCMAKE_BUILD_TYPE=Debug -DPMEMKIT_SANITIZE=ON -DPMEMKIT_BENCH=OFF"
	;;
--valgrind)
	dir="$root/build-valgrind"
	opts="-DCMAKE_BUILD_TYPE=Debug -DPMEMKIT_VALGRIND=ON -DPMEMKIT_BENCH=OFF"
	;;
--long)
	# hour-long fuzz runs and every concurrency test at full length under helgrind
	dir="$root/build-long"
	opts="-DPMEMKIT_FUZZ_SECONDS=${PMEMKIT_FUZZ_SECONDS:-3600} -DPMEMKIT_FUZZ_SEED=0 -DPMEMKIT_THREADCHECK_LONG=ON -DPMEMKIT_BENCH=OFF -DPMEMKIT_EXAMPLES=OFF"
	;;
"")
	dir="$root/build"
	opts=""
	;;
*)
	echo "usage: $0 [--sanitize | --valgrind | --long]" >&2
	exit 2
	;;
esac
# shellcheck disable=SC2086
"$root/scripts/build.sh" "$dir" $opts
cd "$dir"
if [ "${1:-}" = "--long" ]; then
	ctest --output-on-failure -j "$(nproc)" -L 'fuzz|threadcheck|crash'
else
	ctest --output-on-failure -j "$(nproc)"
fi
