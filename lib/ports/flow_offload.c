/* flow_offload.c - rte_flow offload of client rules (management lcore): probe each NIC port,
 * mirror client listen/connect rules as MARK rules where the NIC takes them */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>

#include "flow_offload.h"

#define RSS_KEY_LEN 40
#define PROBE_UDP_PORT 9 /* discard: any port works, the probe rule lives microseconds */

/* The rte_flow rules standing for one flow-table rule (indexed by rule id). */
struct offload_rule {
	uint16_t ethdev;
	uint8_t n_flows;
	struct rte_flow *flow[PMX_OFFLOAD_MAX_FAMILIES];
};

struct pmx_offload {
	uint32_t id_limit;
	uint32_t installed;
	uint64_t created;
	uint64_t failed;
	struct offload_rule rules[]; /* [id_limit] */
};

/* The same symmetric key the ports' RSS uses (port_setup.c): 0x6d5a repeated. */
static const uint8_t symmetric_key[RSS_KEY_LEN] = {
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
};

const char *pmx_offload_mode_name(unsigned mode)
{
	return mode == PMX_OFFLOAD_MARK ? "rte_flow mark" : "software";
}

static bool ip_is_any(const uint8_t ip[16])
{
	static const uint8_t any[16];

	return memcmp(ip, any, sizeof(any)) == 0;
}

static void build_ip(const struct pmx_flow_key *key, int family, struct pmx_offload_spec *s)
{
	struct rte_flow_item *it = &s->pattern[1];
	bool exact = key->kind == PMX_KEY_EXACT;

	it->type = family == 4 ? RTE_FLOW_ITEM_TYPE_IPV4 : RTE_FLOW_ITEM_TYPE_IPV6;
	if (ip_is_any(key->local_ip))
		return; /* any address of this family: no spec */
	if (family == 4) {
		memcpy(&s->ip_spec.v4.hdr.dst_addr, &key->local_ip[12], 4);
		s->ip_mask.v4.hdr.dst_addr = UINT32_MAX;
		if (exact) {
			memcpy(&s->ip_spec.v4.hdr.src_addr, &key->remote_ip[12], 4);
			s->ip_mask.v4.hdr.src_addr = UINT32_MAX;
		}
	} else {
		memcpy(s->ip_spec.v6.hdr.dst_addr, key->local_ip, 16);
		memset(s->ip_mask.v6.hdr.dst_addr, 0xff, 16);
		if (exact) {
			memcpy(s->ip_spec.v6.hdr.src_addr, key->remote_ip, 16);
			memset(s->ip_mask.v6.hdr.src_addr, 0xff, 16);
		}
	}
	it->spec = &s->ip_spec;
	it->mask = &s->ip_mask;
}

/* L4 item; the three headers start with source and destination port alike. */
static void build_l4(const struct pmx_flow_key *key, struct pmx_offload_spec *s)
{
	struct rte_flow_item *it = &s->pattern[2];
	rte_be16_t *spec_ports, *mask_ports;

	switch (key->proto) {
	case PMX_PROTO_TCP:
		it->type = RTE_FLOW_ITEM_TYPE_TCP;
		spec_ports = &s->l4_spec.tcp.hdr.src_port;
		mask_ports = &s->l4_mask.tcp.hdr.src_port;
		break;
	case PMX_PROTO_UDP:
		it->type = RTE_FLOW_ITEM_TYPE_UDP;
		spec_ports = &s->l4_spec.udp.hdr.src_port;
		mask_ports = &s->l4_mask.udp.hdr.src_port;
		break;
	default:
		it->type = RTE_FLOW_ITEM_TYPE_SCTP;
		spec_ports = &s->l4_spec.sctp.hdr.src_port;
		mask_ports = &s->l4_mask.sctp.hdr.src_port;
		break;
	}
	spec_ports[1] = key->local_port;
	mask_ports[1] = UINT16_MAX;
	if (key->kind == PMX_KEY_EXACT) {
		spec_ports[0] = key->remote_port;
		mask_ports[0] = UINT16_MAX;
	}
	it->spec = &s->l4_spec;
	it->mask = &s->l4_mask;
}

int pmx_offload_build(const struct pmx_flow_key *key, int family, uint32_t mark,
		      uint16_t n_queues, struct pmx_offload_spec *spec)
{
	if (key->kind != PMX_KEY_LISTEN && key->kind != PMX_KEY_EXACT)
		return -ENOTSUP;
	if (key->proto != PMX_PROTO_TCP && key->proto != PMX_PROTO_UDP &&
	    key->proto != PMX_PROTO_SCTP)
		return -ENOTSUP;
	if ((family != 4 && family != 6) || n_queues == 0 || n_queues > PMX_OFFLOAD_MAX_QUEUES)
		return -EINVAL;
	if (!ip_is_any(key->local_ip) && pmx_key_ip_is_v4(key->local_ip) != (family == 4))
		return -EINVAL;

	memset(spec, 0, sizeof(*spec));
	spec->attr.ingress = 1;
	spec->pattern[0].type = RTE_FLOW_ITEM_TYPE_ETH;
	build_ip(key, family, spec);
	build_l4(key, spec);
	spec->pattern[3].type = RTE_FLOW_ITEM_TYPE_END;

	spec->mark.id = mark;
	spec->actions[0].type = RTE_FLOW_ACTION_TYPE_MARK;
	spec->actions[0].conf = &spec->mark;
	if (n_queues == 1) {
		spec->queue.index = 0;
		spec->actions[1].type = RTE_FLOW_ACTION_TYPE_QUEUE;
		spec->actions[1].conf = &spec->queue;
	} else {
		/* keep the port's spread: both directions of a flow on one RX lcore */
		for (uint16_t q = 0; q < n_queues; q++)
			spec->queues[q] = q;
		spec->rss.func = RTE_ETH_HASH_FUNCTION_DEFAULT;
		spec->rss.types = RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP;
		spec->rss.key = symmetric_key;
		spec->rss.key_len = RSS_KEY_LEN;
		spec->rss.queue = spec->queues;
		spec->rss.queue_num = n_queues;
		spec->actions[1].type = RTE_FLOW_ACTION_TYPE_RSS;
		spec->actions[1].conf = &spec->rss;
	}
	spec->actions[2].type = RTE_FLOW_ACTION_TYPE_END;
	return 0;
}

int pmx_offload_negotiate(struct pmx_switch *sw, unsigned p)
{
	struct pmx_port *port = &sw->ports[p];
	uint64_t features = RTE_ETH_RX_METADATA_USER_MARK;
	int ret = rte_eth_rx_metadata_negotiate(port->nic, &features);

	if (ret == 0 && !(features & RTE_ETH_RX_METADATA_USER_MARK)) {
		port->offload_refused = 1;
		snprintf(port->offload_note, sizeof(port->offload_note),
			 "the NIC does not deliver MARK metadata (rx_metadata_negotiate)");
	}
	return ret;
}

/* Ask only for the RSS hash types the port has (as port_setup.c configures them). */
static void fit_rss(uint16_t ethdev, struct pmx_offload_spec *spec)
{
	struct rte_eth_dev_info info;

	if (spec->actions[1].type == RTE_FLOW_ACTION_TYPE_RSS &&
	    rte_eth_dev_info_get(ethdev, &info) == 0)
		spec->rss.types &= info.flow_type_rss_offloads;
}

static void set_mode(struct pmx_port *port, enum pmx_offload_mode mode, const char *what,
		     int err, const struct rte_flow_error *fe)
{
	const char *detail = fe != NULL ? fe->message : NULL;

	port->offload = (uint8_t)mode;
	if (detail != NULL && strcmp(detail, strerror(err)) == 0)
		detail = NULL; /* the PMD only repeated the errno */
	if (err == 0)
		snprintf(port->offload_note, sizeof(port->offload_note), "%s", what);
	else
		snprintf(port->offload_note, sizeof(port->offload_note), "%s: %s%s%s", what,
			 strerror(err), detail != NULL ? ", " : "", detail != NULL ? detail : "");
}

static int offload_alloc(struct pmx_switch *sw)
{
	uint32_t limit = pmx_flow_table_id_limit(sw->ft);

	if (sw->offload != NULL)
		return 0;
	sw->offload = rte_zmalloc("pmx_offload",
				  sizeof(*sw->offload) + sizeof(struct offload_rule) * limit, 0);
	if (sw->offload == NULL)
		return -ENOMEM;
	sw->offload->id_limit = limit;
	return 0;
}

enum pmx_offload_mode pmx_offload_probe(struct pmx_switch *sw, unsigned p)
{
	struct pmx_port *port = &sw->ports[p];
	struct pmx_offload_spec spec;
	struct pmx_flow_key key = {.kind = PMX_KEY_LISTEN, .proto = PMX_PROTO_UDP};
	struct rte_flow_error fe = {0};
	struct rte_flow *flow;
	int ret;

	if (port->offload_refused) {
		port->offload = PMX_OFFLOAD_SOFTWARE;
		return PMX_OFFLOAD_SOFTWARE;
	}
	key.local_port = rte_cpu_to_be_16(PROBE_UDP_PORT);
	ret = pmx_offload_build(&key, 4, pmx_offload_mark(0, 0), (uint16_t)sw->n_workers, &spec);
	if (ret != 0) {
		set_mode(port, PMX_OFFLOAD_SOFTWARE, "more RX queues than a MARK rule spreads over",
			 -ret, NULL);
		return PMX_OFFLOAD_SOFTWARE;
	}
	fit_rss(port->nic, &spec);
	ret = rte_flow_validate(port->nic, &spec.attr, spec.pattern, spec.actions, &fe);
	if (ret != 0) {
		/* ENOSYS/ENOTSUP: no rte_flow at all (af_packet, pcap, null, ring, memif) */
		set_mode(port, PMX_OFFLOAD_SOFTWARE, "rte_flow_validate refused a MARK rule", -ret,
			 &fe);
		return PMX_OFFLOAD_SOFTWARE;
	}
	memset(&fe, 0, sizeof(fe));
	flow = rte_flow_create(port->nic, &spec.attr, spec.pattern, spec.actions, &fe);
	if (flow == NULL) {
		/* TAP without multiq/flower here: validate says yes, create says no */
		set_mode(port, PMX_OFFLOAD_SOFTWARE, "rte_flow_create failed after validate",
			 rte_errno != 0 ? rte_errno : EIO, &fe);
		return PMX_OFFLOAD_SOFTWARE;
	}
	rte_flow_destroy(port->nic, flow, &fe);
	if (offload_alloc(sw) != 0) {
		set_mode(port, PMX_OFFLOAD_SOFTWARE, "no memory for offloaded rules", ENOMEM, NULL);
		return PMX_OFFLOAD_SOFTWARE;
	}
	set_mode(port, PMX_OFFLOAD_MARK, "probe MARK rule created and destroyed", 0, NULL);
	return PMX_OFFLOAD_MARK;
}

static void destroy_flows(struct pmx_offload *o, uint32_t rule_id)
{
	struct offload_rule *r = &o->rules[rule_id];
	struct rte_flow_error fe;

	if (r->n_flows == 0)
		return;
	for (unsigned i = 0; i < r->n_flows; i++)
		rte_flow_destroy(r->ethdev, r->flow[i], &fe);
	r->n_flows = 0;
	o->installed--;
}

/* The families a rule's rte_flow rules cover: its address's, or both for "any". */
static unsigned rule_families(const struct pmx_flow_key *key, int fam[PMX_OFFLOAD_MAX_FAMILIES])
{
	if (ip_is_any(key->local_ip)) {
		fam[0] = 4;
		fam[1] = 6;
		return 2;
	}
	fam[0] = pmx_key_ip_is_v4(key->local_ip) ? 4 : 6;
	return 1;
}

void pmx_offload_rule_added(struct pmx_switch *sw, uint32_t rule_id)
{
	struct pmx_offload *o = sw->offload;
	const struct pmx_rule *rule;
	struct pmx_offload_spec spec;
	struct offload_rule *r;
	int fam[PMX_OFFLOAD_MAX_FAMILIES];
	uint16_t queues = (uint16_t)sw->n_workers;
	uint32_t mark;
	unsigned n;

	if (o == NULL || rule_id >= o->id_limit)
		return;
	rule = pmx_flow_table_rule(sw->ft, rule_id);
	if (rule == NULL || rule->owner >= sw->clients_max || rule->key.port_id >= sw->n_ports ||
	    sw->ports[rule->key.port_id].offload != PMX_OFFLOAD_MARK)
		return;
	r = &o->rules[rule_id];
	destroy_flows(o, rule_id); /* whatever an earlier rule of this id left */
	r->ethdev = sw->ports[rule->key.port_id].nic;
	n = rule_families(&rule->key, fam);
	mark = pmx_offload_mark(rule->owner, sw->clients[rule->owner].generation);
	for (unsigned i = 0; i < n; i++) {
		struct rte_flow_error fe;

		if (pmx_offload_build(&rule->key, fam[i], mark, queues, &spec) != 0)
			goto undo; /* not expressible: software only */
		fit_rss(r->ethdev, &spec);
		r->flow[i] = rte_flow_create(r->ethdev, &spec.attr, spec.pattern, spec.actions,
					     &fe);
		if (r->flow[i] == NULL) {
			o->failed++;
			goto undo;
		}
		r->n_flows = (uint8_t)(i + 1);
	}
	o->installed++;
	o->created++;
	return;

undo:
	for (unsigned i = 0; i < r->n_flows; i++) {
		struct rte_flow_error fe;

		rte_flow_destroy(r->ethdev, r->flow[i], &fe);
	}
	r->n_flows = 0;
}

void pmx_offload_rule_removed(struct pmx_switch *sw, uint32_t rule_id)
{
	if (sw->offload != NULL && rule_id < sw->offload->id_limit)
		destroy_flows(sw->offload, rule_id);
}

void pmx_offload_owner_removed(struct pmx_switch *sw, uint16_t owner)
{
	struct pmx_offload *o = sw->offload;

	if (o == NULL)
		return;
	for (uint32_t id = 0; id < o->id_limit && o->installed > 0; id++) {
		const struct pmx_rule *rule = pmx_flow_table_rule(sw->ft, id);

		if (rule != NULL && rule->owner == owner)
			destroy_flows(o, id);
	}
}

void pmx_offload_counts(const struct pmx_switch *sw, uint64_t *installed, uint64_t *created,
			uint64_t *failed)
{
	const struct pmx_offload *o = sw->offload;

	*installed = o != NULL ? o->installed : 0;
	*created = o != NULL ? o->created : 0;
	*failed = o != NULL ? o->failed : 0;
}

void pmx_offload_close(struct pmx_switch *sw)
{
	struct pmx_offload *o = sw->offload;

	if (o == NULL)
		return;
	for (uint32_t id = 0; id < o->id_limit && o->installed > 0; id++)
		destroy_flows(o, id);
	rte_free(o);
	sw->offload = NULL;
}
