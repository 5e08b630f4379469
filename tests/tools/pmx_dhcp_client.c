/* pmx_dhcp_client.c - test client: attaches with a MAC of its own and no address, gets one
 * from a DHCP server on the wire through the switch (DISCOVER, OFFER, REQUEST, ACK over its
 * rings), then sends UDP datagrams from that address and from another one (anti-spoofing),
 * and stays attached until its stdin closes.
 *
 * usage: pmx-dhcp-client -M MAC -t TO-IP -T TO-PORT -F OTHER-IP [-n COUNT] [-s SOCKET]
 * Prints "leased IP for N s from SERVER-MAC", then "sent N from IP" for each source.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "portmux_client.h"

#define BOOTP_LEN 240 /* fixed part and magic cookie */
#define TRIES 10      /* one a second */

struct dhcp_state {
	uint32_t xid;
	uint32_t yiaddr;    /* network order */
	uint32_t server_id; /* network order */
	uint32_t lease_s;
	struct rte_ether_addr server_mac;
};

/* An IPv4/UDP frame from src:sport to dst:dport with payload, from the client's MAC. */
static struct rte_mbuf *udp_frame(struct pmx_client *c, const struct rte_ether_addr *dmac,
				  uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
				  const void *payload, uint16_t plen)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(c->pool);
	uint16_t len = sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) +
		       sizeof(struct rte_udp_hdr) + plen;
	char *p;

	if (m == NULL || (p = rte_pktmbuf_append(m, len)) == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

	eth->dst_addr = *dmac;
	eth->src_addr = c->mac;
	eth->ether_type = htons(RTE_ETHER_TYPE_IPV4);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = htons(len - sizeof(*eth));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = src;
	ip->dst_addr = dst;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp->src_port = htons(sport);
	udp->dst_port = htons(dport);
	udp->dgram_len = htons(sizeof(*udp) + plen);
	memcpy(udp + 1, payload, plen);
	udp->dgram_cksum = 0;
	udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	return m;
}

/* Broadcast a DHCP DISCOVER (type 1) or REQUEST (type 3) from 0.0.0.0. */
static int send_dhcp(struct pmx_client *c, const struct dhcp_state *st, uint8_t type)
{
	static const struct rte_ether_addr bcast = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
	uint8_t b[BOOTP_LEN + 32] = {1, 1, 6}, *o = b + BOOTP_LEN;
	struct rte_mbuf *m;

	memcpy(b + 4, &st->xid, 4);
	memcpy(b + 28, c->mac.addr_bytes, 6);
	b[236] = 0x63, b[237] = 0x82, b[238] = 0x53, b[239] = 0x63;
	*o++ = 53, *o++ = 1, *o++ = type;
	if (type == 3) {
		*o++ = 50, *o++ = 4;
		memcpy(o, &st->yiaddr, 4), o += 4;
		*o++ = 54, *o++ = 4;
		memcpy(o, &st->server_id, 4), o += 4;
	}
	*o++ = 255;
	m = udp_frame(c, &bcast, 0, INADDR_BROADCAST, 68, 67, b, (uint16_t)(o - b));
	if (m == NULL || pmx_client_tx_burst(c, &m, 1) != 1) {
		rte_pktmbuf_free(m);
		return -1;
	}
	return 0;
}

/* The DHCP message type of a reply to our xid (0: not one), with what it says in st. */
static int parse_reply(struct rte_mbuf *m, struct dhcp_state *st)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *), *b, *o, *end;
	uint32_t len = rte_pktmbuf_data_len(m), xid;
	int type = 0;

	if (len < 14 + 20 + 8 + BOOTP_LEN || f[12] != 0x08 || f[13] != 0 || f[14 + 9] != 17 ||
	    (f[14] & 0x0f) != 5 || f[14 + 20 + 2] != 0 || f[14 + 20 + 3] != 68)
		return 0;
	b = f + 14 + 20 + 8;
	memcpy(&xid, b + 4, 4);
	if (b[0] != 2 || xid != st->xid)
		return 0;
	end = f + len;
	for (o = b + BOOTP_LEN; o < end && *o != 255; o += *o == 0 ? 1 : 2 + o[1]) {
		if (*o == 0)
			continue; /* pad */
		if (o + 2 > end || o + 2 + o[1] > end)
			return 0;
		if (o[0] == 53 && o[1] == 1)
			type = o[2];
		else if (o[0] == 54 && o[1] == 4)
			memcpy(&st->server_id, o + 2, 4);
		else if (o[0] == 51 && o[1] == 4)
			st->lease_s = (uint32_t)o[2] << 24 | (uint32_t)o[3] << 16 |
				      (uint32_t)o[4] << 8 | o[5];
	}
	memcpy(&st->yiaddr, b + 16, 4);
	memcpy(&st->server_mac, f + 6, 6);
	return type;
}

/* Send `type` until a reply of `want` comes (TRIES seconds). 0 or -1. */
static int exchange(struct pmx_client *c, struct dhcp_state *st, uint8_t type, int want)
{
	for (int t = 0; t < TRIES; t++) {
		uint64_t until = rte_rdtsc() + rte_get_tsc_hz();

		if (send_dhcp(c, st, type) != 0)
			return -1;
		while (rte_rdtsc() < until) {
			struct rte_mbuf *pkts[32];
			uint16_t n = pmx_client_rx_burst(c, pkts, 32);
			int got = 0;

			for (uint16_t i = 0; i < n; i++) {
				int r = parse_reply(pkts[i], st);

				got = got ? got : (r == want ? r : 0);
			}
			rte_pktmbuf_free_bulk(pkts, n);
			if (got)
				return 0;
			if (n == 0)
				rte_delay_us_sleep(1000);
		}
	}
	return -1;
}

static unsigned send_from(struct pmx_client *c, const struct dhcp_state *st, uint32_t src,
			  uint32_t dst, uint16_t dport, unsigned count)
{
	char text[INET_ADDRSTRLEN], payload[48];
	unsigned sent = 0;

	inet_ntop(AF_INET, &src, text, sizeof(text));
	for (unsigned i = 0; i < count; i++) {
		int plen = snprintf(payload, sizeof(payload), "pmx-dhcp-client %s %u\n", text, i);
		struct rte_mbuf *m = udp_frame(c, &st->server_mac, src, dst, 4000, dport, payload,
					       (uint16_t)plen);

		if (m != NULL && pmx_client_tx_burst(c, &m, 1) == 1)
			sent++;
		else
			rte_pktmbuf_free(m);
	}
	printf("sent %u from %s\n", sent, text);
	return sent;
}

int main(int argc, char **argv)
{
	struct pmx_client_params params = {.name = "pmx-dhcp-client"};
	struct dhcp_state st = {0};
	struct pmx_client *c;
	uint32_t to = 0, other = 0;
	unsigned count = 3, port = 0;
	char text[INET_ADDRSTRLEN], mac[RTE_ETHER_ADDR_FMT_SIZE], buf[64];
	int opt, ret;

	while ((opt = getopt(argc, argv, "M:t:T:F:n:s:")) != -1) {
		switch (opt) {
		case 'M': params.mac = optarg; break;
		case 't': inet_pton(AF_INET, optarg, &to); break;
		case 'T': port = (unsigned)atoi(optarg); break;
		case 'F': inet_pton(AF_INET, optarg, &other); break;
		case 'n': count = (unsigned)atoi(optarg); break;
		case 's': params.socket_path = optarg; break;
		default: return 2;
		}
	}
	if (params.mac == NULL || to == 0 || port == 0 || port > 65535 || other == 0) {
		fprintf(stderr,
			"usage: %s -M MAC -t TO-IP -T TO-PORT -F OTHER-IP [-n COUNT] "
			"[-s SOCKET]\n",
			argv[0]);
		return 2;
	}
	ret = pmx_client_open(&params, &c);
	if (ret != 0) {
		fprintf(stderr, "pmx-dhcp-client: attach: %s\n", strerror(-ret));
		return 1;
	}
	st.xid = (uint32_t)rte_rdtsc();
	st.lease_s = UINT32_MAX;
	if (exchange(c, &st, 1, 2) != 0 || exchange(c, &st, 3, 5) != 0) {
		fprintf(stderr, "pmx-dhcp-client: no DHCP lease\n");
		pmx_client_close(c);
		return 1;
	}
	inet_ntop(AF_INET, &st.yiaddr, text, sizeof(text));
	rte_ether_format_addr(mac, sizeof(mac), &st.server_mac);
	printf("leased %s for %u s from %s\n", text, st.lease_s, mac);
	fflush(stdout);
	ret = send_from(c, &st, st.yiaddr, to, (uint16_t)port, count) == count &&
			      send_from(c, &st, other, to, (uint16_t)port, count) == count
		      ? 0
		      : 1;
	fflush(stdout);
	while (read(STDIN_FILENO, buf, sizeof(buf)) > 0)
		; /* attached until stdin closes */
	pmx_client_close(c);
	return ret;
}
