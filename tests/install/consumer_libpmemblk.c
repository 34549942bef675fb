/* SPDX-License-Identifier: BSD-3-Clause */
/* Builds against the installed libpmemblk and round-trips one block through a new pool. */
#define _POSIX_C_SOURCE 200809L
#include <libpmemblk.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	char path[] = "/tmp/pmemkit-consumer-blk-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return 1;
	close(fd);
	unlink(path);

	PMEMblkpool *pbp = pmemblk_create(path, 512, PMEMBLK_MIN_POOL, 0600);
	if (pbp == NULL) {
		fprintf(stderr, "%s\n", pmemblk_errormsg());
		return 1;
	}
	char in[512], out[512];
	memset(in, 'b', sizeof(in));
	int failed = pmemblk_write(pbp, in, 7) != 0 || pmemblk_read(pbp, out, 7) != 0 ||
		     memcmp(in, out, sizeof(in)) != 0;
	pmemblk_close(pbp);
	unlink(path);
	return failed;
}
