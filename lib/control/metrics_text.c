/* metrics_text.c - a metrics snapshot written in Prometheus's text exposition format (0.0.4) */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>

#include "metrics.h"

#define DIM(a) (sizeof(a) / sizeof((a)[0]))

const double pmx_metrics_lat_le[PMX_METRICS_LAT_LE] = {
	1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 1e-2, 1e-1,
};

void pmx_metrics_lat_fill(struct pmx_metrics_client *c, const struct pmx_lat_hist *h,
			  uint64_t tsc_hz)
{
	c->lat_count = h->samples;
	c->lat_sum = tsc_hz != 0 ? (double)h->sum / (double)tsc_hz : 0;
	for (unsigned le = 0; le < PMX_METRICS_LAT_LE; le++) {
		double bound = pmx_metrics_lat_le[le] * (double)tsc_hz;

		c->lat_le[le] = 0;
		/* bucket i holds low(i) .. low(i + 1) - 1; the overflow bucket only +Inf */
		for (unsigned i = 0; i < PMX_LAT_OVERFLOW; i++)
			if ((double)(pmx_lat_bucket_low(i + 1) - 1) <= bound)
				c->lat_le[le] += h->bucket[i];
	}
}

/* # HELP and # TYPE of one family. */
static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value between quotes, with \, " and newline escaped as the format asks. */
static void label_value(FILE *f, const char *v)
{
	fputc('"', f);
	for (; v != NULL && *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
	fputc('"', f);
}

/* One sample: name{key="value"} value */
static void sample(FILE *f, const char *name, const char *key, const char *value, uint64_t v)
{
	fputs(name, f);
	if (key != NULL) {
		fprintf(f, "{%s=", key);
		label_value(f, value);
		fputc('}', f);
	}
	fprintf(f, " %" PRIu64 "\n", v);
}

/* A client's labels: {client="name",client_id="3",port="wan0"} without the closing brace. */
static void client_labels(FILE *f, const char *name, const struct pmx_metrics_client *c)
{
	fprintf(f, "%s{client=", name);
	label_value(f, c->name);
	fprintf(f, ",client_id=\"%u\",port=", c->id);
	label_value(f, c->port);
}

static const struct {
	const char *name, *help;
	size_t off;
	bool nic; /* an ethdev counter: only where the port has one */
} port_counters[] = {
#define PC(n, field, nic, help)                                                                    \
	{                                                                                          \
		"portmux_port_" n "_total", help, offsetof(struct pmx_metrics_port, field), nic    \
	}
	PC("rx_packets", rx_packets, true, "Frames the NIC port received (ethdev ipackets)."),
	PC("tx_packets", tx_packets, true, "Frames the NIC port sent (ethdev opackets)."),
	PC("rx_bytes", rx_bytes, true, "Bytes the NIC port received."),
	PC("tx_bytes", tx_bytes, true, "Bytes the NIC port sent."),
	PC("rx_missed", rx_missed, true,
	   "Frames the NIC (or the af_packet socket) dropped for want of room (imissed)."),
	PC("rx_errors", rx_errors, true, "Erroneous frames the NIC port received (ierrors)."),
	PC("tx_errors", tx_errors, true, "Frames the NIC port failed to send (oerrors)."),
	PC("switched_packets", switched, false, "Frames the RX lcores took from the NIC port."),
	PC("to_clients_packets", to_clients, false, "Frames of the port delivered to clients."),
	PC("to_kernel_packets", to_kernel, false, "Frames of the port passed to the kernel."),
	PC("from_clients_packets", from_clients, false, "Frames the port's clients sent."),
	PC("from_kernel_packets", from_kernel, false, "Frames the port's kernel path sent."),
	PC("tx_wire_packets", tx_wire, false, "Frames the switch put on the port's wire."),
#undef PC
};

static const struct {
	const char *name, *help, *reason;
	size_t off;
} client_counters[] = {
	{"portmux_client_delivered_packets_total",
	 "Frames the switch put in the client's RX rings.", NULL,
	 offsetof(struct pmx_metrics_client, delivered)},
	{"portmux_client_dropped_packets_total",
	 "Frames of the client dropped: reason ring_full (its RX ring full), spoofed (it sent as "
	 "someone else).",
	 "ring_full", offsetof(struct pmx_metrics_client, ring_full)},
	{NULL, NULL, "spoofed", offsetof(struct pmx_metrics_client, spoofed)},
	{"portmux_client_tx_packets_total", "Frames the client sent that the switch accepted.",
	 NULL, offsetof(struct pmx_metrics_client, tx)},
};

static void write_ports(const struct pmx_metrics_snap *m, FILE *f)
{
	for (unsigned k = 0; k < DIM(port_counters); k++) {
		family(f, port_counters[k].name, "counter", port_counters[k].help);
		for (unsigned p = 0; p < m->n_ports; p++)
			if (m->port[p].has_nic || !port_counters[k].nic)
				sample(f, port_counters[k].name, "port", m->port[p].name,
				       *(const uint64_t *)((const char *)&m->port[p] +
							   port_counters[k].off));
	}
}

static void write_clients(const struct pmx_metrics_snap *m, FILE *f)
{
	const char *name = NULL;

	for (unsigned k = 0; k < DIM(client_counters); k++) {
		if (client_counters[k].name != NULL) {
			name = client_counters[k].name;
			family(f, name, "counter", client_counters[k].help);
		}
		for (unsigned i = 0; i < m->n_clients; i++) {
			client_labels(f, name, &m->client[i]);
			if (client_counters[k].reason != NULL)
				fprintf(f, ",reason=\"%s\"", client_counters[k].reason);
			fprintf(f, "} %" PRIu64 "\n",
				*(const uint64_t *)((const char *)&m->client[i] +
						    client_counters[k].off));
		}
	}
}

static void write_latency(const struct pmx_metrics_snap *m, FILE *f)
{
	static const char name[] = "portmux_client_latency_seconds";

	family(f, name, "histogram",
	       "Time from the NIC RX burst to the client's dequeue (since the last clear).");
	for (unsigned i = 0; i < m->n_clients; i++) {
		const struct pmx_metrics_client *c = &m->client[i];

		for (unsigned le = 0; le < PMX_METRICS_LAT_LE; le++) {
			client_labels(f, "portmux_client_latency_seconds_bucket", c);
			fprintf(f, ",le=\"%g\"} %" PRIu64 "\n", pmx_metrics_lat_le[le],
				c->lat_le[le]);
		}
		client_labels(f, "portmux_client_latency_seconds_bucket", c);
		fprintf(f, ",le=\"+Inf\"} %" PRIu64 "\n", c->lat_count);
		client_labels(f, "portmux_client_latency_seconds_sum", c);
		fprintf(f, "} %.9g\n", c->lat_sum);
		client_labels(f, "portmux_client_latency_seconds_count", c);
		fprintf(f, "} %" PRIu64 "\n", c->lat_count);
	}
}

int pmx_metrics_format(const struct pmx_metrics_snap *m, FILE *out)
{
	write_ports(m, out);
	family(out, "portmux_drops_total", "counter",
	       "Frames the switch dropped, by reason (every drop has one).");
	for (unsigned r = 0; r < m->n_drops; r++)
		sample(out, "portmux_drops_total", "reason", m->drop_name[r], m->drops[r]);
	write_clients(m, out);
	write_latency(m, out);
	family(out, "portmux_clients", "gauge", "Clients attached.");
	sample(out, "portmux_clients", NULL, NULL, m->n_clients);
	family(out, "portmux_rules", "gauge", "Rules in the flow table.");
	sample(out, "portmux_rules", NULL, NULL, m->rules);
	family(out, "portmux_rules_capacity", "gauge", "Rules the flow table can hold.");
	sample(out, "portmux_rules_capacity", NULL, NULL, m->rules_capacity);
	family(out, "portmux_mempool_mbufs_in_use", "gauge", "Mbufs of the pool in use.");
	sample(out, "portmux_mempool_mbufs_in_use", NULL, NULL, m->mbufs_in_use);
	family(out, "portmux_mempool_mbufs", "gauge", "Mbufs in the pool.");
	sample(out, "portmux_mempool_mbufs", NULL, NULL, m->mbufs_size);
	family(out, "portmux_control_requests_total", "counter",
	       "Control API requests served (errors included).");
	sample(out, "portmux_control_requests_total", NULL, NULL, m->requests);
	family(out, "portmux_control_request_errors_total", "counter",
	       "Control API requests answered with an error.");
	sample(out, "portmux_control_request_errors_total", NULL, NULL, m->request_errors);
	family(out, "portmux_metrics_scrapes_total", "counter",
	       "Scrapes of this endpoint served before this one.");
	sample(out, "portmux_metrics_scrapes_total", NULL, NULL, m->scrapes);
	return ferror(out) ? -EIO : 0;
}
