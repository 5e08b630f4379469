/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * pmx_packet.h - frame parser: one Ethernet frame -> class + flow key (both directions).
 *
 * The parser is pure (no DPDK calls, no allocation): it reads at most `len` bytes from
 * `frame` and fills a struct pmx_pkt_info. It is used on the RX hot path (wire -> switch,
 * PMX_DIR_IN: "local" = destination) and on client/kernel TX (PMX_DIR_OUT: "local" = source).
 */
#ifndef PMX_PACKET_H
#define PMX_PACKET_H

#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/** Where a frame goes, decided by its headers alone (before any rule lookup). */
enum pmx_pkt_class {
	PMX_PKT_MALFORMED = 0, /**< truncated or inconsistent: count and drop */
	PMX_PKT_FLOW,          /**< IPv4/IPv6 unicast with a flow key (ports or ICMP echo id) */
	PMX_PKT_IP_OTHER,      /**< IP without ports (GRE, ESP, ...): key has proto and IPs, ports 0 */
	PMX_PKT_ICMP_ERROR,    /**< ICMP/ICMPv6 error: key is the quoted flow, seen from our side */
	PMX_PKT_FRAGMENT,      /**< non-first IP fragment: key has proto and IPs; frag_id set */
	PMX_PKT_ARP,           /**< ARP request/reply */
	PMX_PKT_ND,            /**< ICMPv6 router/neighbour solicitation/advertisement, redirect */
	PMX_PKT_MULTICAST,     /**< broadcast or multicast destination MAC (not ARP/ND) */
	PMX_PKT_NON_IP,        /**< other ethertype (LLDP, ...) */
	PMX_PKT_CLASS_MAX
};

/** Which end of the frame is "ours". */
enum pmx_dir {
	PMX_DIR_IN = 0,  /**< received from the wire: local = destination */
	PMX_DIR_OUT = 1, /**< sent by a client or the kernel: local = source */
};

/** Kinds of flow-table keys, tried in this order on lookup. */
enum pmx_key_kind {
	PMX_KEY_EXACT = 1,  /**< proto, local ip:port, remote ip:port */
	PMX_KEY_LISTEN = 2, /**< proto, local ip:port (remote zero); local ip may be zero = any */
	PMX_KEY_IP = 3,     /**< local ip only (proto, ports, remote zero) */
	PMX_KEY_FRAG = 4,   /**< a fragmented datagram: proto, ips, id in local/remote_port */
	PMX_KEY_PEER = 5,   /**< proto, local ip:port, remote ip (remote port zero = any) */
	PMX_KEY_PROTO = 6,  /**< proto, local ip (ports zero = any), remote ip (zero = any) */
};

#define PMX_PROTO_ICMP 1
#define PMX_PROTO_TCP 6
#define PMX_PROTO_UDP 17
#define PMX_PROTO_DCCP 33
#define PMX_PROTO_ICMPV6 58
#define PMX_PROTO_SCTP 132
#define PMX_PROTO_UDPLITE 136

/**
 * The flow-table key: 40 bytes, no padding holes, hashed as raw bytes.
 * IPv4 addresses are stored IPv4-mapped (::ffff:a.b.c.d). Ports are in network byte
 * order. For ICMP/ICMPv6 echo request/reply the echo identifier is local_port and
 * remote_port is 0 (so echo is matched by PMX_KEY_LISTEN rules on the identifier).
 */
struct pmx_flow_key {
	uint8_t kind;     /**< enum pmx_key_kind */
	uint8_t proto;    /**< IP protocol number */
	uint16_t port_id; /**< NIC port index in the switch (0 in the parser's output) */
	uint16_t local_port;
	uint16_t remote_port;
	uint8_t local_ip[16];
	uint8_t remote_ip[16];
} __attribute__((aligned(8))); /* rte_hash_crc() reads keys 8 bytes at a time */
_Static_assert(sizeof(struct pmx_flow_key) == 40, "flow key must be 40 bytes, no holes");
_Static_assert(offsetof(struct pmx_flow_key, remote_port) ==
		       offsetof(struct pmx_flow_key, local_port) + 2,
	       "the parser writes both ports in one store");

/** What the parser learned of one frame. */
struct pmx_pkt_info {
	uint8_t cls;        /**< enum pmx_pkt_class */
	uint8_t family;     /**< 4 or 6 for IP classes, 0 otherwise */
	uint8_t is_fragment; /**< 1 for any fragment (first or later) */
	uint8_t more_fragments; /**< MF flag / M bit */
	uint16_t vlan_tci;  /**< 802.1Q TCI (host order) or 0 */
	uint8_t has_vlan;
	uint8_t malformed_reason; /**< enum pmx_malformed when cls == PMX_PKT_MALFORMED */
	uint16_t l3_offset; /**< offset of the IP/ARP header */
	uint16_t l4_offset; /**< offset of the L4 header (after IPv6 extension headers), 0 if none */
	uint32_t frag_id;   /**< IPv4 id or IPv6 fragment identification, for fragments */
	uint16_t frag_offset; /**< in bytes */
	uint16_t ethertype; /**< inner ethertype (host order) */
	struct pmx_flow_key key; /**< kind = PMX_KEY_EXACT, port_id = 0 */
};

/** Why a frame was found malformed (for counters and tests). */
enum pmx_malformed {
	PMX_BAD_NONE = 0,
	PMX_BAD_ETH,        /**< shorter than an Ethernet header / VLAN tag */
	PMX_BAD_IP_HDR,     /**< truncated IP header, IHL < 5, wrong version */
	PMX_BAD_IP_LEN,     /**< total/payload length beyond the frame or below header */
	PMX_BAD_EXT_CHAIN,  /**< IPv6 extension chain truncated or longer than the bound */
	PMX_BAD_L4,         /**< L4 header truncated */
	PMX_BAD_ICMP_QUOTE, /**< ICMP error quoting less than an IP header + 8 bytes */
	PMX_BAD_ARP,        /**< truncated ARP */
	PMX_BAD_FRAGMENT,   /**< impossible fragment (e.g. first fragment too small for ports) */
	PMX_BAD_MAX
};

/** Maximum number of IPv6 extension headers walked before the frame is malformed. */
#define PMX_IPV6_EXT_MAX 8

/**
 * Parse one frame: the general parser, every case.
 * Thread-safe (pure function). Reads only frame[0 .. len-1].
 * Precedence: MALFORMED first; ARP, ND and NON_IP keep their class whatever the destination
 * MAC (LLDP stays NON_IP); every other IP class sent to a broadcast/multicast MAC becomes
 * MULTICAST, with its key still filled. The key is all zero for MALFORMED, ARP and NON_IP.
 * @return the class (also stored in info->cls); PMX_PKT_MALFORMED with
 *         info->malformed_reason set when the frame is truncated or inconsistent.
 */
enum pmx_pkt_class pmx_packet_parse_full(const uint8_t *frame, uint32_t len, enum pmx_dir dir,
					 struct pmx_pkt_info *info);

/**
 * The common frame, parsed inline: unicast Ethernet, no VLAN tag, IPv4 without options or
 * fragmentation, TCP or UDP with its whole header in the packet.
 * Thread-safe (pure function). Reads only frame[0 .. len-1].
 * @return 1 with info filled exactly as pmx_packet_parse_full() fills it (tests/unit/
 *         test_packet.c and the parser's fuzz target compare the two byte for byte);
 *         0, with info untouched, for any other frame.
 */
static inline int pmx_packet_parse_fast(const uint8_t *frame, uint32_t len, enum pmx_dir dir,
					struct pmx_pkt_info *info)
{
	const uint8_t *ip = frame + 14, *src = ip + 12, *dst = ip + 16, *l4 = ip + 20;
	struct pmx_flow_key *key = &info->key;
	uint16_t ethertype, frag, total;
	uint32_t min_total;

	if (__builtin_expect(len < 14 + 20 + 8, 0))
		return 0;
	memcpy(&ethertype, frame + 12, 2);
	memcpy(&frag, ip + 6, 2);
	memcpy(&total, ip + 2, 2);
	total = ntohs(total);
	/* IPv4, IHL 5, MF clear and offset 0 (DF may be set), unicast destination MAC */
	if (ethertype != htons(0x0800) || ip[0] != 0x45 || (frag & htons(0x3fff)) != 0 ||
	    (frame[0] & 0x01) != 0)
		return 0;
	if (ip[9] == PMX_PROTO_UDP)
		min_total = 20 + 8;
	else if (ip[9] == PMX_PROTO_TCP)
		min_total = 20 + 20;
	else
		return 0;
	if (total < min_total || total > len - 14)
		return 0;

	/* what every such frame has (padding zero, as a static object's is), then its own */
	static const struct pmx_pkt_info flow4 = {
		.cls = PMX_PKT_FLOW,
		.family = 4,
		.l3_offset = 14,
		.l4_offset = 14 + 20,
		.ethertype = 0x0800,
		.key = {.kind = PMX_KEY_EXACT,
			.local_ip = {[10] = 0xff, [11] = 0xff}, /* IPv4-mapped */
			.remote_ip = {[10] = 0xff, [11] = 0xff}},
	};
	uint32_t ports;

	memcpy(info, &flow4, sizeof(*info));
	key->proto = ip[9];
	memcpy(key->local_ip + 12, dir == PMX_DIR_IN ? dst : src, 4);
	memcpy(key->remote_ip + 12, dir == PMX_DIR_IN ? src : dst, 4);
	/* local_port and remote_port are adjacent: both in one store, the halves of the L4
	 * header's first word swapped when the local end is the destination */
	memcpy(&ports, l4, 4);
	if (dir == PMX_DIR_IN)
		ports = ports >> 16 | ports << 16;
	memcpy((uint8_t *)key + offsetof(struct pmx_flow_key, local_port), &ports, 4);
	return 1;
}

/**
 * Turn info (of a frame parsed in one direction) into what parsing the frame in the other
 * direction gives: the key's ends trade places, except an ICMP echo's identifier, which is the
 * local port both ways. Thread-safe (pure function); the parser's fuzz target checks it
 * against a second parse of every input.
 */
void pmx_packet_turn(struct pmx_pkt_info *info);

/**
 * Parse one frame: pmx_packet_parse_fast() for the common frame, else pmx_packet_parse_full().
 * Thread-safe (pure function). Reads only frame[0 .. len-1]. Same result and contract as
 * pmx_packet_parse_full().
 */
static inline enum pmx_pkt_class pmx_packet_parse(const uint8_t *frame, uint32_t len,
						  enum pmx_dir dir, struct pmx_pkt_info *info)
{
	if (__builtin_expect(pmx_packet_parse_fast(frame, len, dir, info), 1))
		return PMX_PKT_FLOW;
	return pmx_packet_parse_full(frame, len, dir, info);
}

/** Name of a class / malformed reason for stats ("flow", "arp", ... / "ip_len", ...). */
const char *pmx_packet_class_name(enum pmx_pkt_class cls);
const char *pmx_packet_malformed_name(enum pmx_malformed why);

/** Store an IPv4 address (network order bytes) IPv4-mapped into a 16-byte key field. */
void pmx_ip4_to_key(const uint8_t ip4[4], uint8_t out[16]);
/** Nonzero when a 16-byte key address is IPv4-mapped. */
int pmx_key_ip_is_v4(const uint8_t ip[16]);

#endif
