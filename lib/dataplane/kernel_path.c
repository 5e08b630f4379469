/* kernel_path.c - the exception path, kernel -> wire (or locally to a client): learns the
 * connections the kernel opens, for policy firewall (kernel_policy.c) */
#include <arpa/inet.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "stages.h"

/* Parse what the kernel sends (once: info[] then goes along, as received) and remember its
 * connections, so that replies pass policy firewall. */
static void learn_kernel_flows(struct pmx_worker *w, unsigned p, struct rte_mbuf **pkts,
			       struct pmx_pkt_info *info, unsigned n)
{
	uint64_t now = rte_rdtsc();

	for (unsigned i = 0; i < n; i++) {
		struct pmx_pkt_info *pi = &info[i];
		enum pmx_pkt_class cls;

		cls = pmx_packet_parse(rte_pktmbuf_mtod(pkts[i], const uint8_t *),
				       rte_pktmbuf_data_len(pkts[i]), PMX_DIR_OUT, pi);
		pi->key.port_id = p;
		if (cls == PMX_PKT_FLOW || cls == PMX_PKT_IP_OTHER)
			pmx_lcore_table_put(&w->kconns, &pi->key, PMX_OWNER_KERNEL, now);
		pmx_packet_turn(pi); /* as the local destinations see it */
	}
}

unsigned pmx_kernel_rx_poll(struct pmx_worker *w, unsigned p)
{
	const struct pmx_port *port = &w->sw->ports[p];
	struct rte_mbuf *pkts[PMX_BURST];
	struct pmx_pkt_info info[PMX_BURST];
	unsigned n;

	if (port->exc == PMX_PORT_NONE)
		return 0;
	n = rte_eth_rx_burst(port->exc, w->id, pkts, PMX_BURST);
	if (n == 0)
		return 0;
	w->port[p].from_kernel += n;
	learn_kernel_flows(w, p, pkts, info, n);
	/* the kernel talking to an address a client claimed stays inside the appliance */
	pmx_send_out(w, p, pkts, info, n, PMX_OWNER_KERNEL);
	return n;
}
