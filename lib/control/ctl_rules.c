/* ctl_rules.c - adding and deleting rules for any owner: overlap, kernel ports, quotas, reservations */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>

#include "ctl_cmd.h"
#include "flow_offload.h"
#include "port_reserve.h"

static bool port_needs_privilege(const struct pmx_ctl *ctl, uint8_t proto, uint16_t port_be)
{
	uint16_t port = ntohs(port_be);

	if (port >= 1024 || proto == PMX_PROTO_ICMP || proto == PMX_PROTO_ICMPV6)
		return false;
	for (unsigned i = 0; i < ctl->cfg->n_low_ports; i++) {
		const struct pmx_proto_port *pp = &ctl->cfg->low_ports[i];

		if (pp->proto == proto && port >= pp->port_lo && port <= pp->port_hi)
			return false;
	}
	return true;
}

/* A rule of an owner other than `owner` that overlaps listening key k (or IP key k). */
static const struct pmx_rule *overlap(struct pmx_ctl *ctl, const struct pmx_flow_key *k,
				      uint16_t owner)
{
	static const uint8_t any[16];
	uint32_t limit = pmx_flow_table_id_limit(ctl->sw->ft);
	bool k_any = memcmp(k->local_ip, any, 16) == 0;

	for (uint32_t id = 0; id < limit; id++) {
		const struct pmx_rule *r = pmx_flow_table_rule(ctl->sw->ft, id);

		if (r == NULL || r->owner == owner || r->key.port_id != k->port_id)
			continue;
		if (r->key.kind == PMX_KEY_IP && (k_any || !memcmp(r->key.local_ip, k->local_ip, 16)))
			return r;
		if (r->key.kind != PMX_KEY_LISTEN || r->key.proto != k->proto ||
		    r->key.local_port != k->local_port)
			continue;
		if (k_any || memcmp(r->key.local_ip, any, 16) == 0 ||
		    memcmp(r->key.local_ip, k->local_ip, 16) == 0)
			return r;
	}
	return NULL;
}

static const char *owner_words(uint16_t owner)
{
	if (owner == PMX_OWNER_KERNEL)
		return "the kernel (an operator rule)";
	if (owner == PMX_OWNER_DROP)
		return "an operator drop rule";
	return "another client";
}

/* The checks that only apply to a client owner. */
static int client_checks(struct pmx_ctl *ctl, const struct pmx_flow_key *key, uint16_t owner,
			 bool check_privilege, struct cmd_error *e)
{
	const struct pmx_ctl_session *cs = ctl->client_session[owner];
	char what[128];

	if (cs == NULL)
		return cmd_fail(e, "ENOENT", "no client %u", owner);
	if (cs->n_rules >= ctl->cfg->client_rule_quota)
		return cmd_fail(e, "EDQUOT", "client %u has its quota of %u rules (clients.rule_quota)",
				owner, ctl->cfg->client_rule_quota);
	if (check_privilege && key->kind != PMX_KEY_IP &&
	    port_needs_privilege(ctl, key->proto, key->local_port))
		return cmd_fail(e, "EACCES", "port %u needs root or clients.low_ports",
				ntohs(key->local_port));
	if (!port_has_kernel(ctl, key->port_id))
		return 0;
	if (key->kind == PMX_KEY_IP && is_own_address(ctl, key->port_id, key->local_ip))
		return cmd_fail(e, "EADDRINUSE", "the address is the kernel's own");
	if (key->kind != PMX_KEY_IP && pmx_port_resv_kernel_uses(ctl->resv, key, what, sizeof(what)))
		return cmd_fail(e, "EADDRINUSE", "the kernel uses %s", what);
	return 0;
}

int rule_add_checked(struct pmx_ctl *ctl, struct pmx_flow_key *key, uint16_t owner,
		     enum pmx_rule_origin origin, bool check_privilege, json_t **result,
		     struct cmd_error *e)
{
	bool client = owner < PMX_MAX_CLIENTS;
	struct pmx_flow_key reduced;
	const struct pmx_rule *other;
	uint32_t rule_id = PMX_RULE_NONE;
	int ret;

	if (client && client_checks(ctl, key, owner, check_privilege, e) != 0)
		return -1;
	/* a connection may not cut into a port someone else listens on, and vice versa */
	pmx_flow_key_reduce(key, key->kind == PMX_KEY_IP ? PMX_KEY_IP : PMX_KEY_LISTEN, 0, &reduced);
	other = overlap(ctl, &reduced, owner);
	if (other != NULL)
		return cmd_fail(e, "EADDRINUSE", "already owned by %s", owner_words(other->owner));
	ret = pmx_flow_table_add(ctl->sw->ft, key, owner, origin, &rule_id);
	if (ret == -EEXIST) {
		other = pmx_flow_table_rule(ctl->sw->ft, rule_id);
		if (other != NULL && other->owner != owner)
			return cmd_fail(e, "EADDRINUSE", "already owned by %s",
					owner_words(other->owner));
		return cmd_fail(e, "EEXIST", "the same rule exists already (rule %u)", rule_id);
	}
	if (ret == -ENOSPC)
		return cmd_fail(e, "ENOSPC", "the flow table is full (clients.max_rules)");
	if (ret != 0)
		return cmd_fail(e, "EINVAL", "cannot add the rule");
	if (client && port_has_kernel(ctl, key->port_id)) {
		ret = pmx_port_resv_hold(ctl->resv, rule_id, key);
		if (ret != 0) {
			pmx_flow_table_del(ctl->sw->ft, rule_id);
			if (ret == -EADDRINUSE)
				return cmd_fail(e, "EADDRINUSE", "the kernel took the port");
			return cmd_fail(e, "ENOMEM", "cannot hold the port against the kernel: %s",
					strerror(-ret));
		}
	}
	if (client)
		ctl->client_session[owner]->n_rules++;
	pmx_offload_rule_added(ctl->sw, rule_id);
	*result = json_pack("{s:I}", "rule_id", (json_int_t)rule_id);
	return 0;
}

void rule_delete(struct pmx_ctl *ctl, uint32_t rule_id)
{
	const struct pmx_rule *r = pmx_flow_table_rule(ctl->sw->ft, rule_id);
	struct pmx_ctl_session *cs;

	if (r == NULL)
		return;
	cs = r->owner < PMX_MAX_CLIENTS ? ctl->client_session[r->owner] : NULL;
	if (cs != NULL && cs->n_rules > 0) /* learned rules count too (learn.c) */
		cs->n_rules--;
	pmx_port_resv_release(ctl->resv, rule_id);
	pmx_offload_rule_removed(ctl->sw, rule_id);
	pmx_flow_table_del(ctl->sw->ft, rule_id);
}
