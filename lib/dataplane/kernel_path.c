/* kernel_path.c - the exception path: unowned frames -> kernel, and kernel -> wire */
#include <rte_ethdev.h>

#include "pmx_switch.h"

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

unsigned pmx_kernel_rx_poll(struct pmx_worker *w, unsigned p)
{
	const struct pmx_port *port = &w->sw->ports[p];
	struct rte_mbuf *pkts[PMX_BURST];
	unsigned n;

	if (port->exc == PMX_PORT_NONE)
		return 0;
	n = rte_eth_rx_burst(port->exc, w->id, pkts, PMX_BURST);
	if (n == 0)
		return 0;
	w->port[p].from_kernel += n;
	pmx_wire_send(w, p, pkts, n);
	return n;
}
