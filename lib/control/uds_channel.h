/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * uds_channel.h - the "uds" client channel (DESIGN.md §2): a client that is neither a DPDK
 * process nor a memif user exchanges Ethernet frames with the switch over a UNIX socketpair,
 * one frame per datagram, in both directions. portmuxd keeps one end; the client gets the
 * other (hello "channel": "uds" passes it with SCM_RIGHTS on the control connection; usnetd's
 * RequestUDS with its "$" answer). Frames are copied: the client shares no memory with the
 * switch.
 *
 * For the dataplane a uds client is a client like the others (its slot's rx_ring and
 * tx_ring): the RX lcores deliver to its rx_ring and its TX lcore checks what comes out of
 * its tx_ring (anti-spoofing, learning, quotas), exactly as for a ring client. The socket I/O
 * is done by one I/O thread of the daemon (uds_pump.c), never by an RX lcore: it moves frames
 * rx_ring -> sendmmsg() and recvmmsg() -> tx_ring in batches, nonblocking; a client that does
 * not read fast enough loses frames (counted as ring_full), the switch never waits for it.
 *
 * A client that closes its end (SOCK_SEQPACKET: seen at once; SOCK_DGRAM: seen at the next
 * frame sent to it, the kernel gives no notice otherwise) is detached by the management loop
 * like any client: pmx_ctl_session_detach() on its session, which then reads client_id -1.
 *
 * Thread-safety: management thread only, with the control lock held (pmx_ctl_lock(); it is
 * recursive, so callers inside a control handler already hold it).
 */
#ifndef PMX_UDS_CHANNEL_H
#define PMX_UDS_CHANNEL_H

#include <jansson.h>

#include "client_registry.h"
#include "ctl.h"
#include "ctl_own_mac.h"

/**
 * Attach session s as a client named `name` on NIC port `port` over the uds channel, and
 * return the client's end of its socketpair in *client_fd.
 *
 * s:          a session not attached yet (s->client_id < 0). It need not be a socket
 *             (fd -1 is fine, e.g. a usnetd datagram client); s->pid and s->uid are logged
 *             and s->pid is the process whose end the mbuf bookkeeping waits for. s must stay
 *             at the same address until it is detached (ctl->client_session[id] points to it).
 * sock_type:  SOCK_DGRAM (what usnetd's RequestUDS hands out) or SOCK_SEQPACKET (what hello
 *             hands out: a client that closes its end is detached at once).
 * name:       the client's name (config rules of that name become its own); NULL: "client".
 * om:         a MAC of its own, as checked by pmx_ctl_own_mac_args() (om->set), or NULL.
 * info:       out: client_id, generation (the rest as pmx_registry_attach() fills it).
 * config_rules: out: the ids of the config rules it adopted (new reference), or NULL when
 *             the caller does not want them.
 * client_fd:  out: the client's end (SOCK_CLOEXEC, blocking). The caller passes it
 *             (SCM_RIGHTS) and then closes its own copy; closing it without passing it makes
 *             the client's channel dead (detached at the first frame for SOCK_DGRAM).
 *
 * @return 0 (s->client_id set, the channel live), or, with nothing attached and no fd open:
 *         -EALREADY (s is attached already), -EINVAL (port or sock_type), -ENOSPC (all slots
 *         taken, clients.max), -ENOMEM (rings, memory), -EMFILE / -ENFILE (no descriptor
 *         left), -EAGAIN (the I/O thread could not be started).
 */
int pmx_uds_channel_open(struct pmx_ctl *ctl, struct pmx_ctl_session *s, unsigned port,
			 const char *name, int sock_type, const struct pmx_ctl_own_mac_req *om,
			 struct pmx_attach_info *info, json_t **config_rules, int *client_fd);

/**
 * Detach the client of session s: its rules, its channel (portmuxd's end is closed, the
 * client then reads end of file (SOCK_SEQPACKET) or gets ECONNREFUSED when it sends
 * (SOCK_DGRAM)), its slot. The same as pmx_ctl_session_detach(ctl, s), which also closes the
 * channel of a uds client; accepts a session not attached (nothing happens).
 */
void pmx_uds_channel_close(struct pmx_ctl *ctl, struct pmx_ctl_session *s);

/**
 * Stop the I/O thread and close every channel's socket (shutdown, after every client was
 * detached; pmx_ctl_close() calls it). Accepts a switch that never had a uds client.
 */
void pmx_uds_channel_fini(struct pmx_ctl *ctl);

#endif
