/* config_rules.c - the config file's "rules": static rules owned by a client name
 * (JSON -> struct pmx_config_rule), checked against each other */
/* SPDX-License-Identifier: BSD-3-Clause */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config_err.h"
#include "rule_spec.h"

/* The path of rules[i], or of its key when key is not NULL. */
static const char *rule_path(char buf[PMX_CFG_PATH_LEN], size_t i, const char *key)
{
	char idx[PMX_CFG_PATH_LEN];

	pmx_cfg_idx_path(idx, "rules", i);
	if (key == NULL)
		return memcpy(buf, idx, sizeof(idx));
	return pmx_cfg_key_path(buf, idx, key);
}

/* Does key a's local end (proto, address, port) or address take what b's does? Listening on
 * every address covers each address; an IP rule covers every port of its address. */
static bool ends_meet(const struct pmx_flow_key *a, const struct pmx_flow_key *b)
{
	static const uint8_t any[16];
	bool same_ip = memcmp(a->local_ip, b->local_ip, 16) == 0;

	if (a->kind == PMX_KEY_IP && b->kind == PMX_KEY_IP)
		return same_ip;
	if (a->kind == PMX_KEY_IP || b->kind == PMX_KEY_IP) /* the other listens or connects */
		return same_ip ||
		       memcmp(a->kind == PMX_KEY_IP ? b->local_ip : a->local_ip, any, 16) == 0;
	if (a->kind == PMX_KEY_EXACT && b->kind == PMX_KEY_EXACT)
		return memcmp(a, b, sizeof(*a)) == 0; /* connections differ by their remote end */
	return a->proto == b->proto && a->local_port == b->local_port &&
	       (same_ip || memcmp(a->local_ip, any, 16) == 0 || memcmp(b->local_ip, any, 16) == 0);
}

/* One element of "rules" into cfg->rules[i]. */
static int parse_rule(json_t *obj, size_t i, struct pmx_config *cfg, struct pmx_cfg_ctx *c)
{
	static const char *const keys[] = {"kind",      "proto",       "local_ip", "local_port",
					   "remote_ip", "remote_port", "port",     "owner"};
	struct pmx_config_rule *r = &cfg->rules[i];
	struct pmx_rule_error err;
	char q[PMX_CFG_QUOTE_LEN], path[PMX_CFG_PATH_LEN];
	const char *k, *owner;
	unsigned p;
	json_t *v;
	int kind;

	if (!json_is_object(obj))
		return pmx_cfg_fail(c, rule_path(path, i, NULL), "must be an object");
	json_object_foreach(obj, k, v)
	{
		size_t n;

		for (n = 0; n < sizeof(keys) / sizeof(keys[0]) && strcmp(k, keys[n]) != 0; n++)
			;
		if (n == sizeof(keys) / sizeof(keys[0]))
			return pmx_cfg_fail(c, rule_path(path, i, NULL), "unknown key \"%s\"",
					    pmx_cfg_quote(k, q));
	}
	v = json_object_get(obj, "kind");
	if (v == NULL)
		return pmx_cfg_fail(c, rule_path(path, i, NULL), "missing required key \"kind\"");
	kind = pmx_rule_kind_parse(json_string_value(v));
	if (kind < 0)
		return pmx_cfg_fail(c, rule_path(path, i, "kind"),
				    "must be \"listen\", \"connect\" or \"ip\"");
	v = json_object_get(obj, "owner");
	if (v == NULL)
		return pmx_cfg_fail(c, rule_path(path, i, NULL), "missing required key \"owner\"");
	owner = json_string_value(v);
	/* a client name as hello gives it: 1..31 of A-Z a-z 0-9 _ . - */
	if (owner == NULL || !pmx_name_ok(owner, PMX_NAME_LEN, "."))
		return pmx_cfg_fail(c, rule_path(path, i, "owner"),
				    "must be a client name (1..%d of A-Z a-z 0-9 _ . -)",
				    PMX_NAME_LEN - 1);
	switch (pmx_rule_nic_port(json_object_get(obj, "port"), cfg, &p)) {
	case 0: break;
	case -ENODEV:
		return pmx_cfg_fail(
			c, rule_path(path, i, "port"),
			"no such NIC port (a name or index of \"ports\"; the L4 port is "
			"\"local_port\")");
	default:
		return pmx_cfg_fail(c, rule_path(path, i, "port"),
				    "must be the name or index of a NIC port");
	}
	r->key.port_id = (uint16_t)p;
	if (pmx_rule_spec_parse(obj, kind, &pmx_rule_names_full, &r->key, &err) != 0) {
		if (err.missing)
			return pmx_cfg_fail(c, rule_path(path, i, NULL),
					    "missing required key \"%s\"", err.key);
		return pmx_cfg_fail(c, rule_path(path, i, err.key), "%s", err.why);
	}
	snprintf(r->owner, sizeof(r->owner), "%s", owner);
	for (size_t j = 0; j < i; j++) {
		const struct pmx_config_rule *o = &cfg->rules[j];

		if (memcmp(&o->key, &r->key, sizeof(r->key)) == 0)
			return pmx_cfg_fail(c, rule_path(path, i, NULL),
					    "the same rule as rules[%zu]", j);
		if (o->key.port_id == r->key.port_id && strcmp(o->owner, r->owner) != 0 &&
		    ends_meet(&o->key, &r->key))
			return pmx_cfg_fail(c, rule_path(path, i, NULL),
					    "overlaps rules[%zu], which \"%s\" owns", j, o->owner);
	}
	return 0;
}

int pmx_config_rules_parse(json_t *arr, struct pmx_config *cfg, struct pmx_cfg_ctx *c)
{
	json_t *obj;
	size_t i;
	int rc;

	cfg->n_rules = 0;
	if (arr == NULL)
		return 0;
	if (!json_is_array(arr))
		return pmx_cfg_fail(c, "rules", "must be an array of objects");
	if (json_array_size(arr) > PMX_MAX_CONFIG_RULES)
		return pmx_cfg_fail(c, "rules", "at most %d entries", PMX_MAX_CONFIG_RULES);
	json_array_foreach(arr, i, obj)
	{
		rc = parse_rule(obj, i, cfg, c);
		if (rc < 0)
			return rc;
		cfg->n_rules++;
	}
	return 0;
}
