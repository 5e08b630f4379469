/* deliver.c - the last step of every path: frames -> client rings, NIC TX, or the drop counters */
#include <rte_ethdev.h>

#include "mbuf_home.h"
#include "stages.h"

static const char *const drop_names[PMX_DROP_MAX] = {
	[PMX_DROP_MALFORMED] = "malformed",   [PMX_DROP_NO_ROUTE] = "no_route",
	[PMX_DROP_RING_FULL] = "ring_full",   [PMX_DROP_SPOOFED] = "spoofed",
	[PMX_DROP_TX_FULL] = "tx_full",       [PMX_DROP_FRAG_UNKNOWN] = "frag_unknown",
	[PMX_DROP_FIREWALL] = "firewall",     [PMX_DROP_RULE] = "rule",
	[PMX_DROP_NOMEM] = "nomem",           [PMX_DROP_OVERSIZE] = "oversize",
	[PMX_DROP_OWNER_ABSENT] = "owner_absent", [PMX_DROP_DHCP_REFUSED] = "dhcp_refused",
};

const char *pmx_drop_reason_name(enum pmx_drop_reason r)
{
	return r < PMX_DROP_MAX ? drop_names[r] : "unknown";
}

void pmx_drop(struct pmx_worker *w, enum pmx_drop_reason reason, struct rte_mbuf **pkts,
	      unsigned n)
{
	if (n == 0)
		return;
	w->drops[reason] += n;
	rte_pktmbuf_free_bulk(pkts, n);
}

static void enqueue(struct pmx_worker *w, uint16_t c, const struct pmx_client_slot *slot,
		    struct rte_ring *ring, struct rte_mbuf **pkts, unsigned n)
{
	struct rte_mempool *home = slot->home;
	unsigned sent, lent = 0;

	/* a ring client's frames are its own from now on: its frees land in its home */
	if (home != NULL)
		lent = pmx_mbuf_home_mark(pkts, n, home);
	sent = rte_ring_enqueue_burst(ring, (void **)pkts, n, NULL);
	w->client[c].rx += sent;
	w->port[slot->port].to_clients += sent;
	if (sent < n) {
		if (home != NULL) /* not lent after all */
			lent -= pmx_mbuf_home_unmark(pkts + sent, n - sent, w->sw->pool, home);
		w->client[c].ring_full += n - sent;
		pmx_drop(w, PMX_DROP_RING_FULL, pkts + sent, n - sent);
	}
	w->client[c].lent += lent;
}

/* Several queue pairs: each frame to the queue its flow hash picks, one burst per queue. */
static void spread_over_queues(struct pmx_worker *w, uint16_t c,
			       const struct pmx_client_slot *slot, struct rte_mbuf **pkts,
			       unsigned n)
{
	struct rte_mbuf *per_queue[PMX_MAX_QUEUES][PMX_BURST];
	unsigned count[PMX_MAX_QUEUES] = {0};

	while (n > 0) {
		unsigned chunk = RTE_MIN(n, (unsigned)PMX_BURST);

		for (unsigned i = 0; i < chunk; i++) {
			unsigned q = PMX_FLOW_QUEUE_HASH(pkts[i]) % slot->n_queues;

			per_queue[q][count[q]++] = pkts[i];
		}
		for (unsigned q = 0; q < slot->n_queues; q++) {
			if (count[q] > 0)
				enqueue(w, c, slot, slot->rx_ring[q], per_queue[q], count[q]);
			count[q] = 0;
		}
		pkts += chunk;
		n -= chunk;
	}
}

void pmx_client_deliver(struct pmx_worker *w, uint16_t c, struct rte_mbuf **pkts, unsigned n)
{
	struct pmx_switch *sw = w->sw;
	const struct pmx_client_slot *slot = &sw->clients[c];

	if (c >= sw->clients_max ||
	    __atomic_load_n(&slot->state, __ATOMIC_ACQUIRE) != PMX_SLOT_ACTIVE) {
		pmx_drop(w, PMX_DROP_NO_ROUTE, pkts, n);
		return;
	}
	if (slot->n_queues > 1) {
		spread_over_queues(w, c, slot, pkts, n);
		return;
	}
	enqueue(w, c, slot, slot->rx_ring[0], pkts, n);
}

void pmx_mirror_to_set(struct pmx_worker *w, const uint64_t *set, struct rte_mbuf *m,
		       uint16_t except)
{
	struct pmx_switch *sw = w->sw;

	for (unsigned word = 0; word < PMX_BITMAP_WORDS; word++) {
		uint64_t bits = pmx_bitmap_word(set, word);

		while (bits != 0) {
			uint16_t c = word * 64 + __builtin_ctzll(bits);
			struct rte_mbuf *copy;

			bits &= bits - 1;
			if (c == except)
				continue;
			/* A copy, not a reference: a client may rewrite what it received. */
			copy = rte_pktmbuf_copy(m, sw->pool, 0, UINT32_MAX);
			if (copy == NULL) {
				w->drops[PMX_DROP_NOMEM]++;
				continue;
			}
			PMX_FLOW_QUEUE_HASH(copy) = 0; /* mirrored frames: queue 0 */
			pmx_client_deliver(w, c, &copy, 1);
		}
	}
}

/* Copy a frame to every active client of port p (ARP, ND, multicast). */
static void mirror_to_clients(struct pmx_worker *w, unsigned p, struct rte_mbuf *m)
{
	pmx_mirror_to_set(w, w->sw->port_clients[p], m, PMX_OWNER_NONE);
}

void pmx_deliver(struct pmx_worker *w, unsigned p, uint16_t dest, struct rte_mbuf **pkts,
		 unsigned n)
{
	if (dest == PMX_DEST_KERNEL) {
		pmx_kernel_deliver(w, p, pkts, n);
	} else if (dest == PMX_DEST_MIRROR || dest == PMX_DEST_MIRROR_CLIENTS) {
		for (unsigned k = 0; k < n; k++)
			mirror_to_clients(w, p, pkts[k]);
		if (dest == PMX_DEST_MIRROR)
			pmx_kernel_deliver(w, p, pkts, n);
		else
			pmx_drop(w, PMX_DROP_FIREWALL, pkts, n); /* the kernel's copy */
	} else if (dest == PMX_DEST_HELD) {
		return; /* the management lcore has them (a DHCP reply: own_mac.c) */
	} else if (dest >= PMX_DEST_DROP_BASE) {
		pmx_drop(w, dest - PMX_DEST_DROP_BASE, pkts, n);
	} else {
		pmx_client_deliver(w, dest, pkts, n);
	}
}

void pmx_wire_send(struct pmx_worker *w, unsigned p, struct rte_mbuf **pkts, unsigned n)
{
	unsigned sent;

	if (n == 0)
		return;
	sent = rte_eth_tx_burst(w->sw->ports[p].nic, w->id, pkts, n);
	w->port[p].tx_wire += sent;
	pmx_drop(w, PMX_DROP_TX_FULL, pkts + sent, n - sent);
}

void pmx_kernel_deliver(struct pmx_worker *w, unsigned p, struct rte_mbuf **pkts, unsigned n)
{
	const struct pmx_port *port = &w->sw->ports[p];
	unsigned sent;

	if (n == 0)
		return;
	if (port->exc == PMX_PORT_NONE) {
		pmx_drop(w, PMX_DROP_NO_ROUTE, pkts, n);
		return;
	}
	sent = rte_eth_tx_burst(port->exc, w->id, pkts, n);
	w->port[p].to_kernel += sent;
	pmx_drop(w, PMX_DROP_TX_FULL, pkts + sent, n - sent);
}
