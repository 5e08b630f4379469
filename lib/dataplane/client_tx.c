/* client_tx.c - the transmit path of clients (client TX rings and memif rings -> wire), with
 * anti-spoofing: the port's MAC with owned addresses and ports, or a client's own MAC with its
 * own addresses (own_mac.c) */
#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "mbuf_home.h"
#include "memif_ring.h"
#include "stages.h"

/* Is the frame's L2 source mac (the port's, shared with the kernel, or the client's own)? */
static bool from_mac(const struct rte_ether_addr *mac, const struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

	return rte_is_same_ether_addr(&eth->src_addr, mac);
}

/* ARP from a client must speak for the port's MAC, nothing else. */
static bool arp_ok(const struct pmx_port *port, const struct rte_mbuf *m,
		   const struct pmx_pkt_info *pi)
{
	const struct rte_arp_hdr *arp = rte_pktmbuf_mtod_offset(m, const struct rte_arp_hdr *,
								pi->l3_offset);

	return rte_is_same_ether_addr(&arp->arp_data.arp_sha, &port->mac);
}

#define LEARNING 0xff /* verdict: handed to the management lcore */

/* Check one client's burst: what passes is compacted to the front of pkts, and its parse
 * (turned to PMX_DIR_IN, as the local destinations see it) to the front of info. */
static unsigned check_burst(struct pmx_worker *w, uint16_t c, struct rte_mbuf **pkts,
			    struct pmx_pkt_info *info, unsigned n)
{
	struct pmx_switch *sw = w->sw;
	const struct pmx_client_slot *slot = &sw->clients[c];
	const struct pmx_port *port = &sw->ports[slot->port];
	bool has_mac = __atomic_load_n(&slot->has_mac, __ATOMIC_ACQUIRE) != 0;
	const struct pmx_flow_key *keys[PMX_BURST];
	uint16_t owners[PMX_BURST];
	uint8_t key_of[PMX_BURST];
	uint8_t verdict[PMX_BURST]; /* 0 pass, else drop reason + 1 */
	unsigned nk = 0, kept = 0;

	for (unsigned i = 0; i < n; i++) {
		struct pmx_pkt_info *pi = &info[i];
		enum pmx_pkt_class cls;

		verdict[i] = 0;
		if (rte_pktmbuf_pkt_len(pkts[i]) > PMX_MAX_CLIENT_FRAME) {
			/* no NIC port takes it whole (a memif client can send 64 KiB chains) */
			verdict[i] = PMX_DROP_OVERSIZE + 1;
			continue;
		}
		cls = pmx_packet_parse(rte_pktmbuf_mtod(pkts[i], const uint8_t *),
				       rte_pktmbuf_data_len(pkts[i]), PMX_DIR_OUT, pi);
		if (cls == PMX_PKT_MALFORMED) {
			verdict[i] = PMX_DROP_MALFORMED + 1;
		} else if (has_mac && from_mac(&slot->mac, pkts[i])) {
			/* its own MAC: only with one of its own addresses, no port rules */
			verdict[i] = pmx_own_mac_tx_ok(slot, pkts[i], pi) ? 0
									  : PMX_DROP_SPOOFED + 1;
		} else if (!from_mac(&port->mac, pkts[i])) {
			/* a usnetd client's MAC of its own may be learned (mac_learn.c) */
			verdict[i] = pmx_own_mac_learn_hold(w, c, pkts[i]) ? LEARNING
									   : PMX_DROP_SPOOFED + 1;
		} else if (cls == PMX_PKT_NON_IP ||
			   (cls == PMX_PKT_ARP && !arp_ok(port, pkts[i], pi))) {
			verdict[i] = PMX_DROP_SPOOFED + 1;
		} else if (cls != PMX_PKT_ARP && cls != PMX_PKT_ND) {
			/* an IP frame: its source must be one of the appliance's addresses (a
			 * listen on "any address" means those), and a flow, port or address that
			 * this client owns; later fragments follow their first fragment */
			pi->key.port_id = sw->clients[c].port;
			if (!pmx_is_local_addr(sw, pi->key.port_id, pi->key.local_ip))
				verdict[i] = PMX_DROP_SPOOFED + 1;
			else if (cls == PMX_PKT_FRAGMENT)
				verdict[i] = pmx_frag_tx_owner(w, pi) == c ? 0
									   : PMX_DROP_SPOOFED + 1;
			else {
				key_of[nk] = i;
				keys[nk++] = &pi->key;
			}
		}
	}
	pmx_flow_table_classify_bulk(sw->ft, w->id, keys, nk, owners);
	for (unsigned k = 0; k < nk; k++) {
		unsigned i = key_of[k];

		if (owners[k] == c) {
			if (info[i].is_fragment) /* a first fragment: its later ones may follow */
				pmx_frag_tx_record(w, &info[i], c);
			continue;
		}
		/* an unowned source port may be a new outgoing connection: the management
		 * lcore learns it (if the port is free) and sends the frame back to us */
		if (owners[k] == PMX_OWNER_NONE && info[i].cls == PMX_PKT_FLOW &&
		    info[i].key.local_port != 0) {
			PMX_LEARN_CLIENT(pkts[i]) = c;
			if (rte_ring_sp_enqueue(w->learn_req, pkts[i]) == 0) {
				w->client[c].learning++;
				verdict[i] = LEARNING;
				continue;
			}
		}
		verdict[i] = PMX_DROP_SPOOFED + 1;
	}

	for (unsigned i = 0; i < n; i++) {
		if (verdict[i] == 0) {
			pmx_packet_turn(&info[i]);
			if (kept != i)
				info[kept] = info[i];
			pkts[kept++] = pkts[i];
			continue;
		}
		if (verdict[i] == LEARNING)
			continue; /* in the management lcore's hands now */
		if (verdict[i] - 1 == PMX_DROP_SPOOFED)
			w->client[c].spoofed++;
		pmx_drop(w, verdict[i] - 1, &pkts[i], 1);
	}
	return kept;
}

/* Count what the memif copy dropped (no mbufs to free: nothing was made of them). */
static void memif_count(struct pmx_worker *w, uint16_t c, const struct pmx_memif_counts *k)
{
	w->drops[PMX_DROP_MALFORMED] += k->malformed;
	w->drops[PMX_DROP_OVERSIZE] += k->oversize;
	w->drops[PMX_DROP_NOMEM] += k->nomem;
	w->drops[PMX_DROP_RING_FULL] += k->no_room;
	w->client[c].ring_full += k->no_room;
}

/* A memif client's frames wait in its slot's rx_ring (every RX lcore may produce) until its
 * TX lcore copies them into the buffers the client posted, here; then what the client posted
 * is copied out. Without a connected channel its frames are dropped (ring_full). */
static unsigned memif_poll(struct pmx_worker *w, uint16_t c, const struct pmx_client_slot *slot,
			   struct rte_mbuf **out, unsigned *n_out)
{
	struct pmx_memif_chan *ch = __atomic_load_n(&slot->memif_chan, __ATOMIC_ACQUIRE);
	struct pmx_lat_block *lat = &w->sw->lat[c * PMX_MAX_QUEUES];
	struct pmx_memif_counts k = {0};
	struct rte_mbuf *pkts[PMX_BURST];
	unsigned n;

	n = rte_ring_sc_dequeue_burst(slot->rx_ring[0], (void **)pkts, PMX_BURST, NULL);
	/* this lcore is the one writer of a memif client's latency histogram */
	pmx_lat_writer_poll(lat);
	if (ch != NULL && n > 0) {
		unsigned sent = pmx_memif_ring_tx(ch, pkts, n, &k);

		/* only what reached the client's buffers: a frame without room was not delivered */
		pmx_lat_record(lat, w->sw->rx_tsc_off, pkts, sent, rte_rdtsc());
	}
	if (ch == NULL)
		k.no_room = n;
	if (n > 0)
		rte_pktmbuf_free_bulk(pkts, n); /* copied (sent) or counted in k */
	*n_out = ch != NULL ? pmx_memif_ring_rx(ch, w->sw->pool, out, PMX_BURST, &k) : 0;
	memif_count(w, c, &k);
	return n + *n_out + (unsigned)(k.malformed + k.oversize); /* work done */
}

/* A ring client's frees: from its home back to the switch's pool (this lcore's cache). While
 * the client keeps freeing they wait for a burst (a drain's cost is mostly per call); once it
 * stopped (the count as at the last look), what is there comes back at once. */
static unsigned home_poll(struct pmx_worker *w, uint16_t c, const struct pmx_client_slot *slot)
{
	unsigned avail, n;

	if (slot->home == NULL)
		return 0;
	avail = rte_mempool_avail_count(slot->home);
	if (avail == 0)
		return 0;
	if (avail < PMX_BURST && avail != w->home_seen[c]) {
		w->home_seen[c] = (uint16_t)avail;
		return 0;
	}
	n = pmx_mbuf_home_take(slot->home, w->sw->pool, avail);
	w->home_seen[c] = (uint16_t)(avail - n);
	w->client[c].returned += n;
	return n;
}

/* A frame held while client c's MAC was learned: does it pass as from c's own MAC? pi gets
 * its parse (PMX_DIR_OUT). */
static bool own_mac_ok(const struct pmx_switch *sw, uint16_t c, const struct rte_mbuf *m,
		       struct pmx_pkt_info *pi)
{
	const struct pmx_client_slot *slot = &sw->clients[c];

	return pmx_packet_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m),
				PMX_DIR_OUT, pi) != PMX_PKT_MALFORMED &&
	       __atomic_load_n(&slot->has_mac, __ATOMIC_ACQUIRE) && from_mac(&slot->mac, m) &&
	       pmx_own_mac_tx_ok(slot, m, pi);
}

unsigned pmx_learn_return_poll(struct pmx_worker *w)
{
	struct rte_mbuf *pkts[PMX_BURST];
	unsigned n = rte_ring_sc_dequeue_burst(w->learn_ret, (void **)pkts, PMX_BURST, NULL);
	struct pmx_pkt_info pi;

	for (unsigned i = 0; i < n; i++) {
		uint32_t tag = PMX_LEARN_CLIENT(pkts[i]);
		uint16_t c = (uint16_t)tag;
		unsigned p = w->sw->clients[c].port;

		if (tag & PMX_LEARN_DHCP) { /* a DHCP reply from the wire, for the client */
			if (tag & PMX_LEARN_REFUSED)
				pmx_drop(w, PMX_DROP_DHCP_REFUSED, &pkts[i], 1);
			else {
				PMX_FLOW_QUEUE_HASH(pkts[i]) = 0; /* was the tag: queue 0 */
				pmx_client_deliver(w, c, &pkts[i], 1);
			}
			continue;
		}
		if ((tag & (PMX_LEARN_MAC | PMX_LEARN_REFUSED)) == PMX_LEARN_MAC &&
		    !own_mac_ok(w->sw, c, pkts[i], &pi))
			tag |= PMX_LEARN_REFUSED; /* checked as from its MAC, now that it has one */
		if (tag & PMX_LEARN_REFUSED) {
			w->client[c].spoofed++;
			pmx_drop(w, PMX_DROP_SPOOFED, &pkts[i], 1);
			continue;
		}
		w->client[c].tx++;
		w->port[p].from_clients++;
		/* checked before learning; parsed again here, once per learned connection */
		if (tag & PMX_LEARN_MAC)
			pmx_packet_turn(&pi);
		else
			pmx_packet_parse(rte_pktmbuf_mtod(pkts[i], const uint8_t *),
					 rte_pktmbuf_data_len(pkts[i]), PMX_DIR_IN, &pi);
		pmx_send_out(w, p, &pkts[i], &pi, 1, c);
	}
	return n;
}

unsigned pmx_client_tx_poll(struct pmx_worker *w)
{
	struct pmx_switch *sw = w->sw;
	struct rte_mbuf *pkts[PMX_BURST];
	struct pmx_pkt_info info[PMX_BURST];
	unsigned total = 0;

	for (unsigned word = 0; word < PMX_BITMAP_WORDS; word++) {
		uint64_t bits = pmx_bitmap_word(w->tx_bitmap, word);

		while (bits != 0) {
			uint16_t c = word * 64 + __builtin_ctzll(bits);
			const struct pmx_client_slot *slot = &sw->clients[c];
			unsigned n, kept;

			bits &= bits - 1;
			for (unsigned q = 0; q < slot->n_queues; q++) {
				if (slot->channel == PMX_CHANNEL_MEMIF) {
					total += memif_poll(w, c, slot, pkts, &n);
					if (n == 0)
						continue;
				} else {
					if (q == 0)
						total += home_poll(w, c, slot);
					n = rte_ring_dequeue_burst(slot->tx_ring[q], (void **)pkts,
								   PMX_BURST, NULL);
					if (n == 0)
						continue;
					/* the switch's frames again (mbuf_home.h) */
					w->client[c].returned += pmx_mbuf_home_unmark(
						pkts, n, sw->pool, slot->home);
					total += n;
				}
				kept = check_burst(w, c, pkts, info, n);
				w->client[c].tx += kept;
				w->port[slot->port].from_clients += kept;
				pmx_send_out(w, slot->port, pkts, info, kept, c);
			}
		}
	}
	return total;
}
