/* client_registry.c - client slots: attach (rings, lcore id) and detach (rules, rings, mbufs) */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_lcore.h>
#include <rte_mempool.h>

#include "client_registry.h"

unsigned pmx_registry_client_lcore(const struct pmx_switch *sw, uint16_t id)
{
	return sw->client_lcore_base + id;
}

/* A slot's ring, created at its first attach and kept (a stale client can never write
 * into freed memory); returns the ring or NULL. */
static struct rte_ring *slot_ring(const struct pmx_switch *sw, struct rte_ring *ring, char *name,
				  uint16_t id, const char *dir, unsigned flags)
{
	snprintf(name, RTE_RING_NAMESIZE, PMX_RING_FMT, id, dir);
	if (ring != NULL)
		return ring;
	return rte_ring_create(name, sw->cfg->ring_size, rte_socket_id(), flags);
}

static unsigned drain_ring(struct rte_ring *ring)
{
	struct rte_mbuf *pkts[64];
	unsigned n, total = 0;

	if (ring == NULL)
		return 0;
	while ((n = rte_ring_dequeue_burst(ring, (void **)pkts, RTE_DIM(pkts), NULL)) > 0) {
		rte_pktmbuf_free_bulk(pkts, n);
		total += n;
	}
	return total;
}

int pmx_registry_attach(struct pmx_switch *sw, uint16_t port, struct pmx_attach_info *info)
{
	struct pmx_client_slot *slot = NULL;
	struct rte_mempool_cache *cache;
	uint16_t id;

	if (port >= sw->n_ports)
		return -EINVAL;
	for (id = 0; id < sw->clients_max; id++) {
		if (sw->clients[id].state == PMX_SLOT_FREE) {
			slot = &sw->clients[id];
			break;
		}
	}
	if (slot == NULL || pmx_registry_client_lcore(sw, id) >= RTE_MAX_LCORE)
		return -ENOSPC;

	/* RX ring: every RX lcore may produce (single producer when there is one lcore),
	 * only the client consumes. TX ring: only the client produces, one lcore consumes. */
	slot->rx_ring = slot_ring(sw, slot->rx_ring, info->rx_ring, id, "rx",
				  RING_F_SC_DEQ | (sw->n_workers == 1 ? RING_F_SP_ENQ : 0));
	slot->tx_ring = slot_ring(sw, slot->tx_ring, info->tx_ring, id, "tx",
				  RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (slot->rx_ring == NULL || slot->tx_ring == NULL)
		return -ENOMEM;
	/* whatever a previous client of this slot left behind goes back to the pool */
	drain_ring(slot->rx_ring);
	drain_ring(slot->tx_ring);
	cache = rte_mempool_default_cache(sw->pool, pmx_registry_client_lcore(sw, id));
	if (cache != NULL)
		rte_mempool_cache_flush(cache, sw->pool);

	slot->generation++;
	if (slot->generation == 0)
		slot->generation = 1;
	slot->port = port;
	slot->tx_worker = id % sw->n_workers;
	for (unsigned w = 0; w < sw->n_workers; w++)
		memset(&sw->workers[w]->client[id], 0, sizeof(sw->workers[w]->client[id]));

	/* publish: slot first, then state, then the bits that make RX lcores look at it */
	__atomic_store_n(&sw->shm->generation[id], slot->generation, __ATOMIC_RELEASE);
	__atomic_store_n(&slot->state, PMX_SLOT_ACTIVE, __ATOMIC_RELEASE);
	pmx_bitmap_set(sw->port_clients[port], id);
	pmx_bitmap_set(sw->workers[slot->tx_worker]->tx_bitmap, id);

	info->client_id = id;
	info->generation = slot->generation;
	info->lcore_id = pmx_registry_client_lcore(sw, id);
	return 0;
}

unsigned pmx_registry_detach(struct pmx_switch *sw, uint16_t id)
{
	struct pmx_client_slot *slot;

	if (id >= sw->clients_max || sw->clients[id].state != PMX_SLOT_ACTIVE)
		return 0;
	slot = &sw->clients[id];

	/* stop new deliveries, then wait until no RX lcore holds the slot or its rules */
	__atomic_store_n(&sw->shm->generation[id], 0, __ATOMIC_RELEASE);
	__atomic_store_n(&slot->state, PMX_SLOT_CLOSING, __ATOMIC_RELEASE);
	pmx_bitmap_clear(sw->port_clients[slot->port], id);
	pmx_bitmap_clear(sw->workers[slot->tx_worker]->tx_bitmap, id);
	pmx_flow_table_del_owner(sw->ft, id);
	pmx_flow_table_synchronize(sw->ft);

	unsigned freed = drain_ring(slot->rx_ring) + drain_ring(slot->tx_ring);

	__atomic_store_n(&slot->state, PMX_SLOT_FREE, __ATOMIC_RELEASE);
	return freed;
}

void pmx_registry_free_all(struct pmx_switch *sw)
{
	if (sw->clients == NULL)
		return;
	for (uint16_t id = 0; id < sw->clients_max; id++) {
		pmx_registry_detach(sw, id);
		rte_ring_free(sw->clients[id].rx_ring);
		rte_ring_free(sw->clients[id].tx_ring);
		sw->clients[id].rx_ring = sw->clients[id].tx_ring = NULL;
	}
}

void pmx_registry_client_counters(const struct pmx_switch *sw, uint16_t id,
				  struct pmx_client_counters *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned w = 0; w < sw->n_workers; w++) {
		const struct pmx_client_counters *c = &sw->workers[w]->client[id];

		out->rx += c->rx;
		out->ring_full += c->ring_full;
		out->tx += c->tx;
		out->spoofed += c->spoofed;
	}
}
