/* SPDX-License-Identifier: BSD-3-Clause */

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/pmem_ops.h"
#include "fakelog.h"

struct fakelog {
	struct pmem_ops ops;
	enum fakelog_mode mode;
	uint64_t nslots;
};

struct hdr {
	uint64_t magic;
	uint64_t nslots;
};

struct fakelog *fakelog_open(struct pmem2_map *map, enum fakelog_mode mode)
{
	struct fakelog *log = calloc(1, sizeof(*log));
	if (log == NULL)
		return NULL;
	pmem_ops_init(&log->ops, map);
	log->mode = mode;
	struct hdr *h = (struct hdr *)log->ops.base;
	if (h->magic != FAKELOG_MAGIC) {
		h->nslots = (log->ops.size - FAKELOG_FIRST_SLOT) / FAKELOG_SLOT;
		log->ops.persist(&h->nslots, sizeof(h->nslots));
		h->magic = FAKELOG_MAGIC;
		log->ops.persist(&h->magic, sizeof(h->magic));
	}
	log->nslots = h->nslots;
	return log;
}

void fakelog_close(struct fakelog *log)
{
	free(log);
}

uint64_t fakelog_nslots(struct fakelog *log)
{
	return log->nslots;
}

struct foreign_flush {
	struct pmem_ops *ops;
	void *addr;
};

static void *flush_without_drain(void *arg)
{
	struct foreign_flush *ff = arg;
	ff->ops->flush(ff->addr, FAKELOG_PAYLOAD);
	return NULL;
}

int fakelog_put(struct fakelog *log, uint64_t seq, const void *payload)
{
	if (seq == 0 || seq > log->nslots)
		return -1;
	char *slot = log->ops.base + FAKELOG_FIRST_SLOT + (seq - 1) * FAKELOG_SLOT;
	uint64_t *flag = (uint64_t *)slot;
	char *data = slot + 64;
	switch (log->mode) {
	case FAKELOG_CORRECT:
		memcpy(data, payload, FAKELOG_PAYLOAD);
		log->ops.persist(data, FAKELOG_PAYLOAD);
		*flag = seq;
		log->ops.persist(flag, sizeof(*flag));
		break;
	case FAKELOG_CORRECT_MEMCPY:
		log->ops.memcpy(data, payload, FAKELOG_PAYLOAD, PMEM2_F_MEM_NODRAIN);
		log->ops.drain();
		*flag = seq;
		log->ops.flush(flag, sizeof(*flag));
		log->ops.drain();
		break;
	case FAKELOG_BROKEN_NO_PERSIST:
		memcpy(data, payload, FAKELOG_PAYLOAD);
		*flag = seq;
		log->ops.persist(flag, sizeof(*flag));
		break;
	case FAKELOG_BROKEN_NOFLUSH:
		log->ops.memcpy(data, payload, FAKELOG_PAYLOAD, PMEM2_F_MEM_NOFLUSH);
		log->ops.drain();
		*flag = seq;
		log->ops.persist(flag, sizeof(*flag));
		break;
	case FAKELOG_BROKEN_FOREIGN_DRAIN: {
		memcpy(data, payload, FAKELOG_PAYLOAD);
		struct foreign_flush ff = {&log->ops, data};
		pthread_t t;
		if (pthread_create(&t, NULL, flush_without_drain, &ff) != 0)
			return -1;
		pthread_join(t, NULL);
		*flag = seq;
		log->ops.persist(flag, sizeof(*flag));
		break;
	}
	case FAKELOG_BROKEN_FLAG_FIRST:
		*flag = seq;
		log->ops.persist(flag, sizeof(*flag));
		memcpy(data, payload, FAKELOG_PAYLOAD);
		log->ops.persist(data, FAKELOG_PAYLOAD);
		break;
	}
	return 0;
}
