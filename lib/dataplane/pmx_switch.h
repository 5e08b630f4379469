/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * pmx_switch.h - the switch's state shared by the RX lcores (hot path) and the
 * management lcore (control path), and the few dataplane entry points the management lcore
 * calls. The RX stages' own prototypes are in private/stages.h, which only lib/dataplane's
 * sources see.
 *
 * Ownership: the management lcore writes ports, client slots and bitmaps; RX lcores
 * only read them and write their own struct pmx_worker. A client slot goes FREE ->
 * ACTIVE (rings set, then state stored with release, then bitmap bits set) and
 * ACTIVE -> CLOSING -> FREE (bits cleared, rules deleted, readers synchronized through the
 * flow table's RCU, rings drained), so no RX lcore ever enqueues on a freed ring.
 */
#ifndef PMX_SWITCH_H
#define PMX_SWITCH_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "config.h"
#include "flow_table.h"
#include "lcore_table.h"
#include "pmx_latency.h"
#include "pmx_shm.h"

struct pmx_afp_port;

struct pmx_memif_chan;   /* memif_ring.h */
struct pmx_memif_server; /* memif_server.h (lib/control) */
struct pmx_uds_pump;     /* uds_pump.h (lib/control) */
struct pmx_mbuf_homes;    /* mbuf_home.c */
struct pmx_wire_guard;   /* wire_guard.h (lib/ports) */
struct pmx_nic_offloads; /* nic_offloads.h (lib/ports) */

#define PMX_BURST 32
#define PMX_BITMAP_WORDS (PMX_MAX_CLIENTS / 64)
#define PMX_PORT_NONE UINT16_MAX
/** Longest frame a client may send (MTU 1500, one 802.1Q tag, no CRC); longer: oversize. */
#define PMX_MAX_CLIENT_FRAME (RTE_ETHER_MTU + RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN)

/** Why a frame was dropped. Every drop is counted under exactly one reason. */
enum pmx_drop_reason {
	PMX_DROP_MALFORMED = 0, /**< parser rejected it */
	PMX_DROP_NO_ROUTE,      /**< no owner and no kernel path, or owner gone */
	PMX_DROP_RING_FULL,     /**< the client's RX ring was full */
	PMX_DROP_SPOOFED,       /**< client TX from an address/port it does not own */
	PMX_DROP_TX_FULL,       /**< the NIC or kernel TX queue did not take it */
	PMX_DROP_FRAG_UNKNOWN,  /**< later fragment whose first fragment was not seen */
	PMX_DROP_FIREWALL,      /**< kernel policy firewall */
	PMX_DROP_RULE,          /**< an operator rule with target drop */
	PMX_DROP_NOMEM,         /**< no mbuf to copy a mirrored frame */
	PMX_DROP_OVERSIZE,      /**< client TX longer than PMX_MAX_CLIENT_FRAME */
	PMX_DROP_OWNER_ABSENT,  /**< a config rule's client is not attached */
	PMX_DROP_DHCP_REFUSED,  /**< a DHCP ACK for an address its client may not have */
	PMX_DROP_MAX
};

/**
 * Where a frame goes, as one 16-bit code: a client id, or one of these.
 */
#define PMX_DEST_KERNEL PMX_OWNER_KERNEL /**< the kernel of the port */
#define PMX_DEST_MIRROR 0xfff0u          /**< kernel and every client of the port */
#define PMX_DEST_MIRROR_CLIENTS 0xfff1u  /**< every client of the port, not the kernel */
#define PMX_DEST_HELD 0xfff2u            /**< handed to the management lcore: nothing to do */
#define PMX_DEST_DROP_BASE 0xff00u       /**< + enum pmx_drop_reason */
#define PMX_DEST_DROP(reason) ((uint16_t)(PMX_DEST_DROP_BASE + (reason)))

#define PMX_FRAG_PENDING_MAX 64   /**< later fragments held per lcore until their first */
#define PMX_FRAG_HOLD_US 100000   /**< how long one is held before frag_unknown */
#define PMX_FRAG_AGE_US 2000000   /**< how long a datagram's decision is remembered */
#define PMX_KCONN_AGE_US 120000000 /**< idle time before a kernel connection is forgotten */

/** A later fragment waiting for its first fragment. */
struct pmx_frag_pending {
	struct rte_mbuf *m;
	struct pmx_flow_key key; /**< PMX_KEY_FRAG key of its datagram */
	uint64_t since;          /**< TSC when held */
	uint16_t port;
};

#define PMX_MAX_LOCAL_ADDRS 64
#define PMX_OWN_MAC_ADDRS 4 /**< addresses a client with a MAC of its own may declare */

/** The addresses that are the appliance's own on one port (the kernel's and claimed ones). */
struct pmx_local_addrs {
	unsigned n;
	uint8_t addr[PMX_MAX_LOCAL_ADDRS][16];
};

/** The kernel policy's allow list as the RX lcores read it (kernel_path.c): the (proto, local
 * port) ranges the kernel gets under policy firewall. */
struct pmx_dp_allow {
	unsigned n;
	struct pmx_proto_port entry[PMX_MAX_ALLOW];
};

/**
 * The dataplane's own copy of the kernel policy's values (not a pointer into the daemon's
 * config). The policy word itself is pmx_switch.kernel_policy (one atomic). The allow list is
 * double-buffered like the local addresses: pmx_dp_policy_set() (management lcore) fills the
 * copy not in use, flips `active` (release), then waits for the RX lcores (RCU) before that
 * copy may be written again.
 */
struct pmx_dp_policy {
	struct pmx_dp_allow allow[2];
	uint32_t active; /**< which allow[] the RX lcores read (acquire) */
};

/** Client slot states. */
enum pmx_slot_state { PMX_SLOT_FREE = 0, PMX_SLOT_ACTIVE, PMX_SLOT_CLOSING };

/** How a client exchanges frames with the switch. */
enum pmx_channel {
	PMX_CHANNEL_RING = 0, /**< trusted: rte_rings in shared hugepage memory (zero copy) */
	PMX_CHANNEL_MEMIF,    /**< isolated: memif rings in the client's memory, frames copied */
	PMX_CHANNEL_UDS,      /**< isolated: one frame per datagram on a UNIX socketpair, copied
			       *  by the daemon's uds I/O thread (lib/control/uds_pump.c) between
			       *  the socket and the slot's rx_ring/tx_ring */
};

/** One NIC port and its exception port. Written at start-up, then read-only. */
struct pmx_port {
	char name[PMX_NAME_LEN];
	uint16_t nic;                  /**< ethdev id of the NIC */
	uint16_t exc;                  /**< ethdev id of the kernel path, PMX_PORT_NONE if none */
	struct rte_ether_addr mac;     /**< the NIC's MAC, shared by the kernel and clients */
	char exc_kind[16];             /**< "tap", "virtio_user", "device", "none" */
	char exc_iface[PMX_IFNAME_LEN];
	uint8_t offload;               /**< enum pmx_offload_mode (flow_offload.c), at start-up */
	uint8_t offload_refused;       /**< the NIC refused MARK metadata (flow_offload.c) */
	char offload_note[96];         /**< how the offload probe went (flow_offload.c) */
	struct pmx_afp_port *afp;      /**< a kernel interface through lib/afpacket (nic is its
					 *  ring ethdev), NULL for any other NIC */
};

/** Whether a client may learn a MAC of its own from what it sends (lib/control/mac_learn.c). */
enum pmx_mac_learn { PMX_MAC_LEARN_OFF = 0, PMX_MAC_LEARN_ON, PMX_MAC_LEARNED };

/** A client as the dataplane sees it. Written by the management lcore only. */
struct pmx_client_slot {
	uint32_t state;              /**< enum pmx_slot_state, stored with release */
	uint16_t port;               /**< index into pmx_switch.ports */
	uint16_t tx_worker;          /**< the one RX lcore that drains the TX rings */
	uint32_t generation;         /**< bumps on every attach of this slot */
	uint8_t channel;             /**< enum pmx_channel */
	struct pmx_memif_chan *memif_chan; /**< memif: the connected channel (memif_server.c
					     publishes it with release, the TX lcore loads it with
					     acquire), NULL while none */
	uint8_t n_queues;            /**< queue pairs in use (rings beyond stay allocated) */
	struct rte_ring *rx_ring[PMX_MAX_QUEUES]; /**< switch -> client (memif: -> its TX) */
	struct rte_ring *tx_ring[PMX_MAX_QUEUES]; /**< client -> switch (unused for memif) */
	struct rte_mempool *home; /**< ring: this attach's home (mbuf_home.h), set before the
				    slot goes ACTIVE, cleared once it is FREE; memif: NULL */
	/* A client with a MAC of its own (own_mac.c): set before its bit in port_own_macs (or
	 * before the slot goes ACTIVE; a usnetd client's learned MAC: once, while ACTIVE,
	 * mac_learn.c), unchanged until the slot is FREE again. */
	uint8_t has_mac;     /**< 1: frames to `mac` are its own; it may send from it */
	uint8_t mac_learn;   /**< enum pmx_mac_learn, stored with release: ON while a frame it
			      *  sends from a MAC not the port's goes to the management lcore
			      *  (PMX_LEARN_MAC) rather than being dropped as spoofed (usnetd
			      *  clients); OFF once refused; LEARNED: `mac` came that way */
	uint8_t n_own_addrs; /**< addresses it may send from with `mac`: those of its hello,
			      *  then those it got by DHCP (dhcp_lease.c: an address is written
			      *  before the count that covers it, release; removed by moving the
			      *  last one over it before the count goes down) */
	struct rte_ether_addr mac;
	uint8_t own_addrs[PMX_OWN_MAC_ADDRS][16]; /**< IPv4-mapped or IPv6 */
} __rte_cache_aligned;

/** Per-port counters of one worker. */
struct pmx_port_counters {
	uint64_t rx;          /**< frames received from the NIC */
	uint64_t to_clients;  /**< frames (incl. mirror copies) enqueued to clients */
	uint64_t to_kernel;   /**< frames given to the kernel path */
	uint64_t from_kernel; /**< frames the kernel sent */
	uint64_t from_clients; /**< frames clients sent that passed the checks */
	uint64_t tx_wire;     /**< frames the NIC accepted for transmission */
};

/** Per-client counters of one worker. Zeroed by the management lcore at attach. */
struct pmx_client_counters {
	uint64_t rx;        /**< frames enqueued to the client */
	uint64_t ring_full; /**< frames dropped because its RX ring was full */
	uint64_t tx;        /**< frames from the client that left */
	uint64_t spoofed;   /**< frames from the client dropped by anti-spoofing */
	uint64_t learning;  /**< first frames of new connections passed to the management lcore */
	uint64_t lent;      /**< mbufs marked as its own on delivery (mbuf_home.h) */
	uint64_t returned;  /**< of those, back: freed into its home and drained, or sent */
};

/** The client id a frame waiting in learn_req came from (kept in the mbuf's hash.usr);
 * the management lcore sets PMX_LEARN_REFUSED in it when the connection may not be learned,
 * and the RX lcore then drops the frame as spoofed. */
#define PMX_LEARN_CLIENT(m) ((m)->hash.usr)
#define PMX_LEARN_REFUSED 0x80000000u
/** With the client id: a DHCP reply from the wire to that client's own MAC, held while the
 *  management lcore records the address of an ACK (dhcp_lease.c), then delivered to it. */
#define PMX_LEARN_DHCP 0x40000000u
/** With the client id: the first frames a client that may learn a MAC (mac_learn) sent from
 *  a MAC not the port's; the management lcore decides whether that MAC becomes the client's
 *  own (lib/control/mac_learn.c), then the RX lcore checks them as from that MAC. */
#define PMX_LEARN_MAC 0x20000000u
#define PMX_LEARN_RING_SIZE 1024

struct pmx_switch;

/** One RX lcore. Counters are written by that lcore only. */
struct pmx_worker {
	unsigned id;       /**< 0..n_workers-1: queue index and flow-table reader id */
	unsigned lcore_id;
	struct pmx_switch *sw;
	uint64_t loops;
	uint64_t busy_loops;
	uint64_t busy_cycles; /**< TSC cycles spent in loops that did work */
	uint64_t drops[PMX_DROP_MAX];
	struct pmx_port_counters port[PMX_MAX_PORTS];
	struct pmx_client_counters *client; /**< [clients_max] */
	uint64_t tx_bitmap[PMX_BITMAP_WORDS]; /**< clients whose TX ring this lcore drains */
	uint16_t home_seen[PMX_MAX_CLIENTS];  /**< mbufs in each client's home at this lcore's
					       *  last look (client_tx.c: drained a burst at a
					       *  time; a stale value costs one early drain) */
	struct pmx_lcore_table frags;  /**< first fragments seen here: datagram -> destination */
	struct pmx_lcore_table kconns; /**< connections the kernel opened through this lcore */
	uint64_t frag_inserts_seen;    /**< sum of all lcores' frags.inserts at the last retry */
	struct rte_ring *learn_req;    /**< first frames of unknown client connections -> mgmt */
	struct rte_ring *learn_ret;    /**< those frames, once learned, back to be sent */
	unsigned n_pending;
	struct pmx_frag_pending pending[PMX_FRAG_PENDING_MAX];
} __rte_cache_aligned;

/** The whole switch. */
struct pmx_switch {
	const struct pmx_config *cfg; /**< the daemon's config: management lcore, start-up and
				       *  control requests only; the RX lcores never read it */
	struct rte_mempool *pool;
	struct pmx_flow_table *ft;
	unsigned n_ports;
	struct pmx_port ports[PMX_MAX_PORTS];
	uint64_t port_clients[PMX_MAX_PORTS][PMX_BITMAP_WORDS]; /**< clients of each port */
	uint64_t port_own_macs[PMX_MAX_PORTS][PMX_BITMAP_WORDS]; /**< those with a MAC of their
								       own (own_mac.c) */
	unsigned n_workers;
	struct pmx_worker *workers[RTE_MAX_LCORE];
	uint32_t clients_max;
	struct pmx_client_slot *clients; /**< [clients_max] */
	unsigned client_lcore_base;      /**< client in slot i runs EAL on lcore base + i */
	struct pmx_shm *shm;             /**< the memzone clients check at attach */
	struct pmx_offload *offload;     /**< rte_flow rules of offloaded rules (flow_offload.c) */
	struct pmx_wire_guard *wire_guard; /**< the kernel kept off NIC ports that are kernel
					       netdevs (wire_guard.c); NULL when none is */
	struct pmx_nic_offloads *nic_offloads; /**< their offload features (nic_offloads.c) */
	uint32_t kernel_policy;          /**< enum pmx_kernel_policy; atomic store/load */
	struct pmx_dp_policy policy;     /**< the allow list (pmx_dp_policy_set()) */
	struct pmx_mbuf_homes *homes;    /**< ring clients' homes (mbuf_home.c), management
					      lcore only; NULL before the first */
	struct pmx_memif_server *memif;  /**< the memif socket (memif_server.c), once a memif
					      client attached; NULL before */
	struct pmx_uds_pump *uds;        /**< the uds channels' I/O thread (uds_pump.c), once a
					      uds client attached; NULL before */
	/** Own addresses per port, double-buffered: the management lcore fills the copy not in
	 * use, flips local_active (release), then waits for the RX lcores (RCU) before it may
	 * write the other copy again. */
	struct pmx_local_addrs local[2][PMX_MAX_PORTS];
	uint32_t local_active;
	struct pmx_lat_block *lat; /**< [clients_max * PMX_MAX_QUEUES] (latency.c, pmx_shm.h) */
	int rx_tsc_off;            /**< mbuf dynfield offset of PMX_RX_TSC_DYNFIELD */
	volatile int quit;
};

/**
 * dp_policy.c: publish a new allow list to the RX lcores: copies n entries of allow into the
 * copy they do not read, flips to it (release), then waits for every RX lcore that reads the
 * flow table to pass a quiescent state. Management lcore only (one writer); sw->ft must exist.
 * @return 0, or -EINVAL when n > PMX_MAX_ALLOW (nothing published).
 */
int pmx_dp_policy_set(struct pmx_switch *sw, const struct pmx_proto_port *allow, unsigned n);

/**
 * own_mac.c: the client of port p whose own MAC is mac, or PMX_OWNER_NONE. Lock-free (reads
 * port_own_macs and the slots' MACs).
 */
uint16_t pmx_own_mac_client(const struct pmx_switch *sw, unsigned p,
			    const struct rte_ether_addr *mac);

/** own_mac.c: does port p have any client with a MAC of its own? Lock-free. */
bool pmx_own_mac_any(const struct pmx_switch *sw, unsigned p);

/** Did the client of slot (with a MAC of its own) declare ip as one of its addresses? */
static inline bool pmx_own_mac_declared(const struct pmx_client_slot *slot, const uint8_t ip[16])
{
	unsigned n = __atomic_load_n(&slot->n_own_addrs, __ATOMIC_ACQUIRE);

	for (unsigned i = 0; i < n; i++)
		if (memcmp(slot->own_addrs[i], ip, 16) == 0)
			return true;
	return false;
}

/** worker.c: create the per-lcore tables of w. 0 or -errno. */
int pmx_worker_init(struct pmx_worker *w);

/** worker.c: free what pmx_worker_init() created. */
void pmx_worker_fini(struct pmx_worker *w);

/** worker.c: the RX lcore loop (rte_eal_remote_launch entry, arg = struct pmx_worker). */
int pmx_worker_main(void *arg);

/** Name of a drop reason ("malformed", "no_route", ...). */
const char *pmx_drop_reason_name(enum pmx_drop_reason r);

/** Atomic bitmap helpers for the management lcore (writer) and RX lcores (readers). */
static inline void pmx_bitmap_set(uint64_t *bm, unsigned bit)
{
	__atomic_fetch_or(&bm[bit / 64], 1ULL << (bit % 64), __ATOMIC_RELEASE);
}

static inline void pmx_bitmap_clear(uint64_t *bm, unsigned bit)
{
	__atomic_fetch_and(&bm[bit / 64], ~(1ULL << (bit % 64)), __ATOMIC_RELEASE);
}

static inline uint64_t pmx_bitmap_word(const uint64_t *bm, unsigned word)
{
	return __atomic_load_n(&bm[word], __ATOMIC_ACQUIRE);
}

#endif
