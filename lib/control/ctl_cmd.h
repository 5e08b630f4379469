/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * ctl_cmd.h - internal to lib/control: what command handlers share (argument checks that
 * name the key at fault, the error they return, rule ownership). Management thread only,
 * control lock held.
 */
#ifndef PMX_CTL_CMD_H
#define PMX_CTL_CMD_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <rte_ether.h>

#include "ctl.h"
#include "rule_spec.h"

/** An error reply: a code from docs/CONTROL-API.md and a message. */
struct cmd_error {
	const char *code;
	char message[200];
};

/** A handler fills *result (new reference, may stay NULL for {}) or fails with e. */
typedef int (*cmd_fn)(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req,
		      json_t **result, struct cmd_error *e);

/** Fill e; always returns -1 so handlers can `return cmd_fail(...)`. */
int cmd_fail(struct cmd_error *e, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Arguments; each returns 0 or -1 with e filled. A missing optional key leaves *out as is. */
int arg_string(json_t *req, const char *key, bool required, const char **out,
	       struct cmd_error *e);
int arg_uint(json_t *req, const char *key, bool required, uint64_t max, uint64_t *out,
	     struct cmd_error *e);
/** The key fields of a rule of `kind` (PMX_KEY_*), read as the config file's "rules" are
 *  (rule_spec.c); key->port_id is left as it is. */
int arg_rule(json_t *req, int kind, const struct pmx_rule_names *names, struct pmx_flow_key *key,
	     struct cmd_error *e);
/** An IPv4/IPv6 address; "*", "any" or a missing optional key = all zero (any). */
int arg_addr(json_t *req, const char *key, bool required, uint8_t out[16], struct cmd_error *e);
/** An L4 port 1..65535 into network order. */
int arg_port(json_t *req, const char *key, uint16_t *port_be, struct cmd_error *e);
/** "port": NIC port index or name, default 0 (ENODEV when unknown). */
int arg_nic_port(struct pmx_ctl *ctl, json_t *req, unsigned *p, struct cmd_error *e);

/** Does NIC port p hand unmatched traffic to a kernel (tap, virtio_user)? */
bool port_has_kernel(const struct pmx_ctl *ctl, unsigned p);
/** Is ip one of the addresses of NIC port p? */
bool is_own_address(const struct pmx_ctl *ctl, unsigned p, const uint8_t ip[16]);

/**
 * Add a rule for `owner` (a client id, PMX_OWNER_KERNEL, PMX_OWNER_DROP or, for config rules,
 * PMX_OWNER_ABSENT) after the checks: overlap with other owners' rules, the kernel's ports and
 * the port reservation for client and config rules, the client's quota (client owners; its
 * session's n_rules counts it).
 * check_privilege: apply the low-port rule (non-admin clients).
 * @return 0 with *result = {"rule_id": n}, or -1 with e filled.
 */
int rule_add_checked(struct pmx_ctl *ctl, struct pmx_flow_key *key, uint16_t owner,
		     enum pmx_rule_origin origin, bool check_privilege, json_t **result,
		     struct cmd_error *e);

/** Delete rule rule_id (any owner): reservation released, the owner's count decremented. */
void rule_delete(struct pmx_ctl *ctl, uint32_t rule_id);

/** Before the registry deletes every rule of owner (detach): take them out of the counts. */
void rules_forget_owner(struct pmx_ctl *ctl, uint16_t owner);

/** hello's "mac" and "addresses" (ctl_own_mac.c). */
struct own_mac_req {
	bool set; /**< the client asked for a MAC of its own */
	struct rte_ether_addr mac;
	unsigned n;
	uint8_t addrs[PMX_OWN_MAC_ADDRS][16];
};

/**
 * ctl_own_mac.c: read hello's "mac" and "addresses" for NIC port p into om (om->set false when
 * there is no "mac"). @return 0, or -1 with e: EINVAL (bad MAC, not unicast; bad, duplicate
 * or missing addresses; addresses without mac), EPERM (not an operator), EDQUOT
 * (clients.own_macs), EADDRINUSE (the MAC is a port's or another client's; an address is the
 * port's, claimed, or another client's).
 */
int own_mac_args(struct pmx_ctl *ctl, const struct pmx_ctl_session *s, json_t *req, unsigned p,
		 struct own_mac_req *om, struct cmd_error *e);

/** ctl_own_mac.c: the client of port p with a MAC of its own that declared ip, or -1. */
int own_mac_holder(const struct pmx_ctl *ctl, unsigned p, const uint8_t ip[16]);
/* static_rules.c: the config file's "rules", owned by client names */
/**
 * Add every config rule, owned by no one yet (PMX_OWNER_ABSENT), its port held against the
 * kernel. @return 0, or -1 with msg "rules[i]: why" (the rules added before are deleted).
 */
int static_rules_install(struct pmx_ctl *ctl, char *msg, size_t len);
/** The index in cfg->rules of rule rule_id, or -1 when it does not come from the config. */
int static_rule_index(const struct pmx_ctl *ctl, uint32_t rule_id);
/**
 * Client client_id just attached as `name`: it owns the config rules of that name that no
 * one owns. @return their rule ids (JSON array, new reference).
 */
json_t *static_rules_adopt(struct pmx_ctl *ctl, uint16_t client_id, const char *name);
/** Client client_id leaves (before its rules are deleted): its config rules go to another
 *  client attached under the same name, else to no one. */
void static_rules_orphan(struct pmx_ctl *ctl, uint16_t client_id);
/** The refusal to delete config rule rule_id (release, rule_del, RemoveMatch): EROFS. */
int static_rule_refuse(const struct pmx_ctl *ctl, uint32_t rule_id, struct cmd_error *e);

/** ctl_admin.c: operator commands. */
int cmd_clients(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req, json_t **result,
		struct cmd_error *e);
int cmd_kick(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req, json_t **result,
	     struct cmd_error *e);
int cmd_set_kernel_policy(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req,
			  json_t **result, struct cmd_error *e);
int cmd_rule_add(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req, json_t **result,
		 struct cmd_error *e);
int cmd_rule_del(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req, json_t **result,
		 struct cmd_error *e);
int cmd_clear_stats(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req,
		    json_t **result, struct cmd_error *e);
int cmd_port_info(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req, json_t **result,
		  struct cmd_error *e);
int cmd_used_ports(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req,
		   json_t **result, struct cmd_error *e);

/** ctl_usnetd.c: usnetd's messages, translated ("AddMatch", ...). */
int cmd_usnetd_add_match(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req,
			 json_t **result, struct cmd_error *e);
int cmd_usnetd_remove_match(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req,
			    json_t **result, struct cmd_error *e);
int cmd_usnetd_query_used_ports(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req,
				json_t **result, struct cmd_error *e);
int cmd_usnetd_delete_client(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req,
			     json_t **result, struct cmd_error *e);
/**
 * usnetd sends serde's externally tagged JSON: "QueryUsedPorts" (a string) or
 * {"AddMatch": {...}}. Rewrite such a request into {"cmd": "AddMatch", ...fields} (new
 * reference); NULL when req is not of that form.
 */
json_t *usnetd_normalize(json_t *req);

#endif
