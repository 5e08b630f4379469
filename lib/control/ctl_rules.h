/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * ctl_rules.h - internal to lib/control: adding and deleting rules for any owner with the
 * checks and the bookkeeping (overlap counts, port reservations, quotas), ctl_rules.c.
 * Management thread only, control lock held.
 */
#ifndef PMX_CTL_RULES_H
#define PMX_CTL_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "ctl_args.h"

/**
 * Add a rule for `owner` (a client id, PMX_OWNER_KERNEL, PMX_OWNER_DROP or, for config rules,
 * PMX_OWNER_ABSENT) after the checks: overlap with other owners' rules, the kernel's ports and
 * the port reservation for client and config rules, the client's quota (client owners; its
 * session's n_rules counts it).
 * check_privilege: apply the low-port rule (non-admin clients).
 * @return 0 with *result = {"rule_id": n}, or -1 with e filled.
 */
int pmx_ctl_rule_add(struct pmx_ctl *ctl, struct pmx_flow_key *key, uint16_t owner,
		     enum pmx_rule_origin origin, bool check_privilege, json_t **result,
		     struct pmx_ctl_error *e);

/** Delete rule rule_id (any owner): reservation released, the owner's count decremented. */
void pmx_ctl_rule_delete(struct pmx_ctl *ctl, uint32_t rule_id);

/** Before the registry deletes every rule of owner (detach): take them out of the counts. */
void pmx_ctl_rules_forget_owner(struct pmx_ctl *ctl, uint16_t owner);

#endif
