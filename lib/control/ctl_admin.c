/* ctl_admin.c - the control API's operator commands (clients, kick, policy, rules) and shared views */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include "ctl_admin.h"
#include "ctl_rules.h"
#include "ctl_session.h"
#include "static_rules.h"
#include "pmx_log.h"
#include "kernel_ports.h"

int pmx_ctl_cmd_clients(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req,
			json_t **result, struct pmx_ctl_error *e)
{
	(void)s;
	(void)req;
	(void)e;
	*result = json_pack("{s:o}", "clients", pmx_ctl_clients_json(ctl));
	return 0;
}

int pmx_ctl_cmd_kick(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req, json_t **result,
		     struct pmx_ctl_error *e)
{
	struct pmx_ctl_session *victim;
	uint64_t id = 0;

	if (pmx_ctl_arg_uint(req, "client_id", true, PMX_MAX_CLIENTS - 1, &id, e))
		return -1;
	victim = ctl->client_session[id];
	if (victim == NULL)
		return pmx_ctl_fail(e, "ENOENT", "no client %u", (unsigned)id);
	*result = json_pack("{s:i, s:s}", "client_id", (int)id, "name", victim->name);
	PMX_LOG(NOTICE, ctl, "client %u \"%s\" kicked by uid %u", (unsigned)id, victim->name,
		(unsigned)s->uid);
	pmx_ctl_session_detach(ctl, victim);
	if (victim->fd >= 0)
		victim->closing = true; /* closed at the end of this poll round */
	return 0;
}

static const char *policy_name(uint32_t p)
{
	return p == PMX_POLICY_FIREWALL ? "firewall" : "pass";
}

int pmx_ctl_cmd_set_kernel_policy(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req,
				  json_t **result, struct pmx_ctl_error *e)
{
	uint32_t old = __atomic_load_n(&ctl->sw->kernel_policy, __ATOMIC_ACQUIRE), policy;
	const char *name = NULL;

	if (pmx_ctl_arg_string(req, "policy", true, &name, e))
		return -1;
	if (strcmp(name, "pass") == 0)
		policy = PMX_POLICY_PASS;
	else if (strcmp(name, "firewall") == 0)
		policy = PMX_POLICY_FIREWALL;
	else
		return pmx_ctl_fail(e, "EINVAL", "\"policy\" must be \"pass\" or \"firewall\"");
	/* the RX lcores read it once per frame: no other synchronisation needed */
	__atomic_store_n(&ctl->sw->kernel_policy, policy, __ATOMIC_RELEASE);
	PMX_LOG(NOTICE, ctl, "kernel policy %s -> %s (uid %u)", policy_name(old),
		policy_name(policy), (unsigned)s->uid);
	*result = json_pack("{s:s, s:s}", "policy", policy_name(policy), "previous",
			    policy_name(old));
	return 0;
}

/* "owner": "kernel", "drop", a client id, or {"client_id": n} as "rules" shows it. */
static int arg_owner(struct pmx_ctl *ctl, json_t *req, uint16_t *owner, struct pmx_ctl_error *e)
{
	json_t *v = json_object_get(req, "owner");

	if (json_is_object(v))
		v = json_object_get(v, "client_id");
	if (v == NULL)
		return pmx_ctl_fail(e, "EINVAL", "missing \"owner\"");
	if (json_is_string(v) && strcmp(json_string_value(v), "kernel") == 0)
		*owner = PMX_OWNER_KERNEL;
	else if (json_is_string(v) && strcmp(json_string_value(v), "drop") == 0)
		*owner = PMX_OWNER_DROP;
	else if (json_is_integer(v) && json_integer_value(v) >= 0 &&
		 json_integer_value(v) < PMX_MAX_CLIENTS)
		*owner = (uint16_t)json_integer_value(v);
	else
		return pmx_ctl_fail(e, "EINVAL",
				    "\"owner\" must be \"kernel\", \"drop\" or a client id");
	if (*owner < PMX_MAX_CLIENTS && ctl->client_session[*owner] == NULL)
		return pmx_ctl_fail(e, "ENOENT", "no client %u", *owner);
	return 0;
}

int pmx_ctl_cmd_rule_add(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req,
			 json_t **result, struct pmx_ctl_error *e)
{
	struct pmx_flow_key key = {0};
	const char *kind = NULL;
	uint16_t owner = PMX_OWNER_NONE;
	unsigned p;

	if (pmx_ctl_arg_string(req, "kind", true, &kind, e) ||
	    pmx_ctl_arg_nic_port(ctl, req, &p, e) || arg_owner(ctl, req, &owner, e))
		return -1;
	key.port_id = (uint16_t)p;
	if (pmx_ctl_arg_rule(req, pmx_rule_kind_parse(kind), &pmx_rule_names_full, &key, e))
		return -1;
	if (pmx_ctl_rule_add(ctl, &key, owner, PMX_ORIGIN_ADMIN, false, result, e) != 0)
		return -1;
	PMX_LOG(INFO, ctl, "rule %lld added by uid %u",
		(long long)json_integer_value(json_object_get(*result, "rule_id")),
		(unsigned)s->uid);
	return 0;
}

int pmx_ctl_cmd_rule_del(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req,
			 json_t **result, struct pmx_ctl_error *e)
{
	uint64_t id = 0;
	json_t *rule;

	if (pmx_ctl_arg_uint(req, "rule_id", true, UINT32_MAX, &id, e))
		return -1;
	rule = pmx_ctl_rule_json(ctl, (uint32_t)id);
	if (rule == NULL)
		return pmx_ctl_fail(e, "ENOENT", "no rule %llu", (unsigned long long)id);
	if (pmx_ctl_static_rule_index(ctl, (uint32_t)id) >= 0) {
		json_decref(rule);
		return pmx_ctl_static_rule_refuse(ctl, (uint32_t)id, e);
	}
	pmx_ctl_rule_delete(ctl, (uint32_t)id);
	PMX_LOG(INFO, ctl, "rule %llu deleted by uid %u", (unsigned long long)id, (unsigned)s->uid);
	*result = json_pack("{s:I, s:o}", "rule_id", (json_int_t)id, "rule", rule);
	return 0;
}

int pmx_ctl_cmd_clear_stats(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req,
			    json_t **result, struct pmx_ctl_error *e)
{
	(void)s;
	(void)req;
	(void)e;
	pmx_ctl_stats_clear(ctl);
	*result = json_pack("{s:I}", "cleared_at", (json_int_t)ctl->base->cleared_at);
	return 0;
}

int pmx_ctl_cmd_port_info(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req,
			  json_t **result, struct pmx_ctl_error *e)
{
	unsigned p;

	(void)s;
	if (pmx_ctl_arg_nic_port(ctl, req, &p, e))
		return -1;
	*result = pmx_ctl_port_info_json(ctl, p);
	return 0;
}

/* The clients' rules as used_ports entries. */
static void client_ports(struct pmx_ctl *ctl, json_t *listening, json_t *connected, json_t *ips)
{
	static const uint8_t any[16];
	uint32_t limit = pmx_flow_table_id_limit(ctl->sw->ft);
	char lip[INET6_ADDRSTRLEN], rip[INET6_ADDRSTRLEN], pbuf[8];

	for (uint32_t id = 0; id < limit; id++) {
		const struct pmx_rule *r = pmx_flow_table_rule(ctl->sw->ft, id);
		const char *proto;

		if (r == NULL || (r->owner >= PMX_MAX_CLIENTS && r->owner != PMX_OWNER_ABSENT))
			continue; /* the clients' rules, and config rules waiting for theirs */
		proto = pmx_ctl_proto_name(r->key.proto, pbuf, sizeof(pbuf));
		if (memcmp(r->key.local_ip, any, 16) == 0)
			snprintf(lip, sizeof(lip), "*");
		else
			pmx_addr_str(r->key.local_ip, lip, sizeof(lip));
		if (r->key.kind == PMX_KEY_IP)
			json_array_append_new(ips, json_pack("{s:s, s:o, s:I}", "ip", lip, "owner",
							     pmx_ctl_rule_owner_json(ctl, id),
							     "rule_id", (json_int_t)id));
		else if (r->key.kind == PMX_KEY_LISTEN || r->key.kind == PMX_KEY_PEER ||
			 r->key.kind == PMX_KEY_PROTO) /* port 0: the whole protocol */
			json_array_append_new(listening,
					      json_pack("{s:s, s:s, s:i, s:o, s:I}", "proto", proto,
							"ip", lip, "port", ntohs(r->key.local_port),
							"owner", pmx_ctl_rule_owner_json(ctl, id),
							"rule_id", (json_int_t)id));
		else
			json_array_append_new(
				connected,
				json_pack("{s:s, s:s, s:i, s:s, s:i, s:s, s:o, s:I}", "proto",
					  proto, "local_ip", lip, "local_port",
					  ntohs(r->key.local_port), "remote_ip",
					  pmx_addr_str(r->key.remote_ip, rip, sizeof(rip)),
					  "remote_port", ntohs(r->key.remote_port), "state",
					  r->origin == PMX_ORIGIN_LEARNED ? "learned" : "rule",
					  "owner", pmx_ctl_rule_owner_json(ctl, id), "rule_id",
					  (json_int_t)id));
	}
}

int pmx_ctl_cmd_used_ports(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req,
			   json_t **result, struct pmx_ctl_error *e)
{
	json_t *listening = json_array(), *connected = json_array(), *ips = json_array();

	(void)s;
	(void)req;
	(void)e;
	pmx_kernel_ports_list(ctl->resv, listening, connected);
	client_ports(ctl, listening, connected, ips);
	*result = json_pack("{s:o, s:o, s:o}", "listening", listening, "connected", connected,
			    "ips", ips);
	return 0;
}
