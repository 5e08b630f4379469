/* ctl_stats.c - read-only JSON views of the switch (stats, rules, clients, ports) and stats baselines */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mempool.h>

#include "client_registry.h"
#include "static_rules.h"
#include "flow_offload.h"
#include "latency.h"
#include "mbuf_home.h"
#include "pmx_afpacket.h"
#include "port_reserve.h"
#include "uds_pump.h"
#include "usnetd_sock.h"

const char *pmx_ctl_proto_name(uint8_t proto, char *buf, size_t len)
{
	switch (proto) {
	case PMX_PROTO_TCP: return "tcp";
	case PMX_PROTO_UDP: return "udp";
	case PMX_PROTO_SCTP: return "sctp";
	case PMX_PROTO_UDPLITE: return "udplite";
	case PMX_PROTO_DCCP: return "dccp";
	case PMX_PROTO_ICMP: return "icmp";
	case PMX_PROTO_ICMPV6: return "icmpv6";
	default: snprintf(buf, len, "%u", proto); return buf;
	}
}

/* Owner of a rule as JSON: "kernel", "drop" or {"client_id": n, "name": ...}. */
static json_t *owner_json(const struct pmx_ctl *ctl, uint16_t owner)
{
	if (owner == PMX_OWNER_KERNEL)
		return json_string("kernel");
	if (owner == PMX_OWNER_DROP)
		return json_string("drop");
	if (owner < PMX_MAX_CLIENTS && ctl->client_session[owner] != NULL)
		return json_pack("{s:i, s:s}", "client_id", owner, "name",
				 ctl->client_session[owner]->name);
	return json_pack("{s:i}", "client_id", owner);
}

json_t *pmx_ctl_rule_owner_json(const struct pmx_ctl *ctl, uint32_t rule_id)
{
	const struct pmx_rule *r = pmx_flow_table_rule(ctl->sw->ft, rule_id);
	int i;

	if (r == NULL)
		return json_null();
	if (r->owner != PMX_OWNER_ABSENT)
		return owner_json(ctl, r->owner);
	i = pmx_ctl_static_rule_index(ctl, rule_id);
	return json_pack("{s:s}", "name", i >= 0 ? ctl->cfg->rules[i].owner : "");
}

json_t *pmx_ctl_rule_json(struct pmx_ctl *ctl, uint32_t id)
{
	static const char *const kinds[] = {"", "connect", "listen", "ip", "", "peer", "proto"};
	static const char *const origins[] = {"client", "admin", "learned", "config"};
	const struct pmx_rule *r = pmx_flow_table_rule(ctl->sw->ft, id);
	char lip[INET6_ADDRSTRLEN] = "*", rip[INET6_ADDRSTRLEN] = "", pbuf[8];
	static const uint8_t any[16];
	json_t *j;

	if (r == NULL || r->key.kind < PMX_KEY_EXACT || r->key.kind >= RTE_DIM(kinds) ||
	    r->key.kind == PMX_KEY_FRAG ||
	    r->origin >= RTE_DIM(origins) || r->key.port_id >= ctl->sw->n_ports)
		return NULL;
	if (memcmp(r->key.local_ip, any, 16) != 0)
		pmx_addr_str(r->key.local_ip, lip, sizeof(lip));
	if (memcmp(r->key.remote_ip, any, 16) != 0) /* connect, peer, proto from a peer */
		pmx_addr_str(r->key.remote_ip, rip, sizeof(rip));
	j = json_pack("{s:I, s:s, s:s, s:s, s:s, s:o, s:I, s:b}", "rule_id", (json_int_t)id, "kind",
		      kinds[r->key.kind], "origin", origins[r->origin], "port",
		      ctl->sw->ports[r->key.port_id].name, "local_ip", lip, "owner",
		      pmx_ctl_rule_owner_json(ctl, id), "hits",
		      (json_int_t)pmx_flow_table_hits(ctl->sw->ft, id), "reserved",
		      ctl->resv != NULL && pmx_port_resv_held(ctl->resv, id));
	if (r->key.kind != PMX_KEY_IP)
		json_object_set_new(
			j, "proto",
			json_string(pmx_ctl_proto_name(r->key.proto, pbuf, sizeof(pbuf))));
	if (r->key.kind != PMX_KEY_IP && r->key.kind != PMX_KEY_PROTO) /* proto: every port */
		json_object_set_new(j, "local_port", json_integer(ntohs(r->key.local_port)));
	if (rip[0] != '\0')
		json_object_set_new(j, "remote_ip", json_string(rip));
	if (r->key.kind == PMX_KEY_EXACT)
		json_object_set_new(j, "remote_port", json_integer(ntohs(r->key.remote_port)));
	return j;
}

json_t *pmx_ctl_rules_json(struct pmx_ctl *ctl, int only_owner)
{
	uint32_t limit = pmx_flow_table_id_limit(ctl->sw->ft);
	json_t *arr = json_array();

	for (uint32_t id = 0; id < limit; id++) {
		const struct pmx_rule *r = pmx_flow_table_rule(ctl->sw->ft, id);
		json_t *j;

		if (r == NULL || (only_owner >= 0 && r->owner != only_owner))
			continue;
		j = pmx_ctl_rule_json(ctl, id);
		if (j != NULL)
			json_array_append_new(arr, j);
	}
	return arr;
}

/* Frames waiting in all of a client's RX rings. */
static unsigned rx_ring_count(const struct pmx_client_slot *slot)
{
	unsigned n = 0;

	for (unsigned q = 0; q < slot->n_queues; q++)
		n += rte_ring_count(slot->rx_ring[q]);
	return n;
}

/* A client's latency, NIC RX burst -> its dequeue: samples and p50/p99/max in ns (0 while
 * there is no sample). */
static json_t *latency_json(const struct pmx_switch *sw, uint16_t id)
{
	static const struct {
		const char *key;
		double q;
	} pct[] = {{"p50_ns", 0.50}, {"p99_ns", 0.99}};
	uint64_t hz = rte_get_tsc_hz(), cycles;
	struct pmx_lat_hist h;
	json_t *j;

	pmx_latency_read(sw, id, &h);
	j = json_pack("{s:I}", "samples", (json_int_t)h.samples);
	for (unsigned i = 0; i < RTE_DIM(pct); i++) {
		if (pmx_lat_percentile(&h, pct[i].q, &cycles) != 0)
			cycles = 0;
		json_object_set_new(j, pct[i].key,
				    json_integer((json_int_t)pmx_lat_cycles_to_ns(cycles, hz)));
	}
	json_object_set_new(j, "max_ns", json_integer((json_int_t)pmx_lat_cycles_to_ns(h.max, hz)));
	return j;
}

static const char *channel_name(uint8_t channel)
{
	switch (channel) {
	case PMX_CHANNEL_MEMIF: return "memif";
	case PMX_CHANNEL_UDS: return "uds";
	default: return "ring";
	}
}

/* What the uds I/O thread did for client id (uds_pump.h), since it attached. */
static json_t *uds_json(const struct pmx_uds_pump *p, uint16_t id)
{
	const struct pmx_uds_counts *k;

	if (p == NULL)
		return json_null();
	k = &p->count[id];
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "sent",
			 (json_int_t)__atomic_load_n(&k->sent, __ATOMIC_RELAXED), "socket_full",
			 (json_int_t)__atomic_load_n(&k->socket_full, __ATOMIC_RELAXED),
			 "received", (json_int_t)__atomic_load_n(&k->received, __ATOMIC_RELAXED),
			 "oversize", (json_int_t)__atomic_load_n(&k->oversize, __ATOMIC_RELAXED),
			 "malformed", (json_int_t)__atomic_load_n(&k->malformed, __ATOMIC_RELAXED),
			 "nomem", (json_int_t)__atomic_load_n(&k->nomem, __ATOMIC_RELAXED));
}

/* The addresses a client with a MAC of its own sends from: its hello's, then its DHCP ones. */
static json_t *own_addresses_json(const struct pmx_client_slot *slot)
{
	char buf[INET6_ADDRSTRLEN];
	json_t *arr = json_array();

	for (unsigned i = 0; i < slot->n_own_addrs; i++)
		json_array_append_new(arr,
				      json_string(pmx_addr_str(slot->own_addrs[i], buf, sizeof(buf))));
	return arr;
}

json_t *pmx_ctl_clients_json(struct pmx_ctl *ctl)
{
	json_t *arr = json_array();

	for (unsigned id = 0; id < ctl->sw->clients_max; id++) {
		const struct pmx_ctl_session *s = ctl->client_session[id];
		struct pmx_client_counters c;

		if (s == NULL)
			continue;
		pmx_registry_client_counters(ctl->sw, id, &c);
		json_t *client = json_pack(
			"{s:i, s:s, s:i, s:i, s:s, s:i, s:i, s:I, s:I, s:I, s:I, s:I}", "client_id",
			id, "name", s->name, "pid", (int)s->pid, "uid", (int)s->uid, "port",
			ctl->sw->ports[ctl->sw->clients[id].port].name, "lcore",
			pmx_registry_client_lcore(ctl->sw, id), "rules", s->n_rules, "rx",
			(json_int_t)c.rx, "ring_full", (json_int_t)c.ring_full, "tx",
			(json_int_t)c.tx, "spoofed", (json_int_t)c.spoofed, "rx_ring_count",
			(json_int_t)rx_ring_count(&ctl->sw->clients[id]));
		const struct pmx_client_slot *slot = &ctl->sw->clients[id];

		json_object_set_new(client, "channel", json_string(channel_name(slot->channel)));
		json_object_set_new(client, "queues", json_integer(slot->n_queues));
		json_object_set_new(client, "learning", json_integer((json_int_t)c.learning));
		if (slot->channel == PMX_CHANNEL_RING) /* lent and not back yet (mbuf_home.h) */
			json_object_set_new(client, "held",
					    json_integer(c.lent > c.returned
							     ? (json_int_t)(c.lent - c.returned)
							     : 0));
		if (slot->channel == PMX_CHANNEL_UDS)
			json_object_set_new(client, "uds", uds_json(ctl->sw->uds, id));
		if (slot->has_mac) {
			char mac[RTE_ETHER_ADDR_FMT_SIZE];

			rte_ether_format_addr(mac, sizeof(mac), &slot->mac);
			json_object_set_new(client, "mac", json_string(mac));
			json_object_set_new(client, "addresses", own_addresses_json(slot));
		}
		json_object_set_new(client, "latency", latency_json(ctl->sw, id));
		json_array_append_new(arr, client);
	}
	return arr;
}

/* An ethdev's counters. afp: an af_packet port's own (since the last clear), for its ring
 * ethdev, which counts no bytes and misses nothing: the socket's drops are its imissed. */
static json_t *ethdev_json(const struct pmx_ctl *ctl, uint16_t port_id,
			   const struct pmx_afp_stats *afp)
{
	struct rte_eth_stats st;

	if (port_id == PMX_PORT_NONE || port_id >= RTE_MAX_ETHPORTS ||
	    rte_eth_stats_get(port_id, &st) != 0)
		return json_null();
	const typeof(ctl->base->ethdev[0]) *b = &ctl->base->ethdev[port_id];

	if (afp != NULL) {
		st.imissed += afp->socket_drops;
		st.ibytes += afp->rx_bytes;
		st.obytes += afp->tx_bytes;
	}
	return json_pack("{s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "ethdev", port_id, "ipackets",
			 (json_int_t)(st.ipackets - b->ipackets), "opackets",
			 (json_int_t)(st.opackets - b->opackets), "imissed",
			 (json_int_t)(st.imissed - b->imissed), "ierrors",
			 (json_int_t)(st.ierrors - b->ierrors), "oerrors",
			 (json_int_t)(st.oerrors - b->oerrors), "ibytes",
			 (json_int_t)(st.ibytes - b->ibytes), "obytes",
			 (json_int_t)(st.obytes - b->obytes));
}

void pmx_ctl_port_totals(const struct pmx_switch *sw, unsigned p, struct pmx_port_counters *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned w = 0; w < sw->n_workers; w++) {
		const struct pmx_port_counters *c = &sw->workers[w]->port[p];

		t->rx += c->rx;
		t->to_clients += c->to_clients;
		t->to_kernel += c->to_kernel;
		t->from_kernel += c->from_kernel;
		t->from_clients += c->from_clients;
		t->tx_wire += c->tx_wire;
	}
}

/* An af_packet port's own counters (lib/afpacket), by name. */
static json_t *afp_json(const struct pmx_afp_stats *as)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "socket_drops",
			 (json_int_t)as->socket_drops, "rx_frames", (json_int_t)as->rx_frames,
			 "rx_errors", (json_int_t)as->rx_errors, "rx_nombuf",
			 (json_int_t)as->rx_nombuf, "gso_superframes",
			 (json_int_t)as->gso_superframes, "gso_segments",
			 (json_int_t)as->gso_segments, "csum_completed",
			 (json_int_t)as->csum_completed, "tx_frames", (json_int_t)as->tx_frames,
			 "tx_drops", (json_int_t)as->tx_drops);
}

int pmx_ctl_nic_totals(const struct pmx_ctl *ctl, unsigned p, struct rte_eth_stats *st)
{
	const struct pmx_port *port = &ctl->sw->ports[p];
	struct pmx_afp_stats as;

	memset(st, 0, sizeof(*st));
	if (port->nic >= RTE_MAX_ETHPORTS || rte_eth_stats_get(port->nic, st) != 0)
		return -ENODEV;
	if (port->afp != NULL) { /* its own counters, and what they were before each clear */
		pmx_afp_port_stats(port->afp, &as);
		st->imissed += as.socket_drops + ctl->base->afp_cleared[p].socket_drops;
		st->ibytes += as.rx_bytes + ctl->base->afp_cleared[p].rx_bytes;
		st->obytes += as.tx_bytes + ctl->base->afp_cleared[p].tx_bytes;
	}
	return 0;
}

/* Port p's rates since snap (its entry updated to now) as JSON. */
static json_t *rates_json(const struct pmx_ctl *ctl, unsigned p, const struct pmx_rate_snap *snap,
			  uint64_t now_ns, struct pmx_rate_counters *now)
{
	struct pmx_port_rates r;
	struct rte_eth_stats st;

	pmx_ctl_nic_totals(ctl, p, &st);
	now->ipackets = st.ipackets;
	now->opackets = st.opackets;
	now->ibytes = st.ibytes;
	now->obytes = st.obytes;
	pmx_rates_compute(&snap->port[p], now, snap->ns != 0 ? now_ns - snap->ns : 0, &r);
	return json_pack("{s:I, s:I, s:I, s:I, s:I}", "interval_ns", (json_int_t)r.interval_ns,
			 "rx_pps", (json_int_t)r.rx_pps, "tx_pps", (json_int_t)r.tx_pps, "rx_bps",
			 (json_int_t)r.rx_bps, "tx_bps", (json_int_t)r.tx_bps);
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static json_t *ports_json(struct pmx_ctl *ctl, struct pmx_rate_snap *snap)
{
	const struct pmx_switch *sw = ctl->sw;
	json_t *ports = json_array();
	struct pmx_rate_snap now = {.ns = monotonic_ns()};

	for (unsigned p = 0; p < sw->n_ports; p++) {
		const struct pmx_port_counters *b = &ctl->base->port[p];
		struct pmx_port_counters t;
		struct pmx_afp_stats as = {0};
		json_t *j;

		pmx_ctl_port_totals(sw, p, &t);
		if (sw->ports[p].afp != NULL)
			pmx_afp_port_stats(sw->ports[p].afp, &as);
		json_array_append_new(
			ports, j = json_pack("{s:i, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o}",
					 "port", p, "name", sw->ports[p].name, "exception",
					 sw->ports[p].exc_kind, "kernel_iface", sw->ports[p].exc_iface,
					 "rx", (json_int_t)(t.rx - b->rx), "to_clients",
					 (json_int_t)(t.to_clients - b->to_clients), "to_kernel",
					 (json_int_t)(t.to_kernel - b->to_kernel), "from_kernel",
					 (json_int_t)(t.from_kernel - b->from_kernel), "from_clients",
					 (json_int_t)(t.from_clients - b->from_clients), "tx_wire",
					 (json_int_t)(t.tx_wire - b->tx_wire), "nic",
					 ethdev_json(ctl, sw->ports[p].nic,
						     sw->ports[p].afp != NULL ? &as : NULL),
					 "kernel", ethdev_json(ctl, sw->ports[p].exc, NULL)));
		if (sw->ports[p].afp != NULL)
			json_object_set_new(j, "afpacket", afp_json(&as));
		if (snap != NULL)
			json_object_set_new(j, "rates", rates_json(ctl, p, snap, now.ns, &now.port[p]));
	}
	if (snap != NULL)
		*snap = now;
	return ports;
}

/* Frames one RX lcore received, over every port. */
static uint64_t worker_rx(const struct pmx_switch *sw, const struct pmx_worker *wk)
{
	uint64_t rx = 0;

	for (unsigned p = 0; p < sw->n_ports; p++)
		rx += wk->port[p].rx;
	return rx;
}

json_t *pmx_ctl_stats_json(struct pmx_ctl *ctl, struct pmx_rate_snap *snap)
{
	const struct pmx_switch *sw = ctl->sw;
	json_t *lcores = json_array(), *drops = json_object();
	uint64_t drop_sum[PMX_DROP_MAX] = {0};

	for (unsigned w = 0; w < sw->n_workers; w++) {
		const struct pmx_worker *wk = sw->workers[w];
		const typeof(ctl->base->worker[0]) *b = &ctl->base->worker[w];
		json_t *wd = json_object();

		for (unsigned r = 0; r < PMX_DROP_MAX; r++) {
			drop_sum[r] += wk->drops[r] - b->drops[r];
			json_object_set_new(wd, pmx_drop_reason_name(r),
					    json_integer((json_int_t)(wk->drops[r] - b->drops[r])));
		}
		json_array_append_new(
			lcores,
			json_pack("{s:i, s:i, s:I, s:I, s:I, s:I, s:o}", "worker", w, "lcore",
				  wk->lcore_id, "loops", (json_int_t)(wk->loops - b->loops),
				  "busy_loops", (json_int_t)(wk->busy_loops - b->busy_loops),
				  "busy_cycles", (json_int_t)(wk->busy_cycles - b->busy_cycles),
				  "rx", (json_int_t)(worker_rx(sw, wk) - b->rx), "drops", wd));
	}
	struct pmx_mbuf_home_stats homes;
	/* the pool first: an mbuf drained from a home in between is counted in use once more,
	 * as if it had not been freed yet, never less */
	unsigned in_use = rte_mempool_in_use_count(sw->pool);
	unsigned in_homes = pmx_mbuf_home_free_count(sw);

	uint64_t uds_drops[PMX_DROP_MAX] = {0};

	pmx_uds_pump_drops(sw->uds, uds_drops); /* uds clients' sockets (uds_pump.c) */
	for (unsigned r = 0; r < PMX_DROP_MAX; r++)
		drop_sum[r] += uds_drops[r] - ctl->base->uds_drops[r];
	for (unsigned r = 0; r < PMX_DROP_MAX; r++)
		json_object_set_new(drops, pmx_drop_reason_name(r),
				    json_integer((json_int_t)drop_sum[r]));
	pmx_mbuf_home_stats(sw, &homes);

	json_t *out = json_pack(
		"{s:o, s:o, s:o, s:o, s:{s:i, s:i, s:i, s:I, s:i}, s:{s:i, s:i}, s:s, s:I, s:I, "
			 "s:I, s:I, s:I, s:i, s:I}",
			 "ports", ports_json(ctl, snap), "lcores", lcores, "drops", drops, "clients",
			 pmx_ctl_clients_json(ctl), "mempool", "size", (int)sw->pool->size,
			 "in_use", (int)(in_use > in_homes ? in_use - in_homes : 0), "available",
			 (int)(rte_mempool_avail_count(sw->pool) + in_homes), "recovered",
			 (json_int_t)homes.recovered, "held_by_gone_clients", (int)homes.pending,
			 "flow_table", "rules",
			 (int)pmx_flow_table_count(sw->ft), "capacity",
			 (int)pmx_flow_table_id_limit(sw->ft), "kernel_policy",
			 __atomic_load_n(&sw->kernel_policy, __ATOMIC_ACQUIRE) ==
					 PMX_POLICY_FIREWALL
				 ? "firewall"
				 : "pass",
			 "requests", (json_int_t)ctl->requests, "request_errors",
			 (json_int_t)ctl->errors, "learned", (json_int_t)ctl->learned,
			 "learn_refused", (json_int_t)ctl->learn_refused, "cleared_at",
			 (json_int_t)ctl->base->cleared_at, "management_lcore",
			 (int)rte_get_main_lcore(), "tsc_hz", (json_int_t)rte_get_tsc_hz());

	if (ctl->usnetd != NULL)
		json_object_set_new(out, "usnetd", pmx_usnetd_stats_json(ctl));
	return out;
}

void pmx_ctl_stats_clear(struct pmx_ctl *ctl)
{
	const struct pmx_switch *sw = ctl->sw;
	struct pmx_ctl_baseline *b = ctl->base;

	for (unsigned p = 0; p < sw->n_ports; p++) {
		uint16_t ids[2] = {sw->ports[p].nic, sw->ports[p].exc};

		pmx_ctl_port_totals(sw, p, &b->port[p]);
		if (sw->ports[p].afp != NULL) { /* kept: metrics and rates never go back */
			struct pmx_afp_stats as;

			pmx_afp_port_stats(sw->ports[p].afp, &as);
			b->afp_cleared[p].socket_drops += as.socket_drops;
			b->afp_cleared[p].rx_bytes += as.rx_bytes;
			b->afp_cleared[p].tx_bytes += as.tx_bytes;
			pmx_afp_port_stats_clear(sw->ports[p].afp);
		}
		for (unsigned i = 0; i < 2; i++) {
			struct rte_eth_stats st;

			if (ids[i] >= RTE_MAX_ETHPORTS || rte_eth_stats_get(ids[i], &st) != 0)
				continue;
			b->ethdev[ids[i]].ipackets = st.ipackets;
			b->ethdev[ids[i]].opackets = st.opackets;
			b->ethdev[ids[i]].imissed = st.imissed;
			b->ethdev[ids[i]].ierrors = st.ierrors;
			b->ethdev[ids[i]].oerrors = st.oerrors;
			b->ethdev[ids[i]].ibytes = st.ibytes;
			b->ethdev[ids[i]].obytes = st.obytes;
		}
	}
	for (unsigned w = 0; w < sw->n_workers; w++) {
		const struct pmx_worker *wk = sw->workers[w];

		b->worker[w].loops = wk->loops;
		b->worker[w].busy_loops = wk->busy_loops;
		b->worker[w].busy_cycles = wk->busy_cycles;
		b->worker[w].rx = worker_rx(sw, wk);
		memcpy(b->worker[w].drops, wk->drops, sizeof(wk->drops));
	}
	memset(b->uds_drops, 0, sizeof(b->uds_drops));
	pmx_uds_pump_drops(sw->uds, b->uds_drops);
	for (uint16_t id = 0; id < sw->clients_max; id++)
		pmx_latency_reset(ctl->sw, id); /* the histograms' writers zero them */
	b->cleared_at = (uint64_t)time(NULL);
}

json_t *pmx_ctl_port_info_json(struct pmx_ctl *ctl, unsigned p)
{
	const struct pmx_port *port = &ctl->sw->ports[p];
	uint8_t addrs[PMX_MAX_ADDRS][16];
	unsigned n = pmx_port_addresses(ctl, p, addrs, PMX_MAX_ADDRS);
	char mac[RTE_ETHER_ADDR_FMT_SIZE], buf[INET6_ADDRSTRLEN];
	struct rte_eth_dev_info info;
	struct rte_eth_link link;
	json_t *j, *arr = json_array();
	unsigned clients = 0;

	for (unsigned i = 0; i < n; i++)
		json_array_append_new(arr, json_string(pmx_addr_str(addrs[i], buf, sizeof(buf))));
	for (unsigned w = 0; w < PMX_BITMAP_WORDS; w++)
		clients += (unsigned)__builtin_popcountll(
			pmx_bitmap_word(ctl->sw->port_clients[p], w));
	rte_ether_format_addr(mac, sizeof(mac), &port->mac);
	j = json_pack("{s:i, s:s, s:s, s:s, s:{s:s, s:s, s:o}, s:o, s:s, s:i, s:i}", "port", p,
		      "name", port->name, "device", ctl->cfg->ports[p].device, "mac", mac,
		      "exception", "kind", port->exc_kind, "iface", port->exc_iface, "ethdev",
		      port->exc == PMX_PORT_NONE ? json_null() : json_integer(port->exc),
		      "addresses", arr, "flow_offload", pmx_offload_mode_name(port->offload),
		      "clients", (int)clients, "rx_queues", (int)ctl->sw->n_workers);
	json_object_set_new(j, "flow_offload_note", json_string(port->offload_note));
	if (port->nic < RTE_MAX_ETHPORTS && rte_eth_dev_info_get(port->nic, &info) == 0) {
		char drv[128];

		json_object_set_new(j, "ethdev", json_integer(port->nic));
		if (port->afp != NULL) /* a ring ethdev: say what is behind it */
			pmx_afp_port_describe(port->afp, drv, sizeof(drv));
		else
			snprintf(drv, sizeof(drv), "%s", info.driver_name);
		json_object_set_new(j, "driver", json_string(drv));
		json_object_set_new(j, "max_rx_queues", json_integer(info.max_rx_queues));
	}
	if (port->nic < RTE_MAX_ETHPORTS && rte_eth_link_get_nowait(port->nic, &link) == 0)
		json_object_set_new(j, "link",
				    json_pack("{s:b, s:I, s:s}", "up",
					      link.link_status == RTE_ETH_LINK_UP, "speed_mbps",
					      (json_int_t)link.link_speed, "duplex",
					      link.link_duplex ? "full" : "half"));
	return j;
}
