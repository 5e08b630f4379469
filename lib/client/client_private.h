/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * client_private.h - what the files of libportmux-client share and do not export (not
 * installed).
 */
#ifndef PMX_CLIENT_PRIVATE_H
#define PMX_CLIENT_PRIVATE_H

#include <stdint.h>

/** CLOCK_MONOTONIC in milliseconds (needs no EAL: used before it starts). Thread-safe. */
__attribute__((visibility("hidden"))) uint64_t pmx_client_now_ms(void);

#endif
