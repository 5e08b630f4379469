/* ceiling.c - the bare cross-core hand-off a switch cannot beat: rx_burst -> N SP/SC rings -> free */
/*
 * pmx-ceiling does what portmuxd must do to a frame and nothing else, with the benchmark's
 * settings (tools/bench/run.sh runs it beside testpmd and portmuxd in every repeat):
 *   RX lcore (lcore 1): rte_eth_rx_burst of PMX_BURST frames on port 0, queue 0; frame i of the
 *     port goes to ring i mod N (the trace's flow f belongs to client f mod N, so the switch's
 *     rings see the same sequence); one rte_ring_enqueue_burst per ring and burst, as the
 *     switch groups a burst per destination; what a ring cannot take is freed and counted.
 *   consumer (the main lcore, lcore 0): dequeues bursts of 64 from every ring in turn and frees
 *     them with rte_pktmbuf_free_bulk, as pmx-sink does.
 * The mempool: MBUFS mbufs, a per-lcore cache of 256, driver POOL (portmuxd's "mbuf_pool");
 * the port: 1 RX and 1 TX queue of 1024 descriptors (lib/ports/port_setup.c).
 * After WARMUP_S it measures DURATION_S and prints one JSON line, "RESULT {...}": frames
 * received, delivered (dequeued and freed by the consumer), dropped, and the CPU time each of
 * the two threads got in the window (their thread CPU clocks).
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "pmx_opt.h"

#define RX_BURST 32    /* PMX_BURST, the switch's RX burst */
#define DRAIN_BURST 64 /* pmx-sink's */
#define MAX_RINGS 64
#define NB_DESC 1024
#define POOL_CACHE 256

struct ceiling {
	unsigned rings, ring_size, mbufs;
	double warmup_s, duration_s;
	const char *pool_ops;
	uint16_t port;
	struct rte_mempool *pool;
	struct rte_ring *ring[MAX_RINGS];
	/* written by the RX lcore, read by the consumer */
	uint64_t rx, drops;
	clockid_t rx_clock;
	int rx_clock_ok;
	int stop;
};

static volatile sig_atomic_t signalled;

static void on_signal(int sig)
{
	(void)sig;
	signalled = 1;
}

static int rx_main(void *arg)
{
	struct ceiling *c = arg;
	struct rte_mbuf *pkts[RX_BURST], *per[MAX_RINGS][RX_BURST];
	unsigned count[MAX_RINGS] = {0}, next = 0;
	uint64_t rx = 0, drops = 0;

	if (pthread_getcpuclockid(pthread_self(), &c->rx_clock) == 0)
		__atomic_store_n(&c->rx_clock_ok, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
		uint16_t n = rte_eth_rx_burst(c->port, 0, pkts, RX_BURST);

		if (n == 0)
			continue;
		for (uint16_t i = 0; i < n; i++) {
			per[next][count[next]++] = pkts[i];
			if (++next == c->rings)
				next = 0;
		}
		for (unsigned k = 0; k < c->rings; k++) {
			unsigned done;

			if (count[k] == 0)
				continue;
			done = rte_ring_sp_enqueue_burst(c->ring[k], (void **)per[k], count[k],
							 NULL);
			if (done < count[k]) {
				rte_pktmbuf_free_bulk(&per[k][done], count[k] - done);
				drops += count[k] - done;
			}
			count[k] = 0;
		}
		rx += n;
		__atomic_store_n(&c->rx, rx, __ATOMIC_RELAXED);
		__atomic_store_n(&c->drops, drops, __ATOMIC_RELAXED);
	}
	return 0;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

struct snap {
	uint64_t tsc, rx, drops, delivered, rx_cpu_ns, consumer_cpu_ns;
};

static void take(const struct ceiling *c, uint64_t delivered, struct snap *s)
{
	s->tsc = rte_rdtsc();
	s->rx = __atomic_load_n(&c->rx, __ATOMIC_RELAXED);
	s->drops = __atomic_load_n(&c->drops, __ATOMIC_RELAXED);
	s->delivered = delivered;
	s->rx_cpu_ns = __atomic_load_n(&c->rx_clock_ok, __ATOMIC_ACQUIRE) ? clock_ns(c->rx_clock)
									  : 0;
	s->consumer_cpu_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

/* The consumer loop: drains and frees until the window has ended; fills a and b (the window's
 * ends). Returns 0, or -EINTR on a signal before the end. */
static int consume(struct ceiling *c, struct snap *a, struct snap *b, uint64_t *total)
{
	struct rte_mbuf *pkts[DRAIN_BURST];
	uint64_t hz = rte_get_tsc_hz(), start = rte_rdtsc(), delivered = 0;
	uint64_t t_a = start + (uint64_t)(c->warmup_s * hz);
	uint64_t t_b = t_a + (uint64_t)(c->duration_s * hz);
	int phase = 0;

	while (!signalled) {
		for (unsigned k = 0; k < c->rings; k++) {
			unsigned n = rte_ring_sc_dequeue_burst(c->ring[k], (void **)pkts,
							       DRAIN_BURST, NULL);

			if (n == 0)
				continue;
			rte_pktmbuf_free_bulk(pkts, n);
			delivered += n;
		}
		if (phase == 0 && rte_rdtsc() >= t_a) {
			take(c, delivered, a);
			phase = 1;
		} else if (phase == 1 && rte_rdtsc() >= t_b) {
			take(c, delivered, b);
			*total = delivered;
			return 0;
		}
	}
	*total = delivered;
	return -EINTR;
}

static int port_start(struct ceiling *c)
{
	struct rte_eth_conf conf = {0};
	uint16_t nb_rxd = NB_DESC, nb_txd = NB_DESC;
	int ret;

	if (rte_eth_dev_count_avail() < 1)
		return -ENODEV;
	c->port = 0;
	ret = rte_eth_dev_configure(c->port, 1, 1, &conf);
	if (ret == 0)
		ret = rte_eth_dev_adjust_nb_rx_tx_desc(c->port, &nb_rxd, &nb_txd);
	if (ret == 0)
		ret = rte_eth_rx_queue_setup(c->port, 0, nb_rxd, rte_eth_dev_socket_id(c->port),
					     NULL, c->pool);
	if (ret == 0)
		ret = rte_eth_tx_queue_setup(c->port, 0, nb_txd, rte_eth_dev_socket_id(c->port),
					     NULL);
	if (ret == 0)
		ret = rte_eth_dev_start(c->port);
	return ret;
}

static int setup(struct ceiling *c)
{
	char name[RTE_RING_NAMESIZE];
	int ret;

	if (rte_lcore_count() != 2 || rte_get_next_lcore(-1, 1, 0) >= RTE_MAX_LCORE) {
		fprintf(stderr, "pmx-ceiling: needs exactly 2 lcores (EAL -l A,B): the consumer on "
				"the main one, RX on the other\n");
		return -EINVAL;
	}
	c->pool = rte_pktmbuf_pool_create_by_ops("pmx_ceiling", c->mbufs, POOL_CACHE, 0,
						 RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id(),
						 c->pool_ops);
	if (c->pool == NULL) {
		fprintf(stderr, "pmx-ceiling: pool of %u (%s): %s\n", c->mbufs, c->pool_ops,
			rte_strerror(rte_errno));
		return -ENOMEM;
	}
	for (unsigned k = 0; k < c->rings; k++) {
		snprintf(name, sizeof(name), "pmx_ceiling_%u", k);
		c->ring[k] = rte_ring_create(name, c->ring_size, rte_socket_id(),
					     RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (c->ring[k] == NULL) {
			fprintf(stderr, "pmx-ceiling: ring %s: %s\n", name,
				rte_strerror(rte_errno));
			return -ENOMEM;
		}
	}
	ret = port_start(c);
	if (ret != 0)
		fprintf(stderr, "pmx-ceiling: port 0 (a --vdev in the EAL arguments?): %s\n",
			strerror(ret < 0 ? -ret : ret));
	return ret;
}

static void print_result(const struct ceiling *c, const struct snap *a, const struct snap *b)
{
	double window = (double)(b->tsc - a->tsc) / (double)rte_get_tsc_hz();

	printf("RESULT {\"window_s\":%.6f,\"tsc_hz\":%llu,\"rings\":%u,\"ring_size\":%u,"
	       "\"mbufs\":%u,\"pool\":\"%s\",\"rx\":%llu,\"delivered\":%llu,\"drops\":%llu,"
	       "\"rx_cpu_ns\":%llu,\"consumer_cpu_ns\":%llu}\n",
	       window, (unsigned long long)rte_get_tsc_hz(), c->rings, c->ring_size, c->mbufs,
	       c->pool_ops, (unsigned long long)(b->rx - a->rx),
	       (unsigned long long)(b->delivered - a->delivered),
	       (unsigned long long)(b->drops - a->drops),
	       (unsigned long long)(b->rx_cpu_ns - a->rx_cpu_ns),
	       (unsigned long long)(b->consumer_cpu_ns - a->consumer_cpu_ns));
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: pmx-ceiling [-n RINGS] [-s RING_SIZE] [-m MBUFS] [-p POOL] [-w WARMUP_S]\n"
		"                   [-d DURATION_S] -- EAL-ARGS\n"
		"  The bare cross-core hand-off: rx_burst on port 0 (the EAL's --vdev) on the\n"
		"  second lcore, frames round robin onto RINGS (default 4) SP/SC rings of "
		"RING_SIZE\n"
		"  (16384), the main lcore dequeues and frees them. Mempool of MBUFS (81920) with\n"
		"  driver POOL (stack). After WARMUP_S (3) measures DURATION_S (10) and prints a\n"
		"  RESULT line (JSON): rx, delivered, drops, the CPU ns of both threads.\n"
		"  Example: pmx-ceiling -n 4 -- --no-pci -l 0-1 --vdev "
		"net_pcap0,rx_pcap=T.pcap,infinite_rx=1\n"
		"  Long options: --rings, --ring-size, --mbufs, --pool, --warmup, --duration,\n"
		"  --help, --version (-V).\n");
}

static int bad_value(int opt, const char *value)
{
	fprintf(stderr, "pmx-ceiling: -%c: bad value \"%s\"\nTry 'pmx-ceiling --help'.\n", opt,
		value);
	return 2;
}

static int parse(struct ceiling *c, int argc, char **argv)
{
	static const struct option longopts[] = {{"rings", required_argument, NULL, 'n'},
						 {"ring-size", required_argument, NULL, 's'},
						 {"mbufs", required_argument, NULL, 'm'},
						 {"pool", required_argument, NULL, 'p'},
						 {"warmup", required_argument, NULL, 'w'},
						 {"duration", required_argument, NULL, 'd'},
						 {"help", no_argument, NULL, 'h'},
						 {"version", no_argument, NULL, 'V'},
						 {NULL, 0, NULL, 0}};
	int opt;

	while ((opt = getopt_long(argc, argv, "n:s:m:p:w:d:hV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			if (pmx_opt_uint(optarg, 1, MAX_RINGS, &c->rings) != 0)
				return bad_value(opt, optarg);
			break;
		case 's':
			if (pmx_opt_uint(optarg, 2, 1U << 24, &c->ring_size) != 0 ||
			    (c->ring_size & (c->ring_size - 1)) != 0)
				return bad_value(opt, optarg);
			break;
		case 'm':
			if (pmx_opt_uint(optarg, 1024, 1U << 26, &c->mbufs) != 0)
				return bad_value(opt, optarg);
			break;
		case 'p': c->pool_ops = optarg; break;
		case 'w':
			if (pmx_opt_double(optarg, 0, 3600, &c->warmup_s) != 0)
				return bad_value(opt, optarg);
			break;
		case 'd':
			if (pmx_opt_double(optarg, 0.1, 86400, &c->duration_s) != 0)
				return bad_value(opt, optarg);
			break;
		case 'h': usage(stdout); return 1;
		case 'V': printf("pmx-ceiling %s\n", PMX_VERSION); return 1;
		default: fprintf(stderr, "Try 'pmx-ceiling --help'.\n"); return 2;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct ceiling c = {.rings = 4,
				   .ring_size = 16384,
				   .mbufs = 81920,
				   .warmup_s = 3,
				   .duration_s = 10,
				   .pool_ops = "stack"};
	struct snap a, b;
	uint64_t total = 0;
	unsigned rx_lcore;
	int ret;

	ret = parse(&c, argc, argv);
	if (ret != 0)
		return ret == 1 ? 0 : ret;
	/* the EAL arguments come after "--": EAL sees them as its argv (argv[optind - 1] is
	 * the "--", standing in for the program name) */
	if (optind < 1 || strcmp(argv[optind - 1], "--") != 0) {
		fprintf(stderr, "pmx-ceiling: EAL arguments missing (after \"--\")\n");
		return 2;
	}
	ret = rte_eal_init(argc - optind + 1, argv + optind - 1);
	if (ret < 0) {
		fprintf(stderr, "pmx-ceiling: EAL: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	ret = setup(&c);
	if (ret != 0)
		goto out;
	rx_lcore = rte_get_next_lcore(-1, 1, 0);
	ret = rte_eal_remote_launch(rx_main, &c, rx_lcore);
	if (ret != 0)
		goto out;
	printf("pmx-ceiling: ready, RX lcore %u, consumer lcore %u, %u rings of %u, %u mbufs "
	       "(%s)\n",
	       rx_lcore, rte_lcore_id(), c.rings, c.ring_size, c.mbufs, c.pool_ops);
	fflush(stdout);
	ret = consume(&c, &a, &b, &total);
	__atomic_store_n(&c.stop, 1, __ATOMIC_RELEASE);
	rte_eal_mp_wait_lcore();
	printf("pmx-ceiling: total rx %llu, delivered %llu, drops %llu\n",
	       (unsigned long long)__atomic_load_n(&c.rx, __ATOMIC_RELAXED),
	       (unsigned long long)total,
	       (unsigned long long)__atomic_load_n(&c.drops, __ATOMIC_RELAXED));
	if (ret == 0)
		print_result(&c, &a, &b);
	else
		fprintf(stderr, "pmx-ceiling: interrupted before the end of the window\n");
out:
	rte_eal_cleanup();
	return ret == 0 ? 0 : 1;
}
