#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Installs the Debian packages the build, tests, examples and benchmarks need (run as root).
set -eu
packages="cmake make gcc g++ pkg-config libpmem2-dev libpmem-dev libpmemblk-dev libpmemlog-dev
	pmdk-tools valgrind clang libclang-rt-14-dev pandoc"
missing=""
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
