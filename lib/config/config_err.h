/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * config_err.h - the config loader's error messages, shared by config.c and config_rules.c
 * (private to lib/config): "[file: ][key path: ]message", user text quoted safely.
 *
 * Thread-safety: pure functions of their arguments (they write only the caller's buffers).
 */
#ifndef PMX_CONFIG_ERR_H
#define PMX_CONFIG_ERR_H

#include <stddef.h>

#include <jansson.h>

#include "config.h"

#define PMX_CFG_PATH_LEN                                                                           \
	128 /**< longest key path in a message, "ports[7].exception.addresses[15]" */
#define PMX_CFG_QUOTE_LEN 48 /**< user text quoted in a message is cut to fit this */

/** Where an error message goes; `file` (may be NULL) prefixes every message. */
struct pmx_cfg_ctx {
	char *err;
	size_t errlen;
	const char *file;
};

/** Write "[file: ][path: ]message" into c's buffer (nothing when it has none).
 *  @return -EINVAL, always. */
int __attribute__((format(printf, 3, 4)))
pmx_cfg_fail(struct pmx_cfg_ctx *c, const char *path, const char *fmt, ...);

/** Copy user text for a message into buf: control characters become '?', long text ends in
 *  "...". @return buf. */
const char *pmx_cfg_quote(const char *s, char buf[PMX_CFG_QUOTE_LEN]);

/** "path.key", or "key" at the top level, into buf (cut with "..." when too long). @return buf. */
const char *pmx_cfg_key_path(char buf[PMX_CFG_PATH_LEN], const char *path, const char *key);

/** "path[i]" into buf (cut with "..." when too long). @return buf. */
const char *pmx_cfg_idx_path(char buf[PMX_CFG_PATH_LEN], const char *path, size_t i);

/**
 * config_rules.c: the top-level "rules" array (arr, may be NULL = none) into cfg->rules;
 * cfg->ports must be parsed already (rules name their NIC port). @return 0, or -EINVAL with
 * the message in c ("rules[2].proto: must be ...").
 */
int pmx_config_rules_parse(json_t *arr, struct pmx_config *cfg, struct pmx_cfg_ctx *c);

/** Where pmx_cfg_socket_parse() writes: the config's fields of one socket. */
struct pmx_cfg_socket {
	char *path; /**< absolute, shorter than path_len */
	size_t path_len;
	uint32_t *mode; /**< octal string <= 0777 */
	char *group;    /**< "" = none */
	size_t group_len;
};

/**
 * config_socket.c: obj's "socket", "mode" and "group" (obj's other keys are the caller's to
 * check) into out; absent keys leave their field as it is. The rules of "control" and
 * "usnetd". @return 0, or -EINVAL with the message naming "path.key".
 */
int pmx_cfg_socket_parse(struct pmx_cfg_ctx *c, json_t *obj, const char *path,
			 struct pmx_cfg_socket *out);

/**
 * config_socket.c: the top-level "usnetd" object (obj, NULL or null = off) into cfg's usnetd
 * fields: present, usnetd's datagram socket is on, at "socket" (default PMX_USNETD_SOCKET),
 * "mode" (default "0660") and "group" as "control" has them. cfg->socket_path must be parsed
 * already. @return 0, or -EINVAL with the message in c.
 */
int pmx_config_usnetd_parse(json_t *obj, struct pmx_config *cfg, struct pmx_cfg_ctx *c);
/**
 * config_metrics.c: the top-level "metrics" object (obj, NULL when absent: off) into
 * cfg->metrics_*. @return 0, or -EINVAL with the message in c ("metrics.listen: must be ...").
 */
int pmx_config_metrics_parse(json_t *obj, struct pmx_config *cfg, struct pmx_cfg_ctx *c);

#endif
