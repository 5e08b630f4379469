/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_mac_learn.c - unit tests of the MAC a usnetd client learns from what it sends
 * (lib/control/mac_learn.c), on the control fixture (ctl_fixture.h).
 *
 * Covers, negative cases first (each refusal counted, the slot without a MAC, and the
 * learning of the client stopped so that its later frames are dropped as spoofed):
 *  - a client not allowed to learn (not a usnetd client) -> EPERM
 *  - usnetd.own_macs false -> EPERM
 *  - a multicast or zero MAC -> EINVAL; the port's MAC (the kernel's) or another client's
 *    -> EADDRINUSE; clients.own_macs reached -> EDQUOT
 *  - learned: the slot's MAC and the port_own_macs bit the RX lcores read, its own addresses
 *    those of its matches (not the port's, not another client's), learning stopped; the same
 *    MAC again is fine, another -> EEXIST; a later AddMatch adds its address; detach gives the
 *    MAC back; a client of hello "mac" gets no address from its matches
 */
#include <string.h>

#include <CUnit/Basic.h>

#include "client_registry.h"
#include "ctl_args.h"
#include "ctl_fixture.h"
#include "cunit_run.h"

#define EXPECT(s, text, code) CU_ASSERT_STRING_EQUAL(fx_call((s), (text), NULL), (code))
#define MATCH(ip, port)                                                                            \
	"{\"AddMatch\": {\"dst_addr\": {\"Ipv4\": \"" ip "\"}, \"dst_port\": " #port               \
	", \"src_addr\": null, \"src_port\": null, \"protocol\": 17}}"

static int suite_init(void)
{
	return fx_setup();
}

static int suite_cleanup(void)
{
	return fx_teardown();
}

/* An attached client on port 1 (no kernel path), as usnetd_sock.c makes one: may learn. */
static int usnetd_client(struct pmx_ctl_session *s)
{
	json_t *res;
	int id = -1;

	if (strcmp(fx_call(s, "{\"cmd\": \"hello\", \"name\": \"usnetd-1\", \"port\": 1}", &res),
		   "ok") == 0)
		id = (int)json_integer_value(json_object_get(res, "client_id"));
	json_decref(res);
	if (id >= 0)
		pmx_registry_mac_learn(&F.sw, (uint16_t)id, PMX_MAC_LEARN_ON);
	return id;
}

/* pmx_mac_learn() for client id and MAC text: the error code, or "ok". */
static const char *learn(int id, const char *text)
{
	static struct pmx_ctl_error e;
	struct rte_ether_addr mac;

	rte_ether_unformat_addr(text, &mac);
	memset(&e, 0, sizeof(e));
	return pmx_mac_learn(&F.ctl, (uint16_t)id, &mac, &e) == 0 ? "ok" : e.code;
}

static void test_refused(void)
{
	static const struct {
		const char *mac, *code;
	} cases[] = {
		{"01:00:5e:00:00:01", "EINVAL"},     {"00:00:00:00:00:00", "EINVAL"},
		{"02:00:00:00:00:02", "EADDRINUSE"}, /* port 1's MAC: the kernel's */
		{"02:00:00:00:00:01", "EADDRINUSE"}, /* port 0's */
		{"02:00:00:00:00:10", "EADDRINUSE"}, /* the other client's own */
	};
	struct pmx_ctl_session *s = fx_session(true, 0), *other = fx_session(true, 0);
	uint64_t refused = F.ctl.mac_refused;
	int id;

	rte_ether_unformat_addr("02:00:00:00:00:01", &F.sw.ports[0].mac);
	rte_ether_unformat_addr("02:00:00:00:00:02", &F.sw.ports[1].mac);
	EXPECT(other,
	       "{\"cmd\": \"hello\", \"port\": 1, \"mac\": \"02:00:00:00:00:10\", "
	       "\"addresses\": [\"198.19.0.10\"]}",
	       "ok");
	/* a client that may not learn: hello's clients say their MAC in hello */
	CU_ASSERT_FATAL(fx_hello(s, "plain") >= 0);
	CU_ASSERT_STRING_EQUAL(learn(s->client_id, "02:00:00:00:00:40"), "EPERM");
	CU_ASSERT(!F.sw.clients[s->client_id].has_mac);
	EXPECT(s, "{\"cmd\": \"bye\"}", "ok");

	id = usnetd_client(s);
	CU_ASSERT_FATAL(id >= 0);
	F.cfg.usnetd_own_macs = false;
	CU_ASSERT_STRING_EQUAL(learn(id, "02:00:00:00:00:40"), "EPERM");
	CU_ASSERT_EQUAL(F.sw.clients[id].mac_learn,
			PMX_MAC_LEARN_OFF); /* stopped: its frames are spoofed now */
	F.cfg.usnetd_own_macs = true;
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pmx_registry_mac_learn(&F.sw, (uint16_t)id, PMX_MAC_LEARN_ON);
		CU_ASSERT_STRING_EQUAL(learn(id, cases[i].mac), cases[i].code);
		CU_ASSERT_EQUAL(F.sw.clients[id].mac_learn, PMX_MAC_LEARN_OFF);
		CU_ASSERT(!F.sw.clients[id].has_mac);
	}
	F.cfg.client_own_macs = 1; /* the other client has one */
	pmx_registry_mac_learn(&F.sw, (uint16_t)id, PMX_MAC_LEARN_ON);
	CU_ASSERT_STRING_EQUAL(learn(id, "02:00:00:00:00:40"), "EDQUOT");
	F.cfg.client_own_macs = 4;
	CU_ASSERT_EQUAL(F.ctl.mac_refused, refused + 8);
	CU_ASSERT(!F.sw.clients[id].has_mac);
	fx_session_free(s);
	fx_session_free(other);
}

static void test_learned(void)
{
	struct pmx_ctl_session *s = fx_session(true, 0), *other = fx_session(true, 0);
	const struct pmx_client_slot *slot;
	struct rte_ether_addr mac;
	uint8_t ip[16];
	int id;

	F.cfg.usnetd_own_macs = true;
	rte_ether_unformat_addr("02:00:00:00:00:41", &mac);
	EXPECT(other,
	       "{\"cmd\": \"hello\", \"port\": 1, \"mac\": \"02:00:00:00:00:10\", "
	       "\"addresses\": [\"198.19.0.10\"]}",
	       "ok");
	id = usnetd_client(s);
	CU_ASSERT_FATAL(id >= 0);
	slot = &F.sw.clients[id];
	EXPECT(s, MATCH("198.19.0.50", 7), "ok");
	EXPECT(s, MATCH("198.19.0.50", 9), "ok"); /* the same address once */
	EXPECT(s, MATCH("198.19.0.1", 7), "ok");  /* the port's: not its own */
	EXPECT(s, MATCH("198.19.0.10", 7), "ok"); /* the other client's: not its own */
	CU_ASSERT_STRING_EQUAL(learn(id, "02:00:00:00:00:41"), "ok");
	CU_ASSERT(slot->has_mac);
	CU_ASSERT(rte_is_same_ether_addr(&slot->mac, &mac));
	CU_ASSERT_EQUAL(slot->mac_learn, PMX_MAC_LEARNED);
	CU_ASSERT_EQUAL(pmx_own_mac_client(&F.sw, 1, &mac), id);
	CU_ASSERT_EQUAL_FATAL(slot->n_own_addrs, 1);
	pmx_addr_parse("198.19.0.50", ip);
	CU_ASSERT(pmx_own_mac_declared(slot, ip));

	/* frames of the same MAC still held meanwhile pass; another MAC does not */
	CU_ASSERT_STRING_EQUAL(learn(id, "02:00:00:00:00:41"), "ok");
	CU_ASSERT_STRING_EQUAL(learn(id, "02:00:00:00:00:42"), "EEXIST");
	CU_ASSERT(rte_is_same_ether_addr(&slot->mac, &mac));

	/* a match after learning: its address becomes the client's */
	EXPECT(s, MATCH("198.19.0.51", 7), "ok");
	CU_ASSERT_EQUAL(slot->n_own_addrs, 2);
	pmx_addr_parse("198.19.0.51", ip);
	CU_ASSERT(pmx_own_mac_declared(slot, ip));
	/* not for a client of hello "mac": it sends from what it declared or leased */
	EXPECT(other, MATCH("198.19.0.60", 7), "ok");
	CU_ASSERT_EQUAL(F.sw.clients[other->client_id].n_own_addrs, 1);

	EXPECT(s, "{\"cmd\": \"bye\"}", "ok");
	CU_ASSERT_EQUAL(pmx_own_mac_client(&F.sw, 1, &mac), PMX_OWNER_NONE);
	fx_session_free(s);
	fx_session_free(other);
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"refused", test_refused},
		{"learned", test_learned},
	};

	fx_eal_init("test_mac_learn");
	return cunit_run("mac_learn", suite_init, suite_cleanup, tests, RTE_DIM(tests));
}
