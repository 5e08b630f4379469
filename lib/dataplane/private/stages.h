/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * stages.h - the RX lcore stages' prototypes, private to lib/dataplane (its meson.build puts
 * this directory on the library's own include path, not on dataplane_dep's).
 *
 * The stages call one way (docs/ARCHITECTURE.md): worker -> nic_rx, kernel_path, client_tx,
 * frag; client_tx -> send_out -> own_mac -> local_path -> frag -> deliver; kernel_path ->
 * send_out; nic_rx and own_mac -> kernel_policy -> worker_tables. All of them run on RX lcores.
 */
#ifndef PMX_STAGES_H
#define PMX_STAGES_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_hash_crc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include "pmx_packet.h"
#include "pmx_switch.h"

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

/** The per-lcore tables every RX lcore may read. */
enum pmx_worker_table {
	PMX_TABLE_FRAGS,  /**< first fragments seen: datagram -> destination */
	PMX_TABLE_KCONNS, /**< connections the kernel opened */
};

/** worker_tables.c: look key up in table `which` of w, then of the other RX lcores. Lock-free. */
bool pmx_worker_table_get(const struct pmx_worker *w, enum pmx_worker_table which,
			  const struct pmx_flow_key *key, uint16_t *value);

/** Stamp frame m with the TSC of its RX burst (tsc_off: sw->rx_tsc_off); 0: not from the NIC,
 * no sample in the latency histograms. Hot path: one store. */
static inline void pmx_latency_stamp(struct rte_mbuf *m, int tsc_off, uint64_t now)
{
	*RTE_MBUF_DYNFIELD(m, tsc_off, uint64_t *) = now;
}

/** nic_rx.c: receive a burst from port p, classify, deliver. Returns frames handled. */
unsigned pmx_nic_rx_poll(struct pmx_worker *w, unsigned p);

/** kernel_path.c: frames the kernel sent on port p's exception path -> wire. */
unsigned pmx_kernel_rx_poll(struct pmx_worker *w, unsigned p);

/** deliver.c: hand frames to the kernel of port p (frees what it can't take). */
void pmx_kernel_deliver(struct pmx_worker *w, unsigned p, struct rte_mbuf **pkts, unsigned n);

/** client_tx.c: drain the TX rings of this lcore's clients, check, send. */
unsigned pmx_client_tx_poll(struct pmx_worker *w);

/** deliver.c: send frames to `dest` (a client id or PMX_DEST_*) of port p. */
void pmx_deliver(struct pmx_worker *w, unsigned p, uint16_t dest, struct rte_mbuf **pkts,
		 unsigned n);

/** kernel_policy.c: where an unowned frame goes under the kernel policy (kernel or a drop). */
uint16_t pmx_kernel_policy_dest(struct pmx_worker *w, const struct pmx_pkt_info *pi);

/** kernel_policy.c: does the kernel policy let the kernel have its copy of a mirrored frame? */
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
 * or the kernel when from_client and no client owns it. pi is m parsed as received
 * (PMX_DIR_IN: pmx_packet_turn() of the sender's parse). @return true when local.
 */
bool pmx_local_dest(struct pmx_worker *w, unsigned p, struct rte_mbuf *m,
		    const struct pmx_pkt_info *pi, bool from_client, uint16_t *dest);

/**
 * send_out.c: send up to PMX_BURST frames that client `from` (or the kernel, from =
 * PMX_OWNER_KERNEL) of port p sent: to the wire, except those addressed to the appliance
 * itself (pmx_local_dest()) or to a client with a MAC of its own (own_mac.c), which also gets
 * a copy of broadcasts and multicasts. info[i] is pkts[i] parsed once by the sender's stage
 * and turned to PMX_DIR_IN (pmx_packet_turn()), as the local destinations see it.
 */
void pmx_send_out(struct pmx_worker *w, unsigned p, struct rte_mbuf **pkts,
		  const struct pmx_pkt_info *info, unsigned n, uint16_t from);

/** deliver.c: enqueue frames on client c's RX ring (frees and counts what does not fit). */
void pmx_client_deliver(struct pmx_worker *w, uint16_t c, struct rte_mbuf **pkts, unsigned n);

/** deliver.c: copy a frame to every client of bitmap `set` but `except` (PMX_OWNER_NONE: all). */
void pmx_mirror_to_set(struct pmx_worker *w, const uint64_t *set, struct rte_mbuf *m,
		       uint16_t except);

/** deliver.c: put frames on port p's NIC TX queue (frees and counts what does not fit). */
void pmx_wire_send(struct pmx_worker *w, unsigned p, struct rte_mbuf **pkts, unsigned n);

/** deliver.c: free frames, counting them under reason. */
void pmx_drop(struct pmx_worker *w, enum pmx_drop_reason reason, struct rte_mbuf **pkts,
	      unsigned n);

/**
 * own_mac.c: may client slot `slot` (with a MAC of its own) send m, whose source MAC is that
 * MAC? The source IP must be one of its addresses (ARP: the sender's MAC and IP too).
 */
bool pmx_own_mac_tx_ok(const struct pmx_client_slot *slot, const struct rte_mbuf *m,
		       const struct pmx_pkt_info *pi);

/**
 * own_mac.c: if m (from the wire, the kernel or another client, to the own MAC of client c;
 * pi as the receiver sees it) is a DHCP reply (IPv4, UDP 67 -> 68), hand it to the management
 * lcore (learn_req, tagged PMX_LEARN_DHCP), which records the address of an ACK as c's and
 * sends it back for delivery (pmx_learn_return_poll()); a reply the ring cannot take is
 * dropped as dhcp_refused (the client asks again). @return true when m was taken.
 */
bool pmx_own_mac_dhcp_hold(struct pmx_worker *w, uint16_t c, struct rte_mbuf *m,
			   const struct pmx_pkt_info *pi);

/**
 * own_mac.c: if client c may learn a MAC of its own (slot mac_learn, no MAC yet), hand m (sent
 * from a MAC not the port's) to the management lcore (learn_req, tagged PMX_LEARN_MAC), which
 * decides whether that MAC becomes c's and sends m back (pmx_learn_return_poll()). @return
 * true when m was taken; false: the caller drops it as spoofed.
 */
bool pmx_own_mac_learn_hold(struct pmx_worker *w, uint16_t c, struct rte_mbuf *m);

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
				      const struct pmx_pkt_info *pi, uint16_t from);

#endif
