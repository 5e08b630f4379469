/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * lcore_table.h - per-RX-lcore flow memory (fragments seen, connections the kernel opened):
 * one writer (the lcore that owns the table), lock-free readers (every RX lcore), entries
 * aged by their writer. Key slots of deleted entries are reclaimed through the flow table's
 * RCU QSBR, so a reader on another lcore never reads a reused slot.
 */
#ifndef PMX_LCORE_TABLE_H
#define PMX_LCORE_TABLE_H

#include <stdint.h>

#include <rte_hash.h>
#include <rte_rcu_qsbr.h>

#include "pmx_packet.h"

struct pmx_lcore_table {
	struct rte_hash *hash; /**< key: struct pmx_flow_key; data: (tsc >> 16) << 16 | value */
	uint32_t scan_next;    /**< ageing cursor (writer only) */
	uint64_t inserts;      /**< new entries so far (writer stores, readers load) */
	uint64_t full;         /**< puts refused because the table was full */
};

/**
 * Create the table of `entries` keys. Not thread-safe.
 * @return 0, -ENOMEM or -EEXIST (name taken).
 */
int pmx_lcore_table_create(struct pmx_lcore_table *t, const char *name, uint32_t entries,
			   struct rte_rcu_qsbr *qsv, int socket_id);

/** Free the table. Accepts a table never created. */
void pmx_lcore_table_destroy(struct pmx_lcore_table *t);

/**
 * Add or refresh key -> value, stamped `now` (TSC). Writer lcore only.
 * @return 0, or -ENOSPC when the table is full (counted in t->full).
 */
int pmx_lcore_table_put(struct pmx_lcore_table *t, const struct pmx_flow_key *key, uint16_t value,
			uint64_t now);

/** Look up key. Any RX lcore, lock-free. @return 1 (*value set) or 0. */
int pmx_lcore_table_get(const struct pmx_lcore_table *t, const struct pmx_flow_key *key,
			uint16_t *value);

/**
 * Delete entries older than max_age TSC cycles, looking at no more than `budget` entries
 * from where the last call stopped. Writer lcore only. @return entries deleted.
 */
unsigned pmx_lcore_table_age(struct pmx_lcore_table *t, uint64_t now, uint64_t max_age,
			     unsigned budget);

#endif
