/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * usnetd_sock.h - internal to lib/control: usnetd's own control socket (usnetd_sock.c), a
 * UNIX datagram socket beside portmux's, speaking usnetd's protocol byte for byte so that
 * usnetd's clients (usnet_sockets, ...) run unmodified. Served by the control loop.
 *
 * Thread-safety: management thread only, control lock held (pmx_ctl_poll() holds it while
 * the socket and the clients' pidfds are served).
 */
#ifndef PMX_USNETD_SOCK_H
#define PMX_USNETD_SOCK_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ctl.h"

/** What the socket saw (stats "usnetd"). */
struct pmx_usnetd_stats {
	uint64_t datagrams;   /**< received */
	uint64_t answers;     /**< datagrams sent back (OK, ER, $, QueryUsedPortsAnswer) */
	uint64_t refused;     /**< well-formed requests answered ER (conflict, unknown interface) */
	uint64_t bad_json;    /**< not JSON */
	uint64_t bad_message; /**< JSON, but no ClientMessage: unknown variant, wrong shape/type */
	uint64_t oversize;    /**< longer than PMX_USNETD_MAX_MSG */
	uint64_t unbound;     /**< from a socket with no path (nowhere to answer) */
	uint64_t send_failed; /**< an answer the client's socket did not take */
	uint64_t fds_closed;  /**< descriptors a client sent us, closed unread */
	uint64_t attached;    /**< RequestUDS answered with a channel */
	uint64_t gone;        /**< clients whose task ended (their rules and channel went) */
	uint64_t deleted;     /**< clients that sent DeleteClient */
	uint64_t netmap;      /**< RequestNetmapPipe (answered ER: no netmap here) */
};

/**
 * Open usnetd's socket at cfg->usnetd_socket (mode usnetd_mode, group usnetd_group) and
 * serve it from ctl's epoll set. Nothing happens when cfg->usnetd is off.
 * @return 0, or -errno with err naming the config key ("usnetd.socket: ...").
 */
int pmx_usnetd_open(struct pmx_ctl *ctl, char *err, size_t errlen);

/**
 * End of a poll round: free the clients that are gone (DeleteClient, kicked, their task
 * ended), closing their pidfds; probe the tasks of clients without a pidfd once a second.
 */
void pmx_usnetd_sweep(struct pmx_ctl *ctl);

/** Stop taking messages: close the socket and remove its file; clients stay attached. */
void pmx_usnetd_stop_listening(struct pmx_ctl *ctl);

/** Detach every client and close everything (accepts a ctl without usnetd socket). */
void pmx_usnetd_close(struct pmx_ctl *ctl);

/** The counters and the clients, as stats show them. */
json_t *pmx_usnetd_stats_json(const struct pmx_ctl *ctl);

#endif
