/* dhcp_lease.c - addresses a client with a MAC of its own gets by DHCP (wire -> RX lcore ->
 * management lcore -> that client): the ACK it is sent makes the address its own, checked and
 * enforced on its sources, until the lease or the client ends */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>

#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "ctl_checks.h"
#include "pmx_log.h"
#include "pmx_packet.h"

#define BOOTP_CHADDR 28   /* offset of the client hardware address */
#define BOOTP_YIADDR 16   /* "your" address */
#define BOOTP_OPTIONS 240 /* after the fixed part and the magic cookie */
#define BOOTP_REPLY 2
#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68
#define DHCP_MAGIC 0x63825363u
#define OPT_PAD 0
#define OPT_LEASE_TIME 51
#define OPT_MESSAGE_TYPE 53
#define OPT_END 255
#define DHCPACK 5

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int pmx_dhcp_ack_parse(const uint8_t *frame, uint32_t len, const struct rte_ether_addr *mac,
		       uint8_t ip[16], uint32_t *lease_s)
{
	struct pmx_pkt_info pi;
	const uint8_t *b, *opt, *end;
	int type = -1;

	*lease_s = UINT32_MAX;
	if (pmx_packet_parse(frame, len, PMX_DIR_IN, &pi) == PMX_PKT_MALFORMED || pi.family != 4 ||
	    pi.is_fragment || pi.key.proto != PMX_PROTO_UDP ||
	    pi.key.local_port != RTE_BE16(DHCP_CLIENT_PORT) ||
	    pi.key.remote_port != RTE_BE16(DHCP_SERVER_PORT) || pi.l4_offset == 0 ||
	    len < pi.l4_offset + 8u + BOOTP_OPTIONS)
		return -EINVAL;
	b = frame + pi.l4_offset + 8;
	end = frame + len;
	if (b[0] != BOOTP_REPLY || b[1] != 1 || b[2] != RTE_ETHER_ADDR_LEN ||
	    memcmp(b + BOOTP_CHADDR, mac->addr_bytes, RTE_ETHER_ADDR_LEN) != 0 ||
	    rd32(b + BOOTP_OPTIONS - 4) != DHCP_MAGIC)
		return -EINVAL;
	for (opt = b + BOOTP_OPTIONS; opt < end && *opt != OPT_END;) {
		if (*opt == OPT_PAD) {
			opt++;
			continue;
		}
		if (opt + 2 > end || opt + 2 + opt[1] > end)
			return -EINVAL;
		if (opt[0] == OPT_MESSAGE_TYPE && opt[1] == 1)
			type = opt[2];
		else if (opt[0] == OPT_LEASE_TIME && opt[1] == 4)
			*lease_s = rd32(opt + 2);
		opt += 2 + opt[1];
	}
	if (type < 0)
		return -EINVAL;
	if (type != DHCPACK)
		return -ENOMSG;
	pmx_ip4_to_key(b + BOOTP_YIADDR, ip);
	if (rd32(b + BOOTP_YIADDR) == 0)
		return -EINVAL;
	return 0;
}

/* The lease record of client c, reset when the slot was attached again since. */
static struct pmx_ctl_leases *leases_of(struct pmx_ctl *ctl, uint16_t c)
{
	struct pmx_ctl_leases *l = &ctl->leases[c];
	uint32_t gen = ctl->sw->clients[c].generation;

	if (l->generation != gen) {
		memset(l, 0, sizeof(*l));
		l->generation = gen;
	}
	return l;
}

/* Is ip someone else's than c's on port p: the port's (the kernel's), another client's own
 * (declared or leased), or claimed? NULL or the words that say whose. */
static const char *taken_by(struct pmx_ctl *ctl, uint16_t c, unsigned p, const uint8_t ip[16])
{
	struct pmx_flow_key claim = {.kind = PMX_KEY_IP, .port_id = (uint16_t)p};
	const struct pmx_rule *r;
	int holder = pmx_ctl_own_mac_holder(ctl, p, ip);

	if (pmx_ctl_is_own_address(ctl, p, ip))
		return "an address of the port (the kernel's)";
	if (holder >= 0 && holder != c)
		return "another client's";
	memcpy(claim.local_ip, ip, 16);
	r = pmx_flow_table_rule(ctl->sw->ft, pmx_flow_table_find(ctl->sw->ft, &claim));
	if (r != NULL && r->owner != c)
		return "claimed by a rule";
	return NULL;
}

int pmx_ctl_own_addr_add(struct pmx_ctl *ctl, uint16_t c, const uint8_t ip[16], uint64_t expires,
			 const char **why)
{
	struct pmx_client_slot *slot = &ctl->sw->clients[c];
	struct pmx_ctl_leases *l = leases_of(ctl, c);
	unsigned n = slot->n_own_addrs;

	for (unsigned i = 0; i < n; i++)
		if (memcmp(slot->own_addrs[i], ip, 16) == 0) {
			if (l->expires[i] !=
			    0) /* a lease, renewed; an address of its hello stays */
				l->expires[i] = expires;
			return 0;
		}
	*why = taken_by(ctl, c, slot->port, ip);
	if (*why != NULL)
		return -EADDRINUSE;
	if (n >= PMX_OWN_MAC_ADDRS) {
		*why = "over its quota of addresses";
		return -EDQUOT;
	}
	/* the address first, then the count that makes the TX lcore read it */
	memcpy(slot->own_addrs[n], ip, 16);
	l->expires[n] = expires;
	__atomic_store_n(&slot->n_own_addrs, (uint8_t)(n + 1), __ATOMIC_RELEASE);
	return 0;
}

bool pmx_dhcp_lease_frame(struct pmx_ctl *ctl, uint16_t c, const struct rte_mbuf *m)
{
	const struct pmx_client_slot *slot = &ctl->sw->clients[c];
	const char *why = "not a client with a MAC of its own";
	char text[INET6_ADDRSTRLEN];
	uint64_t expires = UINT64_MAX;
	uint32_t lease_s;
	uint8_t ip[16];
	int ret;

	if (slot->state != PMX_SLOT_ACTIVE || !slot->has_mac)
		goto refused_quietly; /* it left meanwhile */
	ret = pmx_dhcp_ack_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m),
				 &slot->mac, ip, &lease_s);
	if (ret == -ENOMSG) /* an offer, a NAK: the client's business */
		return true;
	if (ret != 0)
		return true; /* not a DHCP ACK for it: an ordinary frame to its MAC */
	if (lease_s != UINT32_MAX)
		expires = rte_rdtsc() + rte_get_tsc_hz() * (uint64_t)lease_s;
	ret = pmx_ctl_own_addr_add(ctl, c, ip, expires, &why);
	pmx_addr_str(ip, text, sizeof(text));
	if (ret == 0) {
		ctl->dhcp_leased++;
		PMX_LOG(INFO, ctl, "client %u \"%s\": %s by DHCP for %u s", c,
			ctl->client_session[c] ? ctl->client_session[c]->name : "?", text, lease_s);
		return true;
	}
	PMX_LOG(NOTICE, ctl, "client %u: DHCP ACK for %s dropped: %s", c, text, why);
refused_quietly:
	ctl->dhcp_refused++;
	return false;
}

/* Take back the address at index i of client c's own addresses: the last one moves over it
 * (its old place still counted meanwhile), then the count goes down. */
static void lease_remove(struct pmx_ctl *ctl, uint16_t c, unsigned i)
{
	struct pmx_client_slot *slot = &ctl->sw->clients[c];
	struct pmx_ctl_leases *l = &ctl->leases[c];
	unsigned last = slot->n_own_addrs - 1u;

	if (i != last) {
		memcpy(slot->own_addrs[i], slot->own_addrs[last], 16);
		l->expires[i] = l->expires[last];
	}
	l->expires[last] = 0;
	__atomic_store_n(&slot->n_own_addrs, (uint8_t)last, __ATOMIC_RELEASE);
}

void pmx_dhcp_lease_age(struct pmx_ctl *ctl)
{
	uint64_t now = rte_rdtsc();
	char text[INET6_ADDRSTRLEN];

	for (uint16_t c = 0; c < ctl->sw->clients_max; c++) {
		const struct pmx_client_slot *slot = &ctl->sw->clients[c];
		struct pmx_ctl_leases *l = &ctl->leases[c];

		if (slot->state != PMX_SLOT_ACTIVE || !slot->has_mac ||
		    l->generation != slot->generation)
			continue;
		for (unsigned i = 0; i < slot->n_own_addrs;) {
			if (l->expires[i] == 0 || l->expires[i] > now) {
				i++;
				continue;
			}
			PMX_LOG(INFO, ctl, "client %u: DHCP lease of %s ended", c,
				pmx_addr_str(slot->own_addrs[i], text, sizeof(text)));
			lease_remove(ctl, c, i); /* the last one moved to i: look at i again */
		}
	}
}
