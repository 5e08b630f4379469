/* rxbench.c - instructions and cycles per frame of the whole RX lcore loop, portmux's against the bare hand-off */
/*
 * The RX lcore as worker.c runs it, in one process, without a NIC: a net_ring port whose RX ring
 * a "PMD" step fills (mbufs taken from the pool on this lcore, a 60-byte UDP/IPv4 frame copied
 * into each, as net_pcap's infinite_rx does), then the loop's polls of worker.c:
 * pmx_nic_rx_poll() (rx_burst, stamp, parse, classify, deliver into 4 ring clients' RX rings
 * with their mbufs marked as the clients', mbuf_home.h), the kernel path, the clients' TX (which
 * drains what the clients freed into their homes back into this lcore's cache), learning,
 * fragments, the quiescent state. A consumer takes the frames off the 4 client rings and frees
 * them with rte_pktmbuf_free_bulk(), as pmx-sink does.
 *
 * The same run times the ceiling of issue 20 on the same frames: rx_burst, round robin onto 4
 * SP/SC rings of the same size, the same consumer freeing into the pool.
 *
 * Without -t the consumer runs inline on the same lcore (untimed): the figures are then the
 * RX lcore's own work, free of cross-core effects and of the other engineers' load, and under
 * valgrind --tool=callgrind they are repeatable instruction counts (the per-function split
 * says where they go). With -t it runs on a second lcore, as in the benchmark.
 */
#include <errno.h>
#include <inttypes.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf_dyn.h>

#include "bench_stats.h"
#include "mbuf_home.h"
#include "pmx_latency.h"
#include "stages.h"

#define CLIENTS 4
#define FRAME_LEN 60
#define RING_SIZE 16384
#define FLOWS 65536

/* the rules: one 5-tuple per flow, one listen per client on the address or on any address */
enum kind { KIND_EXACT, KIND_LISTEN, KIND_ANY };
static const char *const kind_names[] = {"exact", "listen", "any"};

enum mode { MODE_CEILING, MODE_PORTMUX, N_MODES };
static const char *const mode_names[N_MODES] = {"ceiling", "portmux"};

struct rxbench {
	struct pmx_switch sw;
	struct pmx_worker w;
	struct rte_ring *pmd_rx; /* the net_ring port's RX ring: what the "PMD" step fills */
	struct rte_ring *bare[CLIENTS];
	uint64_t frames; /* per pass */
	uint32_t next_flow;
	int kind;      /* rules: KIND_* */
	bool threaded; /* -t: the consumer on a second lcore */
	volatile int stop;
	enum mode mode;
	enum mode only; /* -m: the one mode to run; N_MODES: both */
	uint8_t tmpl[FRAME_LEN];
};

static uint32_t remote_ip(uint32_t f)
{
	return (198u << 24 | 19u << 16) + (f & 0xffff);
}

static void write_frame(const struct rxbench *b, uint8_t *p, uint32_t f)
{
	uint32_t src = htonl(remote_ip(f));
	uint16_t sp = htons((uint16_t)(1024 + (f >> 16))),
		 dp = htons((uint16_t)(10000 + f % CLIENTS));

	memcpy(p, b->tmpl, FRAME_LEN);
	memcpy(p + 26, &src, 4);
	memcpy(p + 34, &sp, 2);
	memcpy(p + 36, &dp, 2);
}

static void init_template(uint8_t *p)
{
	static const uint8_t hdr[] = {
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x70, 0x6d, 0x78, 0x00, 0x02,
		0x08, 0x00, 0x45, 0x00, 0x00, 46,   0x00, 0x00, 0x00, 0x00, 64,   17,
		0x00, 0x00, 0,    0,    0,    0,    198,  18,   0,    1, /* dst 198.18.0.1 */
	};

	memset(p, 0, FRAME_LEN);
	memcpy(p, hdr, sizeof(hdr));
	p[14 + 20 + 5] = 26; /* UDP length */
}

/* The PMD's share: fresh mbufs from this lcore's cache, a frame copied into each. */
static int pmd_fill(struct rxbench *b)
{
	struct rte_mbuf *m[PMX_BURST];

	if (rte_pktmbuf_alloc_bulk(b->sw.pool, m, PMX_BURST) != 0)
		return -ENOBUFS;
	for (unsigned i = 0; i < PMX_BURST; i++) {
		write_frame(b, rte_pktmbuf_mtod(m[i], uint8_t *), b->next_flow++ % FLOWS);
		m[i]->data_len = m[i]->pkt_len = FRAME_LEN;
	}
	if (rte_ring_sp_enqueue_bulk(b->pmd_rx, (void **)m, PMX_BURST, NULL) != PMX_BURST) {
		rte_pktmbuf_free_bulk(m, PMX_BURST);
		return -ENOBUFS;
	}
	return 0;
}

/* The clients: take what the switch (or the ceiling) delivered, free it (pmx-sink's way). */
static unsigned consume(struct rxbench *b)
{
	struct rte_mbuf *m[PMX_BURST];
	unsigned n, total = 0;

	for (unsigned c = 0; c < CLIENTS; c++) {
		struct rte_ring *r = b->mode == MODE_CEILING ? b->bare[c]
							     : b->sw.clients[c].rx_ring[0];

		while ((n = rte_ring_sc_dequeue_burst(r, (void **)m, PMX_BURST, NULL)) != 0) {
			rte_pktmbuf_free_bulk(m, n);
			total += n;
		}
	}
	return total;
}

static int consumer_main(void *arg)
{
	struct rxbench *b = arg;

	while (!b->stop)
		consume(b);
	return 0;
}

/* One pass of the RX lcore loop as worker.c runs it; the ceiling: rx_burst, round robin
 * onto the rings (a burst each), what does not fit freed. */
static unsigned rx_loop_once(struct rxbench *b, unsigned round)
{
	struct pmx_worker *w = &b->w;
	unsigned work;

	if (b->mode == MODE_CEILING) {
		struct rte_mbuf *m[PMX_BURST];
		unsigned n = rte_eth_rx_burst(b->sw.ports[0].nic, 0, m, PMX_BURST);
		unsigned sent = rte_ring_sp_enqueue_burst(b->bare[round % CLIENTS], (void **)m, n,
							  NULL);

		if (sent < n)
			rte_pktmbuf_free_bulk(m + sent, n - sent);
		return n;
	}
	work = pmx_nic_rx_poll(w, 0);
	work += pmx_kernel_rx_poll(w, 0);
	work += pmx_client_tx_poll(w);
	work += pmx_learn_return_poll(w);
	work += pmx_frag_poll(w, false);
	pmx_flow_table_quiescent(b->sw.ft, w->id);
	return work;
}

/* One timed pass; TSC cycles per frame of the PMD step and of the RX loop. */
static int pass(struct rxbench *b, double *pmd, double *loop)
{
	uint64_t c_pmd = 0, c_loop = 0;

	for (uint64_t f = 0; f < b->frames; f += PMX_BURST) {
		uint64_t t0 = rte_rdtsc(), t1, t2;

		if (pmd_fill(b) != 0) {
			if (!b->threaded)
				return -ENOBUFS;
			while (pmd_fill(b) != 0) /* the consumer is behind: wait for it */
				rx_loop_once(b, (unsigned)(f / PMX_BURST));
			t0 = rte_rdtsc();
		}
		t1 = rte_rdtsc();
		rx_loop_once(b, (unsigned)(f / PMX_BURST));
		t2 = rte_rdtsc();
		c_pmd += t1 - t0;
		c_loop += t2 - t1;
		if (!b->threaded)
			consume(b);
	}
	*pmd = (double)c_pmd / b->frames;
	*loop = (double)c_loop / b->frames;
	return 0;
}

static int add_rules(struct rxbench *b)
{
	uint32_t id;

	for (uint32_t f = 0; f < (b->kind == KIND_EXACT ? FLOWS : CLIENTS); f++) {
		struct pmx_flow_key k = {.proto = PMX_PROTO_UDP};
		uint32_t lip = htonl(198u << 24 | 18u << 16 | 1), rip = htonl(remote_ip(f));
		int ret;

		k.kind = b->kind == KIND_EXACT ? PMX_KEY_EXACT : PMX_KEY_LISTEN;
		k.local_port = htons((uint16_t)(10000 + f % CLIENTS));
		if (b->kind != KIND_ANY)
			pmx_ip4_to_key((const uint8_t *)&lip, k.local_ip);
		if (b->kind == KIND_EXACT) {
			k.remote_port = htons((uint16_t)(1024 + (f >> 16)));
			pmx_ip4_to_key((const uint8_t *)&rip, k.remote_ip);
		}
		ret = pmx_flow_table_add(b->sw.ft, &k, (uint16_t)(f % CLIENTS), PMX_ORIGIN_CLIENT,
					 &id);
		if (ret != 0)
			return ret;
	}
	return 0;
}

/* A switch of one port (net_ring, no kernel path), CLIENTS ring clients with their homes. */
static int setup(struct rxbench *b, const char *pool_ops, unsigned cache)
{
	static const struct rte_mbuf_dynfield stamp = {.name = PMX_RX_TSC_DYNFIELD,
						       .size = sizeof(uint64_t),
						       .align = __alignof__(uint64_t)};
	struct pmx_switch *sw = &b->sw;
	struct pmx_worker *w = &b->w;
	struct rte_ring *pmd_tx;
	char name[RTE_RING_NAMESIZE];
	int port, ret;

	sw->pool = rte_pktmbuf_pool_create_by_ops("rxb_pool", 2 * CLIENTS * RING_SIZE + 4096, cache,
						  0, RTE_MBUF_DEFAULT_BUF_SIZE,
						  (int)rte_socket_id(), pool_ops);
	sw->rx_tsc_off = rte_mbuf_dynfield_register(&stamp);
	b->pmd_rx = rte_ring_create("rxb_pmd_rx", 1024, (int)rte_socket_id(),
				    RING_F_SP_ENQ | RING_F_SC_DEQ);
	pmd_tx = rte_ring_create("rxb_pmd_tx", 1024, (int)rte_socket_id(),
				 RING_F_SP_ENQ | RING_F_SC_DEQ);
	sw->ft = pmx_flow_table_create("rxb_flows", 2 * FLOWS, 1, (int)rte_socket_id());
	sw->clients_max = CLIENTS;
	sw->clients = rte_zmalloc("rxb_clients", sizeof(*sw->clients) * CLIENTS,
				  RTE_CACHE_LINE_SIZE);
	w->client = rte_zmalloc("rxb_counters", sizeof(*w->client) * CLIENTS, RTE_CACHE_LINE_SIZE);
	if (sw->pool == NULL || sw->rx_tsc_off < 0 || b->pmd_rx == NULL || pmd_tx == NULL ||
	    sw->ft == NULL || sw->clients == NULL || w->client == NULL)
		return -ENOMEM;
	port = rte_eth_from_rings("rxb_nic", &b->pmd_rx, 1, &pmd_tx, 1, (int)rte_socket_id());
	if (port < 0)
		return -rte_errno;
	{
		struct rte_eth_conf conf = {0};

		ret = rte_eth_dev_configure((uint16_t)port, 1, 1, &conf);
		if (ret == 0)
			ret = rte_eth_rx_queue_setup((uint16_t)port, 0, 1024, 0, NULL, sw->pool);
		if (ret == 0)
			ret = rte_eth_tx_queue_setup((uint16_t)port, 0, 1024, 0, NULL);
		if (ret == 0)
			ret = rte_eth_dev_start((uint16_t)port);
		if (ret != 0)
			return ret;
	}
	sw->n_ports = 1;
	sw->ports[0].nic = (uint16_t)port;
	sw->ports[0].exc = PMX_PORT_NONE;
	rte_ether_unformat_addr("02:00:00:00:00:01", &sw->ports[0].mac);
	sw->kernel_policy = PMX_POLICY_FIREWALL;
	sw->n_workers = 1;
	sw->workers[0] = w;
	w->sw = sw;
	for (unsigned c = 0; c < CLIENTS; c++) {
		struct pmx_client_slot *slot = &sw->clients[c];

		snprintf(name, sizeof(name), "rxb_rx%u", c);
		slot->rx_ring[0] = rte_ring_create(name, RING_SIZE, (int)rte_socket_id(),
						   RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "rxb_tx%u", c);
		slot->tx_ring[0] = rte_ring_create(name, RING_SIZE, (int)rte_socket_id(),
						   RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "rxb_bare%u", c);
		b->bare[c] = rte_ring_create(name, RING_SIZE, (int)rte_socket_id(),
					     RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (slot->rx_ring[0] == NULL || slot->tx_ring[0] == NULL || b->bare[c] == NULL)
			return -ENOMEM;
		ret = pmx_mbuf_home_open(sw, (uint16_t)c, 1, 0, &slot->home);
		if (ret != 0)
			return ret;
		slot->n_queues = 1;
		slot->channel = PMX_CHANNEL_RING;
		slot->state = PMX_SLOT_ACTIVE;
		pmx_bitmap_set(sw->port_clients[0], c);
		pmx_bitmap_set(w->tx_bitmap, c);
	}
	ret = pmx_worker_init(w);
	if (ret == 0)
		ret = pmx_flow_table_reader_register(sw->ft, 0);
	return ret != 0 ? ret : add_rules(b);
}

static int run(struct rxbench *b, unsigned passes)
{
	double pmd[N_MODES][passes], loop[N_MODES][passes];
	unsigned consumer = rte_get_next_lcore(rte_lcore_id(), 1, 0);
	int ret = 0;

	if (b->threaded && consumer >= RTE_MAX_LCORE)
		return -EINVAL;
	/* an untimed round of each to warm up, then the modes alternate */
	for (unsigned p = 0; p <= passes && ret == 0; p++) {
		for (int m = 0; m < N_MODES && ret == 0; m++) {
			double dp = 0, dl = 0;

			if (b->only != N_MODES && m != (int)b->only)
				continue;
			b->mode = (enum mode)m;
			b->stop = 0;
			if (b->threaded)
				rte_eal_remote_launch(consumer_main, b, consumer);
			ret = pass(b, &dp, &dl);
			if (b->threaded) {
				b->stop = 1;
				rte_eal_wait_lcore(consumer);
			}
			consume(b);
			while (pmx_client_tx_poll(&b->w) != 0) /* the homes drained */
				;
			if (p > 0) {
				pmd[m][p - 1] = dp;
				loop[m][p - 1] = dl;
			}
		}
	}
	if (ret != 0)
		return ret;
	for (unsigned d = 0; d < PMX_DROP_MAX; d++) {
		if (b->w.drops[d] == 0)
			continue;
		/* a consumer on another lcore may fall behind; inline it never does */
		fprintf(stderr, "rxbench: %" PRIu64 " frames dropped (%s)\n", b->w.drops[d],
			pmx_drop_reason_name(d));
		if (!b->threaded)
			return -EPROTO;
	}
	printf("%-8s %-7s %8s %8s %8s\n", "mode", "rules", "pmd", "rx_loop", "total");
	for (int m = 0; m < N_MODES; m++) {
		double dp, dl;

		if (b->only != N_MODES && m != (int)b->only)
			continue;
		dp = bench_median(pmd[m], passes);
		dl = bench_median(loop[m], passes);
		printf("%-8s %-7s %8.1f %8.1f %8.1f\n", mode_names[m], kind_names[b->kind], dp, dl,
		       dp + dl);
	}
	return 0;
}

static void usage(const char *prog)
{
	static const char *const text[] = {
		"  TSC cycles per frame of the PMD step and of the RX lcore loop, portmux against",
		"  the bare hand-off (ceiling), medians of PASSES (default 5) passes of FRAMES",
		"  (default 1048576). -k: the rules (default exact). -m: one mode only (both by",
		"  default), e.g. under valgrind --tool=callgrind. -t: the consumer on a second",
		"  lcore (EAL -l 0-1). Pool: driver POOL_OPS (default stack), lcore cache CACHE",
		"  (default 256), as portmuxd's. EAL default: -l 0 --in-memory --no-pci",
		"  --no-telemetry (add --no-huge -m 1200 without hugepages or under valgrind).",
	};

	printf("usage: %s [-k exact|listen|any] [-m ceiling|portmux] [-p FRAMES] [-n PASSES] "
	       "[-t] [-o POOL_OPS] [-c CACHE] [-- EAL-ARGS]\n",
	       prog);
	for (unsigned i = 0; i < RTE_DIM(text); i++)
		printf("%s\n", text[i]);
}

int main(int argc, char **argv)
{
	static struct rxbench b;
	char *eal_argv[64] = {argv[0],
			      "-l",
			      "0",
			      "--in-memory",
			      "--no-pci",
			      "--no-telemetry",
			      "--log-level=lib.eal:warning"};
	const char *pool_ops = "stack";
	unsigned passes = 5, cache = 256;
	int eal_argc = 7, opt, ret;

	b.frames = 1u << 20;
	b.only = N_MODES;
	while ((opt = getopt(argc, argv, "k:m:p:n:to:c:h")) != -1) {
		switch (opt) {
		case 'k':
			for (b.kind = KIND_ANY;
			     b.kind > 0 && strcmp(optarg, kind_names[b.kind]) != 0;)
				b.kind--;
			break;
		case 'p': b.frames = strtoull(optarg, NULL, 10); break;
		case 'n': passes = (unsigned)strtoul(optarg, NULL, 10); break;
		case 't':
			b.threaded = true;
			eal_argv[2] = "0-1";
			break;
		case 'm':
			b.only = strcmp(optarg, "ceiling") == 0   ? MODE_CEILING
				 : strcmp(optarg, "portmux") == 0 ? MODE_PORTMUX
								  : N_MODES;
			break;
		case 'o': pool_ops = optarg; break;
		case 'c': cache = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'h': usage(argv[0]); return 0;
		default: usage(argv[0]); return 2;
		}
	}
	b.frames -= b.frames % PMX_BURST;
	if (b.frames == 0 || passes == 0 || passes > 99) {
		usage(argv[0]);
		return 2;
	}
	for (int i = optind; i < argc && eal_argc < 63; i++) {
		if (strcmp(argv[i], "--no-huge") == 0)
			eal_argv[3] = "--no-shconf"; /* --in-memory needs hugepages */
		eal_argv[eal_argc++] = argv[i];
	}
	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		fprintf(stderr, "rxbench: EAL: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	init_template(b.tmpl);
	ret = setup(&b, pool_ops, cache);
	if (ret != 0) {
		fprintf(stderr, "rxbench: setup: %s\n", strerror(-ret));
		goto out;
	}
	printf("# TSC %.3f GHz, %s rules, %u clients, pool %s cache %u, consumer %s\n",
	       rte_get_tsc_hz() / 1e9,
	       b.kind == KIND_EXACT    ? "65536 exact"
	       : b.kind == KIND_LISTEN ? "4 listen (on 198.18.0.1)"
				       : "4 listen (any address)",
	       CLIENTS, pool_ops, cache, b.threaded ? "on a second lcore" : "inline (untimed)");
	ret = run(&b, passes);
	if (ret != 0)
		fprintf(stderr, "rxbench: %s\n", strerror(-ret));
out:
	rte_eal_cleanup();
	return ret == 0 ? 0 : 1;
}
