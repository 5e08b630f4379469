/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * kernel_addrs.h - the addresses of the ports' kernel interfaces, kept from the kernel's
 * netlink events (RTMGRP_LINK, RTMGRP_IPV4_IFADDR, RTMGRP_IPV6_IFADDR): one dump of links
 * and addresses when the socket opens and after an overrun (ENOBUFS), then only the changes.
 * Every reader (port_addresses.c, the dataplane's copy) is served from this one set.
 *
 * Interface i of the set is the one named names[i] at creation (a port's exc_iface; "" =
 * none); an interface deleted and created again under its name is followed.
 * Addresses of an interface are kept in the order a dump gives them: IPv4, then IPv6 other
 * than link-local, then IPv6 link-local; within each, in the order they came.
 *
 * Thread-safety: not thread-safe; the management thread only (control lock held).
 */
#ifndef PMX_KERNEL_ADDRS_H
#define PMX_KERNEL_ADDRS_H

#include <stddef.h>
#include <stdint.h>

#define PMX_KERNEL_ADDRS_MAX 64 /**< addresses kept per interface; more are not */

struct pmx_kernel_addrs;

/**
 * The set for n interfaces (names copied), empty and without a socket.
 * @return the set, or NULL when out of memory.
 */
struct pmx_kernel_addrs *pmx_kernel_addrs_create(const char *const *names, unsigned n);

/** Close the socket (if open) and free. Accepts NULL. */
void pmx_kernel_addrs_destroy(struct pmx_kernel_addrs *ka);

/**
 * Open the netlink socket and fill the set from a dump of links and addresses (blocking, at
 * most about a second). @return 0, or -errno of socket()/bind()/send()/recv() (the set then
 * stays empty and has no socket).
 */
int pmx_kernel_addrs_open(struct pmx_kernel_addrs *ka);

/** The socket to wait on (readable = events to read), -1 when not open. */
int pmx_kernel_addrs_fd(const struct pmx_kernel_addrs *ka);

/**
 * Read every event waiting on the socket (without blocking) into the set; after an overrun
 * (the kernel dropped events: ENOBUFS) the set is rebuilt from a new dump.
 * @return 0, or -errno when the socket failed (the set keeps what it had).
 */
int pmx_kernel_addrs_poll(struct pmx_kernel_addrs *ka);

/**
 * Apply a buffer of netlink messages (RTM_NEWLINK, RTM_DELLINK, RTM_NEWADDR, RTM_DELADDR;
 * others skipped) to the set, as pmx_kernel_addrs_poll() does with what it reads.
 * @return 0, or -EINVAL at a malformed message (those before it are applied).
 */
int pmx_kernel_addrs_apply(struct pmx_kernel_addrs *ka, const void *buf, size_t len);

/**
 * Copy the addresses of interface i (16-byte key form: IPv4-mapped or IPv6, network order)
 * into out, at most max. @return how many (0 for an interface without addresses, an unknown
 * one or i out of range).
 */
unsigned pmx_kernel_addrs_get(const struct pmx_kernel_addrs *ka, unsigned i, uint8_t (*out)[16],
			      unsigned max);

/** A number that changes whenever the set does (0 for a set never filled). */
uint64_t pmx_kernel_addrs_generation(const struct pmx_kernel_addrs *ka);

#endif
