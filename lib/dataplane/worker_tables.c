/* worker_tables.c - each RX lcore's own tables (first fragments, the kernel's connections) and
 * learning rings: created and freed by the management lcore, looked up by every RX lcore */
#include <errno.h>
#include <stdio.h>

#include <rte_lcore.h>

#include "stages.h"

#define FRAG_ENTRIES 4096
#define KCONN_ENTRIES 16384

int pmx_worker_init(struct pmx_worker *w)
{
	struct rte_rcu_qsbr *qsv = pmx_flow_table_qsbr(w->sw->ft);
	char name[RTE_HASH_NAMESIZE];
	int ret;

	snprintf(name, sizeof(name), "pmx_frag_w%u", w->id);
	ret = pmx_lcore_table_create(&w->frags, name, FRAG_ENTRIES, qsv, rte_socket_id());
	if (ret != 0)
		return ret;
	snprintf(name, sizeof(name), "pmx_kconn_w%u", w->id);
	ret = pmx_lcore_table_create(&w->kconns, name, KCONN_ENTRIES, qsv, rte_socket_id());
	if (ret != 0)
		goto fail_frags;
	/* learning: this lcore produces requests, the management lcore consumes, and back */
	snprintf(name, sizeof(name), "pmx_learn_req_w%u", w->id);
	w->learn_req = rte_ring_create(name, PMX_LEARN_RING_SIZE, rte_socket_id(),
				       RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "pmx_learn_ret_w%u", w->id);
	w->learn_ret = rte_ring_create(name, PMX_LEARN_RING_SIZE, rte_socket_id(),
				       RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (w->learn_req == NULL || w->learn_ret == NULL) {
		ret = -ENOMEM;
		goto fail_rings;
	}
	return 0;

fail_rings:
	rte_ring_free(w->learn_req);
	rte_ring_free(w->learn_ret);
	w->learn_req = w->learn_ret = NULL;
	pmx_lcore_table_destroy(&w->kconns);
fail_frags:
	pmx_lcore_table_destroy(&w->frags);
	return ret;
}

static void free_ring_frames(struct rte_ring *r)
{
	struct rte_mbuf *m;

	while (r != NULL && rte_ring_dequeue(r, (void **)&m) == 0)
		rte_pktmbuf_free(m);
}

void pmx_worker_fini(struct pmx_worker *w)
{
	for (unsigned i = 0; i < w->n_pending; i++)
		rte_pktmbuf_free(w->pending[i].m);
	w->n_pending = 0;
	free_ring_frames(w->learn_req);
	free_ring_frames(w->learn_ret);
	rte_ring_free(w->learn_req);
	rte_ring_free(w->learn_ret);
	w->learn_req = w->learn_ret = NULL;
	pmx_lcore_table_destroy(&w->frags);
	pmx_lcore_table_destroy(&w->kconns);
}

static const struct pmx_lcore_table *table_of(const struct pmx_worker *w,
					      enum pmx_worker_table which)
{
	return which == PMX_TABLE_FRAGS ? &w->frags : &w->kconns;
}

bool pmx_worker_table_get(const struct pmx_worker *w, enum pmx_worker_table which,
			  const struct pmx_flow_key *key, uint16_t *value)
{
	const struct pmx_switch *sw = w->sw;

	if (pmx_lcore_table_get(table_of(w, which), key, value))
		return true;
	for (unsigned i = 0; i < sw->n_workers; i++)
		if (sw->workers[i] != w &&
		    pmx_lcore_table_get(table_of(sw->workers[i], which), key, value))
			return true;
	return false;
}
