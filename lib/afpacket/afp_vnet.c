/* afp_vnet.c - partial checksums completed and TSO/GSO super-frames cut into wire frames
 * (wire -> switch), as the packet socket's virtio-net header asks */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "afp_vnet.h"

#define TCP_FLAGS_LAST_ONLY (RTE_TCP_FIN_FLAG | RTE_TCP_PSH_FLAG)

/* Where a frame's IP header is and where its IP packet ends. */
struct l3_info {
	uint32_t l3;  /* offset of the IP header */
	uint32_t end; /* offset just past the IP packet (frame padding excluded) */
	bool v4;
};

/* Find the IP header before l4 (past any VLAN tags) and the end of the IP packet. */
static int l3_find(const uint8_t *frame, uint32_t len, uint32_t l4, struct l3_info *li)
{
	uint32_t off = RTE_ETHER_HDR_LEN;
	uint16_t type, plen;

	if (len < off || l4 < off)
		return -EINVAL;
	memcpy(&type, frame + off - 2, 2);
	while ((type == RTE_BE16(RTE_ETHER_TYPE_VLAN) || type == RTE_BE16(RTE_ETHER_TYPE_QINQ)) &&
	       off + 4 <= l4) {
		memcpy(&type, frame + off + 2, 2);
		off += 4;
	}
	li->l3 = off;
	if (type == RTE_BE16(RTE_ETHER_TYPE_IPV4)) {
		const struct rte_ipv4_hdr *ip = (const void *)(frame + off);

		if (l4 < off + sizeof(*ip) || (ip->version_ihl >> 4) != 4 ||
		    l4 < off + rte_ipv4_hdr_len(ip))
			return -EINVAL;
		li->v4 = true;
		li->end = off + rte_be_to_cpu_16(ip->total_length);
	} else if (type == RTE_BE16(RTE_ETHER_TYPE_IPV6)) {
		if (l4 < off + sizeof(struct rte_ipv6_hdr))
			return -EINVAL;
		memcpy(&plen, frame + off + offsetof(struct rte_ipv6_hdr, payload_len), 2);
		li->v4 = false;
		li->end = off + sizeof(struct rte_ipv6_hdr) + rte_be_to_cpu_16(plen);
	} else {
		return -EINVAL;
	}
	return li->end > len || li->end <= l4 ? -EINVAL : 0;
}

int pmx_afp_csum_complete(uint8_t *frame, uint32_t len, const struct virtio_net_hdr *vh)
{
	uint32_t start = vh->csum_start, field = start + vh->csum_offset, end = len;
	struct l3_info li;
	uint16_t sum;

	if (!(vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		return 0;
	if (start >= len || field + 2 > len)
		return -EINVAL;
	/* Ethernet padding after the IP packet is not part of the sum */
	if (l3_find(frame, len, start, &li) == 0) {
		if (field + 2 > li.end)
			return -EINVAL;
		end = li.end;
	}
	/* the field already holds the pseudo-header sum: fold the rest in, as the NIC would */
	sum = (uint16_t)~rte_raw_cksum(frame + start, end - start);
	if (sum == 0)
		sum = 0xffff; /* 0 means "no checksum" to UDP; the same sum for TCP */
	memcpy(frame + field, &sum, 2);
	return 1;
}

/* The full L4 checksum of a segment: pseudo-header (source, destination, L4 length, protocol;
 * built in memory to stay right after IPv6 extension headers) plus the L4 bytes. */
static uint16_t l4_cksum(const uint8_t *ip, bool v4, const uint8_t *l4, uint32_t l4len,
			 uint8_t proto)
{
	uint8_t ph[40] = {0};
	size_t phlen;
	uint32_t sum;
	uint16_t c;

	if (v4) {
		memcpy(ph, ip + offsetof(struct rte_ipv4_hdr, src_addr), 8);
		ph[9] = proto;
		ph[10] = (uint8_t)(l4len >> 8);
		ph[11] = (uint8_t)l4len;
		phlen = 12;
	} else {
		memcpy(ph, ip + offsetof(struct rte_ipv6_hdr, src_addr), 32);
		ph[34] = (uint8_t)(l4len >> 8);
		ph[35] = (uint8_t)l4len;
		ph[39] = proto;
		phlen = 40;
	}
	sum = __rte_raw_cksum(ph, phlen, 0);
	sum = __rte_raw_cksum(l4, l4len, sum);
	c = (uint16_t)~__rte_raw_cksum_reduce(sum);
	return c == 0 && proto == IPPROTO_UDP ? 0xffff : c;
}

/* The headers of a super-frame, checked against its GSO type. */
struct gso_shape {
	struct l3_info li;
	uint32_t l4, hdrlen; /* L4 offset; all headers up to the payload */
	uint8_t proto;
};

static int gso_shape(const uint8_t *frame, uint32_t len, const struct virtio_net_hdr *vh,
		     struct gso_shape *s)
{
	uint8_t type = vh->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;

	if (type != VIRTIO_NET_HDR_GSO_TCPV4 && type != VIRTIO_NET_HDR_GSO_TCPV6 &&
	    type != VIRTIO_NET_HDR_GSO_UDP_L4)
		return -ENOTSUP;
	if (!(vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) || vh->gso_size == 0)
		return -EINVAL;
	s->l4 = vh->csum_start;
	if (l3_find(frame, len, s->l4, &s->li) < 0)
		return -EINVAL;
	if ((type == VIRTIO_NET_HDR_GSO_TCPV4 && !s->li.v4) ||
	    (type == VIRTIO_NET_HDR_GSO_TCPV6 && s->li.v4))
		return -EINVAL;
	s->proto = type == VIRTIO_NET_HDR_GSO_UDP_L4 ? IPPROTO_UDP : IPPROTO_TCP;
	if (s->proto == IPPROTO_TCP) {
		const struct rte_tcp_hdr *tcp = (const void *)(frame + s->l4);

		if (s->l4 + sizeof(*tcp) > s->li.end || (tcp->data_off >> 4) < 5)
			return -EINVAL;
		s->hdrlen = s->l4 + (tcp->data_off >> 4) * 4u;
	} else {
		s->hdrlen = s->l4 + sizeof(struct rte_udp_hdr);
	}
	if (s->li.v4 && frame[s->li.l3 + offsetof(struct rte_ipv4_hdr, next_proto_id)] != s->proto)
		return -EINVAL;
	return s->hdrlen < s->li.end ? 0 : -EINVAL;
}

/* Fix the headers of segment i (payload bytes at m's hdrlen) of n. */
static void gso_fix(uint8_t *f, const struct gso_shape *s, uint32_t seg, unsigned i, unsigned n,
		    uint16_t mss)
{
	uint32_t l3len = s->hdrlen - s->li.l3 + seg, l4len = s->hdrlen - s->l4 + seg;
	uint8_t *ip = f + s->li.l3;

	if (s->li.v4) {
		struct rte_ipv4_hdr *h = (void *)ip;

		h->total_length = rte_cpu_to_be_16((uint16_t)l3len);
		h->packet_id = rte_cpu_to_be_16((uint16_t)(rte_be_to_cpu_16(h->packet_id) + i));
		h->hdr_checksum = 0;
		h->hdr_checksum = rte_ipv4_cksum(h);
	} else {
		((struct rte_ipv6_hdr *)ip)->payload_len = rte_cpu_to_be_16(
			(uint16_t)(l3len - sizeof(struct rte_ipv6_hdr)));
	}
	if (s->proto == IPPROTO_TCP) {
		struct rte_tcp_hdr *tcp = (void *)(f + s->l4);

		tcp->sent_seq = rte_cpu_to_be_32(rte_be_to_cpu_32(tcp->sent_seq) + i * mss);
		if (i + 1 < n)
			tcp->tcp_flags &= (uint8_t)~TCP_FLAGS_LAST_ONLY;
		if (i > 0)
			tcp->tcp_flags &= (uint8_t)~RTE_TCP_CWR_FLAG;
		tcp->cksum = 0;
		tcp->cksum = l4_cksum(ip, s->li.v4, f + s->l4, l4len, IPPROTO_TCP);
	} else {
		struct rte_udp_hdr *udp = (void *)(f + s->l4);

		udp->dgram_len = rte_cpu_to_be_16((uint16_t)l4len);
		udp->dgram_cksum = 0;
		udp->dgram_cksum = l4_cksum(ip, s->li.v4, f + s->l4, l4len, IPPROTO_UDP);
	}
}

/* DPDK's rte_gso_segment() would fit the cutting, but it hands out each segment as a chain
 * (a direct mbuf holding the headers, then an indirect mbuf pointing into the super-frame's
 * mbuf), and wants the super-frame itself in one mbuf chain. The switch forwards, queues to
 * clients and hands over single-segment mbufs only, and the super-frame lies in the socket's
 * ring, not in an mbuf: copying headers and payload straight from the ring into one mbuf per
 * wire frame is one copy, as for any other received frame. */
int pmx_afp_gso_cut(const uint8_t *frame, uint32_t len, const struct virtio_net_hdr *vh,
		    struct rte_mempool *pool, struct rte_mbuf **out, unsigned max_out)
{
	struct gso_shape s;
	uint32_t payload, mss = vh->gso_size, off;
	unsigned n;
	int ret;

	ret = gso_shape(frame, len, vh, &s);
	if (ret < 0)
		return ret;
	payload = s.li.end - s.hdrlen;
	n = (payload + mss - 1) / mss;
	if (n > max_out ||
	    s.hdrlen + mss > (uint32_t)(rte_pktmbuf_data_room_size(pool) - RTE_PKTMBUF_HEADROOM))
		return -EMSGSIZE;
	if (rte_pktmbuf_alloc_bulk(pool, out, n) != 0)
		return -ENOBUFS;
	off = s.hdrlen;
	for (unsigned i = 0; i < n; i++) {
		uint32_t seg = RTE_MIN(mss, s.li.end - off);
		uint8_t *f = (uint8_t *)rte_pktmbuf_append(out[i], (uint16_t)(s.hdrlen + seg));

		memcpy(f, frame, s.hdrlen);
		memcpy(f + s.hdrlen, frame + off, seg);
		gso_fix(f, &s, seg, i, n, (uint16_t)mss);
		off += seg;
	}
	return (int)n;
}
