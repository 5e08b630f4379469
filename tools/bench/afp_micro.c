/* afp_micro.c - what the af_packet port's RX path costs per frame on this CPU, apart from the
 * kernel: the copy of a frame from the ring into an mbuf, the partial-checksum completion, the
 * check on a frame that needs none, and the cut of a 64 KB TCP super-frame; with an interface
 * argument also what the ring ethdev between the sockets and the switch adds: an idle pump,
 * and per frame the RX hop (pump's enqueue, rte_eth_rx_burst's dequeue) and the TX hop
 * (rte_eth_tx_burst's enqueue, pump's dequeue), in bursts of 32 (cycles per frame, the fastest
 * of 200 short rounds). usage: afp-micro [IFACE] (EAL runs with --no-huge, one lcore; IFACE:
 * one that carries no traffic, e.g. `unshare -n afp-micro lo`, lo being down there) */
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "afp.h"
#include "afp_vnet.h"

#define ROUNDS 200 /* many short rounds: the fastest is one the scheduler left alone */
#define ITER 2000
#define L4 (RTE_ETHER_HDR_LEN + 20)

static uint8_t frame[65600];

/* Ethernet + IPv4 + TCP (20 bytes) + payload bytes; returns the frame's length. */
static uint32_t build(uint32_t payload)
{
	struct rte_ipv4_hdr *ip = (void *)(frame + RTE_ETHER_HDR_LEN);
	struct rte_tcp_hdr *tcp = (void *)(frame + L4);
	uint32_t len = L4 + 20 + payload;

	memset(frame, 0x5a, len);
	frame[12] = 0x08;
	frame[13] = 0;
	memset(ip, 0, 20);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(len - RTE_ETHER_HDR_LEN));
	ip->next_proto_id = IPPROTO_TCP;
	ip->time_to_live = 64;
	tcp->data_off = 5 << 4;
	return len;
}

/* The RX copy alone: mbuf from the pool, frame copied in, mbuf back. */
static double copy_cycles(struct rte_mempool *pool, uint32_t len)
{
	double best = 1e30;

	for (int r = 0; r < ROUNDS; r++) {
		uint64_t t = rte_rdtsc();

		for (int i = 0; i < ITER; i++) {
			struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

			rte_memcpy(rte_pktmbuf_append(m, (uint16_t)len), frame, len);
			rte_pktmbuf_free(m);
		}
		best = RTE_MIN(best, (double)(rte_rdtsc() - t) / ITER);
	}
	return best;
}

static double csum_cycles(uint32_t len, uint8_t flags)
{
	struct virtio_net_hdr vh = {.flags = flags, .csum_start = L4, .csum_offset = 16};
	double best = 1e30;
	int done = 0;

	for (int r = 0; r < ROUNDS; r++) {
		uint64_t t = rte_rdtsc();

		for (int i = 0; i < ITER; i++)
			done += pmx_afp_csum_complete(frame, len, &vh);
		best = RTE_MIN(best, (double)(rte_rdtsc() - t) / ITER);
	}
	return done >= 0 ? best : -1;
}

/* Cycles per wire frame cut from a 64 KB super-frame (mbufs allocated, filled, freed). */
static double gso_cycles(struct rte_mempool *pool, uint32_t *segs)
{
	uint32_t len = build(65535 - 40);
	struct virtio_net_hdr vh = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				    .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
				    .gso_size = 1448,
				    .csum_start = L4,
				    .csum_offset = 16};
	struct rte_mbuf *out[PMX_AFP_GSO_MAX_SEGS];
	double best = 1e30;

	for (int r = 0; r < ROUNDS; r++) {
		uint64_t t = rte_rdtsc();
		int n = 0;

		for (int i = 0; i < 10; i++) {
			n = pmx_afp_gso_cut(frame, len, &vh, pool, out, PMX_AFP_GSO_MAX_SEGS);
			if (n <= 0)
				return -1;
			rte_pktmbuf_free_bulk(out, (unsigned)n);
		}
		*segs = (uint32_t)n;
		best = RTE_MIN(best, (double)(rte_rdtsc() - t) / 10 / n);
	}
	return best;
}

/* The cost of the ring ethdev: an idle pump per call, the RX and TX hops per frame. */
static int hop_cycles(const char *iface, struct rte_mempool *pool)
{
	struct pmx_afp_conf conf = {.qpairs = 1, .frames = 64, .qdisc_bypass = true};
	struct rte_eth_conf ec = {0};
	struct rte_mbuf *m[32], *got[32];
	struct pmx_afp_port *pt;
	double idle = 1e30, rx = 1e30, tx = 1e30;
	uint16_t id;
	int ret;

	snprintf(conf.iface, sizeof(conf.iface), "%s", iface);
	ret = pmx_afp_port_create(&conf, 1, pool, &pt);
	if (ret < 0)
		return ret;
	id = pmx_afp_port_id(pt);
	if (rte_eth_dev_configure(id, 1, 1, &ec) != 0 ||
	    rte_eth_rx_queue_setup(id, 0, 1024, 0, NULL, pool) != 0 ||
	    rte_eth_tx_queue_setup(id, 0, 1024, 0, NULL) != 0 || rte_eth_dev_start(id) != 0 ||
	    rte_pktmbuf_alloc_bulk(pool, m, 32) != 0) {
		pmx_afp_port_destroy(pt);
		return -EIO;
	}
	for (int r = 0; r < ROUNDS; r++) {
		uint64_t t = rte_rdtsc();
		unsigned moved = 0;

		for (int i = 0; i < ITER; i++)
			moved += pmx_afp_pump(pt, 0);
		if (moved == 0)
			idle = RTE_MIN(idle, (double)(rte_rdtsc() - t) / ITER);
		t = rte_rdtsc();
		for (int i = 0; i < ITER; i++) {
			rte_ring_sp_enqueue_burst(pt->q[0].rx_ring, (void **)m, 32, NULL);
			rte_eth_rx_burst(id, 0, got, 32);
		}
		rx = RTE_MIN(rx, (double)(rte_rdtsc() - t) / ITER / 32);
		t = rte_rdtsc();
		for (int i = 0; i < ITER; i++) {
			rte_eth_tx_burst(id, 0, m, 32);
			rte_ring_sc_dequeue_burst(pt->q[0].tx_ring, (void **)got, 32, NULL);
		}
		tx = RTE_MIN(tx, (double)(rte_rdtsc() - t) / ITER / 32);
	}
	printf("ring ethdev on %s: idle pump %.1f cycles per call | RX hop %.1f | TX hop %.1f "
	       "cycles per frame (bursts of 32)\n",
	       iface, idle, rx, tx);
	rte_pktmbuf_free_bulk(m, 32);
	pmx_afp_port_destroy(pt);
	return 0;
}

int main(int argc, char **argv_in)
{
	static char *argv[] = {"afp-micro",   "-l",          "0",
			       "--no-huge",   "-m",          "128",
			       "--no-pci",    "--no-shconf", "--no-telemetry",
			       "--log-level", "*:error",     NULL};
	static const uint32_t sizes[] = {64, 1514};
	struct rte_mempool *pool;
	uint32_t segs = 0;

	if (rte_eal_init((int)RTE_DIM(argv) - 1, argv) < 0)
		return 1;
	pool = rte_pktmbuf_pool_create("afp_micro", 1023, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	if (pool == NULL)
		return 1;
	printf("TSC %.2f GHz; cycles per frame, fastest of %d rounds of %d\n",
	       rte_get_tsc_hz() / 1e9, ROUNDS, ITER);
	for (unsigned i = 0; i < RTE_DIM(sizes); i++) {
		uint32_t len = build(sizes[i] - L4 - 20);

		printf("%4u B: ring->mbuf copy %6.1f | no NEEDS_CSUM check %5.1f | partial "
		       "checksum completed %6.1f\n",
		       len, copy_cycles(pool, len), csum_cycles(len, 0),
		       csum_cycles(len, VIRTIO_NET_HDR_F_NEEDS_CSUM));
	}
	double gso = gso_cycles(pool, &segs);

	printf("64 KB TCPv4 super-frame cut: %.1f cycles per wire frame (%u frames, copy and "
	       "checksums included)\n",
	       gso, segs);
	if (argc > 1 && hop_cycles(argv_in[1], pool) < 0)
		printf("ring ethdev on %s: cannot make the port\n", argv_in[1]);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return 0;
}
