/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * pacer.h - the paced source of the latency benchmark: the frames of a pcap trace, allocated from
 * the switch's pool and put on the RX ring of its net_ring NIC port at a set rate.
 *
 * portmuxd's NIC is then "net_ring0" (the ring PMD's own rings, ETH_RXTX0_net_ring0 for queue 0,
 * single-producer): the pacer must be its only producer, i.e. the switch must not transmit on
 * that port (the benchmark's clients send nothing and its kernel path is net_null with no-rx).
 *
 * Pacing: at each poll the frames due since the start (rate x elapsed TSC) are sent, at most
 * a burst at a time; a frame that finds the ring full is freed and counted (as a NIC counts
 * RX-missed). If the pacer falls behind by more than a ring's worth (it was descheduled), the
 * frames it could not send in time are counted as "behind" and not sent: a burst of them later
 * would measure the pacer, not the switch. Rate 0: as fast as the ring takes frames.
 * Not thread-safe: one thread polls (the sink's drain loop).
 */
#ifndef PMX_PACER_H
#define PMX_PACER_H

#include <stdint.h>

#include <rte_mempool.h>
#include <rte_ring.h>

struct pacer {
	struct rte_ring *ring;
	struct rte_mempool *pool;
	uint8_t *frames; /**< the trace, each frame at [i * PACER_FRAME_MAX] */
	uint16_t *len;
	unsigned n_frames;
	unsigned next;      /**< next frame of the trace */
	double rate;        /**< frames per second; 0 = as fast as possible */
	uint64_t start;     /**< TSC of the first poll */
	uint64_t due_base;  /**< frames counted as due at start (after skipping ahead) */
	uint64_t sent;      /**< frames put on the ring */
	uint64_t ring_full; /**< frames freed because the ring was full */
	uint64_t behind;    /**< frames skipped because the pacer fell behind */
	uint64_t nomem;     /**< frames not made: no mbuf */
};

/**
 * Load the trace (pcap, Ethernet) and find the ring. Call after EAL init (a secondary).
 * @return 0, -ENOENT (no such ring), -EINVAL (unreadable or empty trace), -ENOMEM.
 */
int pacer_init(struct pacer *p, const char *trace, const char *ring_name, struct rte_mempool *pool,
	       double rate);

/** Send what is due now. @return frames put on the ring. */
unsigned pacer_poll(struct pacer *p);

/** Free the trace. Accepts a pacer never initialised (zeroed). */
void pacer_fini(struct pacer *p);

#endif
