/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * port_setup.h - start-up and shut-down of NIC and exception ports (management lcore).
 */
#ifndef PMX_PORT_SETUP_H
#define PMX_PORT_SETUP_H

#include <stddef.h>

#include "pmx_switch.h"

/**
 * Probe, configure (sw->n_workers RX/TX queues, symmetric RSS when several) and start every
 * NIC port of cfg and its exception port. Needs sw->pool and sw->n_workers.
 * Not thread-safe; call before the RX lcores start.
 * @return 0, or a negative errno with err naming the config key at fault.
 */
int pmx_ports_init(struct pmx_switch *sw, const struct pmx_config *cfg, char *err, size_t errlen);

/** Stop and close every port started by pmx_ports_init(). RX lcores must be stopped. */
void pmx_ports_close(struct pmx_switch *sw);

#endif
