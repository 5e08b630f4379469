/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * ctl.h - the control API (DESIGN.md §4, docs/CONTROL-API.md): NDJSON over a UNIX stream
 * socket, served by the management lcore. The dataplane is reached only through the flow
 * table (RCU), the client registry and atomic stores (kernel policy).
 *
 * Thread-safety: everything here is called by the management thread, except the telemetry
 * callbacks (telemetry.c), which run on DPDK's telemetry thread. Both sides hold ctl->lock
 * (recursive) while they touch sessions, rules or baselines: pmx_ctl_poll() and
 * pmx_ctl_execute() take it themselves; code that writes the flow table from the management
 * loop outside of them (timers) should wrap its writes in pmx_ctl_lock()/pmx_ctl_unlock().
 */
#ifndef PMX_CTL_H
#define PMX_CTL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "config.h"
#include "ctl_rates.h"
#include "pmx_switch.h"

#define PMX_CTL_MAX_REQUEST (64 * 1024)      /**< longer request lines get E2BIG */
#define PMX_CTL_MAX_OUTPUT (4 * 1024 * 1024) /**< unread replies beyond this drop the peer */
#define PMX_CTL_PAUSE_OUTPUT (256 * 1024)    /**< stop reading a peer that does not read */
#define PMX_CTL_MAX_SESSIONS 1024
#define PMX_CTL_SESSIONS_PER_UID 64          /**< per non-root uid */
#define PMX_CTL_BUDGET 16                    /**< requests per session per poll round */
#define PMX_CTL_LISTEN_COUNTS (8 * 65536) /**< 8 protocol classes x 64Ki ports */

/** What an epoll entry of the control loop is. */
enum pmx_ctl_kind { PMX_CTL_LISTENER = 0, PMX_CTL_SESSION, PMX_CTL_WATCH };

/** One connection (or the daemon's own CLI, fd -1). Zero-initialised fields are valid. */
struct pmx_ctl_session {
	enum pmx_ctl_kind kind; /**< PMX_CTL_SESSION */
	int fd;            /**< -1 for a session that is not a socket (CLI, tests) */
	uid_t uid;         /**< from SO_PEERCRED */
	gid_t gid;
	pid_t pid;
	bool admin;        /**< root or member of control.group */
	int client_id;     /**< -1 until hello */
	char name[PMX_NAME_LEN];
	unsigned n_rules;  /**< rules it owns (quota) */
	bool discarding;   /**< skipping the rest of an oversize line */
	bool eof;          /**< the peer half-closed: answer what is buffered, then close */
	bool closing;      /**< close at the end of this poll round (kick, error) */
	struct pmx_rate_snap rates; /**< counters at its last "stats" (per-second rates) */
	size_t rlen;       /**< bytes in rbuf */
	char rbuf[PMX_CTL_MAX_REQUEST + 1];
	char *wbuf;        /**< replies not yet written */
	size_t wlen;
	bool passing;      /**< pass_fd goes (SCM_RIGHTS) with the byte at wbuf + pass_at, then
			     *  is closed: hello's uds channel (ctl_client_cmds.c) */
	int pass_fd;
	size_t pass_at;    /**< SIZE_MAX until the reply it goes with is queued */
};

/** An extra fd served by the control loop (the interactive prompt's stdin). */
struct pmx_ctl_watch {
	enum pmx_ctl_kind kind; /**< PMX_CTL_WATCH */
	int fd;
	void (*readable)(void *arg); /**< called with ctl->lock held */
	void *arg;
};

/** Counters as they were at the last "clear port stats" (ctl_stats.c). */
struct pmx_ctl_baseline {
	struct pmx_port_counters port[PMX_MAX_PORTS]; /**< per port, summed over workers */
	uint64_t drops[PMX_DROP_MAX];                 /**< summed over workers */
	struct {
		uint64_t loops, busy_loops, busy_cycles, rx, drops[PMX_DROP_MAX];
	} worker[RTE_MAX_LCORE];
	struct {
		uint64_t ipackets, opackets, imissed, ierrors, oerrors, ibytes, obytes;
	} ethdev[RTE_MAX_ETHPORTS];
	uint64_t uds_drops[PMX_DROP_MAX]; /**< the uds I/O thread's (uds_pump.h) */
	struct {
		uint64_t socket_drops, rx_bytes, tx_bytes;
	} afp_cleared[PMX_MAX_PORTS]; /**< af_packet ports: their own counters summed over the
				       *  clears (which zero them), for monotonic totals */
	uint64_t cleared_at; /**< time(NULL) of the last clear, 0 = never */
};

struct pmx_port_resv;
struct pmx_kernel_addrs;
struct pmx_usnetd;
struct pmx_metrics_http;
struct rte_eth_stats;

/** The control plane. */
struct pmx_ctl {
	struct pmx_switch *sw;
	const struct pmx_config *cfg;
	int listen_fd;
	int epfd;
	enum pmx_ctl_kind listener_kind; /**< epoll tag of listen_fd */
	bool has_admin_gid;
	gid_t admin_gid;
	char file_prefix[64];
	pthread_mutex_t lock; /**< recursive; see the file comment */
	struct pmx_ctl_session *sessions[PMX_CTL_MAX_SESSIONS];
	struct pmx_ctl_session *client_session[PMX_MAX_CLIENTS]; /**< by client id */
	struct pmx_ctl_baseline *base;
	struct pmx_port_resv *resv; /**< kernel sockets holding clients' ports (port_reserve.c) */
	struct pmx_kernel_addrs *kaddrs; /**< the ports' kernel addresses (kernel_addrs.c) */
	struct pmx_ctl_watch kaddrs_watch; /**< its netlink socket in the epoll set */
	struct pmx_usnetd *usnetd; /**< usnetd's datagram socket (usnetd_sock.c), NULL: off */
	/** Listening rules per (proto class, L4 port) and IP rules per NIC port: only where
	 *  they are not zero does an any-address rule look through every rule for an overlap
	 *  (ctl_rules.c). Kept by rule_add/delete and detach; LISTEN and IP rules must be added
	 *  through them (learned rules are exact ones). Too high is safe, too low is not.
	 *  proto_count: the whole-protocol rules (usnetd's AddMatch without dst_port) per NIC
	 *  port, which every rule of another owner on their protocol and address overlaps. */
	uint16_t *listen_count;
	uint32_t ip_count[PMX_MAX_PORTS];
	uint32_t proto_count[PMX_MAX_PORTS];
	/** DHCP leases of the clients with a MAC of their own (dhcp_lease.c): expiry (TSC) of
	 *  each of the slot's own_addrs, 0 for the addresses of its hello; valid for the slot's
	 *  attach of that generation only. */
	struct pmx_ctl_leases {
		uint32_t generation;
		uint64_t expires[PMX_OWN_MAC_ADDRS];
	} leases[PMX_MAX_CLIENTS];
	uint64_t dhcp_leased;  /**< DHCP ACKs whose address became a client's (or was renewed) */
	uint64_t dhcp_refused; /**< DHCP ACKs for an address the client may not have */
	uint32_t static_rule[PMX_MAX_CONFIG_RULES]; /**< rule id of cfg->rules[i] */
	uint64_t requests;
	uint64_t errors;
	uint64_t learned;       /**< client connections learned from their first frame */
	uint64_t learn_refused; /**< first frames refused (port taken, quota, ...) */
	uint64_t mac_learned;   /**< usnetd clients' MACs of their own learned (mac_learn.c) */
	uint64_t mac_refused;   /**< frames from a MAC that was not learned */
	uint64_t log_window;   /**< second of the current bad-input log window */
	unsigned log_count;    /**< bad-input lines logged in it */
	uint64_t log_dropped;  /**< bad-input lines not logged (rate limit) */
	struct pmx_rate_snap rates_last; /**< counters at the last "stats" of any session */
	struct pmx_rate_snap rates_tel;  /**< at the last /portmux/stats (telemetry) */
	struct pmx_metrics_http *metrics; /**< the Prometheus endpoint, NULL when off */
};

/**
 * Create the socket (mode and group from cfg) and the epoll set.
 * @return 0 or a negative errno with err filled naming the config key.
 */
int pmx_ctl_init(struct pmx_ctl *ctl, struct pmx_switch *sw, const struct pmx_config *cfg,
		 char *err, size_t errlen);

/**
 * Serve the socket (and watched fds) for at most timeout_ms: accept, read, answer at most
 * PMX_CTL_BUDGET requests per session, write. Returns at once when a session has requests
 * left over from an earlier round. @return events handled, or -errno.
 */
int pmx_ctl_poll(struct pmx_ctl *ctl, int timeout_ms);

/** Close every session (detaching clients) and the socket; removes the socket file. */
void pmx_ctl_close(struct pmx_ctl *ctl);

/**
 * Start of a clean stop: close the listening socket and remove its file (a client that comes
 * back finds only the next daemon's), sessions stay open. Management thread only.
 */
void pmx_ctl_stop_listening(struct pmx_ctl *ctl);

/**
 * Wait, at most max_ms, until every ring client (a DPDK secondary mapping the shared memory)
 * closed its control connection, i.e. let go of the rings and the pool, which the daemon is
 * about to free; serves no request meanwhile. Management thread only, after
 * shm->daemon_pid was cleared (what tells the clients). @return the ring clients still
 * connected at the end (0: all gone).
 */
unsigned pmx_ctl_wait_ring_clients(struct pmx_ctl *ctl, unsigned max_ms);

/**
 * Serve w->fd from the control loop: w->readable(w->arg) runs (lock held) when it is
 * readable or hung up. w must stay valid until pmx_ctl_unwatch(). @return 0 or -errno.
 */
int pmx_ctl_watch(struct pmx_ctl *ctl, struct pmx_ctl_watch *w);
void pmx_ctl_unwatch(struct pmx_ctl *ctl, struct pmx_ctl_watch *w);

/** Take / release the control state lock (recursive). */
void pmx_ctl_lock(struct pmx_ctl *ctl);
void pmx_ctl_unlock(struct pmx_ctl *ctl);

/**
 * Execute one request object for session s; returns the reply object (new reference),
 * always {"id":..., "ok":...}. Takes the lock. Used by the socket, the CLI and tests.
 */
json_t *pmx_ctl_execute(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req);

/** Detach the client of session s (if any): rules, port reservations and rings released. */
void pmx_ctl_session_detach(struct pmx_ctl *ctl, struct pmx_ctl_session *s);

/**
 * Log one line about bad input from a peer, at most 10 a second (the rest are counted and
 * summed up in the next window's first line).
 */
void pmx_ctl_log_bad_input(struct pmx_ctl *ctl, const struct pmx_ctl_session *s,
			   const char *what);

/* ctl_stats.c: read-only JSON views (caller holds the lock) */
/**
 * Every counter (since the last clear) as the "stats" reply. With snap, each port also gets
 * "rates" (per second, since snap was taken; zeros when snap->ns is 0), and snap becomes now.
 */
json_t *pmx_ctl_stats_json(struct pmx_ctl *ctl, struct pmx_rate_snap *snap);
/**
 * NIC port p's ethdev counters as totals that never go back (not since the last clear; an
 * af_packet port's own bytes and socket drops added). @return 0, or -ENODEV (st zeroed).
 */
int pmx_ctl_nic_totals(const struct pmx_ctl *ctl, unsigned p, struct rte_eth_stats *st);
/** Port p's switch counters summed over the RX lcores (totals, not since the last clear). */
void pmx_ctl_port_totals(const struct pmx_switch *sw, unsigned p, struct pmx_port_counters *t);
/** Rules of owner only_owner (a client id, PMX_OWNER_*), or all when only_owner < 0. */
json_t *pmx_ctl_rules_json(struct pmx_ctl *ctl, int only_owner);
json_t *pmx_ctl_clients_json(struct pmx_ctl *ctl);
json_t *pmx_ctl_rule_json(struct pmx_ctl *ctl, uint32_t rule_id);
/** One port's description (device, driver, link, queues, kernel path, addresses). */
json_t *pmx_ctl_port_info_json(struct pmx_ctl *ctl, unsigned p);
/** Remember every counter now, so stats count from zero again. */
void pmx_ctl_stats_clear(struct pmx_ctl *ctl);
/** Owner of rule rule_id as JSON: "kernel", "drop" or {"client_id": n, "name": ...}, and
 *  {"name": ...} (no client_id)
 *  for a config rule whose client is not attached. */
json_t *pmx_ctl_rule_owner_json(const struct pmx_ctl *ctl, uint32_t rule_id);
/** "tcp", "udp", ... or the number. */
const char *pmx_ctl_proto_name(uint8_t proto, char *buf, size_t len);

/* addr_publish.c: refresh the dataplane's own-address sets (call periodically) */
void pmx_local_addrs_refresh(struct pmx_ctl *ctl);

/* learn.c: outgoing client connections learned from their first frame (management loop,
 * control lock held: the telemetry thread reads the rules) */
unsigned pmx_learn_poll(struct pmx_ctl *ctl);
void pmx_learn_age(struct pmx_ctl *ctl);

/**
 * mac_learn.c: client c sent a frame from mac, not the port's (tag PMX_LEARN_MAC). Decide
 * whether mac becomes c's own (then pmx_registry_own_mac() with the addresses its rules name
 * that nobody else has; from then on it gets the frames to mac, ARP/ND copies, DHCP leases):
 * c must be allowed to learn one (pmx_registry_mac_learn(), usnetd clients), usnetd.own_macs
 * true, mac unicast and nobody's (the port's, the kernel's, another client's), within
 * clients.own_macs. A refusal stops the learning of c (its frames from a MAC not the port's
 * are dropped as spoofed from then on) and is logged once with the reason. Management lcore,
 * control lock held. @return 0 when mac is c's (now or already), or -1 with e: EPERM (not
 * allowed to learn; usnetd.own_macs false), EINVAL (not a unicast MAC), EEXIST (c has another
 * MAC), EADDRINUSE, EDQUOT.
 */
struct pmx_ctl_error;
int pmx_mac_learn(struct pmx_ctl *ctl, uint16_t c, const struct rte_ether_addr *mac,
		  struct pmx_ctl_error *e);

/**
 * mac_learn.c: client c (with a learned MAC of its own) named ip in a rule: make it one of its
 * own addresses when nobody else has it (a host address, not the port's). Management lcore,
 * control lock held. Does nothing for a client without a learned MAC (a client of hello
 * "mac" sends from the addresses it declared and those it leased).
 */
void pmx_mac_learn_rule_addr(struct pmx_ctl *ctl, uint16_t c, const uint8_t ip[16]);

/**
 * dhcp_lease.c: a DHCP reply the RX lcore held for client c (tag PMX_LEARN_DHCP). An ACK to
 * c's own MAC makes its address c's, enforced on c's sources, until the lease ends: refused
 * (false; logged) when that would pass the quota of PMX_OWN_MAC_ADDRS addresses or the address
 * is someone else's (the port's, another client's, claimed). Other replies pass as they are.
 * Management lcore, control lock held. @return true when m may be delivered.
 */
bool pmx_dhcp_lease_frame(struct pmx_ctl *ctl, uint16_t c, const struct rte_mbuf *m);

/**
 * dhcp_lease.c: make ip one of the own addresses of client c (which has a MAC of its own),
 * enforced on its sources, until `expires` (TSC; UINT64_MAX: the lease has no end; 0: not a
 * lease, kept until the client goes), or renew it. Management lcore, control lock held.
 * @return 0, -EADDRINUSE (the port's, another client's or claimed by a rule), -EDQUOT (the
 * client has PMX_OWN_MAC_ADDRS already); *why says it in words.
 */
int pmx_ctl_own_addr_add(struct pmx_ctl *ctl, uint16_t c, const uint8_t ip[16], uint64_t expires,
			 const char **why);

/** dhcp_lease.c: take back the DHCP addresses whose lease ended. Management lcore, lock held. */
void pmx_dhcp_lease_age(struct pmx_ctl *ctl);

/**
 * dhcp_lease.c: parse a DHCP ACK in frame (Ethernet, IPv4, UDP 67 -> 68) sent to chaddr mac:
 * its address (yiaddr, IPv4-mapped) and lease (seconds; UINT32_MAX when infinite or absent).
 * Thread-safe (pure). @return 0 for an ACK, -ENOMSG for another DHCP message, -EINVAL for
 * anything else (not BOOTP, truncated, another chaddr, no address).
 */
int pmx_dhcp_ack_parse(const uint8_t *frame, uint32_t len, const struct rte_ether_addr *mac,
		       uint8_t ip[16], uint32_t *lease_s);

/* port_addresses.c: the addresses of port p (configured, else those of its kernel interface,
 * as the netlink events last said: no syscall) */
unsigned pmx_port_addresses(const struct pmx_ctl *ctl, unsigned p, uint8_t (*out)[16],
			    unsigned max);
/** Format a 16-byte key address (IPv4-mapped shown as dotted quad). */
const char *pmx_addr_str(const uint8_t ip[16], char *buf, size_t len);
/** Parse an IPv4/IPv6 address into key form. 0 or -EINVAL. */
int pmx_addr_parse(const char *s, uint8_t out[16]);

/* telemetry.c */
/**
 * Register /portmux/stats, /portmux/clients and /portmux/rules with rte_telemetry for ctl
 * (one control plane per process). Call after rte_eal_init(). @return 0 or -errno.
 */
int pmx_telemetry_init(struct pmx_ctl *ctl);

#endif
