/* SPDX-License-Identifier: BSD-3-Clause */
/* pmx_packet.c - frame parser: one Ethernet frame -> class + flow key (wire or client -> switch) */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "pmx_packet.h"

#define ETH_HDR_LEN 14
#define VLAN_TAG_LEN 4
#define ARP_LEN 28 /* Ethernet/IPv4 ARP */
#define IPV4_MIN_HDR 20
#define IPV6_HDR_LEN 40
#define IPV6_EXT_MIN 8
#define ICMP_HDR_LEN 8
#define QUOTE_L4_LEN 8 /* what an ICMP error must quote after the IP header */
#define PORTS_LEN 4

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_IPV6 0x86dd

#define IPV4_MF 0x2000
#define IPV4_OFFSET_MASK 0x1fff
#define IPV6_OFFSET_MASK 0xfff8
#define IPV6_M 0x0001

/* What an IPv6 extension-header walk found. */
struct ipv6_chain {
	uint32_t off;        /* offset of the upper-layer header from the IPv6 header */
	uint8_t proto;       /* upper-layer protocol (fragment's next header if non-first) */
	uint8_t is_fragment; /* a fragment header with offset != 0 or M set was seen */
	uint8_t more_fragments;
	uint16_t frag_offset; /* bytes */
	uint32_t frag_id;
};

static inline uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return ntohs(v);
}

static inline uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return ntohl(v);
}

static inline enum pmx_dir reverse_dir(enum pmx_dir dir)
{
	return dir == PMX_DIR_IN ? PMX_DIR_OUT : PMX_DIR_IN;
}

/* Records why the frame is bad; the key of a malformed frame is all zero. */
static enum pmx_pkt_class malformed(struct pmx_pkt_info *info, enum pmx_malformed why)
{
	memset(&info->key, 0, sizeof(info->key));
	info->malformed_reason = why;
	return PMX_PKT_MALFORMED;
}

/* An L4 header too short for the key: a first fragment cut too early, or a truncated header. */
static enum pmx_pkt_class l4_too_short(struct pmx_pkt_info *info)
{
	return malformed(info, info->is_fragment ? PMX_BAD_FRAGMENT : PMX_BAD_L4);
}

/* Stores the addresses as header src/dst; dir says which of them is ours. */
static void key_set_ips(struct pmx_flow_key *key, uint8_t family, const uint8_t *src,
			const uint8_t *dst, enum pmx_dir dir)
{
	const uint8_t *local = dir == PMX_DIR_IN ? dst : src;
	const uint8_t *remote = dir == PMX_DIR_IN ? src : dst;

	if (family == 4) {
		pmx_ip4_to_key(local, key->local_ip);
		pmx_ip4_to_key(remote, key->remote_ip);
	} else {
		memcpy(key->local_ip, local, 16);
		memcpy(key->remote_ip, remote, 16);
	}
}

/* Stores the source/destination ports at l4[0..3] (network order) seen from dir. */
static void key_set_ports(struct pmx_flow_key *key, const uint8_t *l4, enum pmx_dir dir)
{
	memcpy(&key->local_port, l4 + (dir == PMX_DIR_IN ? 2 : 0), 2);
	memcpy(&key->remote_port, l4 + (dir == PMX_DIR_IN ? 0 : 2), 2);
}

/* Minimal header length of a protocol whose first 4 bytes are the ports, 0 for the others. */
static uint32_t ported_min_len(uint8_t proto)
{
	switch (proto) {
	case PMX_PROTO_TCP:
		return 20;
	case PMX_PROTO_UDP:
	case PMX_PROTO_UDPLITE:
		return 8;
	case PMX_PROTO_SCTP:
	case PMX_PROTO_DCCP:
		return 12;
	default:
		return 0;
	}
}

static int is_icmp(uint8_t family, uint8_t proto)
{
	return family == 4 ? proto == PMX_PROTO_ICMP : proto == PMX_PROTO_ICMPV6;
}

static int icmp_is_echo(uint8_t family, uint8_t type)
{
	if (family == 4)
		return type == 8 || type == 0;
	return type == 128 || type == 129;
}

static int icmp_is_error(uint8_t family, uint8_t type)
{
	if (family == 4)
		return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
	return type >= 1 && type <= 4;
}

static int ipv6_is_ext(uint8_t nh)
{
	return nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_DSTOPTS ||
	       nh == IPPROTO_FRAGMENT || nh == IPPROTO_AH;
}

/* Length of the IPv6 extension header h of type nh; its first 8 bytes are readable. */
static uint32_t ipv6_ext_len(uint8_t nh, const uint8_t *h)
{
	if (nh == IPPROTO_FRAGMENT)
		return IPV6_EXT_MIN;
	if (nh == IPPROTO_AH)
		return ((uint32_t)h[1] + 2) * 4;
	return ((uint32_t)h[1] + 1) * 8;
}

/* Records a fragment header; offset 0 with M clear (an atomic fragment) is no fragment. */
static void ipv6_note_fragment(const uint8_t *h, struct ipv6_chain *c)
{
	uint16_t fo = rd16(h + 2);

	if (!(fo & (IPV6_OFFSET_MASK | IPV6_M)))
		return;
	c->is_fragment = 1;
	c->more_fragments = fo & IPV6_M;
	c->frag_offset = fo & IPV6_OFFSET_MASK;
	c->frag_id = rd32(h + 4);
}

/*
 * Walks the extension headers of the IPv6 packet at ip6, whose bytes end at `end` (>= 40).
 * Stops at the first upper-layer header, or after a non-first fragment's header (what follows
 * is payload). Returns 0, or -EBADMSG when a header is truncated or there are more than
 * PMX_IPV6_EXT_MAX of them.
 */
static int ipv6_walk_ext(const uint8_t *ip6, uint32_t end, struct ipv6_chain *c)
{
	uint32_t off = IPV6_HDR_LEN;
	uint8_t nh = ip6[6];
	unsigned int n;

	memset(c, 0, sizeof(*c));
	for (n = 0; ipv6_is_ext(nh) && !c->frag_offset; n++) {
		const uint8_t *h = ip6 + off;
		uint32_t hlen;

		if (n == PMX_IPV6_EXT_MAX || end - off < IPV6_EXT_MIN)
			return -EBADMSG;
		hlen = ipv6_ext_len(nh, h);
		if (hlen > end - off)
			return -EBADMSG;
		if (nh == IPPROTO_FRAGMENT)
			ipv6_note_fragment(h, c);
		nh = h[0];
		off += hlen;
	}
	c->proto = nh;
	c->off = off;
	return 0;
}

/*
 * Fills the key from the packet quoted by an ICMP error: q holds avail bytes of it, and qdir
 * is the way the quoted packet went (the reverse of the error's direction).
 */
static enum pmx_pkt_class parse_quote(const uint8_t *q, uint32_t avail, enum pmx_dir qdir,
				      struct pmx_pkt_info *info)
{
	struct pmx_flow_key *key = &info->key;
	struct ipv6_chain c;
	uint32_t hlen;
	uint8_t proto;
	int first;

	if (info->family == 4) {
		if (avail < IPV4_MIN_HDR || (q[0] >> 4) != 4 || (q[0] & 0xf) < 5)
			return malformed(info, PMX_BAD_ICMP_QUOTE);
		hlen = (q[0] & 0xfu) * 4;
		proto = q[9];
		first = (rd16(q + 6) & IPV4_OFFSET_MASK) == 0;
		key_set_ips(key, 4, q + 12, q + 16, qdir);
	} else {
		if (avail < IPV6_HDR_LEN || (q[0] >> 4) != 6 || ipv6_walk_ext(q, avail, &c) < 0)
			return malformed(info, PMX_BAD_ICMP_QUOTE);
		hlen = c.off;
		proto = c.proto;
		first = c.frag_offset == 0;
		key_set_ips(key, 6, q + 8, q + 24, qdir);
	}
	if (avail < hlen + QUOTE_L4_LEN)
		return malformed(info, PMX_BAD_ICMP_QUOTE);

	key->proto = proto;
	if (!first)
		return PMX_PKT_ICMP_ERROR; /* quoted a non-first fragment: no ports */
	if (ported_min_len(proto))
		key_set_ports(key, q + hlen, qdir);
	else if (is_icmp(info->family, proto) && icmp_is_echo(info->family, q[hlen]))
		memcpy(&key->local_port, q + hlen + 4, 2);
	return PMX_PKT_ICMP_ERROR;
}

/* ICMP/ICMPv6 at icmp (avail bytes): echo -> flow on the identifier, ND, errors, the rest. */
static enum pmx_pkt_class parse_icmp(const uint8_t *icmp, uint32_t avail, enum pmx_dir dir,
				     struct pmx_pkt_info *info)
{
	uint8_t type;

	if (avail < ICMP_HDR_LEN)
		return l4_too_short(info);
	type = icmp[0];
	if (icmp_is_echo(info->family, type)) {
		memcpy(&info->key.local_port, icmp + 4, 2);
		return PMX_PKT_FLOW;
	}
	if (info->family == 6 && type >= 133 && type <= 137)
		return PMX_PKT_ND;
	if (icmp_is_error(info->family, type))
		return parse_quote(icmp + ICMP_HDR_LEN, avail - ICMP_HDR_LEN, reverse_dir(dir),
				   info);
	return PMX_PKT_IP_OTHER;
}

/*
 * The upper layer of an unfragmented packet or a first fragment: l4 holds avail bytes up to
 * the end of the IP payload. A first fragment needs only the bytes the key is made of.
 */
static enum pmx_pkt_class parse_l4(const uint8_t *l4, uint32_t avail, enum pmx_dir dir,
				   struct pmx_pkt_info *info)
{
	uint8_t proto = info->key.proto;
	uint32_t min = ported_min_len(proto);

	if (min) {
		if (avail < (info->is_fragment ? PORTS_LEN : min))
			return l4_too_short(info);
		key_set_ports(&info->key, l4, dir);
		return PMX_PKT_FLOW;
	}
	if (is_icmp(info->family, proto))
		return parse_icmp(l4, avail, dir, info);
	return PMX_PKT_IP_OTHER;
}

/* IPv4 header at ip, avail bytes to the end of the frame (Ethernet padding included). */
/* A later fragment (offset > 0) carrying payload_len bytes: it may not reach beyond the 64 KiB
 * of a datagram, nor (TCP, RFC 1858) start at offset 8, where it would overwrite the flags of
 * the TCP header its first fragment carried. */
static enum pmx_pkt_class later_fragment(struct pmx_pkt_info *info, uint32_t payload_len)
{
	if ((uint32_t)info->frag_offset + payload_len > 65535 ||
	    (info->key.proto == IPPROTO_TCP && info->frag_offset == 8))
		return malformed(info, PMX_BAD_FRAGMENT);
	return PMX_PKT_FRAGMENT;
}

static enum pmx_pkt_class parse_ipv4(const uint8_t *ip, uint32_t avail, enum pmx_dir dir,
				     struct pmx_pkt_info *info)
{
	uint32_t hlen, total;
	uint16_t frag;

	info->family = 4;
	if (avail < IPV4_MIN_HDR || (ip[0] >> 4) != 4)
		return malformed(info, PMX_BAD_IP_HDR);
	hlen = (ip[0] & 0xfu) * 4;
	if (hlen < IPV4_MIN_HDR || hlen > avail)
		return malformed(info, PMX_BAD_IP_HDR);
	total = rd16(ip + 2);
	if (total < hlen || total > avail)
		return malformed(info, PMX_BAD_IP_LEN);

	info->key.kind = PMX_KEY_EXACT;
	info->key.proto = ip[9];
	key_set_ips(&info->key, 4, ip + 12, ip + 16, dir);
	frag = rd16(ip + 6);
	if (frag & (IPV4_MF | IPV4_OFFSET_MASK)) {
		info->is_fragment = 1;
		info->more_fragments = (frag & IPV4_MF) != 0;
		info->frag_id = rd16(ip + 4);
		info->frag_offset = (uint16_t)((frag & IPV4_OFFSET_MASK) * 8);
		if (info->frag_offset)
			return later_fragment(info, total - hlen);
	}
	info->l4_offset = (uint16_t)(info->l3_offset + hlen);
	return parse_l4(ip + hlen, total - hlen, dir, info);
}

/* IPv6 header at ip, avail bytes to the end of the frame (Ethernet padding included). */
static enum pmx_pkt_class parse_ipv6(const uint8_t *ip, uint32_t avail, enum pmx_dir dir,
				     struct pmx_pkt_info *info)
{
	struct ipv6_chain c;
	uint32_t end;

	info->family = 6;
	if (avail < IPV6_HDR_LEN || (ip[0] >> 4) != 6)
		return malformed(info, PMX_BAD_IP_HDR);
	end = IPV6_HDR_LEN + (uint32_t)rd16(ip + 4);
	if (end > avail)
		return malformed(info, PMX_BAD_IP_LEN);
	if (ipv6_walk_ext(ip, end, &c) < 0)
		return malformed(info, PMX_BAD_EXT_CHAIN);

	info->key.kind = PMX_KEY_EXACT;
	info->key.proto = c.proto;
	key_set_ips(&info->key, 6, ip + 8, ip + 24, dir);
	if (c.is_fragment) {
		info->is_fragment = 1;
		info->more_fragments = c.more_fragments;
		info->frag_id = c.frag_id;
		info->frag_offset = c.frag_offset;
		if (c.frag_offset)
			return later_fragment(info, end - c.off);
	}
	if (c.proto != IPPROTO_NONE)
		info->l4_offset = (uint16_t)(info->l3_offset + c.off);
	return parse_l4(ip + c.off, end - c.off, dir, info);
}

/* Ethernet header and at most one 802.1Q tag, then the L3 parser for the ethertype. */
static enum pmx_pkt_class parse_l2(const uint8_t *frame, uint32_t len, enum pmx_dir dir,
				   struct pmx_pkt_info *info)
{
	uint32_t l3 = ETH_HDR_LEN;
	uint16_t ethertype;

	if (len < ETH_HDR_LEN)
		return malformed(info, PMX_BAD_ETH);
	ethertype = rd16(frame + 12);
	if (ethertype == ETHERTYPE_VLAN) {
		if (len < ETH_HDR_LEN + VLAN_TAG_LEN)
			return malformed(info, PMX_BAD_ETH);
		info->has_vlan = 1;
		info->vlan_tci = rd16(frame + 14);
		ethertype = rd16(frame + 16);
		l3 += VLAN_TAG_LEN;
	}
	info->ethertype = ethertype;
	info->l3_offset = (uint16_t)l3;

	switch (ethertype) {
	case ETHERTYPE_IPV4:
		return parse_ipv4(frame + l3, len - l3, dir, info);
	case ETHERTYPE_IPV6:
		return parse_ipv6(frame + l3, len - l3, dir, info);
	case ETHERTYPE_ARP:
		if (len - l3 < ARP_LEN)
			return malformed(info, PMX_BAD_ARP);
		return PMX_PKT_ARP;
	default:
		return PMX_PKT_NON_IP; /* also a second tag (QinQ 0x88a8, 0x8100 again) */
	}
}

/* A broadcast/multicast destination MAC overrides the IP classes except ND (and MALFORMED). */
static int mcast_overrides(enum pmx_pkt_class cls)
{
	return cls == PMX_PKT_FLOW || cls == PMX_PKT_IP_OTHER || cls == PMX_PKT_ICMP_ERROR ||
	       cls == PMX_PKT_FRAGMENT;
}

enum pmx_pkt_class pmx_packet_parse_full(const uint8_t *frame, uint32_t len, enum pmx_dir dir,
					 struct pmx_pkt_info *info)
{
	enum pmx_pkt_class cls;

	memset(info, 0, sizeof(*info));
	cls = parse_l2(frame, len, dir, info);
	if (mcast_overrides(cls) && (frame[0] & 0x01)) /* I/G bit of the destination MAC */
		cls = PMX_PKT_MULTICAST;
	info->cls = (uint8_t)cls;
	return cls;
}

static const char *const class_names[PMX_PKT_CLASS_MAX] = {
	[PMX_PKT_MALFORMED] = "malformed",
	[PMX_PKT_FLOW] = "flow",
	[PMX_PKT_IP_OTHER] = "ip_other",
	[PMX_PKT_ICMP_ERROR] = "icmp_error",
	[PMX_PKT_FRAGMENT] = "fragment",
	[PMX_PKT_ARP] = "arp",
	[PMX_PKT_ND] = "nd",
	[PMX_PKT_MULTICAST] = "multicast",
	[PMX_PKT_NON_IP] = "non_ip",
};

static const char *const malformed_names[PMX_BAD_MAX] = {
	[PMX_BAD_NONE] = "none",
	[PMX_BAD_ETH] = "eth",
	[PMX_BAD_IP_HDR] = "ip_hdr",
	[PMX_BAD_IP_LEN] = "ip_len",
	[PMX_BAD_EXT_CHAIN] = "ext_chain",
	[PMX_BAD_L4] = "l4",
	[PMX_BAD_ICMP_QUOTE] = "icmp_quote",
	[PMX_BAD_ARP] = "arp",
	[PMX_BAD_FRAGMENT] = "fragment",
};

const char *pmx_packet_class_name(enum pmx_pkt_class cls)
{
	if ((unsigned int)cls >= PMX_PKT_CLASS_MAX)
		return "unknown";
	return class_names[cls];
}

const char *pmx_packet_malformed_name(enum pmx_malformed why)
{
	if ((unsigned int)why >= PMX_BAD_MAX)
		return "unknown";
	return malformed_names[why];
}

static const uint8_t v4_mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

void pmx_ip4_to_key(const uint8_t ip4[4], uint8_t out[16])
{
	memcpy(out, v4_mapped_prefix, sizeof(v4_mapped_prefix));
	memcpy(out + sizeof(v4_mapped_prefix), ip4, 4);
}

int pmx_key_ip_is_v4(const uint8_t ip[16])
{
	return memcmp(ip, v4_mapped_prefix, sizeof(v4_mapped_prefix)) == 0;
}

void pmx_packet_turn(struct pmx_pkt_info *info)
{
	struct pmx_flow_key *key = &info->key;
	uint8_t ip[16];
	uint16_t port;

	memcpy(ip, key->local_ip, 16);
	memcpy(key->local_ip, key->remote_ip, 16);
	memcpy(key->remote_ip, ip, 16);
	if (key->proto == PMX_PROTO_ICMP || key->proto == PMX_PROTO_ICMPV6)
		return; /* an echo identifier (or no port at all) */
	port = key->local_port;
	key->local_port = key->remote_port;
	key->remote_port = port;
}
