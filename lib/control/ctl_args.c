/* ctl_args.c - request arguments for the command handlers: checked, with the key at fault named */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "ctl_cmd.h"
#include "pmx_packet.h"

int cmd_fail(struct cmd_error *e, const char *code, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return -1;
}

int arg_string(json_t *req, const char *key, bool required, const char **out,
	       struct cmd_error *e)
{
	json_t *v = json_object_get(req, key);

	if (v == NULL)
		return required ? cmd_fail(e, "EINVAL", "missing \"%s\"", key) : 0;
	if (!json_is_string(v))
		return cmd_fail(e, "EINVAL", "\"%s\" must be a string", key);
	*out = json_string_value(v);
	return 0;
}

int arg_uint(json_t *req, const char *key, bool required, uint64_t max, uint64_t *out,
	     struct cmd_error *e)
{
	json_t *v = json_object_get(req, key);

	if (v == NULL)
		return required ? cmd_fail(e, "EINVAL", "missing \"%s\"", key) : 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max)
		return cmd_fail(e, "EINVAL", "\"%s\" must be an integer 0..%llu", key,
				(unsigned long long)max);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

int arg_proto(json_t *req, const char *key, uint8_t *proto, struct cmd_error *e)
{
	const char *s = NULL;
	int p;

	if (arg_string(req, key, true, &s, e) != 0)
		return -1;
	p = pmx_proto_parse(s);
	if (p < 0)
		return cmd_fail(e, "EINVAL", "\"%s\": unknown protocol \"%.40s\"", key, s);
	*proto = (uint8_t)p;
	return 0;
}

int arg_addr(json_t *req, const char *key, bool required, uint8_t out[16], struct cmd_error *e)
{
	const char *s = NULL;

	memset(out, 0, 16);
	if (arg_string(req, key, required, &s, e) != 0)
		return -1;
	if (s == NULL || strcmp(s, "*") == 0 || strcmp(s, "any") == 0)
		return 0;
	if (pmx_addr_parse(s, out) != 0)
		return cmd_fail(e, "EINVAL", "\"%s\" is not an IPv4 or IPv6 address", key);
	return 0;
}

int arg_port(json_t *req, const char *key, uint16_t *port_be, struct cmd_error *e)
{
	uint64_t v = 0;

	if (arg_uint(req, key, true, 65535, &v, e) != 0)
		return -1;
	if (v == 0)
		return cmd_fail(e, "EINVAL", "\"%s\" must be 1..65535", key);
	*port_be = htons((uint16_t)v);
	return 0;
}

int arg_nic_port(struct pmx_ctl *ctl, json_t *req, unsigned *p, struct cmd_error *e)
{
	json_t *v = json_object_get(req, "port");

	*p = 0;
	if (v == NULL)
		return 0;
	if (json_is_integer(v) && json_integer_value(v) >= 0 &&
	    json_integer_value(v) < ctl->sw->n_ports) {
		*p = (unsigned)json_integer_value(v);
		return 0;
	}
	if (json_is_string(v))
		for (unsigned i = 0; i < ctl->sw->n_ports; i++)
			if (strcmp(ctl->sw->ports[i].name, json_string_value(v)) == 0) {
				*p = i;
				return 0;
			}
	if (!json_is_integer(v) && !json_is_string(v))
		return cmd_fail(e, "EINVAL", "\"port\" must be a port number or name");
	return cmd_fail(e, "ENODEV", "no such port");
}

bool port_has_kernel(const struct pmx_ctl *ctl, unsigned p)
{
	const char *kind = ctl->sw->ports[p].exc_kind;

	return strcmp(kind, "tap") == 0 || strcmp(kind, "virtio_user") == 0;
}

bool is_own_address(const struct pmx_ctl *ctl, unsigned p, const uint8_t ip[16])
{
	uint8_t addrs[PMX_MAX_ADDRS][16];
	unsigned n = pmx_port_addresses(ctl, p, addrs, PMX_MAX_ADDRS);

	for (unsigned i = 0; i < n; i++)
		if (memcmp(addrs[i], ip, 16) == 0)
			return true;
	return false;
}
