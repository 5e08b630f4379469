/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_metrics.c - the Prometheus exposition of lib/control/metrics_text.c, without DPDK:
 * a write error is reported (-EIO on /dev/full), label values are escaped (\, ", newline),
 * a port without an ethdev has no ethdev counters, then a whole snapshot: # HELP and # TYPE
 * before each family, counters named *_total, the exact sample lines of a port, a drop
 * reason and a client (dropped by reason), the latency histogram (cumulative buckets, +Inf,
 * _sum, _count), and pmx_metrics_lat_fill() from a histogram in cycles (a table of samples
 * and the first bound each is counted under; the overflow bucket only in +Inf).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "cunit_run.h"
#include "metrics.h"

#define DIM(a) (sizeof(a) / sizeof((a)[0]))

/* m formatted into a string (freed by the caller). */
static char *format(const struct pmx_metrics_snap *m)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(pmx_metrics_format(m, f), 0);
	fclose(f);
	return text;
}

/* Is line (without its newline) one of text's lines? */
static int has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
	printf("\n    missing line: %s\n", line);
	return 0;
}

static struct pmx_metrics_snap *snap_new(void)
{
	struct pmx_metrics_snap *m = calloc(1, sizeof(*m));

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	m->n_ports = 2;
	m->port[0] = (struct pmx_metrics_port){.name = "wan0",
					       .has_nic = true,
					       .rx_packets = 10,
					       .tx_packets = 20,
					       .rx_bytes = 640,
					       .rx_missed = 3,
					       .switched = 9,
					       .to_clients = 7};
	m->port[1] = (struct pmx_metrics_port){.name = "lan1", .has_nic = false, .switched = 1};
	m->n_drops = 2;
	m->drop_name[0] = "no_route";
	m->drops[0] = 5;
	m->drop_name[1] = "ring_full";
	m->drops[1] = 0;
	m->n_clients = 1;
	m->client[0] = (struct pmx_metrics_client){.id = 3,
						   .name = "echo",
						   .port = "wan0",
						   .delivered = 7,
						   .ring_full = 2,
						   .tx = 6,
						   .spoofed = 1,
						   .lat_count = 7,
						   .lat_sum = 0.25};
	for (unsigned i = 0; i < PMX_METRICS_LAT_LE; i++)
		m->client[0].lat_le[i] = i < 2 ? 0 : 5;
	m->rules = 4;
	m->rules_capacity = 4096;
	m->mbufs_in_use = 100;
	m->mbufs_size = 16384;
	return m;
}

static void test_write_error(void)
{
	struct pmx_metrics_snap *m = snap_new();
	FILE *f = fopen("/dev/full", "w");

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	setvbuf(f, NULL, _IONBF, 0); /* each write fails at once */
	CU_ASSERT_EQUAL(pmx_metrics_format(m, f), -EIO);
	fclose(f);
	free(m);
}

static void test_label_escaping(void)
{
	struct pmx_metrics_snap *m = snap_new();
	char *text;

	m->client[0].name = "a\"b\\c\nd";
	text = format(m);
	CU_ASSERT(has_line(text,
			   "portmux_client_delivered_packets_total{client=\"a\\\"b\\\\c\\nd\","
			   "client_id=\"3\",port=\"wan0\"} 7"));
	free(text);
	free(m);
}

static void test_port_without_ethdev(void)
{
	struct pmx_metrics_snap *m = snap_new();
	char *text = format(m);

	CU_ASSERT_PTR_NULL(strstr(text, "portmux_port_rx_packets_total{port=\"lan1\"}"));
	CU_ASSERT(has_line(text, "portmux_port_switched_packets_total{port=\"lan1\"} 1"));
	free(text);
	free(m);
}

static void test_snapshot(void)
{
	static const char *const lines[] = {
		"# HELP portmux_port_rx_packets_total Frames the NIC port received (ethdev "
		"ipackets).",
		"# TYPE portmux_port_rx_packets_total counter",
		"portmux_port_rx_packets_total{port=\"wan0\"} 10",
		"portmux_port_tx_packets_total{port=\"wan0\"} 20",
		"portmux_port_rx_bytes_total{port=\"wan0\"} 640",
		"portmux_port_rx_missed_total{port=\"wan0\"} 3",
		"portmux_port_to_clients_packets_total{port=\"wan0\"} 7",
		"# TYPE portmux_drops_total counter",
		"portmux_drops_total{reason=\"no_route\"} 5",
		"portmux_drops_total{reason=\"ring_full\"} 0",
		"portmux_client_dropped_packets_total{client=\"echo\",client_id=\"3\",port="
		"\"wan0\","
		"reason=\"ring_full\"} 2",
		"portmux_client_dropped_packets_total{client=\"echo\",client_id=\"3\",port="
		"\"wan0\","
		"reason=\"spoofed\"} 1",
		"portmux_client_tx_packets_total{client=\"echo\",client_id=\"3\",port=\"wan0\"} 6",
		"# TYPE portmux_client_latency_seconds histogram",
		"portmux_client_latency_seconds_bucket{client=\"echo\",client_id=\"3\",port="
		"\"wan0\","
		"le=\"1e-06\"} 0",
		"portmux_client_latency_seconds_bucket{client=\"echo\",client_id=\"3\",port="
		"\"wan0\","
		"le=\"5e-06\"} 5",
		"portmux_client_latency_seconds_bucket{client=\"echo\",client_id=\"3\",port="
		"\"wan0\","
		"le=\"0.1\"} 5",
		"portmux_client_latency_seconds_bucket{client=\"echo\",client_id=\"3\",port="
		"\"wan0\","
		"le=\"+Inf\"} 7",
		"portmux_client_latency_seconds_sum{client=\"echo\",client_id=\"3\",port=\"wan0\"} "
		"0.25",
		"portmux_client_latency_seconds_count{client=\"echo\",client_id=\"3\",port="
		"\"wan0\"} 7",
		"# TYPE portmux_clients gauge",
		"portmux_clients 1",
		"portmux_rules 4",
		"portmux_rules_capacity 4096",
		"portmux_mempool_mbufs_in_use 100",
		"portmux_mempool_mbufs 16384",
	};
	struct pmx_metrics_snap *m = snap_new();
	char *text = format(m), *save = NULL, *copy = strdup(text), *line;
	const char *family = "";

	for (unsigned i = 0; i < DIM(lines); i++)
		CU_ASSERT(has_line(text, lines[i]));
	/* every sample follows the # TYPE of its family; counters end in _total */
	for (line = strtok_r(copy, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char name[128];

		if (strncmp(line, "# TYPE ", 7) == 0) {
			family = line + 7;
			CU_ASSERT(strstr(family, " counter") == NULL ||
				  strstr(family, "_total counter") != NULL);
			continue;
		}
		if (line[0] == '#')
			continue;
		CU_ASSERT_EQUAL(sscanf(line, "%127[a-z_]", name), 1);
		CU_ASSERT_EQUAL(strncmp(family, name, strcspn(family, " ")), 0);
	}
	free(copy);
	free(text);
	free(m);
}

static void test_lat_fill(void)
{
	/* 1 GHz: a cycle is a nanosecond */
	static const struct {
		uint64_t cycles;
		int first_le; /* index of the first bound counting it, -1: only +Inf */
	} cases[] = {
		{0, 0},          {900, 0},         {1500, 1},   {4000, 2},
		{9000, 3},       {60000, 6},       {900000, 9}, {5000000, 10},
		{200000000, -1}, {1ull << 33, -1}, /* the overflow bucket */
	};
	struct pmx_metrics_client c;
	struct pmx_lat_hist *h = calloc(1, sizeof(*h));

	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	for (unsigned i = 0; i < DIM(cases); i++) {
		memset(h, 0, sizeof(*h));
		h->samples = 1;
		h->sum = cases[i].cycles;
		h->bucket[pmx_lat_bucket(cases[i].cycles)] = 1;
		pmx_metrics_lat_fill(&c, h, 1000000000);
		CU_ASSERT_EQUAL(c.lat_count, 1);
		CU_ASSERT_DOUBLE_EQUAL(c.lat_sum, (double)cases[i].cycles / 1e9, 1e-12);
		for (int le = 0; le < PMX_METRICS_LAT_LE; le++)
			if (c.lat_le[le] != (cases[i].first_le >= 0 && le >= cases[i].first_le)) {
				CU_FAIL("a sample under the wrong bound");
				printf("\n    %llu cycles, bound %d: %llu\n",
				       (unsigned long long)cases[i].cycles, le,
				       (unsigned long long)c.lat_le[le]);
			}
	}
	free(h);
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"a write error: -EIO", test_write_error},
		{"label values escaped", test_label_escaping},
		{"a port without an ethdev", test_port_without_ethdev},
		{"a whole snapshot", test_snapshot},
		{"latency buckets from cycles", test_lat_fill},
	};

	return cunit_run("metrics", NULL, NULL, tests, DIM(tests));
}
