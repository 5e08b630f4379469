/* local_path.c - frames the appliance sends to itself (client -> kernel, client -> client,
 * kernel -> client): is an address the appliance's own, and who gets a frame sent to it */
#include <string.h>

#include <rte_arp.h>
#include <rte_ether.h>

#include "stages.h"

bool pmx_is_local_addr(const struct pmx_switch *sw, unsigned p, const uint8_t ip[16])
{
	unsigned active = __atomic_load_n(&sw->local_active, __ATOMIC_ACQUIRE);
	const struct pmx_local_addrs *la = &sw->local[active][p];

	for (unsigned i = 0; i < la->n; i++)
		if (memcmp(la->addr[i], ip, 16) == 0)
			return true;
	return false;
}

bool pmx_local_dest(struct pmx_worker *w, unsigned p, struct rte_mbuf *m,
		    const struct pmx_pkt_info *info, bool from_client, uint16_t *dest)
{
	struct pmx_pkt_info pi = *info; /* its key gets the port */
	const struct pmx_flow_key *key = &pi.key;
	uint16_t owner;

	switch (pi.cls) {
	case PMX_PKT_ARP: {
		/* a client asking for (or telling) one of our own addresses talks to the kernel */
		const struct rte_arp_hdr *arp = rte_pktmbuf_mtod_offset(
			m, const struct rte_arp_hdr *, pi.l3_offset);
		uint8_t tip[16];

		pmx_ip4_to_key((const uint8_t *)&arp->arp_data.arp_tip, tip);
		if (!from_client || !pmx_is_local_addr(w->sw, p, tip))
			return false;
		*dest = PMX_DEST_KERNEL;
		return true;
	}
	case PMX_PKT_FLOW:
	case PMX_PKT_IP_OTHER:
	case PMX_PKT_ICMP_ERROR:
	case PMX_PKT_FRAGMENT: break;
	default: return false;
	}
	if (pi.cls == PMX_PKT_ICMP_ERROR || pi.is_fragment) {
		/* for these the key is not the outer destination: look at the IP header */
		const uint8_t *l3 = rte_pktmbuf_mtod_offset(m, const uint8_t *, pi.l3_offset);
		uint8_t dst[16];

		if (pi.family == 4)
			pmx_ip4_to_key(l3 + 16, dst);
		else
			memcpy(dst, l3 + 24, 16);
		if (!pmx_is_local_addr(w->sw, p, dst))
			return false;
	} else if (!pmx_is_local_addr(w->sw, p, key->local_ip)) {
		return false;
	}
	pi.key.port_id = p;
	if (pi.cls == PMX_PKT_FRAGMENT)
		owner = pmx_frag_lookup(w, &pi);
	else
		pmx_flow_table_classify_bulk(w->sw->ft, w->id, &key, 1, &owner);
	if (owner == PMX_OWNER_NONE || owner == PMX_OWNER_KERNEL) {
		if (!from_client)
			return false; /* the kernel's own address: not ours to loop back */
		owner = PMX_DEST_KERNEL;
	} else if (owner == PMX_OWNER_DROP) {
		owner = PMX_DEST_DROP(PMX_DROP_RULE);
	} else if (owner == PMX_OWNER_ABSENT) {
		owner = PMX_DEST_DROP(PMX_DROP_OWNER_ABSENT);
	}
	*dest = owner;
	return true;
}
