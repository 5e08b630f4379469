/* mac_learn.c - a usnetd client's MAC of its own, learned from what it sends (client TX -> RX
 * lcore -> learn ring -> management lcore -> back): its first frame from a MAC not the port's
 * makes that MAC its own where usnetd.own_macs and clients.own_macs allow it, else refused
 * with one log line that says why */
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include <rte_ether.h>

#include "client_registry.h"
#include "ctl_checks.h"
#include "ctl_own_mac.h"
#include "pmx_log.h"
#include "pmx_packet.h"

/* The checks, in the order a refusal names them. 0 or -1 with e. */
static int may_learn(struct pmx_ctl *ctl, uint16_t c, const struct rte_ether_addr *mac,
		     struct pmx_ctl_error *e)
{
	const struct pmx_client_slot *slot = &ctl->sw->clients[c];
	char text[RTE_ETHER_ADDR_FMT_SIZE];

	if (slot->state != PMX_SLOT_ACTIVE || ctl->client_session[c] == NULL)
		return pmx_ctl_fail(e, "ENOENT", "the client has left");
	if (slot->has_mac) {
		if (rte_is_same_ether_addr(mac, &slot->mac))
			return 0;
		rte_ether_format_addr(text, sizeof(text), &slot->mac);
		return pmx_ctl_fail(e, "EEXIST",
				    "it has a MAC of its own already (%s): one a client", text);
	}
	if (slot->mac_learn != PMX_MAC_LEARN_ON)
		return pmx_ctl_fail(e, "EPERM",
				    "a MAC is learned for usnetd clients only (others: hello "
				    "\"mac\")");
	if (!ctl->cfg->usnetd_own_macs)
		return pmx_ctl_fail(e, "EPERM",
				    "usnetd.own_macs is false in the config (a usnetd client "
				    "sends from the port's MAC: usnet_sockets' Mac::Passthru)");
	if (!rte_is_valid_assigned_ether_addr(mac))
		return pmx_ctl_fail(e, "EINVAL", "not a unicast MAC");
	return pmx_ctl_own_mac_free(ctl, mac, e);
}

/* The addresses client c's rules on its port name (a match's dst_addr) that nobody else has,
 * up to PMX_OWN_MAC_ADDRS: the addresses it sends from with its MAC. */
static unsigned rule_addresses(struct pmx_ctl *ctl, uint16_t c, uint8_t (*addrs)[16])
{
	const struct pmx_switch *sw = ctl->sw;
	uint32_t limit = pmx_flow_table_id_limit(sw->ft);
	unsigned n = 0, p = sw->clients[c].port;

	for (uint32_t id = 0; id < limit && n < PMX_OWN_MAC_ADDRS; id++) {
		const struct pmx_rule *r = pmx_flow_table_rule(sw->ft, id);
		bool seen = false;
		int holder;

		if (r == NULL || r->owner != c || r->key.port_id != p ||
		    !pmx_ctl_host_address(r->key.local_ip) ||
		    pmx_ctl_is_own_address(ctl, p, r->key.local_ip))
			continue;
		holder = pmx_ctl_own_mac_holder(ctl, p, r->key.local_ip);
		if (holder >= 0 && holder != c)
			continue;
		for (unsigned i = 0; i < n && !seen; i++)
			seen = memcmp(addrs[i], r->key.local_ip, 16) == 0;
		if (!seen)
			memcpy(addrs[n++], r->key.local_ip, 16);
	}
	return n;
}

int pmx_mac_learn(struct pmx_ctl *ctl, uint16_t c, const struct rte_ether_addr *mac,
		  struct pmx_ctl_error *e)
{
	struct pmx_ctl_session *s = c < PMX_MAX_CLIENTS ? ctl->client_session[c] : NULL;
	char text[RTE_ETHER_ADDR_FMT_SIZE];
	uint8_t addrs[PMX_OWN_MAC_ADDRS][16];
	bool had = c < ctl->sw->clients_max && ctl->sw->clients[c].has_mac;
	unsigned n;

	rte_ether_format_addr(text, sizeof(text), mac);
	if (c >= ctl->sw->clients_max)
		return pmx_ctl_fail(e, "ENOENT", "no client %u", c);
	if (may_learn(ctl, c, mac, e) != 0) {
		if (ctl->sw->clients[c].mac_learn == PMX_MAC_LEARN_ON) {
			/* once: its later frames are spoofed on the RX lcore */
			pmx_registry_mac_learn(ctl->sw, c, PMX_MAC_LEARN_OFF);
			PMX_LOG(NOTICE, ctl,
				"client %u \"%s\": frames from MAC %s refused (drops.spoofed): %s "
				"(%s)",
				c, s != NULL ? s->name : "?", text, e->message, e->code);
		}
		ctl->mac_refused++;
		return -1;
	}
	if (had)
		return 0;
	n = rule_addresses(ctl, c, addrs);
	pmx_registry_own_mac(ctl->sw, c, mac, (const uint8_t(*)[16])addrs, n);
	pmx_registry_mac_learn(ctl->sw, c, PMX_MAC_LEARNED);
	ctl->mac_learned++;
	PMX_LOG(INFO, ctl,
		"client %u \"%s\": MAC %s learned from its frames (its own now, with %u addresses "
		"of its matches; more by DHCP or AddMatch)",
		c, s->name, text, n);
	return 0;
}

void pmx_mac_learn_rule_addr(struct pmx_ctl *ctl, uint16_t c, const uint8_t ip[16])
{
	const struct pmx_client_slot *slot = &ctl->sw->clients[c];
	char text[INET6_ADDRSTRLEN];
	const char *why = NULL;

	if (slot->mac_learn != PMX_MAC_LEARNED || !slot->has_mac || !pmx_ctl_host_address(ip) ||
	    pmx_own_mac_declared(slot, ip) || pmx_ctl_is_own_address(ctl, slot->port, ip))
		return;
	if (pmx_ctl_own_addr_add(ctl, c, ip, 0, &why) != 0)
		PMX_LOG(NOTICE, ctl, "client %u: %s is not one of its own addresses: %s", c,
			pmx_addr_str(ip, text, sizeof(text)), why);
}
