/* ctl_own_mac.c - hello's "mac" and "addresses": a client with a MAC of its own (who may ask,
 * the quota, a unicast MAC no one else has, addresses no one else has) */
#include <stdio.h>
#include <string.h>

#include <rte_ether.h>

#include "ctl_checks.h"
#include "ctl_own_mac.h"
#include "pmx_packet.h"

bool pmx_ctl_host_address(const uint8_t ip[16])
{
	static const uint8_t any[16];
	static const uint8_t loopback6[16] = {[15] = 1};

	if (memcmp(ip, any, 16) == 0)
		return false;
	if (pmx_key_ip_is_v4(ip))
		return ip[12] != 0 && ip[12] != 127 && ip[12] < 224;
	return ip[0] != 0xff && memcmp(ip, loopback6, 16) != 0;
}

int pmx_ctl_own_mac_free(const struct pmx_ctl *ctl, const struct rte_ether_addr *mac,
			 struct pmx_ctl_error *e)
{
	const struct pmx_switch *sw = ctl->sw;
	unsigned with_mac = 0;

	for (unsigned q = 0; q < sw->n_ports; q++)
		if (rte_is_same_ether_addr(mac, &sw->ports[q].mac))
			return pmx_ctl_fail(e, "EADDRINUSE",
					    "\"mac\" is the MAC of port %s (the kernel's)",
					    sw->ports[q].name);
	for (unsigned id = 0; id < sw->clients_max; id++) {
		const struct pmx_client_slot *slot = &sw->clients[id];

		if (slot->state != PMX_SLOT_ACTIVE || !slot->has_mac)
			continue;
		if (rte_is_same_ether_addr(mac, &slot->mac))
			return pmx_ctl_fail(e, "EADDRINUSE", "\"mac\" is client %u's already", id);
		with_mac++;
	}
	if (with_mac >= ctl->cfg->client_own_macs)
		return pmx_ctl_fail(e, "EDQUOT",
				    "%u clients have a MAC of their own, clients.own_macs "
				    "is %u",
				    with_mac, ctl->cfg->client_own_macs);
	return 0;
}

/* "addresses": 1..PMX_OWN_MAC_ADDRS host addresses, distinct, nobody else's on port p. */
static int own_addresses(const struct pmx_ctl *ctl, json_t *req, unsigned p,
			 struct pmx_ctl_own_mac_req *om, struct pmx_ctl_error *e)
{
	json_t *arr = json_object_get(req, "addresses"), *a;
	struct pmx_flow_key claim = {.kind = PMX_KEY_IP, .port_id = (uint16_t)p};
	size_t i;

	if (arr == NULL)
		return 0; /* none yet: it gets them by DHCP (dhcp_lease.c) */
	if (!json_is_array(arr) || json_array_size(arr) > PMX_OWN_MAC_ADDRS)
		return pmx_ctl_fail(e, "EINVAL",
				    "\"addresses\" must be an array of 0..%u addresses "
				    "(the client's own, with \"mac\"; the others by DHCP)",
				    PMX_OWN_MAC_ADDRS);
	json_array_foreach(arr, i, a)
	{
		uint8_t *ip = om->addrs[i];
		const char *s = json_string_value(a);
		uint32_t rule;
		int holder;

		if (s == NULL || pmx_addr_parse(s, ip) != 0 || !pmx_ctl_host_address(ip))
			return pmx_ctl_fail(e, "EINVAL",
					    "addresses[%zu]: must be a unicast IPv4 or IPv6 "
					    "address",
					    i);
		for (size_t j = 0; j < i; j++)
			if (memcmp(om->addrs[j], ip, 16) == 0)
				return pmx_ctl_fail(e, "EINVAL", "addresses[%zu]: given twice", i);
		if (pmx_ctl_is_own_address(ctl, p, ip))
			return pmx_ctl_fail(e, "EADDRINUSE",
					    "addresses[%zu]: %.45s is an address of "
					    "port %s (the kernel's)",
					    i, s, ctl->sw->ports[p].name);
		holder = pmx_ctl_own_mac_holder(ctl, p, ip);
		if (holder >= 0)
			return pmx_ctl_fail(e, "EADDRINUSE", "addresses[%zu]: %.45s is client %d's",
					    i, s, holder);
		memcpy(claim.local_ip, ip, 16);
		rule = pmx_flow_table_find(ctl->sw->ft, &claim);
		if (rule != PMX_RULE_NONE)
			return pmx_ctl_fail(e, "EADDRINUSE",
					    "addresses[%zu]: %.45s is claimed (rule %u)", i, s,
					    rule);
	}
	om->n = (unsigned)json_array_size(arr);
	return 0;
}

int pmx_ctl_own_mac_args(struct pmx_ctl *ctl, const struct pmx_ctl_session *s, json_t *req,
			 unsigned p, struct pmx_ctl_own_mac_req *om, struct pmx_ctl_error *e)
{
	const char *text = NULL;

	memset(om, 0, sizeof(*om));
	if (pmx_ctl_arg_string(req, "mac", false, &text, e))
		return -1;
	if (text == NULL)
		return json_object_get(req, "addresses") == NULL
			       ? 0
			       : pmx_ctl_fail(e, "EINVAL",
					      "\"addresses\" come with \"mac\" (a client "
					      "with a MAC of its own)");
	if (!s->admin)
		return pmx_ctl_fail(e, "EPERM", "\"mac\" needs root or control.group");
	if (rte_ether_unformat_addr(text, &om->mac) != 0)
		return pmx_ctl_fail(e, "EINVAL",
				    "\"mac\" must be a MAC address like 02:00:00:00:00:10");
	if (!rte_is_valid_assigned_ether_addr(&om->mac))
		return pmx_ctl_fail(e, "EINVAL", "\"mac\" must be a unicast MAC, not zero");
	if (pmx_ctl_own_mac_free(ctl, &om->mac, e) || own_addresses(ctl, req, p, om, e))
		return -1;
	om->set = true;
	return 0;
}
