/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_flow_table.c - unit tests for the flow table (lib/flow/flow_table.c)
 *
 * Covers, negative cases first:
 *  - add with a kind the table does not hold, a duplicate key; delete of an unknown rule id
 *  - the lookup order on one frame: exact, listen on the address, listen on any address,
 *    owned IP; deleting each rule in turn uncovers the next (the stage skip of an emptied
 *    stage never hides a rule that is still there)
 *  - stage skipping per local port: a rule on port A never answers for port B; with two
 *    rules on one port, deleting one leaves the other found; re-adding after the last delete
 *  - a burst of 64 keys mixing every stage and misses, against single lookups
 *  - pmx_flow_key_reduce() against keys built field by field; pmx_flow_key_hash() against
 *    rte_hash_crc() over the same 40 bytes
 *  - hit counters per matched rule
 *  - usnetd's matches: peer (proto, local ip:port, remote ip) between exact and listen, the
 *    whole protocol from one peer and the whole protocol (ICMP echo of any identifier, TCP
 *    of any port) after listen and before owned IP; their stages skip other protocols
 *  - a port's only listen rule (found without the hash): wrong protocol, NIC port or address
 *    miss; a second rule on the port, deletes back to one and none, a new owner, and the hit
 *    counters, each stage against what the hash alone answers
 */
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <rte_hash_crc.h>

#include "ctl_fixture.h"
#include "cunit_run.h"
#include "flow_table.h"

#define UDP PMX_PROTO_UDP
#define TCP PMX_PROTO_TCP

static struct pmx_flow_table *ft;

static void ip4(uint8_t out[16], uint32_t host_order)
{
	uint8_t b[4] = {host_order >> 24, host_order >> 16, host_order >> 8, host_order};

	pmx_ip4_to_key(b, out);
}

/* An exact key as the parser makes it: remote 198.19.0.r:rport -> local 198.18.0.l:lport. */
static struct pmx_flow_key exact(uint8_t proto, unsigned l, uint16_t lport, unsigned r,
				 uint16_t rport)
{
	struct pmx_flow_key k;

	memset(&k, 0, sizeof(k));
	k.kind = PMX_KEY_EXACT;
	k.proto = proto;
	k.local_port = htons(lport);
	k.remote_port = htons(rport);
	ip4(k.local_ip, 0xc6120000u | l);
	ip4(k.remote_ip, 0xc6130000u | r);
	return k;
}

static struct pmx_flow_key listen_key(uint8_t proto, int l, uint16_t lport)
{
	struct pmx_flow_key k;

	memset(&k, 0, sizeof(k));
	k.kind = PMX_KEY_LISTEN;
	k.proto = proto;
	k.local_port = htons(lport);
	if (l >= 0)
		ip4(k.local_ip, 0xc6120000u | (unsigned)l);
	return k;
}

static struct pmx_flow_key ip_key(unsigned l)
{
	struct pmx_flow_key k;

	memset(&k, 0, sizeof(k));
	k.kind = PMX_KEY_IP;
	ip4(k.local_ip, 0xc6120000u | l);
	return k;
}

/* usnetd's AddMatch without src_port: a PEER key (lport set) or a PROTO key (lport zero);
 * r == 0 leaves the remote address any. */
static struct pmx_flow_key match_key(uint8_t proto, unsigned l, int lport, unsigned r)
{
	struct pmx_flow_key k;

	memset(&k, 0, sizeof(k));
	k.kind = lport >= 0 ? PMX_KEY_PEER : PMX_KEY_PROTO;
	k.proto = proto;
	k.local_port = lport >= 0 ? htons((uint16_t)lport) : 0;
	ip4(k.local_ip, 0xc6120000u | l);
	if (r != 0)
		ip4(k.remote_ip, 0xc6130000u | r);
	return k;
}

static uint16_t classify_one(const struct pmx_flow_key *k)
{
	const struct pmx_flow_key *keys[1] = {k};
	uint16_t owner;

	pmx_flow_table_classify_bulk(ft, 0, keys, 1, &owner);
	return owner;
}

static uint32_t add(const struct pmx_flow_key *k, uint16_t owner)
{
	uint32_t id = PMX_RULE_NONE;

	CU_ASSERT_EQUAL_FATAL(pmx_flow_table_add(ft, k, owner, PMX_ORIGIN_CLIENT, &id), 0);
	return id;
}

static int setup(void)
{
	ft = pmx_flow_table_create("test_flows", 4096, 1, SOCKET_ID_ANY);
	if (ft == NULL || pmx_flow_table_reader_register(ft, 0) != 0)
		return -1;
	return 0;
}

static int teardown(void)
{
	pmx_flow_table_reader_unregister(ft, 0);
	pmx_flow_table_destroy(ft);
	return 0;
}

/* Removes every rule, so each test starts from an empty table (the test thread is the only
 * reader: its quiescent state lets the table reuse the entries). */
static void empty_table(void)
{
	for (uint32_t id = 0; id < pmx_flow_table_id_limit(ft); id++)
		if (pmx_flow_table_rule(ft, id) != NULL)
			pmx_flow_table_del(ft, id);
	pmx_flow_table_quiescent(ft, 0);
	CU_ASSERT_EQUAL(pmx_flow_table_count(ft), 0);
}

/* ---- tests, negative first ---- */

static void test_bad_adds(void)
{
	struct pmx_flow_key k = exact(UDP, 1, 7, 1, 1000);
	uint32_t id, again;

	empty_table();
	k.kind = PMX_KEY_FRAG;
	CU_ASSERT_EQUAL(pmx_flow_table_add(ft, &k, 1, PMX_ORIGIN_CLIENT, &id), -EINVAL);
	k.kind = 0;
	CU_ASSERT_EQUAL(pmx_flow_table_add(ft, &k, 1, PMX_ORIGIN_CLIENT, &id), -EINVAL);
	k.kind = PMX_KEY_EXACT;
	id = add(&k, 1);
	CU_ASSERT_EQUAL(pmx_flow_table_add(ft, &k, 2, PMX_ORIGIN_CLIENT, &again), -EEXIST);
	CU_ASSERT_EQUAL(again, id);
	CU_ASSERT_EQUAL(pmx_flow_table_del(ft, id), 0);
	CU_ASSERT_EQUAL(pmx_flow_table_del(ft, id), -ENOENT);
	CU_ASSERT_EQUAL(pmx_flow_table_del(ft, pmx_flow_table_id_limit(ft)), -ENOENT);
	CU_ASSERT_EQUAL(classify_one(&k), PMX_OWNER_NONE);
}

/* One frame, four rules that could take it: each stage in turn, as rules go. */
static void test_stage_order(void)
{
	struct pmx_flow_key frame = exact(TCP, 1, 80, 9, 40000);
	struct pmx_flow_key lip = listen_key(TCP, 1, 80), lany = listen_key(TCP, -1, 80);
	struct pmx_flow_key owned = ip_key(1);
	uint32_t r_exact, r_lip, r_lany, r_ip;

	empty_table();
	CU_ASSERT_EQUAL(classify_one(&frame), PMX_OWNER_NONE);
	r_ip = add(&owned, 4);
	CU_ASSERT_EQUAL(classify_one(&frame), 4);
	r_lany = add(&lany, 3);
	CU_ASSERT_EQUAL(classify_one(&frame), 3);
	r_lip = add(&lip, 2);
	CU_ASSERT_EQUAL(classify_one(&frame), 2);
	r_exact = add(&frame, 1);
	CU_ASSERT_EQUAL(classify_one(&frame), 1);

	CU_ASSERT_EQUAL(pmx_flow_table_del(ft, r_exact), 0);
	CU_ASSERT_EQUAL(classify_one(&frame), 2);
	CU_ASSERT_EQUAL(pmx_flow_table_del(ft, r_lip), 0);
	CU_ASSERT_EQUAL(classify_one(&frame), 3);
	CU_ASSERT_EQUAL(pmx_flow_table_del(ft, r_lany), 0);
	CU_ASSERT_EQUAL(classify_one(&frame), 4);
	CU_ASSERT_EQUAL(pmx_flow_table_del(ft, r_ip), 0);
	CU_ASSERT_EQUAL(classify_one(&frame), PMX_OWNER_NONE);
	/* other protocols, addresses and ports were never taken */
	r_lany = add(&lany, 3);
	struct pmx_flow_key udp = exact(UDP, 1, 80, 9, 40000), other = exact(TCP, 2, 81, 9, 1);

	CU_ASSERT_EQUAL(classify_one(&udp), PMX_OWNER_NONE);
	CU_ASSERT_EQUAL(classify_one(&other), PMX_OWNER_NONE);
}

/* usnetd's matches take their places in the order: exact, peer, listen, whole protocol from
 * a peer, whole protocol, owned IP. */
static void test_protocol_wide_order(void)
{
	struct pmx_flow_key frame = exact(TCP, 1, 80, 9, 40000),
			    other_peer = exact(TCP, 1, 81, 8, 1);
	struct pmx_flow_key peer = match_key(TCP, 1, 80, 9), lip = listen_key(TCP, 1, 80);
	struct pmx_flow_key proto_peer = match_key(TCP, 1, -1, 9), proto = match_key(TCP, 1, -1, 0);
	struct pmx_flow_key owned = ip_key(1), udp = exact(UDP, 1, 80, 9, 40000);
	struct pmx_flow_key echo = exact(PMX_PROTO_ICMP, 1, 0x1234, 9, 0), icmp;
	uint32_t r_peer, r_icmp;

	empty_table();
	add(&owned, 6);
	add(&proto, 5);
	CU_ASSERT_EQUAL(classify_one(&frame), 5);
	CU_ASSERT_EQUAL(classify_one(&other_peer), 5); /* any port, any peer */
	CU_ASSERT_EQUAL(classify_one(&udp), 6);        /* another protocol: the address's */
	add(&proto_peer, 4);
	CU_ASSERT_EQUAL(classify_one(&frame), 4);
	CU_ASSERT_EQUAL(classify_one(&other_peer), 5); /* not from that peer */
	add(&lip, 3);
	CU_ASSERT_EQUAL(classify_one(&frame), 3);
	r_peer = add(&peer, 2);
	CU_ASSERT_EQUAL(classify_one(&frame), 2);
	add(&frame, 1);
	CU_ASSERT_EQUAL(classify_one(&frame), 1);
	empty_table();
	r_peer = add(&peer, 2);
	CU_ASSERT_EQUAL(classify_one(&frame), 2);
	CU_ASSERT_EQUAL(classify_one(&other_peer), PMX_OWNER_NONE);
	CU_ASSERT_EQUAL(pmx_flow_table_del(ft, r_peer), 0);
	CU_ASSERT_EQUAL(classify_one(&frame), PMX_OWNER_NONE);

	/* a ping responder: ICMP echo of every identifier to the address */
	icmp = match_key(PMX_PROTO_ICMP, 1, -1, 0);
	r_icmp = add(&icmp, 7);
	CU_ASSERT_EQUAL(classify_one(&echo), 7);
	echo.local_port = htons(1);
	CU_ASSERT_EQUAL(classify_one(&echo), 7);
	CU_ASSERT_EQUAL(classify_one(&frame), PMX_OWNER_NONE); /* TCP is not ICMP */
	CU_ASSERT_EQUAL(pmx_flow_table_del(ft, r_icmp), 0);
	CU_ASSERT_EQUAL(classify_one(&echo), PMX_OWNER_NONE);
	struct pmx_flow_key got;

	pmx_flow_key_reduce(&frame, PMX_KEY_PROTO, 1, &got);
	CU_ASSERT_EQUAL(memcmp(&got, &proto, sizeof(got)), 0);
	pmx_flow_key_reduce(&frame, PMX_KEY_PROTO, 0, &got);
	CU_ASSERT_EQUAL(memcmp(&got, &proto_peer, sizeof(got)), 0);
	pmx_flow_key_reduce(&frame, PMX_KEY_PEER, 0, &got);
	CU_ASSERT_EQUAL(memcmp(&got, &peer, sizeof(got)), 0);
}

/* Rules are looked up only on ports that have some: the per-port counts behind that. */
static void test_port_skipping(void)
{
	struct pmx_flow_key a1 = exact(UDP, 1, 5000, 1, 1), a2 = exact(UDP, 1, 5000, 2, 2);
	struct pmx_flow_key b1 = exact(UDP, 1, 5001, 1, 1);
	/* ports 5000 and 5000 + 64 share nothing but the bitmap word's neighbourhood */
	struct pmx_flow_key c1 = exact(UDP, 1, 5064, 1, 1);
	uint32_t ra1, ra2, rc1;

	empty_table();
	ra1 = add(&a1, 1);
	ra2 = add(&a2, 2);
	rc1 = add(&c1, 3);
	CU_ASSERT_EQUAL(classify_one(&a1), 1);
	CU_ASSERT_EQUAL(classify_one(&a2), 2);
	CU_ASSERT_EQUAL(classify_one(&b1), PMX_OWNER_NONE);
	CU_ASSERT_EQUAL(pmx_flow_table_del(ft, ra1), 0);
	CU_ASSERT_EQUAL(classify_one(&a1), PMX_OWNER_NONE);
	CU_ASSERT_EQUAL(classify_one(&a2), 2); /* port 5000 still has a rule */
	CU_ASSERT_EQUAL(pmx_flow_table_del(ft, ra2), 0);
	CU_ASSERT_EQUAL(classify_one(&a2), PMX_OWNER_NONE);
	CU_ASSERT_EQUAL(classify_one(&c1), 3);
	pmx_flow_table_quiescent(ft, 0);
	ra2 = add(&a2, 5); /* the port's first rule again */
	CU_ASSERT_EQUAL(classify_one(&a2), 5);
	CU_ASSERT_EQUAL(pmx_flow_table_del(ft, rc1), 0);
	CU_ASSERT_EQUAL(classify_one(&a2), 5);
	CU_ASSERT_EQUAL(classify_one(&c1), PMX_OWNER_NONE);
}

/* A burst of 64 keys over every stage gives what 64 single lookups give. */
static void test_bulk_matches_single(void)
{
	struct pmx_flow_key keys[64], lk;
	const struct pmx_flow_key *kp[64];
	uint16_t owner[64];
	uint32_t seed = 12345;

	empty_table();
	for (unsigned p = 0; p < 8; p++) {
		lk = listen_key(UDP, p % 2 ? 1 : -1, (uint16_t)(6000 + p));
		add(&lk, (uint16_t)(10 + p));
	}
	lk = ip_key(3);
	add(&lk, 30);
	for (unsigned i = 0; i < 64; i++) {
		seed = seed * 1103515245u + 12345u;
		keys[i] = exact(UDP, 1 + (seed >> 8) % 3, (uint16_t)(6000 + (seed >> 12) % 10),
				(seed >> 16) % 4, 9);
		if (i % 5 == 0 && pmx_flow_table_find(ft, &keys[i]) == PMX_RULE_NONE)
			add(&keys[i], (uint16_t)(40 + i));
		kp[i] = &keys[i];
	}
	pmx_flow_table_classify_bulk(ft, 0, kp, 64, owner);
	unsigned differ = 0, matched = 0;

	for (unsigned i = 0; i < 64; i++) {
		differ += owner[i] != classify_one(&keys[i]);
		matched += owner[i] != PMX_OWNER_NONE;
	}
	CU_ASSERT_EQUAL(differ, 0);
	CU_ASSERT(matched > 13 && matched < 64); /* every stage and misses were exercised */
}

static void test_reduce_and_hash(void)
{
	struct pmx_flow_key e = exact(TCP, 7, 443, 8, 51000), got, want;

	e.port_id = 3;
	pmx_flow_key_reduce(&e, PMX_KEY_EXACT, 0, &got);
	CU_ASSERT_EQUAL(memcmp(&got, &e, sizeof(e)), 0);

	want = listen_key(TCP, 7, 443);
	want.port_id = 3;
	pmx_flow_key_reduce(&e, PMX_KEY_LISTEN, 0, &got);
	CU_ASSERT_EQUAL(memcmp(&got, &want, sizeof(want)), 0);

	want = listen_key(TCP, -1, 443);
	want.port_id = 3;
	pmx_flow_key_reduce(&e, PMX_KEY_LISTEN, 1, &got);
	CU_ASSERT_EQUAL(memcmp(&got, &want, sizeof(want)), 0);

	want = ip_key(7);
	want.port_id = 3;
	pmx_flow_key_reduce(&e, PMX_KEY_IP, 0, &got);
	CU_ASSERT_EQUAL(memcmp(&got, &want, sizeof(want)), 0);

	uint32_t seed = 99, differ = 0;

	for (unsigned i = 0; i < 1000; i++) {
		uint8_t *b = (uint8_t *)&got;

		for (unsigned j = 0; j < sizeof(got); j++) {
			seed = seed * 1103515245u + 12345u;
			b[j] = (uint8_t)(seed >> 16);
		}
		differ += pmx_flow_key_hash(&got) != rte_hash_crc(&got, sizeof(got), 0);
	}
	CU_ASSERT_EQUAL(differ, 0);
}

static void test_hits(void)
{
	struct pmx_flow_key a = exact(UDP, 1, 7, 1, 1), b = exact(UDP, 1, 7, 2, 2);
	struct pmx_flow_key l = listen_key(UDP, -1, 7);
	uint32_t ra, rl;

	empty_table();
	ra = add(&a, 1);
	rl = add(&l, 2);
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(classify_one(&a), 1);
	for (int i = 0; i < 5; i++)
		CU_ASSERT_EQUAL(classify_one(&b), 2);
	CU_ASSERT_EQUAL(pmx_flow_table_hits(ft, ra), 3);
	CU_ASSERT_EQUAL(pmx_flow_table_hits(ft, rl), 5);
}

/* The stage's rules of one port, as they come and go, found as the hash alone would. */
static void direct_stage(int l)
{
	struct pmx_flow_key udp = listen_key(UDP, l, 53), tcp = listen_key(TCP, l, 53);
	struct pmx_flow_key f_udp = exact(UDP, 1, 53, 9, 4000), f_tcp = exact(TCP, 1, 53, 9, 4000);
	struct pmx_flow_key f_port1 = f_udp, f_other_ip = exact(UDP, 2, 53, 9, 4000);
	struct pmx_flow_key f_other_port = exact(UDP, 1, 54, 9, 4000);
	uint32_t r_udp, r_tcp;

	empty_table();
	f_port1.port_id = 1;
	r_udp = add(&udp, 7); /* the port's only rule of the stage */
	CU_ASSERT_EQUAL(classify_one(&f_udp), 7);
	CU_ASSERT_EQUAL(classify_one(&f_tcp), PMX_OWNER_NONE);
	CU_ASSERT_EQUAL(classify_one(&f_port1), PMX_OWNER_NONE);
	CU_ASSERT_EQUAL(classify_one(&f_other_ip), l < 0 ? 7 : PMX_OWNER_NONE);
	CU_ASSERT_EQUAL(classify_one(&f_other_port), PMX_OWNER_NONE);
	CU_ASSERT_EQUAL(pmx_flow_table_hits(ft, r_udp), l < 0 ? 2 : 1);
	CU_ASSERT_EQUAL(pmx_flow_table_set_owner(ft, r_udp, 8), 0);
	CU_ASSERT_EQUAL(classify_one(&f_udp), 8);

	r_tcp = add(&tcp, 9); /* two rules: the hash */
	CU_ASSERT_EQUAL(classify_one(&f_udp), 8);
	CU_ASSERT_EQUAL(classify_one(&f_tcp), 9);
	CU_ASSERT_EQUAL(classify_one(&f_port1), PMX_OWNER_NONE);
	CU_ASSERT_EQUAL(pmx_flow_table_del(ft, r_udp), 0); /* one left, through the hash */
	CU_ASSERT_EQUAL(classify_one(&f_udp), PMX_OWNER_NONE);
	CU_ASSERT_EQUAL(classify_one(&f_tcp), 9);
	CU_ASSERT_EQUAL(pmx_flow_table_set_owner(ft, r_tcp, 10), 0);
	CU_ASSERT_EQUAL(classify_one(&f_tcp), 10);
	CU_ASSERT_EQUAL(pmx_flow_table_del(ft, r_tcp), 0);
	CU_ASSERT_EQUAL(classify_one(&f_tcp), PMX_OWNER_NONE);
	pmx_flow_table_quiescent(ft, 0);
	r_tcp = add(&tcp, 11); /* the port's first rule again */
	CU_ASSERT_EQUAL(classify_one(&f_tcp), 11);
	CU_ASSERT_EQUAL(classify_one(&f_udp), PMX_OWNER_NONE);
	CU_ASSERT_EQUAL(pmx_flow_table_hits(ft, r_tcp), 1);
}

static void test_direct_listen(void)
{
	direct_stage(1);  /* listen on 198.18.0.1 */
	direct_stage(-1); /* listen on any address */
}

int main(int argc, char **argv)
{
	static const struct cunit_test tests[] = {
		{"bad adds and deletes", test_bad_adds},
		{"stage order", test_stage_order},
		{"stage skipping per port", test_port_skipping},
		{"usnetd matches: peer and protocol-wide", test_protocol_wide_order},
		{"bulk = single lookups", test_bulk_matches_single},
		{"key reduce and hash", test_reduce_and_hash},
		{"hit counters", test_hits},
		{"a port's only listen rule", test_direct_listen},
	};

	(void)argc;
	fx_eal_init(argv[0]);
	return cunit_run("flow_table", setup, teardown, tests, RTE_DIM(tests));
}
