/* pmx_capture.c - golden-test client: owns what a case asks for, writes every frame the switch
 * gives it into a pcap (switch -> client), and on SIGUSR1 sends the frames of a pcap through its
 * TX ring (client -> switch). SIGTERM drains the RX ring, closes the pcap and detaches.
 *
 * usage: pmx-capture -s SOCKET -o OUT.pcap [-n NAME] [-t TX.pcap] [-p] [-w] [-M MAC,IP...]
 *                    [-k N] [RULE...]
 *   RULE: listen,PROTO,IP|*,PORT   connect,PROTO,LIP,LPORT,RIP,RPORT   claim_ip,IP
 *   match,PROTO-NUMBER,IPV4[,FROM-IPV4] (usnetd's AddMatch without dst_port)
 *   (commas because IPv6 addresses hold colons; "*" = every address of the port; for
 *   icmp/icmpv6 the port is the echo identifier). -p (paused): receive nothing before
 *   SIGTERM, so that the RX ring fills up. -w: once attached, print "attached" and register
 *   the rules only on SIGUSR2 (several clients attach at once, their rules go in an order).
 *   -M: attach with a MAC of its own and the addresses it sends from (hello "mac",
 *   "addresses"; none: it gets them by DHCP; the switch must see an operator). -k N: keep the first N frames received in
 *   hand, unfreed, until exit (what a client killed mid-work held; prints "kept N").
 * Prints "rule N <spec>" per rule, "ready <client id>" once its rules are in, "sent N" after
 * the TX pcap went into the ring and "received N" on exit.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <jansson.h>
#include <pcap/pcap.h>

#include <rte_mbuf.h>

#include "portmux_client.h"

#define MAX_TX_FRAMES 512
#define SNAPLEN 65535
#define IDLE_SLEEP_NS 50000L
#define PMX_OWN_ADDRS_MAX 4 /* addresses with -M */
#define TX_RETRIES 2000 /* x 100 us: how long a full TX ring may keep us waiting */

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t send_requested;
static volatile sig_atomic_t rules_requested;
static struct rte_mbuf *kept[256]; /* -k: frames held in hand until exit */
static unsigned keep_max, n_kept;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void on_send(int sig)
{
	(void)sig;
	send_requested = 1;
}

static void on_rules(int sig)
{
	(void)sig;
	rules_requested = 1;
}

/* Splits "a,b,c" in place into at most max fields; returns how many. */
static int split_fields(char *s, char **fields, int max)
{
	int n = 0;

	while (n < max) {
		fields[n++] = s;
		s = strchr(s, ',');
		if (s == NULL)
			break;
		*s++ = '\0';
	}
	return s == NULL ? n : -1;
}

static int parse_port(const char *s, uint16_t *port)
{
	char *end;
	long v = strtol(s, &end, 0);

	if (*s == '\0' || *end != '\0' || v < 1 || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

/* claim_ip and usnetd's AddMatch have no typed call in the client library: a raw request
 * (taken). -EPROTO when refused. */
static int raw_rule(struct pmx_client *c, json_t *req, const char *what, uint32_t *rule_id)
{
	char *text = req != NULL ? json_dumps(req, JSON_COMPACT) : NULL, *reply = NULL;
	json_t *res = NULL, *id;
	int ret = -ENOMEM;

	if (text == NULL)
		goto out_req;
	ret = pmx_client_request(c, text, &reply);
	if (ret != 0)
		goto out_text;
	res = json_loads(reply, 0, NULL);
	id = json_object_get(json_object_get(res, "result"), "rule_id");
	ret = json_is_true(json_object_get(res, "ok")) && json_is_integer(id) ? 0 : -EPROTO;
	if (ret == 0)
		*rule_id = (uint32_t)json_integer_value(id);
	else
		fprintf(stderr, "pmx-capture: %s: %s\n", what, reply);
	json_decref(res);
	free(reply);
out_text:
	free(text);
out_req:
	json_decref(req);
	return ret;
}

static int claim_ip(struct pmx_client *c, const char *ip, uint32_t *rule_id)
{
	return raw_rule(c,
			json_pack("{s:s, s:I, s:s}", "cmd", "claim_ip", "id",
				  (json_int_t)++c->next_request_id, "ip", ip),
			"claim_ip", rule_id);
}

/* usnetd's AddMatch without dst_port: protocol number proto to IPv4 dst, from src if set. */
static int add_match(struct pmx_client *c, const char *proto, const char *dst, const char *src,
		     uint32_t *rule_id)
{
	json_t *req = json_pack("{s:s, s:I, s:{s:s}, s:i}", "cmd", "AddMatch", "id",
				(json_int_t)++c->next_request_id, "dst_addr", "Ipv4", dst,
				"protocol", atoi(proto));

	if (req != NULL && src != NULL)
		json_object_set_new(req, "src_addr", json_pack("{s:s}", "Ipv4", src));
	return raw_rule(c, req, "AddMatch", rule_id);
}

/* Registers one RULE argument (see usage); the spec is modified. */
static int add_rule(struct pmx_client *c, char *spec, uint32_t *rule_id)
{
	char *f[6];
	uint16_t lport, rport;
	int n = split_fields(spec, f, 6);

	if (n == 4 && strcmp(f[0], "listen") == 0 && parse_port(f[3], &lport) == 0)
		return pmx_client_listen(c, f[1], strcmp(f[2], "*") == 0 ? NULL : f[2], lport,
					 rule_id);
	if (n == 6 && strcmp(f[0], "connect") == 0 && parse_port(f[3], &lport) == 0 &&
	    parse_port(f[5], &rport) == 0)
		return pmx_client_connect(c, f[1], f[2], lport, f[4], rport, rule_id);
	if (n == 2 && strcmp(f[0], "claim_ip") == 0)
		return claim_ip(c, f[1], rule_id);
	if ((n == 3 || n == 4) && strcmp(f[0], "match") == 0)
		return add_match(c, f[1], f[2], n == 4 ? f[3] : NULL, rule_id);
	return -EINVAL;
}

/* Writes a burst of received frames into the capture and frees them. */
static void dump_frames(pcap_dumper_t *dumper, struct rte_mbuf **pkts, unsigned n)
{
	static uint8_t buf[SNAPLEN];

	unsigned k = RTE_MIN(n, keep_max - n_kept);

	for (unsigned i = 0; i < n; i++) {
		struct pcap_pkthdr h = {0};
		uint32_t len = rte_pktmbuf_pkt_len(pkts[i]);
		const void *data;

		if (len > SNAPLEN)
			len = SNAPLEN;
		data = rte_pktmbuf_read(pkts[i], 0, len, buf);
		gettimeofday(&h.ts, NULL);
		h.caplen = len;
		h.len = rte_pktmbuf_pkt_len(pkts[i]);
		if (data != NULL)
			pcap_dump((u_char *)dumper, &h, data);
	}
	for (unsigned i = 0; i < k; i++)
		kept[n_kept++] = pkts[i];
	if (k > 0) {
		printf("kept %u\n", n_kept);
		fflush(stdout);
	}
	rte_pktmbuf_free_bulk(pkts + k, n - k);
}

/* Copies every frame of the pcap at path into mbufs and puts them on the TX ring in order.
 * Returns the number sent, or a negative errno (-ENOENT unreadable, -ENOMEM, -ENOBUFS). */
static int send_pcap(struct pmx_client *c, const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct rte_mbuf *pkts[MAX_TX_FRAMES];
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *in = pcap_open_offline(path, errbuf);
	unsigned n = 0, sent = 0;
	int ret = 0;

	if (in == NULL) {
		fprintf(stderr, "pmx-capture: %s: %s\n", path, errbuf);
		return -ENOENT;
	}
	while (n < MAX_TX_FRAMES && pcap_next_ex(in, &h, &data) == 1) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(c->pool);
		char *p = m != NULL ? rte_pktmbuf_append(m, (uint16_t)h->caplen) : NULL;

		if (p == NULL) {
			rte_pktmbuf_free(m);
			ret = -ENOMEM;
			goto out_free;
		}
		memcpy(p, data, h->caplen);
		pkts[n++] = m;
	}
	for (int tries = 0; sent < n && tries < TX_RETRIES; tries++) {
		sent += pmx_client_tx_burst(c, pkts + sent, (uint16_t)(n - sent));
		if (sent < n)
			usleep(100);
	}
	ret = sent == n ? (int)sent : -ENOBUFS;
out_free:
	if (sent < n)
		rte_pktmbuf_free_bulk(pkts + sent, n - sent);
	pcap_close(in);
	return ret;
}

/* Receives into the capture until SIGTERM; sends the TX pcap once on SIGUSR1. */
static int capture_loop(struct pmx_client *c, pcap_dumper_t *dumper, const char *tx_path,
			bool paused, unsigned long *received)
{
	const struct timespec idle = {.tv_nsec = IDLE_SLEEP_NS};
	struct rte_mbuf *pkts[32];
	unsigned n;

	while (!stop_requested) {
		if (!pmx_client_alive(c)) {
			fprintf(stderr, "pmx-capture: detached by the switch\n");
			return -ECONNRESET;
		}
		if (send_requested && tx_path != NULL) {
			int sent = send_pcap(c, tx_path);

			send_requested = 0;
			tx_path = NULL;
			if (sent < 0) {
				fprintf(stderr, "pmx-capture: send: %s\n", strerror(-sent));
				return sent;
			}
			printf("sent %d\n", sent);
			fflush(stdout);
		}
		n = paused ? 0 : pmx_client_rx_burst(c, pkts, 32);
		*received += n;
		if (n > 0)
			dump_frames(dumper, pkts, n);
		else
			nanosleep(&idle, NULL);
	}
	/* what the switch enqueued before the signal belongs to the capture too */
	while ((n = pmx_client_rx_burst(c, pkts, 32)) > 0) {
		*received += n;
		dump_frames(dumper, pkts, n);
	}
	return 0;
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s -s SOCKET -o OUT.pcap [-n NAME] [-t TX.pcap] [-p] [-w] [-M MAC,IP...] [-k N] "
		"[RULE...]\n"
		"  RULE: listen,PROTO,IP|*,PORT  connect,PROTO,LIP,LPORT,RIP,RPORT  claim_ip,IP\n"
		"        match,PROTO-NUMBER,IPV4[,FROM-IPV4]\n",
		prog);
}

int main(int argc, char **argv)
{
	struct pmx_client_params params = {.name = "pmx-capture"};
	const char *out_path = NULL, *tx_path = NULL;
	struct pmx_client *c = NULL;
	pcap_dumper_t *dumper;
	pcap_t *dead;
	unsigned long received = 0;
	bool paused = false, wait_rules = false;
	char *own[1 + PMX_OWN_ADDRS_MAX];
	int opt, ret, n_own, exit_code = 1;

	while ((opt = getopt(argc, argv, "s:o:n:t:pwM:k:h")) != -1) {
		switch (opt) {
		case 's': params.socket_path = optarg; break;
		case 'o': out_path = optarg; break;
		case 'n': params.name = optarg; break;
		case 't': tx_path = optarg; break;
		case 'p': paused = true; break;
		case 'w': wait_rules = true; break;
		case 'k': keep_max = RTE_MIN((unsigned)atoi(optarg), (unsigned)RTE_DIM(kept)); break;
		case 'M':
			n_own = split_fields(optarg, own, 1 + PMX_OWN_ADDRS_MAX);
			if (n_own < 1) { /* a MAC alone: its addresses come by DHCP */
				usage(argv[0]);
				return 2;
			}
			params.mac = own[0];
			params.addresses = (const char *const *)&own[1];
			params.n_addresses = (unsigned)n_own - 1;
			break;
		default: usage(argv[0]); return 2;
		}
	}
	if (out_path == NULL) {
		usage(argv[0]);
		return 2;
	}
	dead = pcap_open_dead(DLT_EN10MB, SNAPLEN);
	dumper = dead != NULL ? pcap_dump_open(dead, out_path) : NULL;
	if (dumper == NULL) {
		fprintf(stderr, "pmx-capture: cannot write %s\n", out_path);
		goto out_dead;
	}
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	signal(SIGUSR1, on_send);
	signal(SIGUSR2, on_rules);

	ret = pmx_client_open(&params, &c);
	if (ret != 0) {
		fprintf(stderr, "pmx-capture: attach: %s\n", strerror(-ret));
		goto out_dump;
	}
	if (wait_rules) {
		const struct timespec tick = {.tv_nsec = 1000000L};

		printf("attached %u\n", c->id);
		fflush(stdout);
		while (!rules_requested && !stop_requested)
			nanosleep(&tick, NULL);
	}
	for (int i = optind; i < argc; i++) {
		char spec[256];
		uint32_t rule_id = 0;

		snprintf(spec, sizeof(spec), "%s", argv[i]);
		ret = add_rule(c, spec, &rule_id);
		if (ret != 0) {
			fprintf(stderr, "pmx-capture: rule %s: %s\n", argv[i], strerror(-ret));
			goto out_client;
		}
		printf("rule %u %s\n", rule_id, argv[i]);
	}
	printf("ready %u\n", c->id);
	fflush(stdout);

	if (capture_loop(c, dumper, tx_path, paused, &received) == 0)
		exit_code = 0;
	printf("received %lu\n", received);
	rte_pktmbuf_free_bulk(kept, n_kept);
out_client:
	pmx_client_close(c);
out_dump:
	pcap_dump_close(dumper);
out_dead:
	if (dead != NULL)
		pcap_close(dead);
	return exit_code;
}
