/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * config_show.h - a loaded configuration back as JSON, every default filled in
 * (portmuxd --check-config): the text is itself a valid config that loads to the same values.
 *
 * Thread-safety: pure functions of their arguments; any thread.
 */
#ifndef PMX_CONFIG_SHOW_H
#define PMX_CONFIG_SHOW_H

#include <jansson.h>

#include "config.h"

/**
 * The effective configuration as a JSON object: "eal" without the program name, each port's
 * rx_queues and exception, kernel, control, clients, mbufs, mbuf_pool and rules.
 * @return a new reference the caller owns (json_decref), or NULL when out of memory.
 */
json_t *pmx_config_show(const struct pmx_config *cfg);

/**
 * portmuxd --check-config: load path, append the EAL arguments argv[0..argc-1], and print the
 * effective configuration on stdout (pmx_config_show(), indented), or the error on stderr.
 * Starts nothing: no EAL, no hugepages, no NIC.
 * @return the exit status: 0 (valid, printed), 1 (invalid, unreadable, or not printed).
 */
int pmx_config_check(const char *path, int argc, char **argv);

#endif
