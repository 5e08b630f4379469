/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * flow_offload.h - rte_flow offload of client rules (wire -> RX lcores): the management
 * lcore's side; the mark the RX lcores read is in offload_mark.h (lib/dataplane).
 *
 * At start-up every NIC port is probed: a MARK rule is validated, created and destroyed.
 * Where that works the port runs in PMX_OFFLOAD_MARK mode: each listen/connect rule of a
 * client (TCP, UDP, SCTP) is also installed as an rte_flow rule whose MARK carries the owner,
 * so the RX lcore can skip the software lookup (pmx_offload_mark_owner()). Everywhere else
 * (af_packet, tap, pcap, null, ring, memif here) the port runs in PMX_OFFLOAD_SOFTWARE mode
 * and the flow table does everything; software stays the authority in both modes.
 *
 * A mark is (slot generation << 8 | client id) in 24 bits: a frame the NIC marked for a client
 * that has since detached (or whose slot was reused) no longer matches and is looked up.
 *
 * Thread-safety: everything except pmx_offload_mark_owner() runs on the management lcore
 * (rte_flow calls on one port must not run concurrently); pmx_offload_mark_owner() is the
 * RX lcores' lock-free reader.
 */
#ifndef PMX_FLOW_OFFLOAD_H
#define PMX_FLOW_OFFLOAD_H

#include <stdint.h>

#include <rte_flow.h>
#include <rte_mbuf.h>

#include "offload_mark.h"
#include "pmx_switch.h"

/** How a port classifies. */
enum pmx_offload_mode {
	PMX_OFFLOAD_SOFTWARE = 0, /**< the flow table does everything */
	PMX_OFFLOAD_MARK,         /**< client rules are rte_flow MARK rules too */
};

#define PMX_OFFLOAD_MAX_QUEUES 128
#define PMX_OFFLOAD_MAX_FAMILIES 2 /**< a listen rule on any address: IPv4 and IPv6 */

/** One rte_flow rule as built by pmx_offload_build(): pattern, actions and their storage. */
struct pmx_offload_spec {
	struct rte_flow_attr attr;
	struct rte_flow_item pattern[4]; /**< ETH, IPV4|IPV6, TCP|UDP|SCTP, END */
	struct rte_flow_action actions[3]; /**< MARK, RSS|QUEUE, END */
	union {
		struct rte_flow_item_ipv4 v4;
		struct rte_flow_item_ipv6 v6;
	} ip_spec, ip_mask;
	union {
		struct rte_flow_item_tcp tcp;
		struct rte_flow_item_udp udp;
		struct rte_flow_item_sctp sctp;
	} l4_spec, l4_mask;
	struct rte_flow_action_mark mark;
	struct rte_flow_action_rss rss;
	struct rte_flow_action_queue queue;
	uint16_t queues[PMX_OFFLOAD_MAX_QUEUES];
};

/**
 * Build the rte_flow rule for flow-table key `key` (PMX_KEY_LISTEN or PMX_KEY_EXACT, as seen
 * from the wire: local = destination) in IP family `family` (4 or 6), marking with `mark` and
 * spreading over `n_queues` RX queues with the symmetric RSS key (QUEUE 0 when one).
 * Pure; any thread. spec must stay in place while the rule is validated or created.
 * @return 0; -ENOTSUP for keys rte_flow cannot express here (owned IPs, ICMP, UDP-Lite,
 *         DCCP, other protocols); -EINVAL for a family the key's address is not in, or
 *         n_queues 0 or above PMX_OFFLOAD_MAX_QUEUES.
 */
int pmx_offload_build(const struct pmx_flow_key *key, int family, uint32_t mark,
		      uint16_t n_queues, struct pmx_offload_spec *spec);

/**
 * Ask port p's NIC to deliver MARK metadata (rte_eth_rx_metadata_negotiate). Call before
 * the port is configured. Management lcore, start-up. A refusal is remembered and makes the
 * probe choose software. @return 0 or the negative errno of the negotiation (-ENOTSUP: the
 * PMD has no negotiation; marks may still work).
 */
int pmx_offload_negotiate(struct pmx_switch *sw, unsigned p);

/**
 * Decide port p's mode once the port is started (sw->ft and sw->n_workers set): validate a
 * probe MARK rule, create it and destroy it. ENOSYS/ENOTSUP, any validate error and a create
 * that fails after a successful validate (TAP here) give PMX_OFFLOAD_SOFTWARE.
 * Sets sw->ports[p].offload and .offload_note. Management lcore, start-up.
 * @return the mode chosen.
 */
enum pmx_offload_mode pmx_offload_probe(struct pmx_switch *sw, unsigned p);

/** "software" or "rte_flow mark". */
const char *pmx_offload_mode_name(unsigned mode);

/**
 * Hook: rule rule_id was just added to sw->ft. When its port offloads and it is a client's
 * listen/connect rule rte_flow can express, install its rte_flow rule(s); on failure the
 * rule stays software-only (counted). Management lcore. Never fails the rule.
 */
void pmx_offload_rule_added(struct pmx_switch *sw, uint32_t rule_id);

/** Hook: rule rule_id is about to be deleted: destroy its rte_flow rule(s), if any.
 *  Management lcore. */
void pmx_offload_rule_removed(struct pmx_switch *sw, uint32_t rule_id);

/** Hook: every rule of client `owner` is about to be deleted (detach). Management lcore. */
void pmx_offload_owner_removed(struct pmx_switch *sw, uint16_t owner);

/** Offloaded rules installed now, created in total and failed to install (for stats). */
void pmx_offload_counts(const struct pmx_switch *sw, uint64_t *installed, uint64_t *created,
			uint64_t *failed);

/** Destroy every offloaded rule and free the offload state. Accepts sw->offload NULL.
 *  Management lcore, before the ports stop. */
void pmx_offload_close(struct pmx_switch *sw);

#endif
