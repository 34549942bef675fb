#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Builds the project a second time for a thread checker and runs concurrency tests in it.
#   threadcheck.sh build <tsan|helgrind> <source root> <build dir> <targets...>
#   threadcheck.sh run <tsan|helgrind> <build dir> <target> [test arguments...]
# tsan: every file built with -fsanitize=thread (gcc). helgrind: every C file gets
# vg_atomics.h forced in, so that helgrind sees the happens-before edges of C11/GCC atomics.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cmd=$1
tool=$2

case "$cmd" in
build)
	root=$3
	dir=$4
	shift 4
	case "$tool" in
	tsan) flags="-fsanitize=thread -fno-omit-frame-pointer" ;;
	helgrind) flags="-include $here/vg_atomics.h" ;;
	*) echo "unknown tool $tool" >&2; exit 2 ;;
	esac
	ldflags=""
	[ "$tool" = tsan ] && ldflags="-fsanitize=thread"
	cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPMEMKIT_BENCH=OFF \
		-DPMEMKIT_EXAMPLES=OFF -DPMEMKIT_THREADCHECK_NESTED=ON \
		-DCMAKE_C_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$ldflags" \
		-DCMAKE_SHARED_LINKER_FLAGS="$ldflags" >/dev/null
	cmake --build "$dir" -j "${THREADCHECK_JOBS:-2}" --target "$@"
	;;
run)
	dir=$3
	target=$4
	shift 4
	bin=$(find "$dir/tests" -type f -name "$target" -perm -u+x | head -1)
	[ -n "$bin" ] || { echo "threadcheck: $target not built in $dir" >&2; exit 1; }
	case "$tool" in
	tsan)
		TSAN_OPTIONS="halt_on_error=1:exitcode=66:second_deadlock_stack=1${TSAN_OPTIONS:+:$TSAN_OPTIONS}" \
			exec "$bin" "$@"
		;;
	helgrind)
		# fair scheduling: spinning waiters must not starve the thread they wait for
		exec valgrind --tool=helgrind --fair-sched=try -q --error-exitcode=99 \
			--suppressions="$here/helgrind.supp" "$bin" "$@"
		;;
	esac
	;;
*)
	echo "usage: $0 build <tool> <root> <dir> <targets...> | run <tool> <dir> <target>" >&2
	exit 2
	;;
esac
