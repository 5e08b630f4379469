/* own_mac.c - clients with a MAC of their own (wire or appliance -> that client by destination
 * MAC; client -> switch: the source MAC/IP pair it may send from) */
#include <string.h>

#include <rte_arp.h>
#include <rte_ether.h>

#include "pmx_packet.h"
#include "pmx_switch.h"

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

static bool declared(const struct pmx_client_slot *slot, const uint8_t ip[16])
{
	for (unsigned i = 0; i < slot->n_own_addrs; i++)
		if (memcmp(slot->own_addrs[i], ip, 16) == 0)
			return true;
	return false;
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
	return declared(slot, spa);
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
		return declared(slot, l3 + 8) || memcmp(l3 + 8, unspecified, 16) == 0;
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
		return declared(slot, src);
	default: return false; /* non-IP, malformed */
	}
}

void pmx_own_mac_mirror(struct pmx_worker *w, unsigned p, struct rte_mbuf *m, uint16_t from)
{
	pmx_mirror_to_set(w, w->sw->port_own_macs[p], m, from);
}
