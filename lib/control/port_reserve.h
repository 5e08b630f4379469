/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * port_reserve.h - keep the kernel and the clients off each other's ports (DESIGN.md §3).
 *
 * Both directions, for TCP and UDP on ports that have a kernel path (tap, virtio_user):
 *  - the kernel cannot take a port a client owns: portmuxd binds a kernel socket
 *    (SO_REUSEADDR off, IP_FREEBIND on) to the rule's (protocol, local address or any, local
 *    port) and holds it while the rule exists. Rules sharing a (protocol, port) share the
 *    sockets: one wildcard socket when any of them is for every address, else one socket
 *    per address;
 *  - a client cannot claim a port the kernel uses: that bind, made before the rule is added,
 *    fails (EADDRINUSE) when a kernel socket holds an overlapping (protocol, address, port);
 *    the kernel's sockets (kernel_ports.h) then name the culprit.
 * Management thread only (caller holds the control lock).
 */
#ifndef PMX_PORT_RESERVE_H
#define PMX_PORT_RESERVE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "flow_table.h"

struct pmx_port_resv;

/** Create the bookkeeping for rule ids 0..id_limit-1. NULL when out of memory. */
struct pmx_port_resv *pmx_port_resv_create(uint32_t id_limit);

/** Close every socket and free. Accepts NULL. */
void pmx_port_resv_destroy(struct pmx_port_resv *pr);

/**
 * Hold the local (proto, ip, port) of key k against the kernel, before its rule exists:
 * binding is also the check that the kernel does not use it. Nothing is bound (and *handle
 * is 0) for protocols other than TCP and UDP and for IP rules.
 * @return 0 (*handle set, to pass to pmx_port_resv_assign() or pmx_port_resv_put()),
 *         -EADDRINUSE when a kernel socket has it, -ENOMEM, or another -errno of bind().
 */
int pmx_port_resv_get(struct pmx_port_resv *pr, const struct pmx_flow_key *k, uint32_t *handle);

/**
 * Is the local end of k (TCP or UDP) bound by a socket of the daemon's network namespace?
 * Probed by binding it and closing at once: nothing is held. For ports whose kernel path is
 * not the namespace's kernel (pmx_port_resv_get() is the check where it is).
 * @return true when the bind failed with EADDRINUSE.
 */
bool pmx_port_resv_probe(const struct pmx_port_resv *pr, const struct pmx_flow_key *k);

/** Make what pmx_port_resv_get() gave rule rule_id's (released with the rule). */
void pmx_port_resv_assign(struct pmx_port_resv *pr, uint32_t rule_id, uint32_t handle);

/** Undo a pmx_port_resv_get() whose rule was not added. Handle 0 is nothing. */
void pmx_port_resv_put(struct pmx_port_resv *pr, uint32_t handle);

/** Let go of what rule_id holds (nothing when it holds nothing). */
void pmx_port_resv_release(struct pmx_port_resv *pr, uint32_t rule_id);

/**
 * Release what is held for rules that no longer exist or changed (deleted by the registry
 * at detach, by ageing, ...). @return the number released.
 */
unsigned pmx_port_resv_sweep(struct pmx_port_resv *pr, const struct pmx_flow_table *ft);

/** Is rule_id holding a reservation? */
bool pmx_port_resv_held(const struct pmx_port_resv *pr, uint32_t rule_id);

/**
 * The inodes of the sockets held (what /proc/net names a socket by), sorted, in a malloc'd
 * array of *n (free() it). NULL (and *n 0) when out of memory.
 */
ino_t *pmx_port_resv_inodes(const struct pmx_port_resv *pr, unsigned *n);

#endif
