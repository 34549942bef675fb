#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The demo command of the README: installs what is missing, builds, runs every example.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh"
"$root/scripts/build.sh" "$root/build"
cd "$root/build"
ctest -L example --output-on-failure -V
