/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * static_rules.h - internal to lib/control: the config file's "rules", owned by client names
 * (static_rules.c). Management thread only, control lock held.
 */
#ifndef PMX_STATIC_RULES_H
#define PMX_STATIC_RULES_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ctl_args.h"

/**
 * Add every config rule, owned by no one yet (PMX_OWNER_ABSENT), its port held against the
 * kernel. @return 0, or -1 with msg "rules[i]: why" (the rules added before are deleted).
 */
int pmx_ctl_static_rules_install(struct pmx_ctl *ctl, char *msg, size_t len);
/** The index in cfg->rules of rule rule_id, or -1 when it does not come from the config. */
int pmx_ctl_static_rule_index(const struct pmx_ctl *ctl, uint32_t rule_id);
/**
 * Client client_id just attached as `name`: it owns the config rules of that name that no
 * one owns. @return their rule ids (JSON array, new reference).
 */
json_t *pmx_ctl_static_rules_adopt(struct pmx_ctl *ctl, uint16_t client_id, const char *name);
/** Client client_id leaves (before its rules are deleted): its config rules go to another
 *  client attached under the same name, else to no one. */
void pmx_ctl_static_rules_orphan(struct pmx_ctl *ctl, uint16_t client_id);
/** The refusal to delete config rule rule_id (release, rule_del, RemoveMatch): EROFS. */
int pmx_ctl_static_rule_refuse(const struct pmx_ctl *ctl, uint32_t rule_id,
			       struct pmx_ctl_error *e);

#endif
