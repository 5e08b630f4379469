/* nic_rx.c - the receive path (wire -> client rings, kernel): parse, classify in bulk, deliver */
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_prefetch.h>

#include "offload_mark.h"
#include "stages.h"
#include "pmx_afpacket.h"

/* Frames of one burst grouped by destination, so each ring/queue is touched once. A client's
 * bucket is found through of_client[] without a search: an entry is valid only when the bucket
 * it names is in use and holds that client (a sparse set: any stale value is harmless). */
struct dest_buckets {
	unsigned n;
	uint16_t dest[PMX_BURST];
	uint16_t count[PMX_BURST];
	uint8_t of_client[PMX_MAX_CLIENTS];
	struct rte_mbuf *pkts[PMX_BURST][PMX_BURST];
};

static void bucket_add(struct dest_buckets *b, uint16_t dest, struct rte_mbuf *m)
{
	unsigned i;

	if (dest < PMX_MAX_CLIENTS) {
		i = b->of_client[dest];
		if (i >= b->n || b->dest[i] != dest) {
			i = b->n;
			b->of_client[dest] = (uint8_t)i;
		}
	} else {
		for (i = 0; i < b->n && b->dest[i] != dest; i++)
			;
	}
	if (i == b->n) {
		b->dest[i] = dest;
		b->count[i] = 0;
		b->n++;
	}
	b->pkts[i][b->count[i]++] = m;
}

#define ETHERTYPE_EAPOL 0x888e /* 802.1X: a client with a MAC of its own authenticates too */

/* Where a frame goes before any rule lookup; PMX_OWNER_NONE means "look it up". */
static uint16_t dest_by_class(struct pmx_worker *w, const struct pmx_pkt_info *pi)
{
	switch (pi->cls) {
	case PMX_PKT_FLOW:
	case PMX_PKT_IP_OTHER:
	case PMX_PKT_ICMP_ERROR:
	case PMX_PKT_FRAGMENT:
		return PMX_OWNER_NONE;
	case PMX_PKT_ARP:
	case PMX_PKT_ND:
	case PMX_PKT_MULTICAST:
		return pmx_kernel_admits_mirror(w, pi) ? PMX_DEST_MIRROR : PMX_DEST_MIRROR_CLIENTS;
	case PMX_PKT_NON_IP:
		if (pi->ethertype == ETHERTYPE_EAPOL) /* to the kernel and every client, as ARP */
			return PMX_DEST_MIRROR;
		return pmx_kernel_policy_dest(w, pi) == PMX_DEST_KERNEL
			       ? PMX_DEST_KERNEL
			       : PMX_DEST_DROP(PMX_DROP_FIREWALL);
	default:
		return PMX_DEST_DROP(PMX_DROP_MALFORMED);
	}
}

/* A unicast frame to the MAC of a client with one of its own is that client's, whatever it
 * holds (the kernel never sees it); PMX_OWNER_NONE for every other frame. */
static uint16_t own_mac_dest(const struct pmx_switch *sw, unsigned p, struct rte_mbuf *m,
			     const struct pmx_pkt_info *pi)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	uint16_t c;

	if (!rte_is_unicast_ether_addr(&eth->dst_addr) ||
	    rte_is_same_ether_addr(&eth->dst_addr, &sw->ports[p].mac))
		return PMX_OWNER_NONE;
	c = pmx_own_mac_client(sw, p, &eth->dst_addr);
	if (c != PMX_OWNER_NONE && sw->clients[c].n_queues > 1)
		PMX_FLOW_QUEUE_HASH(m) = pmx_flow_queue_hash(&pi->key, !pi->is_fragment);
	return c;
}

unsigned pmx_nic_rx_poll(struct pmx_worker *w, unsigned p)
{
	struct rte_mbuf *pkts[PMX_BURST];
	struct pmx_pkt_info info[PMX_BURST];
	const struct pmx_flow_key *keys[PMX_BURST];
	uint16_t owners[PMX_BURST];
	uint16_t dest[PMX_BURST];
	uint8_t key_of[PMX_BURST];
	struct dest_buckets buckets;
	unsigned n, nk = 0;
	const struct pmx_client_slot *clients = w->sw->clients;
	const int tsc_off = w->sw->rx_tsc_off;
	uint64_t now;
	bool own_macs;

	if (w->sw->ports[p].afp != NULL) /* a kernel interface: its socket <-> ring ethdev */
		pmx_afp_pump(w->sw->ports[p].afp, w->id);
	n = rte_eth_rx_burst(w->sw->ports[p].nic, w->id, pkts, PMX_BURST);
	if (n == 0)
		return 0;
	w->port[p].rx += n;
	own_macs = pmx_own_mac_any(w->sw, p);
	/* the stamp for the clients' latency histograms, in the loop of the prefetches: each
	 * frame's mbuf is read once */
	now = rte_rdtsc();
	for (unsigned i = 0; i < n; i++) {
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
		pmx_latency_stamp(pkts[i], tsc_off, now);
	}

	/* 1. parse every frame; those with a flow key wait for the bulk lookup */
	for (unsigned i = 0; i < n; i++) {
		struct pmx_pkt_info *pi = &info[i];
		uint16_t o;

		pmx_packet_parse(rte_pktmbuf_mtod(pkts[i], const uint8_t *),
				 rte_pktmbuf_data_len(pkts[i]), PMX_DIR_IN, pi);
		pi->key.port_id = p;
		if (own_macs && pi->cls != PMX_PKT_MALFORMED &&
		    (o = own_mac_dest(w->sw, p, pkts[i], pi)) != PMX_OWNER_NONE) {
			/* before any rule: the client is a host of its own; a DHCP reply to it
			 * waits for the management lcore to record the address of an ACK */
			dest[i] = pmx_own_mac_dhcp_hold(w, o, pkts[i], pi) ? PMX_DEST_HELD : o;
			continue;
		}
		dest[i] = pi->cls == PMX_PKT_FLOW ? PMX_OWNER_NONE : dest_by_class(w, pi);
		if (pi->cls == PMX_PKT_FLOW &&
		    (o = pmx_offload_mark_owner(w->sw, pkts[i])) != PMX_OWNER_NONE) {
			/* the NIC classified it (rte_flow MARK): no lookup */
			dest[i] = o;
			if (clients[o].n_queues > 1)
				PMX_FLOW_QUEUE_HASH(pkts[i]) =
					pmx_flow_queue_hash(&pi->key, !pi->is_fragment);
			if (pi->is_fragment)
				pmx_frag_record(w, pi, o); /* a marked first fragment still decides */
			continue;
		}
		if (dest[i] == PMX_OWNER_NONE && pi->cls != PMX_PKT_FRAGMENT) {
			key_of[nk] = i;
			keys[nk++] = &pi->key;
		}
	}

	/* 2. classify: exact 5-tuple, listening 3-tuple, owned IP, all in bulk */
	pmx_flow_table_classify_bulk(w->sw->ft, w->id, keys, nk, owners);
	for (unsigned k = 0; k < nk; k++) {
		unsigned i = key_of[k];
		uint16_t o = owners[k];

		if (o < PMX_MAX_CLIENTS) { /* a client's: the common case first */
			if (clients[o].n_queues > 1)
				PMX_FLOW_QUEUE_HASH(pkts[i]) =
					pmx_flow_queue_hash(&info[i].key, !info[i].is_fragment);
		} else if (o == PMX_OWNER_NONE) {
			o = pmx_kernel_policy_dest(w, &info[i]);
		} else if (o == PMX_OWNER_DROP) {
			o = PMX_DEST_DROP(PMX_DROP_RULE);
		} else if (o == PMX_OWNER_ABSENT) { /* not the kernel's either: its client comes back */
			o = PMX_DEST_DROP(PMX_DROP_OWNER_ABSENT);
		}
		dest[i] = o;
		/* the first fragment decides for the whole datagram */
		if (info[i].is_fragment)
			pmx_frag_record(w, &info[i], o);
	}

	/* 3. deliver, one burst per destination; later fragments follow their first */
	buckets.n = 0;
	memset(buckets.of_client, 0, sizeof(buckets.of_client)); /* any value would do: defined */
	for (unsigned i = 0; i < n; i++) {
		if (dest[i] == PMX_OWNER_NONE) {
			dest[i] = pmx_frag_lookup(w, &info[i]);
			if (dest[i] == PMX_OWNER_NONE) {
				pmx_frag_hold(w, p, &info[i], pkts[i]);
				continue;
			}
			PMX_FLOW_QUEUE_HASH(pkts[i]) = pmx_flow_queue_hash(&info[i].key, false);
		}
		bucket_add(&buckets, dest[i], pkts[i]);
	}
	for (unsigned b = 0; b < buckets.n; b++)
		pmx_deliver(w, p, buckets.dest[b], buckets.pkts[b], buckets.count[b]);
	return n;
}
