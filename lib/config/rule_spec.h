/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * rule_spec.h - a rule written in JSON (kind, protocol, addresses, L4 ports, NIC port) as a
 * flow-table key: one parser for the config file's "rules" and the control API's listen,
 * connect and rule_add, so both accept the same values and say the same about bad ones.
 *
 * Thread-safety: pure functions of their arguments; any thread.
 */
#ifndef PMX_RULE_SPEC_H
#define PMX_RULE_SPEC_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "config.h"
#include "pmx_packet.h"

/** The keys one request form uses for the local end: listen says "ip" and "port", connect,
 *  rule_add and the config file say "local_ip" and "local_port". */
struct pmx_rule_names {
	const char *local_ip;
	const char *local_port;
};

extern const struct pmx_rule_names pmx_rule_names_listen; /**< "ip", "port" */
extern const struct pmx_rule_names pmx_rule_names_full;   /**< "local_ip", "local_port" */

/** What is wrong with a rule: the key at fault, whether it is missing, else why it is bad. */
struct pmx_rule_error {
	const char *key;
	bool missing;
	char why[160]; /**< "must be an integer 1..65535", ... (without the key) */
};

/**
 * "listen", "connect" or "ip" into PMX_KEY_LISTEN, PMX_KEY_EXACT or PMX_KEY_IP.
 * @return the kind, or -EINVAL for anything else (NULL included).
 */
int pmx_rule_kind_parse(const char *s);

/**
 * Read the fields of a rule of `kind` from obj into key (kind, proto, local and remote end;
 * port_id is left as it is): listen wants proto and local port, the local address optional
 * ("*", "any" or absent = every address); connect wants all five; ip wants one local
 * address. Other keys of obj are not looked at.
 * @return 0, or -EINVAL with err filled (key untouched).
 */
int pmx_rule_spec_parse(json_t *obj, int kind, const struct pmx_rule_names *names,
			struct pmx_flow_key *key, struct pmx_rule_error *err);

/**
 * An address value as a key address (IPv4 mapped into ::ffff:0:0/96): any_ok lets "*" and
 * "any" through as all zero. @return 0, or -EINVAL with why filled.
 */
int pmx_rule_addr_parse(json_t *v, bool any_ok, uint8_t out[16], char *why, size_t len);

/**
 * An L4 port value (an integer 1..65535) into network order.
 * @return 0, or -EINVAL (port_be untouched).
 */
int pmx_rule_port_parse(json_t *v, uint16_t *port_be);

/**
 * A NIC port of cfg given as an index or a name; NULL (absent) is port 0.
 * @return 0 (*p set), -EINVAL when v is neither an integer nor a string, -ENODEV when no
 *         port has that index or name.
 */
int pmx_rule_nic_port(json_t *v, const struct pmx_config *cfg, unsigned *p);

#endif
