/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * ctl_own_mac.h - internal to lib/control: hello's "mac" and "addresses" (ctl_own_mac.c).
 * Management thread only, control lock held.
 */
#ifndef PMX_CTL_OWN_MAC_H
#define PMX_CTL_OWN_MAC_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <rte_ether.h>

#include "ctl_args.h"

/** hello's "mac" and "addresses". */
struct pmx_ctl_own_mac_req {
	bool set; /**< the client asked for a MAC of its own */
	struct rte_ether_addr mac;
	unsigned n;
	uint8_t addrs[PMX_OWN_MAC_ADDRS][16];
};

/**
 * Read hello's "mac" and "addresses" for NIC port p into om (om->set false when there is no
 * "mac"; no or empty "addresses": the client gets its addresses by DHCP, dhcp_lease.c). @return 0, or -1 with e: EINVAL (bad MAC, not unicast; bad, duplicate or missing
 * addresses; addresses without mac), EPERM (not an operator), EDQUOT (clients.own_macs),
 * EADDRINUSE (the MAC is a port's or another client's; an address is the port's, claimed,
 * or another client's).
 */
int pmx_ctl_own_mac_args(struct pmx_ctl *ctl, const struct pmx_ctl_session *s, json_t *req,
			 unsigned p, struct pmx_ctl_own_mac_req *om, struct pmx_ctl_error *e);

/** Could ip (IPv4-mapped or IPv6) be a host's? Not any, loopback, 0/8, multicast, broadcast.
 *  Thread-safe (pure). */
bool pmx_ctl_host_address(const uint8_t ip[16]);

/**
 * May mac become the own MAC of one more client? Not when it is the MAC of a port (the
 * kernel's) or of an attached client, nor when clients.own_macs clients have one already.
 * Management thread, control lock held. @return 0, or -1 with e: EADDRINUSE (whose it is),
 * EDQUOT (clients.own_macs).
 */
int pmx_ctl_own_mac_free(const struct pmx_ctl *ctl, const struct rte_ether_addr *mac,
			 struct pmx_ctl_error *e);

#endif
