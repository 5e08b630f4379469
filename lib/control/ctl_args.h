/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * ctl_args.h - internal to lib/control: a command's error reply and the request arguments,
 * read and checked with the key at fault named (ctl_args.c). Pure parsing: nothing here
 * looks at rules, clients or addresses. Management thread only, control lock held.
 */
#ifndef PMX_CTL_ARGS_H
#define PMX_CTL_ARGS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "ctl.h"
#include "rule_spec.h"

/** An error reply: a code from docs/CONTROL-API.md and a message. */
struct pmx_ctl_error {
	const char *code;
	char message[200];
};

/** Fill e; always returns -1 so handlers can `return pmx_ctl_fail(...)`. */
int pmx_ctl_fail(struct pmx_ctl_error *e, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Arguments; each returns 0 or -1 with e filled. A missing optional key leaves *out as is. */
int pmx_ctl_arg_string(json_t *req, const char *key, bool required, const char **out,
		       struct pmx_ctl_error *e);
int pmx_ctl_arg_uint(json_t *req, const char *key, bool required, uint64_t max, uint64_t *out,
		     struct pmx_ctl_error *e);
/** The key fields of a rule of `kind` (PMX_KEY_*), read as the config file's "rules" are
 *  (rule_spec.c); key->port_id is left as it is. */
int pmx_ctl_arg_rule(json_t *req, int kind, const struct pmx_rule_names *names,
		     struct pmx_flow_key *key, struct pmx_ctl_error *e);
/** An IPv4/IPv6 address; "*", "any" or a missing optional key = all zero (any). */
int pmx_ctl_arg_addr(json_t *req, const char *key, bool required, uint8_t out[16],
		     struct pmx_ctl_error *e);
/** An L4 port 1..65535 into network order. */
int pmx_ctl_arg_port(json_t *req, const char *key, uint16_t *port_be, struct pmx_ctl_error *e);
/** "port": NIC port index or name, default 0 (ENODEV when unknown). */
int pmx_ctl_arg_nic_port(struct pmx_ctl *ctl, json_t *req, unsigned *p, struct pmx_ctl_error *e);

#endif
