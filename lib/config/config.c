/* config.c - strict loader for the portmuxd JSON configuration file (file -> struct pmx_config) */
/* SPDX-License-Identifier: BSD-3-Clause */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <jansson.h>

#include "config.h"
#include "config_err.h"
#include "rule_spec.h"

#define CFG_PROTO_LEN 16 /* longest protocol token accepted before ':' */

static const struct {
	const char *name;
	uint8_t proto;
	bool has_ports;
} proto_names[] = {
	{"tcp", IPPROTO_TCP, true},        {"udp", IPPROTO_UDP, true},
	{"sctp", IPPROTO_SCTP, true},      {"udplite", IPPROTO_UDPLITE, true},
	{"dccp", IPPROTO_DCCP, true},      {"icmp", IPPROTO_ICMP, false},
	{"icmpv6", IPPROTO_ICMPV6, false},
};

static const char *const exc_names[] = {
	[PMX_EXC_AUTO] = "auto",     [PMX_EXC_TAP] = "tap",   [PMX_EXC_VIRTIO_USER] = "virtio_user",
	[PMX_EXC_DEVICE] = "device", [PMX_EXC_NONE] = "none",
};

/* Reject any key of obj not listed in keys (NULL-terminated). */
static int check_keys(struct pmx_cfg_ctx *c, json_t *obj, const char *path, const char *const *keys)
{
	char q[PMX_CFG_QUOTE_LEN];
	const char *key;
	json_t *val;
	size_t i;

	json_object_foreach(obj, key, val)
	{
		for (i = 0; keys[i] != NULL; i++)
			if (strcmp(key, keys[i]) == 0)
				break;
		if (keys[i] == NULL)
			return pmx_cfg_fail(c, path, "unknown key \"%s\"", pmx_cfg_quote(key, q));
	}
	return 0;
}

/* Fetch obj[key]; a missing required key is an error, a missing optional one gives NULL. */
static int get_member(struct pmx_cfg_ctx *c, json_t *obj, const char *path, const char *key,
		      bool required, json_t **val)
{
	*val = json_object_get(obj, key);
	if (*val == NULL && required)
		return pmx_cfg_fail(c, path, "missing required key \"%s\"", key);
	return 0;
}

/* Optional integer obj[key] in lo..hi into *v; *v keeps its default when the key is absent. */
static int get_uint(struct pmx_cfg_ctx *c, json_t *obj, const char *path, const char *key,
		    uint32_t lo, uint32_t hi, uint32_t *v)
{
	json_t *j = json_object_get(obj, key);
	char p[PMX_CFG_PATH_LEN];
	json_int_t x;

	if (j == NULL)
		return 0;
	x = json_is_integer(j) ? json_integer_value(j) : -1;
	if (!json_is_integer(j) || x < (json_int_t)lo || x > (json_int_t)hi)
		return pmx_cfg_fail(c, pmx_cfg_key_path(p, path, key), "must be an integer %u..%u",
				    lo, hi);
	*v = (uint32_t)x;
	return 0;
}

/* Optional boolean obj[key] into *v (left as it is when absent). */
static int get_bool(struct pmx_cfg_ctx *c, json_t *obj, const char *path, const char *key, bool *v)
{
	char p[PMX_CFG_PATH_LEN];
	json_t *j;
	int rc = get_member(c, obj, path, key, false, &j);

	if (rc < 0 || j == NULL)
		return rc;
	if (!json_is_boolean(j))
		return pmx_cfg_fail(c, pmx_cfg_key_path(p, path, key), "must be true or false");
	*v = json_is_true(j);
	return 0;
}

/* Optional (or required) string obj[key] into *s; *s is NULL when absent. */
static int get_string(struct pmx_cfg_ctx *c, json_t *obj, const char *path, const char *key,
		      bool required, const char **s)
{
	char p[PMX_CFG_PATH_LEN];
	json_t *j;
	int rc;

	*s = NULL;
	rc = get_member(c, obj, path, key, required, &j);
	if (rc < 0 || j == NULL)
		return rc;
	if (!json_is_string(j))
		return pmx_cfg_fail(c, pmx_cfg_key_path(p, path, key), "must be a string");
	*s = json_string_value(j);
	return 0;
}

/* Optional object obj[key] into *sub (NULL when absent), checked against its key list. */
static int get_object(struct pmx_cfg_ctx *c, json_t *obj, const char *path, const char *key,
		      const char *const *keys, json_t **sub, char subpath[PMX_CFG_PATH_LEN])
{
	*sub = json_object_get(obj, key);
	pmx_cfg_key_path(subpath, path, key);
	if (*sub == NULL)
		return 0;
	if (!json_is_object(*sub))
		return pmx_cfg_fail(c, subpath, "must be an object");
	return check_keys(c, *sub, subpath, keys);
}

static bool proto_has_ports(int proto)
{
	size_t i;

	for (i = 0; i < sizeof(proto_names) / sizeof(proto_names[0]); i++)
		if (proto_names[i].proto == proto)
			return proto_names[i].has_ports;
	return false;
}

/* Decimal number of 1..5 digits, no sign or blanks, at most max. */
static int parse_dec(const char *s, size_t len, unsigned max, unsigned *v)
{
	unsigned x = 0;
	size_t i;

	if (len == 0 || len > 5)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		x = x * 10 + (unsigned)(s[i] - '0');
	}
	if (x > max)
		return -EINVAL;
	*v = x;
	return 0;
}

int pmx_proto_parse(const char *s)
{
	unsigned v;
	size_t i;

	if (s == NULL)
		return -EINVAL;
	for (i = 0; i < sizeof(proto_names) / sizeof(proto_names[0]); i++)
		if (strcasecmp(s, proto_names[i].name) == 0)
			return proto_names[i].proto;
	if (parse_dec(s, strlen(s), 255, &v) < 0)
		return -EINVAL;
	return (int)v;
}

int pmx_proto_port_parse(const char *s, struct pmx_proto_port *pp)
{
	struct pmx_proto_port r = {0};
	char name[CFG_PROTO_LEN];
	const char *colon, *ports, *dash;
	unsigned lo, hi;
	size_t len;
	int proto;

	if (s == NULL || pp == NULL)
		return -EINVAL;
	colon = strchr(s, ':');
	len = colon != NULL ? (size_t)(colon - s) : strlen(s);
	if (len == 0 || len >= sizeof(name))
		return -EINVAL;
	memcpy(name, s, len);
	name[len] = '\0';
	proto = pmx_proto_parse(name);
	if (proto < 0)
		return proto;
	r.proto = (uint8_t)proto;
	if (colon != NULL) {
		if (!proto_has_ports(proto))
			return -EINVAL;
		ports = colon + 1;
		dash = strchr(ports, '-');
		len = dash != NULL ? (size_t)(dash - ports) : strlen(ports);
		if (parse_dec(ports, len, 65535, &lo) < 0 || lo == 0)
			return -EINVAL;
		hi = lo;
		if (dash != NULL &&
		    (parse_dec(dash + 1, strlen(dash + 1), 65535, &hi) < 0 || hi < lo))
			return -EINVAL;
		r.port_lo = (uint16_t)lo;
		r.port_hi = (uint16_t)hi;
	}
	*pp = r;
	return 0;
}

/* "eal": array of strings -> eal_argv = { argv0, strings..., NULL }. */
static int parse_eal(struct pmx_cfg_ctx *c, json_t *root, const char *argv0, struct pmx_config *cfg)
{
	char p[PMX_CFG_PATH_LEN];
	json_t *arr, *j;
	size_t i;
	int rc;

	rc = get_member(c, root, "", "eal", true, &arr);
	if (rc < 0)
		return rc;
	if (!json_is_array(arr))
		return pmx_cfg_fail(c, "eal", "must be an array of strings");
	json_array_foreach(arr, i, j) if (!json_is_string(j)) return pmx_cfg_fail(
		c, pmx_cfg_idx_path(p, "eal", i), "must be a string");
	cfg->eal_argv = calloc(json_array_size(arr) + 2, sizeof(*cfg->eal_argv));
	if (cfg->eal_argv == NULL)
		goto no_mem;
	cfg->eal_argv[0] = strdup(argv0);
	if (cfg->eal_argv[0] == NULL)
		goto no_mem;
	cfg->eal_argc = 1;
	json_array_foreach(arr, i, j)
	{
		cfg->eal_argv[i + 1] = strdup(json_string_value(j));
		if (cfg->eal_argv[i + 1] == NULL)
			goto no_mem;
		cfg->eal_argc++;
	}
	return 0;

no_mem:
	pmx_cfg_fail(c, "eal", "out of memory");
	return -ENOMEM;
}

/* Interface names as the kernel accepts them, minus exotic characters; "." and ".." never. */
static bool iface_ok(const char *s)
{
	return pmx_name_ok(s, PMX_IFNAME_LEN, ".") && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

/* One address of "addresses" into 16 bytes (IPv4 as ::ffff:a.b.c.d); unicast only. */
static int parse_address(struct pmx_cfg_ctx *c, const char *path, json_t *j, uint8_t addr[16])
{
	static const uint8_t zero[16];
	char q[PMX_CFG_QUOTE_LEN];
	const char *s;

	if (!json_is_string(j))
		return pmx_cfg_fail(c, path, "must be a string (IPv4 or IPv6 address)");
	s = json_string_value(j);
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, addr + 12) == 1) {
		addr[10] = 0xff;
		addr[11] = 0xff;
		if (addr[12] >= 224 || memcmp(addr + 12, zero, 4) == 0)
			return pmx_cfg_fail(c, path, "\"%s\" is not a unicast address",
					    pmx_cfg_quote(s, q));
		return 0;
	}
	if (inet_pton(AF_INET6, s, addr) != 1)
		return pmx_cfg_fail(c, path, "bad address \"%s\"", pmx_cfg_quote(s, q));
	if (addr[0] == 0xff || memcmp(addr, zero, 16) == 0)
		return pmx_cfg_fail(c, path, "\"%s\" is not a unicast address",
				    pmx_cfg_quote(s, q));
	return 0;
}

/* "exception": { "type", "iface", "device", "addresses" } of port number idx. */
static int parse_exception(struct pmx_cfg_ctx *c, json_t *port, const char *path, unsigned idx,
			   struct pmx_port_conf *pc)
{
	static const char *const keys[] = {"type", "iface", "device", "addresses", NULL};
	char p[PMX_CFG_PATH_LEN], sub[PMX_CFG_PATH_LEN], ap[PMX_CFG_PATH_LEN], q[PMX_CFG_QUOTE_LEN];
	const char *s;
	json_t *exc, *arr, *j;
	size_t i, k;
	int rc;

	snprintf(pc->exc_iface, sizeof(pc->exc_iface), "pmx%u", idx);
	pc->exc_type = PMX_EXC_AUTO;
	rc = get_object(c, port, path, "exception", keys, &exc, sub);
	if (rc < 0 || exc == NULL)
		return rc;

	rc = get_string(c, exc, sub, "type", false, &s);
	if (rc < 0)
		return rc;
	if (s != NULL) {
		for (i = 0; i < sizeof(exc_names) / sizeof(exc_names[0]); i++)
			if (strcmp(s, exc_names[i]) == 0)
				break;
		if (i == sizeof(exc_names) / sizeof(exc_names[0]))
			return pmx_cfg_fail(c, pmx_cfg_key_path(p, sub, "type"),
					    "must be one of auto, tap, virtio_user, device, none");
		pc->exc_type = (enum pmx_exception_type)i;
	}

	rc = get_string(c, exc, sub, "iface", false, &s);
	if (rc < 0)
		return rc;
	if (s != NULL && !iface_ok(s))
		return pmx_cfg_fail(c, pmx_cfg_key_path(p, sub, "iface"),
				    "bad interface name \"%s\" (1..%d of A-Z a-z 0-9 _ - .)",
				    pmx_cfg_quote(s, q), PMX_IFNAME_LEN - 1);
	if (s != NULL)
		snprintf(pc->exc_iface, sizeof(pc->exc_iface), "%s", s);

	rc = get_string(c, exc, sub, "device", pc->exc_type == PMX_EXC_DEVICE, &s);
	if (rc < 0)
		return rc;
	if (s != NULL && pc->exc_type != PMX_EXC_DEVICE)
		return pmx_cfg_fail(c, pmx_cfg_key_path(p, sub, "device"),
				    "only allowed when type is \"device\"");
	if (s != NULL && (s[0] == '\0' || strlen(s) >= PMX_DEVARGS_LEN))
		return pmx_cfg_fail(c, pmx_cfg_key_path(p, sub, "device"),
				    "must be a string of 1..%d bytes", PMX_DEVARGS_LEN - 1);
	if (s != NULL)
		snprintf(pc->exc_device, sizeof(pc->exc_device), "%s", s);

	arr = json_object_get(exc, "addresses");
	if (arr == NULL)
		return 0;
	pmx_cfg_key_path(ap, sub, "addresses");
	if (!json_is_array(arr))
		return pmx_cfg_fail(c, ap, "must be an array of address strings");
	if (json_array_size(arr) > PMX_MAX_ADDRS)
		return pmx_cfg_fail(c, ap, "at most %d addresses", PMX_MAX_ADDRS);
	json_array_foreach(arr, i, j)
	{
		rc = parse_address(c, pmx_cfg_idx_path(p, ap, i), j, pc->addresses[i]);
		if (rc < 0)
			return rc;
		for (k = 0; k < i; k++)
			if (memcmp(pc->addresses[k], pc->addresses[i], 16) == 0)
				return pmx_cfg_fail(c, p, "duplicate address \"%s\"",
						    pmx_cfg_quote(json_string_value(j), q));
		pc->n_addresses++;
	}
	return 0;
}

/* One element of "ports"; names and exception interfaces must differ from earlier ports. */
static int parse_port(struct pmx_cfg_ctx *c, json_t *port, unsigned idx, struct pmx_config *cfg)
{
	static const char *const keys[] = {"name",      "device",    "driver",
					   "rx_queues", "exception", NULL};
	struct pmx_port_conf *pc = &cfg->ports[idx];
	char path[PMX_CFG_PATH_LEN], p[PMX_CFG_PATH_LEN], q[PMX_CFG_QUOTE_LEN];
	uint32_t rxq = 0; /* absent: one per RX lcore */
	const char *s;
	unsigned k;
	int rc;

	pmx_cfg_idx_path(path, "ports", idx);
	if (!json_is_object(port))
		return pmx_cfg_fail(c, path, "must be an object");
	rc = check_keys(c, port, path, keys);
	if (rc < 0)
		return rc;

	rc = get_string(c, port, path, "name", true, &s);
	if (rc < 0)
		return rc;
	if (!pmx_name_ok(s, PMX_NAME_LEN, ""))
		return pmx_cfg_fail(c, pmx_cfg_key_path(p, path, "name"),
				    "bad name \"%s\" (1..%d of A-Z a-z 0-9 _ -)",
				    pmx_cfg_quote(s, q), PMX_NAME_LEN - 1);
	for (k = 0; k < idx; k++)
		if (strcmp(cfg->ports[k].name, s) == 0)
			return pmx_cfg_fail(c, pmx_cfg_key_path(p, path, "name"),
					    "duplicate name \"%s\" (also ports[%u])", s, k);
	snprintf(pc->name, sizeof(pc->name), "%s", s);

	rc = get_string(c, port, path, "device", true, &s);
	if (rc < 0)
		return rc;
	if (s[0] == '\0' || strlen(s) >= PMX_DEVARGS_LEN)
		return pmx_cfg_fail(c, pmx_cfg_key_path(p, path, "device"),
				    "must be a string of 1..%d bytes", PMX_DEVARGS_LEN - 1);
	snprintf(pc->device, sizeof(pc->device), "%s", s);

	rc = get_string(c, port, path, "driver", false, &s);
	if (rc < 0)
		return rc;
	if (s != NULL && strcmp(s, "portmux") != 0 && strcmp(s, "dpdk") != 0)
		return pmx_cfg_fail(c, pmx_cfg_key_path(p, path, "driver"), "must be \"portmux\" or \"dpdk\"");
	pc->dpdk_driver = s != NULL && strcmp(s, "dpdk") == 0;

	rc = get_uint(c, port, path, "rx_queues", 1, 16, &rxq);
	if (rc < 0)
		return rc;
	pc->rx_queues = (uint16_t)rxq;

	rc = parse_exception(c, port, path, idx, pc);
	if (rc < 0)
		return rc;
	if (pc->exc_type == PMX_EXC_NONE)
		return 0;
	for (k = 0; k < idx; k++)
		if (cfg->ports[k].exc_type != PMX_EXC_NONE &&
		    strcmp(cfg->ports[k].exc_iface, pc->exc_iface) == 0)
			return pmx_cfg_fail(c, pmx_cfg_key_path(p, path, "exception.iface"),
					    "interface \"%s\" already used by ports[%u]",
					    pc->exc_iface, k);
	return 0;
}

static int parse_ports(struct pmx_cfg_ctx *c, json_t *root, struct pmx_config *cfg)
{
	json_t *arr, *j;
	size_t i;
	int rc;

	rc = get_member(c, root, "", "ports", true, &arr);
	if (rc < 0)
		return rc;
	if (!json_is_array(arr))
		return pmx_cfg_fail(c, "ports", "must be an array of objects");
	if (json_array_size(arr) < 1 || json_array_size(arr) > PMX_MAX_PORTS)
		return pmx_cfg_fail(c, "ports", "must have 1..%d entries", PMX_MAX_PORTS);
	json_array_foreach(arr, i, j)
	{
		rc = parse_port(c, j, (unsigned)i, cfg);
		if (rc < 0)
			return rc;
		cfg->n_ports++;
	}
	return 0;
}

/* An array of "proto[:port[-port]]" strings; low ports need a port range inside 1..1023. */
static int parse_proto_ports(struct pmx_cfg_ctx *c, json_t *obj, const char *path, const char *key,
			     bool low, struct pmx_proto_port *out, unsigned *n)
{
	char sub[PMX_CFG_PATH_LEN], p[PMX_CFG_PATH_LEN], q[PMX_CFG_QUOTE_LEN];
	const char *s;
	json_t *arr, *j;
	size_t i;

	arr = json_object_get(obj, key);
	if (arr == NULL)
		return 0;
	pmx_cfg_key_path(sub, path, key);
	if (!json_is_array(arr))
		return pmx_cfg_fail(c, sub, "must be an array of strings");
	if (json_array_size(arr) > PMX_MAX_ALLOW)
		return pmx_cfg_fail(c, sub, "at most %d entries", PMX_MAX_ALLOW);
	json_array_foreach(arr, i, j)
	{
		pmx_cfg_idx_path(p, sub, i);
		if (!json_is_string(j))
			return pmx_cfg_fail(c, p, "must be a string");
		s = json_string_value(j);
		if (pmx_proto_port_parse(s, &out[i]) < 0 ||
		    (low && (out[i].port_lo == 0 || out[i].port_hi > 1023)))
			return pmx_cfg_fail(c, p, "bad entry \"%s\" (want %s)", pmx_cfg_quote(s, q),
					    low ? "proto:port[-port] with ports 1..1023"
						: "proto[:port[-port]] with ports 1..65535");
		(*n)++;
	}
	return 0;
}

/* "kernel": { "policy", "allow" }. */
static int parse_kernel(struct pmx_cfg_ctx *c, json_t *root, struct pmx_config *cfg)
{
	static const char *const keys[] = {"policy", "allow", NULL};
	char path[PMX_CFG_PATH_LEN], p[PMX_CFG_PATH_LEN];
	const char *s;
	json_t *obj;
	int rc;

	rc = get_object(c, root, "", "kernel", keys, &obj, path);
	if (rc < 0 || obj == NULL)
		return rc;
	rc = get_string(c, obj, path, "policy", false, &s);
	if (rc < 0)
		return rc;
	if (s != NULL && strcmp(s, "pass") == 0)
		cfg->policy = PMX_POLICY_PASS;
	else if (s != NULL && strcmp(s, "firewall") == 0)
		cfg->policy = PMX_POLICY_FIREWALL;
	else if (s != NULL)
		return pmx_cfg_fail(c, pmx_cfg_key_path(p, path, "policy"),
				    "must be \"pass\" or \"firewall\"");
	return parse_proto_ports(c, obj, path, "allow", false, cfg->allow, &cfg->n_allow);
}

/* "control": { "socket", "mode", "group" }. */
static int parse_control(struct pmx_cfg_ctx *c, json_t *root, struct pmx_config *cfg)
{
	static const char *const keys[] = {"socket", "mode", "group", NULL};
	struct pmx_cfg_socket sock = {
		.path = cfg->socket_path,
		.path_len = sizeof(cfg->socket_path),
		.mode = &cfg->socket_mode,
		.group = cfg->socket_group,
		.group_len = sizeof(cfg->socket_group),
	};
	char path[PMX_CFG_PATH_LEN];
	json_t *obj;
	int rc;

	rc = get_object(c, root, "", "control", keys, &obj, path);
	if (rc < 0 || obj == NULL)
		return rc;

	return pmx_cfg_socket_parse(c, obj, path, &sock);
}

/* "clients": limits per daemon and per client. rule_quota is checked against max_rules. */
static int parse_clients(struct pmx_cfg_ctx *c, json_t *root, struct pmx_config *cfg)
{
	static const char *const keys[] = {"max",        "ring_size",   "max_rules",
					   "rule_quota", "queue_quota", "low_ports",
					   "memif",      "own_macs",    NULL};
	char path[PMX_CFG_PATH_LEN], p[PMX_CFG_PATH_LEN];
	json_t *obj, *j;
	json_int_t x;
	int rc;

	rc = get_object(c, root, "", "clients", keys, &obj, path);
	if (rc < 0 || obj == NULL)
		return rc;
	rc = get_uint(c, obj, path, "max", 1, 256, &cfg->clients_max);
	if (rc < 0)
		return rc;
	j = json_object_get(obj, "ring_size");
	x = json_is_integer(j) ? json_integer_value(j) : 0;
	if (j != NULL && (x < 64 || x > 65536 || (x & (x - 1)) != 0))
		return pmx_cfg_fail(c, pmx_cfg_key_path(p, path, "ring_size"),
				    "must be a power of two 64..65536");
	if (j != NULL)
		cfg->ring_size = (uint32_t)x;
	rc = get_uint(c, obj, path, "max_rules", 16, 1048576, &cfg->max_rules);
	if (rc < 0)
		return rc;
	if (cfg->client_rule_quota > cfg->max_rules)
		cfg->client_rule_quota = cfg->max_rules;
	rc = get_uint(c, obj, path, "rule_quota", 1, cfg->max_rules, &cfg->client_rule_quota);
	if (rc < 0)
		return pmx_cfg_fail(c, pmx_cfg_key_path(p, path, "rule_quota"),
				    "must be an integer 1..%u (max_rules)", cfg->max_rules);
	rc = get_uint(c, obj, path, "queue_quota", 1, 16, &cfg->client_queue_quota);
	if (rc < 0)
		return rc;
	rc = get_bool(c, obj, path, "memif", &cfg->memif);
	if (rc < 0)
		return rc;
	if (cfg->client_own_macs > cfg->clients_max)
		cfg->client_own_macs = cfg->clients_max;
	rc = get_uint(c, obj, path, "own_macs", 0, cfg->clients_max, &cfg->client_own_macs);
	if (rc < 0)
		return pmx_cfg_fail(c, pmx_cfg_key_path(p, path, "own_macs"),
				    "must be an integer 0..%u (clients.max)", cfg->clients_max);
	return parse_proto_ports(c, obj, path, "low_ports", true, cfg->low_ports,
				 &cfg->n_low_ports);
}

/* The defaults documented in config.h; ports get theirs in parse_port(). */
static void set_defaults(struct pmx_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->policy = PMX_POLICY_FIREWALL; /* usnetd's model: the kernel is kept off the wire */
	snprintf(cfg->socket_path, sizeof(cfg->socket_path), "%s", "/run/portmux/portmux.sock");
	cfg->socket_mode = 0660;
	cfg->clients_max = 64;
	cfg->ring_size = 1024;
	cfg->max_rules = 4096;
	cfg->client_rule_quota = 1024;
	cfg->client_queue_quota = 4;
	cfg->client_own_macs = 4;
	cfg->mbufs = 32768;
	snprintf(cfg->mbuf_pool, sizeof(cfg->mbuf_pool), "%s", "stack");
}

/* "mbuf_pool": a mempool driver's name; whether EAL has that driver is known at start-up. */
static int parse_mbuf_pool(struct pmx_cfg_ctx *c, json_t *root, struct pmx_config *cfg)
{
	const char *s;
	int rc = get_string(c, root, "", "mbuf_pool", false, &s);

	if (rc < 0 || s == NULL)
		return rc;
	if (*s == '\0' || strlen(s) >= sizeof(cfg->mbuf_pool) ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(s))
		return pmx_cfg_fail(c, "mbuf_pool",
				    "must name a mempool driver (\"stack\", \"ring_mp_mc\", ...): "
				    "1..%zu of a-z, 0-9, _",
				    sizeof(cfg->mbuf_pool) - 1);
	snprintf(cfg->mbuf_pool, sizeof(cfg->mbuf_pool), "%s", s);
	return 0;
}

/* Turn a decoded document (or a decoding error when root is NULL) into *out. */
static int parse_root(struct pmx_cfg_ctx *c, json_t *root, const json_error_t *jerr,
		      const char *argv0, struct pmx_config *out)
{
	static const char *const keys[] = {"eal",   "ports",     "kernel", "control", "clients",
					   "mbufs", "mbuf_pool", "rules",  "usnetd",  "metrics", NULL};
	int rc;

	set_defaults(out);
	if (root == NULL) {
		rc = pmx_cfg_fail(c, "", "invalid JSON at line %d, column %d: %s", jerr->line,
				  jerr->column, jerr->text);
		goto fail;
	}
	if (!json_is_object(root)) {
		rc = pmx_cfg_fail(c, "", "the configuration must be a JSON object");
		goto fail;
	}
	rc = check_keys(c, root, "", keys);
	if (rc < 0)
		goto fail;
	rc = parse_eal(c, root, argv0 != NULL ? argv0 : "portmuxd", out);
	if (rc < 0)
		goto fail;
	rc = parse_ports(c, root, out);
	if (rc < 0)
		goto fail;
	rc = parse_kernel(c, root, out);
	if (rc < 0)
		goto fail;
	rc = parse_control(c, root, out);
	if (rc < 0)
		goto fail;
	rc = parse_clients(c, root, out);
	if (rc < 0)
		goto fail;
	rc = pmx_config_usnetd_parse(json_object_get(root, "usnetd"), out, c);
	if (rc < 0)
		goto fail;
	rc = get_uint(c, root, "", "mbufs", 1024, 4194304, &out->mbufs);
	if (rc < 0)
		goto fail;
	rc = parse_mbuf_pool(c, root, out);
	if (rc < 0)
		goto fail;
	rc = pmx_config_rules_parse(json_object_get(root, "rules"), out, c);
	if (rc < 0)
		goto fail;
	rc = pmx_config_metrics_parse(json_object_get(root, "metrics"), out, c);
	if (rc < 0)
		goto fail;
	return 0;

fail:
	pmx_config_free(out);
	return rc;
}

int pmx_config_parse(const char *text, const char *argv0, struct pmx_config *out, char *err,
		     size_t errlen)
{
	struct pmx_cfg_ctx c = {.err = err, .errlen = errlen, .file = NULL};
	json_error_t jerr;
	json_t *root;
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (out == NULL)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (text == NULL)
		return pmx_cfg_fail(&c, "", "no configuration text");
	root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	rc = parse_root(&c, root, &jerr, argv0, out);
	json_decref(root);
	return rc;
}

int pmx_config_load(const char *path, const char *argv0, struct pmx_config *out, char *err,
		    size_t errlen)
{
	struct pmx_cfg_ctx c = {.err = err, .errlen = errlen, .file = path};
	json_error_t jerr;
	struct stat st;
	json_t *root;
	FILE *f;
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (out == NULL)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (path == NULL) {
		c.file = NULL;
		return pmx_cfg_fail(&c, "", "no configuration file");
	}
	f = fopen(path, "r");
	if (f == NULL) {
		rc = -errno;
		goto report_errno;
	}
	if (fstat(fileno(f), &st) < 0) {
		rc = -errno;
		goto close_file;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = -EISDIR;
		goto close_file;
	}
	root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
	fclose(f);
	rc = parse_root(&c, root, &jerr, argv0, out);
	json_decref(root);
	return rc;

close_file:
	fclose(f);
report_errno:
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
	return rc;
}

int pmx_config_append_eal(struct pmx_config *cfg, int argc, char **argv)
{
	char **grown;
	int i, n;

	if (cfg == NULL || argc < 0 || (argc > 0 && argv == NULL))
		return -EINVAL;
	n = cfg->eal_argc;
	grown = realloc(cfg->eal_argv, ((size_t)n + (size_t)argc + 1) * sizeof(*grown));
	if (grown == NULL)
		return -ENOMEM;
	cfg->eal_argv = grown;
	for (i = 0; i < argc; i++) {
		grown[n + i] = strdup(argv[i] != NULL ? argv[i] : "");
		if (grown[n + i] == NULL)
			goto undo_copies;
	}
	grown[n + argc] = NULL;
	cfg->eal_argc = n + argc;
	return 0;

undo_copies:
	while (i-- > 0)
		free(grown[n + i]);
	grown[n] = NULL;
	return -ENOMEM;
}

void pmx_config_free(struct pmx_config *cfg)
{
	int i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->eal_argc && cfg->eal_argv != NULL; i++)
		free(cfg->eal_argv[i]);
	free(cfg->eal_argv);
	memset(cfg, 0, sizeof(*cfg));
}
