/* kernel_path.c - the exception path: unowned frames -> kernel (under the kernel policy),
 * and kernel -> wire (learning the connections the kernel opens, for policy firewall) */
#include <arpa/inet.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "pmx_switch.h"

#define DHCP_CLIENT_PORT 68
#define DHCP6_CLIENT_PORT 546

/* Did the kernel open this connection (seen leaving through any RX lcore)? */
static bool kernel_opened(const struct pmx_worker *w, const struct pmx_flow_key *key)
{
	uint16_t value;

	return pmx_worker_table_get(w, PMX_TABLE_KCONNS, key, &value);
}

/* Is (proto, local port) on the allow list the management lcore published? */
static bool allowed(const struct pmx_dp_policy *policy, const struct pmx_flow_key *key)
{
	unsigned active = __atomic_load_n(&policy->active, __ATOMIC_ACQUIRE);
	const struct pmx_dp_allow *allow = &policy->allow[active];
	uint16_t port = ntohs(key->local_port);

	for (unsigned i = 0; i < allow->n; i++) {
		const struct pmx_proto_port *a = &allow->entry[i];

		if (a->proto == key->proto &&
		    ((a->port_lo == 0 && a->port_hi == 0) || (port >= a->port_lo && port <= a->port_hi)))
			return true;
	}
	return false;
}

static bool is_dhcp_client(const struct pmx_pkt_info *pi)
{
	uint16_t port = ntohs(pi->key.local_port);

	return pi->key.proto == PMX_PROTO_UDP &&
	       (port == DHCP_CLIENT_PORT || port == DHCP6_CLIENT_PORT);
}

/* Policy firewall: replies to the kernel's own connections, the allow list, DHCP. */
static bool firewall_admits(const struct pmx_worker *w, const struct pmx_pkt_info *pi)
{
	return allowed(&w->sw->policy, &pi->key) || kernel_opened(w, &pi->key) || is_dhcp_client(pi);
}

uint16_t pmx_kernel_policy_dest(struct pmx_worker *w, const struct pmx_pkt_info *pi)
{
	if (__atomic_load_n(&w->sw->kernel_policy, __ATOMIC_RELAXED) == PMX_POLICY_PASS)
		return PMX_DEST_KERNEL;
	if (firewall_admits(w, pi))
		return PMX_DEST_KERNEL;
	/* ICMP errors about the kernel's flows are quoted flows: checked above; echo
	 * replies are matched by identifier like any flow */
	return PMX_DEST_DROP(PMX_DROP_FIREWALL);
}

bool pmx_kernel_admits_mirror(const struct pmx_worker *w, const struct pmx_pkt_info *pi)
{
	if (__atomic_load_n(&w->sw->kernel_policy, __ATOMIC_RELAXED) == PMX_POLICY_PASS)
		return true;
	/* broadcast and multicast as any frame (an MLD report is ICMPv6: "icmpv6" admits it) */
	return pi->cls == PMX_PKT_ARP || pi->cls == PMX_PKT_ND || firewall_admits(w, pi);
}

/* Remember what the kernel sends, so that replies pass policy firewall. */
static void learn_kernel_flows(struct pmx_worker *w, unsigned p, struct rte_mbuf **pkts,
			       unsigned n)
{
	uint64_t now = rte_rdtsc();

	for (unsigned i = 0; i < n; i++) {
		struct pmx_pkt_info pi;
		enum pmx_pkt_class cls;

		cls = pmx_packet_parse(rte_pktmbuf_mtod(pkts[i], const uint8_t *),
				       rte_pktmbuf_data_len(pkts[i]), PMX_DIR_OUT, &pi);
		if (cls != PMX_PKT_FLOW && cls != PMX_PKT_IP_OTHER)
			continue;
		pi.key.port_id = p;
		pmx_lcore_table_put(&w->kconns, &pi.key, PMX_OWNER_KERNEL, now);
	}
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
	learn_kernel_flows(w, p, pkts, n);
	/* the kernel talking to an address a client claimed stays inside the appliance */
	pmx_send_out(w, p, pkts, n, PMX_OWNER_KERNEL);
	return n;
}
