#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# usage: check_install.sh <build dir> <this source dir>
set -eu
build=$1
here=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"

cmake --install "$build" --prefix "$prefix" >/dev/null
libdir="$prefix/lib"
[ -d "$libdir" ] || libdir=$(dirname "$(find "$prefix" -name 'libminiasync.so' | head -n1)")
export PKG_CONFIG_PATH="$libdir/pkgconfig"

for pkg in $(cd "$libdir/pkgconfig" && ls -- *.pc | sed 's/\.pc$//'); do
	src="$here/consumer_$pkg.c"
	[ -f "$src" ] || { echo "no consumer for $pkg"; exit 1; }
	# shellcheck disable=SC2046
	cc -std=c11 -Wall -Wextra -Werror -o "$work/$pkg" "$src" \
		$(pkg-config --cflags --libs "$pkg") -Wl,-rpath,"$libdir"
	"$work/$pkg"
	echo "pkg-config consumer of $pkg: ok"
done

# the CMake package of libminiasync, as the reference documents it
cmake -S "$here/cmake_consumer" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/cmake" >/dev/null
for exe in consumer consumer_stream consumer_blk; do
	"$work/cmake/$exe"
done
echo "cmake consumer: ok"

for page in libminiasync.7 libpmemstream.7 libpmemstream.3 libpmemblk.7 pmemblk_async.3; do
	if command -v pandoc >/dev/null; then
		find "$prefix" -name "$page*" | grep -q . || { echo "man page $page not installed"; exit 1; }
	fi
done
