#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Build and run the libpmemstream append benchmark (about a minute with the defaults).
#	bench/stream/run.sh [BUILD_DIR] [bench_stream options...]
# The options are those of bench_stream: --duration S, --sizes 64,1024,4096, --dir DIR,
# --region-mib N, --mover-threads N, --filter TEXT.
set -e
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$root/build
case "${1:-}" in
-*|"") ;;
*) build=$1; shift ;;
esac

if [ ! -f "$build/CMakeCache.txt" ]; then
	cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build" -j2 --target bench_stream >/dev/null

# The benchmark also sets these itself; exporting them keeps a profiler's view identical.
export PMEM2_FORCE_GRANULARITY=CACHE_LINE
export PMEM_IS_PMEM_FORCE=1
exec "$build/bench/stream/bench_stream" "$@"
