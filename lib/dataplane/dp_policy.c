/* dp_policy.c - the dataplane's copy of the kernel policy's allow list: written by the
 * management lcore, read lock-free by the RX lcores (kernel_path.c) */
#include <errno.h>
#include <string.h>

#include "pmx_switch.h"

int pmx_dp_policy_set(struct pmx_switch *sw, const struct pmx_proto_port *allow, unsigned n)
{
	struct pmx_dp_policy *policy = &sw->policy;
	unsigned next = policy->active ^ 1;

	if (n > PMX_MAX_ALLOW)
		return -EINVAL;
	policy->allow[next].n = n;
	memcpy(policy->allow[next].entry, allow, n * sizeof(*allow));
	/* publish the new copy; the old one is rewritten only after every RX lcore moved on */
	__atomic_store_n(&policy->active, next, __ATOMIC_RELEASE);
	pmx_flow_table_synchronize(sw->ft);
	return 0;
}
