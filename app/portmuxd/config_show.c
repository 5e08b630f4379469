/* config_show.c - the effective configuration (defaults filled in) as JSON, for --check-config */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config_show.h"
#include "ctl.h"

static const char *const exc_names[] = {
	[PMX_EXC_AUTO] = "auto",     [PMX_EXC_TAP] = "tap",   [PMX_EXC_VIRTIO_USER] = "virtio_user",
	[PMX_EXC_DEVICE] = "device", [PMX_EXC_NONE] = "none",
};

static const char *const kind_names[] = {
	[PMX_KEY_EXACT] = "connect", [PMX_KEY_LISTEN] = "listen", [PMX_KEY_IP] = "ip"};

/* "tcp", "tcp:22" or "udp:1000-2000", as the config writes them */
static json_t *proto_port_json(const struct pmx_proto_port *pp)
{
	char buf[48], pbuf[8];
	const char *proto = pmx_ctl_proto_name(pp->proto, pbuf, sizeof(pbuf));

	if (pp->port_lo == 0 && pp->port_hi == 0)
		snprintf(buf, sizeof(buf), "%s", proto);
	else if (pp->port_lo == pp->port_hi)
		snprintf(buf, sizeof(buf), "%s:%u", proto, pp->port_lo);
	else
		snprintf(buf, sizeof(buf), "%s:%u-%u", proto, pp->port_lo, pp->port_hi);
	return json_string(buf);
}

static json_t *proto_ports_json(const struct pmx_proto_port *pp, unsigned n)
{
	json_t *arr = json_array();

	for (unsigned i = 0; arr != NULL && i < n; i++)
		json_array_append_new(arr, proto_port_json(&pp[i]));
	return arr;
}

/* An address of a config or rule (IPv4-mapped or IPv6, network order) as text */
static json_t *addr_json(const uint8_t addr[16])
{
	char buf[64];

	return json_string(pmx_addr_str(addr, buf, sizeof(buf)));
}

static json_t *port_json(const struct pmx_port_conf *pc)
{
	json_t *exc, *addrs = json_array();

	for (unsigned a = 0; addrs != NULL && a < pc->n_addresses; a++)
		json_array_append_new(addrs, addr_json(pc->addresses[a]));
	exc = json_pack("{s:s, s:s, s:o*}", "type", exc_names[pc->exc_type], "iface", pc->exc_iface,
			"addresses", addrs);
	if (exc != NULL && pc->exc_type == PMX_EXC_DEVICE)
		json_object_set_new(exc, "device", json_string(pc->exc_device));
	/* rx_queues 0: not set, one per RX lcore (known once EAL has started) */
	return json_pack("{s:s, s:s, s:o*, s:o*}", "name", pc->name, "device", pc->device,
			 "rx_queues", pc->rx_queues != 0 ? json_integer(pc->rx_queues) : NULL,
			 "exception", exc);
}

static json_t *rule_json(const struct pmx_config *cfg, const struct pmx_config_rule *r)
{
	static const uint8_t any[16];
	const struct pmx_flow_key *k = &r->key;
	char pbuf[8];
	json_t *j = json_pack("{s:s, s:s, s:s}", "kind", kind_names[k->kind], "port",
			      cfg->ports[k->port_id].name, "owner", r->owner);

	if (j == NULL)
		return NULL;
	if (k->kind == PMX_KEY_IP) {
		json_object_set_new(j, "local_ip", addr_json(k->local_ip));
		return j;
	}
	json_object_set_new(j, "proto",
			    json_string(pmx_ctl_proto_name(k->proto, pbuf, sizeof(pbuf))));
	json_object_set_new(j, "local_ip",
			    memcmp(k->local_ip, any, 16) == 0 ? json_string("*")
							      : addr_json(k->local_ip));
	json_object_set_new(j, "local_port", json_integer(ntohs(k->local_port)));
	if (k->kind == PMX_KEY_EXACT) {
		json_object_set_new(j, "remote_ip", addr_json(k->remote_ip));
		json_object_set_new(j, "remote_port", json_integer(ntohs(k->remote_port)));
	}
	return j;
}

json_t *pmx_config_show(const struct pmx_config *cfg)
{
	json_t *eal = json_array(), *ports = json_array(), *rules = json_array(), *j;
	char mode[8];

	for (int i = 1; eal != NULL && i < cfg->eal_argc; i++) /* [0] is the program */
		json_array_append_new(eal, json_string(cfg->eal_argv[i]));
	for (unsigned p = 0; ports != NULL && p < cfg->n_ports; p++)
		json_array_append_new(ports, port_json(&cfg->ports[p]));
	for (unsigned r = 0; rules != NULL && r < cfg->n_rules; r++)
		json_array_append_new(rules, rule_json(cfg, &cfg->rules[r]));
	snprintf(mode, sizeof(mode), "%04o", cfg->socket_mode);
	j = json_pack("{s:o*, s:o*, s:{s:s, s:o*}, s:{s:s, s:s, s:s?}, "
			 "s:{s:i, s:i, s:i, s:i, s:i, s:o*, s:b, s:i}, s:i, s:s, s:o*}",
			 "eal", eal, "ports", ports, "kernel", "policy",
			 cfg->policy == PMX_POLICY_FIREWALL ? "firewall" : "pass", "allow",
			 proto_ports_json(cfg->allow, cfg->n_allow), "control", "socket",
			 cfg->socket_path, "mode", mode, "group",
			 cfg->socket_group[0] != '\0' ? cfg->socket_group : NULL, "clients", "max",
			 (int)cfg->clients_max, "ring_size", (int)cfg->ring_size, "max_rules",
			 (int)cfg->max_rules, "rule_quota", (int)cfg->client_rule_quota,
			 "queue_quota", (int)cfg->client_queue_quota, "low_ports",
			 proto_ports_json(cfg->low_ports, cfg->n_low_ports), "memif", cfg->memif,
			 "own_macs", (int)cfg->client_own_macs, "mbufs", (int)cfg->mbufs,
			 "mbuf_pool", cfg->mbuf_pool, "rules", rules);
	if (j != NULL && cfg->metrics_port != 0) /* off: absent, as in the file */
		json_object_set_new(j, "metrics", json_pack("{s:s}", "listen", cfg->metrics_listen));
	return j;
}

int pmx_config_check(const char *path, int argc, char **argv)
{
	struct pmx_config cfg;
	char err[512];
	json_t *j;
	int ret = 1;

	if (pmx_config_load(path, "portmuxd", &cfg, err, sizeof(err)) != 0 ||
	    pmx_config_append_eal(&cfg, argc, argv) != 0) {
		fprintf(stderr, "portmuxd: %s\n", err[0] != '\0' ? err : strerror(ENOMEM));
		pmx_config_free(&cfg);
		return 1;
	}
	/* the EAL arguments portmuxd would add: each PCI port's allow-list entry */
	if (pmx_config_eal_allow_pci(&cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "portmuxd: %s: %s\n", path,
			err[0] != '\0' ? err : strerror(ENOMEM));
		pmx_config_free(&cfg);
		return 1;
	}
	j = pmx_config_show(&cfg);
	if (j != NULL && json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0) {
		printf("\n");
		ret = fflush(stdout) == 0 ? 0 : 1;
	} else {
		fprintf(stderr, "portmuxd: %s: cannot print the configuration\n", path);
	}
	json_decref(j);
	pmx_config_free(&cfg);
	return ret;
}
