/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * client_registry.h - attach and detach clients (management lcore only).
 *
 * Attach gives a client a slot, its slot's RX and TX rings and an lcore id of its own for
 * its DPDK secondary process. Detach removes its rules, marks the slot's generation dead in
 * shared memory, waits until no RX lcore can still hold the slot, then returns every mbuf in
 * its rings to the pool and retires its home (mbuf_home.h): once its process has exited, every
 * mbuf it still held goes back to the pool too. The next attach of the slot also flushes the
 * lcore's mempool cache.
 */
#ifndef PMX_CLIENT_REGISTRY_H
#define PMX_CLIENT_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "pmx_switch.h"

/** What attach hands to the client. In: memif_reuse (with client_id and memif_secret). */
struct pmx_attach_info {
	bool memif_reuse; /**< in: a memif client back after a restart asks for slot
				       client_id (its interface id) and keeps memif_secret */
	pid_t pid;        /**< in: the client's process (SO_PEERCRED), 0 if unknown: what a
			       ring client held is given back once it has exited */
	uint16_t client_id;
	uint32_t generation;
	unsigned lcore_id;
	unsigned n_queues;
	char rx_ring[PMX_MAX_QUEUES][RTE_RING_NAMESIZE];
	char tx_ring[PMX_MAX_QUEUES][RTE_RING_NAMESIZE];
	char memif_socket[108]; /**< memif: the server socket the client connects to */
	char memif_secret[25];  /**< memif: the per-client secret */
};

/**
 * Attach a client to NIC port `port` over `channel` with n_queues queue pairs (1 for memif
 * and uds; a uds client's socket is published by uds_channel.c after this).
 * Management lcore only.
 * For PMX_CHANNEL_MEMIF the switch is the client's memif server (memif_server.c: the socket
 * beside the control socket, interface id = slot id, a random secret): the client shares no
 * switch memory.
 * With info->memif_reuse (memif only), the client gets slot info->client_id and keeps the
 * secret info->memif_secret (what a previous daemon gave it), so that its memif interface
 * connects again unchanged.
 * @return 0 (info filled), -ENOSPC when all slots are taken, -EADDRINUSE when the slot
 *         asked for is taken (or beyond clients.max), -EINVAL for a bad port or secret,
 *         -ENOMEM when rings cannot be created, -ENODEV when the memif socket cannot be
 *         opened, -EIO when no secret can be made.
 */
int pmx_registry_attach(struct pmx_switch *sw, uint16_t port, enum pmx_channel channel,
			unsigned n_queues, struct pmx_attach_info *info);

/**
 * Give attached client `id` a MAC of its own and the n (<= PMX_OWN_MAC_ADDRS) addresses it
 * may send from with it: from then on every frame of its port to that MAC is its (and the
 * kernel gets none), and client_tx.c checks the (MAC, source IP) pair of what it sends.
 * Management lcore only; the caller has checked the MAC (unicast, unique) and the addresses.
 * Detach takes the MAC back.
 */
void pmx_registry_own_mac(struct pmx_switch *sw, uint16_t id, const struct rte_ether_addr *mac,
			  const uint8_t (*addrs)[16], unsigned n);

/**
 * Let attached client `id` (without a MAC of its own) learn one from what it sends
 * (PMX_MAC_LEARN_ON), stop that (OFF), or record that its MAC was learned (LEARNED): while ON,
 * its frames from a MAC not the port's go to the management lcore (PMX_LEARN_MAC,
 * mac_learn.c) instead of being dropped as spoofed. Management lcore only.
 */
void pmx_registry_mac_learn(struct pmx_switch *sw, uint16_t id, enum pmx_mac_learn state);

/**
 * Detach client `id`: rules removed, RX lcores synchronized, rings drained, home retired
 * (what it still holds comes back once its process exited: pmx_mbuf_home_poll()).
 * Management lcore only; blocks until every RX lcore passed one loop. Accepts a free slot
 * (nothing happens). @return the number of mbufs returned to the pool.
 */
unsigned pmx_registry_detach(struct pmx_switch *sw, uint16_t id);

/** The lcore id a client in slot `id` runs its EAL on. */
unsigned pmx_registry_client_lcore(const struct pmx_switch *sw, uint16_t id);

/** Detach every client and free the slots' rings (shutdown; RX lcores stopped). */
void pmx_registry_free_all(struct pmx_switch *sw);

/** Sum of the per-worker counters of client id. */
void pmx_registry_client_counters(const struct pmx_switch *sw, uint16_t id,
				  struct pmx_client_counters *out);

#endif
