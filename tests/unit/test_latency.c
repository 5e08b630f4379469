/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_latency.c - the latency histogram (lib/common/pmx_latency.{h,c}) without DPDK: what the
 * percentile refuses (empty histogram, q out of range), the bucket of a value (table of edges,
 * then every bucket's first and last value and its width), a single sample read back exactly,
 * the overflow bucket (p99 there is the maximum), p50 <= p99 <= max over spread samples,
 * recording a burst (unstamped frames skipped, a stamp after "now" counted as 0), the reset
 * handshake (a pending reset reads as empty, the writer's answer zeroes), merging queues, and
 * cycles -> ns without overflow. Negative cases first, table-driven where cases repeat.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "cunit_run.h"
#include "pmx_latency.h"

#define RTE_DIM(a) (sizeof(a) / sizeof((a)[0]))

/* A block with values recorded as if each frame was stamped `v` cycles before now. */
static void record_values(struct pmx_lat_block *b, const uint64_t *v, unsigned n)
{
	const uint64_t now = 1ull << 62;

	for (unsigned i = 0; i < n; i++) {
		uint64_t stamp = now - v[i];
		/* a "frame" whose stamp field is at offset 0 */
		struct rte_mbuf *m = (struct rte_mbuf *)&stamp;

		pmx_lat_record(b, 0, &m, 1, now);
	}
}

static void test_percentile_refuses(void)
{
	static const double bad_q[] = {0.0, -0.5, 1.0000001, 2.0, NAN};
	struct pmx_lat_hist h;
	uint64_t c = 42;

	memset(&h, 0, sizeof(h));
	CU_ASSERT_EQUAL(pmx_lat_percentile(&h, 0.5, &c), -ENODATA);
	CU_ASSERT_EQUAL(pmx_lat_percentile(&h, 1.0, &c), -ENODATA);
	CU_ASSERT_EQUAL(c, 42); /* untouched */
	h.bucket[3] = 1;
	h.max = 3;
	for (unsigned i = 0; i < RTE_DIM(bad_q); i++)
		CU_ASSERT_EQUAL(pmx_lat_percentile(&h, bad_q[i], &c), -EINVAL);
}

static void test_bucket_edges(void)
{
	static const struct {
		uint64_t v;
		unsigned bucket;
	} cases[] = {
		{0, 0},
		{1, 1},
		{7, 7},
		{8, 8},
		{15, 15},
		{16, 16},
		{17, 16},
		{18, 17},
		{31, 23},
		{32, 24},
		{35, 24},
		{36, 25},
		{1000, 63},
		{(1ull << 32) - 1, PMX_LAT_OVERFLOW - 1},
		{1ull << 32, PMX_LAT_OVERFLOW},
		{UINT64_MAX, PMX_LAT_OVERFLOW},
	};

	for (unsigned i = 0; i < RTE_DIM(cases); i++) {
		CU_ASSERT_EQUAL(pmx_lat_bucket(cases[i].v), cases[i].bucket);
		if (pmx_lat_bucket(cases[i].v) != cases[i].bucket)
			fprintf(stderr, "value %llu: bucket %u, want %u\n",
				(unsigned long long)cases[i].v, pmx_lat_bucket(cases[i].v),
				cases[i].bucket);
	}
	CU_ASSERT_EQUAL(PMX_LAT_BUCKETS, 240);
}

/* Every bucket holds [low(i), low(i+1)): contiguous, and at most 1/8 of its values wide. */
static void test_every_bucket(void)
{
	CU_ASSERT_EQUAL(pmx_lat_bucket_low(0), 0);
	CU_ASSERT_EQUAL(pmx_lat_bucket_low(PMX_LAT_OVERFLOW), 1ull << PMX_LAT_MAX_EXP);
	for (unsigned i = 0; i < PMX_LAT_OVERFLOW; i++) {
		uint64_t lo = pmx_lat_bucket_low(i), hi = pmx_lat_bucket_low(i + 1) - 1;

		CU_ASSERT_TRUE(hi >= lo);
		CU_ASSERT_EQUAL(pmx_lat_bucket(lo), i);
		CU_ASSERT_EQUAL(pmx_lat_bucket(hi), i);
		/* width 1 below PMX_LAT_SUB, else at most 1/PMX_LAT_SUB of the bucket's low */
		CU_ASSERT_TRUE(i < PMX_LAT_SUB ? hi == lo : (hi - lo + 1) * PMX_LAT_SUB <= lo);
	}
}

static void test_single_sample(void)
{
	static const uint64_t values[] = {0, 1, 9, 1000, 4999, 123456789, (1ull << 32) - 1};

	for (unsigned i = 0; i < RTE_DIM(values); i++) {
		struct pmx_lat_block *b = calloc(1, sizeof(*b));
		struct pmx_lat_hist h = {0};
		uint64_t p50 = 1, p99 = 1;

		record_values(b, &values[i], 1);
		CU_ASSERT_EQUAL(pmx_lat_block_read(b, &h), 0);
		CU_ASSERT_EQUAL(h.samples, 1);
		CU_ASSERT_EQUAL(h.max, values[i]);
		CU_ASSERT_EQUAL(h.sum, values[i]);
		CU_ASSERT_EQUAL(pmx_lat_percentile(&h, 0.5, &p50), 0);
		CU_ASSERT_EQUAL(pmx_lat_percentile(&h, 0.99, &p99), 0);
		CU_ASSERT_EQUAL(p50, values[i]); /* the bucket's top, capped at the maximum */
		CU_ASSERT_EQUAL(p99, values[i]);
		free(b);
	}
}

static void test_overflow_bucket(void)
{
	struct pmx_lat_block *b = calloc(1, sizeof(*b));
	uint64_t v[100], p50, p99, p100;
	struct pmx_lat_hist h = {0};

	for (unsigned i = 0; i < 98; i++)
		v[i] = 2000;
	v[98] = 1ull << 33;       /* beyond the last bucket */
	v[99] = (1ull << 40) + 5; /* the maximum */
	record_values(b, v, 100);
	CU_ASSERT_EQUAL(pmx_lat_block_read(b, &h), 0);
	CU_ASSERT_EQUAL(h.bucket[PMX_LAT_OVERFLOW], 2);
	CU_ASSERT_EQUAL(h.max, (1ull << 40) + 5);
	CU_ASSERT_EQUAL(pmx_lat_percentile(&h, 0.5, &p50), 0);
	CU_ASSERT_EQUAL(pmx_lat_percentile(&h, 0.99, &p99), 0);
	CU_ASSERT_EQUAL(pmx_lat_percentile(&h, 1.0, &p100), 0);
	CU_ASSERT_TRUE(p50 >= 2000 && p50 <= 2000 + 2000 / 8);
	CU_ASSERT_EQUAL(p99, h.max); /* the 99th sample is in the overflow bucket: no top but max */
	CU_ASSERT_EQUAL(p100, h.max);
	free(b);
}

/* 1..10000 cycles once each: p50 and p99 within one bucket (12.5 %) above the true values. */
static void test_spread(void)
{
	struct pmx_lat_block *b = calloc(1, sizeof(*b));
	struct pmx_lat_hist h = {0};
	uint64_t *v = calloc(10000, sizeof(*v)), p50, p90, p99;

	for (unsigned i = 0; i < 10000; i++)
		v[(i * 7919u) % 10000] = i + 1; /* out of order */
	record_values(b, v, 10000);
	CU_ASSERT_EQUAL(pmx_lat_block_read(b, &h), 0);
	CU_ASSERT_EQUAL(h.samples, 10000);
	CU_ASSERT_EQUAL(h.sum, 10000ull * 10001 / 2);
	CU_ASSERT_EQUAL(h.max, 10000);
	pmx_lat_percentile(&h, 0.5, &p50);
	pmx_lat_percentile(&h, 0.9, &p90);
	pmx_lat_percentile(&h, 0.99, &p99);
	CU_ASSERT_TRUE(p50 >= 5000 && p50 <= 5000 * 9 / 8);
	CU_ASSERT_TRUE(p90 >= 9000 && p90 <= 10000);
	CU_ASSERT_TRUE(p99 >= 9900 && p99 <= 10000);
	CU_ASSERT_TRUE(p50 <= p90 && p90 <= p99 && p99 <= h.max);
	free(v);
	free(b);
}

static void test_record_burst(void)
{
	struct pmx_lat_block *b = calloc(1, sizeof(*b));
	uint64_t stamps[4] = {0, 900, 1000, 1500}; /* unstamped, 100 before now, now, after now */
	struct rte_mbuf *pkts[4];
	struct pmx_lat_hist h = {0};

	for (unsigned i = 0; i < 4; i++)
		pkts[i] = (struct rte_mbuf *)&stamps[i];
	pmx_lat_record(b, 0, pkts, 4, 1000);
	pmx_lat_record(b, 0, pkts, 0, 1000); /* an empty burst changes nothing */
	CU_ASSERT_EQUAL(pmx_lat_block_read(b, &h), 0);
	CU_ASSERT_EQUAL(h.samples, 3);
	CU_ASSERT_EQUAL(h.sum, 100);
	CU_ASSERT_EQUAL(h.max, 100);
	CU_ASSERT_EQUAL(h.bucket[0], 2);
	CU_ASSERT_EQUAL(h.bucket[pmx_lat_bucket(100)], 1);
	free(b);
}

static void test_reset_handshake(void)
{
	struct pmx_lat_block *b = calloc(1, sizeof(*b));
	static const uint64_t v[] = {10, 20, 30};
	struct pmx_lat_hist h = {0};

	record_values(b, v, 3);
	__atomic_fetch_add(&b->reset_req, 1, __ATOMIC_RELEASE); /* the daemon asks */
	h.samples = 7;
	CU_ASSERT_EQUAL(pmx_lat_block_read(b, &h), -EAGAIN);
	CU_ASSERT_EQUAL(h.samples, 7);       /* nothing added while the reset is pending */
	CU_ASSERT_EQUAL(b->hist.samples, 3); /* the daemon wrote nothing of the histogram */
	pmx_lat_writer_poll(b);              /* the writer answers */
	CU_ASSERT_EQUAL(b->reset_ack, b->reset_req);
	memset(&h, 0, sizeof(h));
	CU_ASSERT_EQUAL(pmx_lat_block_read(b, &h), 0);
	CU_ASSERT_EQUAL(h.samples, 0);
	CU_ASSERT_EQUAL(h.max, 0);
	record_values(b, v, 1);
	pmx_lat_writer_poll(b); /* nothing pending: keeps the sample */
	CU_ASSERT_EQUAL(b->hist.samples, 1);
	free(b);
}

static void test_merge_queues(void)
{
	struct pmx_lat_block *b = calloc(2, sizeof(*b));
	static const uint64_t q0[] = {100, 100, 100}, q1[] = {5000};
	struct pmx_lat_hist h = {0};
	uint64_t p50, p99;

	record_values(&b[0], q0, 3);
	record_values(&b[1], q1, 1);
	CU_ASSERT_EQUAL(pmx_lat_block_read(&b[0], &h), 0);
	CU_ASSERT_EQUAL(pmx_lat_block_read(&b[1], &h), 0);
	CU_ASSERT_EQUAL(h.samples, 4);
	CU_ASSERT_EQUAL(h.max, 5000);
	pmx_lat_percentile(&h, 0.5, &p50);
	pmx_lat_percentile(&h, 0.99, &p99);
	CU_ASSERT_TRUE(p50 >= 100 && p50 < 113);
	CU_ASSERT_EQUAL(p99, 5000);
	free(b);
}

static void test_cycles_to_ns(void)
{
	static const struct {
		uint64_t cycles, hz, ns;
	} cases[] = {
		{0, 2100000000, 0},
		{2100, 2100000000, 1000},
		{1, 1000000000, 1},
		{2100000000ull * 3600, 2100000000, 3600000000000ull}, /* an hour: no overflow */
		{UINT64_MAX, 1000000000, UINT64_MAX},
		{12345, 0, 0}, /* unknown frequency */
	};

	for (unsigned i = 0; i < RTE_DIM(cases); i++)
		CU_ASSERT_EQUAL(pmx_lat_cycles_to_ns(cases[i].cycles, cases[i].hz), cases[i].ns);
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"percentile: empty histogram, q out of range", test_percentile_refuses},
		{"bucket of a value: edges, overflow", test_bucket_edges},
		{"every bucket: contiguous, at most 1/8 wide", test_every_bucket},
		{"a single sample is read back exactly", test_single_sample},
		{"overflow bucket: p99 there is the maximum", test_overflow_bucket},
		{"1..10000 cycles: p50, p90, p99 within a bucket", test_spread},
		{"record a burst: unstamped skipped, future stamp = 0", test_record_burst},
		{"reset: pending reads as empty, the writer zeroes", test_reset_handshake},
		{"merge the queues of a client", test_merge_queues},
		{"cycles -> ns", test_cycles_to_ns},
	};

	return cunit_run("latency", NULL, NULL, tests, RTE_DIM(tests));
}
