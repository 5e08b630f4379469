/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * memif_server.h - portmux as the memif server of its isolated clients (management lcore).
 *
 * One SOCK_SEQPACKET socket (memif.sock beside the control socket, so it shares its
 * permissions), polled from the management loop. A client connects, gets HELLO, and must
 * send INIT (memif 2.0, ethernet, the interface id = its slot id, the slot's secret), one or
 * more ADD_REGION (a sealed memfd), exactly one ADD_RING per direction, and CONNECT; each is
 * checked and ACKed, anything else is refused with DISCONNECT. Once connected its channel is
 * published to the slot's TX lcore (memif_ring.c); on disconnect it is unpublished, the RX
 * lcores' quiescent state awaited, and only then the regions unmapped.
 */
#ifndef PMX_MEMIF_SERVER_H
#define PMX_MEMIF_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pmx_switch.h"

struct pmx_memif_server;

/**
 * Create the server: bind and listen on path (a stale socket there, left by a daemon that
 * was killed, is removed; one a live server accepts on is not: EADDRINUSE).
 * Management lcore only. @return the server, or NULL with errno set (ENOMEM, EADDRINUSE,
 * ENOTSOCK: something else is at path, or the socket's error).
 */
struct pmx_memif_server *pmx_memif_server_create(struct pmx_switch *sw, const char *path);

/**
 * Close every connection (as pmx_memif_server_forget()), the socket and its file.
 * Management lcore only; accepts NULL.
 */
void pmx_memif_server_destroy(struct pmx_memif_server *srv);

/**
 * Let slot id connect: with its random secret (24 characters and a NUL into secret), or with
 * the secret given (not NULL: the one a previous daemon gave this client, which comes back
 * after a restart; it must pass pmx_memif_secret_valid()). Management lcore only.
 * @return 0, -EINVAL (id, len, a given secret not valid), -EIO (no randomness).
 */
int pmx_memif_server_allow(struct pmx_memif_server *srv, uint16_t id, const char *given,
			   char *secret, size_t len);

/** Whether secret has the form of the secrets the server makes: 24 lowercase hex digits. */
bool pmx_memif_secret_valid(const char *secret);

/**
 * Disconnect slot id's client, if connected (waits for the RX lcores' quiescent state before
 * unmapping), and forget its secret. Management lcore only; accepts NULL and unknown ids.
 */
void pmx_memif_server_forget(struct pmx_memif_server *srv, uint16_t id);

/**
 * Accept connections and handle pending messages, without blocking; disconnect clients whose
 * ring broke the protocol and handshakes older than 5 s. Management lcore only; accepts NULL.
 * @return the number of messages and connections handled (0: nothing to do).
 */
unsigned pmx_memif_server_poll(struct pmx_memif_server *srv);

#endif
