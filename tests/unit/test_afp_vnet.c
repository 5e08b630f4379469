/* test_afp_vnet.c - lib/afpacket/afp_vnet.c: what a packet socket's virtio-net header asks.
 * Covers, negative cases first: a frame without NEEDS_CSUM left untouched however wrong its
 * checksum; checksum offsets outside the frame refused; partial checksums completed (TCP over
 * IPv4, UDP over IPv6, a padded frame); a GSO type that is not cut, gso_size 0, a TCPV4 type
 * on an IPv6 frame, too many segments, segments larger than an mbuf, all leaving no mbuf
 * allocated; TCPv4, TCPv6 and UDPv4 super-frames cut and checked field by field (lengths, IDs,
 * sequence numbers, flags, checksums against a reference sum, payload bytes). */
#include <arpa/inet.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "afp_vnet.h"
#include "cunit_run.h"

#define L3 RTE_ETHER_HDR_LEN
#define MSS 1448

static struct rte_mempool *pool;
static uint8_t frame[70000];

/* Reference one's-complement sum, big-endian words, written apart from DPDK's. */
static uint32_t ref_add(const uint8_t *p, size_t n, uint32_t acc)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		acc += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		acc += (uint32_t)p[n - 1] << 8;
	return acc;
}

static uint16_t ref_fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

/* The pseudo-header sum of the L4 segment at l4 of len bytes. */
static uint32_t ref_pseudo(const uint8_t *f, bool v4, uint8_t proto, uint32_t len)
{
	uint32_t acc = v4 ? ref_add(f + L3 + 12, 8, 0) : ref_add(f + L3 + 8, 32, 0);

	return acc + proto + (len >> 16) + (len & 0xffff);
}

/* A checksummed L4 segment sums (pseudo-header included) to 0xffff. */
static bool l4_ok(const uint8_t *f, bool v4, uint8_t proto, uint32_t l4, uint32_t len)
{
	return ref_fold(ref_add(f + l4, len, ref_pseudo(f, v4, proto, len))) == 0xffff;
}

/* Build eth + IPv4/IPv6 + TCP (20 bytes + 12 of options) or UDP + payload into frame; the L4
 * checksum field holds the pseudo-header sum, as a sending stack leaves it for the NIC. */
static uint32_t build(bool v4, uint8_t proto, uint32_t payload, uint8_t tcp_flags)
{
	uint32_t l4 = L3 + (v4 ? 20 : 40), l4hdr = proto == IPPROTO_TCP ? 32 : 8;
	uint32_t len = l4 + l4hdr + payload;
	uint16_t sum;

	memset(frame, 0, len);
	memset(frame, 0x02, 12);
	if (v4) {
		struct rte_ipv4_hdr *ip = (void *)(frame + L3);

		frame[12] = 0x08;
		ip->version_ihl = 0x45;
		ip->total_length = htons((uint16_t)(len - L3));
		ip->packet_id = htons(100);
		ip->fragment_offset = htons(RTE_IPV4_HDR_DF_FLAG);
		ip->time_to_live = 64;
		ip->next_proto_id = proto;
		ip->src_addr = htonl(0xc6120002);
		ip->dst_addr = htonl(0xc6120001);
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	} else {
		struct rte_ipv6_hdr *ip = (void *)(frame + L3);

		frame[12] = 0x86;
		frame[13] = 0xdd;
		ip->vtc_flow = htonl(6u << 28);
		ip->payload_len = htons((uint16_t)(len - l4));
		ip->proto = proto;
		ip->hop_limits = 64;
		ip->src_addr[0] = ip->dst_addr[0] = 0xfd;
		ip->src_addr[15] = 2;
		ip->dst_addr[15] = 1;
	}
	if (proto == IPPROTO_TCP) {
		struct rte_tcp_hdr *tcp = (void *)(frame + l4);

		tcp->src_port = htons(40000);
		tcp->dst_port = htons(5001);
		tcp->sent_seq = htonl(0xfffff000); /* wraps within the super-frame */
		tcp->data_off = (uint8_t)(l4hdr / 4) << 4;
		tcp->tcp_flags = tcp_flags;
		tcp->rx_win = htons(512);
		memset(frame + l4 + 20, 1, 12); /* NOPs */
	} else {
		struct rte_udp_hdr *udp = (void *)(frame + l4);

		udp->src_port = htons(40000);
		udp->dst_port = htons(5002);
		udp->dgram_len = htons((uint16_t)(l4hdr + payload));
	}
	for (uint32_t i = 0; i < payload; i++)
		frame[l4 + l4hdr + i] = (uint8_t)(i * 7 + i / 251);
	sum = htons(ref_fold(ref_pseudo(frame, v4, proto, len - l4)));
	memcpy(frame + l4 + (proto == IPPROTO_TCP ? 16 : 6), &sum, 2);
	return len;
}

static struct virtio_net_hdr vnet(bool v4, uint8_t proto, uint8_t gso, uint16_t gso_size)
{
	return (struct virtio_net_hdr){
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = gso,
		.hdr_len = 0, /* the kernel gives the linear length here: not relied on */
		.gso_size = gso_size,
		.csum_start = (uint16_t)(L3 + (v4 ? 20 : 40)),
		.csum_offset = proto == IPPROTO_TCP ? 16 : 6,
	};
}

static void test_csum_not_partial(void)
{
	uint32_t len = build(true, IPPROTO_TCP, 100, RTE_TCP_ACK_FLAG);
	struct virtio_net_hdr vh = vnet(true, IPPROTO_TCP, 0, 0);
	uint8_t copy[200];

	vh.flags = 0; /* a wrong checksum, not marked partial: it stays wrong */
	memcpy(copy, frame, len);
	CU_ASSERT_EQUAL(pmx_afp_csum_complete(frame, len, &vh), 0);
	CU_ASSERT_EQUAL(memcmp(copy, frame, len), 0);
	CU_ASSERT_FALSE(l4_ok(frame, true, IPPROTO_TCP, L3 + 20, len - L3 - 20));
	vh.flags = VIRTIO_NET_HDR_F_DATA_VALID;
	CU_ASSERT_EQUAL(pmx_afp_csum_complete(frame, len, &vh), 0);
	CU_ASSERT_EQUAL(memcmp(copy, frame, len), 0);
}

static void test_csum_bad_offsets(void)
{
	uint32_t len = build(true, IPPROTO_UDP, 10, 0);
	struct virtio_net_hdr vh = vnet(true, IPPROTO_UDP, 0, 0);
	uint8_t copy[100];

	memcpy(copy, frame, len);
	vh.csum_offset = (uint16_t)(len - vh.csum_start - 1); /* field past the end */
	CU_ASSERT_EQUAL(pmx_afp_csum_complete(frame, len, &vh), -EINVAL);
	vh = vnet(true, IPPROTO_UDP, 0, 0);
	vh.csum_start = (uint16_t)len;
	CU_ASSERT_EQUAL(pmx_afp_csum_complete(frame, len, &vh), -EINVAL);
	CU_ASSERT_EQUAL(memcmp(copy, frame, len), 0);
}

static void test_csum_completed(void)
{
	static const struct {
		bool v4;
		uint8_t proto;
		uint32_t payload;
	} cases[] = {{true, IPPROTO_TCP, 1000},
		     {false, IPPROTO_UDP, 333},
		     {true, IPPROTO_UDP, 0},
		     {false, IPPROTO_TCP, 1}};

	for (unsigned i = 0; i < RTE_DIM(cases); i++) {
		uint32_t len = build(cases[i].v4, cases[i].proto, cases[i].payload,
				     RTE_TCP_ACK_FLAG);
		struct virtio_net_hdr vh = vnet(cases[i].v4, cases[i].proto, 0, 0);
		uint32_t l4 = vh.csum_start;

		CU_ASSERT_FALSE(l4_ok(frame, cases[i].v4, cases[i].proto, l4, len - l4));
		CU_ASSERT_EQUAL(pmx_afp_csum_complete(frame, len, &vh), 1);
		CU_ASSERT_TRUE(l4_ok(frame, cases[i].v4, cases[i].proto, l4, len - l4));
	}
}

static void test_csum_padded(void)
{
	/* 18 bytes of UDP over IPv4 padded to 60 with bytes the sum must not include */
	uint32_t len = build(true, IPPROTO_UDP, 10, 0);
	struct virtio_net_hdr vh = vnet(true, IPPROTO_UDP, 0, 0);

	memset(frame + len, 0xab, 60 - len);
	CU_ASSERT_EQUAL(pmx_afp_csum_complete(frame, 60, &vh), 1);
	CU_ASSERT_TRUE(l4_ok(frame, true, IPPROTO_UDP, L3 + 20, len - L3 - 20));
}

static void test_gso_refused(void)
{
	struct rte_mbuf *out[PMX_AFP_GSO_MAX_SEGS];
	unsigned avail = rte_mempool_avail_count(pool);
	uint32_t len = build(true, IPPROTO_TCP, 10000, RTE_TCP_ACK_FLAG);
	struct virtio_net_hdr vh = vnet(true, IPPROTO_TCP, VIRTIO_NET_HDR_GSO_UDP, MSS);

	CU_ASSERT_EQUAL(pmx_afp_gso_cut(frame, len, &vh, pool, out, 64), -ENOTSUP);
	vh = vnet(true, IPPROTO_TCP, VIRTIO_NET_HDR_GSO_TCPV4, 0);
	CU_ASSERT_EQUAL(pmx_afp_gso_cut(frame, len, &vh, pool, out, 64), -EINVAL);
	vh = vnet(true, IPPROTO_TCP, VIRTIO_NET_HDR_GSO_TCPV6, MSS);
	CU_ASSERT_EQUAL(pmx_afp_gso_cut(frame, len, &vh, pool, out, 64), -EINVAL);
	vh = vnet(true, IPPROTO_TCP, VIRTIO_NET_HDR_GSO_TCPV4, MSS);
	vh.flags = 0;
	CU_ASSERT_EQUAL(pmx_afp_gso_cut(frame, len, &vh, pool, out, 64), -EINVAL);
	vh = vnet(true, IPPROTO_TCP, VIRTIO_NET_HDR_GSO_TCPV4, MSS);
	CU_ASSERT_EQUAL(pmx_afp_gso_cut(frame, len - 1, &vh, pool, out, 64), -EINVAL);
	CU_ASSERT_EQUAL(pmx_afp_gso_cut(frame, len, &vh, pool, out, 6), -EMSGSIZE);
	vh.gso_size = 4000; /* more than an mbuf's data room */
	CU_ASSERT_EQUAL(pmx_afp_gso_cut(frame, len, &vh, pool, out, 64), -EMSGSIZE);
	CU_ASSERT_EQUAL(rte_mempool_avail_count(pool), avail);
}

/* Cut a super-frame of payload bytes and check every segment field by field. */
static void check_cut(bool v4, uint8_t proto, uint8_t gso, uint32_t payload, uint16_t mss)
{
	uint8_t flags = RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG | RTE_TCP_FIN_FLAG | RTE_TCP_CWR_FLAG;
	uint32_t len = build(v4, proto, payload, flags);
	struct virtio_net_hdr vh = vnet(v4, proto, gso, mss);
	uint32_t l4 = vh.csum_start, hdr = l4 + (proto == IPPROTO_TCP ? 32 : 8), off = hdr;
	unsigned want = (payload + mss - 1) / mss;
	struct rte_mbuf *out[PMX_AFP_GSO_MAX_SEGS];
	int n = pmx_afp_gso_cut(frame, len, &vh, pool, out, PMX_AFP_GSO_MAX_SEGS);

	CU_ASSERT_EQUAL_FATAL(n, (int)want);
	for (unsigned i = 0; i < want; i++) {
		const uint8_t *s = rte_pktmbuf_mtod(out[i], const uint8_t *);
		uint32_t seg = RTE_MIN((uint32_t)mss, len - off);

		CU_ASSERT_EQUAL(out[i]->nb_segs, 1);
		CU_ASSERT_EQUAL(out[i]->pkt_len, hdr + seg);
		CU_ASSERT_EQUAL(memcmp(s, frame, L3), 0);
		CU_ASSERT_EQUAL(memcmp(s + hdr, frame + off, seg), 0);
		if (v4) {
			const struct rte_ipv4_hdr *ip = (const void *)(s + L3);

			CU_ASSERT_EQUAL(ntohs(ip->total_length), hdr + seg - L3);
			CU_ASSERT_EQUAL(ntohs(ip->packet_id), 100 + i);
			CU_ASSERT_EQUAL(ref_fold(ref_add(s + L3, 20, 0)), 0xffff);
		} else {
			const struct rte_ipv6_hdr *ip = (const void *)(s + L3);

			CU_ASSERT_EQUAL(ntohs(ip->payload_len), hdr + seg - l4);
		}
		if (proto == IPPROTO_TCP) {
			const struct rte_tcp_hdr *tcp = (const void *)(s + l4);
			uint8_t f = RTE_TCP_ACK_FLAG;

			f |= i + 1 == want ? RTE_TCP_PSH_FLAG | RTE_TCP_FIN_FLAG : 0;
			f |= i == 0 ? RTE_TCP_CWR_FLAG : 0;
			CU_ASSERT_EQUAL(ntohl(tcp->sent_seq), 0xfffff000u + i * mss);
			CU_ASSERT_EQUAL(tcp->tcp_flags, f);
			CU_ASSERT_EQUAL(memcmp(s + l4 + 20, frame + l4 + 20, 12), 0); /* options */
		} else {
			const struct rte_udp_hdr *udp = (const void *)(s + l4);

			CU_ASSERT_EQUAL(ntohs(udp->dgram_len), 8 + seg);
			CU_ASSERT_NOT_EQUAL(udp->dgram_cksum, 0);
		}
		CU_ASSERT_TRUE(l4_ok(s, v4, proto, l4, hdr + seg - l4));
		off += seg;
	}
	CU_ASSERT_EQUAL(off, len);
	rte_pktmbuf_free_bulk(out, want);
}

static void test_gso_tcpv4(void)
{
	check_cut(true, IPPROTO_TCP, VIRTIO_NET_HDR_GSO_TCPV4, 4000, MSS);
	check_cut(true, IPPROTO_TCP, VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN,
		  65535 - 20 - 32, MSS); /* the largest: 46 segments */
}

static void test_gso_tcpv6(void)
{
	check_cut(false, IPPROTO_TCP, VIRTIO_NET_HDR_GSO_TCPV6, 2 * 1428, 1428);
	check_cut(false, IPPROTO_TCP, VIRTIO_NET_HDR_GSO_TCPV6, 30001, 1428);
}

static void test_gso_udp(void)
{
	check_cut(true, IPPROTO_UDP, VIRTIO_NET_HDR_GSO_UDP_L4, 3000, 1400);
	check_cut(false, IPPROTO_UDP, VIRTIO_NET_HDR_GSO_UDP_L4, 1400 * 5, 1400);
}

static int suite_init(void)
{
	static char *argv[] = {"test_afp_vnet", "-l",          "0",
			       "--no-huge",     "-m",          "64",
			       "--no-pci",      "--no-shconf", "--no-telemetry",
			       "--log-level",   "*:error",     "--file-prefix",
			       "test_afp_vnet", NULL};

	if (rte_eal_init((int)RTE_DIM(argv) - 1, argv) < 0)
		return -1;
	pool = rte_pktmbuf_pool_create("afp_vnet_test", 511, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	return pool != NULL ? 0 : -1;
}

static int suite_cleanup(void)
{
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return 0;
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"csum: not marked partial: left as it is, wrong or not", test_csum_not_partial},
		{"csum: offsets outside the frame refused", test_csum_bad_offsets},
		{"csum: partial TCP/UDP over IPv4/IPv6 completed", test_csum_completed},
		{"csum: Ethernet padding left out of the sum", test_csum_padded},
		{"gso: other types, bad headers, too many or too large segments", test_gso_refused},
		{"gso: TCPv4 super-frames cut", test_gso_tcpv4},
		{"gso: TCPv6 super-frames cut", test_gso_tcpv6},
		{"gso: UDP (USO) super-frames cut, IPv4 and IPv6", test_gso_udp},
	};

	return cunit_run("afp_vnet", suite_init, suite_cleanup, tests, RTE_DIM(tests));
}
