/* own_mac.c - clients with a MAC of their own, hosts of their own on the port's segment (wire or
 * appliance -> that client by destination MAC; that client -> switch: the source MAC/IP pair
 * it may send from, and where its frames go inside the appliance) */
#include <string.h>

#include <rte_arp.h>
#include <rte_ether.h>

#include "stages.h"

bool pmx_own_mac_any(const struct pmx_switch *sw, unsigned p)
{
	for (unsigned word = 0; word < PMX_BITMAP_WORDS; word++)
		if (pmx_bitmap_word(sw->port_own_macs[p], word) != 0)
			return true;
	return false;
}

uint16_t pmx_own_mac_client(const struct pmx_switch *sw, unsigned p,
			    const struct rte_ether_addr *mac)
{
	for (unsigned word = 0; word < PMX_BITMAP_WORDS; word++) {
		uint64_t bits = pmx_bitmap_word(sw->port_own_macs[p], word);

		while (bits != 0) {
			uint16_t c = word * 64 + __builtin_ctzll(bits);

			bits &= bits - 1;
			if (rte_is_same_ether_addr(&sw->clients[c].mac, mac))
				return c;
		}
	}
	return PMX_OWNER_NONE;
}

/* ARP from the client's MAC speaks for that MAC and one of its addresses; a probe (RFC 5227:
 * a request from 0.0.0.0) claims no address and may go too. */
static bool arp_ok(const struct pmx_client_slot *slot, const struct rte_mbuf *m,
		   const struct pmx_pkt_info *pi)
{
	static const uint8_t unspecified[4];
	const struct rte_arp_hdr *arp = rte_pktmbuf_mtod_offset(m, const struct rte_arp_hdr *,
								pi->l3_offset);
	uint8_t spa[16];

	if (!rte_is_same_ether_addr(&arp->arp_data.arp_sha, &slot->mac))
		return false;
	if (memcmp(&arp->arp_data.arp_sip, unspecified, 4) == 0)
		return arp->arp_opcode == RTE_BE16(RTE_ARP_OP_REQUEST);
	pmx_ip4_to_key((const uint8_t *)&arp->arp_data.arp_sip, spa);
	return pmx_own_mac_declared(slot, spa);
}

#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68

/* Whether pi is DHCP between the client's port and the server's: IPv4, UDP 68 <-> 67 (the
 * local port is the client's both ways: its frames are parsed DIR_OUT, those to it DIR_IN). */
static bool dhcp_of_client(const struct pmx_pkt_info *pi)
{
	return pi->family == 4 && pi->key.proto == PMX_PROTO_UDP &&
	       pi->key.local_port == RTE_BE16(DHCP_CLIENT_PORT) &&
	       pi->key.remote_port == RTE_BE16(DHCP_SERVER_PORT);
}

/* A DHCP client's frame before it has an address: from 0.0.0.0, UDP 68 -> 67 (DIR_OUT key). */
static bool dhcp_client_unbound(const struct pmx_pkt_info *pi, const uint8_t src[16])
{
	static const uint8_t zero4[4];
	uint8_t unspecified[16];

	pmx_ip4_to_key(zero4, unspecified);
	return dhcp_of_client(pi) && memcmp(src, unspecified, 16) == 0;
}

bool pmx_own_mac_dhcp_hold(struct pmx_worker *w, uint16_t c, struct rte_mbuf *m,
			   const struct pmx_pkt_info *pi)
{
	if (!dhcp_of_client(pi) || pi->is_fragment)
		return false;
	PMX_LEARN_CLIENT(m) = PMX_LEARN_DHCP | c;
	if (rte_ring_sp_enqueue(w->learn_req, m) != 0)
		pmx_drop(w, PMX_DROP_DHCP_REFUSED, &m, 1);
	return true;
}

bool pmx_own_mac_learn_hold(struct pmx_worker *w, uint16_t c, struct rte_mbuf *m)
{
	const struct pmx_client_slot *slot = &w->sw->clients[c];

	if (__atomic_load_n(&slot->mac_learn, __ATOMIC_ACQUIRE) != PMX_MAC_LEARN_ON ||
	    __atomic_load_n(&slot->has_mac, __ATOMIC_ACQUIRE))
		return false;
	PMX_LEARN_CLIENT(m) = PMX_LEARN_MAC | c;
	if (rte_ring_sp_enqueue(w->learn_req, m) != 0)
		return false;
	w->client[c].learning++;
	return true;
}

bool pmx_own_mac_tx_ok(const struct pmx_client_slot *slot, const struct rte_mbuf *m,
		       const struct pmx_pkt_info *pi)
{
	static const uint8_t unspecified[16];
	const uint8_t *l3 = rte_pktmbuf_mtod_offset(m, const uint8_t *, pi->l3_offset);
	uint8_t src[16];

	switch (pi->cls) {
	case PMX_PKT_ARP: return arp_ok(slot, m, pi);
	case PMX_PKT_ND:
		/* duplicate address detection solicits from the unspecified address */
		return pmx_own_mac_declared(slot, l3 + 8) || memcmp(l3 + 8, unspecified, 16) == 0;
	case PMX_PKT_FLOW:
	case PMX_PKT_IP_OTHER:
	case PMX_PKT_ICMP_ERROR:
	case PMX_PKT_FRAGMENT:
	case PMX_PKT_MULTICAST:
		/* the outer source address, whatever the key says (ICMP errors: the quote) */
		if (pi->family == 4)
			pmx_ip4_to_key(l3 + 12, src);
		else if (pi->family == 6)
			memcpy(src, l3 + 8, 16);
		else
			return false;
		return pmx_own_mac_declared(slot, src) || dhcp_client_unbound(pi, src);
	default: return false; /* non-IP, malformed */
	}
}

/* Did client `from` send m from its own MAC (a host of its own on the port's segment)? */
static bool from_own_host(const struct pmx_switch *sw, uint16_t from,
			  const struct rte_ether_hdr *eth)
{
	const struct pmx_client_slot *slot;

	if (from >= sw->clients_max) /* the kernel */
		return false;
	slot = &sw->clients[from];
	return __atomic_load_n(&slot->has_mac, __ATOMIC_ACQUIRE) &&
	       rte_is_same_ether_addr(&eth->src_addr, &slot->mac);
}

/* What a host of its own sends to the appliance's MAC is handled as from the wire: ARP and ND
 * to the kernel (as its policy admits) with a copy to every other client; IP to the owner of
 * the local address it is for, else to the kernel (whose MAC it was sent to). */
static void host_to_appliance(struct pmx_worker *w, unsigned p, struct rte_mbuf *m,
			      const struct pmx_pkt_info *pi, uint16_t from)
{
	uint16_t dest;

	if (pi->cls == PMX_PKT_ARP || pi->cls == PMX_PKT_ND) {
		pmx_mirror_to_set(w, w->sw->port_clients[p], m, from);
		dest = pmx_kernel_admits_mirror(w, pi) ? PMX_DEST_KERNEL
						       : PMX_DEST_DROP(PMX_DROP_FIREWALL);
	} else if (!pmx_local_dest(w, p, m, pi, true, &dest)) {
		dest = PMX_DEST_KERNEL;
	}
	pmx_deliver(w, p, dest, &m, 1);
}

/* A broadcast or multicast from a host of its own reaches what a wire's would: the kernel (as
 * its policy admits) and every other client get copies; the caller puts m on the wire. */
static void host_broadcast(struct pmx_worker *w, unsigned p, struct rte_mbuf *m,
			   const struct pmx_pkt_info *pi, uint16_t from)
{
	struct rte_mbuf *copy;

	pmx_mirror_to_set(w, w->sw->port_clients[p], m, from);
	if (pmx_kernel_admits_mirror(w, pi)) {
		copy = rte_pktmbuf_copy(m, w->sw->pool, 0, UINT32_MAX);
		if (copy != NULL)
			pmx_kernel_deliver(w, p, &copy, 1);
		else
			w->drops[PMX_DROP_NOMEM]++;
	}
}

enum pmx_own_mac_way pmx_own_mac_send(struct pmx_worker *w, unsigned p, struct rte_mbuf *m,
				      const struct pmx_pkt_info *pi, uint16_t from)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	struct pmx_switch *sw = w->sw;
	bool host = from_own_host(sw, from, eth);
	uint16_t c;

	if (!rte_is_unicast_ether_addr(&eth->dst_addr)) {
		if (host) {
			host_broadcast(w, p, m, pi, from);
			return PMX_OWN_MAC_WIRE;
		}
		/* the kernel's or a shared-MAC client's: the hosts of their own get a copy */
		pmx_mirror_to_set(w, sw->port_own_macs[p], m, from);
		return PMX_OWN_MAC_USUAL;
	}
	if (rte_is_same_ether_addr(&eth->dst_addr, &sw->ports[p].mac)) {
		if (!host)
			return PMX_OWN_MAC_USUAL;
		host_to_appliance(w, p, m, pi, from);
		return PMX_OWN_MAC_DONE;
	}
	c = pmx_own_mac_client(sw, p, &eth->dst_addr);
	if (c == PMX_OWNER_NONE)
		return PMX_OWN_MAC_USUAL; /* another host on the wire */
	/* pi as the receiver sees it: a DHCP server of the appliance may answer the client */
	if (pmx_own_mac_dhcp_hold(w, c, m, pi))
		return PMX_OWN_MAC_DONE;
	if (sw->clients[c].n_queues > 1)
		PMX_FLOW_QUEUE_HASH(m) = pmx_flow_queue_hash(&pi->key, !pi->is_fragment);
	pmx_client_deliver(w, c, &m, 1);
	return PMX_OWN_MAC_DONE;
}
