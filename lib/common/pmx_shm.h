/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * pmx_shm.h - the shared-memory contract between portmuxd (DPDK primary) and ring
 * clients (DPDK secondaries of the same file-prefix). Nothing else is shared.
 *
 * The daemon creates, the client looks up:
 *  - memzone PMX_SHM_MZ_NAME holding struct pmx_shm (magic and version checked at attach);
 *  - mempool PMX_POOL_NAME: every frame a client receives, and every frame it sends;
 *  - per client slot, rings named by PMX_RING_FMT: "rx" (switch -> client, multi-producer,
 *    single-consumer: only the client dequeues) and "tx" (client -> switch,
 *    single-producer: only the client enqueues; single-consumer: one RX lcore).
 *    The rings of a slot live as long as the daemon; generation[slot] says who may use
 *    them: the daemon stores the attach's generation before replying to hello and 0 when
 *    the client is detached. A client stops using its rings once they differ.
 *  - memzone PMX_LAT_MZ_NAME: struct pmx_lat_block[clients_max * PMX_MAX_QUEUES], the
 *    latency histogram of queue q of slot s at [s * PMX_MAX_QUEUES + q] (pmx_latency.h). One
 *    writer per block: for a ring client the client itself (pmx_client_rx_burst_q() of that
 *    queue), for a memif client the switch's RX lcore that copies its frames into the memif
 *    ring. The daemon only reads them and bumps reset_req (at attach, on clear_stats).
 *    Frames from the NIC carry the TSC of their RX burst in the mbuf dynamic field
 *    PMX_RX_TSC_DYNFIELD (registered by the daemon; 0 = not stamped).
 *  - daemon_pid: the daemon's pid while it serves; 0 from the moment it starts a clean
 *    stop (stored before any generation is cleared), so a client tells a stop from a kick.
 *    A daemon killed outright writes nothing: its clients learn it from the control
 *    connection, which the kernel closes (portmux_client.h, pmx_client_check()).
 *  - per ring-client attach, a "home" mempool (lib/dataplane/mbuf_home.h): every mbuf the
 *    client receives has m->pool = its home (each segment), so its rte_pktmbuf_free() lands
 *    there; the daemon moves them back to PMX_POOL_NAME. A client must not change m->pool.
 * A client must not free an mbuf it has enqueued, nor touch rings other than its own.
 */
#ifndef PMX_SHM_H
#define PMX_SHM_H

#include <stdint.h>

#include "pmx_latency.h"

#define PMX_MAX_CLIENTS 256
#define PMX_MAX_QUEUES 8 /* queue pairs (RX ring + TX ring) per client */
#define PMX_SHM_MAGIC 0x504d5831u /* "PMX1" */
#define PMX_SHM_VERSION 2u        /* 2: latency blocks (PMX_LAT_MZ_NAME) */
#define PMX_SHM_MZ_NAME "pmx_shm"
#define PMX_POOL_NAME "pmx_mbuf_pool"
#define PMX_LAT_MZ_NAME "pmx_latency"
/** Ring name: client slot, direction "rx"/"tx", queue. A slot keeps its rings across
 * attaches. A client with several queue pairs gets each flow on one queue pair, chosen by a
 * hash that is the same in both directions of the flow. */
#define PMX_RING_FMT "pmx_c%u_%s%u"

/** Written by the daemon before any client attaches (generation and daemon_pid later too, as
 * said above); read-only for clients. */
struct pmx_shm {
	uint32_t magic;
	uint32_t version;
	uint32_t clients_max;
	uint32_t ring_size;
	uint64_t daemon_pid;
	uint32_t generation[PMX_MAX_CLIENTS]; /**< written by the daemon, read by clients */
};

#endif
