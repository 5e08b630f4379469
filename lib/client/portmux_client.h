/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * portmux_client.h - libportmux-client: attach a userspace network stack to portmuxd.
 *
 * pmx_client_open() asks the control socket for a client slot (no DPDK needed yet), then
 * starts EAL as a secondary process of the switch with the file-prefix and lcore id the
 * switch handed out, and finds the client's rings and the shared mempool. The stack then
 * registers what it owns (listen/connect), and moves frames with the burst functions.
 * A stack written on this library never speaks JSON itself.
 *
 * Thread-safety: one pmx_client is used by one thread (the EAL main lcore of the client
 * process); the burst functions are lock-free and must not be called concurrently (except
 * on different queue pairs, see pmx_client_rx_burst_q()).
 *
 * When the attach ends. The switch may end an attach: an operator's kick, a clean stop of
 * portmuxd (SIGTERM, upgrade), or portmuxd dying (crash, SIGKILL). pmx_client_check() says
 * which, cheaply enough to call in every pass of the poll loop (the burst functions call it
 * too and return 0 once the attach ended). A ring client cannot start EAL a second time in
 * one process, and must unmap the old daemon's hugepages so that they can be reused: to
 * come back after a restart it calls pmx_client_restart(), which cleans up, waits for the
 * control socket to come back and executes the program again (same argv); the fresh run
 * registers its rules again. app/portmux-echo and app/portmux-httpd do so.
 */
#ifndef PORTMUX_CLIENT_H
#define PORTMUX_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_pause.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "pmx_shm.h"

#define PMX_CLIENT_DEFAULT_SOCKET "/run/portmux/portmux.sock"
/** pmx_client_check() looks at the control connection at most this often. */
#define PMX_CLIENT_PEEK_MS 10

/** How pmx_client_idle() waits when the poll loop finds nothing to do. */
enum pmx_client_poll {
	PMX_CLIENT_POLL_SLEEP = 0, /**< the default: after PMX_CLIENT_IDLE_PASSES empty passes
				     *  per queue pair, sleep PMX_CLIENT_IDLE_SLEEP_US in each
				     *  empty pass (about 0.1 ms with the kernel's timer slack):
				     *  little CPU when idle, a frame may wait that long */
	PMX_CLIENT_POLL_BUSY,      /**< never sleep (rte_pause() only): the first frame is
				     *  dequeued within a pass, the core is always 100 % busy */
};

/** PMX_CLIENT_POLL_SLEEP: empty passes per queue pair before the loop starts to sleep. */
#define PMX_CLIENT_IDLE_PASSES 1024
/** PMX_CLIENT_POLL_SLEEP: the sleep of each empty pass after those (usleep()). */
#define PMX_CLIENT_IDLE_SLEEP_US 50

/** What pmx_client_open() needs. Every field may be zero/NULL. */
struct pmx_client_params {
	const char *socket_path; /**< default $PORTMUX_SOCKET, else PMX_CLIENT_DEFAULT_SOCKET */
	const char *name;        /**< shown to operators */
	const char *port;        /**< NIC port name; NULL = the first port */
	unsigned queues;         /**< queue pairs, 1..PMX_MAX_QUEUES (0 = 1); each flow stays on
				      one queue pair, chosen by a symmetric flow hash */
	const char *mac;         /**< a MAC of its own ("02:00:00:00:00:10"; operators only,
				      clients.own_macs): frames to it are this client's, and it
				      sends from it with one of `addresses`. NULL = the port's */
	const char *const *addresses; /**< with mac: the 1..4 IPs it uses (IPv4 or IPv6 text) */
	unsigned n_addresses;
	int eal_argc;            /**< extra EAL arguments (e.g. --log-level) */
	char **eal_argv;
	enum pmx_client_poll poll; /**< how pmx_client_idle() waits (default: sleep) */
};

/** An attached client. Fields are read-only for the application. */
struct pmx_client {
	int fd;                              /**< control connection */
	uint16_t id;                         /**< client id (slot) */
	uint32_t generation;                 /**< this attach's generation */
	unsigned lcore_id;                   /**< the EAL lcore this process runs on */
	uint16_t port;                       /**< NIC port index */
	unsigned n_queues;                   /**< queue pairs */
	struct rte_ring *rx[PMX_MAX_QUEUES]; /**< switch -> client */
	struct rte_ring *tx[PMX_MAX_QUEUES]; /**< client -> switch */
	struct rte_mempool *pool;            /**< allocate frames to send from here */
	const struct pmx_shm *shm;
	struct rte_ether_addr mac; /**< the source of every frame sent: the port's MAC, or the
				    *  client's own (params.mac) */
	unsigned n_addresses;
	uint8_t addresses[16][16]; /**< the port's IPs, or with a MAC of its own the client's
				    *  (IPv4-mapped or IPv6) */
	uint32_t next_request_id;
	struct pmx_lat_block *lat[PMX_MAX_QUEUES]; /**< each queue's latency histogram (shared
						     memory; written by rx_burst_q only) */
	int rx_tsc_off;        /**< mbuf field of the NIC RX stamp (PMX_RX_TSC_DYNFIELD) */
	bool shares_eal;       /**< opened by pmx_client_open_more(): EAL is another's */
	int ended;             /**< 0, or why the attach ended (pmx_client_check()) */
	uint64_t next_peek;    /**< TSC: when pmx_client_check() next looks at fd */
	uint64_t peek_cycles;  /**< PMX_CLIENT_PEEK_MS in TSC cycles */
	char socket_path[108]; /**< the control socket, for pmx_client_restart() */
	enum pmx_client_poll poll; /**< params.poll: how pmx_client_idle() waits */
	unsigned idle_passes;  /**< empty passes in a row (pmx_client_idle()) */
};

/**
 * Attach: hello over the control socket, EAL init as a secondary, rings and pool lookup.
 * Calls rte_eal_init(): the process must not have initialised EAL itself. When the
 * environment has PMX_CLIENT_WAIT_ENV (set by pmx_client_restart()), it is removed and the
 * socket waited for first, that many ms at most (a hello that gets no reply, as when a dying
 * daemon's listener took the connection, is tried again within that time).
 * @return 0 (*out set), or a negative errno: -ENOENT/-ECONNREFUSED (no switch),
 *         -ETIMEDOUT (no switch within PMX_CLIENT_WAIT_ENV ms),
 *         -EPROTO (bad reply or shared-memory magic/version mismatch), -ENOSPC (no slot),
 *         -ENODEV (unknown port), -EPERM, -EINVAL, -EDQUOT, -EADDRINUSE (params.mac refused:
 *         not an operator, bad MAC or addresses, clients.own_macs, MAC or address taken), or
 *         what EAL init failed with.
 */
int pmx_client_open(const struct pmx_client_params *params, struct pmx_client **out);

/**
 * Attach one more client session in a process that has one (first, from pmx_client_open()):
 * its own control connection and hello (params: socket_path, name, port, queues; the EAL
 * arguments are not used), its rings looked up in the EAL that first started. Frames it
 * receives are freed on first's lcore, the process's one: the session runs on the thread
 * that runs first. Not thread-safe: call from that thread.
 * @return 0 (*out set; close it with pmx_client_close() before first), or a negative errno:
 *         -ENOENT/-ECONNREFUSED (no switch), -EPROTO (bad reply, or rings or pool not in
 *         this process's EAL: another switch), -ENOSPC (no slot), -ENODEV (unknown port),
 *         -EDQUOT (clients.queue_quota), -EINVAL (first NULL), -ENOMEM.
 */
int pmx_client_open_more(const struct pmx_client *first, const struct pmx_client_params *params,
			 struct pmx_client **out);

/**
 * Own (proto, ip, port): ip NULL or "" = every address of the port. Port in host order.
 * @return 0 (*rule_id set), -EADDRINUSE (owned by another client or the kernel), -EEXIST,
 *         -EACCES (privileged port), -EDQUOT (quota), -EINVAL, -EIO (connection lost).
 */
int pmx_client_listen(struct pmx_client *c, const char *proto, const char *ip, uint16_t port,
		      uint32_t *rule_id);

/** Own one 5-tuple (ports in host order). Same returns as pmx_client_listen(). */
int pmx_client_connect(struct pmx_client *c, const char *proto, const char *local_ip,
		       uint16_t local_port, const char *remote_ip, uint16_t remote_port,
		       uint32_t *rule_id);

/** Drop one of this client's rules. @return 0, -ENOENT, -EPERM, -EIO. */
int pmx_client_release(struct pmx_client *c, uint32_t rule_id);

/**
 * Send one raw request line (a JSON object text) and return the reply line, malloc'd.
 * For tools; stacks use the typed calls above. An integer "id" in the request is kept, else
 * one is assigned. @return 0, -EINVAL (request not a JSON object), -EPROTO (the reply is not
 * a JSON object answering it), -ENOMEM or -EIO (connection lost).
 */
int pmx_client_request(struct pmx_client *c, const char *request, char **reply);

/**
 * Detach cleanly: return cached mbufs to the pool, send bye (unless the attach ended
 * already), close the socket, and rte_eal_cleanup() (not for a session of
 * pmx_client_open_more(): close those first). The client must hold no mbufs of the pool
 * any more. Accepts NULL.
 */
void pmx_client_close(struct pmx_client *c);

/**
 * The slow half of pmx_client_check(): reads why the attach ended and, when peek is true,
 * looks at the control connection (one recv(MSG_PEEK | MSG_DONTWAIT)). Not for direct use.
 * @return as pmx_client_check().
 */
int pmx_client_check_slow(struct pmx_client *c, bool peek);

/**
 * Whether the switch still serves this attach, and if not, why. Lock-free and cheap: two
 * loads from shared memory and a TSC read; at most every PMX_CLIENT_PEEK_MS it also looks
 * at the control connection with one non-blocking syscall, so a client that calls it (or
 * a burst function) in its loop learns of the daemon's death within about 10 ms. Once it
 * returned an error it returns the same one forever, without any syscall. Safe to call
 * from several threads at once (they may each do the syscall once).
 * @return 0 still attached;
 *         -ESHUTDOWN the daemon is stopping cleanly (SIGTERM, upgrade): it frees its rings
 *                    and pool once this process closed its control connection (exit, exec,
 *                    pmx_client_close()), or after 1 s: stop using them at once;
 *         -ECONNRESET the control connection closed without a word: the daemon died
 *                     (crash, SIGKILL), or its connection to us broke;
 *         -ECONNABORTED the daemon runs but detached this client (an operator's kick).
 *         After the first two a client may come back with pmx_client_restart().
 */
static inline int pmx_client_check(struct pmx_client *c)
{
	int ended = __atomic_load_n(&c->ended, __ATOMIC_RELAXED);

	if (unlikely(ended != 0))
		return ended;
	if (unlikely(__atomic_load_n(&c->shm->generation[c->id], __ATOMIC_ACQUIRE) !=
			     c->generation ||
		     __atomic_load_n(&c->shm->daemon_pid, __ATOMIC_ACQUIRE) == 0))
		return pmx_client_check_slow(c, false);
	if (unlikely(rte_rdtsc() >= __atomic_load_n(&c->next_peek, __ATOMIC_RELAXED)))
		return pmx_client_check_slow(c, true);
	return 0;
}

/** pmx_client_check() == 0: the switch still serves this attach. Same thread-safety. */
static inline bool pmx_client_alive(struct pmx_client *c)
{
	return pmx_client_check(c) == 0;
}

/**
 * Come back after the daemon stopped (-ESHUTDOWN) or died (-ECONNRESET): close c (as
 * pmx_client_close()), then execv("/proc/self/exe", argv) at once, with PMX_CLIENT_WAIT_ENV set to
 * wait_ms: the program starts again from main() with the same arguments and environment,
 * and its pmx_client_open() waits up to wait_ms for the control socket to come back
 * (pmx_client_wait_socket()) before attaching as it did the first time. The exec is what
 * unmaps the old daemon's hugepages and closes the files of its prefix and the kernel
 * path's TAP queues that EAL holds (fds other than 0, 1, 2 do not survive it): a new daemon
 * cannot start while a client of the old one holds them. Call it from the thread that
 * opened c, with every session of pmx_client_open_more() closed; stdio is flushed first.
 * @return only on failure, c closed all the same: -EINVAL (c or argv NULL), or the -errno
 *         of setenv or execv.
 */
int pmx_client_restart(struct pmx_client *c, char *const argv[], unsigned wait_ms);

/** Environment variable: pmx_client_open() first waits this many ms for the socket. */
#define PMX_CLIENT_WAIT_ENV "PORTMUX_CLIENT_WAIT_MS"

/**
 * Wait until a daemon accepts connections on the control socket path: connect() now, then
 * after 50 ms, 100 ms, ... doubling up to 1 s between tries, for at most wait_ms in all.
 * Thread-safe (no state); needs no EAL. pmx_client_open() calls it when PMX_CLIENT_WAIT_ENV
 * is set (and unsets it).
 * @return 0 (a daemon accepts), -ETIMEDOUT, -EINVAL (path NULL), or connect()'s -errno
 *         when waiting cannot help (e.g. -EACCES); -ENOENT and -ECONNREFUSED (no daemon
 *         yet, or a killed daemon's socket file) are waited out.
 */
int pmx_client_wait_socket(const char *path, unsigned wait_ms);

/**
 * Receive up to n frames from queue pair q (< c->n_queues). Lock-free; one consumer per
 * queue (queues may be served by different threads). Records each frame's time since the
 * switch's NIC RX burst in queue q's latency histogram (the daemon shows it in stats), of
 * which the calling thread is the one writer. The caller owns (and must free or send) every
 * frame returned. @return the number of frames, 0 when none or when the
 * attach ended (pmx_client_check() says why).
 */
static inline uint16_t pmx_client_rx_burst_q(struct pmx_client *c, unsigned q,
					     struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t got;

	if (!pmx_client_alive(c))
		return 0;
	got = (uint16_t)rte_ring_dequeue_burst(c->rx[q], (void **)pkts, n, NULL);
	pmx_lat_writer_poll(c->lat[q]); /* a reset the daemon asked for */
	if (got > 0)
		pmx_lat_record(c->lat[q], c->rx_tsc_off, pkts, got, rte_rdtsc());
	return got;
}

/**
 * End one pass of the poll loop: work is what the pass did (e.g. frames received). After a
 * pass with work it returns at once; after an empty one it waits as c->poll says (params.poll
 * of pmx_client_open()): PMX_CLIENT_POLL_BUSY pauses the core for a few cycles
 * (rte_pause()), PMX_CLIENT_POLL_SLEEP does the same until PMX_CLIENT_IDLE_PASSES empty
 * passes per queue pair came in a row, then sleeps PMX_CLIENT_IDLE_SLEEP_US in each. Call it
 * from the thread that polls c (it counts the passes in c; not for several threads).
 */
static inline void pmx_client_idle(struct pmx_client *c, unsigned work)
{
	if (work != 0) {
		c->idle_passes = 0;
		return;
	}
	if (c->poll == PMX_CLIENT_POLL_SLEEP &&
	    ++c->idle_passes > PMX_CLIENT_IDLE_PASSES * c->n_queues) {
		c->idle_passes = PMX_CLIENT_IDLE_PASSES * c->n_queues; /* no wrap-around */
		usleep(PMX_CLIENT_IDLE_SLEEP_US);
		return;
	}
	rte_pause();
}

/** pmx_client_rx_burst_q() on queue pair 0. */
static inline uint16_t pmx_client_rx_burst(struct pmx_client *c, struct rte_mbuf **pkts, uint16_t n)
{
	return pmx_client_rx_burst_q(c, 0, pkts, n);
}

/**
 * Send up to n frames on queue pair q (one producer per queue) (source MAC must be c->mac; source address and port must be owned,
 * or the switch drops and counts them as spoofed). Ownership of the sent frames passes to
 * the switch. @return the number taken; the caller still owns pkts[ret..n-1].
 */
static inline uint16_t pmx_client_tx_burst_q(struct pmx_client *c, unsigned q,
					     struct rte_mbuf **pkts, uint16_t n)
{
	if (!pmx_client_alive(c))
		return 0;
	return (uint16_t)rte_ring_enqueue_burst(c->tx[q], (void **)pkts, n, NULL);
}

/** pmx_client_tx_burst_q() on queue pair 0. */
static inline uint16_t pmx_client_tx_burst(struct pmx_client *c, struct rte_mbuf **pkts, uint16_t n)
{
	return pmx_client_tx_burst_q(c, 0, pkts, n);
}

#endif
