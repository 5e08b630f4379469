/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * client_private.h - what the files of libportmux-client share and do not export (not
 * installed).
 */
#ifndef PMX_CLIENT_PRIVATE_H
#define PMX_CLIENT_PRIVATE_H

#include <stdint.h>

#include <rte_common.h>

#include "portmux_client.h"

struct pmx_ctl_client;

/** A client as the library allocates it: what the application sees, and the control
 *  connection (lib/ctl_client), which it does not. */
struct pmx_client_session {
	struct pmx_client pub;
	struct pmx_ctl_client *ctl; /**< set at open, closed by pmx_client_close() */
};

/** The control connection of c. Thread-safe (set once before c is handed out). */
static inline struct pmx_ctl_client *pmx_client_ctl(const struct pmx_client *c)
{
	return container_of(c, const struct pmx_client_session, pub)->ctl;
}

/** CLOCK_MONOTONIC in milliseconds (needs no EAL: used before it starts). Thread-safe. */
__attribute__((visibility("hidden"))) uint64_t pmx_client_now_ms(void);

#endif
