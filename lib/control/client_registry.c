/* client_registry.c - client slots: attach (rings, lcore id) and detach (rules, rings, mbufs) */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_lcore.h>
#include <rte_mempool.h>

#include "client_registry.h"
#include "flow_offload.h"
#include "latency.h"
#include "mbuf_home.h"
#include "memif_server.h"
#include "pmx_log.h"
#include "uds_pump.h"

unsigned pmx_registry_client_lcore(const struct pmx_switch *sw, uint16_t id)
{
	return sw->client_lcore_base + id;
}

/* A slot's ring, created at its first attach and kept (a stale client can never write
 * into freed memory); returns the ring or NULL. */
static struct rte_ring *slot_ring(const struct pmx_switch *sw, struct rte_ring *ring, char *name,
				  uint16_t id, const char *dir, unsigned q, unsigned flags)
{
	snprintf(name, RTE_RING_NAMESIZE, PMX_RING_FMT, id, dir, q);
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

/* Where memif clients connect: one socket beside the control socket (so it shares its
 * permissions), every client told apart by its interface id (= slot id). */
static int memif_socket_path(const struct pmx_switch *sw, char *path, size_t len)
{
	const char *slash = strrchr(sw->cfg->socket_path, '/');

	if (slash == NULL)
		return -EINVAL;
	if ((size_t)snprintf(path, len, "%.*s/memif.sock", (int)(slash - sw->cfg->socket_path),
			     sw->cfg->socket_path) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* Slot id may connect as a memif client: the first one opens the memif socket (served by
 * memif_server.c from the management loop); each gets a secret of its own. */
static int memif_allow(struct pmx_switch *sw, uint16_t id, struct pmx_attach_info *info)
{
	int ret = memif_socket_path(sw, info->memif_socket, sizeof(info->memif_socket));

	if (ret != 0)
		return ret;
	if (sw->memif == NULL) {
		sw->memif = pmx_memif_server_create(sw, info->memif_socket);
		if (sw->memif == NULL) {
			PMX_LOG(WARNING, ctl, "memif: %s: %s", info->memif_socket,
				errno == EADDRINUSE ? "another daemon serves it" : strerror(errno));
			return -ENODEV;
		}
	}
	return pmx_memif_server_allow(sw->memif, id, info->memif_reuse ? info->memif_secret : NULL,
				      info->memif_secret, sizeof(info->memif_secret));
}

int pmx_registry_attach(struct pmx_switch *sw, uint16_t port, enum pmx_channel channel,
			unsigned n_queues, struct pmx_attach_info *info)
{
	struct pmx_client_slot *slot = NULL;
	struct rte_mempool_cache *cache;
	uint16_t id;

	if (port >= sw->n_ports || n_queues == 0 || n_queues > PMX_MAX_QUEUES ||
	    (channel != PMX_CHANNEL_RING && n_queues != 1) ||
	    (info->memif_reuse && channel != PMX_CHANNEL_MEMIF))
		return -EINVAL;
	if (info->memif_reuse) {
		id = info->client_id;
		if (id >= sw->clients_max || sw->clients[id].state != PMX_SLOT_FREE)
			return -EADDRINUSE;
		slot = &sw->clients[id];
	} else {
		for (id = 0; id < sw->clients_max; id++) {
			if (sw->clients[id].state == PMX_SLOT_FREE) {
				slot = &sw->clients[id];
				break;
			}
		}
	}
	if (slot == NULL || pmx_registry_client_lcore(sw, id) >= RTE_MAX_LCORE)
		return -ENOSPC;

	/* RX ring: every RX lcore may produce (single producer when there is one lcore),
	 * only the client consumes. TX ring: only the client produces, one lcore consumes. */
	for (unsigned q = 0; q < n_queues; q++) {
		slot->rx_ring[q] = slot_ring(sw, slot->rx_ring[q], info->rx_ring[q], id, "rx", q,
					     RING_F_SC_DEQ |
						     (sw->n_workers == 1 ? RING_F_SP_ENQ : 0));
		slot->tx_ring[q] = slot_ring(sw, slot->tx_ring[q], info->tx_ring[q], id, "tx", q,
					     RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (slot->rx_ring[q] == NULL || slot->tx_ring[q] == NULL)
			return -ENOMEM;
		/* whatever a previous client of this slot left behind goes back to the pool;
		 * then the rings start afresh: a client killed inside an enqueue on its TX ring
		 * left its head ahead of its tail, over slots whose mbufs were swept since
		 * (mbuf_home.h), which the next enqueue would otherwise publish */
		drain_ring(slot->rx_ring[q]);
		drain_ring(slot->tx_ring[q]);
		rte_ring_reset(slot->rx_ring[q]);
		rte_ring_reset(slot->tx_ring[q]);
	}
	info->n_queues = n_queues;
	info->memif_socket[0] = '\0';
	if (!info->memif_reuse)
		info->memif_secret[0] = '\0';
	if (channel == PMX_CHANNEL_MEMIF) {
		int ret = memif_allow(sw, id, info);

		if (ret != 0)
			return ret;
	}
	slot->channel = channel;
	slot->n_queues = n_queues;
	slot->has_mac = 0;                   /* pmx_registry_own_mac() may give it one */
	slot->mac_learn = PMX_MAC_LEARN_OFF; /* pmx_registry_mac_learn() may let it learn one */
	cache = rte_mempool_default_cache(sw->pool, pmx_registry_client_lcore(sw, id));
	if (cache != NULL)
		rte_mempool_cache_flush(cache, sw->pool);

	slot->generation++;
	if (slot->generation == 0)
		slot->generation = 1;
	slot->home = NULL;
	if (channel == PMX_CHANNEL_RING) {
		/* where its frees land, so that a dead client's mbufs all come back */
		int ret = pmx_mbuf_home_open(sw, id, slot->generation, info->pid, &slot->home);

		if (ret != 0)
			return -ENOMEM;
	}
	slot->port = port;
	slot->tx_worker = id % sw->n_workers;
	for (unsigned w = 0; w < sw->n_workers; w++)
		memset(&sw->workers[w]->client[id], 0, sizeof(sw->workers[w]->client[id]));
	pmx_latency_reset(sw, id); /* the new client (or its memif lcore) starts from zero */

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

void pmx_registry_own_mac(struct pmx_switch *sw, uint16_t id, const struct rte_ether_addr *mac,
			  const uint8_t (*addrs)[16], unsigned n)
{
	struct pmx_client_slot *slot = &sw->clients[id];

	slot->mac = *mac;
	slot->n_own_addrs = (uint8_t)RTE_MIN(n, (unsigned)PMX_OWN_MAC_ADDRS);
	memcpy(slot->own_addrs, addrs, slot->n_own_addrs * sizeof(slot->own_addrs[0]));
	/* publish: its TX lcore checks frames from the MAC, then RX lcores steer frames to it */
	__atomic_store_n(&slot->has_mac, 1, __ATOMIC_RELEASE);
	pmx_bitmap_set(sw->port_own_macs[slot->port], id);
}

void pmx_registry_mac_learn(struct pmx_switch *sw, uint16_t id, enum pmx_mac_learn state)
{
	__atomic_store_n(&sw->clients[id].mac_learn, (uint8_t)state, __ATOMIC_RELEASE);
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
	pmx_bitmap_clear(sw->port_own_macs[slot->port], id);
	pmx_bitmap_clear(sw->workers[slot->tx_worker]->tx_bitmap, id);
	pmx_offload_owner_removed(sw, id);
	pmx_flow_table_del_owner(sw->ft, id);
	pmx_flow_table_synchronize(sw->ft);
	if (slot->channel == PMX_CHANNEL_MEMIF)
		pmx_memif_server_forget(sw->memif, id); /* unmapped once no lcore reads it */
	if (slot->channel == PMX_CHANNEL_UDS)
		pmx_uds_pump_remove(sw->uds, id); /* its socket closed once the pump let go */

	unsigned freed = 0;

	for (unsigned q = 0; q < PMX_MAX_QUEUES; q++)
		freed += drain_ring(slot->rx_ring[q]) + drain_ring(slot->tx_ring[q]);
	/* what it freed (and the drained frames) back; what it holds: once its process ended */
	struct pmx_client_counters c;

	pmx_registry_client_counters(sw, id, &c);
	pmx_mbuf_home_retire(sw, slot->home, c.lent, c.returned);
	slot->home = NULL;

	__atomic_store_n(&slot->state, PMX_SLOT_FREE, __ATOMIC_RELEASE);
	return freed;
}

void pmx_registry_free_all(struct pmx_switch *sw)
{
	if (sw->clients == NULL)
		return;
	for (uint16_t id = 0; id < sw->clients_max; id++) {
		pmx_registry_detach(sw, id);
		for (unsigned q = 0; q < PMX_MAX_QUEUES; q++) {
			rte_ring_free(sw->clients[id].rx_ring[q]);
			rte_ring_free(sw->clients[id].tx_ring[q]);
			sw->clients[id].rx_ring[q] = sw->clients[id].tx_ring[q] = NULL;
		}
	}
	pmx_memif_server_destroy(sw->memif); /* and its socket file */
	sw->memif = NULL;
	pmx_mbuf_home_poll(sw); /* clients that exited: what they held back to the pool */
	pmx_mbuf_home_fini(sw);
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
		out->learning += c->learning;
		out->lent += c->lent;
		out->returned += c->returned;
	}
	if (sw->clients[id].channel == PMX_CHANNEL_UDS)
		pmx_uds_pump_client_counters(sw->uds, id, out); /* what its socket did not take */
}
