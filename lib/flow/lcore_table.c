/* lcore_table.c - per-RX-lcore flow memory: one writer, lock-free readers, ageing by the writer */
#include <errno.h>
#include <stdio.h>

#include <rte_hash_crc.h>

#include "lcore_table.h"

#define STAMP(now, value) ((void *)(uintptr_t)((((now) >> 16) << 16) | (value)))
#define STAMP_TSC(d) (((uint64_t)(uintptr_t)(d) >> 16) << 16)
#define STAMP_VALUE(d) ((uint16_t)((uintptr_t)(d) & 0xffff))

int pmx_lcore_table_create(struct pmx_lcore_table *t, const char *name, uint32_t entries,
			   struct rte_rcu_qsbr *qsv, int socket_id)
{
	struct rte_hash_parameters params = {
		.name = name,
		.entries = entries,
		.key_len = sizeof(struct pmx_flow_key),
		.hash_func = rte_hash_crc,
		.socket_id = socket_id,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
	};
	struct rte_hash_rcu_config rcu = {.v = qsv, .mode = RTE_HASH_QSBR_MODE_DQ};

	t->scan_next = 0;
	t->inserts = 0;
	t->full = 0;
	t->hash = rte_hash_create(&params);
	if (t->hash == NULL)
		return rte_hash_find_existing(name) ? -EEXIST : -ENOMEM;
	if (rte_hash_rcu_qsbr_add(t->hash, &rcu) != 0) {
		rte_hash_free(t->hash);
		t->hash = NULL;
		return -ENOMEM;
	}
	return 0;
}

void pmx_lcore_table_destroy(struct pmx_lcore_table *t)
{
	rte_hash_free(t->hash);
	t->hash = NULL;
}

int pmx_lcore_table_put(struct pmx_lcore_table *t, const struct pmx_flow_key *key, uint16_t value,
			uint64_t now)
{
	bool existed = rte_hash_lookup(t->hash, key) >= 0;

	if (rte_hash_add_key_data(t->hash, key, STAMP(now, value)) != 0) {
		t->full++;
		return -ENOSPC;
	}
	if (!existed)
		__atomic_store_n(&t->inserts, t->inserts + 1, __ATOMIC_RELEASE);
	return 0;
}

int pmx_lcore_table_get(const struct pmx_lcore_table *t, const struct pmx_flow_key *key,
			uint16_t *value)
{
	void *data;

	if (rte_hash_lookup_data(t->hash, key, &data) < 0)
		return 0;
	*value = STAMP_VALUE(data);
	return 1;
}

unsigned pmx_lcore_table_age(struct pmx_lcore_table *t, uint64_t now, uint64_t max_age,
			     unsigned budget)
{
	const void *key;
	void *data;
	unsigned deleted = 0;

	while (budget-- > 0) {
		int32_t pos = rte_hash_iterate(t->hash, &key, &data, &t->scan_next);

		if (pos < 0) {
			t->scan_next = 0; /* wrapped: start over next time */
			break;
		}
		if (now - STAMP_TSC(data) > max_age && rte_hash_del_key(t->hash, key) >= 0)
			deleted++;
	}
	return deleted;
}
