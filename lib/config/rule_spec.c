/* rule_spec.c - rules written in JSON -> flow-table keys, for the config file's "rules" and the
 * control API's listen/connect/rule_add alike */
/* SPDX-License-Identifier: BSD-3-Clause */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "rule_spec.h"

const struct pmx_rule_names pmx_rule_names_listen = {"ip", "port"};
const struct pmx_rule_names pmx_rule_names_full = {"local_ip", "local_port"};

static int fail(struct pmx_rule_error *err, const char *key, bool missing, const char *why)
{
	err->key = key;
	err->missing = missing;
	snprintf(err->why, sizeof(err->why), "%s", why);
	return -EINVAL;
}

int pmx_rule_kind_parse(const char *s)
{
	if (s == NULL)
		return -EINVAL;
	if (strcmp(s, "listen") == 0)
		return PMX_KEY_LISTEN;
	if (strcmp(s, "connect") == 0)
		return PMX_KEY_EXACT;
	if (strcmp(s, "ip") == 0)
		return PMX_KEY_IP;
	return -EINVAL;
}

int pmx_rule_addr_parse(json_t *v, bool any_ok, uint8_t out[16], char *why, size_t len)
{
	static const uint8_t zero[16];
	uint8_t a[16] = {0};
	const char *s = json_string_value(v);

	if (s == NULL) {
		snprintf(why, len, "must be a string (an IPv4 or IPv6 address%s)",
			 any_ok ? " or \"*\"" : "");
		return -EINVAL;
	}
	if (strcmp(s, "*") == 0 || strcmp(s, "any") == 0) {
		if (!any_ok) {
			snprintf(why, len, "must be one address, not any");
			return -EINVAL;
		}
	} else if (inet_pton(AF_INET, s, a + 12) == 1) {
		a[10] = a[11] = 0xff;
	} else if (inet_pton(AF_INET6, s, a) != 1) {
		snprintf(why, len, "is not an IPv4 or IPv6 address");
		return -EINVAL;
	} else if (!any_ok && memcmp(a, zero, 16) == 0) {
		snprintf(why, len, "must be one address, not any");
		return -EINVAL;
	}
	memcpy(out, a, 16);
	return 0;
}

int pmx_rule_port_parse(json_t *v, uint16_t *port_be)
{
	if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 65535)
		return -EINVAL;
	*port_be = htons((uint16_t)json_integer_value(v));
	return 0;
}

/* obj[key]: an address; absent is "any" where any_ok, else missing. */
static int get_addr(json_t *obj, const char *key, bool any_ok, uint8_t out[16],
		    struct pmx_rule_error *err)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL && any_ok) {
		memset(out, 0, 16);
		return 0;
	}
	if (v == NULL)
		return fail(err, key, true, "");
	if (pmx_rule_addr_parse(v, any_ok, out, err->why, sizeof(err->why)) != 0) {
		err->key = key;
		err->missing = false;
		return -EINVAL;
	}
	return 0;
}

/* obj[key]: an L4 port 1..65535 into network order. */
static int get_port(json_t *obj, const char *key, uint16_t *port_be, struct pmx_rule_error *err)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL)
		return fail(err, key, true, "");
	if (pmx_rule_port_parse(v, port_be) != 0)
		return fail(err, key, false, "must be an integer 1..65535");
	return 0;
}

static int get_proto(json_t *obj, uint8_t *proto, struct pmx_rule_error *err)
{
	json_t *v = json_object_get(obj, "proto");
	int p = json_is_string(v) ? pmx_proto_parse(json_string_value(v)) : -EINVAL;

	if (v == NULL)
		return fail(err, "proto", true, "");
	if (p < 0)
		return fail(
			err, "proto", false,
			"must be tcp, udp, sctp, udplite, dccp, icmp, icmpv6 or a number 0..255");
	*proto = (uint8_t)p;
	return 0;
}

int pmx_rule_spec_parse(json_t *obj, int kind, const struct pmx_rule_names *names,
			struct pmx_flow_key *key, struct pmx_rule_error *err)
{
	struct pmx_flow_key k = {.kind = (uint8_t)kind, .port_id = key->port_id};

	switch (kind) {
	case PMX_KEY_LISTEN:
		if (get_proto(obj, &k.proto, err) != 0 ||
		    get_addr(obj, names->local_ip, true, k.local_ip, err) != 0 ||
		    get_port(obj, names->local_port, &k.local_port, err) != 0)
			return -EINVAL;
		break;
	case PMX_KEY_EXACT:
		if (get_proto(obj, &k.proto, err) != 0 ||
		    get_addr(obj, names->local_ip, false, k.local_ip, err) != 0 ||
		    get_port(obj, names->local_port, &k.local_port, err) != 0 ||
		    get_addr(obj, "remote_ip", false, k.remote_ip, err) != 0 ||
		    get_port(obj, "remote_port", &k.remote_port, err) != 0)
			return -EINVAL;
		break;
	case PMX_KEY_IP:
		if (get_addr(obj, names->local_ip, false, k.local_ip, err) != 0)
			return -EINVAL;
		break;
	default: return fail(err, "kind", false, "must be \"listen\", \"connect\" or \"ip\"");
	}
	*key = k;
	return 0;
}

int pmx_rule_nic_port(json_t *v, const struct pmx_config *cfg, unsigned *p)
{
	if (v == NULL) {
		*p = 0;
		return 0;
	}
	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0 || json_integer_value(v) >= cfg->n_ports)
			return -ENODEV;
		*p = (unsigned)json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v))
		return -EINVAL;
	for (unsigned i = 0; i < cfg->n_ports; i++)
		if (strcmp(cfg->ports[i].name, json_string_value(v)) == 0) {
			*p = i;
			return 0;
		}
	return -ENODEV;
}
