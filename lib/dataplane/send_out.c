/* send_out.c - what a client or the kernel sends (client/kernel -> wire, or locally: to a
 * client with a MAC of its own, to the appliance's own addresses) */
#include <rte_mbuf_dyn.h>

#include "stages.h"

void pmx_send_out(struct pmx_worker *w, unsigned p, struct rte_mbuf **pkts,
		  const struct pmx_pkt_info *info, unsigned n, uint16_t from)
{
	struct rte_mbuf *wire[PMX_BURST];
	bool own_macs = pmx_own_mac_any(w->sw, p);
	unsigned n_wire = 0;

	for (unsigned i = 0; i < n; i++) {
		enum pmx_own_mac_way way;
		uint16_t dest;

		/* not from the NIC: no sample in the latency histograms when delivered here */
		pmx_latency_stamp(pkts[i], w->sw->rx_tsc_off, 0);
		way = own_macs ? pmx_own_mac_send(w, p, pkts[i], &info[i], from)
			       : PMX_OWN_MAC_USUAL;
		if (way == PMX_OWN_MAC_DONE)
			continue;
		if (way == PMX_OWN_MAC_USUAL &&
		    pmx_local_dest(w, p, pkts[i], &info[i], from != PMX_OWNER_KERNEL, &dest))
			pmx_deliver(w, p, dest, &pkts[i], 1);
		else
			wire[n_wire++] = pkts[i];
	}
	pmx_wire_send(w, p, wire, n_wire);
}
