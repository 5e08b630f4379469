/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * pmx_netif.h - an lwIP network interface whose "wire" is a portmux client's rings.
 *
 * Frames from the switch (the client's RX ring) are copied into pbufs and handed to lwIP's
 * ethernet_input(); frames lwIP sends are copied into mbufs of the switch's pool, batched,
 * and enqueued on the client's TX ring. Only what lwIP is meant to see gets in: ARP (which the
 * switch mirrors to every client) and IPv4 TCP to the one address and port this server owns
 * (with a MAC of its own: every IPv4 frame to its own address). Everything else (IPv6, broadcast and multicast IP, frames of other flows, sources such as
 * our own address or 127/8) is counted and freed before lwIP sees it, so lwIP never answers,
 * with a RST or an ICMP error, traffic that was not its own, nor loops an answer to itself.
 * A SYN that may reopen a 4-tuple lwIP holds in TIME_WAIT first frees that PCB (RFC 1122
 * 4.2.2.13; lwIP 2.1 does not do it and the client would stall).
 *
 * Thread-safety: none. One thread drives the client, the netif and lwIP (the raw API of a
 * library built with NO_SYS=0 is used without its tcpip thread, see docs/HTTPD.md).
 */
#ifndef PMX_NETIF_H
#define PMX_NETIF_H

#include <stdbool.h>
#include <stdint.h>

#include <lwip/ip4_addr.h>
#include <lwip/netif.h>

#include "portmux_client.h"

#define PMX_NETIF_BURST 32  /**< frames taken from the RX ring per poll */
#define PMX_NETIF_TX_MAX 64 /**< frames lwIP may queue before they are enqueued to the switch */

/** Counters of one netif (frames). */
struct pmx_netif_stats {
	uint64_t rx;         /**< frames taken from the RX ring */
	uint64_t to_lwip;    /**< of which handed to lwIP (ARP, our TCP port) */
	uint64_t mirrored;   /**< of which mirrored copies lwIP does not serve (ND, multicast) */
	uint64_t unexpected; /**< of which unicast frames not for our address and port */
	uint64_t bad_source; /**< of which for our port from a source lwIP must not answer */
	uint64_t rx_nomem;   /**< frames lost: no pbuf */
	uint64_t tw_reopened; /**< SYNs that reopened a 4-tuple lwIP held in TIME_WAIT */
	uint64_t tx;         /**< frames enqueued to the switch */
	uint64_t tx_dropped; /**< frames lost: no mbuf, too long, or TX ring full */
};

/** The interface. Fields are private to pmx_netif.c except the stats. */
struct pmx_netif {
	struct netif netif;
	struct pmx_client *client;
	uint8_t ip_key[16];   /**< our IPv4 address, IPv4-mapped as in the switch's flow keys */
	uint16_t tcp_port_be; /**< the only TCP port lwIP may see (network order) */
	bool own_host;        /**< the client has a MAC and address of its own: lwIP sees every
			       *  IPv4 frame to that address (not only its TCP port) */
	unsigned n_tx;
	struct rte_mbuf *tx[PMX_NETIF_TX_MAX];
	struct pmx_netif_stats st;
};

/**
 * Add the interface to lwIP (after lwip_init()) with the client's MAC, make it the default
 * and bring it up (lwIP announces itself with a gratuitous ARP). own_host: the client attached
 * with a MAC of its own and ip is its own address, so lwIP may see (and answer) every IPv4
 * frame to ip; else only tcp_port of the shared address.
 * @return 0, or -EINVAL (netif_add refused the parameters).
 */
int pmx_netif_init(struct pmx_netif *pn, struct pmx_client *c, const ip4_addr_t *ip,
		   const ip4_addr_t *netmask, const ip4_addr_t *gw, uint16_t tcp_port,
		   bool own_host);

/**
 * Switch -> lwIP: take one burst from the RX ring, feed what is ours to lwIP, free the rest.
 * @return the number of frames taken (0 when idle).
 */
unsigned pmx_netif_poll(struct pmx_netif *pn);

/**
 * lwIP -> switch: enqueue the frames lwIP sent since the last flush. What the ring does not
 * take stays queued for the next flush.
 * @return the number of frames enqueued.
 */
unsigned pmx_netif_flush(struct pmx_netif *pn);

/**
 * Take the interface down and out of lwIP; frames still queued are flushed once, and what
 * the ring refuses is freed (counted as tx_dropped). Afterwards the process holds no mbuf.
 */
void pmx_netif_fini(struct pmx_netif *pn);

#endif
