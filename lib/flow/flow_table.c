/* flow_table.c - the flow table: keys -> owners, one writer, lock-free RX-lcore readers */
#include <errno.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "flow_table.h"

/* Hash data packs the rule id above the owner so a lookup needs no second load. */
#define DATA_OWNER(d) ((uint16_t)((uintptr_t)(d) & 0xffff))
#define DATA_RULE(d) ((uint32_t)((uintptr_t)(d) >> 16))
#define DATA_PACK(rule, owner) ((void *)(((uintptr_t)(rule) << 16) | (owner)))

struct pmx_flow_table {
	struct rte_hash *hash;
	struct rte_rcu_qsbr *qsv;
	struct pmx_rule *rules; /* indexed by rule id (= hash position) */
	uint32_t id_limit;
	uint32_t n_rules;
	unsigned max_readers;
	uint64_t **hits; /* hits[reader][rule id], each array written by one reader */
};

_Static_assert(sizeof(uintptr_t) == 8, "hash data packs a 32-bit rule id and a 16-bit owner");

struct pmx_flow_table *pmx_flow_table_create(const char *name, uint32_t max_rules,
					     unsigned max_readers, int socket_id)
{
	struct pmx_flow_table *ft;
	char hname[RTE_HASH_NAMESIZE];

	if (max_rules < 8 || max_readers == 0 || max_readers > RTE_MAX_LCORE) {
		rte_errno = EINVAL;
		return NULL;
	}
	ft = rte_zmalloc_socket("pmx_flow_table", sizeof(*ft), RTE_CACHE_LINE_SIZE, socket_id);
	if (ft == NULL)
		goto fail_nomem;
	ft->max_readers = max_readers;

	snprintf(hname, sizeof(hname), "%s", name);
	struct rte_hash_parameters params = {
		.name = hname,
		.entries = max_rules,
		.key_len = sizeof(struct pmx_flow_key),
		.hash_func = rte_hash_crc,
		.socket_id = socket_id,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};
	ft->hash = rte_hash_create(&params);
	if (ft->hash == NULL)
		goto fail_free_ft;

	ft->qsv = rte_zmalloc_socket("pmx_flow_qsbr", rte_rcu_qsbr_get_memsize(max_readers),
				     RTE_CACHE_LINE_SIZE, socket_id);
	if (ft->qsv == NULL || rte_rcu_qsbr_init(ft->qsv, max_readers) != 0)
		goto fail_free_hash;
	struct rte_hash_rcu_config rcu = {
		.v = ft->qsv,
		.mode = RTE_HASH_QSBR_MODE_DQ,
	};
	if (rte_hash_rcu_qsbr_add(ft->hash, &rcu) != 0)
		goto fail_free_hash;

	ft->id_limit = (uint32_t)rte_hash_max_key_id(ft->hash) + 1;
	ft->rules = rte_zmalloc_socket("pmx_rules", sizeof(*ft->rules) * ft->id_limit,
				       RTE_CACHE_LINE_SIZE, socket_id);
	ft->hits = rte_zmalloc_socket("pmx_rule_hits", sizeof(*ft->hits) * max_readers, 0,
				      socket_id);
	if (ft->rules == NULL || ft->hits == NULL)
		goto fail_free_hash;
	for (unsigned r = 0; r < max_readers; r++) {
		ft->hits[r] = rte_zmalloc_socket("pmx_rule_hits", sizeof(uint64_t) * ft->id_limit,
						 RTE_CACHE_LINE_SIZE, socket_id);
		if (ft->hits[r] == NULL)
			goto fail_free_hash;
	}
	return ft;

fail_free_hash:
	pmx_flow_table_destroy(ft);
	rte_errno = ENOMEM;
	return NULL;
fail_free_ft:
	rte_free(ft);
fail_nomem:
	rte_errno = ENOMEM;
	return NULL;
}

void pmx_flow_table_destroy(struct pmx_flow_table *ft)
{
	if (ft == NULL)
		return;
	if (ft->hits != NULL)
		for (unsigned r = 0; r < ft->max_readers; r++)
			rte_free(ft->hits[r]);
	rte_free(ft->hits);
	rte_free(ft->rules);
	rte_hash_free(ft->hash);
	rte_free(ft->qsv);
	rte_free(ft);
}

int pmx_flow_table_reader_register(struct pmx_flow_table *ft, unsigned reader_id)
{
	if (reader_id >= ft->max_readers || rte_rcu_qsbr_thread_register(ft->qsv, reader_id))
		return -EINVAL;
	rte_rcu_qsbr_thread_online(ft->qsv, reader_id);
	return 0;
}

void pmx_flow_table_reader_unregister(struct pmx_flow_table *ft, unsigned reader_id)
{
	rte_rcu_qsbr_thread_offline(ft->qsv, reader_id);
	rte_rcu_qsbr_thread_unregister(ft->qsv, reader_id);
}

struct rte_rcu_qsbr *pmx_flow_table_qsbr(struct pmx_flow_table *ft)
{
	return ft->qsv;
}

void pmx_flow_table_quiescent(struct pmx_flow_table *ft, unsigned reader_id)
{
	rte_rcu_qsbr_quiescent(ft->qsv, reader_id);
}

void pmx_flow_table_synchronize(struct pmx_flow_table *ft)
{
	rte_rcu_qsbr_synchronize(ft->qsv, RTE_QSBR_THRID_INVALID);
}

static uint64_t sum_hits(const struct pmx_flow_table *ft, uint32_t rule_id)
{
	uint64_t sum = 0;

	for (unsigned r = 0; r < ft->max_readers; r++)
		sum += ft->hits[r][rule_id];
	return sum;
}

int pmx_flow_table_add(struct pmx_flow_table *ft, const struct pmx_flow_key *key, uint16_t owner,
		       enum pmx_rule_origin origin, uint32_t *rule_id)
{
	int32_t pos;
	int ret;

	if (key->kind < PMX_KEY_EXACT || key->kind > PMX_KEY_IP)
		return -EINVAL;
	*rule_id = pmx_flow_table_find(ft, key);
	if (*rule_id != PMX_RULE_NONE)
		return -EEXIST;

	/* The rule id is the key's position, known only once the key is in: add it with
	 * a rule id readers ignore, then publish the real one (an atomic data update). */
	ret = rte_hash_add_key_data(ft->hash, key, DATA_PACK(PMX_RULE_NONE, owner));
	if (ret < 0)
		return ret == -ENOSPC ? -ENOSPC : ret;
	pos = rte_hash_lookup(ft->hash, key);
	if (pos < 0 || (uint32_t)pos >= ft->id_limit) {
		rte_hash_del_key(ft->hash, key);
		return -ENOSPC;
	}
	struct pmx_rule *rule = &ft->rules[pos];
	rule->key = *key;
	rule->owner = owner;
	rule->origin = origin;
	rule->hits_base = sum_hits(ft, pos);
	rule->last_used = rte_rdtsc();
	rule->hits_seen = 0;
	rule->in_use = 1;
	rte_hash_add_key_data(ft->hash, key, DATA_PACK(pos, owner));
	ft->n_rules++;
	*rule_id = pos;
	return 0;
}

int pmx_flow_table_del(struct pmx_flow_table *ft, uint32_t rule_id)
{
	if (rule_id >= ft->id_limit || !ft->rules[rule_id].in_use)
		return -ENOENT;
	rte_hash_del_key(ft->hash, &ft->rules[rule_id].key);
	ft->rules[rule_id].in_use = 0;
	ft->n_rules--;
	return 0;
}

unsigned pmx_flow_table_del_owner(struct pmx_flow_table *ft, uint16_t owner)
{
	unsigned n = 0;

	for (uint32_t id = 0; id < ft->id_limit && ft->n_rules > 0; id++)
		if (ft->rules[id].in_use && ft->rules[id].owner == owner)
			n += pmx_flow_table_del(ft, id) == 0;
	return n;
}

uint32_t pmx_flow_table_find(const struct pmx_flow_table *ft, const struct pmx_flow_key *key)
{
	void *data;

	if (rte_hash_lookup_data(ft->hash, key, &data) < 0)
		return PMX_RULE_NONE;
	return DATA_RULE(data);
}

const struct pmx_rule *pmx_flow_table_rule(const struct pmx_flow_table *ft, uint32_t rule_id)
{
	if (rule_id >= ft->id_limit || !ft->rules[rule_id].in_use)
		return NULL;
	return &ft->rules[rule_id];
}

uint32_t pmx_flow_table_id_limit(const struct pmx_flow_table *ft)
{
	return ft->id_limit;
}

uint32_t pmx_flow_table_count(const struct pmx_flow_table *ft)
{
	return ft->n_rules;
}

uint64_t pmx_flow_table_hits(const struct pmx_flow_table *ft, uint32_t rule_id)
{
	if (rule_id >= ft->id_limit || !ft->rules[rule_id].in_use)
		return 0;
	return sum_hits(ft, rule_id) - ft->rules[rule_id].hits_base;
}

void pmx_flow_key_reduce(const struct pmx_flow_key *exact, enum pmx_key_kind kind, int any_ip,
			 struct pmx_flow_key *out)
{
	memset(out, 0, sizeof(*out));
	out->kind = kind;
	out->port_id = exact->port_id;
	if (kind == PMX_KEY_EXACT) {
		*out = *exact;
		out->kind = kind;
		return;
	}
	if (!any_ip)
		memcpy(out->local_ip, exact->local_ip, sizeof(out->local_ip));
	if (kind == PMX_KEY_LISTEN) {
		out->proto = exact->proto;
		out->local_port = exact->local_port;
	}
}

/* One lookup stage over the keys still unmatched (idx[0..m)); returns the new miss count. */
static unsigned classify_stage(struct pmx_flow_table *ft, unsigned reader_id, const void **kp,
			       unsigned *idx, unsigned m, uint16_t *owner)
{
	void *data[RTE_HASH_LOOKUP_BULK_MAX];
	uint64_t hit_mask = 0;
	uint64_t *hits = ft->hits[reader_id];
	unsigned misses = 0;

	if (rte_hash_lookup_bulk_data(ft->hash, kp, m, &hit_mask, data) == 0)
		return m;
	for (unsigned j = 0; j < m; j++) {
		if (hit_mask & (1ULL << j)) {
			uint32_t rule = DATA_RULE(data[j]);

			owner[idx[j]] = DATA_OWNER(data[j]);
			if (rule < ft->id_limit)
				hits[rule]++;
		} else {
			idx[misses] = idx[j];
			kp[misses] = kp[j];
			misses++;
		}
	}
	return misses;
}

void pmx_flow_table_classify_bulk(struct pmx_flow_table *ft, unsigned reader_id,
				  const struct pmx_flow_key *const *keys, unsigned n,
				  uint16_t *owner)
{
	static const struct {
		enum pmx_key_kind kind;
		int any_ip;
	} fallbacks[] = {
		{PMX_KEY_LISTEN, 0}, /* listening on this address */
		{PMX_KEY_LISTEN, 1}, /* listening on any address */
		{PMX_KEY_IP, 0},     /* the whole address is owned */
	};
	struct pmx_flow_key reduced[RTE_HASH_LOOKUP_BULK_MAX];
	const void *kp[RTE_HASH_LOOKUP_BULK_MAX];
	unsigned idx[RTE_HASH_LOOKUP_BULK_MAX];
	unsigned m = n;

	for (unsigned i = 0; i < n; i++) {
		owner[i] = PMX_OWNER_NONE;
		idx[i] = i;
		kp[i] = keys[i];
	}
	if (m == 0)
		return;
	m = classify_stage(ft, reader_id, kp, idx, m, owner);
	for (unsigned s = 0; s < RTE_DIM(fallbacks) && m > 0; s++) {
		for (unsigned j = 0; j < m; j++) {
			pmx_flow_key_reduce(keys[idx[j]], fallbacks[s].kind, fallbacks[s].any_ip,
					    &reduced[j]);
			kp[j] = &reduced[j];
		}
		m = classify_stage(ft, reader_id, kp, idx, m, owner);
	}
}
