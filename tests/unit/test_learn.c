/* test_learn.c - unit tests of learned client connections (client TX -> management lcore) */
/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Covers learn.c through the learn rings of the fixture's worker, negative cases first:
 *  - a first frame from a port the kernel uses, or one another client listens on, or to a
 *    peer whose whole protocol another client matched (usnetd's AddMatch), is refused
 *    and leaves no rule and nothing held;
 *  - a learned connection's local port is held against the kernel (bind() gets EADDRINUSE)
 *    on a NIC port with a kernel path; a second connection from the same local port is
 *    learned too and shares the hold; the port is free again once the last of them is gone:
 *    aged out, released by the client, or with its client detached;
 *  - on a NIC port without a kernel path (lan1) connections are learned and nothing is held.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <CUnit/Basic.h>
#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "ctl_fixture.h"
#include "cunit_run.h"

#define EXPECT(s, text, code) CU_ASSERT_STRING_EQUAL(fx_call((s), (text), NULL), (code))

static int suite_init(void)
{
	return fx_setup();
}

static int suite_cleanup(void)
{
	return fx_teardown();
}

/* A fresh client session on NIC port `port`; its id in *id. */
static struct pmx_ctl_session *client(const char *port, int *id)
{
	struct pmx_ctl_session *s = fx_session(false, 1000);
	char text[96];
	json_t *res;

	snprintf(text, sizeof(text), "{\"cmd\": \"hello\", \"port\": \"%s\"}", port);
	CU_ASSERT_STRING_EQUAL_FATAL(fx_call(s, text, &res), "ok");
	*id = (int)json_integer_value(json_object_get(res, "client_id"));
	json_decref(res);
	return s;
}

/* An IPv4 TCP (SYN) or UDP frame src:sport -> dst:dport, as a client sends it. */
static struct rte_mbuf *frame(uint8_t proto, const char *src, uint16_t sport, const char *dst,
			      uint16_t dport)
{
	size_t l4 = proto == IPPROTO_TCP ? sizeof(struct rte_tcp_hdr) : sizeof(struct rte_udp_hdr);
	size_t len = sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) + l4;
	struct rte_mbuf *m = rte_pktmbuf_alloc(F.sw.pool);
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, (uint16_t)len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(eth);
	memset(eth, 0, len);
	eth->dst_addr.addr_bytes[0] = 0x02; /* the peer's, unicast */
	eth->dst_addr.addr_bytes[5] = 0x02;
	eth->src_addr.addr_bytes[0] = 0x02;
	eth->src_addr.addr_bytes[5] = 0x01;
	eth->ether_type = htons(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = htons((uint16_t)(sizeof(*ip) + l4));
	ip->time_to_live = 64;
	ip->next_proto_id = proto;
	CU_ASSERT_FATAL(inet_pton(AF_INET, src, &ip->src_addr) == 1);
	CU_ASSERT_FATAL(inet_pton(AF_INET, dst, &ip->dst_addr) == 1);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	if (proto == IPPROTO_TCP) {
		struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *)(ip + 1);

		tcp->src_port = htons(sport);
		tcp->dst_port = htons(dport);
		tcp->data_off = 5 << 4;
		tcp->tcp_flags = RTE_TCP_SYN_FLAG;
	} else {
		struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

		udp->src_port = htons(sport);
		udp->dst_port = htons(dport);
		udp->dgram_len = htons((uint16_t)l4);
	}
	return m;
}

/* Hand client id's first frame of a connection to the management lcore, as client_tx.c does,
 * and take it back. @return whether it was learned (may leave). */
static bool learn(int id, uint8_t proto, const char *src, uint16_t sport, const char *dst,
		  uint16_t dport)
{
	struct pmx_worker *w = F.sw.workers[0];
	struct rte_mbuf *m = frame(proto, src, sport, dst, dport);
	bool learned;

	PMX_LEARN_CLIENT(m) = (uint32_t)id;
	CU_ASSERT_FATAL(rte_ring_sp_enqueue(w->learn_req, m) == 0);
	CU_ASSERT_EQUAL(pmx_learn_poll(&F.ctl), 1);
	CU_ASSERT_FATAL(rte_ring_sc_dequeue(w->learn_ret, (void **)&m) == 0);
	learned = (PMX_LEARN_CLIENT(m) & PMX_LEARN_REFUSED) == 0;
	rte_pktmbuf_free(m);
	return learned;
}

/* The learned rules, and how many. */
static unsigned learned_rules(uint32_t *ids, unsigned cap)
{
	uint32_t limit = pmx_flow_table_id_limit(F.sw.ft);
	unsigned n = 0;

	for (uint32_t id = 0; id < limit; id++) {
		const struct pmx_rule *r = pmx_flow_table_rule(F.sw.ft, id);

		if (r != NULL && r->origin == PMX_ORIGIN_LEARNED && n < cap)
			ids[n++] = id;
	}
	return n;
}

/* Make learned rule id look idle for longer than any ageing limit. */
static void make_idle(uint32_t id)
{
	struct pmx_rule *r = (struct pmx_rule *)pmx_flow_table_rule(F.sw.ft, id);

	r->hits_seen = pmx_flow_table_hits(F.sw.ft, id);
	r->last_used = rte_rdtsc() - (UINT64_C(1) << 62);
}

static void test_refused(void)
{
	struct pmx_ctl_session *a, *b;
	uint32_t ids[4];
	int ida, idb, kfd;

	a = client("wan0", &ida);
	b = client("wan0", &idb);
	/* the kernel listens on TCP 42100 */
	kfd = fx_kernel_listen("0.0.0.0", 42100);
	CU_ASSERT_FATAL(kfd >= 0);
	CU_ASSERT_FALSE(learn(ida, IPPROTO_TCP, "198.18.0.1", 42100, "198.18.0.2", 80));
	close(kfd);
	/* b listens on UDP 42101 */
	EXPECT(b, "{\"cmd\": \"listen\", \"proto\": \"udp\", \"port\": 42101}", "ok");
	CU_ASSERT_FALSE(learn(ida, IPPROTO_UDP, "198.18.0.1", 42101, "198.18.0.2", 5000));
	/* b takes all UDP from 198.18.0.3 (usnetd's AddMatch without dst_port; an operator's
	 * session: a whole protocol takes the low ports too) */
	b->admin = true;
	EXPECT(b, "{\"AddMatch\": {\"dst_addr\": {\"Ipv4\": \"198.18.0.1\"}, \"src_addr\": "
		  "{\"Ipv4\": \"198.18.0.3\"}, \"protocol\": 17}}", "ok");
	CU_ASSERT_FALSE(learn(ida, IPPROTO_UDP, "198.18.0.1", 42103, "198.18.0.3", 5000));
	fx_session_free(b);
	/* not the client's address */
	CU_ASSERT_FALSE(learn(ida, IPPROTO_UDP, "198.18.0.9", 42102, "198.18.0.2", 5000));
	CU_ASSERT_EQUAL(learned_rules(ids, 4), 0);
	CU_ASSERT_EQUAL(a->n_rules, 0);
	CU_ASSERT_EQUAL(fx_bind_probe(SOCK_STREAM, "198.18.0.1", 42100), 0);
	CU_ASSERT_EQUAL(fx_bind_probe(SOCK_DGRAM, "198.18.0.1", 42101), 0);
	CU_ASSERT_EQUAL(fx_bind_probe(SOCK_DGRAM, "198.18.0.1", 42102), 0);
	fx_session_free(a);
}

static void test_held_until_aged(void)
{
	struct pmx_ctl_session *a;
	uint32_t ids[4];
	int id;

	a = client("wan0", &id);
	CU_ASSERT(learn(id, IPPROTO_UDP, "198.18.0.1", 42200, "198.18.0.2", 5000));
	CU_ASSERT_EQUAL(fx_bind_probe(SOCK_DGRAM, "198.18.0.1", 42200), -EADDRINUSE);
	CU_ASSERT_EQUAL(fx_bind_probe(SOCK_DGRAM, "0.0.0.0", 42200), -EADDRINUSE);
	CU_ASSERT_EQUAL(fx_bind_probe(SOCK_STREAM, "198.18.0.1", 42200), 0); /* UDP only */
	/* a second peer from the same local port: learned too, sharing the hold */
	CU_ASSERT(learn(id, IPPROTO_UDP, "198.18.0.1", 42200, "198.18.0.3", 5000));
	CU_ASSERT_EQUAL_FATAL(learned_rules(ids, 4), 2);
	CU_ASSERT_EQUAL(a->n_rules, 2);
	/* one ages out: the other still holds the port */
	pmx_learn_age(&F.ctl); /* both just used: nothing goes */
	CU_ASSERT_EQUAL(learned_rules(ids, 4), 2);
	make_idle(ids[0]);
	pmx_learn_age(&F.ctl);
	CU_ASSERT_EQUAL_FATAL(learned_rules(ids, 4), 1);
	CU_ASSERT_EQUAL(a->n_rules, 1);
	CU_ASSERT_EQUAL(fx_bind_probe(SOCK_DGRAM, "198.18.0.1", 42200), -EADDRINUSE);
	/* the last ages out: the kernel may have the port */
	make_idle(ids[0]);
	pmx_learn_age(&F.ctl);
	CU_ASSERT_EQUAL(learned_rules(ids, 4), 0);
	CU_ASSERT_EQUAL(a->n_rules, 0);
	CU_ASSERT_EQUAL(fx_bind_probe(SOCK_DGRAM, "198.18.0.1", 42200), 0);
	fx_session_free(a);
}

static void test_released_or_detached(void)
{
	struct pmx_ctl_session *a;
	uint32_t ids[4];
	char text[64];
	int id;

	/* released by the client */
	a = client("wan0", &id);
	CU_ASSERT(learn(id, IPPROTO_TCP, "198.18.0.1", 42300, "198.18.0.2", 80));
	CU_ASSERT_EQUAL(fx_bind_probe(SOCK_STREAM, "198.18.0.1", 42300), -EADDRINUSE);
	CU_ASSERT_EQUAL_FATAL(learned_rules(ids, 4), 1);
	snprintf(text, sizeof(text), "{\"cmd\": \"release\", \"rule_id\": %u}", ids[0]);
	EXPECT(a, text, "ok");
	CU_ASSERT_EQUAL(fx_bind_probe(SOCK_STREAM, "198.18.0.1", 42300), 0);
	/* its client detaches */
	CU_ASSERT(learn(id, IPPROTO_TCP, "198.18.0.1", 42301, "198.18.0.2", 80));
	CU_ASSERT_EQUAL(fx_bind_probe(SOCK_STREAM, "198.18.0.1", 42301), -EADDRINUSE);
	fx_session_free(a);
	CU_ASSERT_EQUAL(learned_rules(ids, 4), 0);
	CU_ASSERT_EQUAL(fx_bind_probe(SOCK_STREAM, "198.18.0.1", 42301), 0);
}

static void test_no_kernel_path(void)
{
	struct pmx_ctl_session *lan;
	uint32_t ids[4];
	int id;

	lan = client("lan1", &id);
	CU_ASSERT(learn(id, IPPROTO_UDP, "198.19.0.1", 42400, "198.19.0.2", 5000));
	CU_ASSERT_EQUAL(learned_rules(ids, 4), 1);
	CU_ASSERT_EQUAL(fx_bind_probe(SOCK_DGRAM, "198.19.0.1", 42400), 0);
	fx_session_free(lan);
	CU_ASSERT_EQUAL(learned_rules(ids, 4), 0);
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"refused: the kernel's, a listener's, not the client's address", test_refused},
		{"held against the kernel until aged out", test_held_until_aged},
		{"held until released or detached", test_released_or_detached},
		{"no kernel path: nothing held", test_no_kernel_path},
	};

	fx_eal_init("test_learn");
	return cunit_run("learn", suite_init, suite_cleanup, tests, RTE_DIM(tests));
}
