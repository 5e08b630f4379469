/* config_err.c - the config loader's error messages: "[file: ][key path: ]message" */
/* SPDX-License-Identifier: BSD-3-Clause */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config_err.h"

/* Write "[file: ][path: ]message" into the caller's buffer. Always returns -EINVAL. */
int pmx_cfg_fail(struct pmx_cfg_ctx *c, const char *path, const char *fmt, ...)
{
	size_t n = 0;
	va_list ap;
	int r;

	if (c->err == NULL || c->errlen == 0)
		return -EINVAL;
	c->err[0] = '\0';
	if (c->file != NULL) {
		r = snprintf(c->err, c->errlen, "%s: ", c->file);
		n = r < 0 ? 0 : (size_t)r;
	}
	if (n < c->errlen && path[0] != '\0') {
		r = snprintf(c->err + n, c->errlen - n, "%s: ", path);
		n += r < 0 ? 0 : (size_t)r;
	}
	if (n < c->errlen) {
		va_start(ap, fmt);
		vsnprintf(c->err + n, c->errlen - n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Copy user text for a message: control characters become '?', long text ends in "...". */
const char *pmx_cfg_quote(const char *s, char buf[PMX_CFG_QUOTE_LEN])
{
	size_t i;

	for (i = 0; s[i] != '\0' && i < PMX_CFG_QUOTE_LEN - 4; i++)
		buf[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	if (s[i] != '\0') {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

/* A path too long for its buffer (only possible with absurd keys) ends in "...". */
static const char *path_fit(char buf[PMX_CFG_PATH_LEN], int n)
{
	if (n >= PMX_CFG_PATH_LEN)
		memcpy(buf + PMX_CFG_PATH_LEN - 4, "...", 4);
	return buf;
}

/* "path.key", or "key" at the top level. */
const char *pmx_cfg_key_path(char buf[PMX_CFG_PATH_LEN], const char *path, const char *key)
{
	return path_fit(buf, snprintf(buf, PMX_CFG_PATH_LEN, "%s%s%s", path,
				      path[0] != '\0' ? "." : "", key));
}

/* "path[i]". */
const char *pmx_cfg_idx_path(char buf[PMX_CFG_PATH_LEN], const char *path, size_t i)
{
	return path_fit(buf, snprintf(buf, PMX_CFG_PATH_LEN, "%s[%zu]", path, i));
}
