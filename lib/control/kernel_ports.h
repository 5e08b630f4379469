/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * kernel_ports.h - the kernel's own TCP and UDP sockets, read from /proc/net/{tcp,tcp6,udp,
 * udp6} of the daemon's network namespace, the sockets port_reserve.h holds left out. O(kernel
 * sockets) per call: to explain a refusal and for used_ports, not on every request.
 * Management thread only (caller holds the control lock).
 */
#ifndef PMX_KERNEL_PORTS_H
#define PMX_KERNEL_PORTS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "flow_table.h"
#include "port_reserve.h"

/**
 * Is (proto, ip, port) of key k (LISTEN, EXACT or PEER kind; ip zero = any; a PROTO key:
 * any port) used by a kernel socket that is not one of pr's? @return true and a description in what (e.g. "tcp
 * 0.0.0.0 port 22 (listen)") when it is; false for protocols other than TCP and UDP.
 */
bool pmx_kernel_ports_uses(const struct pmx_port_resv *pr, const struct pmx_flow_key *k, char *what,
			   size_t len);

/**
 * The kernel's sockets (pr's left out) as used_ports entries appended to listening and
 * connected: {"proto", "ip", "port", "owner": "kernel"} and {"proto", "local_ip",
 * "local_port", "remote_ip", "remote_port", "state", "owner": "kernel"}.
 */
void pmx_kernel_ports_list(const struct pmx_port_resv *pr, json_t *listening, json_t *connected);

#endif
