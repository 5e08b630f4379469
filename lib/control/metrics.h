/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * metrics.h - the switch's counters in Prometheus's text exposition format (version 0.0.4):
 * a snapshot the management lcore fills from the counters it already reads for "stats"
 * (metrics_http.c), and the formatter that writes it (metrics_text.c).
 *
 * Every counter is a total since start-up: "clear port stats" moves the stats baselines only,
 * never these (except the latency histograms, which a clear empties: a counter reset to
 * Prometheus, which rate() and increase() handle).
 *
 * Thread-safety: the formatter is a pure function of the snapshot; filling one reads the
 * switch and is for the management thread with the control lock held.
 */
#ifndef PMX_METRICS_H
#define PMX_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"      /* PMX_MAX_PORTS */
#include "pmx_latency.h" /* struct pmx_lat_hist */

#define PMX_METRICS_MAX_DROPS 32    /**< drop reasons a snapshot holds */
#define PMX_METRICS_MAX_CLIENTS 256 /**< PMX_MAX_CLIENTS */
#define PMX_METRICS_LAT_LE 12       /**< latency histogram buckets, +Inf not counted */

/** The upper bounds ("le") of the latency histogram's buckets, in seconds, ascending. */
extern const double pmx_metrics_lat_le[PMX_METRICS_LAT_LE];

/** One NIC port. */
struct pmx_metrics_port {
	const char *name;
	bool has_nic; /**< its ethdev answered: the rx_/tx_ counters below are valid */
	uint64_t rx_packets, tx_packets, rx_bytes, tx_bytes, rx_missed, rx_errors, tx_errors;
	/** the switch's own counters, summed over the RX lcores */
	uint64_t switched, to_clients, to_kernel, from_clients, from_kernel, tx_wire;
};

/** One attached client. */
struct pmx_metrics_client {
	unsigned id;
	const char *name, *port;
	uint64_t delivered, ring_full, tx, spoofed;
	uint64_t lat_count;                  /**< samples */
	double lat_sum;                      /**< their sum, seconds */
	uint64_t lat_le[PMX_METRICS_LAT_LE]; /**< cumulative: samples <= pmx_metrics_lat_le[i] */
};

/** Everything one scrape shows. Strings are borrowed from the switch for the scrape. */
struct pmx_metrics_snap {
	unsigned n_ports;
	struct pmx_metrics_port port[PMX_MAX_PORTS];
	unsigned n_drops;
	const char *drop_name[PMX_METRICS_MAX_DROPS];
	uint64_t drops[PMX_METRICS_MAX_DROPS]; /**< summed over the RX lcores */
	unsigned n_clients;
	struct pmx_metrics_client client[PMX_METRICS_MAX_CLIENTS];
	uint64_t rules, rules_capacity;
	uint64_t mbufs_in_use, mbufs_size;
	uint64_t requests, request_errors; /**< control API requests served / refused */
	uint64_t scrapes;                  /**< scrapes served before this one */
};

/**
 * Fill c's latency fields from a histogram in TSC cycles (tsc_hz cycles a second). A sample
 * is counted under a bound only when its whole bucket of h lies at or below it, so each count
 * is exact for the bucket edges just below the bound (the buckets are at most 12.5 % wide).
 * Thread-safe (pure).
 */
void pmx_metrics_lat_fill(struct pmx_metrics_client *c, const struct pmx_lat_hist *h,
			  uint64_t tsc_hz);

/**
 * Write m to out in the text exposition format: # HELP and # TYPE for each family, counters
 * named *_total, labels port, client, client_id and reason with their values escaped.
 * Thread-safe (pure: writes out only). @return 0, or -EIO when writing failed.
 */
int pmx_metrics_format(const struct pmx_metrics_snap *m, FILE *out);

/* metrics_http.c: the endpoint (libmicrohttpd), served from the management loop */
struct pmx_ctl;

/**
 * Listen on cfg->metrics_host:metrics_port (nothing when the port is 0) with libmicrohttpd in
 * its external-epoll mode: its epoll fd joins the control loop's, so every request is
 * answered on the management thread, under the control lock, from the live counters; no
 * thread is added and no RX lcore is touched. Management thread.
 * @return 0, or a negative errno with err naming metrics.listen.
 */
int pmx_metrics_http_start(struct pmx_ctl *ctl, char *err, size_t errlen);

/** Run the endpoint's timers (idle connections closed); called each round of the control
 *  loop, with the lock held. Does nothing when the endpoint is off. */
void pmx_metrics_http_poll(struct pmx_ctl *ctl);

/** Close the endpoint and its connections. Accepts an endpoint that is off. */
void pmx_metrics_http_stop(struct pmx_ctl *ctl);

/** Fill m from the switch (metrics_http.c). Management thread, control lock held. */
void pmx_metrics_collect(struct pmx_ctl *ctl, struct pmx_metrics_snap *m);

#endif
