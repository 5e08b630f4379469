/* usnetd_msg.c - usnetd's client messages, one datagram each (client -> usnetd socket):
 * which variant, its shape; the text of the answers */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "usnetd_msg.h"

static const char *const kind_names[] = {
	[PMX_USNETD_INVALID] = "invalid",
	[PMX_USNETD_REQUEST_UDS] = "RequestUDS",
	[PMX_USNETD_REQUEST_NETMAP_PIPE] = "RequestNetmapPipe",
	[PMX_USNETD_DELETE_CLIENT] = "DeleteClient",
	[PMX_USNETD_ADD_MATCH] = "AddMatch",
	[PMX_USNETD_REMOVE_MATCH] = "RemoveMatch",
	[PMX_USNETD_QUERY_USED_PORTS] = "QueryUsedPorts",
};

const char *pmx_usnetd_kind_name(enum pmx_usnetd_kind kind)
{
	return (unsigned)kind < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[kind]
									   : "invalid";
}

static enum pmx_usnetd_kind kind_of(const char *name)
{
	for (unsigned k = PMX_USNETD_REQUEST_UDS; k < sizeof(kind_names) / sizeof(kind_names[0]);
	     k++)
		if (strcmp(name, kind_names[k]) == 0)
			return (enum pmx_usnetd_kind)k;
	return PMX_USNETD_INVALID;
}

static int invalid(struct pmx_usnetd_msg *m, int ret, const char *why, const char *name)
{
	m->kind = PMX_USNETD_INVALID;
	snprintf(m->why, sizeof(m->why), "%s%.40s", why, name);
	return ret;
}

/* A Request*'s content: (String, u64) as serde writes a tuple variant, ["eth0", 4242]. */
static int request_args(struct pmx_usnetd_msg *m, json_t *v, const char *name)
{
	json_t *iface = json_array_get(v, 0), *pid = json_array_get(v, 1);

	if (!json_is_array(v) || json_array_size(v) != 2 || !json_is_string(iface) ||
	    !json_is_integer(pid) || json_integer_value(pid) < 0)
		return invalid(m, -EINVAL, "must be [\"INTERFACE\", PID]: ", name);
	if (json_string_length(iface) >= sizeof(m->iface) ||
	    strlen(json_string_value(iface)) != json_string_length(iface))
		return invalid(m, -EINVAL, "interface name too long: ", name);
	snprintf(m->iface, sizeof(m->iface), "%s", json_string_value(iface));
	m->pid = (uint64_t)json_integer_value(pid);
	return 0;
}

/* {"Variant": content}: one key, content as the variant wants it. */
static int tagged(struct pmx_usnetd_msg *m, json_t *doc)
{
	const char *name = NULL;
	json_t *v = NULL;
	void *it = json_object_iter(doc);

	if (json_object_size(doc) != 1 || it == NULL)
		return invalid(m, -EINVAL, "an object must have one key, the variant", "");
	name = json_object_iter_key(it);
	v = json_object_iter_value(it);
	m->kind = kind_of(name);
	switch (m->kind) {
	case PMX_USNETD_REQUEST_UDS:
	case PMX_USNETD_REQUEST_NETMAP_PIPE: return request_args(m, v, name);
	case PMX_USNETD_ADD_MATCH:
	case PMX_USNETD_REMOVE_MATCH:
		if (!json_is_object(v))
			return invalid(m, -EINVAL, "must be {\"dst_addr\": ..., ...}: ", name);
		return 0;
	case PMX_USNETD_DELETE_CLIENT:
	case PMX_USNETD_QUERY_USED_PORTS:
		if (!json_is_null(v))
			return invalid(m, -EINVAL, "a unit variant takes null: ", name);
		return 0;
	default: return invalid(m, -EINVAL, "unknown variant ", name);
	}
}

int pmx_usnetd_msg_parse(const void *buf, size_t len, struct pmx_usnetd_msg *m)
{
	json_error_t jerr;

	memset(m, 0, sizeof(*m));
	if (len > PMX_USNETD_MAX_MSG)
		return invalid(m, -E2BIG, "longer than 4096 bytes", "");
	m->doc = json_loadb(buf, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
	if (m->doc == NULL) {
		snprintf(m->why, sizeof(m->why), "not JSON (column %d: %.60s)", jerr.column,
			 jerr.text);
		return -EINVAL;
	}
	if (json_is_string(m->doc)) {
		/* a unit variant is its name alone */
		m->kind = kind_of(json_string_value(m->doc));
		if (m->kind == PMX_USNETD_DELETE_CLIENT || m->kind == PMX_USNETD_QUERY_USED_PORTS)
			return 0;
		return invalid(m, -EINVAL,
			       m->kind == PMX_USNETD_INVALID ? "unknown variant "
							     : "content missing: ",
			       json_string_value(m->doc));
	}
	if (json_is_object(m->doc))
		return tagged(m, m->doc);
	return invalid(m, -EINVAL, "a message is a string or an object", "");
}

void pmx_usnetd_msg_free(struct pmx_usnetd_msg *m)
{
	json_decref(m->doc);
	m->doc = NULL;
}

char *pmx_usnetd_answer_text(const json_t *result)
{
	/* serde_json's to_string: no spaces, members in their order */
	return json_dumps(result, JSON_COMPACT | JSON_PRESERVE_ORDER);
}
