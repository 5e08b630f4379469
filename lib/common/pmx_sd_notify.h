/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * pmx_sd_notify.h - systemd's service notification protocol (sd_notify(3)) without libsystemd:
 * one datagram "READY=1", "STOPPING=1", "STATUS=...", "WATCHDOG=1" to the AF_UNIX socket named
 * by $NOTIFY_SOCKET (a path, or an abstract name written with a leading '@'), and the watchdog
 * interval systemd asks for ($WATCHDOG_USEC, for the process named by $WATCHDOG_PID).
 *
 * Thread-safety: every function only reads the environment and opens its own socket; call
 * them from one thread (the management lcore) while nothing changes the environment.
 */
#ifndef PMX_SD_NOTIFY_H
#define PMX_SD_NOTIFY_H

#include <stdint.h>

/**
 * Send state (one or more "KEY=value" lines) to $NOTIFY_SOCKET as one datagram.
 * @return 1 when sent, 0 when $NOTIFY_SOCKET is unset or empty (not run by systemd),
 *         -EINVAL (state NULL or empty, or the socket name too long or not a path/@name),
 *         or the -errno of socket()/sendto() (-ECONNREFUSED, -ENOENT, ...).
 */
int pmx_sd_notify(const char *state);

/**
 * printf-style pmx_sd_notify() (at most 1 KiB after formatting).
 * @return as pmx_sd_notify(), or -EMSGSIZE when the text does not fit.
 */
int pmx_sd_notifyf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/**
 * The watchdog interval the service manager expects keep-alives within.
 * @param usec set to $WATCHDOG_USEC when the watchdog is on for this process.
 * @return 0 (*usec set), -ENODATA when no watchdog is asked for ($WATCHDOG_USEC unset, or
 *         $WATCHDOG_PID set to another process), -EINVAL when either variable is not a
 *         positive decimal number.
 */
int pmx_sd_watchdog_usec(uint64_t *usec);

#endif
