/* ctl_args.c - request arguments for the command handlers: parsed and checked for form, with
 * the key at fault named (pure parsing: no rule, client or address is looked at) */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "ctl_args.h"
#include "rule_spec.h"

int pmx_ctl_fail(struct pmx_ctl_error *e, const char *code, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return -1;
}

int pmx_ctl_arg_string(json_t *req, const char *key, bool required, const char **out,
		       struct pmx_ctl_error *e)
{
	json_t *v = json_object_get(req, key);

	if (v == NULL)
		return required ? pmx_ctl_fail(e, "EINVAL", "missing \"%s\"", key) : 0;
	if (!json_is_string(v))
		return pmx_ctl_fail(e, "EINVAL", "\"%s\" must be a string", key);
	*out = json_string_value(v);
	return 0;
}

int pmx_ctl_arg_uint(json_t *req, const char *key, bool required, uint64_t max, uint64_t *out,
		     struct pmx_ctl_error *e)
{
	json_t *v = json_object_get(req, key);

	if (v == NULL)
		return required ? pmx_ctl_fail(e, "EINVAL", "missing \"%s\"", key) : 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max)
		return pmx_ctl_fail(e, "EINVAL", "\"%s\" must be an integer 0..%llu", key,
				    (unsigned long long)max);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

int pmx_ctl_arg_rule(json_t *req, int kind, const struct pmx_rule_names *names,
		     struct pmx_flow_key *key, struct pmx_ctl_error *e)
{
	struct pmx_rule_error err;

	if (pmx_rule_spec_parse(req, kind, names, key, &err) == 0)
		return 0;
	if (err.missing)
		return pmx_ctl_fail(e, "EINVAL", "missing \"%s\"", err.key);
	return pmx_ctl_fail(e, "EINVAL", "\"%s\" %s", err.key, err.why);
}

int pmx_ctl_arg_addr(json_t *req, const char *key, bool required, uint8_t out[16],
		     struct pmx_ctl_error *e)
{
	json_t *v = json_object_get(req, key);
	char why[96];

	memset(out, 0, 16);
	if (v == NULL)
		return required ? pmx_ctl_fail(e, "EINVAL", "missing \"%s\"", key) : 0;
	if (pmx_rule_addr_parse(v, true, out, why, sizeof(why)) != 0)
		return pmx_ctl_fail(e, "EINVAL", "\"%s\" %s", key, why);
	return 0;
}

int pmx_ctl_arg_port(json_t *req, const char *key, uint16_t *port_be, struct pmx_ctl_error *e)
{
	json_t *v = json_object_get(req, key);

	if (v == NULL)
		return pmx_ctl_fail(e, "EINVAL", "missing \"%s\"", key);
	if (pmx_rule_port_parse(v, port_be) != 0)
		return pmx_ctl_fail(e, "EINVAL", "\"%s\" must be an integer 1..65535", key);
	return 0;
}

int pmx_ctl_arg_nic_port(struct pmx_ctl *ctl, json_t *req, unsigned *p, struct pmx_ctl_error *e)
{
	int ret = pmx_rule_nic_port(json_object_get(req, "port"), ctl->cfg, p);

	if (ret == -EINVAL)
		return pmx_ctl_fail(e, "EINVAL", "\"port\" must be a port number or name");
	if (ret != 0 || *p >= ctl->sw->n_ports)
		return pmx_ctl_fail(e, "ENODEV", "no such port");
	return 0;
}
