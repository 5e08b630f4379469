/* ctl_usnetd.c - usnetd's control messages (AddMatch, RemoveMatch, QueryUsedPorts, DeleteClient) */
#include <string.h>
#include <arpa/inet.h>

#include "ctl_admin.h"
#include "ctl_checks.h"
#include "ctl_rules.h"
#include "ctl_usnetd.h"
#include "static_rules.h"
#include "pmx_log.h"
#include "pmx_packet.h"

static const char *const usnetd_names[] = {"AddMatch", "RemoveMatch", "QueryUsedPorts",
					   "DeleteClient"};

static bool is_usnetd_name(const char *name)
{
	for (unsigned i = 0; i < RTE_DIM(usnetd_names); i++)
		if (strcmp(name, usnetd_names[i]) == 0)
			return true;
	return false;
}

json_t *pmx_ctl_usnetd_normalize(json_t *req)
{
	const char *key;
	json_t *value, *out;

	if (json_is_string(req) && is_usnetd_name(json_string_value(req)))
		return json_pack("{s:s}", "cmd", json_string_value(req));
	if (!json_is_object(req) || json_object_size(req) != 1)
		return NULL;
	json_object_foreach(req, key, value)
	{
		if (!is_usnetd_name(key))
			return NULL;
		out = json_is_object(value) ? json_deep_copy(value) : json_object();
		json_object_set_new(out, "cmd", json_string(key));
		return out;
	}
	return NULL;
}

/* A ClientMessageIp: {"Ipv4": "a.b.c.d"} or {"Ipv6": "..."} (a plain string is taken too). */
static int want_ip(json_t *want, const char *key, bool *present, uint8_t out[16],
		   struct pmx_ctl_error *e)
{
	json_t *v = json_object_get(want, key);
	const char *s = NULL;

	memset(out, 0, 16);
	*present = v != NULL && !json_is_null(v);
	if (!*present)
		return 0;
	if (json_is_object(v) && json_object_size(v) == 1) {
		json_t *ip4 = json_object_get(v, "Ipv4"), *ip6 = json_object_get(v, "Ipv6");

		v = ip4 != NULL ? ip4 : ip6;
	}
	if (json_is_string(v))
		s = json_string_value(v);
	if (s == NULL || pmx_addr_parse(s, out) != 0)
		return pmx_ctl_fail(e, "EINVAL",
				    "\"%s\" must be {\"Ipv4\": ADDRESS} or {\"Ipv6\": ADDRESS}",
				    key);
	if (strcmp(s, "0.0.0.0") == 0) /* usnetd's every address, as "::" is */
		memset(out, 0, 16);
	return 0;
}

static bool ip_is_any(const uint8_t ip[16])
{
	static const uint8_t any[16];

	return memcmp(ip, any, sizeof(any)) == 0;
}

/* Optional u16 (null or missing = absent). */
static int want_port(json_t *want, const char *key, bool *present, uint16_t *port_be,
		     struct pmx_ctl_error *e)
{
	json_t *v = json_object_get(want, key);

	*present = v != NULL && !json_is_null(v);
	*port_be = 0;
	if (!*present)
		return 0;
	return pmx_ctl_arg_port(want, key, port_be, e);
}

/*
 * WantMsg -> flow key: dst = our side, src = the remote.
 *   dst_port, src_addr + src_port  -> EXACT (a connection)
 *   dst_port, src_addr             -> PEER  (the port, from one remote address)
 *   dst_port                       -> LISTEN
 *   no dst_port [, src_addr]       -> PROTO (every frame of the protocol to dst_addr, e.g.
 *                                     ICMP echo of any identifier for a ping responder)
 */
static int want_key(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *want,
		    struct pmx_flow_key *key, struct pmx_ctl_error *e)
{
	bool has_dst, has_dport, has_src, has_sport;
	uint64_t proto = 0;

	memset(key, 0, sizeof(*key));
	if (pmx_ctl_arg_uint(want, "protocol", true, 255, &proto, e) ||
	    want_ip(want, "dst_addr", &has_dst, key->local_ip, e) ||
	    want_port(want, "dst_port", &has_dport, &key->local_port, e) ||
	    want_ip(want, "src_addr", &has_src, key->remote_ip, e) ||
	    want_port(want, "src_port", &has_sport, &key->remote_port, e))
		return -1;
	if (!has_dst)
		return pmx_ctl_fail(e, "EINVAL", "missing \"dst_addr\"");
	if (has_sport && !has_src)
		return pmx_ctl_fail(e, "EINVAL", "src_port without src_addr");
	if (has_sport && !has_dport)
		return pmx_ctl_fail(e, "ENOTSUP", "src_port without dst_port is not supported");
	if (!has_dport && ip_is_any(key->local_ip))
		return pmx_ctl_fail(e, "ENOTSUP",
				    "a match without dst_port needs an address, not every address");
	if (has_src && ip_is_any(key->remote_ip))
		has_src = false; /* 0.0.0.0: any peer */
	key->proto = (uint8_t)proto;
	key->port_id = ctl->sw->clients[s->client_id].port;
	if (!has_dport)
		key->kind = PMX_KEY_PROTO;
	else if (has_sport)
		key->kind = PMX_KEY_EXACT;
	else
		key->kind = has_src ? PMX_KEY_PEER : PMX_KEY_LISTEN;
	return 0;
}

int pmx_ctl_cmd_usnetd_add_match(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req,
				 json_t **result, struct pmx_ctl_error *e)
{
	struct pmx_flow_key key;

	if (want_key(ctl, s, req, &key, e) != 0)
		goto refused;
	if (key.kind == PMX_KEY_EXACT && !pmx_ctl_is_own_address(ctl, key.port_id, key.local_ip)) {
		pmx_ctl_fail(e, "EADDRNOTAVAIL", "dst_addr is not an address of port %s",
			     ctl->sw->ports[key.port_id].name);
		goto refused;
	}
	if (pmx_ctl_rule_add(ctl, &key, (uint16_t)s->client_id, PMX_ORIGIN_CLIENT, !s->admin,
			     result, e) == 0) {
		/* a client with a MAC of its own sends from the addresses it matches */
		pmx_mac_learn_rule_addr(ctl, (uint16_t)s->client_id, key.local_ip);
		return 0;
	}
refused: /* the reason is the client's only answer ("ER" on usnetd's socket): log it */
	PMX_LOG(NOTICE, ctl, "client %d \"%s\": AddMatch refused: %s (%s)", s->client_id, s->name,
		e->message, e->code);
	return -1;
}

int pmx_ctl_cmd_usnetd_remove_match(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req,
				    json_t **result, struct pmx_ctl_error *e)
{
	const struct pmx_rule *r;
	struct pmx_flow_key key;
	uint32_t id;

	if (want_key(ctl, s, req, &key, e) != 0)
		return -1;
	id = pmx_flow_table_find(ctl->sw->ft, &key);
	r = pmx_flow_table_rule(ctl->sw->ft, id);
	if (r == NULL)
		return pmx_ctl_fail(e, "ENOENT", "no such match");
	if (r->owner != s->client_id)
		return pmx_ctl_fail(e, "EPERM", "the match belongs to someone else");
	if (pmx_ctl_static_rule_index(ctl, id) >= 0)
		return pmx_ctl_static_rule_refuse(ctl, id, e);
	pmx_ctl_rule_delete(ctl, id);
	*result = json_pack("{s:I}", "rule_id", (json_int_t)id);
	return 0;
}

/* One used_ports entry -> usnetd's (protocol, ClientMessageIp, port) triple. */
static json_t *triple(json_t *entry, const char *ip_key, const char *port_key)
{
	const char *ip = json_string_value(json_object_get(entry, ip_key));
	int proto = pmx_proto_parse(json_string_value(json_object_get(entry, "proto")));
	uint8_t key[16];

	if (ip == NULL || strcmp(ip, "*") == 0)
		ip = "0.0.0.0";
	if (pmx_addr_parse(ip, key) != 0)
		return NULL;
	return json_pack("[i, {s:s}, O]", proto < 0 ? 0 : proto,
			 pmx_key_ip_is_v4(key) ? "Ipv4" : "Ipv6", ip,
			 json_object_get(entry, port_key));
}

int pmx_ctl_cmd_usnetd_query_used_ports(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req,
					json_t **result, struct pmx_ctl_error *e)
{
	json_t *used = NULL, *listening = json_array(), *connected = json_array(), *entry;
	size_t i;

	if (pmx_ctl_cmd_used_ports(ctl, s, req, &used, e) != 0)
		return -1;
	json_array_foreach(json_object_get(used, "listening"), i, entry)
	{
		json_t *t = triple(entry, "ip", "port");

		if (t != NULL)
			json_array_append_new(listening, t);
	}
	json_array_foreach(json_object_get(used, "connected"), i, entry)
	{
		json_t *t = triple(entry, "local_ip", "local_port");

		if (t != NULL)
			json_array_append_new(connected, t);
	}
	json_decref(used);
	*result = json_pack("{s:{s:o, s:o}}", "QueryUsedPortsAnswer", "listening", listening,
			    "connected", connected);
	return 0;
}

int pmx_ctl_cmd_usnetd_delete_client(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req,
				     json_t **result, struct pmx_ctl_error *e)
{
	int id = s->client_id;

	(void)req;
	(void)e;
	pmx_ctl_session_detach(ctl, s);
	*result = json_pack("{s:i}", "client_id", id);
	return 0;
}
