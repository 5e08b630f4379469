/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_metrics_http.c - the metrics endpoint (lib/control/metrics_http.c) inside the control
 * loop of the fixture's switch, over real TCP on the test's own loopback. Negative cases
 * first: an address already taken fails with EADDRINUSE and a message naming metrics.listen
 * (and the running endpoint stays), another path is 404, another method 405 with "Allow";
 * then GET /metrics is answered by pmx_ctl_poll() alone (no thread: the request is not
 * answered until the loop runs) with the exposition format, its counters those of the switch
 * (rules, mbufs, scrapes counting up), on IPv4 and IPv6; stop closes the port. And the
 * "stats" request's per-port rates (ctl_stats.c): the daemon's first look has no interval, a
 * session's later looks measure from its own previous one, a session's first from the last
 * look of any session.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <CUnit/CUnit.h>

#include "ctl_fixture.h"
#include "cunit_run.h"
#include "metrics.h"

#define PORT 19273

/* The namespace's loopback up (a new network namespace has it down). */
static int loopback_up(void)
{
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM, 0), ret;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	ret = fd >= 0 && ioctl(fd, SIOCGIFFLAGS, &ifr) == 0 ? 0 : -1;
	ifr.ifr_flags |= IFF_UP;
	if (ret == 0)
		ret = ioctl(fd, SIOCSIFFLAGS, &ifr);
	if (fd >= 0)
		close(fd);
	return ret;
}

static int suite_init(void)
{
	return loopback_up() == 0 ? fx_setup() : -1;
}

static int suite_cleanup(void)
{
	return fx_teardown();
}

/* The endpoint on host:port, started on the fixture's control plane. */
static int start(const char *host, uint16_t port, char *err, size_t errlen)
{
	snprintf(F.cfg.metrics_host, sizeof(F.cfg.metrics_host), "%s", host);
	snprintf(F.cfg.metrics_listen, sizeof(F.cfg.metrics_listen), "%s%s%s:%u",
		 strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "", port);
	F.cfg.metrics_port = port;
	return pmx_metrics_http_start(&F.ctl, err, errlen);
}

/* Send request to host:PORT, run the control loop until the peer closes; the reply (static,
 * "" when none came within 2 s). answered_before_poll: bytes seen before the first poll. */
static const char *exchange(const char *host, const char *request, size_t *answered_before_poll)
{
	static char reply[256 * 1024];
	struct sockaddr_storage ss = {0};
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	size_t len = 0;
	int fd;

	reply[0] = '\0';
	if (strchr(host, ':') != NULL) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(PORT);
		inet_pton(AF_INET6, host, &in6->sin6_addr);
	} else {
		in->sin_family = AF_INET;
		in->sin_port = htons(PORT);
		inet_pton(AF_INET, host, &in->sin_addr);
	}
	fd = socket(ss.ss_family, SOCK_STREAM, 0);
	CU_ASSERT_FATAL(fd >= 0);
	/* the listening socket accepts in the kernel: connect completes without the loop */
	CU_ASSERT_FATAL(connect(fd, (struct sockaddr *)&ss, sizeof(ss)) == 0);
	CU_ASSERT_FATAL(write(fd, request, strlen(request)) == (ssize_t)strlen(request));
	fcntl(fd, F_SETFL, O_NONBLOCK);
	usleep(50 * 1000);
	if (answered_before_poll != NULL) {
		ssize_t n = recv(fd, reply, sizeof(reply) - 1, MSG_PEEK);

		*answered_before_poll = n > 0 ? (size_t)n : 0;
	}
	for (int round = 0; round < 200; round++) {
		ssize_t n;

		pmx_ctl_poll(&F.ctl, 10);
		while ((n = read(fd, reply + len, sizeof(reply) - 1 - len)) > 0)
			len += (size_t)n;
		if (n == 0)
			break; /* HTTP/1.0: the endpoint closes after the reply */
	}
	reply[len] = '\0';
	close(fd);
	return reply;
}

static void test_address_taken(void)
{
	char err[256] = "";

	CU_ASSERT_EQUAL_FATAL(start("127.0.0.1", PORT, err, sizeof(err)), 0);
	struct pmx_metrics_http *first = F.ctl.metrics;

	CU_ASSERT_EQUAL(start("127.0.0.1", PORT, err, sizeof(err)), -EADDRINUSE);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "metrics.listen: 127.0.0.1:19273: cannot listen"));
	CU_ASSERT_PTR_EQUAL(F.ctl.metrics, first); /* the running one stays */
	pmx_metrics_http_stop(&F.ctl);
	CU_ASSERT_PTR_NULL(F.ctl.metrics);
}

static void test_wrong_path_and_method(void)
{
	char err[256];
	const char *r;

	CU_ASSERT_EQUAL_FATAL(start("127.0.0.1", PORT, err, sizeof(err)), 0);
	r = exchange("127.0.0.1", "GET /stats HTTP/1.0\r\n\r\n", NULL);
	CU_ASSERT_EQUAL(strncmp(r, "HTTP/1.1 404", 12), 0); /* MHD answers in 1.1 */
	r = exchange("127.0.0.1", "DELETE /metrics HTTP/1.0\r\n\r\n", NULL);
	CU_ASSERT_EQUAL(strncmp(r, "HTTP/1.1 405", 12), 0); /* MHD answers in 1.1 */
	CU_ASSERT_PTR_NOT_NULL(strstr(r, "Allow: GET, HEAD"));
	pmx_metrics_http_stop(&F.ctl);
}

static void test_scrape(const char *host)
{
	char err[256], expect[64];
	size_t early = 1;
	const char *r;

	CU_ASSERT_EQUAL_FATAL(start(host, PORT, err, sizeof(err)), 0);
	r = exchange(host, "GET /metrics HTTP/1.0\r\n\r\n", &early);
	CU_ASSERT_EQUAL(early, 0); /* nothing answers but the control loop */
	CU_ASSERT_EQUAL(strncmp(r, "HTTP/1.1 200", 12), 0); /* MHD answers in 1.1 */
	CU_ASSERT_PTR_NOT_NULL(strstr(r, "Content-Type: text/plain; version=0.0.4"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r, "\n# TYPE portmux_drops_total counter\n"));
	snprintf(expect, sizeof(expect), "\nportmux_rules %u\n", pmx_flow_table_count(F.sw.ft));
	CU_ASSERT_PTR_NOT_NULL(strstr(r, expect));
	snprintf(expect, sizeof(expect), "\nportmux_mempool_mbufs %u\n", F.sw.pool->size);
	CU_ASSERT_PTR_NOT_NULL(strstr(r, expect));
	CU_ASSERT_PTR_NOT_NULL(strstr(r, "\nportmux_metrics_scrapes_total 0\n"));
	/* the fixture's ports have no ethdev: no ethdev counters, the switch's own ones */
	CU_ASSERT_PTR_NULL(strstr(r, "portmux_port_rx_packets_total{"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr(r, "\nportmux_port_switched_packets_total{port=\"lan1\"} 0\n"));
	r = exchange(host, "GET /metrics HTTP/1.0\r\n\r\n", NULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(r, "\nportmux_metrics_scrapes_total 1\n"));
	pmx_metrics_http_stop(&F.ctl);
}

static void test_scrape_ipv4(void)
{
	test_scrape("127.0.0.1");
}

static void test_scrape_ipv6(void)
{
	test_scrape("::1");
}

static void test_stop_closes(void)
{
	struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(PORT)};
	char err[256];
	int fd;

	CU_ASSERT_EQUAL_FATAL(start("127.0.0.1", PORT, err, sizeof(err)), 0);
	pmx_metrics_http_stop(&F.ctl);
	pmx_metrics_http_stop(&F.ctl); /* twice: nothing */
	inet_pton(AF_INET, "127.0.0.1", &in.sin_addr);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(connect(fd, (struct sockaddr *)&in, sizeof(in)), -1);
	CU_ASSERT_EQUAL(errno, ECONNREFUSED);
	close(fd);
}

/* interval_ns of port 0's rates in a stats reply of session s. */
static long long rates_interval(struct pmx_ctl_session *s)
{
	json_t *r = NULL;
	long long ns = -1;

	if (strcmp(fx_call(s, "{\"cmd\":\"stats\"}", &r), "ok") == 0)
		ns = json_integer_value(json_object_get(
			json_object_get(json_array_get(json_object_get(r, "ports"), 0), "rates"),
			"interval_ns"));
	json_decref(r);
	return ns;
}

static void test_rates_per_session(void)
{
	struct pmx_ctl_session *a = fx_session(true, 0), *b = fx_session(false, 65534);
	long long a3;

	CU_ASSERT_EQUAL(rates_interval(a), 0); /* the daemon's first look: nothing to compare */
	usleep(30 * 1000);
	CU_ASSERT(rates_interval(a) >= 30000000);
	usleep(30 * 1000);
	CU_ASSERT(rates_interval(b) >= 30000000); /* b's first: since a's last */
	usleep(30 * 1000);
	a3 = rates_interval(a); /* since a's own last, not b's look in between */
	CU_ASSERT(a3 >= 60000000);
	if (a3 < 60000000)
		printf("\n    a's third look: interval %lld ns\n", a3);
	fx_session_free(a);
	fx_session_free(b);
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"an address already taken", test_address_taken},
		{"another path: 404, another method: 405", test_wrong_path_and_method},
		{"GET /metrics over IPv4, from the control loop", test_scrape_ipv4},
		{"GET /metrics over IPv6", test_scrape_ipv6},
		{"stop closes the port", test_stop_closes},
		{"stats rates: a previous look per session", test_rates_per_session},
	};

	fx_eal_init("test_metrics_http");
	return cunit_run("metrics_http", suite_init, suite_cleanup, tests, RTE_DIM(tests));
}
