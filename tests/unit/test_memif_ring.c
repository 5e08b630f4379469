/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_memif_ring.c - memif_ring.c on a fake client region in plain memory (no socket): what
 * a descriptor may name (region index, zero length, offset + length against the region's size,
 * 64-bit sums), the client -> switch copy (descriptors outside the region, chains running past
 * the posted slots, frames over PMX_MAX_CLIENT_FRAME or PMX_MEMIF_MAX_SEGS, a head too far
 * ahead, no mbuf left, then good frames and chains) and the switch -> client copy (buffers
 * outside the region left untouched, no buffer, a buffer too small, a good one). Negative
 * cases first, table-driven.
 */
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <rte_eal.h>
#include <rte_mbuf.h>

#include "cunit_run.h"
#include "memif_ring.h"
#include "pmx_switch.h"

#define LOG2 6
#define SLOTS (1u << LOG2)
#define BUF 2048u
#define NBUF (2 * SLOTS)

static struct rte_mempool *pool;
static uint8_t *mem;
static uint64_t mem_size;
static struct pmx_memif_chan ch;

static uint32_t buf_off(unsigned i)
{
	return (uint32_t)(2 * pmx_memif_ring_bytes(LOG2) + (uint64_t)i * BUF);
}

/* A fresh region: both rings empty, every buffer filled with its index. */
static void chan_reset(void)
{
	memset(mem, 0, mem_size);
	for (unsigned i = 0; i < NBUF; i++)
		memset(mem + buf_off(i), 'a' + i % 26, BUF);
	memset(&ch, 0, sizeof(ch));
	ch.region[0] = (struct pmx_memif_region){.addr = mem, .size = mem_size};
	ch.n_regions = 1;
	ch.s2m = (struct pmx_memif_ring *)mem;
	ch.m2s = (struct pmx_memif_ring *)(mem + pmx_memif_ring_bytes(LOG2));
	ch.s2m_size = ch.m2s_size = SLOTS;
}

/* ---- the descriptor check ---- */

static void test_desc_check(void)
{
	static const struct {
		const char *what;
		uint16_t region;
		uint32_t offset, length;
		int ok;
	} cases[] = {
		{"region 1 never added", 1, 0, 60, 0},
		{"region 255", 255, 0, 60, 0},
		{"region 65535", 65535, 0, 60, 0},
		{"zero length", 0, 0, 0, 0},
		{"straddles the end", 0, UINT32_MAX, 0, 0}, /* offset filled in below */
		{"just past the end", 0, UINT32_MAX, 1, 0},
		{"4 GiB minus a page", 0, 0xfffff000u, 60, 0},
		{"0xffffffff bytes from the last buffer", 0, UINT32_MAX - 1, 0xffffffffu, 0},
		{"offset + length wraps 32 bits", 0, 0x80000000u, 0x80000000u, 0},
		{"the first byte", 0, 0, 1, 1},
		{"the whole region", 0, 0, 1, 1},       /* length filled in below */
		{"the last byte", 0, UINT32_MAX, 1, 1}, /* offset filled in below */
	};

	chan_reset();
	for (unsigned i = 0; i < RTE_DIM(cases); i++) {
		struct pmx_memif_desc d = {.region = cases[i].region,
					   .offset = cases[i].offset,
					   .length = cases[i].length};

		if (i == 4)
			d.offset = (uint32_t)mem_size - 16, d.length = 32;
		if (i == 5)
			d.offset = (uint32_t)mem_size;
		if (i == 7)
			d.offset = buf_off(NBUF - 1);
		if (i == 10)
			d.length = (uint32_t)mem_size;
		if (i == 11)
			d.offset = (uint32_t)mem_size - 1;
		if ((pmx_memif_desc_check(&ch, &d) == 0) != cases[i].ok)
			fprintf(stderr, "desc_check: %s\n", cases[i].what);
		CU_ASSERT_EQUAL(pmx_memif_desc_check(&ch, &d) == 0, cases[i].ok);
	}
}

/* ---- client -> switch ---- */

/* Post descriptors on the S2M ring (offset UINT32_MAX: the slot's own buffer). */
static void post(const struct pmx_memif_desc *d, unsigned n)
{
	uint16_t head = ch.s2m->head;

	for (unsigned i = 0; i < n; i++) {
		unsigned s = (uint16_t)(head + i) & (SLOTS - 1);

		ch.s2m->desc[s] = d[i];
		if (d[i].offset == UINT32_MAX)
			ch.s2m->desc[s].offset = buf_off(s);
	}
	ch.s2m->head = (uint16_t)(head + n);
}

#define OWN UINT32_MAX
#define NEXT PMX_MEMIF_DESC_NEXT

static void test_rx_rejects(void)
{
	static const struct {
		const char *what;
		unsigned n;
		struct pmx_memif_desc d[2];
		uint64_t malformed, oversize;
	} cases[] = {
		{"region never added", 1, {{.region = 1, .length = 60, .offset = OWN}}, 1, 0},
		{"zero length", 1, {{.length = 0, .offset = OWN}}, 1, 0},
		{"4 GiB minus a page", 1, {{.length = 60, .offset = 0xfffff000u}}, 1, 0},
		{"length 0xffffffff", 1, {{.length = 0xffffffffu, .offset = OWN}}, 1, 0},
		{"chain past the posted slots",
		 2,
		 {{.flags = NEXT, .length = 60, .offset = OWN},
		  {.flags = NEXT, .length = 60, .offset = OWN}},
		 1,
		 0},
		{"header, then a segment past the end",
		 2,
		 {{.flags = NEXT, .length = 42, .offset = OWN}, {.length = 1024, .offset = 0}},
		 1,
		 0},
		{"8 KiB inside the region", 1, {{.length = 4 * BUF, .offset = OWN}}, 0, 1},
		{"two segments over the frame limit",
		 2,
		 {{.flags = NEXT, .length = BUF, .offset = OWN}, {.length = 60, .offset = OWN}},
		 0,
		 1},
	};
	struct rte_mbuf *pkts[8];

	for (unsigned i = 0; i < RTE_DIM(cases); i++) {
		struct pmx_memif_counts k = {0};
		struct pmx_memif_desc d[2];
		unsigned got;

		chan_reset();
		memcpy(d, cases[i].d, sizeof(d));
		if (i == 5)
			d[1].offset = (uint32_t)mem_size; /* just past the region */
		post(d, cases[i].n);
		got = pmx_memif_ring_rx(&ch, pool, pkts, 8, &k);
		if (got != 0 || k.malformed != cases[i].malformed ||
		    k.oversize != cases[i].oversize)
			fprintf(stderr, "rx: %s\n", cases[i].what);
		CU_ASSERT_EQUAL(got, 0);
		CU_ASSERT_EQUAL(k.malformed, cases[i].malformed);
		CU_ASSERT_EQUAL(k.oversize, cases[i].oversize);
		CU_ASSERT_EQUAL(ch.s2m->tail, cases[i].n); /* its slots consumed */
		CU_ASSERT_EQUAL(rte_mempool_in_use_count(pool), 0);
	}
}

static void test_rx_long_chains(void)
{
	struct pmx_memif_desc d[SLOTS];
	struct pmx_memif_counts k = {0};
	struct rte_mbuf *pkts[8];

	/* 40 full buffers chained (80 KiB): one oversize frame, 40 slots consumed */
	chan_reset();
	for (unsigned i = 0; i < 40; i++)
		d[i] = (struct pmx_memif_desc){
			.flags = i + 1 < 40 ? NEXT : 0, .length = BUF, .offset = OWN};
	post(d, 40);
	CU_ASSERT_EQUAL(pmx_memif_ring_rx(&ch, pool, pkts, 8, &k), 0);
	CU_ASSERT_EQUAL(k.oversize, 1);
	CU_ASSERT_EQUAL(ch.s2m->tail, 40);

	/* more segments than PMX_MEMIF_MAX_SEGS, though short in all: oversize */
	chan_reset();
	memset(&k, 0, sizeof(k));
	for (unsigned i = 0; i < PMX_MEMIF_MAX_SEGS + 1; i++)
		d[i] = (struct pmx_memif_desc){
			.flags = i < PMX_MEMIF_MAX_SEGS ? NEXT : 0, .length = 10, .offset = OWN};
	post(d, PMX_MEMIF_MAX_SEGS + 1);
	CU_ASSERT_EQUAL(pmx_memif_ring_rx(&ch, pool, pkts, 8, &k), 0);
	CU_ASSERT_EQUAL(k.oversize, 1);
	CU_ASSERT_EQUAL(ch.s2m->tail, PMX_MEMIF_MAX_SEGS + 1);

	/* every slot of the ring "continued", the client's head a whole ring ahead */
	chan_reset();
	memset(&k, 0, sizeof(k));
	for (unsigned i = 0; i < SLOTS; i++)
		d[i] = (struct pmx_memif_desc){.flags = NEXT, .length = 60, .offset = OWN};
	post(d, SLOTS);
	CU_ASSERT_EQUAL(pmx_memif_ring_rx(&ch, pool, pkts, 8, &k), 0);
	CU_ASSERT_EQUAL(k.malformed, 1);
	CU_ASSERT_EQUAL(ch.s2m->tail, SLOTS);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(pool), 0);
}

static void test_rx_head_too_far(void)
{
	struct pmx_memif_counts k = {0};
	struct rte_mbuf *pkts[8];

	chan_reset();
	ch.s2m->head = SLOTS + 1;
	CU_ASSERT_EQUAL(pmx_memif_ring_rx(&ch, pool, pkts, 8, &k), 0);
	CU_ASSERT_EQUAL(ch.violation, 1);
	CU_ASSERT_EQUAL(ch.s2m->tail, 0);
}

static void test_rx_nomem(void)
{
	struct rte_mempool *tiny = rte_pktmbuf_pool_create(
		"memif_tiny", 2, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	struct pmx_memif_desc d = {.length = 60, .offset = OWN};
	struct pmx_memif_counts k = {0};
	struct rte_mbuf *pkts[8];
	unsigned got;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tiny);
	chan_reset();
	for (unsigned i = 0; i < 3; i++)
		post(&d, 1);
	got = pmx_memif_ring_rx(&ch, tiny, pkts, 8, &k);
	CU_ASSERT_EQUAL(got, 2);
	CU_ASSERT_EQUAL(k.nomem, 1);
	CU_ASSERT_EQUAL(ch.s2m->tail, 2); /* the third stays posted */
	rte_pktmbuf_free_bulk(pkts, got);
	got = pmx_memif_ring_rx(&ch, tiny, pkts, 8, &k);
	CU_ASSERT_EQUAL(got, 1);
	CU_ASSERT_EQUAL(ch.s2m->tail, 3);
	rte_pktmbuf_free_bulk(pkts, got);
	rte_mempool_free(tiny);
}

static void test_rx_good(void)
{
	struct pmx_memif_desc d[3] = {
		{.length = 60, .offset = OWN},
		{.flags = NEXT, .length = 100, .offset = OWN},
		{.length = 200, .offset = OWN},
	};
	struct pmx_memif_counts k = {0};
	struct rte_mbuf *pkts[8];
	const uint8_t *p;

	chan_reset();
	post(d, 3);
	CU_ASSERT_EQUAL_FATAL(pmx_memif_ring_rx(&ch, pool, pkts, 8, &k), 2);
	CU_ASSERT_EQUAL(k.malformed + k.oversize + k.nomem, 0);
	CU_ASSERT_EQUAL(rte_pktmbuf_pkt_len(pkts[0]), 60);
	CU_ASSERT_EQUAL(rte_pktmbuf_pkt_len(pkts[1]), 300);
	CU_ASSERT_EQUAL(pkts[1]->nb_segs, 1);
	p = rte_pktmbuf_mtod(pkts[1], const uint8_t *);
	CU_ASSERT(p[0] == 'b' && p[99] == 'b' && p[100] == 'c' && p[299] == 'c');
	CU_ASSERT_EQUAL(ch.s2m->tail, 3);
	rte_pktmbuf_free_bulk(pkts, 2);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(pool), 0);
}

/* ---- switch -> client ---- */

static struct rte_mbuf *frame(unsigned len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

	memset(rte_pktmbuf_append(m, (uint16_t)len), 'z', len);
	return m;
}

/* The client offers n buffers (offset UINT32_MAX: slot's own, length the buffer's size). */
static void offer(unsigned n, uint32_t offset, uint32_t length)
{
	for (unsigned i = 0; i < n; i++)
		ch.m2s->desc[i] = (struct pmx_memif_desc){
			.length = length, .offset = offset == OWN ? buf_off(SLOTS + i) : offset};
	ch.m2s->head = (uint16_t)n;
}

static void test_tx(void)
{
	static const struct {
		const char *what;
		unsigned offered;
		uint32_t offset, length;
		unsigned sent;
		uint64_t malformed, no_room;
	} cases[] = {
		{"buffer 4 GiB from the region", 1, 0xfffff000u, BUF, 0, 1, 0},
		{"buffer straddling the region's end", 1, UINT32_MAX - 1, BUF, 0, 1, 0},
		{"no buffer offered", 0, OWN, BUF, 0, 0, 1},
		{"buffer too small", 1, OWN, 59, 0, 0, 1},
		{"a buffer that fits", 1, OWN, BUF, 1, 0, 0},
	};

	for (unsigned i = 0; i < RTE_DIM(cases); i++) {
		struct pmx_memif_counts k = {0};
		struct rte_mbuf *m = frame(60);
		uint8_t *before = malloc(mem_size);
		uint32_t off = cases[i].offset == UINT32_MAX - 1 ? (uint32_t)mem_size - 16
								 : cases[i].offset;

		chan_reset();
		offer(cases[i].offered, off, cases[i].length);
		memcpy(before, mem, mem_size);
		CU_ASSERT_EQUAL(pmx_memif_ring_tx(&ch, &m, 1, &k), cases[i].sent);
		CU_ASSERT_EQUAL(k.malformed, cases[i].malformed);
		CU_ASSERT_EQUAL(k.no_room, cases[i].no_room);
		CU_ASSERT_EQUAL(ch.m2s->tail, cases[i].sent);
		if (cases[i].sent == 0) {
			CU_ASSERT_EQUAL(memcmp(before, mem, mem_size), 0); /* nothing written */
		} else {
			CU_ASSERT_EQUAL(ch.m2s->desc[0].length, 60);
			CU_ASSERT_EQUAL(mem[buf_off(SLOTS)], 'z');
			CU_ASSERT_EQUAL(mem[buf_off(SLOTS) + 60], before[buf_off(SLOTS) + 60]);
		}
		free(before);
		rte_pktmbuf_free(m);
	}
}

/* Frames that found no room stay behind the copied ones, which come first in their order (the
 * caller records their latency: only theirs). */
static void test_tx_sent_first(void)
{
	struct pmx_memif_counts k = {0};
	struct rte_mbuf *a = frame(60), *big = frame(200), *c = frame(60), *d = frame(60);
	struct rte_mbuf *pkts[] = {a, big, c, d};

	chan_reset();
	offer(2, OWN, 100);
	CU_ASSERT_EQUAL(pmx_memif_ring_tx(&ch, pkts, 4, &k), 2);
	CU_ASSERT_EQUAL(k.no_room, 2); /* big: too large for its buffer; d: no buffer left */
	CU_ASSERT_PTR_EQUAL(pkts[0], a);
	CU_ASSERT_PTR_EQUAL(pkts[1], c);
	CU_ASSERT_PTR_EQUAL(pkts[2], big);
	CU_ASSERT_PTR_EQUAL(pkts[3], d);
	rte_pktmbuf_free_bulk(pkts, 4);
}

static void test_tx_head_too_far(void)
{
	struct pmx_memif_counts k = {0};
	struct rte_mbuf *m = frame(60);

	chan_reset();
	offer(1, OWN, BUF);
	ch.m2s->head = SLOTS + 1;
	CU_ASSERT_EQUAL(pmx_memif_ring_tx(&ch, &m, 1, &k), 0);
	CU_ASSERT_EQUAL(ch.violation, 1);
	CU_ASSERT_EQUAL(k.no_room, 1);
	rte_pktmbuf_free(m);
}

static int suite_init(void)
{
	static char *argv[] = {"test_memif_ring", "-l",          "0",
			       "--no-huge",       "-m",          "64",
			       "--no-pci",        "--no-shconf", "--no-telemetry",
			       "--log-level",     "*:error",     "--file-prefix",
			       "test_memif_ring", NULL};

	if (rte_eal_init((int)RTE_DIM(argv) - 1, argv) < 0)
		return -1;
	pool = rte_pktmbuf_pool_create("memif_test", 255, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	mem_size = buf_off(NBUF);
	mem = malloc(mem_size);
	return pool != NULL && mem != NULL ? 0 : -1;
}

static int suite_cleanup(void)
{
	free(mem);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return 0;
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"descriptor check: region, length, offset (64-bit)", test_desc_check},
		{"rx: outside the region, empty, unended chains, oversize", test_rx_rejects},
		{"rx: 80 KiB chains, too many segments, a whole ring continued",
		 test_rx_long_chains},
		{"rx: head more than a ring ahead", test_rx_head_too_far},
		{"rx: no mbuf left: slots stay posted", test_rx_nomem},
		{"rx: good frames and chains", test_rx_good},
		{"tx: bad, missing and small buffers; a good one", test_tx},
		{"tx: head more than a ring ahead", test_tx_head_too_far},
		{"tx: the copied frames first, the others after them", test_tx_sent_first},
	};

	return cunit_run("memif_ring", suite_init, suite_cleanup, tests, RTE_DIM(tests));
}
