/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * uds_pump.h - internal to lib/control: the I/O thread of the uds channels (uds_pump.c), which
 * copies frames between each uds client's socket and its slot's rings.
 *
 * Why a thread of its own, and not the RX lcores or the management loop: an RX lcore serves
 * every client, so a syscall on it (one sendmmsg per burst) would slow the ring clients too;
 * the management loop sleeps up to 20 ms in epoll_wait and nothing wakes it when a frame is
 * queued for a client. The pump is a DPDK control thread (rte_ctrl_thread_create(): it runs
 * on the CPUs of the management lcore, never on an RX lcore's). Each pass starts with one
 * epoll_pwait2() over every client's socket: while the last pass did work it only looks
 * (timeout 0), else it sleeps for at most PMX_UDS_IDLE_NS (a frame from a client wakes it at
 * once; one for a client waits that long at most). Then it empties each client's rx_ring into
 * its socket and reads the sockets epoll named. Socket I/O is batched (recvmmsg, sendmmsg,
 * PMX_BURST frames) and nonblocking; a socket with nothing to read costs no syscall.
 *
 * Who writes what: the management lcore publishes and unpublishes channels (chan[id]) and
 * reads the counters; the pump alone writes the counters, its channels' rings' consumer side
 * (rx_ring) and producer side (tx_ring), and the latency histogram of a uds client. After
 * unpublishing, the management lcore waits for the pump to finish its pass (pmx_uds_pump_remove()).
 */
#ifndef PMX_UDS_PUMP_H
#define PMX_UDS_PUMP_H

#include <pthread.h>
#include <stdint.h>

#include "ctl.h"
#include "pmx_switch.h"

#define PMX_UDS_IDLE_NS 50000     /**< longest sleep of the pump while a channel is open */
#define PMX_UDS_SNDBUF (4u << 20) /**< bytes queued towards a client before it drops */

/** What the pump did for one client (added to, zeroed when the channel is added). */
struct pmx_uds_counts {
	uint64_t sent;        /**< frames written to its socket */
	uint64_t socket_full; /**< frames dropped: its socket did not take them (ring_full) */
	uint64_t received;    /**< frames read from its socket and queued to its TX lcore */
	uint64_t oversize;    /**< datagrams longer than PMX_MAX_CLIENT_FRAME (dropped) */
	uint64_t malformed;   /**< empty datagrams, frames of too many segments (dropped) */
	uint64_t nomem;       /**< times no mbuf was left for a read (the datagrams wait) */
};

/** One uds client's channel, as the pump sees it. */
struct pmx_uds_chan {
	int fd;                    /**< portmuxd's end of the socketpair (nonblocking) */
	int sock_type;             /**< SOCK_DGRAM or SOCK_SEQPACKET */
	uint16_t id;               /**< the client's slot */
	struct rte_ring *rx;       /**< the slot's rx_ring[0]: switch -> client (pump consumes) */
	struct rte_ring *tx;       /**< the slot's tx_ring[0]: client -> switch (pump produces) */
	struct pmx_lat_block *lat; /**< the slot's histogram: the pump is its writer */
	uint32_t gone;             /**< set (release) by the pump: the client closed its end */
	unsigned n_spare;          /**< pump: mbufs allocated for the next reads */
	struct rte_mbuf *spare[PMX_BURST];
};

struct pmx_uds_pump {
	struct pmx_switch *sw;
	pthread_t thread;
	int epfd;    /**< the pump's: every channel's fd, and kick_fd */
	int kick_fd; /**< eventfd: the management lcore wakes the pump */
	int gone_fd; /**< eventfd: the pump tells the management lcore a client left */
	struct pmx_ctl_watch watch; /**< gone_fd in the control loop (uds_channel.c) */
	uint32_t quit;
	uint64_t passes; /**< bumped (release) at the end of every pass */
	struct pmx_uds_chan *chan[PMX_MAX_CLIENTS]; /**< published with release */
	struct pmx_uds_counts count[PMX_MAX_CLIENTS];
	uint64_t drops[PMX_DROP_MAX];      /**< every client's, since the pump started */
	uint8_t readable[PMX_MAX_CLIENTS]; /**< pump only: epoll said the socket has data */
};

/**
 * Create the pump and start its thread. Management lcore only.
 * @return the pump, or NULL with errno set (ENOMEM, EMFILE, EAGAIN: no thread).
 */
struct pmx_uds_pump *pmx_uds_pump_create(struct pmx_switch *sw);

/** Stop the thread, close every channel still there, free the pump. Accepts NULL. */
void pmx_uds_pump_destroy(struct pmx_uds_pump *p);

/**
 * Publish client id's channel: fd (portmuxd's end, made nonblocking here) and the slot's
 * rings, which must be set (the slot attached). Management lcore only. The pump owns fd from
 * now on. @return 0, or -ENOMEM, -EBUSY (id has a channel already), -errno of epoll_ctl (fd
 * not taken: the caller closes it).
 */
int pmx_uds_pump_add(struct pmx_uds_pump *p, uint16_t id, int fd, int sock_type);

/**
 * Unpublish client id's channel, wait until the pump's pass that may still hold it is over,
 * close its fd and free it. Management lcore only; accepts NULL and ids without a channel.
 * The slot's rings are left as they are (the registry drains them).
 */
void pmx_uds_pump_remove(struct pmx_uds_pump *p, uint16_t id);

/** Add client id's pump counters to *c (ring_full gets socket_full). Accepts NULL. */
void pmx_uds_pump_client_counters(const struct pmx_uds_pump *p, uint16_t id,
				  struct pmx_client_counters *c);

/** Add the pump's drops (every client's, since it started) to drops[] by reason. Accepts
 *  NULL. */
void pmx_uds_pump_drops(const struct pmx_uds_pump *p, uint64_t drops[PMX_DROP_MAX]);

#endif
