/* learn.c - outgoing connections of clients (client TX -> management lcore -> back to the RX
 * lcore -> wire): the first frame from a free local port makes a learned rule of its client;
 * learned rules idle for too long are forgotten */
#include <string.h>

#include <rte_cycles.h>

#include "ctl_args.h"
#include "ctl_checks.h"
#include "ctl_rules.h"
#include "pmx_packet.h"
#include "port_reserve.h"

#define LEARNED_IDLE_S 120 /* a learned connection without traffic for this long is dropped */

/* May client c take the local end of key? Its address must be the port's or claimed by c;
 * the port must be nobody's: no listener, no other owner of the address (the kernel's: see
 * learn_one()). */
static bool may_learn(struct pmx_ctl *ctl, uint16_t c, const struct pmx_flow_key *key)
{
	struct pmx_flow_key k;
	uint8_t addrs[PMX_MAX_ADDRS][16];
	unsigned n = pmx_port_addresses(ctl, key->port_id, addrs, PMX_MAX_ADDRS);
	bool own = false;
	uint32_t id;

	for (unsigned i = 0; i < n && !own; i++)
		own = memcmp(addrs[i], key->local_ip, 16) == 0;
	pmx_flow_key_reduce(key, PMX_KEY_IP, 0, &k);
	id = pmx_flow_table_find(ctl->sw->ft, &k);
	if (id != PMX_RULE_NONE) {
		if (pmx_flow_table_rule(ctl->sw->ft, id)->owner != c)
			return false;
		own = true;
	}
	if (!own)
		return false;
	for (int any = 0; any <= 1; any++) {
		pmx_flow_key_reduce(key, PMX_KEY_LISTEN, any, &k);
		if (pmx_flow_table_find(ctl->sw->ft, &k) != PMX_RULE_NONE)
			return false;
		/* usnetd's whole-protocol match of someone else, from that peer or any */
		pmx_flow_key_reduce(key, PMX_KEY_PROTO, any, &k);
		id = pmx_flow_table_find(ctl->sw->ft, &k);
		if (id != PMX_RULE_NONE && pmx_flow_table_rule(ctl->sw->ft, id)->owner != c)
			return false;
	}
	return true;
}

/* Learn the connection of one frame; true when it may leave. */
static bool learn_one(struct pmx_ctl *ctl, struct rte_mbuf *m)
{
	uint16_t c = (uint16_t)PMX_LEARN_CLIENT(m);
	struct pmx_ctl_session *s = c < PMX_MAX_CLIENTS ? ctl->client_session[c] : NULL;
	struct pmx_pkt_info pi;
	uint32_t rule_id, handle = 0;

	if (s == NULL || ctl->sw->clients[c].state != PMX_SLOT_ACTIVE ||
	    s->n_rules >= ctl->cfg->client_rule_quota)
		return false;
	if (pmx_packet_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m),
			     PMX_DIR_OUT, &pi) != PMX_PKT_FLOW)
		return false;
	pi.key.port_id = ctl->sw->clients[c].port;
	if (pmx_flow_table_find(ctl->sw->ft, &pi.key) != PMX_RULE_NONE) {
		/* learned already from an earlier frame of the same burst */
		return pmx_flow_table_rule(ctl->sw->ft, pmx_flow_table_find(ctl->sw->ft, &pi.key))
			       ->owner == c;
	}
	if (!may_learn(ctl, c, &pi.key))
		return false;
	/* held against the kernel while the rule lives, as a connect rule's port (ctl_rules.c);
	 * binding it is also the check that the kernel does not use it. Without a kernel path
	 * nothing is held, but a port bound in the daemon's namespace is still not taken. */
	if (pmx_ctl_port_has_kernel(ctl, pi.key.port_id)
		    ? pmx_port_resv_get(ctl->resv, &pi.key, &handle) != 0
		    : pmx_port_resv_probe(ctl->resv, &pi.key))
		return false;
	if (pmx_flow_table_add(ctl->sw->ft, &pi.key, c, PMX_ORIGIN_LEARNED, &rule_id) != 0) {
		pmx_port_resv_put(ctl->resv, handle);
		return false;
	}
	pmx_port_resv_assign(ctl->resv, rule_id, handle);
	s->n_rules++;
	return true;
}

/* The MAC a frame held with PMX_LEARN_MAC was sent from, learned (or not) as c's own. */
static int mac_learn_frame(struct pmx_ctl *ctl, uint16_t c, const struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	struct pmx_ctl_error e;

	return pmx_mac_learn(ctl, c, &eth->src_addr, &e);
}

unsigned pmx_learn_poll(struct pmx_ctl *ctl)
{
	struct pmx_switch *sw = ctl->sw;
	unsigned total = 0;

	for (unsigned w = 0; w < sw->n_workers; w++) {
		struct pmx_worker *wk = sw->workers[w];
		struct rte_mbuf *pkts[32];
		unsigned n = rte_ring_sc_dequeue_burst(wk->learn_req, (void **)pkts, 32, NULL);

		if (n == 0)
			continue;
		for (unsigned i = 0; i < n; i++) {
			uint32_t tag = PMX_LEARN_CLIENT(pkts[i]);

			/* back to the RX lcore either way: it sends or drops and counts */
			if (tag & PMX_LEARN_DHCP) { /* a DHCP reply for a client: dhcp_lease.c */
				if (!pmx_dhcp_lease_frame(ctl, (uint16_t)tag, pkts[i]))
					PMX_LEARN_CLIENT(pkts[i]) |= PMX_LEARN_REFUSED;
			} else if (tag & PMX_LEARN_MAC) { /* from a MAC of its own: mac_learn.c */
				if (mac_learn_frame(ctl, (uint16_t)tag, pkts[i]) != 0)
					PMX_LEARN_CLIENT(pkts[i]) |= PMX_LEARN_REFUSED;
			} else if (learn_one(ctl, pkts[i])) {
				ctl->learned++;
			} else {
				ctl->learn_refused++;
				PMX_LEARN_CLIENT(pkts[i]) |= PMX_LEARN_REFUSED;
			}
			if (rte_ring_sp_enqueue(wk->learn_ret, pkts[i]) != 0)
				rte_pktmbuf_free(
					pkts[i]); /* cannot happen: same size as learn_req */
		}
		total += n;
	}
	return total;
}

void pmx_learn_age(struct pmx_ctl *ctl)
{
	struct pmx_flow_table *ft = ctl->sw->ft;
	uint32_t limit = pmx_flow_table_id_limit(ft);
	uint64_t now = rte_rdtsc(), idle = rte_get_tsc_hz() * LEARNED_IDLE_S;

	pmx_dhcp_lease_age(ctl); /* the clients' DHCP addresses age on the same tick */

	for (uint32_t id = 0; id < limit; id++) {
		struct pmx_rule *r = (struct pmx_rule *)pmx_flow_table_rule(ft, id);
		uint64_t hits;

		if (r == NULL || r->origin != PMX_ORIGIN_LEARNED || r->owner >= PMX_MAX_CLIENTS)
			continue;
		hits = pmx_flow_table_hits(ft, id);
		if (hits != r->hits_seen) {
			r->hits_seen = hits;
			r->last_used = now;
		} else if (now - r->last_used > idle) {
			pmx_ctl_rule_delete(
				ctl, id); /* with its client's count and its hold on the port */
		}
	}
}
