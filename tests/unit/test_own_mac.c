/* test_own_mac.c - unit tests of hello's "mac" and "addresses" (clients with a MAC of their own) */
/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Covers, negative cases first, on the control fixture (ctl_fixture.h):
 *  - EPERM for a non-operator; EINVAL for a bad, multicast or zero MAC, for addresses that are
 *    not an array, too many, not addresses, not a host's (any, loopback, 0/8, multicast,
 *    broadcast), given twice, or given without "mac";
 *  - EADDRINUSE for a port's MAC (either port), another client's MAC, an address of the port
 *    (the kernel's), a claimed address, another own-MAC client's address; claim_ip of an
 *    own-MAC client's address; EDQUOT over clients.own_macs;
 *  - a refused hello leaves the session unattached and no slot taken;
 *  - success: the reply's mac, addresses and port_mac; the slot and the port_own_macs bit the
 *    RX lcores read (pmx_own_mac_client()); "mac" in clients; detach gives the MAC back.
 */
#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "ctl_fixture.h"
#include "cunit_run.h"

#define EXPECT(s, text, code) CU_ASSERT_STRING_EQUAL(fx_call((s), (text), NULL), (code))
#define OWN "\"mac\": \"02:00:00:00:00:10\""

static struct pmx_ctl_session *root, *user;

static int suite_init(void)
{
	return fx_setup_sessions(&root, &user);
}

static int suite_cleanup(void)
{
	return fx_teardown_sessions(root, user);
}

static unsigned active_slots(void)
{
	unsigned n = 0;

	for (unsigned id = 0; id < F.sw.clients_max; id++)
		n += F.sw.clients[id].state == PMX_SLOT_ACTIVE;
	return n;
}

static void test_refused(void)
{
	static const struct {
		const char *args, *code;
	} cases[] = {
		{"\"mac\": 5, \"addresses\": [\"198.18.0.10\"]", "EINVAL"},
		{"\"mac\": \"zz:00:00:00:00:10\", \"addresses\": [\"198.18.0.10\"]", "EINVAL"},
		{"\"mac\": \"02:00:00:00:10\", \"addresses\": [\"198.18.0.10\"]", "EINVAL"},
		{"\"mac\": \"01:00:5e:00:00:01\", \"addresses\": [\"198.18.0.10\"]", "EINVAL"},
		{"\"mac\": \"ff:ff:ff:ff:ff:ff\", \"addresses\": [\"198.18.0.10\"]", "EINVAL"},
		{"\"mac\": \"00:00:00:00:00:00\", \"addresses\": [\"198.18.0.10\"]", "EINVAL"},
		{"\"addresses\": [\"198.18.0.10\"]", "EINVAL"},
		{OWN ", \"addresses\": \"198.18.0.10\"", "EINVAL"},
		{OWN ", \"addresses\": [\"198.18.0.10\", \"198.18.0.11\", \"198.18.0.12\","
		     " \"198.18.0.13\", \"198.18.0.14\"]",
		 "EINVAL"},
		{OWN ", \"addresses\": [5]", "EINVAL"},
		{OWN ", \"addresses\": [\"198.18.0.300\"]", "EINVAL"},
		{OWN ", \"addresses\": [\"*\"]", "EINVAL"},
		{OWN ", \"addresses\": [\"0.0.0.0\"]", "EINVAL"},
		{OWN ", \"addresses\": [\"0.1.2.3\"]", "EINVAL"},
		{OWN ", \"addresses\": [\"127.0.0.1\"]", "EINVAL"},
		{OWN ", \"addresses\": [\"224.0.0.251\"]", "EINVAL"},
		{OWN ", \"addresses\": [\"255.255.255.255\"]", "EINVAL"},
		{OWN ", \"addresses\": [\"::\"]", "EINVAL"},
		{OWN ", \"addresses\": [\"::1\"]", "EINVAL"},
		{OWN ", \"addresses\": [\"ff02::1\"]", "EINVAL"},
		{OWN ", \"addresses\": [\"198.18.0.10\", \"198.18.0.10\"]", "EINVAL"},
		{OWN ", \"addresses\": [\"198.18.0.10\", \"198.18.0.1\"]", "EADDRINUSE"},
		{OWN ", \"addresses\": [\"fd00::1\"]", "EADDRINUSE"},
	};
	struct pmx_ctl_session *s = fx_session(true, 0);
	char text[512];

	/* an operator's privilege: a user is refused whatever the rest says */
	EXPECT(user, "{\"cmd\": \"hello\", " OWN ", \"addresses\": [\"198.18.0.10\"]}", "EPERM");
	for (unsigned i = 0; i < RTE_DIM(cases); i++) {
		const char *got;

		snprintf(text, sizeof(text), "{\"cmd\": \"hello\", %s}", cases[i].args);
		got = fx_call(s, text, NULL);
		if (strcmp(got, cases[i].code) != 0)
			fprintf(stderr, "\n  %s -> %s, expected %s\n", text, got, cases[i].code);
		CU_ASSERT_STRING_EQUAL(got, cases[i].code);
	}
	/* the ports' MACs are the kernel's */
	rte_ether_unformat_addr("02:00:00:00:00:01", &F.sw.ports[0].mac);
	rte_ether_unformat_addr("02:00:00:00:00:02", &F.sw.ports[1].mac);
	EXPECT(s,
	       "{\"cmd\": \"hello\", \"mac\": \"02:00:00:00:00:01\", \"addresses\": "
	       "[\"198.18.0.10\"]}",
	       "EADDRINUSE");
	EXPECT(s,
	       "{\"cmd\": \"hello\", \"mac\": \"02:00:00:00:00:02\", \"addresses\": "
	       "[\"198.18.0.10\"]}",
	       "EADDRINUSE");
	/* a claimed address is its claimer's */
	CU_ASSERT(fx_hello(root, "claimer") >= 0);
	EXPECT(root, "{\"cmd\": \"claim_ip\", \"ip\": \"198.18.0.50\"}", "ok");
	EXPECT(s, "{\"cmd\": \"hello\", " OWN ", \"addresses\": [\"198.18.0.50\"]}", "EADDRINUSE");
	pmx_ctl_session_detach(&F.ctl, root);

	CU_ASSERT_EQUAL(s->client_id, -1);
	CU_ASSERT_EQUAL(active_slots(), 0);
	fx_session_free(s);
}

static void test_attached(void)
{
	struct pmx_ctl_session *a = fx_session(true, 0), *b = fx_session(true, 0);
	struct rte_ether_addr mac, port_mac;
	json_t *res, *clients;
	const struct pmx_client_slot *slot;
	int id;

	rte_ether_unformat_addr("02:00:00:00:00:10", &mac);
	rte_ether_unformat_addr("02:00:00:00:00:01", &F.sw.ports[0].mac);
	CU_ASSERT_STRING_EQUAL_FATAL(fx_call(a,
					     "{\"cmd\": \"hello\", \"name\": \"own\", " OWN
					     ", \"addresses\": [\"198.18.0.10\", \"fd00::10\"]}",
					     &res),
				     "ok");
	id = (int)json_integer_value(json_object_get(res, "client_id"));
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(res, "mac")), "02:00:00:00:00:10");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(res, "port_mac")),
			       "02:00:00:00:00:01");
	CU_ASSERT_EQUAL(json_array_size(json_object_get(res, "addresses")), 2);
	CU_ASSERT_STRING_EQUAL(
		json_string_value(json_array_get(json_object_get(res, "addresses"), 1)),
		"fd00::10");
	json_decref(res);

	/* what the RX and TX lcores read */
	slot = &F.sw.clients[id];
	CU_ASSERT(slot->has_mac);
	CU_ASSERT(rte_is_same_ether_addr(&slot->mac, &mac));
	CU_ASSERT_EQUAL(slot->n_own_addrs, 2);
	CU_ASSERT_EQUAL(pmx_own_mac_client(&F.sw, 0, &mac), id);
	CU_ASSERT_EQUAL(pmx_own_mac_client(&F.sw, 1, &mac), PMX_OWNER_NONE);
	rte_ether_unformat_addr("02:00:00:00:00:01", &port_mac);
	CU_ASSERT_EQUAL(pmx_own_mac_client(&F.sw, 0, &port_mac), PMX_OWNER_NONE);
	CU_ASSERT(pmx_own_mac_any(&F.sw, 0));
	CU_ASSERT(!pmx_own_mac_any(&F.sw, 1));

	/* its MAC and its addresses are no one else's */
	EXPECT(b, "{\"cmd\": \"hello\", " OWN ", \"addresses\": [\"198.18.0.11\"]}", "EADDRINUSE");
	EXPECT(b,
	       "{\"cmd\": \"hello\", \"mac\": \"02:00:00:00:00:11\", \"addresses\": "
	       "[\"198.18.0.11\", \"fd00::10\"]}",
	       "EADDRINUSE");
	CU_ASSERT(fx_hello(root, "claimer") >= 0);
	EXPECT(root, "{\"cmd\": \"claim_ip\", \"ip\": \"198.18.0.10\"}", "EADDRINUSE");
	pmx_ctl_session_detach(&F.ctl, root);

	CU_ASSERT_STRING_EQUAL(fx_call(root, "{\"cmd\": \"clients\"}", &res), "ok");
	clients = json_object_get(res, "clients");
	CU_ASSERT_EQUAL(json_array_size(clients), 1);
	CU_ASSERT_STRING_EQUAL(
		json_string_value(json_object_get(json_array_get(clients, 0), "mac")),
		"02:00:00:00:00:10");
	json_decref(res);

	/* clients.own_macs: one at a time */
	F.cfg.client_own_macs = 1;
	EXPECT(b,
	       "{\"cmd\": \"hello\", \"mac\": \"02:00:00:00:00:11\", \"addresses\": "
	       "[\"198.18.0.11\"]}",
	       "EDQUOT");
	F.cfg.client_own_macs = 4;
	CU_ASSERT_EQUAL(b->client_id, -1);

	/* detach gives the MAC back, to the RX lcores' view too */
	pmx_ctl_session_detach(&F.ctl, a);
	CU_ASSERT_EQUAL(pmx_own_mac_client(&F.sw, 0, &mac), PMX_OWNER_NONE);
	CU_ASSERT(!pmx_own_mac_any(&F.sw, 0));
	EXPECT(b, "{\"cmd\": \"hello\", " OWN ", \"addresses\": [\"198.18.0.10\"]}", "ok");
	CU_ASSERT_EQUAL(pmx_own_mac_client(&F.sw, 0, &mac), b->client_id);
	/* a hello without "mac" gets the port's MAC and a slot with none */
	EXPECT(a, "{\"cmd\": \"hello\"}", "ok");
	CU_ASSERT(!F.sw.clients[a->client_id].has_mac);
	fx_session_free(a);
	fx_session_free(b);
	CU_ASSERT_EQUAL(active_slots(), 0);
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"refused", test_refused},
		{"attached", test_attached},
	};

	fx_eal_init("test_own_mac");
	return cunit_run("own_mac", suite_init, suite_cleanup, tests, RTE_DIM(tests));
}
