#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# usage: conf_env.sh <blk_conf binary>: PMEMBLK_CONF with ';' separators, an empty item and a
# trailing ';' (ctest's ENVIRONMENT property cannot carry a ';').
PMEMBLK_CONF="fallocate.at_create=0;; copy_on_write.at_open=y;" exec "$1" \
	fallocate.at_create=0 copy_on_write.at_open=1 sds.at_create=1
