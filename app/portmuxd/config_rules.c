/* config_rules.c - the config file's "rules": static rules owned by a client name
 * (JSON -> struct pmx_config_rule), checked against each other */
/* SPDX-License-Identifier: BSD-3-Clause */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rule_spec.h"

#define QUOTE_LEN 48

/* "rules[i]" or "rules[i].key: " + message into msg. Always returns -EINVAL. */
static int __attribute__((format(printf, 5, 6)))
rule_fail(char *msg, size_t len, size_t i, const char *key, const char *fmt, ...)
{
	int n = snprintf(msg, len, "rules[%zu]%s%s: ", i, key ? "." : "", key ? key : "");
	va_list ap;

	if (n >= 0 && (size_t)n < len) {
		va_start(ap, fmt);
		vsnprintf(msg + n, len - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* User text for a message: control characters become '?', long text is cut. */
static const char *quote(const char *s, char buf[QUOTE_LEN])
{
	size_t i;

	for (i = 0; s[i] != '\0' && i < QUOTE_LEN - 4; i++)
		buf[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	snprintf(buf + i, QUOTE_LEN - i, "%s", s[i] != '\0' ? "..." : "");
	return buf;
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
static int parse_rule(json_t *obj, size_t i, struct pmx_config *cfg, char *msg, size_t len)
{
	static const char *const keys[] = {"kind",      "proto",       "local_ip", "local_port",
					   "remote_ip", "remote_port", "port",     "owner"};
	struct pmx_config_rule *r = &cfg->rules[i];
	struct pmx_rule_error err;
	char q[QUOTE_LEN];
	const char *k, *owner;
	unsigned p;
	json_t *v;
	int kind;

	if (!json_is_object(obj))
		return rule_fail(msg, len, i, NULL, "must be an object");
	json_object_foreach(obj, k, v) {
		size_t n;

		for (n = 0; n < sizeof(keys) / sizeof(keys[0]) && strcmp(k, keys[n]) != 0; n++)
			;
		if (n == sizeof(keys) / sizeof(keys[0]))
			return rule_fail(msg, len, i, NULL, "unknown key \"%s\"", quote(k, q));
	}
	v = json_object_get(obj, "kind");
	if (v == NULL)
		return rule_fail(msg, len, i, NULL, "missing required key \"kind\"");
	kind = pmx_rule_kind_parse(json_string_value(v));
	if (kind < 0)
		return rule_fail(msg, len, i, "kind", "must be \"listen\", \"connect\" or \"ip\"");
	v = json_object_get(obj, "owner");
	if (v == NULL)
		return rule_fail(msg, len, i, NULL, "missing required key \"owner\"");
	owner = json_string_value(v);
	/* a client name as hello gives it: 1..31 of A-Z a-z 0-9 _ . - */
	if (owner == NULL || !pmx_name_ok(owner, PMX_NAME_LEN, "."))
		return rule_fail(msg, len, i, "owner",
				 "must be a client name (1..%d of A-Z a-z 0-9 _ . -)",
				 PMX_NAME_LEN - 1);
	switch (pmx_rule_nic_port(json_object_get(obj, "port"), cfg, &p)) {
	case 0: break;
	case -ENODEV:
		return rule_fail(msg, len, i, "port",
				 "no such NIC port (a name or index of \"ports\"; the L4 port is "
				 "\"local_port\")");
	default: return rule_fail(msg, len, i, "port", "must be the name or index of a NIC port");
	}
	r->key.port_id = (uint16_t)p;
	if (pmx_rule_spec_parse(obj, kind, &pmx_rule_names_full, &r->key, &err) != 0) {
		if (err.missing)
			return rule_fail(msg, len, i, NULL, "missing required key \"%s\"", err.key);
		return rule_fail(msg, len, i, err.key, "%s", err.why);
	}
	snprintf(r->owner, sizeof(r->owner), "%s", owner);
	for (size_t j = 0; j < i; j++) {
		const struct pmx_config_rule *o = &cfg->rules[j];

		if (memcmp(&o->key, &r->key, sizeof(r->key)) == 0)
			return rule_fail(msg, len, i, NULL, "the same rule as rules[%zu]", j);
		if (o->key.port_id == r->key.port_id && strcmp(o->owner, r->owner) != 0 &&
		    ends_meet(&o->key, &r->key))
			return rule_fail(msg, len, i, NULL,
					 "overlaps rules[%zu], which \"%s\" owns", j, o->owner);
	}
	return 0;
}

int pmx_config_rules_parse(json_t *arr, struct pmx_config *cfg, char *msg, size_t len)
{
	json_t *obj;
	size_t i;
	int rc;

	cfg->n_rules = 0;
	if (arr == NULL)
		return 0;
	if (!json_is_array(arr)) {
		snprintf(msg, len, "rules: must be an array of objects");
		return -EINVAL;
	}
	if (json_array_size(arr) > PMX_MAX_CONFIG_RULES) {
		snprintf(msg, len, "rules: at most %d entries", PMX_MAX_CONFIG_RULES);
		return -EINVAL;
	}
	json_array_foreach(arr, i, obj) {
		rc = parse_rule(obj, i, cfg, msg, len);
		if (rc < 0)
			return rc;
		cfg->n_rules++;
	}
	return 0;
}
