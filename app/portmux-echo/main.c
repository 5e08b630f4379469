/* main.c - portmux-echo: a UDP echo server on libportmux-client (client ring -> same ring back) */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_hash_crc.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "pmx_opt.h"
#include "pmx_packet.h"
#include "portmux_client.h"

#define MAX_PORTS 64

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

#define FLOW_SLOTS 4096

struct echo_stats {
	uint64_t per_queue[PMX_MAX_QUEUES];
	uint64_t flows_on_two_queues; /* must stay 0: a flow keeps to one queue pair */
	uint64_t echoed;
	uint64_t mirrored;    /* ARP, ND, broadcast, multicast: copies every client gets */
	uint64_t icmp_errors; /* errors about our own flows (e.g. a peer gone before our reply) */
	uint64_t other;       /* unicast frames that are not UDP to our ports: misdelivered */
	uint64_t tx_full;
};

/* Turn a UDP datagram into its answer in place: swap addresses and ports, fix checksums. */
static void make_reply(struct rte_mbuf *m, const struct pmx_pkt_info *pi,
		       const struct rte_ether_addr *our_mac)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_udp_hdr *udp = rte_pktmbuf_mtod_offset(m, struct rte_udp_hdr *, pi->l4_offset);
	uint16_t port = udp->src_port;

	eth->dst_addr = eth->src_addr;
	eth->src_addr = *our_mac;
	udp->src_port = udp->dst_port;
	udp->dst_port = port;
	udp->dgram_cksum = 0;
	if (pi->family == 4) {
		struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *,
								  pi->l3_offset);
		uint32_t addr = ip->src_addr;

		ip->src_addr = ip->dst_addr;
		ip->dst_addr = addr;
		ip->time_to_live = 64;
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	} else {
		struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *,
								  pi->l3_offset);
		uint8_t addr[16];

		memcpy(addr, ip->src_addr, 16);
		memcpy(ip->src_addr, ip->dst_addr, 16);
		memcpy(ip->dst_addr, addr, 16);
		ip->hop_limits = 64;
		udp->dgram_cksum = rte_ipv6_udptcp_cksum(ip, udp);
	}
}

static bool is_echo_port(const uint16_t *ports, unsigned n, uint16_t port_be)
{
	for (unsigned i = 0; i < n; i++)
		if (ports[i] == port_be)
			return true;
	return false;
}

/* Which queue each flow (remote address and port) came in on: 1 + queue, 0 = unseen. */
struct flow_queues {
	uint64_t key[FLOW_SLOTS];
	uint8_t queue[FLOW_SLOTS];
};

static void note_flow_queue(struct flow_queues *fq, const struct pmx_pkt_info *pi, unsigned q,
			    struct echo_stats *st)
{
	uint64_t key = rte_hash_crc(pi->key.remote_ip, 16, pi->key.remote_port) | 1;
	unsigned slot = key % FLOW_SLOTS;

	for (unsigned tries = 0; tries < 16; tries++, slot = (slot + 1) % FLOW_SLOTS) {
		if (fq->queue[slot] == 0) {
			fq->key[slot] = key;
			fq->queue[slot] = (uint8_t)(q + 1);
			return;
		}
		if (fq->key[slot] == key) {
			if (fq->queue[slot] != q + 1)
				st->flows_on_two_queues++;
			return;
		}
	}
}

/* Echo until a signal (0) or the end of the attach (pmx_client_check()'s -errno). */
static int serve(struct pmx_client *c, const uint16_t *ports, unsigned n_ports,
		 struct echo_stats *st)
{
	static struct flow_queues fq;
	struct rte_mbuf *pkts[32], *out[32];
	unsigned q = 0;
	int ended;

	while (!stop_requested && (ended = pmx_client_check(c)) == 0) {
		uint16_t n, n_out = 0, sent;

		q = (q + 1) % c->n_queues; /* one thread serves every queue pair in turn */
		n = pmx_client_rx_burst_q(c, q, pkts, 32);
		/* idle: spin (--busy-poll), or sleep once idle a while (the default) */
		pmx_client_idle(c, n);
		if (n == 0)
			continue;
		st->per_queue[q] += n;
		for (uint16_t i = 0; i < n; i++) {
			struct pmx_pkt_info pi;
			enum pmx_pkt_class cls;

			cls = pmx_packet_parse(rte_pktmbuf_mtod(pkts[i], const uint8_t *),
					       rte_pktmbuf_data_len(pkts[i]), PMX_DIR_IN, &pi);
			if (cls != PMX_PKT_FLOW || pi.key.proto != PMX_PROTO_UDP ||
			    pi.is_fragment || !is_echo_port(ports, n_ports, pi.key.local_port)) {
				if (cls == PMX_PKT_ARP || cls == PMX_PKT_ND ||
				    cls == PMX_PKT_MULTICAST)
					st->mirrored++;
				else if (cls == PMX_PKT_ICMP_ERROR &&
					 pi.key.proto == PMX_PROTO_UDP &&
					 is_echo_port(ports, n_ports, pi.key.local_port))
					st->icmp_errors++;
				else
					st->other++;
				rte_pktmbuf_free(pkts[i]);
				continue;
			}
			note_flow_queue(&fq, &pi, q, st);
			make_reply(pkts[i], &pi, &c->mac);
			out[n_out++] = pkts[i];
		}
		sent = pmx_client_tx_burst_q(c, q, out, n_out);
		st->echoed += sent;
		st->tx_full += n_out - sent;
		rte_pktmbuf_free_bulk(out + sent, n_out - sent);
	}
	return stop_requested ? 0 : ended;
}

/* the --help text; the man page portmux-echo(1) is made from it (help2man, app/meson.build) */
static void usage(FILE *f)
{
	fprintf(f,
		"Usage: portmux-echo [OPTION]... UDP-PORT...\n"
		"A UDP echo server on portmuxd's NIC: attach as a client of libportmux-client,\n"
		"own each UDP-PORT (1..65535) on every address of the NIC port, and send every\n"
		"datagram back to where it came from.\n"
		"\n"
		"Options:\n"
		"  -s, --socket PATH     portmuxd's control socket ($PORTMUX_SOCKET, else %s)\n"
		"  -p, --port NAME       the NIC port to attach to (default: the first)\n"
		"  -n, --name NAME       client name shown to operators (portmux-echo)\n"
		"  -q, --queues N        queue pairs, 1..%u (1); one thread serves them in turn\n"
		"  -w, --wait SECONDS    after portmuxd stopped or died, wait this long for it to\n"
		"                        come back and attach again, 0..86400 (60; 0: exit)\n"
		"  -b, --busy-poll       poll the rings without ever sleeping: a datagram is\n"
		"                        dequeued at once, and a CPU is 100 %% busy (default: "
		"sleep\n"
		"                        %u us per empty pass once idle for %u passes, little "
		"CPU,\n"
		"                        about 0.1 ms more latency)\n"
		"  -h, --help            print this help and exit\n"
		"  -V, --version         print the version and exit\n"
		"\n"
		"At the end (SIGINT, SIGTERM) it prints what it echoed and ignored.\n"
		"\n"
		"Exit status:\n"
		"  0  stopped by a signal\n"
		"  1  cannot attach or listen, or portmuxd did not come back in time\n"
		"  2  bad command line\n",
		PMX_CLIENT_DEFAULT_SOCKET, PMX_MAX_QUEUES, PMX_CLIENT_IDLE_SLEEP_US,
		PMX_CLIENT_IDLE_PASSES);
}

/* A bad value for option opt: say so on stderr. Returns the exit status (2). */
static int bad_value(int opt, const char *value, const char *want)
{
	fprintf(stderr, "portmux-echo: -%c: bad value \"%s\" (%s)\nTry 'portmux-echo --help'.\n",
		opt, value, want);
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {{"socket", required_argument, NULL, 's'},
						 {"port", required_argument, NULL, 'p'},
						 {"name", required_argument, NULL, 'n'},
						 {"queues", required_argument, NULL, 'q'},
						 {"wait", required_argument, NULL, 'w'},
						 {"busy-poll", no_argument, NULL, 'b'},
						 {"help", no_argument, NULL, 'h'},
						 {"version", no_argument, NULL, 'V'},
						 {NULL, 0, NULL, 0}};
	struct pmx_client_params params = {.name = "portmux-echo"};
	struct echo_stats st = {0};
	uint16_t ports[MAX_PORTS];
	unsigned n_ports = 0, wait_s = 60;
	struct pmx_client *c;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "s:p:n:q:w:bhV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'q':
			if (pmx_opt_uint(optarg, 1, PMX_MAX_QUEUES, &params.queues) != 0)
				return bad_value(opt, optarg, "1.." RTE_STR(PMX_MAX_QUEUES));
			break;
		case 'w':
			if (pmx_opt_uint(optarg, 0, 86400, &wait_s) != 0)
				return bad_value(opt, optarg, "0..86400 seconds");
			break;
		case 'b': params.poll = PMX_CLIENT_POLL_BUSY; break;
		case 's': params.socket_path = optarg; break;
		case 'p': params.port = optarg; break;
		case 'n': params.name = optarg; break;
		case 'V': printf("portmux-echo %s\n", PMX_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: fprintf(stderr, "Try 'portmux-echo --help'.\n"); return 2;
		}
	}
	if (argc - optind > MAX_PORTS) {
		fprintf(stderr, "portmux-echo: at most %d UDP ports\n", MAX_PORTS);
		return 2;
	}
	for (int i = optind; i < argc; i++) {
		unsigned v;

		if (pmx_opt_uint(argv[i], 1, 65535, &v) != 0) {
			fprintf(stderr, "portmux-echo: bad UDP port \"%s\" (1..65535)\n", argv[i]);
			return 2;
		}
		ports[n_ports++] = htons((uint16_t)v);
	}
	if (n_ports == 0) {
		fprintf(stderr,
			"portmux-echo: give at least one UDP port\nTry 'portmux-echo --help'.\n");
		return 2;
	}

	ret = pmx_client_open(&params, &c);
	if (ret != 0) {
		fprintf(stderr, "portmux-echo: cannot attach to portmuxd: %s\n", strerror(-ret));
		return 1;
	}
	printf("portmux-echo: client %u polls %s\n", c->id,
	       c->poll == PMX_CLIENT_POLL_BUSY ? "busy (never sleeps)" : "with sleeps when idle");
	for (unsigned i = 0; i < n_ports; i++) {
		uint32_t rule;

		ret = pmx_client_listen(c, "udp", NULL, ntohs(ports[i]), &rule);
		if (ret == -EEXIST) { /* a rule of the config file for our name (-n) */
			printf("portmux-echo: client %u listening on udp:%u (a config rule of "
			       "its name)\n",
			       c->id, ntohs(ports[i]));
			continue;
		}
		if (ret != 0) {
			fprintf(stderr, "portmux-echo: cannot listen on udp:%u: %s\n",
				ntohs(ports[i]), strerror(-ret));
			pmx_client_close(c);
			return 1;
		}
		printf("portmux-echo: client %u listening on udp:%u (rule %u)\n", c->id,
		       ntohs(ports[i]), rule);
	}
	fflush(stdout);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	ret = serve(c, ports, n_ports, &st);

	printf("portmux-echo: echoed %llu datagrams, %llu not sent; ignored %llu mirrored "
	       "(ARP/ND/multicast), %llu ICMP errors about our flows and %llu other frames%s\n",
	       (unsigned long long)st.echoed, (unsigned long long)st.tx_full,
	       (unsigned long long)st.mirrored, (unsigned long long)st.icmp_errors,
	       (unsigned long long)st.other, pmx_client_alive(c) ? "" : " (detached by switch)");
	printf("portmux-echo: frames per queue:");
	for (unsigned q = 0; q < c->n_queues; q++)
		printf(" %llu", (unsigned long long)st.per_queue[q]);
	printf("; flows seen on two queues: %llu\n", (unsigned long long)st.flows_on_two_queues);
	if ((ret == -ESHUTDOWN || ret == -ECONNRESET) && wait_s > 0) {
		/* a new run attaches to the next daemon and listens again */
		printf("portmux-echo: portmuxd %s: attaching again when it is back (at most %u "
		       "s)\n",
		       ret == -ESHUTDOWN ? "stopped" : "is gone", wait_s);
		ret = pmx_client_restart(c, argv, wait_s * 1000);
		fprintf(stderr, "portmux-echo: cannot attach again: %s\n", strerror(-ret));
		return 1;
	}
	pmx_client_close(c);
	return 0;
}
