/* ctl_client_cmds.c - the control API's client commands (hello ... bye) and the views anyone
 * may ask for (rules, stats) */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <rte_eal.h>
#include <rte_ether.h>

#include "ctl_checks.h"
#include "ctl_client_cmds.h"
#include "ctl_own_mac.h"
#include "ctl_rules.h"
#include "ctl_session.h"
#include "memif_server.h"
#include "pmx_packet.h"
#include "static_rules.h"
#include "uds_channel.h"

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
static json_t *own_addresses_json(const struct pmx_ctl_own_mac_req *om)
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
			      struct pmx_attach_info *info, struct pmx_ctl_error *e)
{
	json_t *m = json_object_get(req, "memif"), *id, *secret;

	if (m == NULL)
		return 0;
	if (!memif)
		return pmx_ctl_fail(e, "EINVAL", "\"memif\" is for \"channel\": \"memif\" only");
	if (!json_is_object(m) || json_object_size(m) != 2)
		return pmx_ctl_fail(e, "EINVAL",
				    "\"memif\" must be {\"id\": N, \"secret\": \"...\"}");
	id = json_object_get(m, "id");
	secret = json_object_get(m, "secret");
	if (!json_is_integer(id) || json_integer_value(id) < 0 ||
	    json_integer_value(id) >= ctl->sw->clients_max)
		return pmx_ctl_fail(e, "EINVAL", "\"memif.id\" must be an integer 0..%u",
				    ctl->sw->clients_max - 1);
	if (!json_is_string(secret) || !pmx_memif_secret_valid(json_string_value(secret)))
		return pmx_ctl_fail(e, "EINVAL",
				    "\"memif.secret\" must be the 24 hex digits a "
				    "hello gave");
	info->memif_reuse = true;
	info->client_id = (uint16_t)json_integer_value(id);
	snprintf(info->memif_secret, sizeof(info->memif_secret), "%s", json_string_value(secret));
	return 0;
}

/* "uds_type": "seqpacket" (the default: a client that closes its end is detached at once)
 * or "dgram" (usnetd's kind), for "channel": "uds" only. */
static int arg_uds_type(json_t *req, bool uds, int *type, struct pmx_ctl_error *e)
{
	json_t *t = json_object_get(req, "uds_type");

	if (t == NULL)
		return 0;
	if (!uds)
		return pmx_ctl_fail(e, "EINVAL", "\"uds_type\" is for \"channel\": \"uds\" only");
	if (json_is_string(t) && strcmp(json_string_value(t), "seqpacket") == 0)
		*type = SOCK_SEQPACKET;
	else if (json_is_string(t) && strcmp(json_string_value(t), "dgram") == 0)
		*type = SOCK_DGRAM;
	else
		return pmx_ctl_fail(e, "EINVAL", "\"uds_type\" must be \"seqpacket\" or \"dgram\"");
	return 0;
}

/* Attach over the uds channel: the client's end of the socketpair goes with the reply
 * (SCM_RIGHTS, ctl_sock.c). @return 0 or pmx_uds_channel_open()'s -errno. */
static int hello_uds(struct pmx_ctl *ctl, struct pmx_ctl_session *s, unsigned p, const char *name,
		     int type, const struct pmx_ctl_own_mac_req *om, struct pmx_attach_info *info,
		     json_t **config_rules)
{
	int fd, ret;

	ret = pmx_uds_channel_open(ctl, s, p, name, type, om, info, config_rules, &fd);
	if (ret != 0)
		return ret;
	s->passing = true;
	s->pass_fd = fd;
	s->pass_at = SIZE_MAX; /* placed when the reply is queued */
	return 0;
}

/* A uds client gets no rings, lcore or shared memory: its frames come on the descriptor. */
static void uds_reply(json_t *result, int type)
{
	static const char *const gone[] = {"rx_rings",    "tx_rings", "lcore",
					   "file_prefix", "mempool",  "shm"};

	json_object_set_new(result, "channel", json_string("uds"));
	json_object_set_new(result, "uds",
			    json_pack("{s:s, s:i}", "type",
				      type == SOCK_DGRAM ? "dgram" : "seqpacket", "frame_max",
				      PMX_MAX_CLIENT_FRAME));
	for (unsigned i = 0; i < RTE_DIM(gone); i++)
		json_object_del(result, gone[i]);
}

int pmx_ctl_cmd_hello(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req, json_t **result,
		      struct pmx_ctl_error *e)
{
	struct pmx_attach_info info = {0};
	struct pmx_ctl_own_mac_req om;
	json_t *config_rules = NULL;
	const char *name = NULL, *channel = NULL;
	char mac[RTE_ETHER_ADDR_FMT_SIZE];
	uint64_t queues = 1;
	unsigned p;
	int ret;

	if (s->client_id >= 0)
		return pmx_ctl_fail(e, "EALREADY",
				    "this connection is attached already (client %d)",
				    s->client_id);
	if (pmx_ctl_arg_string(req, "name", false, &name, e) ||
	    pmx_ctl_arg_string(req, "channel", false, &channel, e) ||
	    pmx_ctl_arg_uint(req, "queues", false, 64, &queues, e) ||
	    pmx_ctl_arg_nic_port(ctl, req, &p, e))
		return -1;
	if (channel != NULL && strcmp(channel, "ring") != 0 && strcmp(channel, "memif") != 0 &&
	    strcmp(channel, "uds") != 0)
		return pmx_ctl_fail(e, "ENOTSUP",
				    "channel \"%.40s\" is not available; use \"ring\", \"memif\" "
				    "or \"uds\"",
				    channel);
	if (queues > ctl->cfg->client_queue_quota)
		return pmx_ctl_fail(e, "EDQUOT", "%u queues asked, clients.queue_quota is %u",
				    (unsigned)queues, ctl->cfg->client_queue_quota);
	bool memif = channel != NULL && strcmp(channel, "memif") == 0;
	bool uds = channel != NULL && strcmp(channel, "uds") == 0;
	int uds_type = SOCK_SEQPACKET;

	if (memif && !ctl->cfg->memif)
		return pmx_ctl_fail(e, "EPERM",
				    "memif clients are off (clients.memif in the config)");

	if (queues == 0 || queues > PMX_MAX_QUEUES || ((memif || uds) && queues != 1))
		return pmx_ctl_fail(e, "EINVAL", "\"queues\" must be 1..%u (1 for memif and uds)",
				    PMX_MAX_QUEUES);
	if (pmx_ctl_own_mac_args(ctl, s, req, p, &om, e) ||
	    arg_memif_identity(ctl, req, memif, &info, e) || arg_uds_type(req, uds, &uds_type, e))
		return -1;
	if (uds && s->fd < 0)
		return pmx_ctl_fail(e, "ENOTSOCK",
				    "the uds channel's descriptor goes over the control socket");
	if (uds)
		ret = hello_uds(ctl, s, p, name, uds_type, &om, &info, &config_rules);
	else
		ret = pmx_ctl_session_attach(
			ctl, s, p, memif ? PMX_CHANNEL_MEMIF : PMX_CHANNEL_RING, (unsigned)queues,
			name ? name : "client", &om, &info, &config_rules);
	if (ret == -EMFILE || ret == -ENFILE || ret == -EAGAIN)
		return pmx_ctl_fail(e, "EMFILE", "cannot open the uds channel: %s", strerror(-ret));
	if (ret == -ENOSPC)
		return pmx_ctl_fail(e, "ENOSPC", "all %u client slots are taken (clients.max)",
				    ctl->sw->clients_max);
	if (ret == -ENODEV)
		return pmx_ctl_fail(e, "ENODEV", "cannot open the memif socket");
	if (ret == -EADDRINUSE)
		return pmx_ctl_fail(e, "EADDRINUSE",
				    "memif.id %u is another client's: hello without "
				    "\"memif\" for a new interface",
				    info.client_id);
	if (ret != 0)
		return pmx_ctl_fail(e, "ENOMEM", "cannot create the client's rings");

	rte_ether_format_addr(mac, sizeof(mac), &ctl->sw->ports[p].mac);
	json_t *rx_rings = json_array(), *tx_rings = json_array();

	for (unsigned q = 0; q < info.n_queues; q++) {
		json_array_append_new(rx_rings, json_string(info.rx_ring[q]));
		json_array_append_new(tx_rings, json_string(info.tx_ring[q]));
	}
	*result = json_pack(
		"{s:i, s:i, s:i, s:s, s:s, s:o, s:o, s:s, s:s, s:i, s:s, s:o, s:i, s:i}",
		"client_id", info.client_id, "generation", (int)info.generation, "lcore",
		info.lcore_id, "file_prefix", ctl->file_prefix, "channel", "ring", "rx_rings",
		rx_rings, "tx_rings", tx_rings, "mempool", PMX_POOL_NAME, "shm", PMX_SHM_MZ_NAME,
		"port", p, "mac", mac, "addresses", addresses_json(ctl, p), "version",
		PMX_SHM_VERSION, "magic", (int)PMX_SHM_MAGIC);
	if (om.set) {
		/* it sends from its MAC and addresses; the port's stay the kernel's */
		json_object_set_new(*result, "port_mac", json_string(mac));
		rte_ether_format_addr(mac, sizeof(mac), &om.mac);
		json_object_set_new(*result, "mac", json_string(mac));
		json_object_set_new(*result, "addresses", own_addresses_json(&om));
	}
	json_object_set_new(*result, "config_rules", config_rules);
	if (memif) {
		/* an isolated client gets a memif device, not rings or lcores of the switch */
		json_object_set_new(*result, "channel", json_string("memif"));
		json_object_set_new(*result, "memif",
				    json_pack("{s:s, s:i, s:s, s:s}", "socket", info.memif_socket,
					      "id", info.client_id, "secret", info.memif_secret,
					      "role", "client"));
		json_object_del(*result, "rx_rings");
		json_object_del(*result, "tx_rings");
		json_object_del(*result, "lcore");
		json_object_del(*result, "file_prefix");
		json_object_del(*result, "mempool");
		json_object_del(*result, "shm");
	}
	if (uds)
		uds_reply(*result, uds_type);
	return 0;
}

int pmx_ctl_cmd_listen(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req, json_t **result,
		       struct pmx_ctl_error *e)
{
	struct pmx_flow_key key = {.port_id = ctl->sw->clients[s->client_id].port};

	if (pmx_ctl_arg_rule(req, PMX_KEY_LISTEN, &pmx_rule_names_listen, &key, e))
		return -1;
	return pmx_ctl_rule_add(ctl, &key, (uint16_t)s->client_id, PMX_ORIGIN_CLIENT, !s->admin,
				result, e);
}

int pmx_ctl_cmd_connect(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req,
			json_t **result, struct pmx_ctl_error *e)
{
	struct pmx_flow_key key = {.port_id = ctl->sw->clients[s->client_id].port};

	if (pmx_ctl_arg_rule(req, PMX_KEY_EXACT, &pmx_rule_names_full, &key, e))
		return -1;
	if (!pmx_ctl_is_own_address(ctl, key.port_id, key.local_ip))
		return pmx_ctl_fail(e, "EADDRNOTAVAIL", "local_ip is not an address of port %s",
				    ctl->sw->ports[key.port_id].name);
	return pmx_ctl_rule_add(ctl, &key, (uint16_t)s->client_id, PMX_ORIGIN_CLIENT, !s->admin,
				result, e);
}

int pmx_ctl_cmd_claim_ip(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req,
			 json_t **result, struct pmx_ctl_error *e)
{
	static const uint8_t any[16];
	struct pmx_flow_key key = {.kind = PMX_KEY_IP};

	if (pmx_ctl_arg_addr(req, "ip", true, key.local_ip, e))
		return -1;
	if (memcmp(key.local_ip, any, 16) == 0)
		return pmx_ctl_fail(e, "EINVAL", "\"ip\" must be one address, not any");
	key.port_id = ctl->sw->clients[s->client_id].port;
	return pmx_ctl_rule_add(ctl, &key, (uint16_t)s->client_id, PMX_ORIGIN_CLIENT, false, result,
				e);
}

int pmx_ctl_cmd_release(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req,
			json_t **result, struct pmx_ctl_error *e)
{
	const struct pmx_rule *r;
	uint64_t id = 0;

	if (pmx_ctl_arg_uint(req, "rule_id", true, UINT32_MAX, &id, e))
		return -1;
	r = pmx_flow_table_rule(ctl->sw->ft, (uint32_t)id);
	if (r == NULL)
		return pmx_ctl_fail(e, "ENOENT", "no rule %llu", (unsigned long long)id);
	if (r->owner != s->client_id)
		return pmx_ctl_fail(e, "EPERM", "rule %llu belongs to someone else",
				    (unsigned long long)id);
	if (pmx_ctl_static_rule_index(ctl, (uint32_t)id) >= 0)
		return pmx_ctl_static_rule_refuse(ctl, (uint32_t)id, e);
	pmx_ctl_rule_delete(ctl, (uint32_t)id);
	*result = json_pack("{s:I}", "rule_id", (json_int_t)id);
	return 0;
}

int pmx_ctl_cmd_rules(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req, json_t **result,
		      struct pmx_ctl_error *e)
{
	int only = s->admin ? -1 : s->client_id >= 0 ? s->client_id : (int)PMX_OWNER_NONE;

	(void)req;
	(void)e;
	*result = json_pack("{s:o}", "rules", pmx_ctl_rules_json(ctl, only));
	return 0;
}

int pmx_ctl_cmd_stats(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req, json_t **result,
		      struct pmx_ctl_error *e)
{
	(void)req;
	(void)e;
	/* rates since this session's last stats; on its first, since anyone's last (a
	 * one-shot portmux-ctl connects anew each time) */
	if (s->rates.ns == 0)
		s->rates = ctl->rates_last;
	*result = pmx_ctl_stats_json(ctl, &s->rates);
	ctl->rates_last = s->rates;
	return 0;
}

int pmx_ctl_cmd_bye(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req, json_t **result,
		    struct pmx_ctl_error *e)
{
	int id = s->client_id;

	(void)req;
	(void)e;
	pmx_ctl_session_detach(ctl, s);
	*result = json_pack("{s:i}", "client_id", id);
	return 0;
}
