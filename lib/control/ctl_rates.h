/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * ctl_rates.h - per-second rates of the NIC ports between two looks at their counters, as
 * dpdk-testpmd's "show port stats" prints them ("Throughput (since last show)").
 *
 * A snapshot holds the ports' monotonic counters and when they were read. Whoever asks for
 * rates keeps its own snapshot (a control session, the telemetry thread): two operators
 * watching at once each see the rate over their own interval.
 *
 * Thread-safety: pure functions of their arguments.
 */
#ifndef PMX_CTL_RATES_H
#define PMX_CTL_RATES_H

#include <stdint.h>

#include "config.h" /* PMX_MAX_PORTS */

/** A port's counters that rates are made of (monotonic; never "since the last clear"). */
struct pmx_rate_counters {
	uint64_t ipackets, opackets, ibytes, obytes;
};

/** Every port's counters at one moment. ns == 0: no snapshot taken yet. */
struct pmx_rate_snap {
	uint64_t ns; /**< CLOCK_MONOTONIC of the reading */
	struct pmx_rate_counters port[PMX_MAX_PORTS];
};

/** One port's rates: packets and bits per second. */
struct pmx_port_rates {
	uint64_t interval_ns; /**< 0 on the first look (every rate 0, as testpmd's first show) */
	uint64_t rx_pps, tx_pps, rx_bps, tx_bps;
};

/**
 * Rates from prev to now over interval_ns. A counter lower than before (it was cleared,
 * e.g. an af_packet port's own) counts as no traffic, as testpmd does; interval_ns 0 gives
 * zeros. Thread-safe (pure).
 */
void pmx_rates_compute(const struct pmx_rate_counters *prev, const struct pmx_rate_counters *now,
		       uint64_t interval_ns, struct pmx_port_rates *out);

#endif
