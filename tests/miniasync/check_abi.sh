#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# usage: check_abi.sh <libminiasync.so> -- SONAME and symbol version node of miniasync 0.2.1
set -eu
lib=$1
soname=$(readelf -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')
if [ "$soname" != "libminiasync.so.0" ]; then
	echo "SONAME is '$soname', expected libminiasync.so.0"
	exit 1
fi
# every exported function lives in node LIBMINIASYNC_1.0 (spec 1.2)
total=$(nm -D --defined-only "$lib" | awk '$2 == "T"' | wc -l)
versioned=$(nm -D --defined-only "$lib" | awk '$2 == "T"' | grep -c '@@LIBMINIASYNC_1\.0$' || true)
if [ "$total" -ne 14 ] || [ "$versioned" -ne 14 ]; then
	echo "expected 14 functions in LIBMINIASYNC_1.0, found $versioned of $total"
	nm -D --defined-only "$lib"
	exit 1
fi
echo "SONAME $soname, $versioned functions in LIBMINIASYNC_1.0"
