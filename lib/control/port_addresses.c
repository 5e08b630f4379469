/* port_addresses.c - the IP addresses a port answers on (configured, else its kernel interface's),
 * and addresses as text */
#include <errno.h>
#include <ifaddrs.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "ctl.h"
#include "pmx_packet.h"

unsigned pmx_port_addresses(const struct pmx_ctl *ctl, unsigned p, uint8_t (*out)[16],
			    unsigned max)
{
	const struct pmx_port_conf *pc = &ctl->cfg->ports[p];
	struct ifaddrs *ifa_list, *ifa;
	unsigned n = 0;

	if (pc->n_addresses > 0) {
		for (n = 0; n < pc->n_addresses && n < max; n++)
			memcpy(out[n], pc->addresses[n], 16);
		return n;
	}
	/* the kernel interface shares the NIC's address: what the operator gave it counts */
	if (getifaddrs(&ifa_list) != 0)
		return 0;
	for (ifa = ifa_list; ifa != NULL && n < max; ifa = ifa->ifa_next) {
		if (ifa->ifa_addr == NULL || strcmp(ifa->ifa_name, ctl->sw->ports[p].exc_iface) != 0)
			continue;
		if (ifa->ifa_addr->sa_family == AF_INET) {
			const struct sockaddr_in *sin = (const void *)ifa->ifa_addr;

			pmx_ip4_to_key((const uint8_t *)&sin->sin_addr, out[n++]);
		} else if (ifa->ifa_addr->sa_family == AF_INET6) {
			const struct sockaddr_in6 *sin6 = (const void *)ifa->ifa_addr;

			memcpy(out[n++], &sin6->sin6_addr, 16);
		}
	}
	freeifaddrs(ifa_list);
	return n;
}

const char *pmx_addr_str(const uint8_t ip[16], char *buf, size_t len)
{
	if (pmx_key_ip_is_v4(ip))
		return inet_ntop(AF_INET, ip + 12, buf, len);
	return inet_ntop(AF_INET6, ip, buf, len);
}

int pmx_addr_parse(const char *s, uint8_t out[16])
{
	uint8_t v4[4];

	if (inet_pton(AF_INET, s, v4) == 1) {
		pmx_ip4_to_key(v4, out);
		return 0;
	}
	return inet_pton(AF_INET6, s, out) == 1 ? 0 : -EINVAL;
}
