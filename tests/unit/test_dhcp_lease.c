/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_dhcp_lease.c - unit tests of the addresses a client with a MAC of its own gets by DHCP
 * (lib/control/dhcp_lease.c), on the control fixture (ctl_fixture.h).
 *
 * Covers, negative cases first:
 *  - pmx_dhcp_ack_parse(): not UDP 67 -> 68, truncated, not a reply, another chaddr, no magic,
 *    an option running past the frame, no message type, address 0 -> -EINVAL; an OFFER or
 *    a NAK -> -ENOMSG; an ACK -> its address and lease (UINT32_MAX without option 51)
 *  - an ACK refused (and counted, the client's addresses unchanged): the port's (kernel's)
 *    address, another own-MAC client's, a claimed one, a fifth address (the quota), an ACK
 *    for a client that left; an OFFER passes without giving an address
 *  - an ACK accepted: the slot's own addresses (what the TX lcore checks) grow, a renewal
 *    keeps one entry; hello without "addresses" attaches with none
 *  - lease end: pmx_dhcp_lease_age() takes back the expired address, keeps the others (the
 *    last moved over it) and the hello's; a new attach of the slot starts without leases
 */
#include <errno.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "ctl_fixture.h"
#include "cunit_run.h"

#define EXPECT(s, text, code) CU_ASSERT_STRING_EQUAL(fx_call((s), (text), NULL), (code))
#define MAC_A "02:00:00:00:00:20"
#define MAC_B "02:00:00:00:00:21"

static struct pmx_ctl_session *root, *user;

static int suite_init(void)
{
	return fx_setup_sessions(&root, &user);
}

static int suite_cleanup(void)
{
	return fx_teardown_sessions(root, user);
}

/* A DHCP reply from 198.18.0.2:67 to chaddr `mac`, yiaddr `ip`, message type `type`, lease
 * `lease_s` (0: no option 51) into buf; returns its length. */
static uint32_t dhcp_reply(uint8_t *buf, const char *mac, const char *ip, uint8_t type,
			   uint32_t lease_s)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)buf;
	struct rte_ipv4_hdr *iph = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(iph + 1);
	uint8_t *b = (uint8_t *)(udp + 1), *o = b + 240;
	struct rte_ether_addr chaddr;
	uint32_t yiaddr = 0, blen;

	rte_ether_unformat_addr(mac, &chaddr);
	inet_pton(AF_INET, ip, &yiaddr);
	memset(buf, 0, 600);
	eth->dst_addr = chaddr;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	b[0] = 2, b[1] = 1, b[2] = 6;
	memcpy(b + 16, &yiaddr, 4);
	memcpy(b + 28, chaddr.addr_bytes, 6);
	b[236] = 0x63, b[237] = 0x82, b[238] = 0x53, b[239] = 0x63;
	*o++ = 53, *o++ = 1, *o++ = type;
	if (lease_s != 0) {
		*o++ = 51, *o++ = 4;
		*o++ = lease_s >> 24, *o++ = lease_s >> 16, *o++ = lease_s >> 8, *o++ = lease_s;
	}
	*o++ = 255;
	blen = (uint32_t)(o - b);
	iph->version_ihl = RTE_IPV4_VHL_DEF;
	iph->total_length = htons((uint16_t)(sizeof(*iph) + sizeof(*udp) + blen));
	iph->time_to_live = 64;
	iph->next_proto_id = IPPROTO_UDP;
	inet_pton(AF_INET, "198.18.0.2", &iph->src_addr);
	iph->dst_addr = yiaddr;
	udp->src_port = RTE_BE16(67);
	udp->dst_port = RTE_BE16(68);
	udp->dgram_len = htons((uint16_t)(sizeof(*udp) + blen));
	return (uint32_t)(sizeof(*eth) + sizeof(*iph) + sizeof(*udp) + blen);
}

/* The frame as the RX lcore hands it over, through pmx_dhcp_lease_frame(). */
static bool lease_frame(int c, const char *mac, const char *ip, uint8_t type, uint32_t lease_s)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(F.sw.pool);
	uint8_t buf[600];
	uint32_t len = dhcp_reply(buf, mac, ip, type, lease_s);
	bool ok;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	memcpy(rte_pktmbuf_append(m, (uint16_t)len), buf, len);
	ok = pmx_dhcp_lease_frame(&F.ctl, (uint16_t)c, m);
	rte_pktmbuf_free(m);
	return ok;
}

static bool holds(int c, const char *ip)
{
	uint8_t key[16];

	pmx_addr_parse(ip, key);
	return pmx_own_mac_declared(&F.sw.clients[c], key);
}

static void test_parse(void)
{
	struct rte_ether_addr mac, other;
	uint8_t buf[600], ip[16], want[16];
	uint32_t len, lease;

	rte_ether_unformat_addr(MAC_A, &mac);
	rte_ether_unformat_addr(MAC_B, &other);
	len = dhcp_reply(buf, MAC_A, "198.18.0.100", 5, 0);
	CU_ASSERT_EQUAL(pmx_dhcp_ack_parse(buf, len, &other, ip, &lease), -EINVAL);
	CU_ASSERT_EQUAL(pmx_dhcp_ack_parse(buf, 14 + 20 + 8 + 200, &mac, ip, &lease), -EINVAL);
	buf[14 + 20 + 8] = 1; /* a request */
	CU_ASSERT_EQUAL(pmx_dhcp_ack_parse(buf, len, &mac, ip, &lease), -EINVAL);
	len = dhcp_reply(buf, MAC_A, "198.18.0.100", 5, 0);
	buf[14 + 20 + 8 + 236] = 0; /* no magic cookie */
	CU_ASSERT_EQUAL(pmx_dhcp_ack_parse(buf, len, &mac, ip, &lease), -EINVAL);
	len = dhcp_reply(buf, MAC_A, "198.18.0.100", 5, 0);
	buf[14 + 20 + 8 + 241] = 200; /* option 53 longer than the frame */
	CU_ASSERT_EQUAL(pmx_dhcp_ack_parse(buf, len, &mac, ip, &lease), -EINVAL);
	len = dhcp_reply(buf, MAC_A, "198.18.0.100", 5, 0);
	buf[14 + 20 + 8 + 240] = 0; /* pads, then a stray byte: no message type */
	buf[14 + 20 + 8 + 241] = 0;
	buf[14 + 20 + 8 + 242] = 0;
	CU_ASSERT_EQUAL(pmx_dhcp_ack_parse(buf, len, &mac, ip, &lease), -EINVAL);
	len = dhcp_reply(buf, MAC_A, "0.0.0.0", 5, 0);
	CU_ASSERT_EQUAL(pmx_dhcp_ack_parse(buf, len, &mac, ip, &lease), -EINVAL);
	len = dhcp_reply(buf, MAC_A, "198.18.0.100", 5, 0);
	buf[14 + 20 + 1] = 68; /* UDP 67 -> 68 no more: to port 68 from 68 */
	buf[14 + 20] = 0;
	CU_ASSERT_EQUAL(pmx_dhcp_ack_parse(buf, len, &mac, ip, &lease), -EINVAL);
	len = dhcp_reply(buf, MAC_A, "198.18.0.100", 2, 60); /* an OFFER */
	CU_ASSERT_EQUAL(pmx_dhcp_ack_parse(buf, len, &mac, ip, &lease), -ENOMSG);
	len = dhcp_reply(buf, MAC_A, "198.18.0.100", 6, 0); /* a NAK */
	CU_ASSERT_EQUAL(pmx_dhcp_ack_parse(buf, len, &mac, ip, &lease), -ENOMSG);

	len = dhcp_reply(buf, MAC_A, "198.18.0.100", 5, 0);
	CU_ASSERT_EQUAL(pmx_dhcp_ack_parse(buf, len, &mac, ip, &lease), 0);
	pmx_addr_parse("198.18.0.100", want);
	CU_ASSERT_EQUAL(memcmp(ip, want, 16), 0);
	CU_ASSERT_EQUAL(lease, UINT32_MAX);
	len = dhcp_reply(buf, MAC_A, "198.18.0.100", 5, 3600);
	CU_ASSERT_EQUAL(pmx_dhcp_ack_parse(buf, len, &mac, ip, &lease), 0);
	CU_ASSERT_EQUAL(lease, 3600);
}

static void test_leases(void)
{
	struct pmx_ctl_session *a = fx_session(true, 0), *b = fx_session(true, 0);
	uint64_t refused;
	int ca, cb;

	/* no addresses at hello: it gets them by DHCP */
	EXPECT(a, "{\"cmd\": \"hello\", \"name\": \"dhcp\", \"mac\": \"" MAC_A "\"}", "ok");
	EXPECT(b, "{\"cmd\": \"hello\", \"mac\": \"" MAC_B "\", \"addresses\": [\"198.18.0.11\"]}",
	       "ok");
	ca = a->client_id;
	cb = b->client_id;
	CU_ASSERT_EQUAL(F.sw.clients[ca].n_own_addrs, 0);
	CU_ASSERT(fx_hello(root, "claimer") >= 0);
	EXPECT(root, "{\"cmd\": \"claim_ip\", \"ip\": \"198.18.0.12\"}", "ok");

	/* refused: the kernel's, another client's, a claimed address; the frame is dropped */
	refused = F.ctl.dhcp_refused;
	CU_ASSERT(!lease_frame(ca, MAC_A, "198.18.0.1", 5, 60));
	CU_ASSERT(!lease_frame(ca, MAC_A, "198.18.0.11", 5, 60));
	CU_ASSERT(!lease_frame(ca, MAC_A, "198.18.0.12", 5, 60));
	CU_ASSERT_EQUAL(F.ctl.dhcp_refused - refused, 3);
	CU_ASSERT_EQUAL(F.sw.clients[ca].n_own_addrs, 0);
	/* an OFFER, an ACK to someone else's chaddr: delivered, no address */
	CU_ASSERT(lease_frame(ca, MAC_A, "198.18.0.100", 2, 60));
	CU_ASSERT(lease_frame(ca, MAC_B, "198.18.0.100", 5, 60));
	CU_ASSERT_EQUAL(F.sw.clients[ca].n_own_addrs, 0);

	/* accepted: the TX lcore's check sees it; a renewal keeps one entry */
	CU_ASSERT(lease_frame(ca, MAC_A, "198.18.0.100", 5, 3600));
	CU_ASSERT(holds(ca, "198.18.0.100"));
	CU_ASSERT(lease_frame(ca, MAC_A, "198.18.0.100", 5, 3600));
	CU_ASSERT_EQUAL(F.sw.clients[ca].n_own_addrs, 1);
	/* and it is taken: not another client's, not claimable */
	CU_ASSERT(!lease_frame(cb, MAC_B, "198.18.0.100", 5, 60));
	EXPECT(root, "{\"cmd\": \"claim_ip\", \"ip\": \"198.18.0.100\"}", "EADDRINUSE");
	/* the quota: 4 addresses */
	CU_ASSERT(lease_frame(ca, MAC_A, "198.18.0.101", 5, 0)); /* no lease time: no end */
	CU_ASSERT(lease_frame(ca, MAC_A, "198.18.0.102", 5, 1)); /* ends within a second */
	CU_ASSERT(lease_frame(ca, MAC_A, "198.18.0.103", 5, 3600));
	CU_ASSERT(!lease_frame(ca, MAC_A, "198.18.0.104", 5, 3600));
	CU_ASSERT_EQUAL(F.sw.clients[ca].n_own_addrs, 4);

	/* lease end: .102 goes, the last one (.103) takes its place, the others stay */
	pmx_dhcp_lease_age(&F.ctl);
	CU_ASSERT_EQUAL(F.sw.clients[ca].n_own_addrs, 4);
	rte_delay_ms(1100);
	pmx_dhcp_lease_age(&F.ctl);
	CU_ASSERT_EQUAL(F.sw.clients[ca].n_own_addrs, 3);
	CU_ASSERT(!holds(ca, "198.18.0.102"));
	CU_ASSERT(holds(ca, "198.18.0.100") && holds(ca, "198.18.0.101") &&
		  holds(ca, "198.18.0.103"));
	CU_ASSERT(holds(cb, "198.18.0.11")); /* the hello's address never ends */
	CU_ASSERT(lease_frame(ca, MAC_A, "198.18.0.104", 5, 3600)); /* room again */

	/* the client goes: its addresses with it; the slot's next attach has no lease */
	pmx_ctl_session_detach(&F.ctl, a);
	CU_ASSERT(!lease_frame(ca, MAC_A, "198.18.0.100", 5, 60)); /* it left */
	CU_ASSERT(lease_frame(cb, MAC_B, "198.18.0.100", 5, 60));  /* free for others */
	EXPECT(a, "{\"cmd\": \"hello\", \"mac\": \"" MAC_A "\"}", "ok");
	CU_ASSERT_EQUAL(F.sw.clients[a->client_id].n_own_addrs, 0);
	pmx_dhcp_lease_age(&F.ctl);
	CU_ASSERT_EQUAL(F.sw.clients[a->client_id].n_own_addrs, 0);
	pmx_ctl_session_detach(&F.ctl, root);
	fx_session_free(a);
	fx_session_free(b);
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"ACK parser", test_parse},
		{"leases", test_leases},
	};

	fx_eal_init("test_dhcp_lease");
	return cunit_run("dhcp_lease", suite_init, suite_cleanup, tests, RTE_DIM(tests));
}
