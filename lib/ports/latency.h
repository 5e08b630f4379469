/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * latency.h - the switch's side of the latency histograms (NIC RX stamp -> client dequeue):
 * the stamp's mbuf field and the shared blocks (pmx_shm.h, pmx_latency.h). Management lcore.
 */
#ifndef PMX_PORTS_LATENCY_H
#define PMX_PORTS_LATENCY_H

#include <stdint.h>

#include "pmx_latency.h"
#include "pmx_switch.h"

/** latency.c: register the RX stamp's mbuf field and reserve the histograms' memzone.
 * Management lcore, before the ports start. @return 0 or -rte_errno. */
int pmx_latency_init(struct pmx_switch *sw);

/** latency.c: free the memzone (accepts a switch without one). */
void pmx_latency_fini(struct pmx_switch *sw);

/** latency.c: ask the writers of client id's histograms to reset them (attach, clear_stats);
 * readers see them empty from now on. Management lcore. */
void pmx_latency_reset(struct pmx_switch *sw, uint16_t id);

/** latency.c: client id's histogram, its queues merged (pending resets read as empty). */
void pmx_latency_read(const struct pmx_switch *sw, uint16_t id, struct pmx_lat_hist *out);

#endif
