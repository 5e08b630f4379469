/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * pmx_log.h - portmux's rte_log types ("portmux.main", "portmux.ctl", "portmux.dp"),
 * settable with EAL's --log-level=portmux.ctl:debug. Nothing is logged per packet.
 */
#ifndef PMX_LOG_H
#define PMX_LOG_H

#include <rte_log.h>

extern int pmx_logtype_main;
extern int pmx_logtype_ctl;
extern int pmx_logtype_dp;

/** Register the log types (once, after rte_eal_init). */
void pmx_log_init(void);

#define PMX_LOG(level, type, fmt, ...)                                                         \
	rte_log(RTE_LOG_##level, pmx_logtype_##type, "portmux." #type ": " fmt "\n", ##__VA_ARGS__)

#endif
