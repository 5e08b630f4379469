/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * offload_mark.h - the rte_flow MARK of an offloaded client rule: how flow_offload.c (lib/ports,
 * management lcore) builds it and how the RX lcores read it (nic_rx.c).
 *
 * A mark is (slot generation << 8 | client id) in 24 bits: a frame the NIC marked for a client
 * that has since detached (or whose slot was reused) no longer matches and is looked up.
 */
#ifndef PMX_OFFLOAD_MARK_H
#define PMX_OFFLOAD_MARK_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "pmx_switch.h"

#define PMX_OFFLOAD_OWNER_BITS 8 /**< client ids < PMX_MAX_CLIENTS fit here */
#define PMX_OFFLOAD_GEN_MASK 0xffffu

_Static_assert(PMX_MAX_CLIENTS <= (1u << PMX_OFFLOAD_OWNER_BITS), "client id must fit the mark");

/** The mark for client `owner` in its slot generation `generation` (24 bits). */
static inline uint32_t pmx_offload_mark(uint16_t owner, uint32_t generation)
{
	return ((generation & PMX_OFFLOAD_GEN_MASK) << PMX_OFFLOAD_OWNER_BITS) | owner;
}

/**
 * The owner the NIC found for m (rte_flow MARK), or PMX_OWNER_NONE when m carries no mark
 * or a stale one (client gone, slot reused): then look it up in software.
 * RX lcores, lock-free; costs one flag test on ports without offload.
 */
static inline uint16_t pmx_offload_mark_owner(const struct pmx_switch *sw, const struct rte_mbuf *m)
{
	const uint64_t want = RTE_MBUF_F_RX_FDIR | RTE_MBUF_F_RX_FDIR_ID;
	const struct pmx_client_slot *slot;
	uint32_t mark, owner;

	if ((m->ol_flags & want) != want)
		return PMX_OWNER_NONE;
	mark = m->hash.fdir.hi;
	owner = mark & ((1u << PMX_OFFLOAD_OWNER_BITS) - 1);
	if (owner >= sw->clients_max)
		return PMX_OWNER_NONE;
	slot = &sw->clients[owner];
	if (__atomic_load_n(&slot->state, __ATOMIC_ACQUIRE) != PMX_SLOT_ACTIVE ||
	    pmx_offload_mark(owner, __atomic_load_n(&slot->generation, __ATOMIC_RELAXED)) != mark)
		return PMX_OWNER_NONE;
	return (uint16_t)owner;
}

#endif
