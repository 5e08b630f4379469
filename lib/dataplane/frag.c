/* frag.c - IP fragments (wire -> owners): the first fragment decides, later ones follow it,
 * across RX lcores; later fragments that arrive first are held briefly, then dropped */
#include <rte_cycles.h>

#include "stages.h"

/* The datagram a fragment belongs to, as a key of its own kind. */
static void frag_key(const struct pmx_pkt_info *pi, struct pmx_flow_key *k)
{
	memset(k, 0, sizeof(*k));
	k->kind = PMX_KEY_FRAG;
	k->proto = pi->key.proto;
	k->port_id = pi->key.port_id;
	k->local_port = (uint16_t)(pi->frag_id >> 16);
	k->remote_port = (uint16_t)pi->frag_id;
	memcpy(k->local_ip, pi->key.local_ip, 16);
	memcpy(k->remote_ip, pi->key.remote_ip, 16);
}

static uint16_t lookup_key(const struct pmx_worker *w, const struct pmx_flow_key *k);

/* Fragments a client sends are remembered apart from those received: port_id's top bit. */
#define TX_SIDE 0x8000u

void pmx_frag_tx_record(struct pmx_worker *w, const struct pmx_pkt_info *pi, uint16_t client)
{
	struct pmx_flow_key k;

	frag_key(pi, &k);
	k.port_id |= TX_SIDE;
	pmx_lcore_table_put(&w->frags, &k, client, rte_rdtsc());
}

uint16_t pmx_frag_tx_owner(struct pmx_worker *w, const struct pmx_pkt_info *pi)
{
	struct pmx_flow_key k;

	frag_key(pi, &k);
	k.port_id |= TX_SIDE;
	return lookup_key(w, &k);
}

void pmx_frag_record(struct pmx_worker *w, const struct pmx_pkt_info *pi, uint16_t dest)
{
	struct pmx_flow_key k;

	frag_key(pi, &k);
	pmx_lcore_table_put(&w->frags, &k, dest, rte_rdtsc());
}

/* Look the datagram up here first, then on the other RX lcores. */
static uint16_t lookup_key(const struct pmx_worker *w, const struct pmx_flow_key *k)
{
	uint16_t dest;

	return pmx_worker_table_get(w, PMX_TABLE_FRAGS, k, &dest) ? dest : PMX_OWNER_NONE;
}

uint16_t pmx_frag_lookup(struct pmx_worker *w, const struct pmx_pkt_info *pi)
{
	struct pmx_flow_key k;

	frag_key(pi, &k);
	return lookup_key(w, &k);
}

void pmx_frag_hold(struct pmx_worker *w, unsigned p, const struct pmx_pkt_info *pi,
		   struct rte_mbuf *m)
{
	struct pmx_frag_pending *fp;

	if (w->n_pending == PMX_FRAG_PENDING_MAX) {
		pmx_drop(w, PMX_DROP_FRAG_UNKNOWN, &m, 1);
		return;
	}
	fp = &w->pending[w->n_pending++];
	fp->m = m;
	fp->port = p;
	fp->since = rte_rdtsc();
	frag_key(pi, &fp->key);
}

static uint64_t all_frag_inserts(const struct pmx_switch *sw)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < sw->n_workers; i++)
		sum += __atomic_load_n(&sw->workers[i]->frags.inserts, __ATOMIC_ACQUIRE);
	return sum;
}

unsigned pmx_frag_poll(struct pmx_worker *w, bool idle)
{
	uint64_t now, hold = rte_get_tsc_hz() / 1000000 * PMX_FRAG_HOLD_US;
	uint64_t inserts;
	unsigned kept = 0, done = 0;

	if (w->n_pending == 0)
		return 0;
	/* retry only when some lcore saw a new first fragment, or to expire when idle */
	inserts = all_frag_inserts(w->sw);
	if (inserts == w->frag_inserts_seen && !idle)
		return 0;
	w->frag_inserts_seen = inserts;
	now = rte_rdtsc();
	for (unsigned i = 0; i < w->n_pending; i++) {
		struct pmx_frag_pending *fp = &w->pending[i];
		uint16_t dest = lookup_key(w, &fp->key);

		if (dest != PMX_OWNER_NONE) {
			/* fragments of a datagram hash alike (no ports): one queue */
			PMX_FLOW_QUEUE_HASH(fp->m) = pmx_flow_queue_hash(&fp->key, false);
			pmx_deliver(w, fp->port, dest, &fp->m, 1);
			done++;
		} else if (now - fp->since > hold) {
			pmx_drop(w, PMX_DROP_FRAG_UNKNOWN, &fp->m, 1);
			done++;
		} else {
			w->pending[kept++] = *fp;
		}
	}
	w->n_pending = kept;
	return done;
}
