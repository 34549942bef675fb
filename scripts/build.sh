#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# usage: build.sh <build dir> [cmake options...]  -- configure and build the project
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$1
shift
cmake -S "$root" -B "$dir" "$@" >/dev/null
cmake --build "$dir" -j "$(nproc)"
