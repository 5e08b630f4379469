/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_rates.c - per-second rates between two snapshots (lib/control/ctl_rates.c): the first
 * look (no interval) and counters that went back (a clear) give zeros, then a table of
 * intervals and deltas (sub-second, multi-second, bits = 8 x bytes), and no overflow for
 * 100 GB over an hour.
 */
#include <stdint.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "ctl_rates.h"
#include "cunit_run.h"

#define DIM(a) (sizeof(a) / sizeof((a)[0]))
#define NS 1000000000ull

static void test_first_look_is_zero(void)
{
	const struct pmx_rate_counters prev = {0}, now = {1000, 2000, 64000, 128000};
	struct pmx_port_rates r;

	memset(&r, 0xff, sizeof(r));
	pmx_rates_compute(&prev, &now, 0, &r);
	CU_ASSERT_EQUAL(r.interval_ns, 0);
	CU_ASSERT_EQUAL(r.rx_pps, 0);
	CU_ASSERT_EQUAL(r.tx_pps, 0);
	CU_ASSERT_EQUAL(r.rx_bps, 0);
	CU_ASSERT_EQUAL(r.tx_bps, 0);
}

static void test_counter_went_back(void)
{
	/* rx cleared under us (af_packet's own counters), tx still counting */
	const struct pmx_rate_counters prev = {5000, 100, 500000, 6400},
				       now = {10, 300, 640, 19200};
	struct pmx_port_rates r;

	pmx_rates_compute(&prev, &now, 2 * NS, &r);
	CU_ASSERT_EQUAL(r.rx_pps, 0);
	CU_ASSERT_EQUAL(r.rx_bps, 0);
	CU_ASSERT_EQUAL(r.tx_pps, 100);
	CU_ASSERT_EQUAL(r.tx_bps, 6400 * 8);
}

static void test_table(void)
{
	static const struct {
		uint64_t interval_ns;
		struct pmx_rate_counters prev, now;
		uint64_t rx_pps, tx_pps, rx_bps, tx_bps;
	} cases[] = {
		/* one second */
		{NS, {0, 0, 0, 0}, {1000, 500, 64000, 32000}, 1000, 500, 512000, 256000},
		/* half a second: doubled */
		{NS / 2, {100, 100, 0, 0}, {200, 150, 6400, 3200}, 200, 100, 102400, 51200},
		/* three seconds: a third, rounded down */
		{3 * NS, {0, 0, 0, 0}, {10, 20, 100, 200}, 3, 6, 266, 533},
		/* nothing moved */
		{NS, {7, 7, 7, 7}, {7, 7, 7, 7}, 0, 0, 0, 0},
	};

	for (unsigned i = 0; i < DIM(cases); i++) {
		struct pmx_port_rates r;

		pmx_rates_compute(&cases[i].prev, &cases[i].now, cases[i].interval_ns, &r);
		CU_ASSERT_EQUAL(r.interval_ns, cases[i].interval_ns);
		CU_ASSERT_EQUAL(r.rx_pps, cases[i].rx_pps);
		CU_ASSERT_EQUAL(r.tx_pps, cases[i].tx_pps);
		CU_ASSERT_EQUAL(r.rx_bps, cases[i].rx_bps);
		CU_ASSERT_EQUAL(r.tx_bps, cases[i].tx_bps);
	}
}

static void test_no_overflow(void)
{
	/* 100 GB in an hour: bytes * 8 * 1e9 is far beyond 64 bits */
	const struct pmx_rate_counters prev = {0}, now = {0, 0, 100000000000ull, 0};
	struct pmx_port_rates r;

	pmx_rates_compute(&prev, &now, 3600 * NS, &r);
	CU_ASSERT_EQUAL(r.rx_bps, 100000000000ull * 8 / 3600);
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"first look: zeros", test_first_look_is_zero},
		{"a counter that went back: zero", test_counter_went_back},
		{"table of intervals and deltas", test_table},
		{"no overflow over an hour", test_no_overflow},
	};

	return cunit_run("rates", NULL, NULL, tests, DIM(tests));
}
