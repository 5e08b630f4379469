/* pmx_sender.c - test client: attach, own one UDP port, send datagrams from a chosen source
 * (owned or not) through the switch, to check anti-spoofing end to end; with -w it stays
 * attached until its stdin closes (what it learned lives as long). With -M MAC,IP it attaches
 * with a MAC and address of its own (no port to own: -l may be left out) and sends from them. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <rte_ip.h>
#include <rte_udp.h>

#include "portmux_client.h"

struct sender_args {
	uint16_t listen_port;   /* owned through listen */
	uint16_t from_port;     /* source port used (may differ: spoofing) */
	const char *from_ip;    /* source address; default the port's first address */
	const char *to_ip;
	uint16_t to_port;
	struct rte_ether_addr dst_mac;
	unsigned count;
	int wait_eof; /* stay attached until stdin closes */
};

static struct rte_mbuf *build_datagram(struct pmx_client *c, const struct sender_args *a,
				       uint32_t src_ip, uint32_t dst_ip, unsigned seq)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(c->pool);
	char payload[32];
	int plen = snprintf(payload, sizeof(payload), "pmx-sender %u", seq);
	size_t len = sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) +
		     sizeof(struct rte_udp_hdr) + plen;

	if (m == NULL)
		return NULL;
	char *p = rte_pktmbuf_append(m, len);
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

	eth->dst_addr = a->dst_mac;
	eth->src_addr = c->mac;
	eth->ether_type = htons(RTE_ETHER_TYPE_IPV4);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = htons(sizeof(*ip) + sizeof(*udp) + plen);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = src_ip;
	ip->dst_addr = dst_ip;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp->src_port = htons(a->from_port);
	udp->dst_port = htons(a->to_port);
	udp->dgram_len = htons(sizeof(*udp) + plen);
	memcpy(udp + 1, payload, plen);
	udp->dgram_cksum = 0;
	udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	return m;
}

int main(int argc, char **argv)
{
	struct sender_args a = {.count = 1};
	struct pmx_client_params params = {.name = "pmx-sender"};
	struct pmx_client *c;
	uint32_t src_ip, dst_ip, rule;
	unsigned sent = 0;
	char *own_ip;
	int opt, ret;

	while ((opt = getopt(argc, argv, "l:f:F:t:T:m:n:s:wM:")) != -1) {
		switch (opt) {
		case 'l': a.listen_port = (uint16_t)atoi(optarg); break;
		case 'f': a.from_port = (uint16_t)atoi(optarg); break;
		case 'F': a.from_ip = optarg; break;
		case 't': a.to_ip = optarg; break;
		case 'T': a.to_port = (uint16_t)atoi(optarg); break;
		case 'm':
			if (rte_ether_unformat_addr(optarg, &a.dst_mac) != 0)
				return 2;
			break;
		case 'n': a.count = (unsigned)atoi(optarg); break;
		case 's': params.socket_path = optarg; break;
		case 'w': a.wait_eof = 1; break;
		case 'M':
			own_ip = strchr(optarg, ',');
			if (own_ip == NULL)
				return 2;
			*own_ip++ = '\0';
			params.mac = optarg;
			params.addresses = (const char *const *)&own_ip;
			params.n_addresses = 1;
			break;
		default: return 2;
		}
	}
	if ((a.listen_port == 0 && params.mac == NULL) || a.from_port == 0 || a.to_ip == NULL ||
	    a.to_port == 0 || inet_pton(AF_INET, a.to_ip, &dst_ip) != 1) {
		fprintf(stderr,
			"usage: %s -l LISTEN|-M MAC,IP -f FROM-PORT [-F FROM-IP] -t TO-IP "
			"-T TO-PORT -m DST-MAC [-n COUNT] [-s SOCKET] [-w]\n",
			argv[0]);
		return 2;
	}
	ret = pmx_client_open(&params, &c);
	if (ret != 0) {
		fprintf(stderr, "pmx-sender: attach: %s\n", strerror(-ret));
		return 1;
	}
	ret = a.listen_port != 0 ? pmx_client_listen(c, "udp", NULL, a.listen_port, &rule) : 0;
	if (ret != 0 || c->n_addresses == 0) {
		fprintf(stderr, "pmx-sender: listen: %s\n", strerror(-ret));
		pmx_client_close(c);
		return 1;
	}
	if (a.from_ip == NULL || inet_pton(AF_INET, a.from_ip, &src_ip) != 1)
		memcpy(&src_ip, c->addresses[0] + 12, 4);
	for (unsigned i = 0; i < a.count; i++) {
		struct rte_mbuf *m = build_datagram(c, &a, src_ip, dst_ip, i);

		if (m == NULL)
			break;
		if (pmx_client_tx_burst(c, &m, 1) == 1)
			sent++;
		else
			rte_pktmbuf_free(m);
	}
	printf("pmx-sender: sent %u of %u datagrams from port %u\n", sent, a.count, a.from_port);
	fflush(stdout);
	if (a.wait_eof) {
		char buf[64];

		while (read(STDIN_FILENO, buf, sizeof(buf)) > 0)
			;
	}
	pmx_client_close(c);
	return sent == a.count ? 0 : 1;
}
