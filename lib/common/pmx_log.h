/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * pmx_log.h - portmux's rte_log types ("portmux.main", "portmux.ctl", "portmux.dp"),
 * settable with EAL's --log-level=portmux.ctl:debug. Nothing is logged per packet.
 */
#ifndef PMX_LOG_H
#define PMX_LOG_H

#include <stdbool.h>

#include <rte_log.h>

extern int pmx_logtype_main;
extern int pmx_logtype_ctl;
extern int pmx_logtype_dp;

/** Register the log types (once, after rte_eal_init). */
void pmx_log_init(void);

/**
 * Is stderr the journal's stream? True when $JOURNAL_STREAM ("DEV:INODE", set by systemd for
 * a unit whose StandardError= is the journal) names the file stderr is open on. Thread-safe.
 */
bool pmx_log_stderr_is_journal(void);

/**
 * When stderr is the journal's stream, send every rte_log line there once, opened by its
 * syslog priority as "<N>" (sd-daemon(3)), instead of EAL's default stream, which writes each
 * line to stderr and to syslog (two copies in the journal). Call it before rte_eal_init(), so
 * that EAL's own start-up lines are covered too; not thread-safe.
 * @return 1 when switched, 0 when stderr is not the journal's (nothing changed), -ENOMEM or
 *         -EINVAL when the stream could not be opened or installed.
 */
int pmx_log_open_journal(void);

#define PMX_LOG(level, type, fmt, ...)                                                             \
	rte_log(RTE_LOG_##level, pmx_logtype_##type, "portmux." #type ": " fmt "\n", ##__VA_ARGS__)

#endif
