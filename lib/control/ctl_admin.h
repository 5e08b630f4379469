/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * ctl_admin.h - internal to lib/control: the operator commands (ctl_admin.c), called by the
 * dispatch table (ctl_dispatch.c). Each fills *result (new reference, may stay NULL for {})
 * or returns -1 with e filled. Management thread only, control lock held.
 */
#ifndef PMX_CTL_ADMIN_H
#define PMX_CTL_ADMIN_H

#include <jansson.h>

#include "ctl_args.h"

int pmx_ctl_cmd_clients(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req,
			json_t **result, struct pmx_ctl_error *e);
int pmx_ctl_cmd_kick(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req, json_t **result,
		     struct pmx_ctl_error *e);
int pmx_ctl_cmd_set_kernel_policy(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req,
				  json_t **result, struct pmx_ctl_error *e);
int pmx_ctl_cmd_rule_add(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req,
			 json_t **result, struct pmx_ctl_error *e);
int pmx_ctl_cmd_rule_del(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req,
			 json_t **result, struct pmx_ctl_error *e);
int pmx_ctl_cmd_clear_stats(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req,
			    json_t **result, struct pmx_ctl_error *e);
int pmx_ctl_cmd_port_info(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req,
			  json_t **result, struct pmx_ctl_error *e);
int pmx_ctl_cmd_used_ports(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req,
			   json_t **result, struct pmx_ctl_error *e);

#endif
