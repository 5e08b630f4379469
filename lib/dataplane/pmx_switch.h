/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * pmx_switch.h - the switch's state shared by the RX lcores (hot path) and the
 * management lcore (control path), and the stage entry points of the dataplane.
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
#include <rte_hash_crc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_ring.h>

#include "config.h"
#include "flow_table.h"
#include "lcore_table.h"
#include "pmx_latency.h"
#include "pmx_shm.h"

struct pmx_memif_chan;   /* memif_ring.h */
struct pmx_memif_server; /* memif_server.h */
struct pmx_mbuf_homes;    /* mbuf_home.c */
struct pmx_wire_guard;   /* wire_guard.h */

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
	PMX_DROP_MAX
};

/**
 * Where a frame goes, as one 16-bit code: a client id, or one of these.
 */
#define PMX_DEST_KERNEL PMX_OWNER_KERNEL /**< the kernel of the port */
#define PMX_DEST_MIRROR 0xfff0u          /**< kernel and every client of the port */
#define PMX_DEST_MIRROR_CLIENTS 0xfff1u  /**< every client of the port, not the kernel */
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
};

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
	 * before the slot goes ACTIVE), unchanged until the slot is FREE again. */
	uint8_t has_mac;     /**< 1: frames to `mac` are its own; it may send from it */
	uint8_t n_own_addrs; /**< addresses it may send from with `mac` */
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

/** The queue of a frame for a client with several queue pairs: a flow hash that is the same
 * for both directions, set by the RX lcore in the mbuf's hash.usr before delivery. */
#define PMX_FLOW_QUEUE_HASH(m) ((m)->hash.usr)

/**
 * The flow hash behind PMX_FLOW_QUEUE_HASH: the same for both directions of a flow (XOR of
 * the ends); without ports for fragments, so that a whole datagram lands on one queue.
 */
static inline uint32_t pmx_flow_queue_hash(const struct pmx_flow_key *k, bool with_ports)
{
	const uint32_t *l = (const uint32_t *)k->local_ip;
	const uint32_t *r = (const uint32_t *)k->remote_ip;
	uint32_t h = k->proto;

	for (unsigned i = 0; i < 4; i++)
		h = rte_hash_crc_4byte(l[i] ^ r[i], h);
	if (with_ports)
		h = rte_hash_crc_4byte((uint32_t)(k->local_port ^ k->remote_port), h);
	return h;
}

/** The client id a frame waiting in learn_req came from (kept in the mbuf's hash.usr);
 * the management lcore sets PMX_LEARN_REFUSED in it when the connection may not be learned,
 * and the RX lcore then drops the frame as spoofed. */
#define PMX_LEARN_CLIENT(m) ((m)->hash.usr)
#define PMX_LEARN_REFUSED 0x80000000u
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
	uint32_t kernel_policy;          /**< enum pmx_kernel_policy; atomic store/load */
	struct pmx_dp_policy policy;     /**< the allow list (pmx_dp_policy_set()) */
	struct pmx_mbuf_homes *homes;    /**< ring clients' homes (mbuf_home.c), management
					      lcore only; NULL before the first */
	struct pmx_memif_server *memif;  /**< the memif socket (memif_server.c), once a memif
					      client attached; NULL before */
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

/* ---- dataplane stages (RX lcores) ---- */

/** nic_rx.c: receive a burst from port p, classify, deliver. Returns frames handled. */
unsigned pmx_nic_rx_poll(struct pmx_worker *w, unsigned p);

/** kernel_path.c: frames the kernel sent on port p's exception path -> wire. */
unsigned pmx_kernel_rx_poll(struct pmx_worker *w, unsigned p);

/** kernel_path.c: hand frames to the kernel of port p (frees what it can't take). */
void pmx_kernel_deliver(struct pmx_worker *w, unsigned p, struct rte_mbuf **pkts, unsigned n);

/** client_tx.c: drain the TX rings of this lcore's clients, check, send. */
unsigned pmx_client_tx_poll(struct pmx_worker *w);

/** deliver.c: send frames to `dest` (a client id or PMX_DEST_*) of port p. */
void pmx_deliver(struct pmx_worker *w, unsigned p, uint16_t dest, struct rte_mbuf **pkts,
		 unsigned n);

/** kernel_path.c: where an unowned frame goes under the kernel policy (kernel or a drop). */
uint16_t pmx_kernel_policy_dest(struct pmx_worker *w, const struct pmx_pkt_info *pi);

/** kernel_path.c: does the kernel policy let the kernel have its copy of a mirrored frame? */
bool pmx_kernel_admits_mirror(const struct pmx_worker *w, const struct pmx_pkt_info *pi);

/** client_tx.c: send the frames the management lcore returned after learning. */
unsigned pmx_learn_return_poll(struct pmx_worker *w);

/** frag.c: remember the destination of a first fragment (pi->is_fragment, offset 0). */
void pmx_frag_record(struct pmx_worker *w, const struct pmx_pkt_info *pi, uint16_t dest);

/** frag.c: a client sent the first fragment of a datagram (its source owned by it). */
void pmx_frag_tx_record(struct pmx_worker *w, const struct pmx_pkt_info *pi, uint16_t client);

/** frag.c: the client whose first fragment a later one it sends follows, or OWNER_NONE. */
uint16_t pmx_frag_tx_owner(struct pmx_worker *w, const struct pmx_pkt_info *pi);

/** frag.c: destination of a later fragment; PMX_OWNER_NONE when its first is unknown. */
uint16_t pmx_frag_lookup(struct pmx_worker *w, const struct pmx_pkt_info *pi);

/** frag.c: hold a later fragment until its first arrives (or drop it, frag_unknown). */
void pmx_frag_hold(struct pmx_worker *w, unsigned p, const struct pmx_pkt_info *pi,
		   struct rte_mbuf *m);

/** frag.c: release held fragments whose first arrived, drop expired ones. Returns work. */
unsigned pmx_frag_poll(struct pmx_worker *w, bool idle);

/** local_path.c: is ip one of the appliance's own addresses on port p? Lock-free. */
bool pmx_is_local_addr(const struct pmx_switch *sw, unsigned p, const uint8_t ip[16]);

/**
 * local_path.c: is m (sent by a client or the kernel of port p) addressed to one of the
 * appliance's own addresses? If so, *dest is where it goes instead of the wire: its owner,
 * or the kernel when from_client and no client owns it. @return true when local.
 */
bool pmx_local_dest(struct pmx_worker *w, unsigned p, struct rte_mbuf *m, bool from_client,
		    uint16_t *dest);

/**
 * local_path.c: send up to PMX_BURST frames that client `from` (or the kernel, from =
 * PMX_OWNER_KERNEL) of port p sent: to the wire, except those addressed to the appliance
 * itself (pmx_local_dest()) or to a client with a MAC of its own (own_mac.c), which also gets
 * a copy of broadcasts and multicasts.
 */
void pmx_send_out(struct pmx_worker *w, unsigned p, struct rte_mbuf **pkts, unsigned n,
		  uint16_t from);

/** deliver.c: enqueue frames on client c's RX ring (frees and counts what does not fit). */
void pmx_client_deliver(struct pmx_worker *w, uint16_t c, struct rte_mbuf **pkts, unsigned n);

/** deliver.c: copy a frame to every client of bitmap `set` but `except` (PMX_OWNER_NONE: all). */
void pmx_mirror_to_set(struct pmx_worker *w, const uint64_t *set, struct rte_mbuf *m,
		       uint16_t except);

/** deliver.c: copy a frame to every active client of port p (ARP, ND, multicast). */
void pmx_mirror_to_clients(struct pmx_worker *w, unsigned p, struct rte_mbuf *m);

/** deliver.c: put frames on port p's NIC TX queue (frees and counts what does not fit). */
void pmx_wire_send(struct pmx_worker *w, unsigned p, struct rte_mbuf **pkts, unsigned n);

/** deliver.c: free frames, counting them under reason. */
void pmx_drop(struct pmx_worker *w, enum pmx_drop_reason reason, struct rte_mbuf **pkts,
	      unsigned n);

/**
 * own_mac.c: the client of port p whose own MAC is mac, or PMX_OWNER_NONE. Lock-free (reads
 * port_own_macs and the slots' MACs).
 */
uint16_t pmx_own_mac_client(const struct pmx_switch *sw, unsigned p,
			    const struct rte_ether_addr *mac);

/** Did the client of slot (with a MAC of its own) declare ip as one of its addresses? */
static inline bool pmx_own_mac_declared(const struct pmx_client_slot *slot, const uint8_t ip[16])
{
	for (unsigned i = 0; i < slot->n_own_addrs; i++)
		if (memcmp(slot->own_addrs[i], ip, 16) == 0)
			return true;
	return false;
}

/** own_mac.c: does port p have any client with a MAC of its own? Lock-free. */
bool pmx_own_mac_any(const struct pmx_switch *sw, unsigned p);

/**
 * own_mac.c: may client slot `slot` (with a MAC of its own) send m, whose source MAC is that
 * MAC? The source IP must be one of its addresses (ARP: the sender's MAC and IP too).
 */
bool pmx_own_mac_tx_ok(const struct pmx_client_slot *slot, const struct rte_mbuf *m,
		       const struct pmx_pkt_info *pi);

/** What pmx_own_mac_send() did with a frame. */
enum pmx_own_mac_way { PMX_OWN_MAC_USUAL = 0, PMX_OWN_MAC_DONE, PMX_OWN_MAC_WIRE };

/**
 * own_mac.c: where a frame client or kernel `from` (PMX_OWNER_KERNEL) of port p sends goes
 * when the port has clients with a MAC of their own: to such a client when addressed to its
 * MAC; broadcasts and multicasts are copied to each of them (but the sender). Frames a client
 * sends from its own MAC are handled as from the wire: to the appliance's MAC, ARP/ND go to
 * the kernel with copies to the other clients, IP to the local address's owner or the kernel;
 * its broadcasts reach the kernel, the other clients and the wire.
 * @return PMX_OWN_MAC_DONE when m was delivered (or dropped), PMX_OWN_MAC_WIRE when it goes to
 *         the wire only, PMX_OWN_MAC_USUAL when it takes the usual way (pmx_local_dest()).
 */
enum pmx_own_mac_way pmx_own_mac_send(struct pmx_worker *w, unsigned p, struct rte_mbuf *m,
				      uint16_t from);

/** latency.c: register the RX stamp's mbuf field and reserve the histograms' memzone.
 * Management lcore, before the ports start. @return 0 or -rte_errno. */
int pmx_latency_init(struct pmx_switch *sw);

/** latency.c: free the memzone (accepts a switch without one). */
void pmx_latency_fini(struct pmx_switch *sw);

/** latency.c: ask the writers of client id's histograms to reset them (attach, clear_stats);
 * readers see them empty from now on. Management lcore. */
void pmx_latency_reset(struct pmx_switch *sw, uint16_t id);

/** latency.c: client id's histogram, its queues merged (pending resets read as empty). */
void pmx_latency_read(const struct pmx_switch *sw, uint16_t id, struct pmx_lat_hist *out);

/** Stamp frames with the TSC of their RX burst (hot path: one store per frame). */
static inline void pmx_latency_stamp(const struct pmx_switch *sw, struct rte_mbuf **pkts,
				     unsigned n, uint64_t now)
{
	for (unsigned i = 0; i < n; i++)
		*RTE_MBUF_DYNFIELD(pkts[i], sw->rx_tsc_off, uint64_t *) = now;
}

/** The per-lcore tables every RX lcore may read. */
enum pmx_worker_table {
	PMX_TABLE_FRAGS,  /**< first fragments seen: datagram -> destination */
	PMX_TABLE_KCONNS, /**< connections the kernel opened */
};

/** worker.c: look key up in table `which` of w, then of the other RX lcores. Lock-free. */
bool pmx_worker_table_get(const struct pmx_worker *w, enum pmx_worker_table which,
			  const struct pmx_flow_key *key, uint16_t *value);

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
