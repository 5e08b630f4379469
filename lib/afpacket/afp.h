/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * afp.h - the af_packet port's private state: one packet socket per queue, its RX and TX rings
 * (TPACKET_V2, the kernel's frames behind a virtio-net header), the rte_rings of the ring
 * ethdev the switch sees, and the counters.
 *
 * Queue q is used by one lcore (the one calling pmx_afp_pump(port, q)); its counters are
 * written by that lcore only and read by pmx_afp_port_stats(), which also owns sock_drops.
 */
#ifndef PMX_AFP_H
#define PMX_AFP_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_spinlock.h>

#include "afp_vnet.h"
#include "pmx_afpacket.h"

/* One RX or TX ring mapped from the socket. */
struct pmx_afp_ring {
	uint8_t *base;
	uint32_t frame_size;
	uint32_t frame_nr;
	uint32_t head; /* next frame to look at */
};

struct pmx_afp_rxq {
	struct pmx_afp_ring ring;
	struct rte_mempool *pool;
	uint16_t port_id;
	/* wire frames cut from a super-frame, not yet handed out */
	uint16_t stash_head, stash_n;
	struct rte_mbuf *stash[PMX_AFP_GSO_MAX_SEGS];
	/* counters */
	uint64_t pkts, bytes, nombuf, errors;
	uint64_t gso_frames, gso_segments, csum_completed;
};

struct pmx_afp_txq {
	struct pmx_afp_ring ring;
	int fd;
	bool kick; /* the last send() left frames marked: ask again */
	uint64_t pkts, bytes, errors;
};

/* One socket of a queue: its fd and the one mapping holding both rings. */
struct pmx_afp_sock {
	int fd;
	uint8_t *map;
	size_t map_len;
};

/* Queue q: the socket, its rings, and the ethdev's rte_rings. */
struct pmx_afp_queue {
	struct pmx_afp_rxq rxq;
	struct pmx_afp_txq txq;
	struct pmx_afp_sock sock;
	struct rte_ring *rx_ring; /* socket -> ethdev RX queue q */
	struct rte_ring *tx_ring; /* ethdev TX queue q -> socket */
	uint64_t sock_drops;      /* PACKET_STATISTICS' tp_drops, accumulated (stats_lock) */
} __rte_cache_aligned;

struct pmx_afp_port {
	struct pmx_afp_conf conf;
	int ifindex;
	struct rte_ether_addr mac;
	int ctl_fd; /* packet socket holding the PROMISC membership */
	uint16_t fanout_id;
	uint16_t port_id;
	bool ethdev_made;
	char ethdev_name[RTE_ETH_NAME_MAX_LEN];
	unsigned nq;
	rte_spinlock_t stats_lock;
	struct pmx_afp_stats base; /* pmx_afp_port_stats_clear() */
	struct pmx_afp_queue q[PMX_AFP_MAX_QPAIRS];
};

/* afp_queue.c */
int pmx_afp_sock_open(struct pmx_afp_port *pt, unsigned q, uint16_t mtu);
void pmx_afp_sock_close(struct pmx_afp_sock *s);
uint16_t pmx_afp_rx_burst(struct pmx_afp_rxq *q, struct rte_mbuf **pkts, uint16_t nb_pkts);
uint16_t pmx_afp_tx_burst(struct pmx_afp_txq *q, struct rte_mbuf **pkts, uint16_t nb_pkts);
unsigned pmx_afp_tx_room(const struct pmx_afp_txq *q, unsigned max);

#endif
