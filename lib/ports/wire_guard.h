/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * wire_guard.h - keep the appliance's kernel off a NIC port that is still a kernel netdev
 * (net_af_packet, net_pcap on an interface, net_af_xdp): while portmuxd runs, the kernel's IP
 * stack gets no frame from that interface and sends none on it; the PMD still gets them all.
 *
 * Mechanism: one nftables table of family netdev per interface, "portmux_<iface>", with an
 * ingress chain that drops everything (its hook runs after the packet taps that af_packet and
 * pcap read from, and before ARP, IPv4 and IPv6) and an egress chain that drops what the
 * kernel itself sends (frames from sockets of processes with another uid than portmuxd's, and
 * from the kernel's own sockets: TCP resets, ICMP errors, neighbour discovery). The table has
 * the "owner" flag: the kernel removes it when portmuxd's netlink socket closes, so it does not
 * outlive the daemon however the daemon ends (SIGKILL included); a table of the same name left
 * by anything else is replaced, never doubled.
 */
#ifndef PMX_WIRE_GUARD_H
#define PMX_WIRE_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "pmx_switch.h"

/** The guard of every NIC port of one daemon. Owned by the management lcore. */
struct pmx_wire_guard;

/**
 * Does the NIC port with ethdev id port_id leave a kernel netdev that the kernel could use as
 * its own? Fills ifname (IF_NAMESIZE) when it does. The kernel's end of a kernel path (net_tap,
 * virtio_user) is not a wire. Not thread-safe (ethdev info).
 * @return true when the port has such an interface.
 */
bool pmx_wire_guard_needed(uint16_t port_id, char *ifname);

/**
 * Write the nftables script that guards ifname into buf: replaces a table of the same name
 * (atomically, in one transaction), then adds the owned table with both chains; frames from
 * sockets of uid `uid` (portmuxd's own PMD sockets) may leave. Thread-safe (pure).
 * @return 0; -EINVAL when ifname has characters outside [A-Za-z0-9_.-] or is empty;
 *  -ENOSPC when buf is too small.
 */
int pmx_wire_guard_script(const char *ifname, uid_t uid, bool egress, char *buf, size_t len);

/**
 * Create an empty guard (opens the nftables context). Not thread-safe.
 * @return the guard, or NULL (errno ENOMEM).
 */
struct pmx_wire_guard *pmx_wire_guard_create(void);

/**
 * Guard interface ifname. Not thread-safe. On failure nothing is installed for ifname.
 * When the kernel has no netdev egress hook (before Linux 5.16), only ingress is guarded and a
 * warning is logged.
 * @return 0; -EINVAL (bad name); -ENOSPC (PMX_MAX_PORTS guarded already); -EPERM or another
 *  negative errno when nftables refused (err says why, naming the interface and the capability
 *  needed).
 */
int pmx_wire_guard_add(struct pmx_wire_guard *g, const char *ifname, char *err, size_t errlen);

/** Remove every table the guard installed and free it. Accepts NULL. Not thread-safe. */
void pmx_wire_guard_destroy(struct pmx_wire_guard *g);

/** Number of interfaces guarded, and the name of the i-th (for the banner and stats). */
unsigned pmx_wire_guard_count(const struct pmx_wire_guard *g);
const char *pmx_wire_guard_iface(const struct pmx_wire_guard *g, unsigned i);

#endif
