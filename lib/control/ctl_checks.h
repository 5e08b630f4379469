/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * ctl_checks.h - internal to lib/control: questions commands ask about a NIC port (its kernel
 * path, its addresses, the clients with a MAC of their own on it), ctl_checks.c. Management
 * thread only, control lock held.
 */
#ifndef PMX_CTL_CHECKS_H
#define PMX_CTL_CHECKS_H

#include <stdbool.h>
#include <stdint.h>

#include "ctl.h"

/** Does NIC port p hand unmatched traffic to a kernel (tap, virtio_user)? */
bool pmx_ctl_port_has_kernel(const struct pmx_ctl *ctl, unsigned p);
/** Is ip one of the addresses of NIC port p? */
bool pmx_ctl_is_own_address(const struct pmx_ctl *ctl, unsigned p, const uint8_t ip[16]);
/** The client of port p with a MAC of its own that declared ip, or -1. */
int pmx_ctl_own_mac_holder(const struct pmx_ctl *ctl, unsigned p, const uint8_t ip[16]);

#endif
