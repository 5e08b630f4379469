/* telemetry.c - /portmux/stats, /portmux/clients, /portmux/rules, /portmux/latency for
 * dpdk-telemetry.py (telemetry thread) */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_telemetry.h>

#include "ctl.h"

/* Telemetry callbacks take no argument: the one control plane of the process. */
static struct pmx_ctl *tel_ctl;

/* Replies of dpdk-telemetry.py are at most 16 KiB: lists stop short of that. */
#define TEL_BUDGET 12000

/* A dict key: telemetry allows [A-Za-z0-9_/] only. */
static void key_name(const char *in, char *out, size_t len)
{
	size_t i;

	for (i = 0; in[i] != '\0' && i + 1 < len; i++)
		out[i] = isalnum((unsigned char)in[i]) || in[i] == '/' ? in[i] : '_';
	out[i] = '\0';
}

/* Add one scalar under name (objects and arrays are flattened by the callers). */
static void add_scalar(struct rte_tel_data *d, const char *name, json_t *v)
{
	char key[RTE_TEL_MAX_STRING_LEN];

	key_name(name, key, sizeof(key));
	if (json_is_integer(v))
		rte_tel_data_add_dict_u64(d, key, (uint64_t)json_integer_value(v));
	else if (json_is_string(v))
		rte_tel_data_add_dict_string(d, key, json_string_value(v));
	else if (json_is_boolean(v))
		rte_tel_data_add_dict_int(d, key, json_is_true(v));
	else if (json_is_real(v))
		rte_tel_data_add_dict_u64(d, key, (uint64_t)json_real_value(v));
	else
		rte_tel_data_add_dict_string(d, key, "");
}

/* Flatten obj into dict d with keys "prefix/key/..." (telemetry nests one level only). */
static void add_flat(struct rte_tel_data *d, const char *prefix, json_t *obj)
{
	char name[RTE_TEL_MAX_STRING_LEN];
	const char *key;
	json_t *v;
	size_t i;

	if (json_is_object(obj)) {
		json_object_foreach(obj, key, v) {
			snprintf(name, sizeof(name), "%s%s%s", prefix, prefix[0] ? "/" : "", key);
			add_flat(d, name, v);
		}
	} else if (json_is_array(obj)) {
		json_array_foreach(obj, i, v) {
			snprintf(name, sizeof(name), "%s%s%zu", prefix, prefix[0] ? "/" : "", i);
			add_flat(d, name, v);
		}
	} else if (!json_is_null(obj)) {
		add_scalar(d, prefix, obj);
	}
}

/* A list of objects as a dict of dicts keyed by each element's key_field. */
static int add_list(struct rte_tel_data *d, json_t *list, const char *key_field, size_t *budget)
{
	json_t *v;
	size_t i;

	json_array_foreach(list, i, v) {
		char *text = json_dumps(v, JSON_COMPACT);
		size_t len = text != NULL ? strlen(text) : 0;
		struct rte_tel_data *item;
		char name[32];

		free(text);
		if (len > *budget || i >= RTE_TEL_MAX_DICT_ENTRIES - 2)
			return -E2BIG;
		*budget -= len;
		item = rte_tel_data_alloc();
		if (item == NULL)
			return -ENOMEM;
		rte_tel_data_start_dict(item);
		add_flat(item, "", v);
		snprintf(name, sizeof(name), "%lld",
			 (long long)json_integer_value(json_object_get(v, key_field)));
		if (rte_tel_data_add_dict_container(d, name, item, 0) != 0) {
			rte_tel_data_free(item);
			return -E2BIG;
		}
	}
	return 0;
}

static int tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	json_t *stats, *v;
	const char *key;

	(void)cmd;
	(void)params;
	pmx_ctl_lock(tel_ctl);
	stats = tel_ctl->base != NULL ? pmx_ctl_stats_json(tel_ctl, &tel_ctl->rates_tel) : NULL; /* NULL: closed */
	pmx_ctl_unlock(tel_ctl);
	if (stats == NULL)
		return -ENOMEM;
	json_object_del(stats, "clients"); /* /portmux/clients has them */
	rte_tel_data_start_dict(d);
	json_object_foreach(stats, key, v) {
		struct rte_tel_data *sub;

		if (!json_is_object(v) && !json_is_array(v)) {
			add_scalar(d, key, v);
			continue;
		}
		/* "ports", "lcores", "drops", "mempool", "flow_table": one nested dict each */
		sub = rte_tel_data_alloc();
		if (sub == NULL)
			break;
		rte_tel_data_start_dict(sub);
		add_flat(sub, "", v);
		if (rte_tel_data_add_dict_container(d, key, sub, 0) != 0)
			rte_tel_data_free(sub);
	}
	json_decref(stats);
	return 0;
}

static int tel_list(struct rte_tel_data *d, json_t *list, const char *key_field)
{
	size_t budget = TEL_BUDGET, total = json_array_size(list);
	int ret;

	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "total", total);
	ret = add_list(d, list, key_field, &budget);
	/* a list too long for one reply is cut; portmux-ctl shows all of it */
	rte_tel_data_add_dict_int(d, "truncated", ret == -E2BIG);
	json_decref(list);
	return ret == -ENOMEM ? ret : 0;
}

static int tel_clients(const char *cmd, const char *params, struct rte_tel_data *d)
{
	json_t *list;

	(void)cmd;
	(void)params;
	pmx_ctl_lock(tel_ctl);
	list = tel_ctl->base != NULL ? pmx_ctl_clients_json(tel_ctl) : json_array();
	pmx_ctl_unlock(tel_ctl);
	return tel_list(d, list, "client_id");
}

/* Each client's latency (as in stats: samples, p50_ns, p99_ns, max_ns) with its name. */
static int tel_latency(const char *cmd, const char *params, struct rte_tel_data *d)
{
	json_t *clients, *list = json_array(), *c;
	size_t i;

	(void)cmd;
	(void)params;
	pmx_ctl_lock(tel_ctl);
	clients = tel_ctl->base != NULL ? pmx_ctl_clients_json(tel_ctl) : json_array();
	pmx_ctl_unlock(tel_ctl);
	json_array_foreach(clients, i, c) {
		json_t *l = json_deep_copy(json_object_get(c, "latency"));

		if (l == NULL)
			continue;
		json_object_set(l, "client_id", json_object_get(c, "client_id"));
		json_object_set(l, "name", json_object_get(c, "name"));
		json_array_append_new(list, l);
	}
	json_decref(clients);
	return tel_list(d, list, "client_id");
}

static int tel_rules(const char *cmd, const char *params, struct rte_tel_data *d)
{
	json_t *list;

	(void)cmd;
	(void)params;
	pmx_ctl_lock(tel_ctl);
	list = tel_ctl->base != NULL ? pmx_ctl_rules_json(tel_ctl, -1) : json_array();
	pmx_ctl_unlock(tel_ctl);
	return tel_list(d, list, "rule_id");
}

int pmx_telemetry_init(struct pmx_ctl *ctl)
{
	int ret;

	tel_ctl = ctl;
	ret = rte_telemetry_register_cmd("/portmux/stats", tel_stats,
					 "portmux counters: ports (rates: since the last call), lcores, drops, "
					 "mempool, rules");
	if (ret == 0)
		ret = rte_telemetry_register_cmd("/portmux/clients", tel_clients,
						 "portmux clients, by client id");
	if (ret == 0)
		ret = rte_telemetry_register_cmd("/portmux/rules", tel_rules,
						 "portmux rules, by rule id (cut at 16 KiB)");
	if (ret == 0)
		ret = rte_telemetry_register_cmd("/portmux/latency", tel_latency,
						 "portmux clients' latency, NIC RX -> dequeue (ns)");
	return ret;
}
