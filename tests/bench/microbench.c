/* microbench.c - cycles per packet of stamp, parse, classify, enqueue (synthetic mbufs -> rings) */
/*
 * What the RX lcore does to a burst, without a PMD: bursts of 32 UDP/IPv4 frames, each of a
 * different flow, are stamped with the burst's TSC (the latency stamp of nic_rx.c: one
 * rte_rdtsc() and a store into an mbuf dynamic field per frame; -S leaves it out, for a
 * before/after in one binary), go through pmx_packet_parse(), pmx_flow_table_classify_bulk() and
 * rte_ring_enqueue_burst() on the ring of their owner (one ring per client, frames grouped by
 * owner as nic_rx.c does; each group first marked as its owner's, m->pool = the owner's home, as
 * deliver.c does for a ring client (mbuf_home.h); -M leaves the mark out). In the same run, a bare rte_hash_lookup_bulk() over the same keys in a
 * table of the same size and flags is the yardstick (target: pipeline <= 1.5 x bare lookup).
 *
 * Preparing a burst (writing the flow's addresses into the frames, copying keys) and draining
 * the rings happen outside the timed sections, like a PMD that just wrote the frames. Each
 * figure is the median over PASSES passes of TSC cycles per packet, minus the cost of an empty
 * timed section.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_ring.h>

#include "bench_stats.h"
#include "flow_table.h"
#include "mbuf_home.h"
#include "pmx_latency.h"
#include "pmx_packet.h"

#define BURST 32
#define OWNERS 4
#define PASSES 5
#define FRAME_LEN 60
#define MIN_PACKETS (1u << 21) /* per pass, whatever the rule count (default of -p) */

enum rule_kind { KIND_EXACT, KIND_LISTEN };

/* The flow of index f: remote 198.19.x.y:port -> local address:port, owner f % OWNERS. */
struct flow {
	uint32_t local_ip;  /* host order */
	uint32_t remote_ip;
	uint16_t local_port;
	uint16_t remote_port;
};

static void flow_of(uint32_t f, enum rule_kind kind, struct flow *fl)
{
	fl->remote_ip = (198u << 24 | 19u << 16) + (f & 0xffff);
	fl->remote_port = (uint16_t)(1024 + (f >> 16));
	if (kind == KIND_EXACT) {
		fl->local_ip = 198u << 24 | 18u << 16 | 1;
		fl->local_port = (uint16_t)(10000 + f % OWNERS);
	} else {
		/* a listening port per rule: 64K ports on each local address */
		fl->local_ip = (198u << 24 | 18u << 16 | 1) + (f >> 16);
		fl->local_port = (uint16_t)(f & 0xffff);
	}
}

static void ip4_key(uint32_t ip, uint8_t out[16])
{
	uint32_t be = htonl(ip);

	pmx_ip4_to_key((const uint8_t *)&be, out);
}

static void rule_key(const struct flow *fl, enum rule_kind kind, struct pmx_flow_key *k)
{
	memset(k, 0, sizeof(*k));
	k->kind = kind == KIND_EXACT ? PMX_KEY_EXACT : PMX_KEY_LISTEN;
	k->proto = PMX_PROTO_UDP;
	k->local_port = htons(fl->local_port);
	ip4_key(fl->local_ip, k->local_ip);
	if (kind == KIND_EXACT) {
		k->remote_port = htons(fl->remote_port);
		ip4_key(fl->remote_ip, k->remote_ip);
	}
}

/* Frame template: Ethernet + IPv4 + UDP + payload, 60 bytes (64 on the wire). */
static void write_template(uint8_t *p)
{
	static const uint8_t hdr[] = {
		0x02, 0x70, 0x6d, 0x78, 0x00, 0x01, 0x02, 0x70, 0x6d, 0x78, 0x00, 0x02, 0x08, 0x00,
		0x45, 0x00, 0x00, 46, 0x00, 0x00, 0x00, 0x00, 64, 17, 0x00, 0x00,
	};

	memset(p, 0, FRAME_LEN);
	memcpy(p, hdr, sizeof(hdr));
	p[14 + 20 + 5] = 26; /* UDP length */
}

static void write_flow(uint8_t *p, const struct flow *fl)
{
	uint32_t src = htonl(fl->remote_ip), dst = htonl(fl->local_ip);
	uint16_t sp = htons(fl->remote_port), dp = htons(fl->local_port);

	memcpy(p + 26, &src, 4);
	memcpy(p + 30, &dst, 4);
	memcpy(p + 34, &sp, 2);
	memcpy(p + 36, &dp, 2);
}

struct bench {
	enum rule_kind kind;
	uint32_t rules;
	uint64_t min_packets; /* per pass */
	uint64_t packets; /* per pass, a multiple of BURST */
	struct pmx_flow_table *ft;
	struct rte_hash *bare;
	struct rte_mempool *pool;
	struct rte_mbuf *mbufs[BURST];
	struct rte_ring *rings[OWNERS];
	struct rte_mempool *homes[OWNERS]; /* each owner's home; NULL: no mark (-M) */
	uint64_t overhead; /* cycles of an empty timed section */
	uint64_t limit;    /* a burst that took longer was interrupted: not counted */
	uint64_t skipped;  /* bursts not counted */
	int stamp_off;     /* the RX stamp's mbuf field; < 0: no stamp step (-S) */
	bool no_mark;      /* -M: frames not marked as their owner's (mbuf_home.h) */
};

static void prepare_burst(struct bench *b, uint64_t first)
{
	for (unsigned i = 0; i < BURST; i++) {
		struct flow fl;

		flow_of((uint32_t)((first + i) % b->rules), b->kind, &fl);
		write_flow(rte_pktmbuf_mtod(b->mbufs[i], uint8_t *), &fl);
	}
}

/* Group a classified burst by owner and enqueue each group on its owner's ring. */
static unsigned enqueue_by_owner(struct bench *b, struct rte_mbuf **pkts, const uint16_t *owner,
				 unsigned n)
{
	struct rte_mbuf *grp[OWNERS][BURST];
	unsigned cnt[OWNERS] = {0}, sent = 0;

	for (unsigned i = 0; i < n; i++) {
		uint16_t o = owner[i] < OWNERS ? owner[i] : 0;

		grp[o][cnt[o]++] = pkts[i];
	}
	for (unsigned o = 0; o < OWNERS; o++) {
		if (cnt[o] == 0)
			continue;
		if (b->homes[o] != NULL) /* as deliver.c: the frames are the client's now */
			pmx_mbuf_home_mark(grp[o], cnt[o], b->homes[o]);
		sent += rte_ring_enqueue_burst(b->rings[o], (void **)grp[o], cnt[o], NULL);
	}
	return sent;
}

static void drain_rings(struct bench *b)
{
	struct rte_mbuf *objs[BURST];
	unsigned n;

	/* the client sends them back: the switch's pool again (client_tx.c) */
	for (unsigned o = 0; o < OWNERS; o++)
		while ((n = rte_ring_dequeue_burst(b->rings[o], (void **)objs, BURST, NULL)) != 0)
			pmx_mbuf_home_unmark(objs, n, b->pool, b->homes[o]);
}

/* One pass of the pipeline; cycles per packet of each step into out[0..3]. */
static int pass_pipeline(struct bench *b, double out[5])
{
	uint64_t c_stamp = 0, c_parse = 0, c_classify = 0, c_enqueue = 0, misses = 0, bursts = 0;

	for (uint64_t first = 0; first < b->packets; first += BURST) {
		struct pmx_pkt_info info[BURST];
		const struct pmx_flow_key *keys[BURST];
		uint16_t owner[BURST];
		uint64_t ts, t0, t1, t2, t3;

		prepare_burst(b, first);
		ts = rte_rdtsc();
		if (b->stamp_off >= 0) /* as nic_rx.c: the burst's TSC in every frame */
			for (unsigned i = 0; i < BURST; i++)
				*RTE_MBUF_DYNFIELD(b->mbufs[i], b->stamp_off, uint64_t *) = ts;
		t0 = rte_rdtsc();
		for (unsigned i = 0; i < BURST; i++) {
			pmx_packet_parse(rte_pktmbuf_mtod(b->mbufs[i], const uint8_t *), FRAME_LEN,
					 PMX_DIR_IN, &info[i]);
			info[i].key.port_id = 0;
			keys[i] = &info[i].key;
		}
		t1 = rte_rdtsc();
		pmx_flow_table_classify_bulk(b->ft, 0, keys, BURST, owner);
		t2 = rte_rdtsc();
		if (enqueue_by_owner(b, b->mbufs, owner, BURST) != BURST)
			return -ENOBUFS;
		pmx_flow_table_quiescent(b->ft, 0);
		t3 = rte_rdtsc();
		for (unsigned i = 0; i < BURST; i++)
			misses += owner[i] >= OWNERS;
		drain_rings(b);
		if (t3 - ts > b->limit) {
			b->skipped++;
			continue;
		}
		c_stamp += t0 - ts;
		c_parse += t1 - t0;
		c_classify += t2 - t1;
		c_enqueue += t3 - t2;
		bursts++;
	}
	if (misses != 0) {
		fprintf(stderr, "microbench: %llu frames matched no rule\n",
			(unsigned long long)misses);
		return -ENOENT;
	}
	if (bursts == 0)
		return -EINTR;
	/* each step carries one rdtsc pair; the whole pipeline one in total. The stamp's figure
	 * is its stores: its rte_rdtsc() (one a burst) costs what the empty section does */
	out[0] = ((double)c_parse - b->overhead * bursts) / (bursts * BURST);
	out[1] = ((double)c_classify - b->overhead * bursts) / (bursts * BURST);
	out[2] = ((double)c_enqueue - b->overhead * bursts) / (bursts * BURST);
	out[4] = b->stamp_off >= 0 ? ((double)c_stamp - b->overhead * bursts) / (bursts * BURST)
				   : 0;
	out[3] = out[4] + out[0] + out[1] + out[2] + 2.0 * b->overhead / BURST;
	return 0;
}

/* One pass of bare bulk lookups of the same keys (the keys the parser would produce). */
static int pass_bare(struct bench *b, double *out)
{
	uint64_t cycles = 0, misses = 0, bursts = 0;

	for (uint64_t first = 0; first < b->packets; first += BURST) {
		struct pmx_flow_key kb[BURST];
		const void *kp[BURST];
		int32_t pos[BURST];
		uint64_t t0, t1;

		for (unsigned i = 0; i < BURST; i++) {
			struct flow fl;

			flow_of((uint32_t)((first + i) % b->rules), b->kind, &fl);
			rule_key(&fl, b->kind, &kb[i]);
			kp[i] = &kb[i];
		}
		t0 = rte_rdtsc();
		rte_hash_lookup_bulk(b->bare, kp, BURST, pos);
		t1 = rte_rdtsc();
		for (unsigned i = 0; i < BURST; i++)
			misses += pos[i] < 0;
		if (t1 - t0 > b->limit) {
			b->skipped++;
			continue;
		}
		cycles += t1 - t0;
		bursts++;
	}
	if (misses != 0)
		return -ENOENT;
	if (bursts == 0)
		return -EINTR;
	*out = ((double)cycles - b->overhead * bursts) / (bursts * BURST);
	return 0;
}

static uint64_t timing_overhead(void)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < 1000; i++) {
		uint64_t t0 = rte_rdtsc();
		uint64_t t1 = rte_rdtsc();

		if (t1 - t0 < best)
			best = t1 - t0;
	}
	return best;
}

static int build_tables(struct bench *b)
{
	char name[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters params = {
		.name = name,
		.entries = b->rules,
		.key_len = sizeof(struct pmx_flow_key),
		.hash_func = rte_hash_crc,
		.socket_id = (int)rte_socket_id(),
		.extra_flag =
			RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};
	uint64_t t0 = rte_get_timer_cycles();
	uint32_t rule_id;

	snprintf(name, sizeof(name), "mb_ft_%u", b->rules);
	b->ft = pmx_flow_table_create(name, b->rules, 1, (int)rte_socket_id());
	snprintf(name, sizeof(name), "mb_bare_%u", b->rules);
	b->bare = rte_hash_create(&params);
	if (b->ft == NULL || b->bare == NULL)
		return -ENOMEM;
	if (pmx_flow_table_reader_register(b->ft, 0) != 0)
		return -EINVAL;
	for (uint32_t f = 0; f < b->rules; f++) {
		struct pmx_flow_key k;
		struct flow fl;
		int ret;

		flow_of(f, b->kind, &fl);
		rule_key(&fl, b->kind, &k);
		ret = pmx_flow_table_add(b->ft, &k, (uint16_t)(f % OWNERS), PMX_ORIGIN_CLIENT,
					 &rule_id);
		if (ret == 0)
			ret = rte_hash_add_key(b->bare, &k) < 0 ? -ENOSPC : 0;
		if (ret != 0) {
			fprintf(stderr, "microbench: rule %u of %u: %s\n", f, b->rules,
				strerror(-ret));
			return ret;
		}
	}
	printf("# %u %s rules in both tables in %.2f s\n", b->rules,
	       b->kind == KIND_EXACT ? "exact" : "listen",
	       (double)(rte_get_timer_cycles() - t0) / rte_get_timer_hz());
	return 0;
}

static void free_tables(struct bench *b)
{
	if (b->ft != NULL)
		pmx_flow_table_reader_unregister(b->ft, 0);
	pmx_flow_table_destroy(b->ft);
	rte_hash_free(b->bare);
	b->ft = NULL;
	b->bare = NULL;
}

static int run_size(struct bench *b)
{
	double parse[PASSES], classify[PASSES], enqueue[PASSES], total[PASSES], bare[PASSES];
	double stamp[PASSES], step[5];
	int ret;

	b->packets = RTE_MAX((uint64_t)b->rules, b->min_packets);
	b->packets -= b->packets % BURST;
	b->skipped = 0;
	ret = build_tables(b);
	/* one untimed round of each to warm the tables up, then alternate passes */
	if (ret == 0)
		ret = pass_pipeline(b, step);
	if (ret == 0)
		ret = pass_bare(b, &bare[0]);
	for (unsigned p = 0; p < PASSES && ret == 0; p++) {
		ret = pass_pipeline(b, step);
		stamp[p] = step[4];
		parse[p] = step[0];
		classify[p] = step[1];
		enqueue[p] = step[2];
		total[p] = step[3];
		if (ret == 0)
			ret = pass_bare(b, &bare[p]);
	}
	if (ret == 0) {
		double t = bench_median(total, PASSES), l = bench_median(bare, PASSES);

		printf("%-8u %-7s %7.1f %7.1f %9.1f %8.1f %7.1f %12.1f %7.2f %8.4f%% %s\n", b->rules,
		       b->kind == KIND_EXACT ? "exact" : "listen", bench_median(stamp, PASSES),
		       bench_median(parse, PASSES),
		       bench_median(classify, PASSES), bench_median(enqueue, PASSES), t, l, t / l,
		       100.0 * b->skipped / ((PASSES + 1) * 2 * b->packets / BURST),
		       b->kind != KIND_EXACT ? "(exact stage skipped, 1 lookup of a derived key)"
		       : t / l <= 1.5	     ? "ok (<= 1.5)"
					     : "MISSED (> 1.5)");
		fflush(stdout);
	}
	free_tables(b);
	return ret;
}

static int setup_io(struct bench *b)
{
	b->pool = rte_pktmbuf_pool_create("mb_pool", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					  (int)rte_socket_id());
	if (b->pool == NULL || rte_pktmbuf_alloc_bulk(b->pool, b->mbufs, BURST) != 0)
		return -ENOMEM;
	for (unsigned i = 0; i < BURST; i++) {
		write_template(rte_pktmbuf_mtod(b->mbufs[i], uint8_t *));
		b->mbufs[i]->data_len = b->mbufs[i]->pkt_len = FRAME_LEN;
	}
	for (unsigned o = 0; o < OWNERS; o++) {
		char name[RTE_RING_NAMESIZE];

		snprintf(name, sizeof(name), "mb_ring_%u", o);
		/* as a client's RX ring with one RX lcore: single producer, single consumer */
		b->rings[o] = rte_ring_create(name, 1024, (int)rte_socket_id(),
					      RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (b->rings[o] == NULL)
			return -ENOMEM;
		if (!b->no_mark) { /* a pool that frames can point to; nothing is put in it here */
			snprintf(name, sizeof(name), "mb_home_%u", o);
			b->homes[o] = rte_mempool_create_empty(name, 1024, 64, 0, 0,
							       (int)rte_socket_id(), 0);
			if (b->homes[o] == NULL)
				return -ENOMEM;
		}
	}
	b->overhead = timing_overhead();
	b->limit = rte_get_tsc_hz() / 50000; /* 20 us: ~20x a normal burst */
	return 0;
}

static void usage(const char *prog)
{
	printf("usage: %s [-r RULES[,RULES...]] [-k exact|listen|both] [-p PACKETS] [-S] [-M] [-- EAL-ARGS]\n"
	       "  RULES default 1024,65536,1048576; kind default both; PACKETS per pass (at least\n"
	       "  RULES) default %u: lower it to profile under valgrind. -S: no latency stamp\n"
	       "  (the pipeline as before it; the stamp column is then 0). -M: no owner mark on\n"
	       "  the frames before their enqueue (the pipeline as before mbuf homes).\n"
	       "  EAL default: -l 0 --in-memory --no-pci --no-telemetry (add --no-huge -m 1536\n"
	       "  without hugepages).\n",
	       prog, MIN_PACKETS);
}

int main(int argc, char **argv)
{
	static struct bench b;
	char *eal_argv[64] = {argv[0], "-l", "0", "--in-memory", "--no-pci", "--no-telemetry",
			      "--log-level=lib.eal:warning"};
	int eal_argc = 7, opt, ret = 0;
	const char *sizes = "1024,65536,1048576", *kinds = "both";

	b.min_packets = MIN_PACKETS;
	while ((opt = getopt(argc, argv, "r:k:p:SMh")) != -1) {
		switch (opt) {
		case 'p': b.min_packets = strtoull(optarg, NULL, 10); break;
		case 'r': sizes = optarg; break;
		case 'k': kinds = optarg; break;
		case 'S': b.stamp_off = -1; break;
		case 'M': b.no_mark = true; break;
		case 'h': usage(argv[0]); return 0;
		default: usage(argv[0]); return 2;
		}
	}
	for (int i = optind; i < argc && eal_argc < 63; i++) {
		if (strcmp(argv[i], "--no-huge") == 0)
			eal_argv[3] = "--no-shconf"; /* --in-memory needs hugepages */
		eal_argv[eal_argc++] = argv[i];
	}
	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		fprintf(stderr, "microbench: EAL: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	if (b.stamp_off == 0) { /* the field nic_rx.c writes, registered as portmuxd does */
		static const struct rte_mbuf_dynfield stamp = {
			.name = PMX_RX_TSC_DYNFIELD, .size = sizeof(uint64_t),
			.align = __alignof__(uint64_t)};

		b.stamp_off = rte_mbuf_dynfield_register(&stamp);
		if (b.stamp_off < 0) {
			fprintf(stderr, "microbench: dynfield: %s\n", rte_strerror(rte_errno));
			ret = -rte_errno;
			goto out;
		}
	}
	ret = setup_io(&b);
	if (ret != 0) {
		fprintf(stderr, "microbench: setup: %s\n", strerror(-ret));
		goto out;
	}
	printf("# TSC %.3f GHz, bursts of %u, %u owners, median of %u passes of >= %llu packets\n",
	       rte_get_tsc_hz() / 1e9, BURST, OWNERS, PASSES, (unsigned long long)b.min_packets);
	printf("# cycles per packet (TSC); 'bare' = rte_hash_lookup_bulk of the same keys\n");
	printf("# an empty timed section (one rte_rdtsc() pair): %llu cycles\n",
	       (unsigned long long)b.overhead);
	printf("# bursts slower than 20 us (preempted) are left out: 'skipped' says how many\n");
	printf("%-8s %-7s %7s %7s %9s %8s %7s %12s %7s %9s\n", "rules", "kind", "stamp", "parse",
	       "classify",
	       "enqueue", "total", "bare_lookup", "ratio", "skipped");
	for (const char *s = sizes; *s != '\0' && ret == 0;) {
		char *end;
		unsigned long n = strtoul(s, &end, 10);

		if (n < 8 || n > (1u << 20) || (*end != ',' && *end != '\0')) {
			fprintf(stderr, "microbench: bad rule count in \"%s\"\n", sizes);
			ret = -EINVAL;
			break;
		}
		for (int k = KIND_EXACT; k <= KIND_LISTEN && ret == 0; k++) {
			if (strcmp(kinds, "both") != 0 &&
			    strcmp(kinds, k == KIND_EXACT ? "exact" : "listen") != 0)
				continue;
			b.kind = (enum rule_kind)k;
			b.rules = (uint32_t)n;
			ret = run_size(&b);
		}
		s = *end == ',' ? end + 1 : end;
	}
out:
	rte_eal_cleanup();
	return ret == 0 ? 0 : 1;
}
