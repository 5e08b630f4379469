/* test_static_rules.c - unit tests of the config file's rules in the control plane
 * (static_rules.c: start-up, owner by name at hello, back to no one at detach) */
/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The fixture's switch (ctl_fixture.h) with five config rules: UDP :5300 on every address
 * and a connection for "dns" on wan0 (kernel path: ports held), TCP 198.18.0.1:8080 for
 * "web", UDP 198.19.0.1:5301 for "dns" and an IP rule for "web" on lan1 (no kernel path).
 * Covers,
 * negative cases first:
 *  - what nobody may do to a config rule: another client's listen on its port (EADDRINUSE),
 *    release by its owner, RemoveMatch, an operator's rule_del (EROFS, message naming
 *    rules[i]), release by another client (EPERM); the kernel cannot bind its ports;
 *  - from start-up: listed with origin "config", owner {"name": ...} without client_id,
 *    "reserved" where the port has a kernel path, in used_ports; the flow table gives
 *    PMX_OWNER_ABSENT (the RX lcores drop those frames as owner_absent);
 *  - hello with the owner's name: the reply's config_rules, the rules listed as the client's,
 *    the flow table gives the client, its own listen on the same key is EEXIST, the rules do
 *    not count against its quota; a client of another name gets none;
 *  - detach: the rules stay (same ids, still reserved), with a second client of the same
 *    name they pass to it, with none they are no one's again; a new client of the name gets
 *    them back.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <CUnit/Basic.h>

#include "ctl_fixture.h"
#include "cunit_run.h"

#define EXPECT(s, text, code) CU_ASSERT_STRING_EQUAL(fx_call((s), (text), NULL), (code))

static const char rules_json[] =
	"[{\"kind\": \"listen\", \"proto\": \"udp\", \"local_port\": 5300, \"owner\": \"dns\"},"
	" {\"kind\": \"listen\", \"proto\": \"tcp\", \"local_ip\": \"198.18.0.1\","
	"  \"local_port\": 8080, \"owner\": \"web\"},"
	" {\"kind\": \"connect\", \"proto\": \"tcp\", \"local_ip\": \"198.18.0.1\","
	"  \"local_port\": 40000, \"remote_ip\": \"198.18.0.2\", \"remote_port\": 80,"
	"  \"owner\": \"dns\"},"
	" {\"kind\": \"listen\", \"proto\": \"udp\", \"local_ip\": \"198.19.0.1\","
	"  \"local_port\": 5301, \"owner\": \"dns\", \"port\": \"lan1\"},"
	" {\"kind\": \"ip\", \"local_ip\": \"198.19.0.50\", \"owner\": \"web\", \"port\": 1}]";

static struct pmx_ctl_session *root;

static int suite_init(void)
{
	fx_config_rules = rules_json;
	if (fx_setup() != 0)
		return -1;
	root = fx_session(true, 0);
	return 0;
}

static int suite_cleanup(void)
{
	fx_session_free(root);
	return fx_teardown();
}

/* The owner the RX lcores would find for UDP/TCP to ip:port on NIC port 0. */
static uint16_t lookup(uint8_t proto, const char *ip, unsigned port)
{
	struct pmx_flow_key k = {.kind = PMX_KEY_EXACT, .proto = proto};
	const struct pmx_flow_key *kp = &k;
	uint16_t owner;

	CU_ASSERT_EQUAL_FATAL(pmx_addr_parse(ip, k.local_ip), 0);
	CU_ASSERT_EQUAL_FATAL(pmx_addr_parse("198.18.0.2", k.remote_ip), 0);
	k.local_port = htons((uint16_t)port);
	k.remote_port = htons(80);
	pmx_flow_table_classify_bulk(F.sw.ft, 0, &kp, 1, &owner);
	return owner;
}

/* Rule i of the config (the fixture adds them in order) as "rules" lists it for root. */
static json_t *listed(unsigned i)
{
	json_t *res, *r = NULL, *e;
	size_t n;

	CU_ASSERT_STRING_EQUAL_FATAL(fx_call(root, "{\"cmd\": \"rules\"}", &res), "ok");
	json_array_foreach(json_object_get(res, "rules"), n,
			   e) if (json_integer_value(json_object_get(e, "rule_id")) ==
				  F.ctl.static_rule[i]) r = json_incref(e);
	json_decref(res);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	return r;
}

/* Owner of config rule i: its client id, or -1 when it is no one's ({"name": ...} only). */
static int owner_of(unsigned i, const char *name)
{
	json_t *r = listed(i), *owner = json_object_get(r, "owner");
	json_t *id = json_object_get(owner, "client_id");
	int ret = id != NULL ? (int)json_integer_value(id) : -1;

	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(owner, "name")), name);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(r, "origin")), "config");
	json_decref(r);
	return ret;
}

static void test_refusals(void)
{
	struct pmx_ctl_session *other = fx_session(false, 1000), *dns = fx_session(false, 1000);
	json_t *res;
	char text[160];

	CU_ASSERT(fx_hello(other, "other") >= 0);
	EXPECT(other, "{\"cmd\": \"listen\", \"proto\": \"udp\", \"port\": 5300}", "EADDRINUSE");
	CU_ASSERT_STRING_EQUAL(fx_call(other,
				       "{\"cmd\": \"listen\", \"proto\": \"tcp\","
				       " \"ip\": \"198.18.0.1\", \"port\": 8080}",
				       &res),
			       "EADDRINUSE");
	CU_ASSERT_PTR_NOT_NULL(strstr(json_string_value(json_object_get(res, "message")),
				      "a rule of the config file"));
	json_decref(res);
	snprintf(text, sizeof(text), "{\"cmd\": \"release\", \"rule_id\": %u}",
		 F.ctl.static_rule[0]);
	EXPECT(other, text, "EPERM");
	CU_ASSERT(fx_hello(dns, "dns") >= 0);
	CU_ASSERT_STRING_EQUAL(fx_call(dns, text, &res), "EROFS");
	CU_ASSERT_PTR_NOT_NULL(strstr(json_string_value(json_object_get(res, "message")),
				      "rules[0] of the config file"));
	json_decref(res);
	EXPECT(dns,
	       "{\"RemoveMatch\": {\"dst_addr\": {\"Ipv4\": \"0.0.0.0\"}, \"dst_port\": 5300,"
	       " \"src_addr\": null, \"src_port\": null, \"protocol\": 17}}",
	       "EROFS");
	snprintf(text, sizeof(text), "{\"cmd\": \"rule_del\", \"rule_id\": %u}",
		 F.ctl.static_rule[1]);
	EXPECT(root, text, "EROFS");
	/* the kernel cannot take them either, whoever owns them */
	CU_ASSERT_EQUAL(fx_bind_probe(SOCK_DGRAM, "0.0.0.0", 5300), -EADDRINUSE);
	CU_ASSERT_EQUAL(fx_bind_probe(SOCK_STREAM, "198.18.0.1", 8080), -EADDRINUSE);
	CU_ASSERT_EQUAL(fx_bind_probe(SOCK_STREAM, "198.18.0.1", 40000), -EADDRINUSE);
	fx_session_free(dns);
	fx_session_free(other);
	CU_ASSERT_EQUAL(pmx_flow_table_count(F.sw.ft), 5);
}

static void test_from_start_up(void)
{
	json_t *r, *res, *e;
	bool in_used_ports = false;
	size_t i;

	CU_ASSERT_EQUAL(F.cfg.n_rules, 5);
	CU_ASSERT_EQUAL(pmx_flow_table_count(F.sw.ft), 5);
	CU_ASSERT_EQUAL(owner_of(0, "dns"), -1);
	CU_ASSERT_EQUAL(owner_of(1, "web"), -1);
	CU_ASSERT_EQUAL(owner_of(4, "web"), -1);
	r = listed(0);
	CU_ASSERT_TRUE(json_is_true(json_object_get(r, "reserved")));
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(r, "local_ip")), "*");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(r, "local_port")), 5300);
	json_decref(r);
	r = listed(3); /* lan1 has no kernel: nothing to hold */
	CU_ASSERT_TRUE(json_is_false(json_object_get(r, "reserved")));
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(r, "port")), "lan1");
	json_decref(r);
	CU_ASSERT_EQUAL(lookup(17, "198.18.0.1", 5300), PMX_OWNER_ABSENT);
	CU_ASSERT_EQUAL(lookup(6, "198.18.0.1", 8080), PMX_OWNER_ABSENT);
	CU_ASSERT_EQUAL(lookup(17, "198.18.0.1", 5302), PMX_OWNER_NONE);
	CU_ASSERT_STRING_EQUAL(fx_call(root, "{\"cmd\": \"used_ports\"}", &res), "ok");
	json_array_foreach(json_object_get(res, "listening"), i,
			   e) if (json_integer_value(json_object_get(e, "port")) == 5300)
		in_used_ports = json_object_get(json_object_get(e, "owner"), "client_id") == NULL;
	CU_ASSERT_TRUE(in_used_ports);
	json_decref(res);
}

static void test_attach_detach(void)
{
	struct pmx_ctl_session *a = fx_session(false, 1000), *b = fx_session(false, 1000);
	json_t *res, *ids;
	int id_a, id_b;

	CU_ASSERT_STRING_EQUAL_FATAL(fx_call(a, "{\"cmd\": \"hello\", \"name\": \"dns\"}", &res),
				     "ok");
	id_a = (int)json_integer_value(json_object_get(res, "client_id"));
	ids = json_object_get(res, "config_rules");
	CU_ASSERT_EQUAL(json_array_size(ids), 3);
	CU_ASSERT_EQUAL(json_integer_value(json_array_get(ids, 0)), F.ctl.static_rule[0]);
	CU_ASSERT_EQUAL(json_integer_value(json_array_get(ids, 1)), F.ctl.static_rule[2]);
	CU_ASSERT_EQUAL(json_integer_value(json_array_get(ids, 2)), F.ctl.static_rule[3]);
	json_decref(res);
	CU_ASSERT_EQUAL(owner_of(0, "dns"), id_a);
	CU_ASSERT_EQUAL(owner_of(1, "web"), -1);
	CU_ASSERT_EQUAL(lookup(17, "198.18.0.1", 5300), id_a);
	CU_ASSERT_EQUAL(lookup(6, "198.18.0.1", 40000), id_a);
	CU_ASSERT_EQUAL(a->n_rules, 0); /* the operator's rules: not in its quota */
	EXPECT(a, "{\"cmd\": \"listen\", \"proto\": \"udp\", \"port\": 5300}", "EEXIST");
	CU_ASSERT_STRING_EQUAL(fx_call(a, "{\"cmd\": \"rules\"}", &res), "ok");
	CU_ASSERT_EQUAL(json_array_size(json_object_get(res, "rules")), 3);
	json_decref(res);
	/* a second client of the name gets nothing now, and everything once the first goes */
	CU_ASSERT_STRING_EQUAL_FATAL(fx_call(b, "{\"cmd\": \"hello\", \"name\": \"dns\"}", &res),
				     "ok");
	id_b = (int)json_integer_value(json_object_get(res, "client_id"));
	CU_ASSERT_EQUAL(json_array_size(json_object_get(res, "config_rules")), 0);
	json_decref(res);
	EXPECT(a, "{\"cmd\": \"bye\"}", "ok");
	CU_ASSERT_EQUAL(owner_of(0, "dns"), id_b);
	CU_ASSERT_EQUAL(owner_of(2, "dns"), id_b);
	CU_ASSERT_EQUAL(lookup(17, "198.18.0.1", 5300), id_b);
	/* the last one goes: no one's again, still there, still held */
	fx_session_free(b);
	CU_ASSERT_EQUAL(pmx_flow_table_count(F.sw.ft), 5);
	CU_ASSERT_EQUAL(owner_of(0, "dns"), -1);
	CU_ASSERT_EQUAL(owner_of(3, "dns"), -1);
	CU_ASSERT_EQUAL(lookup(17, "198.18.0.1", 5300), PMX_OWNER_ABSENT);
	CU_ASSERT_EQUAL(fx_bind_probe(SOCK_DGRAM, "0.0.0.0", 5300), -EADDRINUSE);
	/* and the next client of the name gets them back */
	CU_ASSERT_EQUAL(fx_hello(a, "dns"), id_a);
	CU_ASSERT_EQUAL(owner_of(0, "dns"), id_a);
	fx_session_free(a);
	CU_ASSERT_EQUAL(owner_of(0, "dns"), -1);
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"what no one may do to a config rule", test_refusals},
		{"from start-up: no one's, held, listed", test_from_start_up},
		{"owned by the client of the name", test_attach_detach},
	};

	fx_eal_init("test_static_rules");
	return cunit_run("static_rules", suite_init, suite_cleanup, tests, RTE_DIM(tests));
}
