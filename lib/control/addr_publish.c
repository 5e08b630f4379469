/* addr_publish.c - keeps the dataplane's set of own addresses per port current (management
 * lcore): the kernel interface's addresses (or the configured ones) and claimed IPs */
#include <string.h>

#include "ctl.h"

/* Gather port p's own addresses into la. */
static void gather(const struct pmx_ctl *ctl, unsigned p, struct pmx_local_addrs *la)
{
	uint32_t limit = pmx_flow_table_id_limit(ctl->sw->ft);

	la->n = pmx_port_addresses(ctl, p, la->addr, PMX_MAX_LOCAL_ADDRS);
	/* claimed IPs are rules of kind IP: none on this port (ctl->ip_count), nothing to scan */
	for (uint32_t id = 0; ctl->ip_count[p] > 0 && id < limit && la->n < PMX_MAX_LOCAL_ADDRS;
	     id++) {
		const struct pmx_rule *r = pmx_flow_table_rule(ctl->sw->ft, id);

		if (r != NULL && r->key.kind == PMX_KEY_IP && r->key.port_id == p)
			memcpy(la->addr[la->n++], r->key.local_ip, 16);
	}
}

void pmx_local_addrs_refresh(struct pmx_ctl *ctl)
{
	struct pmx_switch *sw = ctl->sw;
	unsigned active = sw->local_active, next = active ^ 1;
	bool changed = false;

	for (unsigned p = 0; p < sw->n_ports; p++) {
		struct pmx_local_addrs *la = &sw->local[next][p];

		gather(ctl, p, la);
		changed |= la->n != sw->local[active][p].n ||
			   memcmp(la->addr, sw->local[active][p].addr, la->n * 16) != 0;
	}
	if (!changed)
		return;
	/* publish the new copy; the old one is rewritten only after every RX lcore moved on */
	__atomic_store_n(&sw->local_active, next, __ATOMIC_RELEASE);
	pmx_flow_table_synchronize(sw->ft);
}
