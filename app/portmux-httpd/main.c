/* main.c - portmux-httpd: lwIP's TCP/IP stack serving HTTP over libportmux-client */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <lwip/init.h>
#include <lwip/timeouts.h>

#include "http_server.h"
#include "pmx_opt.h"
#include "pmx_netif.h"
#include "portmux_client.h"

#define IDLE_SLEEP_MIN_US 16   /* first sleep after an idle pass */
#define IDLE_SLEEP_MAX_US 1000 /* the backoff doubles up to this: < 0.1% of a core idle */

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

struct httpd_opts {
	struct pmx_client_params params;
	uint16_t tcp_port;
	const char *address; /* NULL: the port's first IPv4 address */
	unsigned prefix_len;
	const char *gateway;
	unsigned max_conns;
	const char *own[1]; /* -M: params.addresses, the -a address */
	unsigned wait_s;    /* after portmuxd stopped or died: wait this long and attach again */
};

/* the --help text; the man page portmux-httpd(1) is made from it (help2man, app/meson.build) */
static void usage(FILE *f)
{
	fprintf(f,
		"Usage: portmux-httpd [OPTION]...\n"
		"An HTTP server on portmuxd's NIC: lwIP's TCP/IP stack over libportmux-client,\n"
		"owning one TCP port of an IPv4 address of the NIC port (docs/HTTPD.md).\n"
		"\n"
		"Options:\n"
		"  -s, --socket PATH      portmuxd's control socket ($PORTMUX_SOCKET, else %s)\n"
		"  -p, --port NAME        the NIC port to attach to (default: the first)\n"
		"  -n, --name NAME        client name shown to operators (portmux-httpd)\n"
		"  -l, --listen PORT      TCP port to own and serve (8080)\n"
		"  -a, --address A.B.C.D  IPv4 address to serve on (default: the port's first)\n"
		"  -m, --prefix LEN       netmask length of that address (24)\n"
		"  -g, --gateway A.B.C.D  IPv4 gateway for clients off the subnet (none)\n"
		"  -c, --max-conns N      concurrent connections; more are reset (256)\n"
		"  -M, --mac MAC          a MAC of its own, with -a an address of its own "
		"(operators)\n"
		"  -w, --wait SECONDS     after portmuxd stopped or died, wait this long for it "
		"to\n"
		"                         come back and attach again (60; 0: exit)\n"
		"  -h, --help             print this help and exit\n"
		"  -V, --version          print the version and exit\n"
		"\n"
		"Exit status:\n"
		"  0  stopped by a signal\n"
		"  1  cannot attach, no address to serve on, or portmuxd did not come back\n"
		"  2  bad command line\n",
		PMX_CLIENT_DEFAULT_SOCKET);
}

/* @return 0, 1 (exit 0: --version, --help), or -EINVAL (the error on stderr). */
static int parse_args(int argc, char **argv, struct httpd_opts *o)
{
	static const struct option longopts[] = {
		{"socket", required_argument, NULL, 's'},
		{"port", required_argument, NULL, 'p'},
		{"name", required_argument, NULL, 'n'},
		{"listen", required_argument, NULL, 'l'},
		{"address", required_argument, NULL, 'a'},
		{"prefix", required_argument, NULL, 'm'},
		{"gateway", required_argument, NULL, 'g'},
		{"max-conns", required_argument, NULL, 'c'},
		{"mac", required_argument, NULL, 'M'},
		{"wait", required_argument, NULL, 'w'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	unsigned long v;
	int opt;

	*o = (struct httpd_opts){.params = {.name = "portmux-httpd"},
				 .tcp_port = 8080,
				 .prefix_len = 24,
				 .max_conns = 256,
				 .wait_s = 60};
	while ((opt = getopt_long(argc, argv, "s:p:n:l:a:m:g:c:M:w:Vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 's': o->params.socket_path = optarg; break;
		case 'p': o->params.port = optarg; break;
		case 'n': o->params.name = optarg; break;
		case 'a': o->address = optarg; break;
		case 'g': o->gateway = optarg; break;
		case 'M': o->params.mac = optarg; break;
		case 'l':
			if (pmx_opt_ulong(optarg, 1, 65535, &v) != 0)
				goto bad;
			o->tcp_port = (uint16_t)v;
			break;
		case 'm':
			if (pmx_opt_ulong(optarg, 1, 32, &v) != 0)
				goto bad;
			o->prefix_len = (unsigned)v;
			break;
		case 'c':
			if (pmx_opt_ulong(optarg, 1, 65535, &v) != 0)
				goto bad;
			o->max_conns = (unsigned)v;
			break;
		case 'w':
			if (pmx_opt_ulong(optarg, 0, 86400, &v) != 0)
				goto bad;
			o->wait_s = (unsigned)v;
			break;
		case 'V':
			printf("portmux-httpd %s (lwIP %s)\n", PMX_VERSION, LWIP_VERSION_STRING);
			return 1;
		case 'h': usage(stdout); return 1;
		default: goto usage;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "portmux-httpd: unexpected argument \"%s\"\n", argv[optind]);
		goto usage;
	}
	if (o->params.mac != NULL) {
		/* its own MAC comes with its own address: the one to serve on */
		if (o->address == NULL) {
			fprintf(stderr, "portmux-httpd: -M needs -a (the address of its own)\n");
			goto usage;
		}
		o->own[0] = o->address;
		o->params.addresses = o->own;
		o->params.n_addresses = 1;
	}
	return 0;

bad:
	fprintf(stderr, "portmux-httpd: bad value \"%s\" for -%c\n", optarg, opt);
usage:
	fprintf(stderr, "Try 'portmux-httpd --help'.\n");
	return -EINVAL;
}

/* The address to serve on: -a, else the port's first IPv4 address. @return 0 or -ENOENT. */
static int pick_address(const struct pmx_client *c, const char *want, ip4_addr_t *out)
{
	struct in_addr a;

	if (want != NULL) {
		if (inet_pton(AF_INET, want, &a) != 1)
			return -EINVAL;
		ip4_addr_set_u32(out, a.s_addr);
		return 0;
	}
	for (unsigned i = 0; i < c->n_addresses; i++) {
		static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

		if (memcmp(c->addresses[i], v4_mapped, 12) == 0) {
			memcpy(&a.s_addr, c->addresses[i] + 12, 4);
			ip4_addr_set_u32(out, a.s_addr);
			return 0;
		}
	}
	return -ENOENT;
}

/* The poll loop: one pass moves frames both ways and runs lwIP's timers; idle passes sleep
 * with a doubling backoff so an idle server does not burn a core. Returns 0 on a signal, or
 * why the attach ended (pmx_client_check()). */
static int serve(struct pmx_client *c, struct pmx_netif *pn)
{
	unsigned sleep_us = 0;
	int ended;

	while (!stop_requested && (ended = pmx_client_check(c)) == 0) {
		unsigned work = 0;

		work += pmx_netif_poll(pn);  /* switch -> lwIP: ARP, our TCP segments */
		sys_check_timeouts();        /* lwIP timers: TCP retransmits, ARP ageing */
		work += pmx_netif_flush(pn); /* lwIP -> switch: what the pass produced */
		if (work != 0) {
			sleep_us = 0;
			continue;
		}
		sleep_us = sleep_us == 0 ? IDLE_SLEEP_MIN_US : sleep_us * 2;
		if (sleep_us > IDLE_SLEEP_MAX_US)
			sleep_us = IDLE_SLEEP_MAX_US;
		usleep(sleep_us);
	}
	return stop_requested ? 0 : ended;
}

static void print_stats(const struct pmx_netif *pn, const struct http_server *s, bool alive)
{
	const struct pmx_netif_stats *n = &pn->st;
	const struct http_server_stats *h = &s->st;

	printf("portmux-httpd: %llu requests (%llu ok, %llu not found, %llu bad) on %llu "
	       "connections (%llu refused, %llu timed out)\n",
	       (unsigned long long)h->requests, (unsigned long long)h->ok,
	       (unsigned long long)h->not_found, (unsigned long long)h->bad,
	       (unsigned long long)h->connections, (unsigned long long)h->refused,
	       (unsigned long long)h->timeouts);
	printf("portmux-httpd: bodies: %llu bytes hashed (POST /sha256), %llu bytes sent "
	       "(/bytes/N)\n",
	       (unsigned long long)h->body_in, (unsigned long long)h->body_out);
	printf("portmux-httpd: frames: rx %llu (to lwIP %llu, mirrored ignored %llu, unexpected "
	       "%llu, bad source %llu, no memory %llu), tx %llu (dropped %llu); TIME_WAIT "
	       "reopened by SYN %llu%s\n",
	       (unsigned long long)n->rx, (unsigned long long)n->to_lwip,
	       (unsigned long long)n->mirrored, (unsigned long long)n->unexpected,
	       (unsigned long long)n->bad_source, (unsigned long long)n->rx_nomem,
	       (unsigned long long)n->tx, (unsigned long long)n->tx_dropped,
	       (unsigned long long)n->tw_reopened, alive ? "" : " (detached by switch)");
}

int main(int argc, char **argv)
{
	static struct pmx_netif pn;
	static struct http_server server;
	struct httpd_opts o;
	ip4_addr_t ip, mask, gw;
	char ip_str[INET_ADDRSTRLEN];
	struct pmx_client *c;
	struct sigaction sa = {.sa_handler = on_signal};
	uint32_t rule = 0;
	char how[32]; /* how it owns its frames, for the banner */
	int ret;

	ret = parse_args(argc, argv, &o);
	if (ret != 0)
		return ret > 0 ? 0 : 2;
	ip4_addr_set_u32(&gw, IPADDR_ANY);
	if (o.gateway != NULL && !ip4addr_aton(o.gateway, &gw)) {
		fprintf(stderr, "portmux-httpd: bad gateway \"%s\"\n", o.gateway);
		return 2;
	}
	ip4_addr_set_u32(&mask,
			 o.prefix_len == 32 ? 0xffffffffu : htonl(~(0xffffffffu >> o.prefix_len)));

	/* a run after pmx_client_restart(): what is left of the wait (pmx_client_open() unsets it) */
	const char *wait_env = getenv(PMX_CLIENT_WAIT_ENV);
	unsigned long wait_left_ms = wait_env ? strtoul(wait_env, NULL, 10) : 0;

	ret = pmx_client_open(&o.params, &c);
	if (ret != 0) {
		fprintf(stderr, "portmux-httpd: cannot attach to portmuxd: %s\n", strerror(-ret));
		return 1;
	}
	ret = pick_address(c, o.address, &ip);
	if (ret == -ENOENT && wait_left_ms >= 1000) {
		/* a restarted daemon learns the addresses once the kernel interface has them */
		printf("portmux-httpd: the port has no IPv4 address yet: attaching again in 1 s\n");
		sleep(1);
		ret = pmx_client_restart(c, argv, (unsigned)(wait_left_ms - 1000));
		fprintf(stderr, "portmux-httpd: cannot attach again: %s\n", strerror(-ret));
		return 1;
	}
	if (ret != 0) {
		fprintf(stderr, "portmux-httpd: %s\n",
			ret == -EINVAL ? "bad address" : "the port has no IPv4 address (use -a)");
		goto fail_close;
	}
	ip4addr_ntoa_r(&ip, ip_str, sizeof(ip_str));
	/* own the port before lwIP serves it: until then its segments go to the kernel (with a
	 * MAC of its own every frame to that MAC is the client's already: no rule) */
	ret = o.params.mac != NULL ? 0 : pmx_client_listen(c, "tcp", ip_str, o.tcp_port, &rule);
	if (ret != 0) {
		fprintf(stderr, "portmux-httpd: cannot listen on tcp:%s:%u: %s\n", ip_str,
			o.tcp_port, strerror(-ret));
		goto fail_close;
	}

	lwip_init();
	ret = pmx_netif_init(&pn, c, &ip, &mask, &gw, o.tcp_port, o.params.mac != NULL);
	if (ret != 0) {
		fprintf(stderr, "portmux-httpd: cannot add the lwIP interface\n");
		goto fail_close;
	}
	ret = http_server_start(&server, &ip, o.tcp_port, o.max_conns);
	if (ret != 0) {
		fprintf(stderr, "portmux-httpd: lwIP cannot listen: %s\n", strerror(-ret));
		goto fail_netif;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (o.params.mac != NULL)
		snprintf(how, sizeof(how), "own mac");
	else
		snprintf(how, sizeof(how), "rule %u, mac", rule);
	printf("portmux-httpd: client %u serving http://%s:%u/ with lwIP %s "
	       "(%s " RTE_ETHER_ADDR_PRT_FMT ")\n",
	       c->id, ip_str, o.tcp_port, LWIP_VERSION_STRING, how, RTE_ETHER_ADDR_BYTES(&c->mac));
	fflush(stdout);

	ret = serve(c, &pn);

	http_server_stop(&server); /* resets open connections: their RSTs still go out */
	pmx_netif_fini(&pn);
	print_stats(&pn, &server, ret == 0);
	if ((ret == -ESHUTDOWN || ret == -ECONNRESET) && o.wait_s > 0) {
		/* a new run attaches to the next daemon and owns the port again */
		printf("portmux-httpd: portmuxd %s: attaching again when it is back (at most %u "
		       "s)\n",
		       ret == -ESHUTDOWN ? "stopped" : "is gone", o.wait_s);
		ret = pmx_client_restart(c, argv, o.wait_s * 1000);
		fprintf(stderr, "portmux-httpd: cannot attach again: %s\n", strerror(-ret));
		return 1;
	}
	pmx_client_close(c);
	return ret == 0 ? 0 : 1;

fail_netif:
	pmx_netif_fini(&pn);
fail_close:
	pmx_client_close(c);
	return 1;
}
