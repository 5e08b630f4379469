/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * ctl_client_cmds.h - internal to lib/control: the commands of a client (hello, listen, ...,
 * bye) and the read-only views anyone may ask for (ctl_client_cmds.c), called by the dispatch
 * table (ctl_dispatch.c). Handlers as in ctl_admin.h. Management thread only, lock held.
 */
#ifndef PMX_CTL_CLIENT_CMDS_H
#define PMX_CTL_CLIENT_CMDS_H

#include <jansson.h>

#include "ctl_args.h"

int pmx_ctl_cmd_hello(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req, json_t **result,
		      struct pmx_ctl_error *e);
int pmx_ctl_cmd_listen(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req, json_t **result,
		       struct pmx_ctl_error *e);
int pmx_ctl_cmd_connect(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req,
			json_t **result, struct pmx_ctl_error *e);
int pmx_ctl_cmd_claim_ip(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req,
			 json_t **result, struct pmx_ctl_error *e);
int pmx_ctl_cmd_release(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req,
			json_t **result, struct pmx_ctl_error *e);
int pmx_ctl_cmd_rules(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req, json_t **result,
		      struct pmx_ctl_error *e);
int pmx_ctl_cmd_stats(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req, json_t **result,
		      struct pmx_ctl_error *e);
int pmx_ctl_cmd_bye(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req, json_t **result,
		    struct pmx_ctl_error *e);

#endif
