/* ctl_rates.c - per-second rates between two snapshots of the ports' counters (testpmd's
 * "Throughput (since last show)") */
#include <string.h>

#include "ctl_rates.h"

/* unit * delta per second; 128-bit so that bytes over a long interval cannot overflow */
static uint64_t per_second(uint64_t before, uint64_t after, unsigned unit, uint64_t interval_ns)
{
	if (after <= before || interval_ns == 0)
		return 0;
	return (uint64_t)((unsigned __int128)(after - before) * unit * 1000000000u / interval_ns);
}

void pmx_rates_compute(const struct pmx_rate_counters *prev, const struct pmx_rate_counters *now,
		       uint64_t interval_ns, struct pmx_port_rates *out)
{
	memset(out, 0, sizeof(*out));
	out->interval_ns = interval_ns;
	out->rx_pps = per_second(prev->ipackets, now->ipackets, 1, interval_ns);
	out->tx_pps = per_second(prev->opackets, now->opackets, 1, interval_ns);
	out->rx_bps = per_second(prev->ibytes, now->ibytes, 8, interval_ns);
	out->tx_bps = per_second(prev->obytes, now->obytes, 8, interval_ns);
}
