/* static_rules.c - the config file's "rules" (usnetd's static pipes): added at start-up with
 * their ports held against the kernel, owned by the client that attaches with their owner's
 * name, and owned by no one again when it leaves (frames to them are then dropped) */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ctl_rules.h"
#include "static_rules.h"
#include "flow_offload.h"
#include "pmx_log.h"

int pmx_ctl_static_rules_install(struct pmx_ctl *ctl, char *msg, size_t len)
{
	const struct pmx_config *cfg = ctl->cfg;

	for (unsigned i = 0; i < cfg->n_rules; i++) {
		struct pmx_flow_key key = cfg->rules[i].key;
		struct pmx_ctl_error e = {.code = "EINVAL"};
		json_t *res = NULL;

		if (key.port_id >= ctl->sw->n_ports ||
		    pmx_ctl_rule_add(ctl, &key, PMX_OWNER_ABSENT, PMX_ORIGIN_CONFIG, false, &res,
				     &e) != 0) {
			snprintf(msg, len, "rules[%u]: %s", i,
				 key.port_id >= ctl->sw->n_ports ? "no such NIC port" : e.message);
			while (i-- > 0)
				pmx_ctl_rule_delete(ctl, ctl->static_rule[i]);
			return -1;
		}
		ctl->static_rule[i] = (uint32_t)json_integer_value(json_object_get(res, "rule_id"));
		json_decref(res);
	}
	return 0;
}

int pmx_ctl_static_rule_index(const struct pmx_ctl *ctl, uint32_t rule_id)
{
	const struct pmx_rule *r = pmx_flow_table_rule(ctl->sw->ft, rule_id);

	if (r == NULL || r->origin != PMX_ORIGIN_CONFIG)
		return -1;
	for (unsigned i = 0; i < ctl->cfg->n_rules; i++)
		if (ctl->static_rule[i] == rule_id)
			return (int)i;
	return -1;
}

/* Give config rule i to `owner` (a client id or PMX_OWNER_ABSENT); a client's rule may be
 * offloaded to the NIC, one of no one's may not. */
static void hand_over(struct pmx_ctl *ctl, unsigned i, uint16_t owner)
{
	uint32_t id = ctl->static_rule[i];

	pmx_offload_rule_removed(ctl->sw, id);
	pmx_flow_table_set_owner(ctl->sw->ft, id, owner);
	pmx_offload_rule_added(ctl->sw, id);
}

json_t *pmx_ctl_static_rules_adopt(struct pmx_ctl *ctl, uint16_t client_id, const char *name)
{
	json_t *ids = json_array();

	for (unsigned i = 0; i < ctl->cfg->n_rules; i++) {
		const struct pmx_rule *r = pmx_flow_table_rule(ctl->sw->ft, ctl->static_rule[i]);

		if (r == NULL || r->owner != PMX_OWNER_ABSENT ||
		    strcmp(ctl->cfg->rules[i].owner, name) != 0)
			continue;
		hand_over(ctl, i, client_id);
		json_array_append_new(ids, json_integer(ctl->static_rule[i]));
	}
	if (json_array_size(ids) > 0)
		PMX_LOG(INFO, ctl, "client %u \"%s\" owns %zu rule(s) of the config file",
			client_id, name, json_array_size(ids));
	return ids;
}

void pmx_ctl_static_rules_orphan(struct pmx_ctl *ctl, uint16_t client_id)
{
	uint16_t heir = PMX_OWNER_ABSENT;
	const char *name;

	if (ctl->client_session[client_id] == NULL)
		return;
	/* another client attached under the same name takes them over */
	name = ctl->client_session[client_id]->name;
	for (uint16_t c = 0; c < ctl->sw->clients_max && heir == PMX_OWNER_ABSENT; c++)
		if (c != client_id && ctl->client_session[c] != NULL &&
		    strcmp(ctl->client_session[c]->name, name) == 0)
			heir = c;
	for (unsigned i = 0; i < ctl->cfg->n_rules; i++) {
		const struct pmx_rule *r = pmx_flow_table_rule(ctl->sw->ft, ctl->static_rule[i]);

		if (r != NULL && r->owner == client_id)
			hand_over(ctl, i, heir);
	}
}

int pmx_ctl_static_rule_refuse(const struct pmx_ctl *ctl, uint32_t rule_id, struct pmx_ctl_error *e)
{
	int i = pmx_ctl_static_rule_index(ctl, rule_id);

	return pmx_ctl_fail(e, "EROFS",
			    "rule %u is rules[%d] of the config file: it stays until the "
			    "config changes",
			    rule_id, i);
}
