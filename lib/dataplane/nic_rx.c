/* nic_rx.c - the receive path (wire -> client rings, kernel): parse, classify in bulk, deliver */
#include <rte_ethdev.h>
#include <rte_prefetch.h>

#include "pmx_packet.h"
#include "pmx_switch.h"

/* Destinations above the client ids. */
#define DEST_KERNEL PMX_OWNER_KERNEL
#define DEST_MIRROR 0xfff0u             /* kernel and every client of the port */
#define DEST_DROP_BASE 0xff00u          /* + enum pmx_drop_reason */

/* Frames of one burst grouped by destination, so each ring/queue is touched once. */
struct dest_buckets {
	unsigned n;
	uint16_t dest[PMX_BURST];
	uint16_t count[PMX_BURST];
	struct rte_mbuf *pkts[PMX_BURST][PMX_BURST];
};

static void bucket_add(struct dest_buckets *b, uint16_t dest, struct rte_mbuf *m)
{
	unsigned i;

	for (i = 0; i < b->n && b->dest[i] != dest; i++)
		;
	if (i == b->n) {
		b->dest[i] = dest;
		b->count[i] = 0;
		b->n++;
	}
	b->pkts[i][b->count[i]++] = m;
}

static void flush_buckets(struct pmx_worker *w, unsigned p, struct dest_buckets *b)
{
	for (unsigned i = 0; i < b->n; i++) {
		uint16_t dest = b->dest[i];
		struct rte_mbuf **pkts = b->pkts[i];
		unsigned n = b->count[i];

		if (dest == DEST_KERNEL) {
			pmx_kernel_deliver(w, p, pkts, n);
		} else if (dest == DEST_MIRROR) {
			for (unsigned k = 0; k < n; k++)
				pmx_mirror_to_clients(w, p, pkts[k]);
			pmx_kernel_deliver(w, p, pkts, n);
		} else if (dest >= DEST_DROP_BASE) {
			pmx_drop(w, dest - DEST_DROP_BASE, pkts, n);
		} else {
			pmx_client_deliver(w, dest, pkts, n);
		}
	}
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

	n = rte_eth_rx_burst(w->sw->ports[p].nic, w->id, pkts, PMX_BURST);
	if (n == 0)
		return 0;
	w->port[p].rx += n;

	/* 1. parse every frame; those with a flow key wait for the bulk lookup */
	for (unsigned i = 0; i < n; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (unsigned i = 0; i < n; i++) {
		struct pmx_pkt_info *pi = &info[i];

		switch (pmx_packet_parse(rte_pktmbuf_mtod(pkts[i], const uint8_t *),
					 rte_pktmbuf_data_len(pkts[i]), PMX_DIR_IN, pi)) {
		case PMX_PKT_FLOW:
		case PMX_PKT_IP_OTHER:
		case PMX_PKT_ICMP_ERROR:
		case PMX_PKT_FRAGMENT:
			pi->key.port_id = p;
			key_of[nk] = i;
			keys[nk++] = &pi->key;
			dest[i] = PMX_OWNER_NONE;
			break;
		case PMX_PKT_ARP:
		case PMX_PKT_ND:
		case PMX_PKT_MULTICAST:
			dest[i] = DEST_MIRROR;
			break;
		case PMX_PKT_NON_IP:
			dest[i] = DEST_KERNEL;
			break;
		default:
			dest[i] = DEST_DROP_BASE + PMX_DROP_MALFORMED;
			break;
		}
	}

	/* 2. classify: exact 5-tuple, listening 3-tuple, owned IP, all in bulk */
	pmx_flow_table_classify_bulk(w->sw->ft, w->id, keys, nk, owners);
	for (unsigned k = 0; k < nk; k++) {
		uint16_t o = owners[k];

		if (o == PMX_OWNER_NONE)
			o = DEST_KERNEL; /* kernel policy "pass" */
		else if (o == PMX_OWNER_DROP)
			o = DEST_DROP_BASE + PMX_DROP_RULE;
		dest[key_of[k]] = o;
	}

	/* 3. deliver, one burst per destination */
	buckets.n = 0;
	for (unsigned i = 0; i < n; i++)
		bucket_add(&buckets, dest[i], pkts[i]);
	flush_buckets(w, p, &buckets);
	return n;
}
