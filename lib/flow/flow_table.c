/* flow_table.c - the flow table: keys -> owners, one writer, lock-free RX-lcore readers */
#include <errno.h>
#include <string.h>
#ifdef __SSE4_2__
#include <nmmintrin.h>
#endif

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "flow_table.h"

/* Hash data packs the rule id above the owner so a lookup needs no second load. */
#define DATA_OWNER(d) ((uint16_t)((uintptr_t)(d)&0xffff))
#define DATA_RULE(d) ((uint32_t)((uintptr_t)(d) >> 16))
#define DATA_PACK(rule, owner) ((void *)(((uintptr_t)(rule) << 16) | (owner)))

/*
 * The lookup stages. Lookup order (pmx_flow_table_classify_bulk): exact 5-tuple, peer (usnetd's
 * match with src_addr and no src_port), listening on the address, listening on any address,
 * whole protocol from one peer, whole protocol (usnetd's match without dst_port), owned IP:
 * the most specific rule wins. A frame is looked up in a stage only when the stage may hold
 * its rule: each local port (raw key value) has a byte whose bit st says that port stage st
 * (exact, listen on the address, listen on any) has at least one rule; the three
 * protocol-wide stages keep a bitmap of the IP protocols that have one, the IP stage a count.
 * A reader loads a frame's byte once for all port stages, and skips a stage that no frame of
 * the burst may find. The writer keeps a rule count behind each bit and publishes with release
 * stores; a reader that sees a bit late misses a rule that was being added, as if it had come
 * a moment later. Without peer or protocol-wide rules (usnetd's matches) their stages cost one
 * load per burst: each also keeps a count of its rules.
 */
enum stage {
	STAGE_EXACT,
	STAGE_LISTEN_IP,
	STAGE_LISTEN_ANY,
	STAGE_PEER,
	STAGE_PROTO_PEER,
	STAGE_PROTO,
	STAGE_IP,
	N_STAGES
};
#define N_PORT_STAGES STAGE_PEER
#define FIRST_PROTO_STAGE STAGE_PEER
#define N_PROTO_STAGES (STAGE_IP - STAGE_PEER)

/*
 * A local port's only rule of a listen stage is also found without the hash: direct[st][port]
 * packs it (DIRECT_PACK), 0 while the port has no rule or several of that stage (the hash
 * then). The listen-on-address stage keeps that rule's address in direct_ip[port], written
 * before the entry is published; a reader compares it between two loads of the entry (the
 * writer clears an entry before it writes another address under it), so it never pairs an
 * address with another rule. The writer sets an entry when a port's first rule of the stage
 * comes, clears it when a second comes or the first goes (a port left with one rule of two
 * keeps using the hash), and rewrites it when the rule's owner changes.
 */
#define DIRECT_STAGE(st) ((st)-STAGE_LISTEN_IP) /* LISTEN_IP, LISTEN_ANY -> 0, 1 */
#define DIRECT_PACK(proto, port_id, owner, rule)                                                   \
	((uint64_t)(proto) << 56 | (uint64_t)((port_id) + 1) << 48 | (uint64_t)(owner) << 32 |     \
	 (uint32_t)(rule))
#define DIRECT_MATCH(e, proto, port_id)                                                            \
	((e) >> 56 == (proto) && (((e) >> 48) & 0xff) == (uint64_t)(port_id) + 1)
#define DIRECT_OWNER(e) ((uint16_t)((e) >> 32))
#define DIRECT_RULE(e) ((uint32_t)(e))

struct pmx_flow_table {
	uint8_t port_stages[65536]; /* bit st: port stage st has rules; readers, one writer */
	uint64_t proto_bits[N_PROTO_STAGES][256 / 64]; /* ditto */
	uint32_t n_proto_stage[N_PROTO_STAGES];        /* ditto: rules per protocol stage */
	uint32_t n_ip_rules;                           /* ditto */
	uint32_t *port_rules[N_PORT_STAGES];           /* writer only: rules per local port */
	uint32_t proto_rules[N_PROTO_STAGES][256];     /* writer only: rules per protocol */
	uint64_t *direct[2];      /* [DIRECT_STAGE(st)][local port]: the only rule, or 0 */
	uint8_t (*direct_ip)[16]; /* [local port]: the address of direct[0]'s rule */
	struct rte_hash *hash;
	struct rte_rcu_qsbr *qsv;
	struct pmx_rule *rules; /* indexed by rule id (= hash position) */
	uint32_t id_limit;
	uint32_t n_rules;
	unsigned max_readers;
	uint64_t **hits; /* hits[reader][rule id], each array written by one reader */
};

_Static_assert(sizeof(uintptr_t) == 8, "hash data packs a 32-bit rule id and a 16-bit owner");
_Static_assert(sizeof(struct pmx_flow_key) % 8 == 0, "keys are hashed and compared in words");

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
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF |
			      RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
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
	for (unsigned st = 0; st < N_PORT_STAGES; st++) {
		ft->port_rules[st] = rte_zmalloc_socket("pmx_port_rules", sizeof(uint32_t) * 65536,
							0, socket_id);
		if (ft->port_rules[st] == NULL)
			goto fail_free_hash;
	}
	for (unsigned d = 0; d < RTE_DIM(ft->direct); d++) {
		ft->direct[d] = rte_zmalloc_socket("pmx_direct", sizeof(uint64_t) * 65536,
						   RTE_CACHE_LINE_SIZE, socket_id);
		if (ft->direct[d] == NULL)
			goto fail_free_hash;
	}
	ft->direct_ip = rte_zmalloc_socket("pmx_direct_ip", 16 * 65536, RTE_CACHE_LINE_SIZE,
					   socket_id);
	if (ft->direct_ip == NULL)
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
	for (unsigned st = 0; st < N_PORT_STAGES; st++)
		rte_free(ft->port_rules[st]);
	for (unsigned d = 0; d < RTE_DIM(ft->direct); d++)
		rte_free(ft->direct[d]);
	rte_free(ft->direct_ip);
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

static int key_is_any_ip(const struct pmx_flow_key *key)
{
	static const uint8_t zero[16];

	return memcmp(key->local_ip, zero, sizeof(zero)) == 0;
}

static int key_remote_is_any(const struct pmx_flow_key *key)
{
	static const uint8_t zero[16];

	return memcmp(key->remote_ip, zero, sizeof(zero)) == 0;
}

/* The stage a rule's key is looked up in. */
static enum stage stage_of(const struct pmx_flow_key *key)
{
	if (key->kind == PMX_KEY_EXACT)
		return STAGE_EXACT;
	if (key->kind == PMX_KEY_LISTEN)
		return key_is_any_ip(key) ? STAGE_LISTEN_ANY : STAGE_LISTEN_IP;
	if (key->kind == PMX_KEY_PEER)
		return STAGE_PEER;
	if (key->kind == PMX_KEY_PROTO)
		return key_remote_is_any(key) ? STAGE_PROTO : STAGE_PROTO_PEER;
	return STAGE_IP;
}

/* Writer side: bit b of bits[] set while count is non-zero, published with release stores. */
static void publish_bit(uint64_t *bits, uint32_t *count, unsigned b, int delta)
{
	uint64_t *word = &bits[b / 64], bit = 1ULL << (b % 64);
	uint32_t n = *count += delta;

	if (n == 0)
		__atomic_store_n(word, *word & ~bit, __ATOMIC_RELEASE);
	else if (n == 1 && delta > 0)
		__atomic_store_n(word, *word | bit, __ATOMIC_RELEASE);
}

/* Writer side: the direct entry of a listen stage's port (st, port), set to e (0: none). */
static void direct_set(struct pmx_flow_table *ft, enum stage st, const struct pmx_flow_key *key,
		       uint64_t e)
{
	uint64_t *entry = &ft->direct[DIRECT_STAGE(st)][key->local_port];

	if (*entry != 0)
		__atomic_store_n(entry, 0, __ATOMIC_RELEASE);
	if (e == 0)
		return;
	if (st == STAGE_LISTEN_IP) /* the address first, then the entry that vouches for it */
		memcpy(ft->direct_ip[key->local_port], key->local_ip, 16);
	__atomic_store_n(entry, e, __ATOMIC_RELEASE);
}

/* Writer side: one rule more (delta 1) or less (-1) in its stage; publishes the change. */
static void stage_count(struct pmx_flow_table *ft, const struct pmx_flow_key *key, int delta,
			uint32_t rule_id, uint16_t owner)
{
	enum stage st = stage_of(key);
	uint16_t port = key->local_port;
	uint8_t *mask = &ft->port_stages[port], bit = (uint8_t)(1u << st);
	uint32_t n;

	if (st == STAGE_IP) {
		__atomic_store_n(&ft->n_ip_rules, ft->n_ip_rules + delta, __ATOMIC_RELEASE);
		return;
	}
	if (st >= FIRST_PROTO_STAGE) {
		unsigned s = st - FIRST_PROTO_STAGE;

		publish_bit(ft->proto_bits[s], &ft->proto_rules[s][key->proto], key->proto, delta);
		__atomic_store_n(&ft->n_proto_stage[s], ft->n_proto_stage[s] + delta,
				 __ATOMIC_RELEASE);
		return;
	}
	n = ft->port_rules[st][port] += delta;
	if (st != STAGE_EXACT)
		direct_set(ft, st, key,
			   n == 1 && delta > 0 && key->port_id < UINT8_MAX
				   ? DIRECT_PACK(key->proto, key->port_id, owner, rule_id)
				   : 0);
	if (n == 0)
		__atomic_store_n(mask, (uint8_t)(*mask & ~bit), __ATOMIC_RELEASE);
	else if (n == 1 && delta > 0)
		__atomic_store_n(mask, (uint8_t)(*mask | bit), __ATOMIC_RELEASE);
}

int pmx_flow_table_add(struct pmx_flow_table *ft, const struct pmx_flow_key *key, uint16_t owner,
		       enum pmx_rule_origin origin, uint32_t *rule_id)
{
	int32_t pos;
	int ret;

	if (key->kind < PMX_KEY_EXACT || key->kind > PMX_KEY_PROTO || key->kind == PMX_KEY_FRAG)
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
	stage_count(ft, key, 1, (uint32_t)pos, owner);
	ft->n_rules++;
	*rule_id = pos;
	return 0;
}

int pmx_flow_table_del(struct pmx_flow_table *ft, uint32_t rule_id)
{
	if (rule_id >= ft->id_limit || !ft->rules[rule_id].in_use)
		return -ENOENT;
	rte_hash_del_key(ft->hash, &ft->rules[rule_id].key);
	stage_count(ft, &ft->rules[rule_id].key, -1, rule_id, ft->rules[rule_id].owner);
	ft->rules[rule_id].in_use = 0;
	ft->n_rules--;
	return 0;
}

int pmx_flow_table_set_owner(struct pmx_flow_table *ft, uint32_t rule_id, uint16_t owner)
{
	struct pmx_rule *rule;
	enum stage st;

	if (rule_id >= ft->id_limit || !ft->rules[rule_id].in_use)
		return -ENOENT;
	rule = &ft->rules[rule_id];
	/* adding a key that is in the table replaces its data in place (lock-free readers) */
	if (rte_hash_add_key_data(ft->hash, &rule->key, DATA_PACK(rule_id, owner)) < 0)
		return -ENOENT;
	rule->owner = owner;
	st = stage_of(&rule->key);
	if (st == STAGE_LISTEN_IP || st == STAGE_LISTEN_ANY) {
		const uint64_t *entry = &ft->direct[DIRECT_STAGE(st)][rule->key.local_port];

		if (*entry != 0 && DIRECT_RULE(*entry) == rule_id)
			direct_set(ft, st, &rule->key,
				   DIRECT_PACK(rule->key.proto, rule->key.port_id, owner, rule_id));
	}
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

#define ALL16                                                                                      \
	{                                                                                          \
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,      \
			0xff, 0xff, 0xff                                                           \
	}

/* What each stage keeps of an exact key (the rest is zeroed), and the kind it sets. */
static const struct pmx_flow_key stage_keep[N_STAGES] = {
	[STAGE_EXACT] = {0, 0xff, 0xffff, 0xffff, 0xffff, ALL16, ALL16},
	[STAGE_LISTEN_IP] = {0, 0xff, 0xffff, 0xffff, 0, ALL16, {0}},
	[STAGE_LISTEN_ANY] = {0, 0xff, 0xffff, 0xffff, 0, {0}, {0}},
	[STAGE_PEER] = {0, 0xff, 0xffff, 0xffff, 0, ALL16, ALL16},
	[STAGE_PROTO_PEER] = {0, 0xff, 0xffff, 0, 0, ALL16, ALL16},
	[STAGE_PROTO] = {0, 0xff, 0xffff, 0, 0, ALL16, {0}},
	[STAGE_IP] = {0, 0, 0xffff, 0, 0, ALL16, {0}},
};
static const struct pmx_flow_key stage_kind[N_STAGES] = {
	[STAGE_EXACT] = {.kind = PMX_KEY_EXACT},
	[STAGE_LISTEN_IP] = {.kind = PMX_KEY_LISTEN},
	[STAGE_LISTEN_ANY] = {.kind = PMX_KEY_LISTEN},
	[STAGE_PEER] = {.kind = PMX_KEY_PEER},
	[STAGE_PROTO_PEER] = {.kind = PMX_KEY_PROTO},
	[STAGE_PROTO] = {.kind = PMX_KEY_PROTO},
	[STAGE_IP] = {.kind = PMX_KEY_IP},
};

#define KEY_WORDS (sizeof(struct pmx_flow_key) / 8)

/* The table's hash of a key held as words: rte_hash_crc(key, 40, 0), inline (no call through
 * the table's function pointer, no length loop). Where the build targets SSE4.2 (DPDK's
 * -march), the CRC32C instruction itself, unrolled: rte_hash_crc_8byte() tests the algorithm
 * it picked at start-up on every word. Both give the same CRC32C (tests/unit/test_flow_table.c
 * compares pmx_flow_key_hash() with rte_hash_crc()). */
static __rte_always_inline hash_sig_t words_hash(const uint64_t w[KEY_WORDS])
{
#ifdef __SSE4_2__
	uint64_t h = 0;

	for (unsigned i = 0; i < KEY_WORDS; i++)
		h = _mm_crc32_u64(h, w[i]);
	return (hash_sig_t)h;
#else
	uint32_t h = 0;

	for (unsigned i = 0; i < KEY_WORDS; i++)
		h = rte_hash_crc_8byte(w[i], h);
	return h;
#endif
}

/* The key of stage st derived from an exact key, word by word (no partial stores for the
 * hash to stall on); returns its hash. */
static __rte_always_inline hash_sig_t stage_key(const struct pmx_flow_key *exact, enum stage st,
						struct pmx_flow_key *out)
{
	uint64_t w[KEY_WORDS], keep[KEY_WORDS], kind[KEY_WORDS];

	memcpy(w, exact, sizeof(w));
	memcpy(keep, &stage_keep[st], sizeof(keep));
	memcpy(kind, &stage_kind[st], sizeof(kind));
	for (unsigned i = 0; i < KEY_WORDS; i++)
		w[i] = (w[i] & keep[i]) | kind[i];
	memcpy(out, w, sizeof(w));
	return words_hash(w);
}

void pmx_flow_key_reduce(const struct pmx_flow_key *exact, enum pmx_key_kind kind, int any_ip,
			 struct pmx_flow_key *out)
{
	enum stage st = kind == PMX_KEY_EXACT   ? STAGE_EXACT
			: kind == PMX_KEY_IP    ? STAGE_IP
			: kind == PMX_KEY_PEER  ? STAGE_PEER
			: kind == PMX_KEY_PROTO ? (any_ip ? STAGE_PROTO : STAGE_PROTO_PEER)
			: any_ip                ? STAGE_LISTEN_ANY
						: STAGE_LISTEN_IP;

	stage_key(exact, st, out);
}

/* The table's hash of a key. */
static __rte_always_inline hash_sig_t key_hash(const struct pmx_flow_key *key)
{
	uint64_t w[KEY_WORDS];

	memcpy(w, key, sizeof(w));
	return words_hash(w);
}

hash_sig_t pmx_flow_key_hash(const struct pmx_flow_key *key)
{
	return key_hash(key);
}

/* Reader side: may protocol stage st hold a rule for this key's protocol? */
static __rte_always_inline int proto_may_hold(const struct pmx_flow_table *ft, enum stage st,
					      const struct pmx_flow_key *key)
{
	const uint64_t *word = &ft->proto_bits[st - FIRST_PROTO_STAGE][key->proto / 64];

	return (__atomic_load_n(word, __ATOMIC_ACQUIRE) >> (key->proto % 64)) & 1;
}

/* Reader side: a listen stage's port with one rule decides alone: 1 (matched: *owner set, hit
 * counted) or 0 (not this rule, so no rule of the stage); -1: no entry, or it changed while
 * read (the hash decides). */
static __rte_always_inline int direct_lookup(const struct pmx_flow_table *ft, enum stage st,
					     const struct pmx_flow_key *k, uint16_t *owner,
					     uint64_t *hits)
{
	const uint64_t *entry = &ft->direct[DIRECT_STAGE(st)][k->local_port];
	uint64_t e = __atomic_load_n(entry, __ATOMIC_ACQUIRE);

	if (e == 0)
		return -1;
	if (!DIRECT_MATCH(e, k->proto, k->port_id))
		return 0;
	if (st == STAGE_LISTEN_IP) {
		uint64_t a[2], b[2];

		memcpy(a, ft->direct_ip[k->local_port], 16);
		memcpy(b, k->local_ip, 16);
		__atomic_thread_fence(__ATOMIC_ACQUIRE); /* the address read before the check */
		if (__atomic_load_n(entry, __ATOMIC_RELAXED) != e)
			return -1;
		if (((a[0] ^ b[0]) | (a[1] ^ b[1])) != 0)
			return 0;
	}
	*owner = DIRECT_OWNER(e);
	if (DIRECT_RULE(e) < ft->id_limit)
		hits[DIRECT_RULE(e)]++;
	return 1;
}

/*
 * One lookup stage over the keys still unmatched (idx[0..m), indexes into keys), in bulk, for
 * those whose rule the stage may hold. Sets the owner of each match; returns the unmatched
 * ones, in order, in idx[0..return).
 */
static __rte_always_inline unsigned classify_stage(struct pmx_flow_table *ft, unsigned reader_id,
						   enum stage st,
						   const struct pmx_flow_key *const *keys,
						   const uint8_t *may, unsigned *idx, unsigned m,
						   uint16_t *owner)
{
	struct pmx_flow_key reduced[RTE_HASH_LOOKUP_BULK_MAX];
	const void *kp[RTE_HASH_LOOKUP_BULK_MAX];
	void *data[RTE_HASH_LOOKUP_BULK_MAX];
	hash_sig_t sig[RTE_HASH_LOOKUP_BULK_MAX];
	uint8_t at[RTE_HASH_LOOKUP_BULK_MAX]; /* candidate c is idx[at[c]] */
	uint64_t hit_mask = 0, matched = 0;
	uint64_t *hits = ft->hits[reader_id];
	unsigned c = 0, misses = 0;

	for (unsigned j = 0; j < m; j++) {
		const struct pmx_flow_key *k = keys[idx[j]];

		if (st < N_PORT_STAGES && !(may[idx[j]] & (1u << st)))
			continue; /* no rule of the stage on the frame's port */
		if (st >= FIRST_PROTO_STAGE && st < STAGE_IP && !proto_may_hold(ft, st, k))
			continue; /* no rule of the stage for the frame's protocol */
		if (st == STAGE_LISTEN_IP || st == STAGE_LISTEN_ANY) {
			int d = direct_lookup(ft, st, k, &owner[idx[j]], hits);

			if (d > 0)
				matched |= 1ULL << j;
			if (d >= 0) /* decided without the hash: the port's only rule */
				continue;
		}
		if (st == STAGE_EXACT) { /* the parsed key itself */
			sig[c] = key_hash(k);
			kp[c] = k;
		} else {
			sig[c] = stage_key(k, st, &reduced[c]);
			kp[c] = &reduced[c];
		}
		at[c++] = (uint8_t)j;
	}
	if (c > 0)
		rte_hash_lookup_with_hash_bulk_data(ft->hash, kp, sig, c, &hit_mask, data);
	if (hit_mask == 0 && matched == 0)
		return m;
	for (uint64_t left = hit_mask; left != 0; left &= left - 1) {
		unsigned t = (unsigned)__builtin_ctzll(left);
		uint32_t rule = DATA_RULE(data[t]);

		owner[idx[at[t]]] = DATA_OWNER(data[t]);
		if (rule < ft->id_limit)
			hits[rule]++;
		matched |= 1ULL << at[t];
	}
	if ((unsigned)__builtin_popcountll(matched) == m)
		return 0; /* all matched */
	for (unsigned j = 0; j < m; j++)
		if (!(matched & (1ULL << j)))
			idx[misses++] = idx[j];
	return misses;
}

/* Reader side: may protocol stage st hold any rule at all? (once per burst) */
static inline bool proto_stage_used(const struct pmx_flow_table *ft, enum stage st)
{
	return __atomic_load_n(&ft->n_proto_stage[st - FIRST_PROTO_STAGE], __ATOMIC_ACQUIRE) != 0;
}

void pmx_flow_table_classify_bulk(struct pmx_flow_table *ft, unsigned reader_id,
				  const struct pmx_flow_key *const *keys, unsigned n,
				  uint16_t *owner)
{
	unsigned idx[RTE_HASH_LOOKUP_BULK_MAX];
	uint8_t may[RTE_HASH_LOOKUP_BULK_MAX]; /* the port stages each frame may find */
	unsigned m = n, stages = 0;

	RTE_ASSERT(n <= RTE_HASH_LOOKUP_BULK_MAX);
	for (unsigned i = 0; i < n; i++) {
		owner[i] = PMX_OWNER_NONE;
		idx[i] = i;
		may[i] = __atomic_load_n(&ft->port_stages[keys[i]->local_port], __ATOMIC_ACQUIRE);
		stages |= may[i];
	}
	if (__atomic_load_n(&ft->n_ip_rules, __ATOMIC_ACQUIRE) != 0)
		stages |= 1u << STAGE_IP;
	for (enum stage st = FIRST_PROTO_STAGE; st < STAGE_IP; st++)
		if (proto_stage_used(ft, st))
			stages |= 1u << st;
	/* one call per stage, so each is compiled for its stage; none for a stage no frame of
	 * the burst may find */
	if (m > 0 && (stages & 1u << STAGE_EXACT))
		m = classify_stage(ft, reader_id, STAGE_EXACT, keys, may, idx, m, owner);
	if (m > 0 && (stages & 1u << STAGE_PEER))
		m = classify_stage(ft, reader_id, STAGE_PEER, keys, may, idx, m, owner);
	if (m > 0 && (stages & 1u << STAGE_LISTEN_IP))
		m = classify_stage(ft, reader_id, STAGE_LISTEN_IP, keys, may, idx, m, owner);
	if (m > 0 && (stages & 1u << STAGE_LISTEN_ANY))
		m = classify_stage(ft, reader_id, STAGE_LISTEN_ANY, keys, may, idx, m, owner);
	if (m > 0 && (stages & 1u << STAGE_PROTO_PEER))
		m = classify_stage(ft, reader_id, STAGE_PROTO_PEER, keys, may, idx, m, owner);
	if (m > 0 && (stages & 1u << STAGE_PROTO))
		m = classify_stage(ft, reader_id, STAGE_PROTO, keys, may, idx, m, owner);
	if (m > 0 && (stages & 1u << STAGE_IP))
		classify_stage(ft, reader_id, STAGE_IP, keys, may, idx, m, owner);
}
