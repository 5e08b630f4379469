/* ctl_cmds.c - the control API commands: one handler per command, dispatched from a table */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include <rte_eal.h>
#include <rte_ether.h>

#include "client_registry.h"
#include "ctl.h"
#include "pmx_packet.h"

/* A handler fills *result or returns an error (code + message). */
struct cmd_error {
	const char *code;
	char message[200];
};

typedef int (*cmd_fn)(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req,
		      json_t **result, struct cmd_error *e);

#define NEEDS_CLIENT 0x1 /* only after hello */
#define NEEDS_ADMIN 0x2  /* root or control.group */

static int fail(struct cmd_error *e, const char *code, const char *fmt, const char *arg)
{
	e->code = code;
	snprintf(e->message, sizeof(e->message), fmt, arg);
	return -1;
}

/* ---- argument helpers: each names the key at fault ---- */

static int arg_string(json_t *req, const char *key, bool required, const char **out,
		      struct cmd_error *e)
{
	json_t *v = json_object_get(req, key);

	*out = NULL;
	if (v == NULL)
		return required ? fail(e, "EINVAL", "missing \"%s\"", key) : 0;
	if (!json_is_string(v))
		return fail(e, "EINVAL", "\"%s\" must be a string", key);
	*out = json_string_value(v);
	return 0;
}

static int arg_uint(json_t *req, const char *key, bool required, uint64_t max, uint64_t *out,
		    struct cmd_error *e)
{
	json_t *v = json_object_get(req, key);

	if (v == NULL)
		return required ? fail(e, "EINVAL", "missing \"%s\"", key) : 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max) {
		e->code = "EINVAL";
		snprintf(e->message, sizeof(e->message), "\"%s\" must be an integer 0..%llu", key,
			 (unsigned long long)max);
		return -1;
	}
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int arg_proto(json_t *req, const char *key, uint8_t *proto, struct cmd_error *e)
{
	const char *s;
	int p;

	if (arg_string(req, key, true, &s, e) != 0)
		return -1;
	p = pmx_proto_parse(s);
	if (p < 0)
		return fail(e, "EINVAL", "unknown protocol \"%s\"", s);
	*proto = (uint8_t)p;
	return 0;
}

static int arg_addr(json_t *req, const char *key, bool required, uint8_t out[16],
		    struct cmd_error *e)
{
	const char *s;

	memset(out, 0, 16);
	if (arg_string(req, key, required, &s, e) != 0)
		return -1;
	if (s != NULL && pmx_addr_parse(s, out) != 0)
		return fail(e, "EINVAL", "\"%s\" is not an IPv4 or IPv6 address", key);
	return 0;
}

static int arg_port(json_t *req, const char *key, uint16_t *port_be, struct cmd_error *e)
{
	uint64_t v = 0;

	if (arg_uint(req, key, true, 65535, &v, e) != 0)
		return -1;
	if (v == 0)
		return fail(e, "EINVAL", "\"%s\" must be 1..65535", key);
	*port_be = htons((uint16_t)v);
	return 0;
}

/* ---- ownership checks ---- */

static bool is_own_address(const struct pmx_ctl *ctl, unsigned port, const uint8_t ip[16])
{
	uint8_t addrs[PMX_MAX_ADDRS][16];
	unsigned n = pmx_port_addresses(ctl, port, addrs, PMX_MAX_ADDRS);

	for (unsigned i = 0; i < n; i++)
		if (memcmp(addrs[i], ip, 16) == 0)
			return true;
	return false;
}

static bool port_needs_privilege(const struct pmx_ctl *ctl, uint8_t proto, uint16_t port_be)
{
	uint16_t port = ntohs(port_be);

	if (port >= 1024)
		return false;
	for (unsigned i = 0; i < ctl->cfg->n_low_ports; i++) {
		const struct pmx_proto_port *pp = &ctl->cfg->low_ports[i];

		if (pp->proto == proto && port >= pp->port_lo && port <= pp->port_hi)
			return false;
	}
	return true;
}

/* Is (proto, ip, port) listened on by someone else than `owner`, for any address overlap? */
static const struct pmx_rule *listen_conflict(struct pmx_ctl *ctl, const struct pmx_flow_key *k,
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

/* Add a rule for the session's client, enforcing quota and conflicts. */
static int add_client_rule(struct pmx_ctl *ctl, struct pmx_ctl_session *s,
			   struct pmx_flow_key *key, json_t **result, struct cmd_error *e)
{
	struct pmx_flow_key listen_key;
	const struct pmx_rule *other;
	uint32_t rule_id;
	int ret;

	if (s->n_rules >= ctl->cfg->client_rule_quota)
		return fail(e, "EDQUOT", "rule quota of this client reached%s", "");
	if (key->kind != PMX_KEY_IP && !s->admin && port_needs_privilege(ctl, key->proto, key->local_port))
		return fail(e, "EACCES", "ports below 1024 need root or clients.low_ports%s", "");
	/* a connection may not cut into a port someone else listens on, and vice versa */
	pmx_flow_key_reduce(key, key->kind == PMX_KEY_IP ? PMX_KEY_IP : PMX_KEY_LISTEN, 0,
			    &listen_key);
	other = listen_conflict(ctl, &listen_key, s->client_id);
	if (other != NULL)
		return fail(e, "EADDRINUSE", "already owned by %s",
			    other->owner == PMX_OWNER_KERNEL ? "the kernel" : "another client");
	ret = pmx_flow_table_add(ctl->sw->ft, key, s->client_id, PMX_ORIGIN_CLIENT, &rule_id);
	if (ret == -EEXIST)
		return fail(e, "EEXIST", "the same rule exists already%s", "");
	if (ret == -ENOSPC)
		return fail(e, "ENOSPC", "the flow table is full%s", "");
	if (ret != 0)
		return fail(e, "EINVAL", "cannot add the rule%s", "");
	s->n_rules++;
	*result = json_pack("{s:I}", "rule_id", (json_int_t)rule_id);
	return 0;
}

/* ---- commands ---- */

static int port_index(struct pmx_ctl *ctl, json_t *req, unsigned *p, struct cmd_error *e)
{
	json_t *v = json_object_get(req, "port");

	*p = 0;
	if (v == NULL)
		return 0;
	if (json_is_integer(v) && json_integer_value(v) >= 0 &&
	    json_integer_value(v) < ctl->sw->n_ports) {
		*p = (unsigned)json_integer_value(v);
		return 0;
	}
	if (json_is_string(v))
		for (unsigned i = 0; i < ctl->sw->n_ports; i++)
			if (strcmp(ctl->sw->ports[i].name, json_string_value(v)) == 0) {
				*p = i;
				return 0;
			}
	return fail(e, "ENODEV", "no such port%s", "");
}

static json_t *addresses_json(struct pmx_ctl *ctl, unsigned p)
{
	uint8_t addrs[PMX_MAX_ADDRS][16];
	unsigned n = pmx_port_addresses(ctl, p, addrs, PMX_MAX_ADDRS);
	json_t *arr = json_array();
	char buf[INET6_ADDRSTRLEN];

	for (unsigned i = 0; i < n; i++)
		json_array_append_new(arr, json_string(pmx_addr_str(addrs[i], buf, sizeof(buf))));
	return arr;
}

static int cmd_hello(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req, json_t **result,
		     struct cmd_error *e)
{
	struct pmx_attach_info info;
	const char *name, *channel;
	char mac[RTE_ETHER_ADDR_FMT_SIZE];
	uint64_t queues = 1;
	unsigned p;
	int ret;

	if (s->client_id >= 0)
		return fail(e, "EALREADY", "this connection is attached already%s", "");
	if (arg_string(req, "name", false, &name, e) || arg_string(req, "channel", false, &channel, e) ||
	    arg_uint(req, "queues", false, 64, &queues, e) || port_index(ctl, req, &p, e))
		return -1;
	if (channel != NULL && strcmp(channel, "ring") != 0)
		return fail(e, "ENOTSUP", "channel \"%s\" is not available; use \"ring\"", channel);
	if (queues != 1)
		return fail(e, "ENOTSUP", "one queue pair per client%s", "");
	if (queues > ctl->cfg->client_queue_quota)
		return fail(e, "EDQUOT", "more queues than clients.queue_quota%s", "");
	ret = pmx_registry_attach(ctl->sw, p, &info);
	if (ret == -ENOSPC)
		return fail(e, "ENOSPC", "all client slots are taken (clients.max)%s", "");
	if (ret != 0)
		return fail(e, "ENOMEM", "cannot create the client's rings%s", "");
	s->client_id = info.client_id;
	snprintf(s->name, sizeof(s->name), "%s", name ? name : "client");
	ctl->client_session[info.client_id] = s;

	rte_ether_format_addr(mac, sizeof(mac), &ctl->sw->ports[p].mac);
	*result = json_pack("{s:i, s:i, s:i, s:s, s:s, s:[s], s:[s], s:s, s:s, s:i, s:s, s:o, s:i, s:i}",
			    "client_id", info.client_id, "generation", (int)info.generation,
			    "lcore", info.lcore_id, "file_prefix", ctl->file_prefix, "channel", "ring",
			    "rx_rings", info.rx_ring, "tx_rings", info.tx_ring,
			    "mempool", PMX_POOL_NAME, "shm", PMX_SHM_MZ_NAME, "port", p,
			    "mac", mac, "addresses", addresses_json(ctl, p), "version",
			    PMX_SHM_VERSION, "magic", (int)PMX_SHM_MAGIC);
	return 0;
}

static int cmd_listen(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req, json_t **result,
		      struct cmd_error *e)
{
	struct pmx_flow_key key = {.kind = PMX_KEY_LISTEN};

	if (arg_proto(req, "proto", &key.proto, e) || arg_addr(req, "ip", false, key.local_ip, e) ||
	    arg_port(req, "port", &key.local_port, e))
		return -1;
	key.port_id = ctl->sw->clients[s->client_id].port;
	return add_client_rule(ctl, s, &key, result, e);
}

static int cmd_connect(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req,
		       json_t **result, struct cmd_error *e)
{
	struct pmx_flow_key key = {.kind = PMX_KEY_EXACT};

	if (arg_proto(req, "proto", &key.proto, e) ||
	    arg_addr(req, "local_ip", true, key.local_ip, e) ||
	    arg_port(req, "local_port", &key.local_port, e) ||
	    arg_addr(req, "remote_ip", true, key.remote_ip, e) ||
	    arg_port(req, "remote_port", &key.remote_port, e))
		return -1;
	key.port_id = ctl->sw->clients[s->client_id].port;
	if (!is_own_address(ctl, key.port_id, key.local_ip))
		return fail(e, "EADDRNOTAVAIL", "local_ip is not an address of this port%s", "");
	return add_client_rule(ctl, s, &key, result, e);
}

static int cmd_claim_ip(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req,
			json_t **result, struct cmd_error *e)
{
	struct pmx_flow_key key = {.kind = PMX_KEY_IP};

	if (!s->admin)
		return fail(e, "EPERM", "claim_ip needs root or control.group%s", "");
	if (arg_addr(req, "ip", true, key.local_ip, e))
		return -1;
	key.port_id = ctl->sw->clients[s->client_id].port;
	return add_client_rule(ctl, s, &key, result, e);
}

static int cmd_release(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req,
		       json_t **result, struct cmd_error *e)
{
	const struct pmx_rule *r;
	uint64_t id;

	if (arg_uint(req, "rule_id", true, UINT32_MAX, &id, e))
		return -1;
	r = pmx_flow_table_rule(ctl->sw->ft, (uint32_t)id);
	if (r == NULL)
		return fail(e, "ENOENT", "no such rule%s", "");
	if (r->owner != s->client_id)
		return fail(e, "EPERM", "the rule belongs to someone else%s", "");
	pmx_flow_table_del(ctl->sw->ft, (uint32_t)id);
	s->n_rules--;
	*result = json_pack("{s:I}", "rule_id", (json_int_t)id);
	return 0;
}

static int cmd_rules(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req, json_t **result,
		     struct cmd_error *e)
{
	(void)req;
	(void)e;
	*result = json_pack("{s:o}", "rules", pmx_ctl_rules_json(ctl, s->admin ? -1 : s->client_id));
	return 0;
}

static int cmd_stats(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req, json_t **result,
		     struct cmd_error *e)
{
	(void)s;
	(void)req;
	(void)e;
	*result = pmx_ctl_stats_json(ctl);
	return 0;
}

static int cmd_clients(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req,
		       json_t **result, struct cmd_error *e)
{
	(void)s;
	(void)req;
	(void)e;
	*result = json_pack("{s:o}", "clients", pmx_ctl_clients_json(ctl));
	return 0;
}

static int cmd_bye(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req, json_t **result,
		   struct cmd_error *e)
{
	int id = s->client_id;

	(void)req;
	(void)e;
	pmx_ctl_session_detach(ctl, s);
	*result = json_pack("{s:i}", "client_id", id);
	return 0;
}

static const struct {
	const char *name;
	cmd_fn fn;
	unsigned flags;
} commands[] = {
	{"hello", cmd_hello, 0},
	{"listen", cmd_listen, NEEDS_CLIENT},
	{"connect", cmd_connect, NEEDS_CLIENT},
	{"claim_ip", cmd_claim_ip, NEEDS_CLIENT},
	{"release", cmd_release, NEEDS_CLIENT},
	{"rules", cmd_rules, 0},
	{"stats", cmd_stats, 0},
	{"clients", cmd_clients, NEEDS_ADMIN},
	{"bye", cmd_bye, NEEDS_CLIENT},
};

void pmx_ctl_session_detach(struct pmx_ctl *ctl, struct pmx_ctl_session *s)
{
	if (s->client_id < 0)
		return;
	ctl->client_session[s->client_id] = NULL;
	pmx_registry_detach(ctl->sw, (uint16_t)s->client_id);
	s->client_id = -1;
	s->n_rules = 0;
}

json_t *pmx_ctl_execute(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req)
{
	struct cmd_error e = {.code = "EINVAL"};
	json_t *id = json_is_object(req) ? json_object_get(req, "id") : NULL;
	json_t *result = NULL, *reply;
	const char *name = NULL;
	unsigned i;

	ctl->requests++;
	if (!json_is_object(req) || arg_string(req, "cmd", true, &name, &e) != 0) {
		if (json_is_object(req) == 0)
			snprintf(e.message, sizeof(e.message), "a request is a JSON object");
		goto error;
	}
	for (i = 0; i < RTE_DIM(commands) && strcmp(commands[i].name, name) != 0; i++)
		;
	if (i == RTE_DIM(commands)) {
		fail(&e, "ENOSYS", "unknown command \"%s\"", name);
		goto error;
	}
	if ((commands[i].flags & NEEDS_CLIENT) && s->client_id < 0) {
		fail(&e, "ENOTCONN", "\"%s\" needs a client: send hello first", name);
		goto error;
	}
	if ((commands[i].flags & NEEDS_ADMIN) && !s->admin) {
		fail(&e, "EPERM", "\"%s\" needs root or control.group", name);
		goto error;
	}
	if (commands[i].fn(ctl, s, req, &result, &e) != 0)
		goto error;
	reply = json_pack("{s:O?, s:b, s:o}", "id", id, "ok", 1, "result",
			  result ? result : json_object());
	return reply;

error:
	ctl->errors++;
	return json_pack("{s:O?, s:b, s:{s:s, s:s}}", "id", id, "ok", 0, "error", "code", e.code,
			 "message", e.message);
}
