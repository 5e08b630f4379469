/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_offload.c - unit tests for the rte_flow offload (lib/ports/flow_offload.c)
 *
 * Covers, negative cases first:
 *  - pmx_offload_mark_owner(): no FDIR flags, FDIR without an id, an owner beyond
 *    clients_max, a free slot, a closing slot, a stale generation -> PMX_OWNER_NONE (look it
 *    up); a current mark -> the owner
 *  - pmx_offload_build(): owned-IP and fragment keys, ICMP/UDP-Lite/DCCP/GRE -> -ENOTSUP; a
 *    bad family, an address of the other family, 0 or too many queues -> -EINVAL; then the
 *    items and actions of an IPv4 UDP connect rule (addresses, ports, full masks, MARK id, RSS
 *    over 2 queues with the symmetric 0x6d5a key), an IPv6 TCP listen rule (destination only),
 *    a listen rule on any address in both families (no IP spec), SCTP, and QUEUE 0 for one
 *    queue
 *  - the probe through pmx_ports_init() on PMDs without rte_flow: net_null and net_ring
 *    report "software" with the validate step named (not net_memif: closing a memif server
 *    port frees its listener's interrupt handle while the EAL interrupt thread still polls
 *    it, DPDK 22.11 memif_socket_remove_device(), a crash under MALLOC_PERTURB_); with an
 *    interface given on the command line (run inside a private network namespace by
 *    tests/suites/stress.sh): net_af_packet (no rte_flow: ENOSYS) and net_tap (rte_flow
 *    without MARK: validate refuses, with one queue and with two)
 *  - the rule hooks on a software port: nothing installed, nothing counted, close is safe
 *
 * usage: test_offload [VETH-IFACE]   (with VETH-IFACE: also af_packet on it, and a TAP)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "flow_offload.h"
#include "port_setup.h"

#define N_SLOTS 4

static const char *veth; /* an interface af_packet may take, or NULL */
static struct rte_mempool *pool;
static struct pmx_client_slot slots[N_SLOTS];

/* ---- pmx_offload_mark_owner ---- */

static struct pmx_switch mark_switch(void)
{
	struct pmx_switch sw = {.clients_max = N_SLOTS, .clients = slots};

	memset(slots, 0, sizeof(slots));
	slots[2].state = PMX_SLOT_ACTIVE;
	slots[2].generation = 7;
	slots[3].state = PMX_SLOT_CLOSING;
	slots[3].generation = 1;
	return sw;
}

static uint16_t owner_of(const struct pmx_switch *sw, uint64_t flags, uint32_t mark)
{
	struct rte_mbuf m;

	memset(&m, 0, sizeof(m));
	m.ol_flags = flags;
	m.hash.fdir.hi = mark;
	return pmx_offload_mark_owner(sw, &m);
}

static void test_mark_rejects(void)
{
	struct pmx_switch sw = mark_switch();
	const uint64_t both = RTE_MBUF_F_RX_FDIR | RTE_MBUF_F_RX_FDIR_ID;

	CU_ASSERT_EQUAL(owner_of(&sw, 0, pmx_offload_mark(2, 7)), PMX_OWNER_NONE);
	CU_ASSERT_EQUAL(owner_of(&sw, RTE_MBUF_F_RX_FDIR, pmx_offload_mark(2, 7)), PMX_OWNER_NONE);
	CU_ASSERT_EQUAL(owner_of(&sw, both, pmx_offload_mark(N_SLOTS, 0)), PMX_OWNER_NONE);
	CU_ASSERT_EQUAL(owner_of(&sw, both, pmx_offload_mark(0, 0)), PMX_OWNER_NONE); /* free */
	CU_ASSERT_EQUAL(owner_of(&sw, both, pmx_offload_mark(3, 1)), PMX_OWNER_NONE); /* closing */
	CU_ASSERT_EQUAL(owner_of(&sw, both, pmx_offload_mark(2, 6)), PMX_OWNER_NONE); /* stale */
}

static void test_mark_accepts(void)
{
	struct pmx_switch sw = mark_switch();
	const uint64_t both = RTE_MBUF_F_RX_FDIR | RTE_MBUF_F_RX_FDIR_ID;

	CU_ASSERT_EQUAL(owner_of(&sw, both, pmx_offload_mark(2, 7)), 2);
	CU_ASSERT(pmx_offload_mark(255, 0xffffffffu) <= 0xffffffu); /* fits a 24-bit MARK */
	slots[2].generation = 8; /* re-attached: the old mark is stale, the new one counts */
	CU_ASSERT_EQUAL(owner_of(&sw, both, pmx_offload_mark(2, 7)), PMX_OWNER_NONE);
	CU_ASSERT_EQUAL(owner_of(&sw, both, pmx_offload_mark(2, 8)), 2);
}

/* ---- pmx_offload_build ---- */

static void v4(uint8_t ip[16], uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	memset(ip, 0, 16);
	ip[10] = ip[11] = 0xff;
	ip[12] = a, ip[13] = b, ip[14] = c, ip[15] = d;
}

static void v6(uint8_t ip[16], uint8_t last)
{
	memset(ip, 0, 16);
	ip[0] = 0xfd;
	ip[15] = last;
}

static struct pmx_flow_key key_of(enum pmx_key_kind kind, uint8_t proto)
{
	struct pmx_flow_key k = {.kind = (uint8_t)kind, .proto = proto};

	v4(k.local_ip, 198, 18, 0, 1);
	k.local_port = rte_cpu_to_be_16(7);
	if (kind == PMX_KEY_EXACT) {
		v4(k.remote_ip, 198, 18, 0, 2);
		k.remote_port = rte_cpu_to_be_16(40000);
	}
	return k;
}

static void test_build_rejects(void)
{
	static const uint8_t protos[] = {PMX_PROTO_ICMP, PMX_PROTO_ICMPV6, PMX_PROTO_UDPLITE,
					 PMX_PROTO_DCCP, 47};
	struct pmx_offload_spec spec;
	struct pmx_flow_key k;

	k = key_of(PMX_KEY_IP, 0);
	CU_ASSERT_EQUAL(pmx_offload_build(&k, 4, 1, 1, &spec), -ENOTSUP);
	k = key_of(PMX_KEY_FRAG, PMX_PROTO_UDP);
	CU_ASSERT_EQUAL(pmx_offload_build(&k, 4, 1, 1, &spec), -ENOTSUP);
	for (unsigned i = 0; i < RTE_DIM(protos); i++) {
		k = key_of(PMX_KEY_LISTEN, protos[i]);
		CU_ASSERT_EQUAL(pmx_offload_build(&k, 4, 1, 1, &spec), -ENOTSUP);
	}
	k = key_of(PMX_KEY_LISTEN, PMX_PROTO_UDP);
	CU_ASSERT_EQUAL(pmx_offload_build(&k, 5, 1, 1, &spec), -EINVAL);
	CU_ASSERT_EQUAL(pmx_offload_build(&k, 6, 1, 1, &spec), -EINVAL); /* a v4 address */
	CU_ASSERT_EQUAL(pmx_offload_build(&k, 4, 1, 0, &spec), -EINVAL);
	CU_ASSERT_EQUAL(pmx_offload_build(&k, 4, 1, PMX_OFFLOAD_MAX_QUEUES + 1, &spec), -EINVAL);
	v6(k.local_ip, 1);
	CU_ASSERT_EQUAL(pmx_offload_build(&k, 4, 1, 1, &spec), -EINVAL); /* a v6 address */
}

static void test_build_v4_connect_udp(void)
{
	struct pmx_flow_key k = key_of(PMX_KEY_EXACT, PMX_PROTO_UDP);
	struct pmx_offload_spec s;
	const struct rte_flow_item_ipv4 *ip, *ipm;
	const struct rte_flow_item_udp *udp, *udpm;
	const struct rte_flow_action_rss *rss;

	CU_ASSERT_EQUAL_FATAL(pmx_offload_build(&k, 4, 0x123456, 2, &s), 0);
	CU_ASSERT(s.attr.ingress == 1 && s.attr.egress == 0);
	CU_ASSERT_EQUAL(s.pattern[0].type, RTE_FLOW_ITEM_TYPE_ETH);
	CU_ASSERT_PTR_NULL(s.pattern[0].spec);
	CU_ASSERT_EQUAL_FATAL(s.pattern[1].type, RTE_FLOW_ITEM_TYPE_IPV4);
	ip = s.pattern[1].spec;
	ipm = s.pattern[1].mask;
	CU_ASSERT_FATAL(ip != NULL && ipm != NULL);
	CU_ASSERT(memcmp(&ip->hdr.dst_addr, &k.local_ip[12], 4) == 0);  /* from the wire: */
	CU_ASSERT(memcmp(&ip->hdr.src_addr, &k.remote_ip[12], 4) == 0); /* local = dst */
	CU_ASSERT(ipm->hdr.dst_addr == UINT32_MAX && ipm->hdr.src_addr == UINT32_MAX);
	CU_ASSERT(ipm->hdr.next_proto_id == 0 && ipm->hdr.type_of_service == 0);
	CU_ASSERT_EQUAL_FATAL(s.pattern[2].type, RTE_FLOW_ITEM_TYPE_UDP);
	udp = s.pattern[2].spec;
	udpm = s.pattern[2].mask;
	CU_ASSERT(udp->hdr.dst_port == k.local_port && udp->hdr.src_port == k.remote_port);
	CU_ASSERT(udpm->hdr.dst_port == UINT16_MAX && udpm->hdr.src_port == UINT16_MAX);
	CU_ASSERT_EQUAL(s.pattern[3].type, RTE_FLOW_ITEM_TYPE_END);

	CU_ASSERT_EQUAL_FATAL(s.actions[0].type, RTE_FLOW_ACTION_TYPE_MARK);
	CU_ASSERT_EQUAL(((const struct rte_flow_action_mark *)s.actions[0].conf)->id, 0x123456);
	CU_ASSERT_EQUAL_FATAL(s.actions[1].type, RTE_FLOW_ACTION_TYPE_RSS);
	rss = s.actions[1].conf;
	CU_ASSERT_EQUAL(rss->queue_num, 2);
	CU_ASSERT(rss->queue[0] == 0 && rss->queue[1] == 1);
	CU_ASSERT_EQUAL_FATAL(rss->key_len, 40);
	for (unsigned i = 0; i < rss->key_len; i++)
		CU_ASSERT_EQUAL(rss->key[i], i % 2 ? 0x5a : 0x6d);
	CU_ASSERT(rss->types & RTE_ETH_RSS_UDP);
	CU_ASSERT_EQUAL(s.actions[2].type, RTE_FLOW_ACTION_TYPE_END);
}

static void test_build_v6_listen_tcp(void)
{
	struct pmx_flow_key k = key_of(PMX_KEY_LISTEN, PMX_PROTO_TCP);
	struct pmx_offload_spec s;
	const struct rte_flow_item_ipv6 *ip, *ipm;
	const struct rte_flow_item_tcp *tcp, *tcpm;
	static const uint8_t zero[16];

	v6(k.local_ip, 1);
	CU_ASSERT_EQUAL_FATAL(pmx_offload_build(&k, 6, 9, 1, &s), 0);
	CU_ASSERT_EQUAL_FATAL(s.pattern[1].type, RTE_FLOW_ITEM_TYPE_IPV6);
	ip = s.pattern[1].spec;
	ipm = s.pattern[1].mask;
	CU_ASSERT(memcmp(ip->hdr.dst_addr, k.local_ip, 16) == 0);
	CU_ASSERT(memcmp(ipm->hdr.src_addr, zero, 16) == 0); /* listen: any remote */
	for (unsigned i = 0; i < 16; i++)
		CU_ASSERT_EQUAL(ipm->hdr.dst_addr[i], 0xff);
	CU_ASSERT_EQUAL_FATAL(s.pattern[2].type, RTE_FLOW_ITEM_TYPE_TCP);
	tcp = s.pattern[2].spec;
	tcpm = s.pattern[2].mask;
	CU_ASSERT(tcp->hdr.dst_port == k.local_port && tcpm->hdr.dst_port == UINT16_MAX);
	CU_ASSERT(tcpm->hdr.src_port == 0 && tcpm->hdr.tcp_flags == 0);
	/* one queue: QUEUE 0 instead of RSS */
	CU_ASSERT_EQUAL_FATAL(s.actions[1].type, RTE_FLOW_ACTION_TYPE_QUEUE);
	CU_ASSERT_EQUAL(((const struct rte_flow_action_queue *)s.actions[1].conf)->index, 0);
}

static void test_build_any_address_and_sctp(void)
{
	struct pmx_flow_key k = key_of(PMX_KEY_LISTEN, PMX_PROTO_UDP);
	struct pmx_offload_spec s;
	const struct rte_flow_item_sctp *sctp;

	memset(k.local_ip, 0, 16);
	CU_ASSERT_EQUAL_FATAL(pmx_offload_build(&k, 4, 1, 2, &s), 0);
	CU_ASSERT(s.pattern[1].type == RTE_FLOW_ITEM_TYPE_IPV4 && s.pattern[1].spec == NULL);
	CU_ASSERT_EQUAL_FATAL(pmx_offload_build(&k, 6, 1, 2, &s), 0);
	CU_ASSERT(s.pattern[1].type == RTE_FLOW_ITEM_TYPE_IPV6 && s.pattern[1].spec == NULL);
	CU_ASSERT_EQUAL(s.pattern[2].type, RTE_FLOW_ITEM_TYPE_UDP);

	k = key_of(PMX_KEY_EXACT, PMX_PROTO_SCTP);
	CU_ASSERT_EQUAL_FATAL(pmx_offload_build(&k, 4, 1, 2, &s), 0);
	CU_ASSERT_EQUAL_FATAL(s.pattern[2].type, RTE_FLOW_ITEM_TYPE_SCTP);
	sctp = s.pattern[2].spec;
	CU_ASSERT(sctp->hdr.dst_port == k.local_port && sctp->hdr.src_port == k.remote_port);
}

/* ---- the probe, through port start-up ---- */

struct probe_case {
	struct pmx_config cfg;
	struct pmx_switch sw;
	char err[256];
};

/* Start one NIC port (no kernel path) with `queues` RX lcores' worth of queues. */
static int start_port(struct probe_case *c, const char *devargs, unsigned queues)
{
	memset(c, 0, sizeof(*c));
	c->cfg.n_ports = 1;
	snprintf(c->cfg.ports[0].name, sizeof(c->cfg.ports[0].name), "ofl");
	snprintf(c->cfg.ports[0].device, sizeof(c->cfg.ports[0].device), "%s", devargs);
	c->cfg.ports[0].rx_queues = (uint16_t)queues;
	c->cfg.ports[0].exc_type = PMX_EXC_NONE;
	c->sw.cfg = &c->cfg;
	c->sw.pool = pool;
	c->sw.n_workers = queues;
	c->sw.clients_max = N_SLOTS;
	c->sw.clients = slots;
	c->sw.ft = pmx_flow_table_create("ofl_flows", 64, 2, SOCKET_ID_ANY);
	if (c->sw.ft == NULL)
		return -ENOMEM;
	return pmx_ports_init(&c->sw, &c->cfg, c->err, sizeof(c->err));
}

/* Stop, close and remove the port's device (a later case may probe the same driver). */
static void stop_port(struct probe_case *c)
{
	struct rte_eth_dev_info info;
	struct rte_device *dev = NULL;

	if (c->sw.n_ports > 0 && rte_eth_dev_info_get(c->sw.ports[0].nic, &info) == 0)
		dev = info.device;
	pmx_ports_close(&c->sw);
	if (dev != NULL)
		rte_dev_remove(dev);
	pmx_flow_table_destroy(c->sw.ft);
}

/* The port must run in software mode, its note naming `stage`; the hooks must do nothing. */
static void expect_software(const char *devargs, unsigned queues, const char *stage)
{
	static struct probe_case c;
	struct pmx_flow_key k = key_of(PMX_KEY_LISTEN, PMX_PROTO_UDP);
	uint64_t installed, created, failed;
	uint32_t rule;
	int ret = start_port(&c, devargs, queues);

	printf("\n    %s, %u queue(s): %s (%s) ", devargs, queues,
	       pmx_offload_mode_name(c.sw.ports[0].offload), c.sw.ports[0].offload_note);
	CU_ASSERT_EQUAL_FATAL(ret, 0);
	CU_ASSERT_EQUAL(c.sw.ports[0].offload, PMX_OFFLOAD_SOFTWARE);
	CU_ASSERT_STRING_EQUAL(pmx_offload_mode_name(c.sw.ports[0].offload), "software");
	CU_ASSERT_PTR_NOT_NULL(strstr(c.sw.ports[0].offload_note, stage));
	CU_ASSERT_PTR_NULL(c.sw.offload);

	slots[0].state = PMX_SLOT_ACTIVE;
	CU_ASSERT_EQUAL_FATAL(pmx_flow_table_add(c.sw.ft, &k, 0, PMX_ORIGIN_CLIENT, &rule), 0);
	pmx_offload_rule_added(&c.sw, rule);
	pmx_offload_rule_removed(&c.sw, rule);
	pmx_offload_rule_removed(&c.sw, UINT32_MAX);
	pmx_offload_owner_removed(&c.sw, 0);
	pmx_offload_counts(&c.sw, &installed, &created, &failed);
	CU_ASSERT(installed == 0 && created == 0 && failed == 0);
	slots[0].state = PMX_SLOT_FREE;
	stop_port(&c);
	CU_ASSERT_PTR_NULL(c.sw.offload);
}

static void test_probe_null(void)
{
	expect_software("net_null0", 2, "rte_flow_validate");
}

static void test_probe_ring(void)
{
	expect_software("net_ring0", 2, "rte_flow_validate");
}

static void test_probe_af_packet(void)
{
	char devargs[128];

	snprintf(devargs, sizeof(devargs), "net_af_packet0,iface=%s,qpairs=2", veth);
	expect_software(devargs, 2, "rte_flow_validate");
}

static void test_probe_tap(void)
{
	/* TAP has no MARK action (DPDK 22.11's tap.ini: drop, passthru, queue, rss): validate
	 * refuses it with one queue (MARK + QUEUE) and with two (MARK + RSS) */
	expect_software("net_tap0,iface=pmxofl0", 1, "rte_flow_validate");
	expect_software("net_tap1,iface=pmxofl1", 2, "rte_flow_validate");
}

static int eal_init(const char *prog)
{
	char prefix[48];
	char *args[] = {(char *)prog, "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
			"--no-telemetry", "--file-prefix", prefix, "-l", "0",
			"--log-level", "*:error", NULL};

	snprintf(prefix, sizeof(prefix), "pmx-test-offload-%d", (int)getpid());
	if (rte_eal_init((int)RTE_DIM(args) - 1, args) < 0)
		return -1;
	pool = rte_pktmbuf_pool_create("ofl_pool", 8192, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	return pool == NULL ? -1 : 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		CU_TestFunc fn;
		bool needs_iface;
	} tests[] = {
		{"mark_owner rejects what is not a current mark", test_mark_rejects, false},
		{"mark_owner accepts a current mark", test_mark_accepts, false},
		{"build rejects what rte_flow cannot express", test_build_rejects, false},
		{"build: IPv4 UDP connect rule, RSS over 2 queues", test_build_v4_connect_udp,
		 false},
		{"build: IPv6 TCP listen rule, QUEUE 0", test_build_v6_listen_tcp, false},
		{"build: any address (v4 and v6), SCTP", test_build_any_address_and_sctp, false},
		{"probe: net_null -> software", test_probe_null, false},
		{"probe: net_ring -> software", test_probe_ring, false},
		{"probe: net_af_packet -> software", test_probe_af_packet, true},
		{"probe: net_tap -> software", test_probe_tap, true},
	};
	CU_pSuite suite;
	unsigned failures;

	veth = argc > 1 ? argv[1] : NULL;
	if (eal_init(argv[0]) != 0) {
		fprintf(stderr, "test_offload: cannot initialise EAL\n");
		return 1;
	}
	if (CU_initialize_registry() != CUE_SUCCESS)
		goto fail;
	suite = CU_add_suite("flow_offload", NULL, NULL);
	if (suite == NULL)
		goto fail_registry;
	for (unsigned i = 0; i < RTE_DIM(tests); i++)
		if ((!tests[i].needs_iface || veth != NULL) &&
		    CU_add_test(suite, tests[i].name, tests[i].fn) == NULL)
			goto fail_registry;
	if (veth == NULL)
		printf("test_offload: no interface given: af_packet and tap probes skipped\n");
	CU_basic_set_mode(CU_BRM_VERBOSE);
	if (CU_basic_run_tests() != CUE_SUCCESS)
		goto fail_registry;
	failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return failures == 0 ? 0 : 1;

fail_registry:
	CU_cleanup_registry();
fail:
	rte_eal_cleanup();
	return 1;
}
