/* kernel_policy.c - which unowned frames the kernel may have (policy pass or firewall: replies
 * to its own connections, the allow list, ARP/ND/DHCP); read on the RX lcores */
#include <arpa/inet.h>

#include "stages.h"

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

		if (a->proto == key->proto && ((a->port_lo == 0 && a->port_hi == 0) ||
					       (port >= a->port_lo && port <= a->port_hi)))
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
