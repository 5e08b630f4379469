/* config_metrics.c - the config file's "metrics" object: where the Prometheus endpoint listens */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_err.h"

#define LISTEN_FORM "must be \"ADDRESS:PORT\": a numeric IPv4 address or [IPv6], port 1..65535"

/* "1.2.3.4:9273" or "[::1]:9273" into host and port. @return 0 or -EINVAL. */
static int parse_listen(const char *s, char host[PMX_METRICS_HOST_LEN], uint16_t *port)
{
	const char *colon, *h = s;
	unsigned char addr[16];
	size_t hlen;
	char *end;
	long p;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':')
			return -EINVAL;
		h = s + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return -EINVAL;
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= PMX_METRICS_HOST_LEN)
		return -EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (inet_pton(s[0] == '[' ? AF_INET6 : AF_INET, host, addr) != 1)
		return -EINVAL;
	if (colon[1] < '0' || colon[1] > '9')
		return -EINVAL;
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (*end != '\0' || errno != 0 || p < 1 || p > 65535)
		return -EINVAL;
	*port = (uint16_t)p;
	return 0;
}

int pmx_config_metrics_parse(json_t *obj, struct pmx_config *cfg, struct pmx_cfg_ctx *c)
{
	char q[PMX_CFG_QUOTE_LEN];
	const char *key, *s;
	json_t *v, *listen;

	if (obj == NULL)
		return 0;
	if (!json_is_object(obj))
		return pmx_cfg_fail(c, "metrics", "must be an object");
	json_object_foreach(obj, key, v)
	{
		if (strcmp(key, "listen") != 0)
			return pmx_cfg_fail(c, "metrics", "unknown key \"%s\"",
					    pmx_cfg_quote(key, q));
	}
	listen = json_object_get(obj, "listen");
	if (listen == NULL)
		return pmx_cfg_fail(c, "metrics", "missing required key \"listen\"");
	s = json_string_value(listen);
	if (s == NULL)
		return pmx_cfg_fail(c, "metrics.listen", "must be a string");
	if (strlen(s) >= sizeof(cfg->metrics_listen) ||
	    parse_listen(s, cfg->metrics_host, &cfg->metrics_port) != 0)
		return pmx_cfg_fail(c, "metrics.listen", LISTEN_FORM ", not \"%s\"",
				    pmx_cfg_quote(s, q));
	snprintf(cfg->metrics_listen, sizeof(cfg->metrics_listen), "%s", s);
	return 0;
}
