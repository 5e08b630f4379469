/* latency.c - the switch's side of the latency histograms (NIC RX stamp -> client dequeue):
 * the stamp's mbuf field, the shared blocks, resets and reads (management lcore) */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_mbuf_dyn.h>
#include <rte_memzone.h>

#include "latency.h"

int pmx_latency_init(struct pmx_switch *sw)
{
	static const struct rte_mbuf_dynfield stamp = {
		.name = PMX_RX_TSC_DYNFIELD,
		.size = sizeof(uint64_t),
		.align = __alignof__(uint64_t),
	};
	size_t len = sizeof(struct pmx_lat_block) * sw->clients_max * PMX_MAX_QUEUES;
	const struct rte_memzone *mz;

	sw->rx_tsc_off = rte_mbuf_dynfield_register(&stamp);
	if (sw->rx_tsc_off < 0)
		return -rte_errno;
	mz = rte_memzone_reserve_aligned(PMX_LAT_MZ_NAME, len, rte_socket_id(), 0,
					 RTE_CACHE_LINE_SIZE);
	if (mz == NULL)
		return -rte_errno;
	sw->lat = mz->addr;
	memset(sw->lat, 0, len);
	return 0;
}

void pmx_latency_fini(struct pmx_switch *sw)
{
	if (sw->lat == NULL)
		return;
	rte_memzone_free(rte_memzone_lookup(PMX_LAT_MZ_NAME));
	sw->lat = NULL;
}

void pmx_latency_reset(struct pmx_switch *sw, uint16_t id)
{
	if (sw->lat == NULL || id >= sw->clients_max)
		return;
	for (unsigned q = 0; q < PMX_MAX_QUEUES; q++)
		__atomic_fetch_add(&sw->lat[id * PMX_MAX_QUEUES + q].reset_req, 1,
				   __ATOMIC_RELEASE);
}

void pmx_latency_read(const struct pmx_switch *sw, uint16_t id, struct pmx_lat_hist *out)
{
	memset(out, 0, sizeof(*out));
	if (sw->lat == NULL || id >= sw->clients_max)
		return;
	for (unsigned q = 0; q < sw->clients[id].n_queues; q++)
		pmx_lat_block_read(&sw->lat[id * PMX_MAX_QUEUES + q], out);
}
