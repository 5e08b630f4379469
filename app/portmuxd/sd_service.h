/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * sd_service.h - portmuxd as a systemd service (Type=notify): READY=1 with the "ready" line,
 * STATUS= lines, STOPPING=1 at a clean stop, and the watchdog (WatchdogSec=) fed only while
 * every RX lcore makes progress. Without $NOTIFY_SOCKET every call does nothing.
 *
 * Thread-safety: the management lcore only (main.c's loop).
 */
#ifndef PMX_SD_SERVICE_H
#define PMX_SD_SERVICE_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_lcore.h>

#include "pmx_switch.h"

struct pmx_sd_service {
	uint64_t period_tsc;           /**< between keep-alives (half of WATCHDOG_USEC); 0 = off */
	uint64_t next_tsc;             /**< when the next keep-alive is due */
	uint64_t loops[RTE_MAX_LCORE]; /**< each RX lcore's loops at the last keep-alive */
	int stalled;                   /**< RX lcore index reported stalled, or -1 */
};

/**
 * Read the watchdog interval from the environment and tell systemd that start-up began.
 * @return 0; -EINVAL when WATCHDOG_USEC or WATCHDOG_PID is malformed (the watchdog is off).
 */
int pmx_sd_service_init(struct pmx_sd_service *s);

/** READY=1 and a STATUS= line, once the RX lcores run; the watchdog's progress count starts. */
void pmx_sd_service_ready(struct pmx_sd_service *s, const struct pmx_switch *sw);

/**
 * Once the period is over: WATCHDOG=1 when every RX lcore's loops advanced since the last
 * keep-alive, else no keep-alive (systemd then stops the service after WatchdogSec) and a
 * warning naming the lcore. Cheap when not due: one TSC read.
 */
void pmx_sd_service_poll(struct pmx_sd_service *s, const struct pmx_switch *sw);

/** STOPPING=1 and a STATUS= line, at the start of a clean stop. */
void pmx_sd_service_stopping(void);

#endif
