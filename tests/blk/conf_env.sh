#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# usage: conf_env.sh <blk_conf binary>
# PMEMBLK_CONF and PMEMBLK_CONF_FILE at load time, as PMDK 1.12.1 handles them (checked
# against Debian's libpmemblk): PMEMBLK_CONF first, then the file, so the file wins;
# unknown names and values that are not booleans are ignored; only a malformed item (no
# name or no value, or a second '=') aborts. A script: ctest's ENVIRONMENT property
# cannot carry a ';'.
bin=$1
dir=$(mktemp -d "${TMPDIR:-/tmp}/blk_conf_env.XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT
ulimit -c 0
failed=0

# expect <what> <PMEMBLK_CONF> <PMEMBLK_CONF_FILE> <name=value>...: the nodes hold the values
expect() {
	what=$1 conf=$2 file=$3
	shift 3
	if ! PMEMBLK_CONF=$conf PMEMBLK_CONF_FILE=$file "$bin" "$@"; then
		echo "FAILED: $what (PMEMBLK_CONF='$conf' PMEMBLK_CONF_FILE='$file')"
		failed=1
	fi
}

# expect_abort <what> <PMEMBLK_CONF> <PMEMBLK_CONF_FILE>: loading the library aborts
expect_abort() {
	PMEMBLK_CONF=$2 PMEMBLK_CONF_FILE=$3 "$bin" 2>"$dir/stderr"
	status=$?
	if [ "$status" -ne 134 ] || ! grep -q "failed to apply the configuration" "$dir/stderr"; then
		echo "FAILED: $1 did not abort (status $status; PMEMBLK_CONF='$2' PMEMBLK_CONF_FILE='$3')"
		failed=1
	fi
}

printf 'prefault.at_open=0;\n' >"$dir/prefault0"
printf 'sds.at_open=1; # no such node\nprefault.at_create = maybe;\nsds.at_create=0\n' \
	>"$dir/ignored"
printf 'sds.at_create=0;\nprefault.at_open\n' >"$dir/malformed"

expect "separators, an empty item and a trailing ';'" \
	"fallocate.at_create=0;;copy_on_write.at_open=y;" "" \
	fallocate.at_create=0 copy_on_write.at_open=1 sds.at_create=1
expect "the file is applied after PMEMBLK_CONF" \
	"prefault.at_open=1;fallocate.at_create=0" "$dir/prefault0" \
	prefault.at_open=0 fallocate.at_create=0
expect "unknown names and invalid values are skipped" \
	"sds.at_open=1;prefault.at_open=1;prefault.at_create=2;fallocate.at_create=N" "" \
	prefault.at_open=1 prefault.at_create=0 fallocate.at_create=0
expect "a name with spaces is another name" \
	" copy_on_write.at_open=1;prefault.at_open =1" "" \
	copy_on_write.at_open=0 prefault.at_open=0
expect "runs of '=' separate like one" \
	"=prefault.at_open==1=" "" prefault.at_open=1
expect "the file skips unknown names and invalid values too" "" "$dir/ignored" \
	prefault.at_create=0 sds.at_create=0
expect_abort "an item without '='" "prefault.at_open=1;sds.at_create" ""
expect_abort "an item without a value" "prefault.at_open=" ""
expect_abort "an item with a second '='" "prefault.at_open=1=0" ""
expect_abort "a malformed item in the file" "" "$dir/malformed"
expect_abort "a missing file" "" "$dir/no such file"
exit $failed
