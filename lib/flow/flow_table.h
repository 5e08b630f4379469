/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * flow_table.h - who owns which flow: rte_hash of 40-byte keys -> (rule id, owner).
 *
 * One writer (the management lcore) and many lock-free readers (the RX lcores).
 * Key slots of deleted rules are reclaimed through RCU QSBR: every reader registers
 * with pmx_flow_table_reader_register() and reports quiescent states once per loop.
 * The rule id of a rule is the hash position of its key, so it is reused only after
 * every reader has passed a quiescent state.
 */
#ifndef PMX_FLOW_TABLE_H
#define PMX_FLOW_TABLE_H

#include <stdint.h>

#include <rte_common.h>
#include <rte_hash.h>
#include <rte_rcu_qsbr.h>

#include "pmx_packet.h"

#define PMX_OWNER_NONE 0xffffu   /**< no rule matched */
#define PMX_OWNER_KERNEL 0xfffeu /**< a rule that steers to the kernel (admin, learned) */
#define PMX_OWNER_DROP 0xfffdu   /**< a rule that drops (admin) */
#define PMX_OWNER_ABSENT 0xfffcu /**< a config rule whose client is not attached: drops */
#define PMX_RULE_NONE UINT32_MAX

/** How a rule came to be. */
enum pmx_rule_origin {
	PMX_ORIGIN_CLIENT = 0, /**< listen/connect/claim_ip from a client */
	PMX_ORIGIN_ADMIN,      /**< rule_add by an operator */
	PMX_ORIGIN_LEARNED,    /**< learned from TX (client connect, kernel firewall) */
	PMX_ORIGIN_CONFIG,     /**< the config file's "rules": owned by a client name */
};

/** Control-side view of one rule. Written by the management lcore only. */
struct pmx_rule {
	struct pmx_flow_key key;
	uint16_t owner;
	uint8_t in_use;
	uint8_t origin;     /**< enum pmx_rule_origin */
	uint64_t hits_base; /**< sum of reader hit counters when the rule was added */
	uint64_t last_used; /**< TSC when the management lcore last saw its hits grow */
	uint64_t hits_seen; /**< hits at that time (learned-rule ageing) */
};

struct pmx_flow_table;

/**
 * Create a table for max_rules rules and up to max_readers RX lcores.
 * Not thread-safe. @return the table, or NULL with rte_errno set (ENOMEM, EINVAL, EEXIST).
 */
struct pmx_flow_table *pmx_flow_table_create(const char *name, uint32_t max_rules,
					     unsigned max_readers, int socket_id);

/** Destroy a table; no reader may use it any more. Accepts NULL. */
void pmx_flow_table_destroy(struct pmx_flow_table *ft);

/**
 * Register reader `reader_id` (0..max_readers-1) and mark it online.
 * Call from the reader's lcore before its first lookup. @return 0 or -EINVAL.
 */
int pmx_flow_table_reader_register(struct pmx_flow_table *ft, unsigned reader_id);

/** Unregister a reader (it stops reporting quiescent states). */
void pmx_flow_table_reader_unregister(struct pmx_flow_table *ft, unsigned reader_id);

/** The QSBR variable readers report to (for other lock-free tables of the RX lcores). */
struct rte_rcu_qsbr *pmx_flow_table_qsbr(struct pmx_flow_table *ft);

/** Report that reader_id holds no reference into the table. Reader-only, lock-free. */
void pmx_flow_table_quiescent(struct pmx_flow_table *ft, unsigned reader_id);

/**
 * Wait until every registered reader has passed a quiescent state, so nothing looked up
 * before this call is still in use. Writer only; blocks (microseconds while readers poll).
 */
void pmx_flow_table_synchronize(struct pmx_flow_table *ft);

/**
 * Add a rule. Writer only (management lcore); safe against concurrent readers.
 * @return 0 (*rule_id set), -EEXIST when the same key is already a rule (*rule_id set to
 *         it), -ENOSPC when the table is full, -EINVAL for a bad key kind (PMX_KEY_FRAG or
 *         unknown).
 */
int pmx_flow_table_add(struct pmx_flow_table *ft, const struct pmx_flow_key *key, uint16_t owner,
		       enum pmx_rule_origin origin, uint32_t *rule_id);

/**
 * Delete rule rule_id. Writer only. Its key slot (and id) is reused only after readers
 * passed a quiescent state. @return 0 or -ENOENT.
 */
int pmx_flow_table_del(struct pmx_flow_table *ft, uint32_t rule_id);

/**
 * Give rule rule_id to `owner`. Writer only; readers see the old owner or the new one (the
 * hash data is updated atomically), so frames looked up before the call may still go to the
 * old owner until the next synchronize. @return 0 or -ENOENT.
 */
int pmx_flow_table_set_owner(struct pmx_flow_table *ft, uint32_t rule_id, uint16_t owner);

/** Delete every rule of `owner`. Writer only. @return the number deleted. */
unsigned pmx_flow_table_del_owner(struct pmx_flow_table *ft, uint16_t owner);

/** Find the rule with exactly this key. Writer side. @return rule id or PMX_RULE_NONE. */
uint32_t pmx_flow_table_find(const struct pmx_flow_table *ft, const struct pmx_flow_key *key);

/** The rule with this id, or NULL if none is in use. Writer side. */
const struct pmx_rule *pmx_flow_table_rule(const struct pmx_flow_table *ft, uint32_t rule_id);

/** Highest possible rule id + 1 (iterate 0..limit with pmx_flow_table_rule()). */
uint32_t pmx_flow_table_id_limit(const struct pmx_flow_table *ft);

/** Number of rules in use. */
uint32_t pmx_flow_table_count(const struct pmx_flow_table *ft);

/** Hits of a rule since it was added, summed over readers. Writer side, approximate. */
uint64_t pmx_flow_table_hits(const struct pmx_flow_table *ft, uint32_t rule_id);

/**
 * Classify n (<= 64) parsed keys, reader side, lock-free: exact 5-tuple, then peer (proto,
 * local ip:port, remote ip), then listening (proto, local ip, local port), then listening on
 * any address, then the whole protocol from one remote ip (proto, local ip, remote ip), then
 * the whole protocol (proto, local ip), then owned IP. A stage without rules for the frame's
 * local port (port stages) or protocol (peer and protocol stages) costs no hash lookup.
 * keys[i]->kind must be PMX_KEY_EXACT and keys[i]->port_id set; keys are not modified.
 * owner[i] receives the owning client id, PMX_OWNER_KERNEL/DROP/ABSENT, or PMX_OWNER_NONE.
 * Counts a hit per matched rule for reader_id.
 */
void pmx_flow_table_classify_bulk(struct pmx_flow_table *ft, unsigned reader_id,
				  const struct pmx_flow_key *const *keys, unsigned n,
				  uint16_t *owner);

/** The flow table's hash of a key (rte_hash_crc over its 40 bytes, init 0). Thread-safe. */
hash_sig_t pmx_flow_key_hash(const struct pmx_flow_key *key);

/** Derive the key of `kind` from an exact key (zeroing what that kind ignores). any_ip: for
 * PMX_KEY_LISTEN the local ip becomes any, for PMX_KEY_PROTO the remote ip does. */
void pmx_flow_key_reduce(const struct pmx_flow_key *exact, enum pmx_key_kind kind, int any_ip,
			 struct pmx_flow_key *out);

#endif
