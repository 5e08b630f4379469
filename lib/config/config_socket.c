/* config_socket.c - a UNIX socket's "socket", "mode" and "group" keys, shared by "control" and
 * "usnetd" (same rules for both), and the "usnetd" object */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config_err.h"

int pmx_cfg_socket_parse(struct pmx_cfg_ctx *c, json_t *obj, const char *path,
			 struct pmx_cfg_socket *out)
{
	char p[PMX_CFG_PATH_LEN];
	unsigned long mode = 0;
	json_t *j;
	const char *s;
	size_t i;

	j = json_object_get(obj, "socket");
	if (j != NULL) {
		s = json_string_value(j);
		if (s == NULL)
			return pmx_cfg_fail(c, pmx_cfg_key_path(p, path, "socket"),
					    "must be a string");
		if (s[0] != '/' || strlen(s) >= out->path_len)
			return pmx_cfg_fail(c, pmx_cfg_key_path(p, path, "socket"),
					    "must be an absolute path shorter than %zu bytes",
					    out->path_len);
		snprintf(out->path, out->path_len, "%s", s);
	}

	j = json_object_get(obj, "mode");
	s = json_is_string(j) ? json_string_value(j) : "";
	for (i = 0; i < 4 && s[i] >= '0' && s[i] <= '7'; i++)
		mode = mode * 8 + (unsigned long)(s[i] - '0');
	if (j != NULL && (i == 0 || s[i] != '\0' || mode > 0777))
		return pmx_cfg_fail(c, pmx_cfg_key_path(p, path, "mode"),
				    "must be a string of octal digits <= 0777, like \"0660\"");
	if (j != NULL)
		*out->mode = (uint32_t)mode;

	j = json_object_get(obj, "group");
	if (j == NULL || json_is_null(j))
		return 0;
	s = json_is_string(j) ? json_string_value(j) : "";
	for (i = 0; s[i] > ' ' && s[i] < 0x7f && s[i] != ':'; i++)
		;
	if (i == 0 || s[i] != '\0' || i >= out->group_len)
		return pmx_cfg_fail(c, pmx_cfg_key_path(p, path, "group"),
				    "must be null or a group name of 1..%zu characters",
				    out->group_len - 1);
	snprintf(out->group, out->group_len, "%s", s);
	return 0;
}

int pmx_config_usnetd_parse(json_t *obj, struct pmx_config *cfg, struct pmx_cfg_ctx *c)
{
	static const char *const keys[] = {"socket", "mode", "group", "own_macs"};
	struct pmx_cfg_socket sock = {
		.path = cfg->usnetd_socket,
		.path_len = sizeof(cfg->usnetd_socket),
		.mode = &cfg->usnetd_mode,
		.group = cfg->usnetd_group,
		.group_len = sizeof(cfg->usnetd_group),
	};
	char q[PMX_CFG_QUOTE_LEN];
	const char *key;
	json_t *val;

	snprintf(cfg->usnetd_socket, sizeof(cfg->usnetd_socket), "%s", PMX_USNETD_SOCKET);
	cfg->usnetd_mode = 0660;
	if (obj == NULL || json_is_null(obj))
		return 0;
	if (!json_is_object(obj))
		return pmx_cfg_fail(c, "usnetd", "must be an object (or null: off)");
	json_object_foreach(obj, key, val)
	{
		size_t i;

		for (i = 0; i < sizeof(keys) / sizeof(keys[0]) && strcmp(key, keys[i]) != 0; i++)
			;
		if (i == sizeof(keys) / sizeof(keys[0]))
			return pmx_cfg_fail(c, "usnetd", "unknown key \"%s\"",
					    pmx_cfg_quote(key, q));
	}
	if (pmx_cfg_socket_parse(c, obj, "usnetd", &sock) != 0)
		return -EINVAL;
	if (strcmp(cfg->usnetd_socket, cfg->socket_path) == 0)
		return pmx_cfg_fail(c, "usnetd.socket", "must differ from control.socket");
	val = json_object_get(obj, "own_macs");
	if (val != NULL && !json_is_boolean(val))
		return pmx_cfg_fail(c, "usnetd.own_macs",
				    "must be true or false (may a usnetd client send from a MAC "
				    "of its own, learned from its frames?)");
	cfg->usnetd_own_macs = json_is_true(val);
	cfg->usnetd = true;
	return 0;
}
