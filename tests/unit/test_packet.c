/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_packet.c - unit tests for the frame parser (lib/packet/pmx_packet.c)
 *
 * Covers, negative cases first:
 *  - malformed frames: empty/short Ethernet header, cut VLAN tag; IPv4 header cut, wrong
 *    version, IHL < 5, options beyond the frame, total length beyond the frame or below the
 *    header; IPv6 header cut, wrong version, payload length beyond the frame; extension chain
 *    cut (before the length byte, inside a header, at an AH) or longer than PMX_IPV6_EXT_MAX;
 *    every L4 header one byte short (TCP, UDP, SCTP, UDP-Lite, DCCP, ICMP, over v4 and v6),
 *    or cut by the IP length while the frame is padded; ICMP errors quoting nothing, a short
 *    IP header, a header + 7 bytes, options beyond the quote, the wrong IP version, a cut
 *    extension chain; ARP cut; first fragments too short for the ports / the ICMP header;
 *    malformed wins over a broadcast MAC; the key of a malformed frame is all zero
 *  - robustness: every prefix of every frame, and mutated frames, parsed from exact-size
 *    buffers (no read beyond len under ASan) with consistent class, reason and key
 *  - valid frames, checking class, family, proto and both key ends: TCP/UDP/SCTP/UDP-Lite/DCCP
 *    over IPv4 and IPv6, PMX_DIR_IN and PMX_DIR_OUT; VLAN; IPv4 options; Ethernet padding;
 *    IPv6 hop-by-hop + destination options + fragment, AH, exactly PMX_IPV6_EXT_MAX headers;
 *    ESP, no-next-header, GRE, ICMPv6 number inside IPv4; first, non-first and atomic fragments
 *    (v4, v6); ICMP/ICMPv6 echo identifier; timestamp, MLD -> ip_other; ICMP errors of every
 *    type (v4, v6) quoting TCP/UDP/echo/GRE, IPv4 options, an IPv6 extension header, a non-first
 *    fragment, with the key reversed for both directions; ARP; ND (RS, RA, NS, NA, redirect);
 *    broadcast and multicast MACs; second 802.1Q tag, QinQ, LLDP -> non_ip
 *  - info fields: VLAN TCI, l3/l4 offsets, ethertype, fragment id/offset/more flag
 *  - raw key bytes (layout, network order, zero bytes) for a UDP/IPv4 frame
 *  - class and reason names; pmx_ip4_to_key and pmx_key_ip_is_v4
 *  - the inline fast path (pmx_packet_parse_fast) against the full parser: byte-equal info for
 *    every prefix and many mutations of every frame above, both directions; it takes the
 *    plain TCP/UDP over IPv4 frames and declines the rest
 */

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "pmx_packet.h"

#define FRAME_MAX 2048
#define SPORT 1234 /* the outer packet goes A:SPORT -> B:DPORT */
#define DPORT 80
#define QSPORT 1111 /* the quoted packet went C:QSPORT -> D:QDPORT */
#define QDPORT 2222
#define ECHO_ID 0x4242
#define IP_ID 0x1234
#define FRAG6_ID 0x89abcdefu
#define QUOTING(proto) ((proto) << 8) /* b_icmp_err's b: ICMP type | QUOTING(proto) */

enum { TCP = PMX_PROTO_TCP, UDP = PMX_PROTO_UDP, SCTP = PMX_PROTO_SCTP,
       UDPL = PMX_PROTO_UDPLITE, DCCP = PMX_PROTO_DCCP, ICMP = PMX_PROTO_ICMP,
       ICMP6 = PMX_PROTO_ICMPV6, GRE = 47, ESP = 50, NONXT = 59 };
enum { HBH = 0, FRAG = 44, AH = 51, DSTOPT = 60 };
enum mac { MAC_UNICAST, MAC_BCAST, MAC_MCAST6, MAC_LLDP };
/* Quoted-packet variants for ICMP errors. */
enum { Q_PLAIN, Q_EXT, Q_NONFIRST, Q_OTHER_VERSION };

enum host { H_NONE, H_A, H_B, H_C, H_D };
static const uint8_t ip4[5][4] = {
	{ 0 }, { 192, 0, 2, 1 }, { 198, 51, 100, 2 }, { 10, 0, 0, 3 }, { 10, 0, 0, 4 },
};
static const uint8_t ip6[5][16] = {
	{ 0 },
	{ 0x20, 0x01, 0x0d, 0xb8, [15] = 1 },
	{ 0x20, 0x01, 0x0d, 0xb8, [15] = 2 },
	{ 0x20, 0x01, 0x0d, 0xb8, 0xc, [15] = 3 },
	{ 0x20, 0x01, 0x0d, 0xb8, 0xd, [15] = 4 },
};
static const uint8_t macs[4][6] = {
	{ 0x02, 0, 0, 0, 0, 1 },
	{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
	{ 0x33, 0x33, 0xff, 0, 0, 2 },
	{ 0x01, 0x80, 0xc2, 0, 0, 0x0e },
};

struct frame {
	uint8_t b[FRAME_MAX];
	uint32_t len;
};

/* ---- frame builders: append bytes in wire order ---- */

static void put(struct frame *f, const void *p, uint32_t n)
{
	memcpy(f->b + f->len, p, n);
	f->len += n;
}

static void put8(struct frame *f, uint8_t v)
{
	put(f, &v, 1);
}

static void put16(struct frame *f, uint16_t v)
{
	v = htons(v);
	put(f, &v, 2);
}

static void put32(struct frame *f, uint32_t v)
{
	v = htonl(v);
	put(f, &v, 4);
}

static void put_zero(struct frame *f, uint32_t n)
{
	memset(f->b + f->len, 0, n);
	f->len += n;
}

static void set16(struct frame *f, uint32_t off, uint16_t v)
{
	v = htons(v);
	memcpy(f->b + off, &v, 2);
}

static void eth(struct frame *f, enum mac dst, uint16_t ethertype)
{
	f->len = 0;
	put(f, macs[dst], 6);
	put(f, macs[MAC_UNICAST], 6);
	put16(f, ethertype);
}

/* IPv4 header src -> dst with ihl words (NOP options); the total length is set by ip_done(). */
static uint32_t ipv4(struct frame *f, uint8_t proto, enum host src, enum host dst, int ihl)
{
	uint32_t at = f->len;

	put8(f, (uint8_t)(0x40 | ihl));
	put8(f, 0);
	put16(f, 0);
	put16(f, IP_ID);
	put16(f, 0);
	put8(f, 64);
	put8(f, proto);
	put16(f, 0);
	put(f, ip4[src], 4);
	put(f, ip4[dst], 4);
	while (f->len - at < (uint32_t)ihl * 4)
		put8(f, 1);
	return at;
}

static uint32_t ipv6(struct frame *f, uint8_t nh, enum host src, enum host dst)
{
	uint32_t at = f->len;

	put32(f, 0x60000000);
	put16(f, 0);
	put8(f, nh);
	put8(f, 64);
	put(f, ip6[src], 16);
	put(f, ip6[dst], 16);
	return at;
}

/* Sets the IP length field so that the packet at `at` ends where the frame ends. */
static void ip_done(struct frame *f, int family, uint32_t at)
{
	if (family == 4)
		set16(f, at + 2, (uint16_t)(f->len - at));
	else
		set16(f, at + 4, (uint16_t)(f->len - at - 40));
}

/* Ethernet + IP header A -> B carrying proto (the first IPv6 next header). */
static uint32_t start_ip(struct frame *f, int family, uint8_t proto, int mac)
{
	eth(f, (enum mac)mac, family == 4 ? 0x0800 : 0x86dd);
	if (family == 4)
		return ipv4(f, proto, H_A, H_B, 5);
	return ipv6(f, proto, H_A, H_B);
}

static void ext6(struct frame *f, uint8_t nh, uint8_t len8)
{
	put8(f, nh);
	put8(f, len8);
	put_zero(f, 6 + 8u * len8); /* Pad1 options */
}

static void frag6(struct frame *f, uint8_t nh, uint16_t offset_and_m)
{
	put8(f, nh);
	put8(f, 0);
	put16(f, offset_and_m);
	put32(f, FRAG6_ID);
}

static uint32_t l4_min(uint8_t proto)
{
	switch (proto) {
	case TCP:
		return 20;
	case SCTP:
	case DCCP:
		return 12;
	default:
		return 8;
	}
}

static int is_ported(uint8_t proto)
{
	return proto == TCP || proto == UDP || proto == SCTP || proto == UDPL || proto == DCCP;
}

static uint8_t icmp_proto(int family)
{
	return family == 4 ? ICMP : ICMP6;
}

static void icmp(struct frame *f, uint8_t type, uint16_t id)
{
	put8(f, type);
	put8(f, 0);
	put16(f, 0);
	put16(f, id);
	put16(f, 1);
}

/* The L4 header of proto: ports padded to its minimal size, an echo request, or 8 bytes. */
static void put_l4(struct frame *f, int family, uint8_t proto, uint16_t sport, uint16_t dport)
{
	if (is_ported(proto)) {
		put16(f, sport);
		put16(f, dport);
		put_zero(f, l4_min(proto) - 4);
	} else if (proto == icmp_proto(family)) {
		icmp(f, family == 4 ? 8 : 128, ECHO_ID);
	} else {
		put_zero(f, 8);
	}
}

/* ---- case builders: (frame, a, b, c) ---- */

typedef void build_fn(struct frame *f, int a, int b, int c);

static void b_empty(struct frame *f, int a, int b, int c)
{
	(void)a, (void)b, (void)c;
	f->len = 0;
}

/* a: family, b: proto, c: destination MAC */
static void b_l4(struct frame *f, int a, int b, int c)
{
	uint32_t at = start_ip(f, a, (uint8_t)b, c);

	put_l4(f, a, (uint8_t)b, SPORT, DPORT);
	ip_done(f, a, at);
}

/* The L4 header one byte short. a: family, b: proto; c: 1 = cut by the IP length only. */
static void b_l4_short(struct frame *f, int a, int b, int c)
{
	uint32_t at = start_ip(f, a, (uint8_t)b, MAC_UNICAST);

	put_l4(f, a, (uint8_t)b, SPORT, DPORT);
	f->len--;
	ip_done(f, a, at);
	if (c)
		put_zero(f, 12); /* Ethernet padding after the IP packet */
}

/* IPv4 UDP with a: IHL, Ethernet padding to 60 bytes when b; c: total length if nonzero. */
static void b_v4_opts(struct frame *f, int a, int b, int c)
{
	uint32_t at;

	eth(f, MAC_UNICAST, 0x0800);
	at = ipv4(f, UDP, H_A, H_B, a);
	put_l4(f, 4, UDP, SPORT, DPORT);
	ip_done(f, 4, at);
	if (c)
		set16(f, at + 2, (uint16_t)c);
	if (b && f->len < 60)
		put_zero(f, 60 - f->len);
}

/* 802.1Q tag a (TCI) then ethertype b: IPv4 TCP, or 46 bytes of payload. */
static void b_vlan(struct frame *f, int a, int b, int c)
{
	uint32_t at;

	(void)c;
	eth(f, MAC_UNICAST, 0x8100);
	put16(f, (uint16_t)a);
	put16(f, (uint16_t)b);
	if (b != 0x0800) {
		put_zero(f, 46);
		return;
	}
	at = ipv4(f, TCP, H_A, H_B, 5);
	put_l4(f, 4, TCP, SPORT, DPORT);
	ip_done(f, 4, at);
}

/* A valid TCP frame of family a, then the IP header byte at b (from L3) set to c. */
static void b_ip_poke(struct frame *f, int a, int b, int c)
{
	b_l4(f, a, TCP, MAC_UNICAST);
	f->b[14 + b] = (uint8_t)c;
}

/* IPv4 UDP with total length a; c: broadcast MAC. */
static void b_v4_total(struct frame *f, int a, int b, int c)
{
	(void)b;
	b_l4(f, 4, UDP, c);
	set16(f, 14 + 2, (uint16_t)a);
}

/* IPv6 UDP whose payload length claims a bytes more than the frame has (b: or is b). */
static void b_v6_plen(struct frame *f, int a, int b, int c)
{
	(void)c;
	b_l4(f, 6, UDP, MAC_UNICAST);
	set16(f, 14 + 4, (uint16_t)(b ? b : (int)f->len - 54 + a));
}

/* a destination-options headers, then b (proto) */
static void b_v6_ext(struct frame *f, int a, int b, int c)
{
	uint32_t at = start_ip(f, 6, a ? DSTOPT : (uint8_t)b, MAC_UNICAST);
	int i;

	(void)c;
	for (i = 0; i < a; i++)
		ext6(f, i == a - 1 ? (uint8_t)b : DSTOPT, (uint8_t)(i & 1));
	put_l4(f, 6, (uint8_t)b, SPORT, DPORT);
	ip_done(f, 6, at);
}

/* Extension header a (24 bytes long when whole) of which only b bytes are in the packet. */
static void b_v6_ext_cut(struct frame *f, int a, int b, int c)
{
	uint32_t at = start_ip(f, 6, (uint8_t)a, MAC_UNICAST);

	(void)c;
	put8(f, UDP);
	put8(f, a == AH ? 4 : 2);
	put_zero(f, 22);
	f->len = at + 40 + (uint32_t)b;
	ip_done(f, 6, at);
}

/* Hop-by-hop + destination options + fragment (first, M set) + TCP. */
static void b_v6_chain(struct frame *f, int a, int b, int c)
{
	uint32_t at = start_ip(f, 6, HBH, MAC_UNICAST);

	(void)a, (void)b, (void)c;
	ext6(f, DSTOPT, 0);
	ext6(f, FRAG, 1);
	frag6(f, TCP, 0x0001);
	put_l4(f, 6, TCP, SPORT, DPORT);
	ip_done(f, 6, at);
}

/* AH (24 bytes) + TCP */
static void b_v6_ah(struct frame *f, int a, int b, int c)
{
	uint32_t at = start_ip(f, 6, AH, MAC_UNICAST);

	(void)a, (void)b, (void)c;
	put8(f, TCP);
	put8(f, 4);
	put_zero(f, 22);
	put_l4(f, 6, TCP, SPORT, DPORT);
	ip_done(f, 6, at);
}

/*
 * A UDP fragment of family a; b = offset in bytes | M flag (bit 0); c: destination MAC.
 * Offset 0 carries the UDP header and 8 bytes, later fragments 16 bytes of data.
 */
static void b_frag(struct frame *f, int a, int b, int c)
{
	uint16_t offset = (uint16_t)(b & ~1);
	uint32_t at = start_ip(f, a, a == 4 ? UDP : FRAG, c);

	if (a == 4)
		set16(f, at + 6, (uint16_t)((b & 1 ? 0x2000 : 0) | offset / 8));
	else
		frag6(f, UDP, (uint16_t)b);
	if (offset == 0)
		put_l4(f, a, UDP, SPORT, DPORT);
	put_zero(f, offset ? 16 : 8);
	ip_done(f, a, at);
}

/* A later fragment (M set) of family a, proto b, at offset c bytes, with 16 bytes of data. */
static void b_later_frag(struct frame *f, int a, int b, int c)
{
	uint32_t at = start_ip(f, a, a == 4 ? (uint8_t)b : FRAG, 0);

	if (a == 4)
		set16(f, at + 6, (uint16_t)(0x2000 | c / 8));
	else
		frag6(f, (uint8_t)b, (uint16_t)(c | 1));
	put_zero(f, 16);
	ip_done(f, a, at);
}

/* A first fragment (M set) of family a, proto b, with only c bytes of its L4 header. */
static void b_first_frag(struct frame *f, int a, int b, int c)
{
	uint32_t at = start_ip(f, a, a == 4 ? (uint8_t)b : FRAG, MAC_UNICAST);
	uint32_t l4;

	if (a == 4)
		set16(f, at + 6, 0x2000);
	else
		frag6(f, (uint8_t)b, 0x0001);
	l4 = f->len;
	put_l4(f, a, (uint8_t)b, SPORT, DPORT);
	f->len = l4 + (uint32_t)c;
	ip_done(f, a, at);
}

/* ICMP/ICMPv6 (family a) type b, identifier ECHO_ID; c: destination MAC. */
static void b_icmp(struct frame *f, int a, int b, int c)
{
	uint32_t at = start_ip(f, a, icmp_proto(a), c);

	icmp(f, (uint8_t)b, ECHO_ID);
	put_zero(f, 16);
	ip_done(f, a, at);
}

/* The packet C -> D an ICMP error quotes: IP header claiming 1000 bytes + 8 bytes of proto. */
static void put_quote(struct frame *f, int family, uint8_t proto, int variant)
{
	uint32_t at;

	if (variant == Q_OTHER_VERSION)
		family = family == 4 ? 6 : 4;
	if (family == 4) {
		at = ipv4(f, proto, H_C, H_D, variant == Q_EXT ? 6 : 5);
		set16(f, at + 2, 1000);
		if (variant == Q_NONFIRST)
			set16(f, at + 6, 100);
	} else {
		uint8_t nh = variant == Q_EXT ? HBH : variant == Q_NONFIRST ? FRAG : proto;

		at = ipv6(f, nh, H_C, H_D);
		set16(f, at + 4, 1000);
		if (variant == Q_EXT)
			ext6(f, proto, 0);
		if (variant == Q_NONFIRST)
			frag6(f, proto, 800);
	}
	at = f->len;
	put_l4(f, family, proto, QSPORT, QDPORT);
	f->len = at + 8;
}

/* ICMP error (family a) of type b & 0xff quoting proto b >> 8 (see QUOTING), variant c. */
static void b_icmp_err(struct frame *f, int a, int b, int c)
{
	uint32_t at = start_ip(f, a, icmp_proto(a), MAC_UNICAST);

	icmp(f, (uint8_t)(b & 0xff), 0);
	put_quote(f, a, (uint8_t)(b >> 8), c);
	ip_done(f, a, at);
}

/* ICMP destination unreachable (family a) keeping only b bytes of a UDP quote, variant c. */
static void b_icmp_err_cut(struct frame *f, int a, int b, int c)
{
	uint32_t at = start_ip(f, a, icmp_proto(a), MAC_UNICAST);

	icmp(f, a == 4 ? 3 : 1, 0);
	put_quote(f, a, UDP, c);
	f->len = at + (a == 4 ? 20 : 40) + 8 + (uint32_t)b; /* outer IP + ICMP + b */
	ip_done(f, a, at);
}

/* ARP request, to broadcast when a */
static void b_arp(struct frame *f, int a, int b, int c)
{
	(void)b, (void)c;
	eth(f, a ? MAC_BCAST : MAC_UNICAST, 0x0806);
	put16(f, 1);
	put16(f, 0x0800);
	put8(f, 6);
	put8(f, 4);
	put16(f, 1);
	put(f, macs[MAC_UNICAST], 6);
	put(f, ip4[H_A], 4);
	put_zero(f, 6);
	put(f, ip4[H_B], 4);
}

/* Ethertype a to MAC b, 46 bytes of payload */
static void b_ethertype(struct frame *f, int a, int b, int c)
{
	(void)c;
	eth(f, (enum mac)b, (uint16_t)a);
	put_zero(f, 46);
}


/* ---- tables ---- */

struct build {
	build_fn *fn;
	int a, b, c;
};

struct bad_case {
	const char *name;
	struct build build;
	uint32_t keep; /* frame bytes kept after building, 0 = all */
	enum pmx_malformed why;
};

static const struct bad_case bad_cases[] = {
	{ "eth: empty frame", { b_empty, 0, 0, 0 }, 0, PMX_BAD_ETH },
	{ "eth: 13 bytes", { b_l4, 4, TCP, 0 }, 13, PMX_BAD_ETH },
	{ "vlan: tag without ethertype", { b_vlan, 5, 0x0800, 0 }, 16, PMX_BAD_ETH },
	{ "vlan: 17 bytes", { b_vlan, 5, 0x0800, 0 }, 17, PMX_BAD_ETH },
	{ "ipv4: no header", { b_l4, 4, TCP, 0 }, 14, PMX_BAD_IP_HDR },
	{ "ipv4: 19-byte header", { b_l4, 4, TCP, 0 }, 14 + 19, PMX_BAD_IP_HDR },
	{ "ipv4: 19-byte header after vlan", { b_vlan, 5, 0x0800, 0 }, 18 + 19, PMX_BAD_IP_HDR },
	{ "ipv4: version 6", { b_ip_poke, 4, 0, 0x65 }, 0, PMX_BAD_IP_HDR },
	{ "ipv4: IHL 4", { b_ip_poke, 4, 0, 0x44 }, 0, PMX_BAD_IP_HDR },
	{ "ipv4: IHL 0", { b_ip_poke, 4, 0, 0x40 }, 0, PMX_BAD_IP_HDR },
	{ "ipv4: options beyond the frame", { b_v4_opts, 15, 0, 0 }, 14 + 40, PMX_BAD_IP_HDR },
	{ "ipv4: total length beyond the frame", { b_v4_total, 29, 0, 0 }, 0, PMX_BAD_IP_LEN },
	{ "ipv4: total length below the header", { b_v4_total, 19, 0, 0 }, 0, PMX_BAD_IP_LEN },
	{ "ipv4: total length 0", { b_v4_total, 0, 0, 0 }, 0, PMX_BAD_IP_LEN },
	{ "ipv4: total length below options", { b_v4_opts, 8, 0, 24 }, 0, PMX_BAD_IP_LEN },
	{ "ipv6: 39-byte header", { b_l4, 6, TCP, 0 }, 14 + 39, PMX_BAD_IP_HDR },
	{ "ipv6: version 4", { b_ip_poke, 6, 0, 0x40 }, 0, PMX_BAD_IP_HDR },
	{ "ipv6: payload length beyond the frame", { b_v6_plen, 1, 0, 0 }, 0, PMX_BAD_IP_LEN },
	{ "ipv6: payload length 0xffff", { b_v6_plen, 0, 0xffff, 0 }, 0, PMX_BAD_IP_LEN },
	{ "ipv6: hop-by-hop missing", { b_v6_ext_cut, HBH, 0, 0 }, 0, PMX_BAD_EXT_CHAIN },
	{ "ipv6: hop-by-hop cut at 4 bytes", { b_v6_ext_cut, HBH, 4, 0 }, 0, PMX_BAD_EXT_CHAIN },
	{ "ipv6: routing cut inside", { b_v6_ext_cut, 43, 16, 0 }, 0, PMX_BAD_EXT_CHAIN },
	{ "ipv6: dest options cut inside", { b_v6_ext_cut, DSTOPT, 23, 0 }, 0, PMX_BAD_EXT_CHAIN },
	{ "ipv6: fragment header cut", { b_v6_ext_cut, FRAG, 7, 0 }, 0, PMX_BAD_EXT_CHAIN },
	{ "ipv6: AH cut inside", { b_v6_ext_cut, AH, 20, 0 }, 0, PMX_BAD_EXT_CHAIN },
	{ "ipv6: 9 extension headers", { b_v6_ext, 9, UDP, 0 }, 0, PMX_BAD_EXT_CHAIN },
	{ "ipv6: frame cut in L4 after 8 ext headers", { b_v6_ext, 8, UDP, 0 }, 14 + 40 + 96 + 7,
	  PMX_BAD_IP_LEN },
	{ "tcp4: 19 bytes", { b_l4_short, 4, TCP, 0 }, 0, PMX_BAD_L4 },
	{ "udp4: 7 bytes", { b_l4_short, 4, UDP, 0 }, 0, PMX_BAD_L4 },
	{ "sctp4: 11 bytes", { b_l4_short, 4, SCTP, 0 }, 0, PMX_BAD_L4 },
	{ "udplite4: 7 bytes", { b_l4_short, 4, UDPL, 0 }, 0, PMX_BAD_L4 },
	{ "dccp4: 11 bytes", { b_l4_short, 4, DCCP, 0 }, 0, PMX_BAD_L4 },
	{ "icmp4: 7 bytes", { b_l4_short, 4, ICMP, 0 }, 0, PMX_BAD_L4 },
	{ "tcp6: 19 bytes", { b_l4_short, 6, TCP, 0 }, 0, PMX_BAD_L4 },
	{ "udp6: 7 bytes", { b_l4_short, 6, UDP, 0 }, 0, PMX_BAD_L4 },
	{ "sctp6: 11 bytes", { b_l4_short, 6, SCTP, 0 }, 0, PMX_BAD_L4 },
	{ "udplite6: 7 bytes", { b_l4_short, 6, UDPL, 0 }, 0, PMX_BAD_L4 },
	{ "dccp6: 11 bytes", { b_l4_short, 6, DCCP, 0 }, 0, PMX_BAD_L4 },
	{ "icmp6: 7 bytes", { b_l4_short, 6, ICMP6, 0 }, 0, PMX_BAD_L4 },
	{ "tcp4: cut by total length, frame padded", { b_l4_short, 4, TCP, 1 }, 0, PMX_BAD_L4 },
	{ "udp6: cut by payload length, frame padded", { b_l4_short, 6, UDP, 1 }, 0, PMX_BAD_L4 },
	{ "icmp4 error: no quote", { b_icmp_err_cut, 4, 0, 0 }, 0, PMX_BAD_ICMP_QUOTE },
	{ "icmp4 error: 19-byte quoted header", { b_icmp_err_cut, 4, 19, 0 }, 0,
	  PMX_BAD_ICMP_QUOTE },
	{ "icmp4 error: quoted header + 7", { b_icmp_err_cut, 4, 27, 0 }, 0, PMX_BAD_ICMP_QUOTE },
	{ "icmp4 error: quoted options + 4", { b_icmp_err_cut, 4, 28, Q_EXT }, 0,
	  PMX_BAD_ICMP_QUOTE },
	{ "icmp4 error: quoting ipv6", { b_icmp_err, 4, 3 | QUOTING(UDP), Q_OTHER_VERSION }, 0,
	  PMX_BAD_ICMP_QUOTE },
	{ "icmp6 error: no quote", { b_icmp_err_cut, 6, 0, 0 }, 0, PMX_BAD_ICMP_QUOTE },
	{ "icmp6 error: 39-byte quoted header", { b_icmp_err_cut, 6, 39, 0 }, 0,
	  PMX_BAD_ICMP_QUOTE },
	{ "icmp6 error: quoted header + 7", { b_icmp_err_cut, 6, 47, 0 }, 0, PMX_BAD_ICMP_QUOTE },
	{ "icmp6 error: quoted hop-by-hop cut", { b_icmp_err_cut, 6, 44, Q_EXT }, 0,
	  PMX_BAD_ICMP_QUOTE },
	{ "icmp6 error: quoted hop-by-hop, no L4", { b_icmp_err_cut, 6, 48, Q_EXT }, 0,
	  PMX_BAD_ICMP_QUOTE },
	{ "icmp6 error: quoting ipv4", { b_icmp_err, 6, 1 | QUOTING(UDP), Q_OTHER_VERSION }, 0,
	  PMX_BAD_ICMP_QUOTE },
	{ "arp: 27 bytes", { b_arp, 1, 0, 0 }, 14 + 27, PMX_BAD_ARP },
	{ "arp: no payload", { b_arp, 0, 0, 0 }, 14, PMX_BAD_ARP },
	{ "tcp4 first fragment: 3 bytes", { b_first_frag, 4, TCP, 3 }, 0, PMX_BAD_FRAGMENT },
	{ "tcp4 fragment at offset 8 (RFC 1858)", { b_later_frag, 4, TCP, 8 }, 0, PMX_BAD_FRAGMENT },
	{ "tcp6 fragment at offset 8 (RFC 1858)", { b_later_frag, 6, TCP, 8 }, 0, PMX_BAD_FRAGMENT },
	{ "udp4 fragment beyond 64 KiB", { b_later_frag, 4, UDP, 65528 }, 0, PMX_BAD_FRAGMENT },
	{ "udp6 fragment beyond 64 KiB", { b_later_frag, 6, UDP, 65528 }, 0, PMX_BAD_FRAGMENT },
	{ "udp4 first fragment: 0 bytes", { b_first_frag, 4, UDP, 0 }, 0, PMX_BAD_FRAGMENT },
	{ "icmp4 first fragment: 7 bytes", { b_first_frag, 4, ICMP, 7 }, 0, PMX_BAD_FRAGMENT },
	{ "tcp6 first fragment: 3 bytes", { b_first_frag, 6, TCP, 3 }, 0, PMX_BAD_FRAGMENT },
	{ "icmp6 first fragment: 7 bytes", { b_first_frag, 6, ICMP6, 7 }, 0, PMX_BAD_FRAGMENT },
	{ "broadcast: ipv4 total length below the header", { b_v4_total, 19, 0, MAC_BCAST }, 0,
	  PMX_BAD_IP_LEN },
};

struct expect {
	enum pmx_pkt_class cls;
	uint8_t family, proto;
	enum host lip, rip;
	uint16_t lport, rport; /* host order */
};

struct ok_case {
	const char *name;
	struct build build;
	enum pmx_dir dir;
	struct expect want;
};

static const struct ok_case ok_cases[] = {
	{ "tcp4 in", { b_l4, 4, TCP, 0 }, PMX_DIR_IN,
	  { PMX_PKT_FLOW, 4, TCP, H_B, H_A, DPORT, SPORT } },
	{ "tcp4 out", { b_l4, 4, TCP, 0 }, PMX_DIR_OUT,
	  { PMX_PKT_FLOW, 4, TCP, H_A, H_B, SPORT, DPORT } },
	{ "udp4 in", { b_l4, 4, UDP, 0 }, PMX_DIR_IN,
	  { PMX_PKT_FLOW, 4, UDP, H_B, H_A, DPORT, SPORT } },
	{ "udp4 out", { b_l4, 4, UDP, 0 }, PMX_DIR_OUT,
	  { PMX_PKT_FLOW, 4, UDP, H_A, H_B, SPORT, DPORT } },
	{ "sctp4 in", { b_l4, 4, SCTP, 0 }, PMX_DIR_IN,
	  { PMX_PKT_FLOW, 4, SCTP, H_B, H_A, DPORT, SPORT } },
	{ "sctp4 out", { b_l4, 4, SCTP, 0 }, PMX_DIR_OUT,
	  { PMX_PKT_FLOW, 4, SCTP, H_A, H_B, SPORT, DPORT } },
	{ "udplite4 in", { b_l4, 4, UDPL, 0 }, PMX_DIR_IN,
	  { PMX_PKT_FLOW, 4, UDPL, H_B, H_A, DPORT, SPORT } },
	{ "udplite4 out", { b_l4, 4, UDPL, 0 }, PMX_DIR_OUT,
	  { PMX_PKT_FLOW, 4, UDPL, H_A, H_B, SPORT, DPORT } },
	{ "dccp4 in", { b_l4, 4, DCCP, 0 }, PMX_DIR_IN,
	  { PMX_PKT_FLOW, 4, DCCP, H_B, H_A, DPORT, SPORT } },
	{ "dccp4 out", { b_l4, 4, DCCP, 0 }, PMX_DIR_OUT,
	  { PMX_PKT_FLOW, 4, DCCP, H_A, H_B, SPORT, DPORT } },
	{ "tcp6 in", { b_l4, 6, TCP, 0 }, PMX_DIR_IN,
	  { PMX_PKT_FLOW, 6, TCP, H_B, H_A, DPORT, SPORT } },
	{ "tcp6 out", { b_l4, 6, TCP, 0 }, PMX_DIR_OUT,
	  { PMX_PKT_FLOW, 6, TCP, H_A, H_B, SPORT, DPORT } },
	{ "udp6 in", { b_l4, 6, UDP, 0 }, PMX_DIR_IN,
	  { PMX_PKT_FLOW, 6, UDP, H_B, H_A, DPORT, SPORT } },
	{ "udp6 out", { b_l4, 6, UDP, 0 }, PMX_DIR_OUT,
	  { PMX_PKT_FLOW, 6, UDP, H_A, H_B, SPORT, DPORT } },
	{ "sctp6 in", { b_l4, 6, SCTP, 0 }, PMX_DIR_IN,
	  { PMX_PKT_FLOW, 6, SCTP, H_B, H_A, DPORT, SPORT } },
	{ "udplite6 in", { b_l4, 6, UDPL, 0 }, PMX_DIR_IN,
	  { PMX_PKT_FLOW, 6, UDPL, H_B, H_A, DPORT, SPORT } },
	{ "dccp6 out", { b_l4, 6, DCCP, 0 }, PMX_DIR_OUT,
	  { PMX_PKT_FLOW, 6, DCCP, H_A, H_B, SPORT, DPORT } },
	{ "tcp4 over vlan", { b_vlan, 0xa00c, 0x0800, 0 }, PMX_DIR_IN,
	  { PMX_PKT_FLOW, 4, TCP, H_B, H_A, DPORT, SPORT } },
	{ "udp4 with 12 bytes of options", { b_v4_opts, 8, 0, 0 }, PMX_DIR_IN,
	  { PMX_PKT_FLOW, 4, UDP, H_B, H_A, DPORT, SPORT } },
	{ "udp4 padded to 60 bytes", { b_v4_opts, 5, 1, 0 }, PMX_DIR_OUT,
	  { PMX_PKT_FLOW, 4, UDP, H_A, H_B, SPORT, DPORT } },
	{ "tcp6 after hop-by-hop, dest options, first fragment",
	  { b_v6_chain, 0, 0, 0 }, PMX_DIR_IN,
	  { PMX_PKT_FLOW, 6, TCP, H_B, H_A, DPORT, SPORT } },
	{ "udp6 after 8 extension headers", { b_v6_ext, 8, UDP, 0 }, PMX_DIR_IN,
	  { PMX_PKT_FLOW, 6, UDP, H_B, H_A, DPORT, SPORT } },
	{ "tcp6 after AH", { b_v6_ah, 0, 0, 0 }, PMX_DIR_OUT,
	  { PMX_PKT_FLOW, 6, TCP, H_A, H_B, SPORT, DPORT } },
	{ "gre4", { b_l4, 4, GRE, 0 }, PMX_DIR_IN, { PMX_PKT_IP_OTHER, 4, GRE, H_B, H_A, 0, 0 } },
	{ "esp6", { b_l4, 6, ESP, 0 }, PMX_DIR_OUT, { PMX_PKT_IP_OTHER, 6, ESP, H_A, H_B, 0, 0 } },
	{ "esp6 after 2 dest options", { b_v6_ext, 2, ESP, 0 }, PMX_DIR_IN,
	  { PMX_PKT_IP_OTHER, 6, ESP, H_B, H_A, 0, 0 } },
	{ "no-next-header6", { b_l4, 6, NONXT, 0 }, PMX_DIR_IN,
	  { PMX_PKT_IP_OTHER, 6, NONXT, H_B, H_A, 0, 0 } },
	{ "icmpv6 number in ipv4", { b_l4, 4, ICMP6, 0 }, PMX_DIR_IN,
	  { PMX_PKT_IP_OTHER, 4, ICMP6, H_B, H_A, 0, 0 } },
	{ "icmp number in ipv6", { b_l4, 6, ICMP, 0 }, PMX_DIR_IN,
	  { PMX_PKT_IP_OTHER, 6, ICMP, H_B, H_A, 0, 0 } },
	{ "udp4 first fragment", { b_frag, 4, 0 | 1, 0 }, PMX_DIR_IN,
	  { PMX_PKT_FLOW, 4, UDP, H_B, H_A, DPORT, SPORT } },
	{ "tcp4 first fragment with only the ports", { b_first_frag, 4, TCP, 4 }, PMX_DIR_IN,
	  { PMX_PKT_FLOW, 4, TCP, H_B, H_A, DPORT, SPORT } },
	{ "icmp4 first fragment with 8 bytes", { b_first_frag, 4, ICMP, 8 }, PMX_DIR_IN,
	  { PMX_PKT_FLOW, 4, ICMP, H_B, H_A, ECHO_ID, 0 } },
	{ "udp4 last fragment", { b_frag, 4, 1480, 0 }, PMX_DIR_IN,
	  { PMX_PKT_FRAGMENT, 4, UDP, H_B, H_A, 0, 0 } },
	{ "udp4 middle fragment", { b_frag, 4, 1480 | 1, 0 }, PMX_DIR_OUT,
	  { PMX_PKT_FRAGMENT, 4, UDP, H_A, H_B, 0, 0 } },
	{ "udp6 first fragment", { b_frag, 6, 0 | 1, 0 }, PMX_DIR_IN,
	  { PMX_PKT_FLOW, 6, UDP, H_B, H_A, DPORT, SPORT } },
	{ "sctp6 first fragment with only the ports", { b_first_frag, 6, SCTP, 4 }, PMX_DIR_OUT,
	  { PMX_PKT_FLOW, 6, SCTP, H_A, H_B, SPORT, DPORT } },
	{ "udp6 middle fragment", { b_frag, 6, 1232 | 1, 0 }, PMX_DIR_IN,
	  { PMX_PKT_FRAGMENT, 6, UDP, H_B, H_A, 0, 0 } },
	{ "udp6 last fragment", { b_frag, 6, 1232, 0 }, PMX_DIR_OUT,
	  { PMX_PKT_FRAGMENT, 6, UDP, H_A, H_B, 0, 0 } },
	{ "udp6 atomic fragment", { b_frag, 6, 0, 0 }, PMX_DIR_IN,
	  { PMX_PKT_FLOW, 6, UDP, H_B, H_A, DPORT, SPORT } },
	{ "icmp4 echo request", { b_icmp, 4, 8, 0 }, PMX_DIR_IN,
	  { PMX_PKT_FLOW, 4, ICMP, H_B, H_A, ECHO_ID, 0 } },
	{ "icmp4 echo reply", { b_icmp, 4, 0, 0 }, PMX_DIR_OUT,
	  { PMX_PKT_FLOW, 4, ICMP, H_A, H_B, ECHO_ID, 0 } },
	{ "icmp6 echo request", { b_icmp, 6, 128, 0 }, PMX_DIR_OUT,
	  { PMX_PKT_FLOW, 6, ICMP6, H_A, H_B, ECHO_ID, 0 } },
	{ "icmp6 echo reply", { b_icmp, 6, 129, 0 }, PMX_DIR_IN,
	  { PMX_PKT_FLOW, 6, ICMP6, H_B, H_A, ECHO_ID, 0 } },
	{ "icmp4 timestamp", { b_icmp, 4, 13, 0 }, PMX_DIR_IN,
	  { PMX_PKT_IP_OTHER, 4, ICMP, H_B, H_A, 0, 0 } },
	{ "icmp6 MLD query", { b_icmp, 6, 130, 0 }, PMX_DIR_IN,
	  { PMX_PKT_IP_OTHER, 6, ICMP6, H_B, H_A, 0, 0 } },
	{ "icmp4 unreachable quoting udp", { b_icmp_err, 4, 3 | QUOTING(UDP), 0 }, PMX_DIR_IN,
	  { PMX_PKT_ICMP_ERROR, 4, UDP, H_C, H_D, QSPORT, QDPORT } },
	{ "icmp4 unreachable quoting udp", { b_icmp_err, 4, 3 | QUOTING(UDP), 0 }, PMX_DIR_OUT,
	  { PMX_PKT_ICMP_ERROR, 4, UDP, H_D, H_C, QDPORT, QSPORT } },
	{ "icmp4 source quench quoting tcp", { b_icmp_err, 4, 4 | QUOTING(TCP), 0 }, PMX_DIR_IN,
	  { PMX_PKT_ICMP_ERROR, 4, TCP, H_C, H_D, QSPORT, QDPORT } },
	{ "icmp4 redirect quoting sctp", { b_icmp_err, 4, 5 | QUOTING(SCTP), 0 }, PMX_DIR_OUT,
	  { PMX_PKT_ICMP_ERROR, 4, SCTP, H_D, H_C, QDPORT, QSPORT } },
	{ "icmp4 time exceeded quoting echo", { b_icmp_err, 4, 11 | QUOTING(ICMP), 0 }, PMX_DIR_IN,
	  { PMX_PKT_ICMP_ERROR, 4, ICMP, H_C, H_D, ECHO_ID, 0 } },
	{ "icmp4 time exceeded quoting echo", { b_icmp_err, 4, 11 | QUOTING(ICMP), 0 }, PMX_DIR_OUT,
	  { PMX_PKT_ICMP_ERROR, 4, ICMP, H_D, H_C, ECHO_ID, 0 } },
	{ "icmp4 parameter problem quoting dccp",
	  { b_icmp_err, 4, 12 | QUOTING(DCCP), 0 }, PMX_DIR_IN,
	  { PMX_PKT_ICMP_ERROR, 4, DCCP, H_C, H_D, QSPORT, QDPORT } },
	{ "icmp4 unreachable quoting ip options",
	  { b_icmp_err, 4, 3 | QUOTING(UDP), Q_EXT }, PMX_DIR_IN,
	  { PMX_PKT_ICMP_ERROR, 4, UDP, H_C, H_D, QSPORT, QDPORT } },
	{ "icmp4 unreachable quoting gre", { b_icmp_err, 4, 3 | QUOTING(GRE), 0 }, PMX_DIR_IN,
	  { PMX_PKT_ICMP_ERROR, 4, GRE, H_C, H_D, 0, 0 } },
	{ "icmp4 unreachable quoting a non-first fragment",
	  { b_icmp_err, 4, 3 | QUOTING(UDP), Q_NONFIRST }, PMX_DIR_IN,
	  { PMX_PKT_ICMP_ERROR, 4, UDP, H_C, H_D, 0, 0 } },
	{ "icmp6 unreachable quoting udp", { b_icmp_err, 6, 1 | QUOTING(UDP), 0 }, PMX_DIR_IN,
	  { PMX_PKT_ICMP_ERROR, 6, UDP, H_C, H_D, QSPORT, QDPORT } },
	{ "icmp6 unreachable quoting udp", { b_icmp_err, 6, 1 | QUOTING(UDP), 0 }, PMX_DIR_OUT,
	  { PMX_PKT_ICMP_ERROR, 6, UDP, H_D, H_C, QDPORT, QSPORT } },
	{ "icmp6 packet too big quoting tcp", { b_icmp_err, 6, 2 | QUOTING(TCP), 0 }, PMX_DIR_OUT,
	  { PMX_PKT_ICMP_ERROR, 6, TCP, H_D, H_C, QDPORT, QSPORT } },
	{ "icmp6 time exceeded quoting hop-by-hop + udplite",
	  { b_icmp_err, 6, 3 | QUOTING(UDPL), Q_EXT }, PMX_DIR_IN,
	  { PMX_PKT_ICMP_ERROR, 6, UDPL, H_C, H_D, QSPORT, QDPORT } },
	{ "icmp6 parameter problem quoting echo",
	  { b_icmp_err, 6, 4 | QUOTING(ICMP6), 0 }, PMX_DIR_IN,
	  { PMX_PKT_ICMP_ERROR, 6, ICMP6, H_C, H_D, ECHO_ID, 0 } },
	{ "icmp6 parameter problem quoting echo",
	  { b_icmp_err, 6, 4 | QUOTING(ICMP6), 0 }, PMX_DIR_OUT,
	  { PMX_PKT_ICMP_ERROR, 6, ICMP6, H_D, H_C, ECHO_ID, 0 } },
	{ "icmp6 unreachable quoting a non-first fragment",
	  { b_icmp_err, 6, 1 | QUOTING(TCP), Q_NONFIRST }, PMX_DIR_OUT,
	  { PMX_PKT_ICMP_ERROR, 6, TCP, H_D, H_C, 0, 0 } },
	{ "nd: router solicitation", { b_icmp, 6, 133, MAC_MCAST6 }, PMX_DIR_OUT,
	  { PMX_PKT_ND, 6, ICMP6, H_A, H_B, 0, 0 } },
	{ "nd: router advertisement", { b_icmp, 6, 134, MAC_MCAST6 }, PMX_DIR_IN,
	  { PMX_PKT_ND, 6, ICMP6, H_B, H_A, 0, 0 } },
	{ "nd: neighbour solicitation", { b_icmp, 6, 135, MAC_MCAST6 }, PMX_DIR_IN,
	  { PMX_PKT_ND, 6, ICMP6, H_B, H_A, 0, 0 } },
	{ "nd: neighbour advertisement", { b_icmp, 6, 136, MAC_UNICAST }, PMX_DIR_OUT,
	  { PMX_PKT_ND, 6, ICMP6, H_A, H_B, 0, 0 } },
	{ "nd: redirect", { b_icmp, 6, 137, MAC_UNICAST }, PMX_DIR_IN,
	  { PMX_PKT_ND, 6, ICMP6, H_B, H_A, 0, 0 } },
	{ "arp request to broadcast", { b_arp, 1, 0, 0 }, PMX_DIR_IN,
	  { PMX_PKT_ARP, 0, 0, H_NONE, H_NONE, 0, 0 } },
	{ "arp reply", { b_arp, 0, 0, 0 }, PMX_DIR_OUT,
	  { PMX_PKT_ARP, 0, 0, H_NONE, H_NONE, 0, 0 } },
	{ "udp4 to broadcast", { b_l4, 4, UDP, MAC_BCAST }, PMX_DIR_IN,
	  { PMX_PKT_MULTICAST, 4, UDP, H_B, H_A, DPORT, SPORT } },
	{ "udp6 to 33:33:ff:00:00:02", { b_l4, 6, UDP, MAC_MCAST6 }, PMX_DIR_OUT,
	  { PMX_PKT_MULTICAST, 6, UDP, H_A, H_B, SPORT, DPORT } },
	{ "icmp6 echo to multicast", { b_icmp, 6, 128, MAC_MCAST6 }, PMX_DIR_IN,
	  { PMX_PKT_MULTICAST, 6, ICMP6, H_B, H_A, ECHO_ID, 0 } },
	{ "udp4 fragment to broadcast", { b_frag, 4, 1480, MAC_BCAST }, PMX_DIR_IN,
	  { PMX_PKT_MULTICAST, 4, UDP, H_B, H_A, 0, 0 } },
	{ "lldp", { b_ethertype, 0x88cc, MAC_LLDP, 0 }, PMX_DIR_IN,
	  { PMX_PKT_NON_IP, 0, 0, H_NONE, H_NONE, 0, 0 } },
	{ "ipx to broadcast", { b_ethertype, 0x8137, MAC_BCAST, 0 }, PMX_DIR_IN,
	  { PMX_PKT_NON_IP, 0, 0, H_NONE, H_NONE, 0, 0 } },
	{ "qinq outer tag", { b_ethertype, 0x88a8, MAC_UNICAST, 0 }, PMX_DIR_IN,
	  { PMX_PKT_NON_IP, 0, 0, H_NONE, H_NONE, 0, 0 } },
	{ "802.1Q inside 802.1Q", { b_vlan, 5, 0x8100, 0 }, PMX_DIR_IN,
	  { PMX_PKT_NON_IP, 0, 0, H_NONE, H_NONE, 0, 0 } },
	{ "qinq tag inside 802.1Q", { b_vlan, 5, 0x88a8, 0 }, PMX_DIR_IN,
	  { PMX_PKT_NON_IP, 0, 0, H_NONE, H_NONE, 0, 0 } },
};

#define N_BAD (sizeof(bad_cases) / sizeof(bad_cases[0]))
#define N_OK (sizeof(ok_cases) / sizeof(ok_cases[0]))

/* ---- helpers ---- */

static void build(const struct build *b, uint32_t keep, struct frame *f)
{
	b->fn(f, b->a, b->b, b->c);
	CU_ASSERT_FATAL(f->len <= FRAME_MAX && keep <= f->len);
	if (keep)
		f->len = keep;
}

/* Parses the first len bytes of f from a buffer ending right there (ASan sees over-reads). */
static enum pmx_pkt_class parse_exact(const struct frame *f, uint32_t len, enum pmx_dir dir,
				      struct pmx_pkt_info *info)
{
	uint8_t *buf = malloc(len + 1);
	enum pmx_pkt_class cls;

	if (!buf) {
		perror("malloc");
		exit(2);
	}
	memcpy(buf + 1, f->b, len);
	memset(info, 0xa5, sizeof(*info)); /* the parser must overwrite every byte */
	cls = pmx_packet_parse(buf + 1, len, dir, info);
	free(buf);
	return cls;
}

static void expect_eq(const char *row, const char *what, long got, long want, unsigned int line)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "%s: %s is %ld, want %ld", row, what, got, want);
	CU_assertImplementation(got == want, line, msg, __FILE__, "", CU_FALSE);
}

static void expect_str(const char *row, const char *what, const char *got, const char *want,
		       unsigned int line)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "%s: %s is %s, want %s", row, what, got, want);
	CU_assertImplementation(strcmp(got, want) == 0, line, msg, __FILE__, "", CU_FALSE);
}

static int key_is_zero(const struct pmx_flow_key *key)
{
	static const struct pmx_flow_key zero;

	return memcmp(key, &zero, sizeof(zero)) == 0;
}

/* The key address of host h, written without the helpers under test. */
static void host_ip(uint8_t family, enum host h, uint8_t out[16])
{
	memset(out, 0, 16);
	if (family == 4) {
		out[10] = 0xff;
		out[11] = 0xff;
		memcpy(out + 12, ip4[h], 4);
	} else if (family == 6) {
		memcpy(out, ip6[h], 16);
	}
}

static void want_key(const struct expect *w, struct pmx_flow_key *key)
{
	memset(key, 0, sizeof(*key));
	if (!w->family)
		return;
	key->kind = PMX_KEY_EXACT;
	key->proto = w->proto;
	key->local_port = htons(w->lport);
	key->remote_port = htons(w->rport);
	host_ip(w->family, w->lip, key->local_ip);
	host_ip(w->family, w->rip, key->remote_ip);
}

/* The first rule any parse result breaks, NULL when it keeps them all. */
static const char *broken_rule(enum pmx_pkt_class cls, const struct pmx_pkt_info *info,
			       uint32_t len)
{
	const struct pmx_flow_key *key = &info->key;
	int has_key = cls != PMX_PKT_MALFORMED && cls != PMX_PKT_ARP && cls != PMX_PKT_NON_IP;

	if ((unsigned int)cls >= PMX_PKT_CLASS_MAX || info->cls != cls)
		return "class out of range or not stored";
	if ((cls == PMX_PKT_MALFORMED) != (info->malformed_reason != PMX_BAD_NONE) ||
	    info->malformed_reason >= PMX_BAD_MAX)
		return "reason does not match the class";
	if (info->l3_offset > len || info->l4_offset > len)
		return "offset beyond the frame";
	if (!has_key && !key_is_zero(key))
		return "key set for a frame without one";
	if (!has_key)
		return NULL;
	if (key->kind != PMX_KEY_EXACT || key->port_id != 0)
		return "key kind or port_id";
	if (info->family != 4 && info->family != 6)
		return "no family";
	if (info->family == 4 && !(pmx_key_ip_is_v4(key->local_ip) &&
				   pmx_key_ip_is_v4(key->remote_ip)))
		return "ipv4 key address not mapped";
	if ((cls == PMX_PKT_FRAGMENT || cls == PMX_PKT_ND) && (key->local_port || key->remote_port))
		return "ports in a key that has none";
	return NULL;
}

static uint32_t xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Does the fast path agree with the full parser on the first len bytes of f? Sets *fast when
 * the fast path took the frame. Both results start from different garbage. */
static int fast_matches_full(const struct frame *f, uint32_t len, enum pmx_dir dir, int *fast)
{
	struct pmx_pkt_info a, b;
	enum pmx_pkt_class cb;

	memset(&a, 0x5a, sizeof(a));
	*fast = pmx_packet_parse_fast(f->b, len, dir, &a);
	if (!*fast) {
		memset(&b, 0x5a, sizeof(b));
		return memcmp(&a, &b, sizeof(a)) == 0; /* declined: info untouched */
	}
	memset(&b, 0xa5, sizeof(b));
	cb = pmx_packet_parse_full(f->b, len, dir, &b);
	return cb == PMX_PKT_FLOW && memcmp(&a, &b, sizeof(a)) == 0;
}

/* ---- tests, negative first ---- */

static void test_bad_frames(void)
{
	struct pmx_pkt_info info;
	struct frame f;
	size_t i;
	int d;

	for (i = 0; i < N_BAD; i++) {
		const struct bad_case *t = &bad_cases[i];

		build(&t->build, t->keep, &f);
		for (d = PMX_DIR_IN; d <= PMX_DIR_OUT; d++) {
			enum pmx_pkt_class cls = parse_exact(&f, f.len, (enum pmx_dir)d, &info);

			expect_str(t->name, "class", pmx_packet_class_name(cls), "malformed",
				   __LINE__);
			expect_eq(t->name, "info->cls", info.cls, PMX_PKT_MALFORMED, __LINE__);
			expect_str(t->name, "reason",
				   pmx_packet_malformed_name(info.malformed_reason),
				   pmx_packet_malformed_name(t->why), __LINE__);
			expect_eq(t->name, "key is zero", key_is_zero(&info.key), 1, __LINE__);
		}
	}
}

/* Every prefix of every frame in both tables parses without breaking a rule. */
static void test_prefixes(void)
{
	const struct build *builds[N_OK + N_BAD];
	const char *names[N_OK + N_BAD];
	struct pmx_pkt_info info;
	struct frame f;
	size_t i, n = 0;
	uint32_t len;
	int d;

	for (i = 0; i < N_OK; i++, n++) {
		builds[n] = &ok_cases[i].build;
		names[n] = ok_cases[i].name;
	}
	for (i = 0; i < N_BAD; i++, n++) {
		builds[n] = &bad_cases[i].build;
		names[n] = bad_cases[i].name;
	}
	for (i = 0; i < n; i++) {
		build(builds[i], 0, &f);
		for (len = 0; len <= f.len; len++) {
			for (d = PMX_DIR_IN; d <= PMX_DIR_OUT; d++) {
				enum pmx_pkt_class cls;
				const char *why;

				cls = parse_exact(&f, len, (enum pmx_dir)d, &info);
				why = broken_rule(cls, &info, len);

				if (why)
					expect_str(names[i], "prefix", why, "consistent", __LINE__);
			}
		}
	}
}

/* Valid frames with a few random bytes changed and random cuts parse consistently. */
static void test_mutations(void)
{
	struct pmx_pkt_info info;
	struct frame f, m;
	uint32_t seed = 0x2545f491, bad = 0;
	const char *first = NULL;
	size_t i;
	int k, j;

	for (i = 0; i < N_OK; i++) {
		build(&ok_cases[i].build, 0, &f);
		for (k = 0; k < 400; k++) {
			enum pmx_pkt_class cls;
			const char *why;
			int n = 1 + xorshift(&seed) % 4;

			m = f;
			for (j = 0; j < n; j++)
				m.b[xorshift(&seed) % m.len] = (uint8_t)xorshift(&seed);
			if (xorshift(&seed) % 4 == 0)
				m.len = xorshift(&seed) % (m.len + 1);
			cls = parse_exact(&m, m.len, (enum pmx_dir)(k & 1), &info);
			why = broken_rule(cls, &info, m.len);
			if (why && !bad++)
				first = why;
		}
	}
	expect_eq(first ? first : "mutations", "frames breaking a rule", bad, 0, __LINE__);
}

static void test_ok_frames(void)
{
	struct pmx_flow_key want;
	struct pmx_pkt_info info;
	struct frame f;
	size_t i;

	for (i = 0; i < N_OK; i++) {
		const struct ok_case *t = &ok_cases[i];
		const struct expect *w = &t->want;
		const struct pmx_flow_key *key = &info.key;
		char name[128];
		enum pmx_pkt_class cls;

		snprintf(name, sizeof(name), "%s, %s", t->name,
			 t->dir == PMX_DIR_IN ? "in" : "out");
		build(&t->build, 0, &f);
		cls = parse_exact(&f, f.len, t->dir, &info);
		want_key(w, &want);
		expect_str(name, "class", pmx_packet_class_name(cls), pmx_packet_class_name(w->cls),
			   __LINE__);
		expect_eq(name, "info->cls", info.cls, w->cls, __LINE__);
		expect_eq(name, "reason", info.malformed_reason, PMX_BAD_NONE, __LINE__);
		expect_eq(name, "family", info.family, w->family, __LINE__);
		expect_eq(name, "proto", key->proto, w->proto, __LINE__);
		expect_eq(name, "local port", ntohs(key->local_port), w->lport, __LINE__);
		expect_eq(name, "remote port", ntohs(key->remote_port), w->rport, __LINE__);
		expect_eq(name, "local ip",
			  memcmp(key->local_ip, want.local_ip, 16) == 0, 1, __LINE__);
		expect_eq(name, "remote ip",
			  memcmp(key->remote_ip, want.remote_ip, 16) == 0, 1, __LINE__);
		expect_eq(name, "whole key (kind, port_id, zero bytes)",
			  memcmp(key, &want, sizeof(want)) == 0, 1, __LINE__);
	}
}

struct info_case {
	const char *name;
	struct build build;
	uint8_t has_vlan;
	uint16_t vlan_tci, ethertype, l3_offset, l4_offset;
};

static void test_info_fields(void)
{
	static const struct info_case cases[] = {
		{ "tcp4", { b_l4, 4, TCP, 0 }, 0, 0, 0x0800, 14, 34 },
		{ "tcp4 over vlan", { b_vlan, 0xa00c, 0x0800, 0 }, 1, 0xa00c, 0x0800, 18, 38 },
		{ "udp4 with 12 bytes of options", { b_v4_opts, 8, 0, 0 }, 0, 0, 0x0800, 14, 46 },
		{ "tcp6", { b_l4, 6, TCP, 0 }, 0, 0, 0x86dd, 14, 54 },
		{ "tcp6 after 32 bytes of ext", { b_v6_chain, 0, 0, 0 }, 0, 0, 0x86dd, 14, 86 },
		{ "tcp6 after AH", { b_v6_ah, 0, 0, 0 }, 0, 0, 0x86dd, 14, 78 },
		{ "esp6", { b_l4, 6, ESP, 0 }, 0, 0, 0x86dd, 14, 54 },
		{ "no-next-header6", { b_l4, 6, NONXT, 0 }, 0, 0, 0x86dd, 14, 0 },
		{ "udp4 non-first fragment", { b_frag, 4, 1480, 0 }, 0, 0, 0x0800, 14, 0 },
		{ "udp6 non-first fragment", { b_frag, 6, 1232, 0 }, 0, 0, 0x86dd, 14, 0 },
		{ "icmp4 error", { b_icmp_err, 4, 3 | QUOTING(UDP), 0 }, 0, 0, 0x0800, 14, 34 },
		{ "arp", { b_arp, 1, 0, 0 }, 0, 0, 0x0806, 14, 0 },
		{ "lldp", { b_ethertype, 0x88cc, MAC_LLDP, 0 }, 0, 0, 0x88cc, 14, 0 },
		{ "802.1Q inside 802.1Q", { b_vlan, 0x0fff, 0x8100, 0 }, 1, 0x0fff, 0x8100, 18, 0 },
	};
	struct pmx_pkt_info info;
	struct frame f;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct info_case *t = &cases[i];

		build(&t->build, 0, &f);
		parse_exact(&f, f.len, PMX_DIR_IN, &info);
		expect_eq(t->name, "has_vlan", info.has_vlan, t->has_vlan, __LINE__);
		expect_eq(t->name, "vlan_tci", info.vlan_tci, t->vlan_tci, __LINE__);
		expect_eq(t->name, "ethertype", info.ethertype, t->ethertype, __LINE__);
		expect_eq(t->name, "l3_offset", info.l3_offset, t->l3_offset, __LINE__);
		expect_eq(t->name, "l4_offset", info.l4_offset, t->l4_offset, __LINE__);
		expect_eq(t->name, "family of non-IP is 0",
			  info.family == 0, t->ethertype != 0x0800 && t->ethertype != 0x86dd,
			  __LINE__);
	}
}

struct frag_case {
	const char *name;
	struct build build;
	uint8_t is_fragment, more_fragments;
	uint32_t frag_id;
	uint16_t frag_offset;
};

static void test_fragment_fields(void)
{
	static const struct frag_case cases[] = {
		{ "tcp4 unfragmented", { b_l4, 4, TCP, 0 }, 0, 0, 0, 0 },
		{ "tcp4 with DF only", { b_ip_poke, 4, 6, 0x40 }, 0, 0, 0, 0 },
		{ "udp4 first", { b_frag, 4, 0 | 1, 0 }, 1, 1, IP_ID, 0 },
		{ "udp4 middle", { b_frag, 4, 1480 | 1, 0 }, 1, 1, IP_ID, 1480 },
		{ "udp4 last", { b_frag, 4, 1480, 0 }, 1, 0, IP_ID, 1480 },
		{ "udp4 largest offset", { b_frag, 4, 65528, 0 }, 1, 0, IP_ID, 65528 },
		{ "tcp6 unfragmented", { b_l4, 6, TCP, 0 }, 0, 0, 0, 0 },
		{ "udp6 atomic", { b_frag, 6, 0, 0 }, 0, 0, 0, 0 },
		{ "udp6 first", { b_frag, 6, 0 | 1, 0 }, 1, 1, FRAG6_ID, 0 },
		{ "udp6 middle", { b_frag, 6, 1232 | 1, 0 }, 1, 1, FRAG6_ID, 1232 },
		{ "udp6 largest offset", { b_frag, 6, 65528, 0 }, 1, 0, FRAG6_ID, 65528 },
		{ "tcp6 first, in a chain", { b_v6_chain, 0, 0, 0 }, 1, 1, FRAG6_ID, 0 },
	};
	struct pmx_pkt_info info;
	struct frame f;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct frag_case *t = &cases[i];

		build(&t->build, 0, &f);
		parse_exact(&f, f.len, PMX_DIR_IN, &info);
		expect_eq(t->name, "is_fragment", info.is_fragment, t->is_fragment, __LINE__);
		expect_eq(t->name, "more_fragments", info.more_fragments, t->more_fragments,
			  __LINE__);
		expect_eq(t->name, "frag_id", (long)info.frag_id, (long)t->frag_id, __LINE__);
		expect_eq(t->name, "frag_offset", info.frag_offset, t->frag_offset, __LINE__);
	}
}

/* The key is hashed as raw bytes: check them all for 192.0.2.1:1234 -> 198.51.100.2:80/udp. */
static void test_key_bytes(void)
{
	static const uint8_t want_in[40] = {
		PMX_KEY_EXACT, UDP, 0, 0, 0x00, 0x50, 0x04, 0xd2,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 2,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1,
	};
	static const uint8_t want_out[40] = {
		PMX_KEY_EXACT, UDP, 0, 0, 0x04, 0xd2, 0x00, 0x50,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 2,
	};
	struct pmx_pkt_info info;
	struct frame f;

	b_l4(&f, 4, UDP, MAC_UNICAST);
	parse_exact(&f, f.len, PMX_DIR_IN, &info);
	CU_ASSERT(memcmp(&info.key, want_in, sizeof(want_in)) == 0);
	parse_exact(&f, f.len, PMX_DIR_OUT, &info);
	CU_ASSERT(memcmp(&info.key, want_out, sizeof(want_out)) == 0);
}

static void test_names(void)
{
	static const char *const classes[PMX_PKT_CLASS_MAX] = {
		[PMX_PKT_MALFORMED] = "malformed", [PMX_PKT_FLOW] = "flow",
		[PMX_PKT_IP_OTHER] = "ip_other",   [PMX_PKT_ICMP_ERROR] = "icmp_error",
		[PMX_PKT_FRAGMENT] = "fragment",   [PMX_PKT_ARP] = "arp",
		[PMX_PKT_ND] = "nd",               [PMX_PKT_MULTICAST] = "multicast",
		[PMX_PKT_NON_IP] = "non_ip",
	};
	static const char *const reasons[PMX_BAD_MAX] = {
		[PMX_BAD_NONE] = "none",           [PMX_BAD_ETH] = "eth",
		[PMX_BAD_IP_HDR] = "ip_hdr",       [PMX_BAD_IP_LEN] = "ip_len",
		[PMX_BAD_EXT_CHAIN] = "ext_chain", [PMX_BAD_L4] = "l4",
		[PMX_BAD_ICMP_QUOTE] = "icmp_quote", [PMX_BAD_ARP] = "arp",
		[PMX_BAD_FRAGMENT] = "fragment",
	};
	int i;

	for (i = 0; i < PMX_PKT_CLASS_MAX; i++)
		expect_str("class", "name", pmx_packet_class_name((enum pmx_pkt_class)i),
			   classes[i], __LINE__);
	for (i = 0; i < PMX_BAD_MAX; i++)
		expect_str("reason", "name", pmx_packet_malformed_name((enum pmx_malformed)i),
			   reasons[i], __LINE__);
	CU_ASSERT_STRING_EQUAL(pmx_packet_class_name(PMX_PKT_CLASS_MAX), "unknown");
	CU_ASSERT_STRING_EQUAL(pmx_packet_class_name((enum pmx_pkt_class)-1), "unknown");
	CU_ASSERT_STRING_EQUAL(pmx_packet_malformed_name(PMX_BAD_MAX), "unknown");
}

static void test_ip4_helpers(void)
{
	static const uint8_t mapped[16] = { [10] = 0xff, [11] = 0xff, 192, 0, 2, 1 };
	static const uint8_t not_mapped[16] = { [9] = 0xff, [10] = 0xff, 192, 0, 2, 1 };
	static const uint8_t zero[16];
	uint8_t out[16];

	memset(out, 0xa5, sizeof(out));
	pmx_ip4_to_key(ip4[H_A], out);
	CU_ASSERT(memcmp(out, mapped, 16) == 0);
	CU_ASSERT(pmx_key_ip_is_v4(mapped));
	CU_ASSERT(!pmx_key_ip_is_v4(not_mapped));
	CU_ASSERT(!pmx_key_ip_is_v4(zero));
	CU_ASSERT(!pmx_key_ip_is_v4(ip6[H_A]));
}

/* The inline fast path gives the full parser's result, byte for byte, whenever it takes a
 * frame: every prefix of every frame, and mutations of the valid ones' IP and L4 headers. */
static void test_fast_path(void)
{
	uint32_t seed = 0x9e3779b9, len, taken = 0, declined = 0, bad = 0;
	const char *first = NULL;
	struct frame f, m;
	int fast;

	for (size_t i = 0; i < N_OK + N_BAD; i++) {
		const struct build *b = i < N_OK ? &ok_cases[i].build : &bad_cases[i - N_OK].build;
		const char *name = i < N_OK ? ok_cases[i].name : bad_cases[i - N_OK].name;

		build(b, 0, &f);
		for (len = 0; len <= f.len; len++)
			for (int d = PMX_DIR_IN; d <= PMX_DIR_OUT; d++) {
				if (!fast_matches_full(&f, len, (enum pmx_dir)d, &fast) && !bad++)
					first = name;
				fast ? taken++ : declined++;
			}
		for (int k = 0; k < 200 && i < N_OK; k++) {
			m = f;
			m.b[(14 + xorshift(&seed) % 40) % m.len] = (uint8_t)xorshift(&seed);
			if (!fast_matches_full(&m, m.len, (enum pmx_dir)(k & 1), &fast) && !bad++)
				first = name;
		}
	}
	expect_eq(first ? first : "fast path", "frames where fast != full", bad, 0, __LINE__);
	CU_ASSERT(taken > 0);
	CU_ASSERT(declined > taken);
}

int main(void)
{
	static const struct {
		const char *name;
		CU_TestFunc fn;
	} tests[] = {
		{ "malformed frames", test_bad_frames },
		{ "every prefix of every frame", test_prefixes },
		{ "mutated frames", test_mutations },
		{ "valid frames: class and key", test_ok_frames },
		{ "vlan, ethertype, offsets", test_info_fields },
		{ "fragment fields", test_fragment_fields },
		{ "raw key bytes", test_key_bytes },
		{ "class and reason names", test_names },
		{ "ipv4-mapped key addresses", test_ip4_helpers },
		{ "fast path = full parser", test_fast_path },
	};
	unsigned int failures;
	CU_pSuite suite;
	size_t i;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite("pmx_packet", NULL, NULL);
	if (!suite)
		goto err_registry;
	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		if (!CU_add_test(suite, tests[i].name, tests[i].fn))
			goto err_registry;
	CU_basic_set_mode(CU_BRM_VERBOSE);
	if (CU_basic_run_tests() != CUE_SUCCESS)
		goto err_registry;
	failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failures ? 1 : 0;

err_registry:
	CU_cleanup_registry();
	return 1;
}
