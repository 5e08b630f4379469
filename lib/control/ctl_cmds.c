/* ctl_cmds.c - the control API's client commands and the dispatch table of every command */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include <rte_eal.h>
#include <rte_ether.h>

#include "client_registry.h"
#include "ctl_cmd.h"
#include "memif_server.h"
#include "pmx_log.h"
#include "pmx_packet.h"
#include "port_reserve.h"

#define NEEDS_CLIENT 0x1 /* only after hello */
#define NEEDS_ADMIN 0x2  /* root or control.group */

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

/* The addresses a client with a MAC of its own declared, as text. */
static json_t *own_addresses_json(const struct own_mac_req *om)
{
	json_t *arr = json_array();
	char buf[INET6_ADDRSTRLEN];

	for (unsigned i = 0; i < om->n; i++)
		json_array_append_new(arr,
				      json_string(pmx_addr_str(om->addrs[i], buf, sizeof(buf))));
	return arr;
}

/* "memif": {"id": N, "secret": "..."}: a memif client back after a restart keeps the
 * interface id and secret a previous daemon gave it (info->memif_reuse). */
static int arg_memif_identity(struct pmx_ctl *ctl, json_t *req, bool memif,
			      struct pmx_attach_info *info, struct cmd_error *e)
{
	json_t *m = json_object_get(req, "memif"), *id, *secret;

	if (m == NULL)
		return 0;
	if (!memif)
		return cmd_fail(e, "EINVAL", "\"memif\" is for \"channel\": \"memif\" only");
	if (!json_is_object(m) || json_object_size(m) != 2)
		return cmd_fail(e, "EINVAL", "\"memif\" must be {\"id\": N, \"secret\": \"...\"}");
	id = json_object_get(m, "id");
	secret = json_object_get(m, "secret");
	if (!json_is_integer(id) || json_integer_value(id) < 0 ||
	    json_integer_value(id) >= ctl->sw->clients_max)
		return cmd_fail(e, "EINVAL", "\"memif.id\" must be an integer 0..%u",
				ctl->sw->clients_max - 1);
	if (!json_is_string(secret) || !pmx_memif_secret_valid(json_string_value(secret)))
		return cmd_fail(e, "EINVAL",
				"\"memif.secret\" must be the 24 hex digits a "
				"hello gave");
	info->memif_reuse = true;
	info->client_id = (uint16_t)json_integer_value(id);
	snprintf(info->memif_secret, sizeof(info->memif_secret), "%s", json_string_value(secret));
	return 0;
}

static int cmd_hello(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req, json_t **result,
		     struct cmd_error *e)
{
	struct pmx_attach_info info = {0};
	struct own_mac_req om;
	const char *name = NULL, *channel = NULL;
	char mac[RTE_ETHER_ADDR_FMT_SIZE];
	uint64_t queues = 1;
	unsigned p;
	int ret;

	if (s->client_id >= 0)
		return cmd_fail(e, "EALREADY", "this connection is attached already (client %d)",
				s->client_id);
	if (arg_string(req, "name", false, &name, e) || arg_string(req, "channel", false, &channel, e) ||
	    arg_uint(req, "queues", false, 64, &queues, e) || arg_nic_port(ctl, req, &p, e))
		return -1;
	if (channel != NULL && strcmp(channel, "ring") != 0 && strcmp(channel, "memif") != 0)
		return cmd_fail(e, "ENOTSUP", "channel \"%.40s\" is not available; use \"ring\" or "
				"\"memif\"", channel);
	if (queues > ctl->cfg->client_queue_quota)
		return cmd_fail(e, "EDQUOT", "%u queues asked, clients.queue_quota is %u",
				(unsigned)queues, ctl->cfg->client_queue_quota);
	bool memif = channel != NULL && strcmp(channel, "memif") == 0;

	if (memif && !ctl->cfg->memif)
		return cmd_fail(e, "EPERM", "memif clients are off (clients.memif in the config)");

	if (queues == 0 || queues > PMX_MAX_QUEUES || (memif && queues != 1))
		return cmd_fail(e, "EINVAL", "\"queues\" must be 1..%u (1 for memif)",
				PMX_MAX_QUEUES);
	if (own_mac_args(ctl, s, req, p, &om, e) ||
	    arg_memif_identity(ctl, req, memif, &info, e))
		return -1;
	info.pid = s->pid;
	ret = pmx_registry_attach(ctl->sw, p, memif ? PMX_CHANNEL_MEMIF : PMX_CHANNEL_RING,
				  (unsigned)queues, &info);
	if (ret == -ENOSPC)
		return cmd_fail(e, "ENOSPC", "all %u client slots are taken (clients.max)",
				ctl->sw->clients_max);
	if (ret == -ENODEV)
		return cmd_fail(e, "ENODEV", "cannot open the memif socket");
	if (ret == -EADDRINUSE)
		return cmd_fail(e, "EADDRINUSE",
				"memif.id %u is another client's: hello without "
				"\"memif\" for a new interface",
				info.client_id);
	if (ret != 0)
		return cmd_fail(e, "ENOMEM", "cannot create the client's rings");
	if (om.set)
		pmx_registry_own_mac(ctl->sw, info.client_id, &om.mac, om.addrs, om.n);
	s->client_id = info.client_id;
	s->n_rules = 0;
	snprintf(s->name, sizeof(s->name), "%s", name ? name : "client");
	ctl->client_session[info.client_id] = s;
	PMX_LOG(INFO, ctl, "client %u \"%s\" attached (pid %d, uid %u) on port %s", info.client_id,
		s->name, (int)s->pid, (unsigned)s->uid, ctl->sw->ports[p].name);

	rte_ether_format_addr(mac, sizeof(mac), &ctl->sw->ports[p].mac);
	json_t *rx_rings = json_array(), *tx_rings = json_array();

	for (unsigned q = 0; q < info.n_queues; q++) {
		json_array_append_new(rx_rings, json_string(info.rx_ring[q]));
		json_array_append_new(tx_rings, json_string(info.tx_ring[q]));
	}
	*result = json_pack("{s:i, s:i, s:i, s:s, s:s, s:o, s:o, s:s, s:s, s:i, s:s, s:o, s:i, s:i}",
			    "client_id", info.client_id, "generation", (int)info.generation,
			    "lcore", info.lcore_id, "file_prefix", ctl->file_prefix, "channel", "ring",
			    "rx_rings", rx_rings, "tx_rings", tx_rings,
			    "mempool", PMX_POOL_NAME, "shm", PMX_SHM_MZ_NAME, "port", p,
			    "mac", mac, "addresses", addresses_json(ctl, p), "version",
			    PMX_SHM_VERSION, "magic", (int)PMX_SHM_MAGIC);
	if (om.set) {
		/* it sends from its MAC and addresses; the port's stay the kernel's */
		json_object_set_new(*result, "port_mac", json_string(mac));
		rte_ether_format_addr(mac, sizeof(mac), &om.mac);
		json_object_set_new(*result, "mac", json_string(mac));
		json_object_set_new(*result, "addresses", own_addresses_json(&om));
	}
	/* the config's rules for this name are its own from now on */
	json_object_set_new(*result, "config_rules",
			    static_rules_adopt(ctl, info.client_id, s->name));
	if (memif) {
		/* an isolated client gets a memif device, not rings or lcores of the switch */
		json_object_set_new(*result, "channel", json_string("memif"));
		json_object_set_new(*result, "memif",
				    json_pack("{s:s, s:i, s:s, s:s}", "socket", info.memif_socket,
					      "id", info.client_id, "secret", info.memif_secret, "role",
					      "client"));
		json_object_del(*result, "rx_rings");
		json_object_del(*result, "tx_rings");
		json_object_del(*result, "lcore");
		json_object_del(*result, "file_prefix");
		json_object_del(*result, "mempool");
		json_object_del(*result, "shm");
	}
	return 0;
}

static int cmd_listen(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req, json_t **result,
		      struct cmd_error *e)
{
	struct pmx_flow_key key = {.port_id = ctl->sw->clients[s->client_id].port};

	if (arg_rule(req, PMX_KEY_LISTEN, &pmx_rule_names_listen, &key, e))
		return -1;
	return rule_add_checked(ctl, &key, (uint16_t)s->client_id, PMX_ORIGIN_CLIENT, !s->admin,
				result, e);
}

static int cmd_connect(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req,
		       json_t **result, struct cmd_error *e)
{
	struct pmx_flow_key key = {.port_id = ctl->sw->clients[s->client_id].port};

	if (arg_rule(req, PMX_KEY_EXACT, &pmx_rule_names_full, &key, e))
		return -1;
	if (!is_own_address(ctl, key.port_id, key.local_ip))
		return cmd_fail(e, "EADDRNOTAVAIL", "local_ip is not an address of port %s",
				ctl->sw->ports[key.port_id].name);
	return rule_add_checked(ctl, &key, (uint16_t)s->client_id, PMX_ORIGIN_CLIENT, !s->admin,
				result, e);
}

static int cmd_claim_ip(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req,
			json_t **result, struct cmd_error *e)
{
	static const uint8_t any[16];
	struct pmx_flow_key key = {.kind = PMX_KEY_IP};

	if (arg_addr(req, "ip", true, key.local_ip, e))
		return -1;
	if (memcmp(key.local_ip, any, 16) == 0)
		return cmd_fail(e, "EINVAL", "\"ip\" must be one address, not any");
	key.port_id = ctl->sw->clients[s->client_id].port;
	return rule_add_checked(ctl, &key, (uint16_t)s->client_id, PMX_ORIGIN_CLIENT, false, result,
				e);
}

static int cmd_release(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req,
		       json_t **result, struct cmd_error *e)
{
	const struct pmx_rule *r;
	uint64_t id = 0;

	if (arg_uint(req, "rule_id", true, UINT32_MAX, &id, e))
		return -1;
	r = pmx_flow_table_rule(ctl->sw->ft, (uint32_t)id);
	if (r == NULL)
		return cmd_fail(e, "ENOENT", "no rule %llu", (unsigned long long)id);
	if (r->owner != s->client_id)
		return cmd_fail(e, "EPERM", "rule %llu belongs to someone else",
				(unsigned long long)id);
	if (static_rule_index(ctl, (uint32_t)id) >= 0)
		return static_rule_refuse(ctl, (uint32_t)id, e);
	rule_delete(ctl, (uint32_t)id);
	*result = json_pack("{s:I}", "rule_id", (json_int_t)id);
	return 0;
}

static int cmd_rules(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req, json_t **result,
		     struct cmd_error *e)
{
	int only = s->admin ? -1 : s->client_id >= 0 ? s->client_id : (int)PMX_OWNER_NONE;

	(void)req;
	(void)e;
	*result = json_pack("{s:o}", "rules", pmx_ctl_rules_json(ctl, only));
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
	{"claim_ip", cmd_claim_ip, NEEDS_CLIENT | NEEDS_ADMIN},
	{"release", cmd_release, NEEDS_CLIENT},
	{"rules", cmd_rules, 0},
	{"used_ports", cmd_used_ports, 0},
	{"stats", cmd_stats, 0},
	{"port_info", cmd_port_info, 0},
	{"bye", cmd_bye, NEEDS_CLIENT},
	{"clients", cmd_clients, NEEDS_ADMIN},
	{"kick", cmd_kick, NEEDS_ADMIN},
	{"set_kernel_policy", cmd_set_kernel_policy, NEEDS_ADMIN},
	{"rule_add", cmd_rule_add, NEEDS_ADMIN},
	{"rule_del", cmd_rule_del, NEEDS_ADMIN},
	{"clear_stats", cmd_clear_stats, NEEDS_ADMIN},
	/* usnetd's messages, same meaning (ctl_usnetd.c) */
	{"AddMatch", cmd_usnetd_add_match, NEEDS_CLIENT},
	{"RemoveMatch", cmd_usnetd_remove_match, NEEDS_CLIENT},
	{"QueryUsedPorts", cmd_usnetd_query_used_ports, 0},
	{"DeleteClient", cmd_usnetd_delete_client, NEEDS_CLIENT},
};

void pmx_ctl_session_detach(struct pmx_ctl *ctl, struct pmx_ctl_session *s)
{
	int id = s->client_id;
	unsigned freed;

	if (id < 0)
		return;
	pmx_learn_poll(ctl); /* frames it handed over before it left are still sent */
	pmx_ctl_lock(ctl);
	static_rules_orphan(ctl, (uint16_t)id); /* they stay, for the next of that name */
	rules_forget_owner(ctl, (uint16_t)id);
	freed = pmx_registry_detach(ctl->sw, (uint16_t)id);
	pmx_port_resv_sweep(ctl->resv, ctl->sw->ft);
	ctl->client_session[id] = NULL;
	s->client_id = -1;
	s->n_rules = 0;
	pmx_ctl_unlock(ctl);
	PMX_LOG(INFO, ctl, "client %d \"%s\" detached, %u queued frames freed", id, s->name, freed);
}

void pmx_ctl_lock(struct pmx_ctl *ctl)
{
	pthread_mutex_lock(&ctl->lock);
}

void pmx_ctl_unlock(struct pmx_ctl *ctl)
{
	pthread_mutex_unlock(&ctl->lock);
}

static json_t *run(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req, json_t *id)
{
	struct cmd_error e = {.code = "EINVAL"};
	json_t *result = NULL;
	const char *name = NULL;
	unsigned i;

	ctl->requests++;
	if (!json_is_object(req)) {
		cmd_fail(&e, "EINVAL", "a request is a JSON object");
		goto error;
	}
	if (arg_string(req, "cmd", true, &name, &e) != 0)
		goto error;
	for (i = 0; i < RTE_DIM(commands) && strcmp(commands[i].name, name) != 0; i++)
		;
	if (i == RTE_DIM(commands)) {
		cmd_fail(&e, "ENOSYS", "unknown command \"%.40s\"", name);
		goto error;
	}
	if ((commands[i].flags & NEEDS_CLIENT) && s->client_id < 0) {
		cmd_fail(&e, "ENOTCONN", "\"%s\" needs a client: send hello first", name);
		goto error;
	}
	if ((commands[i].flags & NEEDS_ADMIN) && !s->admin) {
		cmd_fail(&e, "EPERM", "\"%s\" needs root or control.group", name);
		goto error;
	}
	if (commands[i].fn(ctl, s, req, &result, &e) != 0)
		goto error;
	return json_pack("{s:O?, s:b, s:o}", "id", id, "ok", 1, "result",
			 result ? result : json_object());

error:
	ctl->errors++;
	if (strcmp(e.code, "EINVAL") == 0 || strcmp(e.code, "ENOSYS") == 0)
		pmx_ctl_log_bad_input(ctl, s, e.message);
	return json_pack("{s:O?, s:b, s:{s:s, s:s}}", "id", id, "ok", 0, "error", "code", e.code,
			 "message", e.message);
}

json_t *pmx_ctl_execute(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req)
{
	json_t *usnetd = usnetd_normalize(req);
	json_t *id = json_is_object(req) ? json_object_get(req, "id") : NULL;
	json_t *reply;

	pmx_ctl_lock(ctl);
	reply = run(ctl, s, usnetd != NULL ? usnetd : req, id);
	pmx_ctl_unlock(ctl);
	json_decref(usnetd);
	return reply;
}
