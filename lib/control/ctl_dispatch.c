/* ctl_dispatch.c - one request to its command: the table of every command (who may send it),
 * the lock around it, and the reply {"id", "ok", "result" | "error"} */
#include <string.h>

#include <rte_common.h>

#include "ctl_admin.h"
#include "ctl_args.h"
#include "ctl_client_cmds.h"
#include "ctl_usnetd.h"

#define NEEDS_CLIENT 0x1 /* only after hello */
#define NEEDS_ADMIN 0x2  /* root or control.group */

/** A handler fills *result (new reference, may stay NULL for {}) or fails with e. */
typedef int (*cmd_fn)(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req, json_t **result,
		      struct pmx_ctl_error *e);

static const struct {
	const char *name;
	cmd_fn fn;
	unsigned flags;
} commands[] = {
	{"hello", pmx_ctl_cmd_hello, 0},
	{"listen", pmx_ctl_cmd_listen, NEEDS_CLIENT},
	{"connect", pmx_ctl_cmd_connect, NEEDS_CLIENT},
	{"claim_ip", pmx_ctl_cmd_claim_ip, NEEDS_CLIENT | NEEDS_ADMIN},
	{"release", pmx_ctl_cmd_release, NEEDS_CLIENT},
	{"rules", pmx_ctl_cmd_rules, 0},
	{"used_ports", pmx_ctl_cmd_used_ports, 0},
	{"stats", pmx_ctl_cmd_stats, 0},
	{"port_info", pmx_ctl_cmd_port_info, 0},
	{"bye", pmx_ctl_cmd_bye, NEEDS_CLIENT},
	{"clients", pmx_ctl_cmd_clients, NEEDS_ADMIN},
	{"kick", pmx_ctl_cmd_kick, NEEDS_ADMIN},
	{"set_kernel_policy", pmx_ctl_cmd_set_kernel_policy, NEEDS_ADMIN},
	{"rule_add", pmx_ctl_cmd_rule_add, NEEDS_ADMIN},
	{"rule_del", pmx_ctl_cmd_rule_del, NEEDS_ADMIN},
	{"clear_stats", pmx_ctl_cmd_clear_stats, NEEDS_ADMIN},
	/* usnetd's messages, same meaning (ctl_usnetd.c) */
	{"AddMatch", pmx_ctl_cmd_usnetd_add_match, NEEDS_CLIENT},
	{"RemoveMatch", pmx_ctl_cmd_usnetd_remove_match, NEEDS_CLIENT},
	{"QueryUsedPorts", pmx_ctl_cmd_usnetd_query_used_ports, 0},
	{"DeleteClient", pmx_ctl_cmd_usnetd_delete_client, NEEDS_CLIENT},
};

static json_t *run(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req, json_t *id)
{
	struct pmx_ctl_error e = {.code = "EINVAL"};
	json_t *result = NULL;
	const char *name = NULL;
	unsigned i;

	ctl->requests++;
	if (!json_is_object(req)) {
		pmx_ctl_fail(&e, "EINVAL", "a request is a JSON object");
		goto error;
	}
	if (pmx_ctl_arg_string(req, "cmd", true, &name, &e) != 0)
		goto error;
	for (i = 0; i < RTE_DIM(commands) && strcmp(commands[i].name, name) != 0; i++)
		;
	if (i == RTE_DIM(commands)) {
		pmx_ctl_fail(&e, "ENOSYS", "unknown command \"%.40s\"", name);
		goto error;
	}
	if ((commands[i].flags & NEEDS_CLIENT) && s->client_id < 0) {
		pmx_ctl_fail(&e, "ENOTCONN", "\"%s\" needs a client: send hello first", name);
		goto error;
	}
	if ((commands[i].flags & NEEDS_ADMIN) && !s->admin) {
		pmx_ctl_fail(&e, "EPERM", "\"%s\" needs root or control.group", name);
		goto error;
	}
	if (commands[i].fn(ctl, s, req, &result, &e) != 0)
		goto error;
	return json_pack("{s:O?, s:b, s:o}", "id", id, "ok", 1, "result",
			 result ? result : json_object());

error:
	ctl->errors++;
	if (strcmp(e.code, "EINVAL") == 0 || strcmp(e.code, "ENOSYS") == 0)
		pmx_ctl_log_bad_input(ctl, s, e.message);
	return json_pack("{s:O?, s:b, s:{s:s, s:s}}", "id", id, "ok", 0, "error", "code", e.code,
			 "message", e.message);
}

json_t *pmx_ctl_execute(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req)
{
	json_t *usnetd = pmx_ctl_usnetd_normalize(req);
	json_t *id = json_is_object(req) ? json_object_get(req, "id") : NULL;
	json_t *reply;

	pmx_ctl_lock(ctl);
	reply = run(ctl, s, usnetd != NULL ? usnetd : req, id);
	pmx_ctl_unlock(ctl);
	json_decref(usnetd);
	return reply;
}
