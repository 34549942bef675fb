#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# usage: check_exports.sh <shared library> <file listing the expected symbols, one per line>
# Fails unless the library defines exactly the expected dynamic symbols (version nodes aside).
set -eu
lib=$1
expected=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$lib" | awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' | sort -u >"$tmp/actual"
grep -v '^#' "$expected" | sed '/^$/d' | sort -u >"$tmp/wanted"
if ! diff -u "$tmp/wanted" "$tmp/actual"; then
	echo "exported symbols of $lib differ from $expected (- missing, + unexpected)"
	exit 1
fi
echo "$(wc -l <"$tmp/actual") symbols exported, as expected"
