/* port_addresses.c - the IP addresses a port answers on (configured, else its kernel
 * interface's, from kernel_addrs.c's set), and addresses as text */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "ctl.h"
#include "kernel_addrs.h"
#include "pmx_packet.h"

unsigned pmx_port_addresses(const struct pmx_ctl *ctl, unsigned p, uint8_t (*out)[16], unsigned max)
{
	const struct pmx_port_conf *pc = &ctl->cfg->ports[p];
	unsigned n;

	if (pc->n_addresses > 0) {
		for (n = 0; n < pc->n_addresses && n < max; n++)
			memcpy(out[n], pc->addresses[n], 16);
		return n;
	}
	/* the kernel interface shares the NIC's address: what the operator gave it counts */
	return ctl->kaddrs != NULL ? pmx_kernel_addrs_get(ctl->kaddrs, p, out, max) : 0;
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
