/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * memif_ring.h - the memif rings an isolated client shares with the switch (memif 2.0 layout,
 * the contract between the processes) and the per-frame copy between them and mbufs.
 *
 * Who writes what: the client owns every descriptor. On the S2M ring (client -> switch) it
 * fills descriptors and moves head; the switch reads them and moves tail. On the M2S ring
 * (switch -> client) it offers buffers by moving head; the switch fills them (length, flags)
 * and moves tail. The client may write anything anywhere in its regions at any time, so the
 * switch reads head once, copies each descriptor to a local variable before it checks it, and
 * uses only the checked copy; it never reads or writes outside a region it mapped.
 *
 * A channel (struct pmx_memif_chan) is built and published by the management lcore
 * (memif_server.c); after that only the TX lcore of its client uses it, until the management
 * lcore unpublishes it and waits for that lcore's quiescent state before unmapping.
 */
#ifndef PMX_MEMIF_RING_H
#define PMX_MEMIF_RING_H

#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "pmx_memif_proto.h"

#define PMX_MEMIF_MAX_REGIONS 4u    /**< regions a client may add */
#define PMX_MEMIF_MAX_LOG2_RING 14u /**< largest ring: 16384 slots */
#define PMX_MEMIF_MAX_SEGS 32u      /**< descriptors one frame may span */

/** Bytes a ring of 2^log2 slots takes in its region. */
static inline uint64_t pmx_memif_ring_bytes(unsigned log2)
{
	return sizeof(struct pmx_memif_ring) +
	       ((uint64_t)1 << log2) * sizeof(struct pmx_memif_desc);
}

/** A client's region as mapped by the switch. */
struct pmx_memif_region {
	uint8_t *addr;
	uint64_t size; /**< bytes mapped (checked against the file's size, sealed) */
};

/** One connected memif client: its regions and rings, checked at connect. */
struct pmx_memif_chan {
	struct pmx_memif_region region[PMX_MEMIF_MAX_REGIONS];
	unsigned n_regions;
	struct pmx_memif_ring *s2m; /**< client -> switch */
	struct pmx_memif_ring *m2s; /**< switch -> client */
	uint32_t s2m_size;          /**< slots, a power of two */
	uint32_t m2s_size;
	uint16_t s2m_tail;  /**< TX lcore: the next S2M slot to read */
	uint16_t m2s_tail;  /**< TX lcore: the next M2S slot to fill */
	uint32_t violation; /**< set (atomic) by the TX lcore: a ring index out of range; the
			       management lcore then disconnects the client */
};

/** What the copy dropped, by reason (added to, never reset). */
struct pmx_memif_counts {
	uint64_t malformed; /**< a descriptor outside the regions, empty, or a chain not ended */
	uint64_t oversize;  /**< a frame longer than PMX_MAX_CLIENT_FRAME or PMX_MEMIF_MAX_SEGS */
	uint64_t nomem;     /**< no mbuf for a frame (its slots are left for the next poll) */
	uint64_t no_room;   /**< M2S: no buffer posted, or one too small for the frame */
};

/**
 * Check a descriptor (already copied out of the ring) against the channel's regions.
 * Thread-safe (reads ch only).
 * @return 0 when region < n_regions, length > 0 and offset + length <= the region's size;
 *         -EINVAL otherwise.
 */
int pmx_memif_desc_check(const struct pmx_memif_chan *ch, const struct pmx_memif_desc *d);

/**
 * Copy up to max frames the client posted on its S2M ring into mbufs from mp, and move the
 * ring's tail past every slot read (good or dropped). Only the client's TX lcore may call it;
 * lock-free. Slots of a frame for which no mbuf was left stay for the next call.
 * @return the number of mbufs put in pkts (each holds one frame in one segment); drops are
 *         added to *cnt. A head more than the ring size ahead sets ch->violation and reads
 *         nothing.
 */
unsigned pmx_memif_ring_rx(struct pmx_memif_chan *ch, struct rte_mempool *mp,
			   struct rte_mbuf **pkts, unsigned max, struct pmx_memif_counts *cnt);

/**
 * Copy frames into the buffers the client posted on its M2S ring, in order, and move the
 * ring's tail past those filled. Only the client's TX lcore may call it; lock-free. The
 * mbufs are not freed (the caller frees all n); the copied ones are moved to the front of
 * pkts, in their order, the others after them.
 * @return the number of frames copied; the others are added to *cnt (no_room, or malformed
 *         for a posted descriptor outside the regions, which is then left untouched).
 */
unsigned pmx_memif_ring_tx(struct pmx_memif_chan *ch, struct rte_mbuf **pkts, unsigned n,
			   struct pmx_memif_counts *cnt);

#endif
