/* pmx_latency.c - reading the latency histograms (RX burst -> client dequeue): merge, percentiles, ns */
#include <errno.h>

#include "pmx_latency.h"

int pmx_lat_block_read(const struct pmx_lat_block *b, struct pmx_lat_hist *acc)
{
	const struct pmx_lat_hist *h = &b->hist;
	uint64_t max;

	if (__atomic_load_n(&b->reset_ack, __ATOMIC_ACQUIRE) !=
	    __atomic_load_n(&b->reset_req, __ATOMIC_ACQUIRE))
		return -EAGAIN;
	for (unsigned i = 0; i <= PMX_LAT_OVERFLOW; i++)
		acc->bucket[i] += __atomic_load_n(&h->bucket[i], __ATOMIC_RELAXED);
	acc->samples += __atomic_load_n(&h->samples, __ATOMIC_RELAXED);
	acc->sum += __atomic_load_n(&h->sum, __ATOMIC_RELAXED);
	max = __atomic_load_n(&h->max, __ATOMIC_RELAXED);
	if (max > acc->max)
		acc->max = max;
	return 0;
}

int pmx_lat_percentile(const struct pmx_lat_hist *h, double q, uint64_t *cycles)
{
	uint64_t total = 0, rank, seen = 0;
	unsigned i;

	if (!(q > 0.0 && q <= 1.0))
		return -EINVAL;
	for (i = 0; i <= PMX_LAT_OVERFLOW; i++)
		total += h->bucket[i];
	if (total == 0)
		return -ENODATA;
	rank = (uint64_t)(q * (double)total);
	if ((double)rank < q * (double)total || rank == 0)
		rank++; /* ceil(q * total), at least 1 */
	if (rank > total)
		rank = total;
	for (i = 0; i < PMX_LAT_OVERFLOW; i++) {
		seen += h->bucket[i];
		if (seen >= rank)
			break;
	}
	/* the overflow bucket has no top: the maximum is the only bound */
	if (i == PMX_LAT_OVERFLOW || pmx_lat_bucket_low(i + 1) - 1 > h->max)
		*cycles = h->max;
	else
		*cycles = pmx_lat_bucket_low(i + 1) - 1;
	return 0;
}

uint64_t pmx_lat_cycles_to_ns(uint64_t cycles, uint64_t tsc_hz)
{
	if (tsc_hz == 0)
		return 0;
	return cycles / tsc_hz * 1000000000u + cycles % tsc_hz * 1000000000u / tsc_hz;
}
