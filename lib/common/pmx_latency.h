/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * pmx_latency.h - latency through the switch: the RX timestamp every frame from the NIC carries
 * (an mbuf dynamic field), and the log-scale histogram of (dequeue time - RX time) kept per
 * client queue in shared memory (struct pmx_lat_block, part of the pmx_shm.h contract).
 *
 * Histogram: TSC cycles in buckets of 8 per power of two (each bucket at most 1/8 of its
 * value wide: a percentile read from it is at most 12.5 % above the true one). Values 0..7
 * have a bucket each; 2^32 cycles (2 s at 2.1 GHz) and above go to one overflow bucket. The
 * exact maximum is kept beside the buckets.
 *
 * One writer per block: it records samples and performs resets. The daemon only reads, and asks
 * for a reset by bumping reset_req; until the writer has answered (reset_ack == reset_req) the
 * daemon shows the block as empty. So a reset takes effect at once for readers, and the
 * histogram never has two writers.
 */
#ifndef PMX_LATENCY_H
#define PMX_LATENCY_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct rte_mbuf; /* read through the dynamic field's offset only: no DPDK header needed */

/** Name of the mbuf dynamic field holding the TSC of the NIC RX burst (uint64_t, 0 = none). */
#define PMX_RX_TSC_DYNFIELD "portmux_rx_tsc"

#define PMX_LAT_SUB_BITS 3u /**< 8 sub-buckets per power of two */
#define PMX_LAT_SUB (1u << PMX_LAT_SUB_BITS)
#define PMX_LAT_MAX_EXP 32u /**< values >= 2^32 cycles overflow */
#define PMX_LAT_BUCKETS ((PMX_LAT_MAX_EXP - PMX_LAT_SUB_BITS + 1) * PMX_LAT_SUB) /**< 240 */
#define PMX_LAT_OVERFLOW PMX_LAT_BUCKETS /**< index of the overflow bucket */
#define PMX_LAT_LINE 64

/** A histogram of TSC cycles. */
struct pmx_lat_hist {
	uint64_t samples;                     /**< frames recorded */
	uint64_t sum;                         /**< their cycles, summed */
	uint64_t max;                         /**< the largest value recorded */
	uint64_t bucket[PMX_LAT_BUCKETS + 1]; /**< [PMX_LAT_OVERFLOW]: >= 2^PMX_LAT_MAX_EXP */
};

/** One client queue's histogram in shared memory, with its reset handshake. */
struct pmx_lat_block {
	/** Written by the daemon only: bumped to ask the writer for a reset. */
	uint32_t reset_req;
	/** Written by the block's one writer only (below this line). */
	_Alignas(PMX_LAT_LINE) uint32_t reset_ack; /**< reset_req of the last reset done */
	struct pmx_lat_hist hist;
} __attribute__((aligned(PMX_LAT_LINE)));

_Static_assert(sizeof(struct pmx_lat_block) % PMX_LAT_LINE == 0,
	       "latency blocks must not share a cache line");
_Static_assert(offsetof(struct pmx_lat_block, reset_ack) == PMX_LAT_LINE,
	       "the daemon's and the writer's fields must be on different cache lines");

/** Bucket of a value in cycles. Thread-safe (pure). */
static inline unsigned pmx_lat_bucket(uint64_t cycles)
{
	unsigned e;

	if (cycles < PMX_LAT_SUB)
		return (unsigned)cycles;
	if (cycles >> PMX_LAT_MAX_EXP)
		return PMX_LAT_OVERFLOW;
	e = 63u - (unsigned)__builtin_clzll(cycles); /* PMX_LAT_SUB_BITS .. MAX_EXP - 1 */
	return (e - PMX_LAT_SUB_BITS + 1) * PMX_LAT_SUB +
	       (unsigned)((cycles >> (e - PMX_LAT_SUB_BITS)) & (PMX_LAT_SUB - 1));
}

/** The smallest value in bucket i (i <= PMX_LAT_OVERFLOW). Thread-safe (pure). */
static inline uint64_t pmx_lat_bucket_low(unsigned i)
{
	unsigned e;

	if (i < PMX_LAT_SUB)
		return i;
	e = i / PMX_LAT_SUB + PMX_LAT_SUB_BITS - 1;
	return (uint64_t)(PMX_LAT_SUB + i % PMX_LAT_SUB) << (e - PMX_LAT_SUB_BITS);
}

/** Writer only: answer a pending reset (zero the histogram, then publish reset_ack). */
static inline void pmx_lat_writer_poll(struct pmx_lat_block *b)
{
	uint32_t req = __atomic_load_n(&b->reset_req, __ATOMIC_ACQUIRE);

	if (__builtin_expect(req == b->reset_ack, 1))
		return;
	memset(&b->hist, 0, sizeof(b->hist));
	__atomic_store_n(&b->reset_ack, req, __ATOMIC_RELEASE);
}

/**
 * Writer only: record the frames in pkts, taken off a ring at TSC `now`. Frames whose stamp
 * (dynamic field at offset off) is 0 did not come from a NIC RX burst and are not recorded; a
 * stamp after `now` counts as 0 cycles. Lock-free: the daemon may read meanwhile (each counter
 * is stored whole; the percentiles use the buckets, so a sample counted in samples but not yet
 * in its bucket changes nothing).
 */
static inline void pmx_lat_record(struct pmx_lat_block *b, int off, struct rte_mbuf *const *pkts,
				  unsigned n, uint64_t now)
{
	struct pmx_lat_hist *h = &b->hist;
	uint64_t sum = 0, max = h->max, count = 0;

	for (unsigned i = 0; i < n; i++) {
		uint64_t stamp = *(const uint64_t *)((const char *)pkts[i] + off);
		uint64_t d;
		unsigned k;

		if (stamp == 0)
			continue;
		d = (int64_t)(now - stamp) > 0 ? now - stamp : 0;
		k = pmx_lat_bucket(d);
		__atomic_store_n(&h->bucket[k], h->bucket[k] + 1, __ATOMIC_RELAXED);
		sum += d;
		max = d > max ? d : max;
		count++;
	}
	if (count == 0)
		return;
	__atomic_store_n(&h->sum, h->sum + sum, __ATOMIC_RELAXED);
	__atomic_store_n(&h->max, max, __ATOMIC_RELAXED);
	__atomic_store_n(&h->samples, h->samples + count, __ATOMIC_RELAXED);
}

/**
 * Add a block's histogram to *acc (acc may already hold others: queues of one client). A
 * block whose reset is pending adds nothing. Thread-safe against the writer (relaxed loads).
 * @return 0, or -EAGAIN when the block was skipped because of a pending reset.
 */
int pmx_lat_block_read(const struct pmx_lat_block *b, struct pmx_lat_hist *acc);

/**
 * The value below which a fraction q (0 < q <= 1) of the samples lie, in cycles: the top of
 * the bucket holding the ceil(q * n)-th smallest sample, but never above the maximum (so a
 * single sample is reported exactly, and p50 <= p99 <= max always). Thread-safe (pure).
 * @return 0 (*cycles set), -ENODATA when the histogram is empty, -EINVAL for q out of range.
 */
int pmx_lat_percentile(const struct pmx_lat_hist *h, double q, uint64_t *cycles);

/** Cycles to nanoseconds at tsc_hz (0 when tsc_hz is 0), without overflow. Pure. */
uint64_t pmx_lat_cycles_to_ns(uint64_t cycles, uint64_t tsc_hz);

#endif
