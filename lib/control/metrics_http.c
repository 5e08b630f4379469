/* metrics_http.c - the Prometheus endpoint: libmicrohttpd in external-epoll mode inside the
 * control loop, answering GET /metrics from the management lcore's counters */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>
#include <rte_ethdev.h>
#include <rte_mempool.h>

#include "client_registry.h"
#include "ctl.h"
#include "latency.h"
#include "mbuf_home.h"
#include "metrics.h"
#include "pmx_log.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define IDLE_TIMEOUT_S 10u /* a connection that says nothing for this long is closed */
#define MAX_CONNECTIONS 16u

_Static_assert(PMX_DROP_MAX <= PMX_METRICS_MAX_DROPS, "a snapshot holds every drop reason");
_Static_assert(PMX_MAX_CLIENTS <= PMX_METRICS_MAX_CLIENTS, "a snapshot holds every client");

struct pmx_metrics_http {
	struct pmx_ctl *ctl;
	struct MHD_Daemon *mhd;
	struct pmx_ctl_watch watch; /* MHD's epoll fd in the control loop's epoll set */
	uint64_t scrapes;
};

static void collect_ports(struct pmx_ctl *ctl, struct pmx_metrics_snap *m)
{
	const struct pmx_switch *sw = ctl->sw;

	m->n_ports = sw->n_ports;
	for (unsigned p = 0; p < sw->n_ports; p++) {
		struct pmx_metrics_port *mp = &m->port[p];
		struct pmx_port_counters t;
		struct rte_eth_stats st;

		mp->name = sw->ports[p].name;
		mp->has_nic = pmx_ctl_nic_totals(ctl, p, &st) == 0;
		mp->rx_packets = st.ipackets;
		mp->tx_packets = st.opackets;
		mp->rx_bytes = st.ibytes;
		mp->tx_bytes = st.obytes;
		mp->rx_missed = st.imissed;
		mp->rx_errors = st.ierrors;
		mp->tx_errors = st.oerrors;
		pmx_ctl_port_totals(sw, p, &t);
		mp->switched = t.rx;
		mp->to_clients = t.to_clients;
		mp->to_kernel = t.to_kernel;
		mp->from_clients = t.from_clients;
		mp->from_kernel = t.from_kernel;
		mp->tx_wire = t.tx_wire;
	}
}

static void collect_clients(struct pmx_ctl *ctl, struct pmx_metrics_snap *m)
{
	const struct pmx_switch *sw = ctl->sw;
	uint64_t hz = rte_get_tsc_hz();

	m->n_clients = 0;
	for (unsigned id = 0; id < sw->clients_max; id++) {
		const struct pmx_ctl_session *s = ctl->client_session[id];
		struct pmx_metrics_client *c = &m->client[m->n_clients];
		struct pmx_client_counters cc;
		struct pmx_lat_hist h;

		if (s == NULL)
			continue;
		pmx_registry_client_counters(sw, (uint16_t)id, &cc);
		c->id = id;
		c->name = s->name;
		c->port = sw->ports[sw->clients[id].port].name;
		c->delivered = cc.rx;
		c->ring_full = cc.ring_full;
		c->tx = cc.tx;
		c->spoofed = cc.spoofed;
		pmx_latency_read(sw, (uint16_t)id, &h);
		pmx_metrics_lat_fill(c, &h, hz);
		m->n_clients++;
	}
}

void pmx_metrics_collect(struct pmx_ctl *ctl, struct pmx_metrics_snap *m)
{
	const struct pmx_switch *sw = ctl->sw;
	/* as in stats: the pool first, then the mbufs waiting in clients' homes */
	unsigned in_use = rte_mempool_in_use_count(sw->pool);
	unsigned in_homes = pmx_mbuf_home_free_count(sw);

	collect_ports(ctl, m);
	m->n_drops = PMX_DROP_MAX;
	for (unsigned r = 0; r < PMX_DROP_MAX; r++) {
		m->drop_name[r] = pmx_drop_reason_name(r);
		m->drops[r] = 0;
		for (unsigned w = 0; w < sw->n_workers; w++)
			m->drops[r] += sw->workers[w]->drops[r];
	}
	collect_clients(ctl, m);
	m->rules = pmx_flow_table_count(sw->ft);
	m->rules_capacity = pmx_flow_table_id_limit(sw->ft);
	m->mbufs_in_use = in_use > in_homes ? in_use - in_homes : 0;
	m->mbufs_size = sw->pool->size;
	m->requests = ctl->requests;
	m->request_errors = ctl->errors;
}

/* A response with a fixed text body. */
static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned status, const char *text)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
								 MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* The body of /metrics: a snapshot taken now, formatted. NULL when out of memory. */
static char *scrape(struct pmx_metrics_http *h, size_t *len)
{
	struct pmx_metrics_snap *m = calloc(1, sizeof(*m));
	char *body = NULL;
	FILE *f;

	if (m == NULL)
		return NULL;
	pmx_metrics_collect(h->ctl, m);
	m->scrapes = h->scrapes++;
	f = open_memstream(&body, len);
	if (f != NULL) {
		int ret = pmx_metrics_format(m, f);

		if (fclose(f) != 0 || ret != 0) {
			free(body);
			body = NULL;
		}
	}
	free(m);
	return body;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **state)
{
	struct pmx_metrics_http *h = cls;
	struct MHD_Response *r;
	enum MHD_Result ret;
	size_t len = 0;
	char *body;

	(void)version, (void)upload, (void)upload_size, (void)state;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "GET or HEAD only\n");
	if (strcmp(url, "/metrics") != 0)
		return reply_text(conn, MHD_HTTP_NOT_FOUND,
				  "portmuxd: the metrics are at /metrics\n");
	pmx_ctl_lock(h->ctl); /* held already in the control loop; taken for other callers */
	body = scrape(h, &len);
	pmx_ctl_unlock(h->ctl);
	if (body == NULL)
		return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, CONTENT_TYPE);
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* MHD's epoll fd is readable: accept, read, answer, write (never blocks). */
static void on_readable(void *arg)
{
	struct pmx_metrics_http *h = arg;

	MHD_run(h->mhd);
}

/* cfg's numeric address and port into ss. @return 0 or -EINVAL. */
static int listen_addr(const struct pmx_config *cfg, struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *in = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, cfg->metrics_host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons(cfg->metrics_port);
		return 0;
	}
	if (inet_pton(AF_INET6, cfg->metrics_host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(cfg->metrics_port);
		return 0;
	}
	return -EINVAL;
}

int pmx_metrics_http_start(struct pmx_ctl *ctl, char *err, size_t errlen)
{
	const struct pmx_config *cfg = ctl->cfg;
	const union MHD_DaemonInfo *info;
	struct pmx_metrics_http *h;
	struct sockaddr_storage ss;
	int ret;

	if (cfg->metrics_port == 0)
		return 0;
	if (listen_addr(cfg, &ss) != 0) {
		snprintf(err, errlen, "metrics.listen: %s: not a numeric address",
			 cfg->metrics_listen);
		return -EINVAL;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL) {
		snprintf(err, errlen, "metrics.listen: out of memory");
		return -ENOMEM;
	}
	h->ctl = ctl;
	errno = 0;
	h->mhd = MHD_start_daemon(
		MHD_USE_EPOLL | MHD_USE_ERROR_LOG | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
		cfg->metrics_port, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR,
		(struct sockaddr *)&ss, MHD_OPTION_CONNECTION_TIMEOUT, IDLE_TIMEOUT_S,
		MHD_OPTION_CONNECTION_LIMIT, MAX_CONNECTIONS, MHD_OPTION_END);
	if (h->mhd == NULL) {
		ret = errno != 0 ? -errno : -EIO;
		snprintf(err, errlen, "metrics.listen: %s: cannot listen: %s", cfg->metrics_listen,
			 strerror(-ret));
		free(h);
		return ret;
	}
	info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	h->watch.fd = info != NULL ? info->epoll_fd : -1;
	h->watch.readable = on_readable;
	h->watch.arg = h;
	ret = h->watch.fd >= 0 ? pmx_ctl_watch(ctl, &h->watch) : -EIO;
	if (ret != 0) {
		snprintf(err, errlen, "metrics.listen: %s: %s", cfg->metrics_listen,
			 strerror(-ret));
		MHD_stop_daemon(h->mhd);
		free(h);
		return ret;
	}
	ctl->metrics = h;
	PMX_LOG(INFO, ctl, "metrics: Prometheus endpoint on http://%s/metrics",
		cfg->metrics_listen);
	return 0;
}

void pmx_metrics_http_poll(struct pmx_ctl *ctl)
{
	MHD_UNSIGNED_LONG_LONG ms;

	/* due timers, or data MHD read but has not processed yet (no new epoll event) */
	if (ctl->metrics != NULL && MHD_get_timeout(ctl->metrics->mhd, &ms) == MHD_YES && ms == 0)
		MHD_run(ctl->metrics->mhd);
}

void pmx_metrics_http_stop(struct pmx_ctl *ctl)
{
	struct pmx_metrics_http *h = ctl->metrics;

	if (h == NULL)
		return;
	pmx_ctl_unwatch(ctl, &h->watch);
	MHD_stop_daemon(h->mhd);
	free(h);
	ctl->metrics = NULL;
}
