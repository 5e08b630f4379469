/* ctl_checks.c - what commands ask about a NIC port: does it have a kernel path, is an
 * address its own, which client with a MAC of its own declared an address */
#include <string.h>

#include "ctl_checks.h"

bool pmx_ctl_port_has_kernel(const struct pmx_ctl *ctl, unsigned p)
{
	const char *kind = ctl->sw->ports[p].exc_kind;

	return strcmp(kind, "tap") == 0 || strcmp(kind, "virtio_user") == 0;
}

bool pmx_ctl_is_own_address(const struct pmx_ctl *ctl, unsigned p, const uint8_t ip[16])
{
	uint8_t addrs[PMX_MAX_ADDRS][16];
	unsigned n = pmx_port_addresses(ctl, p, addrs, PMX_MAX_ADDRS);

	for (unsigned i = 0; i < n; i++)
		if (memcmp(addrs[i], ip, 16) == 0)
			return true;
	return false;
}

int pmx_ctl_own_mac_holder(const struct pmx_ctl *ctl, unsigned p, const uint8_t ip[16])
{
	for (unsigned id = 0; id < ctl->sw->clients_max; id++) {
		const struct pmx_client_slot *slot = &ctl->sw->clients[id];

		if (slot->state == PMX_SLOT_ACTIVE && slot->has_mac && slot->port == p &&
		    pmx_own_mac_declared(slot, ip))
			return (int)id;
	}
	return -1;
}
