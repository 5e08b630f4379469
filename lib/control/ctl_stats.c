/* ctl_stats.c - read-only JSON views of the switch: stats, rules, clients (management lcore) */
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include <rte_ethdev.h>
#include <rte_mempool.h>

#include "client_registry.h"
#include "ctl.h"

static const char *proto_name(uint8_t proto, char *buf, size_t len)
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

json_t *pmx_ctl_rule_json(struct pmx_ctl *ctl, uint32_t id)
{
	static const char *const kinds[] = {"", "connect", "listen", "ip"};
	static const char *const origins[] = {"client", "admin", "learned"};
	const struct pmx_rule *r = pmx_flow_table_rule(ctl->sw->ft, id);
	char lip[INET6_ADDRSTRLEN] = "*", rip[INET6_ADDRSTRLEN] = "", pbuf[8];
	static const uint8_t any[16];

	if (r == NULL)
		return NULL;
	if (memcmp(r->key.local_ip, any, 16) != 0)
		pmx_addr_str(r->key.local_ip, lip, sizeof(lip));
	if (r->key.kind == PMX_KEY_EXACT)
		pmx_addr_str(r->key.remote_ip, rip, sizeof(rip));
	json_t *j = json_pack("{s:I, s:s, s:s, s:s, s:s, s:o, s:I}", "rule_id", (json_int_t)id,
			      "kind", kinds[r->key.kind], "origin", origins[r->origin], "port",
			      ctl->sw->ports[r->key.port_id].name, "local_ip", lip, "owner",
			      owner_json(ctl, r->owner), "hits",
			      (json_int_t)pmx_flow_table_hits(ctl->sw->ft, id));
	if (r->key.kind != PMX_KEY_IP) {
		json_object_set_new(j, "proto", json_string(proto_name(r->key.proto, pbuf, sizeof(pbuf))));
		json_object_set_new(j, "local_port", json_integer(ntohs(r->key.local_port)));
	}
	if (r->key.kind == PMX_KEY_EXACT) {
		json_object_set_new(j, "remote_ip", json_string(rip));
		json_object_set_new(j, "remote_port", json_integer(ntohs(r->key.remote_port)));
	}
	return j;
}

json_t *pmx_ctl_rules_json(struct pmx_ctl *ctl, int only_owner)
{
	uint32_t limit = pmx_flow_table_id_limit(ctl->sw->ft);
	json_t *arr = json_array();

	for (uint32_t id = 0; id < limit; id++) {
		const struct pmx_rule *r = pmx_flow_table_rule(ctl->sw->ft, id);

		if (r != NULL && (only_owner < 0 || r->owner == only_owner))
			json_array_append_new(arr, pmx_ctl_rule_json(ctl, id));
	}
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
		json_array_append_new(
			arr, json_pack("{s:i, s:s, s:i, s:i, s:s, s:i, s:i, s:I, s:I, s:I, s:I, s:I}",
				       "client_id", id, "name", s->name, "pid", (int)s->pid, "uid",
				       (int)s->uid, "port", ctl->sw->ports[ctl->sw->clients[id].port].name,
				       "lcore", pmx_registry_client_lcore(ctl->sw, id), "rules",
				       s->n_rules, "rx", (json_int_t)c.rx, "ring_full",
				       (json_int_t)c.ring_full, "tx", (json_int_t)c.tx, "spoofed",
				       (json_int_t)c.spoofed, "rx_ring_count",
				       (json_int_t)rte_ring_count(ctl->sw->clients[id].rx_ring)));
	}
	return arr;
}

static json_t *ethdev_json(uint16_t port_id)
{
	struct rte_eth_stats st;

	if (port_id == PMX_PORT_NONE || rte_eth_stats_get(port_id, &st) != 0)
		return json_null();
	return json_pack("{s:i, s:I, s:I, s:I, s:I, s:I}", "ethdev", port_id, "ipackets",
			 (json_int_t)st.ipackets, "opackets", (json_int_t)st.opackets, "imissed",
			 (json_int_t)st.imissed, "ierrors", (json_int_t)st.ierrors, "oerrors",
			 (json_int_t)st.oerrors);
}

json_t *pmx_ctl_stats_json(struct pmx_ctl *ctl)
{
	const struct pmx_switch *sw = ctl->sw;
	json_t *ports = json_array(), *lcores = json_array(), *drops = json_object();
	uint64_t drop_sum[PMX_DROP_MAX] = {0};

	for (unsigned p = 0; p < sw->n_ports; p++) {
		struct pmx_port_counters t = {0};

		for (unsigned w = 0; w < sw->n_workers; w++) {
			const struct pmx_port_counters *c = &sw->workers[w]->port[p];

			t.rx += c->rx;
			t.to_clients += c->to_clients;
			t.to_kernel += c->to_kernel;
			t.from_kernel += c->from_kernel;
			t.from_clients += c->from_clients;
			t.tx_wire += c->tx_wire;
		}
		json_array_append_new(
			ports, json_pack("{s:i, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o}",
					 "port", p, "name", sw->ports[p].name, "exception",
					 sw->ports[p].exc_kind, "kernel_iface", sw->ports[p].exc_iface,
					 "rx", (json_int_t)t.rx, "to_clients",
					 (json_int_t)t.to_clients, "to_kernel", (json_int_t)t.to_kernel,
					 "from_kernel", (json_int_t)t.from_kernel, "from_clients",
					 (json_int_t)t.from_clients, "tx_wire", (json_int_t)t.tx_wire,
					 "nic", ethdev_json(sw->ports[p].nic), "kernel",
					 ethdev_json(sw->ports[p].exc)));
	}
	for (unsigned w = 0; w < sw->n_workers; w++) {
		const struct pmx_worker *wk = sw->workers[w];
		json_t *wd = json_object();

		for (unsigned r = 0; r < PMX_DROP_MAX; r++) {
			drop_sum[r] += wk->drops[r];
			json_object_set_new(wd, pmx_drop_reason_name(r), json_integer(wk->drops[r]));
		}
		json_array_append_new(lcores, json_pack("{s:i, s:i, s:I, s:I, s:o}", "worker", w,
							"lcore", wk->lcore_id, "loops",
							(json_int_t)wk->loops, "busy_loops",
							(json_int_t)wk->busy_loops, "drops", wd));
	}
	for (unsigned r = 0; r < PMX_DROP_MAX; r++)
		json_object_set_new(drops, pmx_drop_reason_name(r), json_integer(drop_sum[r]));

	return json_pack("{s:o, s:o, s:o, s:o, s:{s:i, s:i, s:i}, s:{s:i, s:i}, s:s, s:I, s:I}",
			 "ports", ports, "lcores", lcores, "drops", drops, "clients",
			 pmx_ctl_clients_json(ctl), "mempool", "size", (int)sw->pool->size,
			 "in_use", (int)rte_mempool_in_use_count(sw->pool), "available",
			 (int)rte_mempool_avail_count(sw->pool), "flow_table", "rules",
			 (int)pmx_flow_table_count(sw->ft), "capacity",
			 (int)pmx_flow_table_id_limit(sw->ft), "kernel_policy",
			 ctl->policy == PMX_POLICY_FIREWALL ? "firewall" : "pass", "requests",
			 (json_int_t)ctl->requests, "request_errors", (json_int_t)ctl->errors);
}
