/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * ctl_usnetd.h - internal to lib/control: usnetd's messages ("AddMatch", ...) translated
 * (ctl_usnetd.c), called by the dispatch table (ctl_dispatch.c). Handlers as in ctl_admin.h.
 * Management thread only, control lock held.
 */
#ifndef PMX_CTL_USNETD_H
#define PMX_CTL_USNETD_H

#include <jansson.h>

#include "ctl_args.h"

int pmx_ctl_cmd_usnetd_add_match(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req,
				 json_t **result, struct pmx_ctl_error *e);
int pmx_ctl_cmd_usnetd_remove_match(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req,
				    json_t **result, struct pmx_ctl_error *e);
int pmx_ctl_cmd_usnetd_query_used_ports(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req,
					json_t **result, struct pmx_ctl_error *e);
int pmx_ctl_cmd_usnetd_delete_client(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req,
				     json_t **result, struct pmx_ctl_error *e);
/**
 * usnetd sends serde's externally tagged JSON: "QueryUsedPorts" (a string) or
 * {"AddMatch": {...}}. Rewrite such a request into {"cmd": "AddMatch", ...fields} (new
 * reference); NULL when req is not of that form.
 */
json_t *pmx_ctl_usnetd_normalize(json_t *req);

#endif
