/* client_registry.c - client slots: attach (rings, lcore id) and detach (rules, rings, mbufs) */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <unistd.h>

#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mempool.h>

#include "client_registry.h"
#include "flow_offload.h"

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

/* Close an ethdev and remove the device behind it. */
static void memif_remove(uint16_t port_id)
{
	struct rte_eth_dev_info info;
	struct rte_device *dev = NULL;

	if (rte_eth_dev_info_get(port_id, &info) == 0)
		dev = info.device;
	rte_eth_dev_stop(port_id);
	rte_eth_dev_close(port_id);
	if (dev != NULL)
		rte_dev_remove(dev);
}

/* Where memif clients connect: one socket beside the control socket (so it shares its
 * permissions), every client a device of its own on it, told apart by interface id. */
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

static int random_secret(char *out, size_t len)
{
	uint8_t rnd[12];
	FILE *f = fopen("/dev/urandom", "r");
	size_t got = f ? fread(rnd, 1, sizeof(rnd), f) : 0;

	if (f != NULL)
		fclose(f);
	if (got != sizeof(rnd) || len < 2 * sizeof(rnd) + 1)
		return -EIO;
	for (unsigned i = 0; i < sizeof(rnd); i++)
		snprintf(out + 2 * i, 3, "%02x", rnd[i]);
	return 0;
}

/* The first memif client creates the socket and its anchor device (never connected). */
static int memif_listen(struct pmx_switch *sw, const char *sock)
{
	char devargs[320], secret[25];

	if (sw->memif_listening)
		return 0;
	if (random_secret(secret, sizeof(secret)) != 0)
		return -EIO;
	snprintf(devargs, sizeof(devargs),
		 "net_memif_anchor,role=server,id=%u,socket=%s,socket-abstract=no,secret=%s",
		 PMX_MAX_CLIENTS, sock, secret);
	unlink(sock);
	if (rte_dev_probe(devargs) != 0 ||
	    rte_eth_dev_get_port_by_name("net_memif_anchor", &sw->memif_anchor) != 0)
		return -ENODEV;
	sw->memif_listening = 1;
	return 0;
}

/* The memif device of slot id (interface id = slot id): the switch is its server; 1 RX and
 * 1 TX queue, both used by the slot's TX lcore only (other lcores reach the client through
 * the slot's rx_ring). */
static int memif_create(struct pmx_switch *sw, uint16_t id, struct pmx_attach_info *info)
{
	struct rte_eth_conf conf = {0};
	char devargs[320], name[RTE_ETH_NAME_MAX_LEN];
	uint16_t port_id;
	int ret;

	ret = memif_socket_path(sw, info->memif_socket, sizeof(info->memif_socket));
	if (ret == 0)
		ret = random_secret(info->memif_secret, sizeof(info->memif_secret));
	if (ret == 0)
		ret = memif_listen(sw, info->memif_socket);
	if (ret != 0)
		return ret;
	snprintf(name, sizeof(name), "net_memif_c%u", id);
	snprintf(devargs, sizeof(devargs),
		 "%s,role=server,id=%u,socket=%s,socket-abstract=no,secret=%s", name, id,
		 info->memif_socket, info->memif_secret);
	if (rte_dev_probe(devargs) != 0 || rte_eth_dev_get_port_by_name(name, &port_id) != 0)
		return -ENODEV;
	if (rte_eth_dev_configure(port_id, 1, 1, &conf) != 0 ||
	    rte_eth_rx_queue_setup(port_id, 0, 1024, rte_socket_id(), NULL, sw->pool) != 0 ||
	    rte_eth_tx_queue_setup(port_id, 0, 1024, rte_socket_id(), NULL) != 0 ||
	    rte_eth_dev_start(port_id) != 0) {
		memif_remove(port_id);
		return -ENODEV;
	}
	sw->clients[id].memif = port_id;
	return 0;
}

int pmx_registry_attach(struct pmx_switch *sw, uint16_t port, enum pmx_channel channel,
			unsigned n_queues, struct pmx_attach_info *info)
{
	struct pmx_client_slot *slot = NULL;
	struct rte_mempool_cache *cache;
	uint16_t id;

	if (port >= sw->n_ports || n_queues == 0 || n_queues > PMX_MAX_QUEUES ||
	    (channel == PMX_CHANNEL_MEMIF && n_queues != 1))
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
	for (unsigned q = 0; q < n_queues; q++) {
		slot->rx_ring[q] = slot_ring(sw, slot->rx_ring[q], info->rx_ring[q], id, "rx", q,
					     RING_F_SC_DEQ |
						     (sw->n_workers == 1 ? RING_F_SP_ENQ : 0));
		slot->tx_ring[q] = slot_ring(sw, slot->tx_ring[q], info->tx_ring[q], id, "tx", q,
					     RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (slot->rx_ring[q] == NULL || slot->tx_ring[q] == NULL)
			return -ENOMEM;
		/* whatever a previous client of this slot left behind goes back to the pool */
		drain_ring(slot->rx_ring[q]);
		drain_ring(slot->tx_ring[q]);
	}
	info->n_queues = n_queues;
	info->memif_socket[0] = info->memif_secret[0] = '\0';
	if (channel == PMX_CHANNEL_MEMIF) {
		int ret = memif_create(sw, id, info);

		if (ret != 0)
			return ret;
	}
	slot->channel = channel;
	slot->n_queues = n_queues;
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
	pmx_offload_owner_removed(sw, id);
	pmx_flow_table_del_owner(sw->ft, id);
	pmx_flow_table_synchronize(sw->ft);
	if (slot->channel == PMX_CHANNEL_MEMIF)
		memif_remove(slot->memif); /* the anchor keeps the socket listening */

	unsigned freed = 0;

	for (unsigned q = 0; q < PMX_MAX_QUEUES; q++)
		freed += drain_ring(slot->rx_ring[q]) + drain_ring(slot->tx_ring[q]);

	__atomic_store_n(&slot->state, PMX_SLOT_FREE, __ATOMIC_RELEASE);
	return freed;
}

void pmx_registry_free_all(struct pmx_switch *sw)
{
	char sock[108];

	if (sw->clients == NULL)
		return;
	/* the anchor device stays until the process ends (see memif_anchor); its file goes */
	if (sw->memif_listening && memif_socket_path(sw, sock, sizeof(sock)) == 0)
		unlink(sock);
	for (uint16_t id = 0; id < sw->clients_max; id++) {
		pmx_registry_detach(sw, id);
		for (unsigned q = 0; q < PMX_MAX_QUEUES; q++) {
			rte_ring_free(sw->clients[id].rx_ring[q]);
			rte_ring_free(sw->clients[id].tx_ring[q]);
			sw->clients[id].rx_ring[q] = sw->clients[id].tx_ring[q] = NULL;
		}
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
		out->learning += c->learning;
	}
}
