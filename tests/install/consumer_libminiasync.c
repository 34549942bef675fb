/* SPDX-License-Identifier: BSD-3-Clause */
/* Builds against the installed libminiasync and copies a buffer through the sync mover. */
#include <libminiasync.h>
#include <string.h>

int main(void)
{
	struct data_mover_sync *dms = data_mover_sync_new();
	if (dms == NULL)
		return 1;
	char src[] = "installed", dst[sizeof(src)] = {0};
	struct vdm_operation_future fut =
		vdm_memcpy(data_mover_sync_get_vdm(dms), dst, src, sizeof(src), 0);
	FUTURE_BUSY_POLL(&fut);
	data_mover_sync_delete(dms);
	return strcmp(src, dst) != 0;
}
