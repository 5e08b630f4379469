/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * pmx_afpacket.h - portmux's port for kernel interfaces: packet sockets (TPACKET_V2 rings,
 * PACKET_VNET_HDR: partial checksums completed, TSO/GSO super-frames cut into wire frames),
 * seen by the switch as an ordinary ethdev made with rte_eth_from_rings().
 *
 * Per queue q there is one packet socket and two single-producer/single-consumer rte_rings:
 * RX (socket -> ethdev RX queue q) and TX (ethdev TX queue q -> socket). pmx_afp_pump(port, q)
 * moves frames between them; it must be called by the one lcore that also polls RX queue q and
 * transmits on TX queue q (the switch's RX lcore q), right before rte_eth_rx_burst(). Being a
 * plain ring ethdev, the port is visible with no plugin to secondary processes of the same
 * file-prefix (dpdk-dumpcap, dpdk-proc-info).
 *
 * Create and destroy on the management lcore, before the RX lcores start and after they stop.
 */
#ifndef PMX_AFPACKET_H
#define PMX_AFPACKET_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mempool.h>

/** The most queues (packet sockets) a port may have. */
#define PMX_AFP_MAX_QPAIRS 16

struct pmx_afp_port;

/** A port's settings, from DPDK net_af_packet's device string. */
struct pmx_afp_conf {
	char iface[IF_NAMESIZE];
	uint32_t qpairs;   /**< most queues: 1..16, default 1 */
	uint32_t frames;   /**< frames of each socket ring: 64..65536, default 512 */
	bool qdisc_bypass; /**< PACKET_QDISC_BYPASS on TX, default on */
};

/** A port's counters, since its creation or the last pmx_afp_port_stats_clear(). */
struct pmx_afp_stats {
	uint64_t socket_drops;    /**< frames the kernel dropped: a socket ring full */
	uint64_t rx_frames;       /**< frames handed to the ethdev's RX rings */
	uint64_t rx_bytes;        /**< their bytes */
	uint64_t rx_errors;       /**< truncated, bad virtio-net header, no headroom */
	uint64_t rx_nombuf;       /**< no mbuf for a frame */
	uint64_t gso_superframes; /**< TSO/GSO super-frames received */
	uint64_t gso_segments;    /**< wire frames cut from them */
	uint64_t csum_completed;  /**< partial checksums completed */
	uint64_t tx_frames;       /**< frames written to the socket rings */
	uint64_t tx_bytes;        /**< their bytes */
	uint64_t tx_drops;        /**< frames larger than a TX frame, dropped */
};

/** Whether devargs name DPDK's net_af_packet ("net_af_packet0,iface=eth1,..."). */
bool pmx_afp_devargs_match(const char *devargs);

/**
 * Parse net_af_packet's devargs: iface (required), qpairs, framecnt, qdisc_bypass; blocksz and
 * framesz are accepted and ignored (RX frames hold a 64 KB super-frame, TX frames the MTU).
 * @return 0, or -EINVAL (message in err).
 */
int pmx_afp_conf_parse(const char *devargs, struct pmx_afp_conf *conf, char *err, size_t errlen);

/**
 * Open nq packet sockets on conf->iface (PACKET_FANOUT_HASH when nq > 1), join the interface's
 * promiscuous mode, and make the ring ethdev "net_ring_pmx_<iface>" (not configured: the caller
 * configures nq RX and TX queues and starts it). Frames are received into pool.
 * @return 0; -EINVAL nq is 0 or above conf->qpairs; -ENODEV no such interface; -errno.
 */
int pmx_afp_port_create(const struct pmx_afp_conf *conf, unsigned nq, struct rte_mempool *pool,
			struct pmx_afp_port **out);

/** Stop and close the ethdev, close the sockets (promiscuous mode left), free what is held. */
void pmx_afp_port_destroy(struct pmx_afp_port *port);

/** The ring ethdev's port id. */
uint16_t pmx_afp_port_id(const struct pmx_afp_port *port);

/** The interface's name and MAC (the ring ethdev has a MAC of its own: not the wire's). */
const char *pmx_afp_port_iface(const struct pmx_afp_port *port);
void pmx_afp_port_mac(const struct pmx_afp_port *port, struct rte_ether_addr *mac);

/** "portmux af_packet on IFACE (ring ethdev NAME)", for port info. */
void pmx_afp_port_describe(const struct pmx_afp_port *port, char *buf, size_t len);

/**
 * The counters summed over the queues. Management lcore (or any one thread at a time: reading
 * the sockets' PACKET_STATISTICS resets them, so it is serialized inside).
 */
void pmx_afp_port_stats(struct pmx_afp_port *port, struct pmx_afp_stats *st);

/** From now on pmx_afp_port_stats() counts from zero. */
void pmx_afp_port_stats_clear(struct pmx_afp_port *port);

/**
 * Queue q: socket RX ring -> mbufs -> the ethdev's RX ring (as many as it has room for, up to
 * a burst), and the ethdev's TX ring -> socket TX ring (as many as the socket ring has free
 * frames for; the rest wait in the rte_ring). Only the lcore owning queue q.
 * @return frames moved (0 when idle: two loads).
 */
unsigned pmx_afp_pump(struct pmx_afp_port *port, unsigned q);

#endif
