/* test_ctl.c - unit tests of the control API commands (request -> reply, switch state) */
/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Covers, negative cases first, every command of docs/CONTROL-API.md run straight through
 * pmx_ctl_execute() (sessions that are not sockets, admin or not):
 *  - malformed requests: not an object, no "cmd", "cmd" not a string, unknown command; the
 *    request's id comes back whatever its type;
 *  - ENOTCONN for client commands before hello, EPERM for operator commands of non-admins;
 *  - hello: every argument error (ENOTSUP, EDQUOT, ENODEV, EINVAL), memif while clients.memif
 *    is off (EPERM), EALREADY, ENOSPC; a memif hello with the identity a first one gave
 *    ("memif": {"id", "secret"}, as after a restart) gets it back, each bad field EINVAL,
 *    an id in use EADDRINUSE;
 *  - listen/connect/claim_ip/release: EINVAL per argument, EACCES (port < 1024) and the
 *    clients.low_ports allow-list, EEXIST, EADDRINUSE (other client, operator rule, the
 *    kernel), EADDRNOTAVAIL, EDQUOT (rule quota), ENOENT, EPERM (others' rules);
 *  - rules visibility (own, none, all), used_ports (kernel and clients), stats and clear_stats
 *    baselines, port_info, clients, kick, set_kernel_policy (the atomic the RX lcores read),
 *    rule_add/rule_del for every kind and owner;
 *  - port reservation: a client's port cannot be bound by the kernel while its rule exists,
 *    wildcard and per-address rules of one (proto, port) share sockets correctly;
 *  - usnetd's AddMatch/RemoveMatch/QueryUsedPorts/DeleteClient, both JSON shapes; AddMatch
 *    without dst_port (a whole protocol) and with src_addr but no src_port: refused where it
 *    would take what another client or the kernel has (policy pass, kernel.allow, a socket).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include <CUnit/Basic.h>

#include "ctl_fixture.h"
#include "cunit_run.h"
#include "memif_server.h"

#define EXPECT(s, text, code) CU_ASSERT_STRING_EQUAL(fx_call((s), (text), NULL), (code))

static struct pmx_ctl_session *root, *user;

static int suite_init(void)
{
	return fx_setup_sessions(&root, &user);
}

static int suite_cleanup(void)
{
	return fx_teardown_sessions(root, user);
}

/* A fresh non-admin client session. */
static struct pmx_ctl_session *client(const char *name)
{
	struct pmx_ctl_session *s = fx_session(false, 1000);

	CU_ASSERT(fx_hello(s, name) >= 0);
	return s;
}

static void test_malformed_requests(void)
{
	static const struct {
		const char *text, *code;
	} cases[] = {
		{"[1, 2]", "EINVAL"},
		{"\"hello\"", "EINVAL"},
		{"42", "EINVAL"},
		{"null", "EINVAL"},
		{"{}", "EINVAL"},
		{"{\"id\": 1}", "EINVAL"},
		{"{\"cmd\": 7}", "EINVAL"},
		{"{\"cmd\": null}", "EINVAL"},
		{"{\"cmd\": \"\"}", "ENOSYS"},
		{"{\"cmd\": \"reboot\"}", "ENOSYS"},
		{"{\"cmd\": \"HELLO\"}", "ENOSYS"},
		{"{\"AddMatch\": 1, \"RemoveMatch\": 2}", "EINVAL"},
	};
	json_t *req, *reply;

	for (unsigned i = 0; i < RTE_DIM(cases); i++)
		EXPECT(root, cases[i].text, cases[i].code);
	/* the id comes back as it was sent, on success and on error */
	req = json_loads("{\"cmd\": \"stats\", \"id\": {\"a\": [1]}}", 0, NULL);
	reply = pmx_ctl_execute(&F.ctl, user, req);
	CU_ASSERT_TRUE(json_equal(json_object_get(reply, "id"), json_object_get(req, "id")));
	json_decref(reply);
	json_decref(req);
	req = json_loads("{\"cmd\": \"nope\", \"id\": \"x-1\"}", 0, NULL);
	reply = pmx_ctl_execute(&F.ctl, user, req);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(reply, "id")), "x-1");
	CU_ASSERT_TRUE(json_is_false(json_object_get(reply, "ok")));
	json_decref(reply);
	json_decref(req);
}

static void test_needs_client_and_admin(void)
{
	static const char *const client_cmds[] = {"listen", "connect", "claim_ip", "release",
						  "bye", "AddMatch", "RemoveMatch", "DeleteClient"};
	static const char *const admin_cmds[] = {"clients", "kick", "set_kernel_policy",
						 "rule_add", "rule_del", "clear_stats"};
	char text[96];

	for (unsigned i = 0; i < RTE_DIM(client_cmds); i++) {
		snprintf(text, sizeof(text), "{\"cmd\": \"%s\"}", client_cmds[i]);
		EXPECT(user, text, "ENOTCONN");
		EXPECT(root, text, "ENOTCONN");
	}
	for (unsigned i = 0; i < RTE_DIM(admin_cmds); i++) {
		snprintf(text, sizeof(text), "{\"cmd\": \"%s\"}", admin_cmds[i]);
		EXPECT(user, text, "EPERM");
		CU_ASSERT_STRING_NOT_EQUAL(fx_call(root, text, NULL), "EPERM");
	}
}

static void test_hello(void)
{
	struct pmx_ctl_session *s[5];
	json_t *res;

	s[0] = fx_session(false, 1000);
	EXPECT(s[0], "{\"cmd\": \"hello\", \"channel\": \"xdp\"}", "ENOTSUP");
	EXPECT(s[0], "{\"cmd\": \"hello\", \"channel\": 1}", "EINVAL");
	EXPECT(s[0], "{\"cmd\": \"hello\", \"channel\": \"memif\"}", "EPERM"); /* clients.memif */
	EXPECT(s[0], "{\"cmd\": \"hello\", \"queues\": 5}", "EDQUOT");
	EXPECT(s[0], "{\"cmd\": \"hello\", \"queues\": 0}", "EINVAL");
	EXPECT(s[0], "{\"cmd\": \"hello\", \"queues\": -1}", "EINVAL");
	EXPECT(s[0], "{\"cmd\": \"hello\", \"port\": 2}", "ENODEV");
	EXPECT(s[0], "{\"cmd\": \"hello\", \"port\": \"dmz\"}", "ENODEV");
	EXPECT(s[0], "{\"cmd\": \"hello\", \"port\": true}", "EINVAL");
	EXPECT(s[0], "{\"cmd\": \"hello\", \"name\": 5}", "EINVAL");
	CU_ASSERT_STRING_EQUAL_FATAL(fx_call(s[0], "{\"cmd\": \"hello\", \"name\": \"a\", \"port\":"
					     " \"lan1\"}", &res), "ok");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(res, "port")), 1);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(res, "file_prefix")), "pmx-test");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(json_object_get(res, "addresses"), 0)),
			       "198.19.0.1");
	CU_ASSERT_EQUAL(F.sw.clients[json_integer_value(json_object_get(res, "client_id"))].state,
			PMX_SLOT_ACTIVE);
	json_decref(res);
	EXPECT(s[0], "{\"cmd\": \"hello\"}", "EALREADY");
	/* clients.max is 4: the fifth gets ENOSPC, and a slot freed by bye is reused */
	for (unsigned i = 1; i < 4; i++) {
		s[i] = fx_session(false, 1000);
		CU_ASSERT(fx_hello(s[i], "b") >= 0);
	}
	s[4] = fx_session(false, 1000);
	EXPECT(s[4], "{\"cmd\": \"hello\"}", "ENOSPC");
	EXPECT(s[3], "{\"cmd\": \"bye\"}", "ok");
	CU_ASSERT(s[3]->client_id < 0);
	CU_ASSERT(fx_hello(s[4], "c") >= 0);
	for (unsigned i = 0; i < 5; i++)
		fx_session_free(s[i]);
	for (unsigned id = 0; id < F.sw.clients_max; id++)
		CU_ASSERT_EQUAL(F.sw.clients[id].state, PMX_SLOT_FREE);
}

/* A memif client back after a restart: hello with the identity a first hello gave keeps the
 * interface id and secret; a taken id, a bad one and a bad secret are refused. */
static void test_memif_identity(void)
{
	struct pmx_ctl_session *a = fx_session(false, 1000), *b = fx_session(false, 1000);
	char text[256], secret[32];
	json_t *res;
	int id;

	F.cfg.memif = true;
	EXPECT(a, "{\"cmd\": \"hello\", \"memif\": {\"id\": 0, \"secret\": \"00\"}}", "EINVAL");
	EXPECT(a, "{\"cmd\": \"hello\", \"channel\": \"memif\", \"memif\": 3}", "EINVAL");
	EXPECT(a, "{\"cmd\": \"hello\", \"channel\": \"memif\", \"memif\": {\"id\": 0}}",
	       "EINVAL");
	EXPECT(a, "{\"cmd\": \"hello\", \"channel\": \"memif\", \"memif\": {\"id\": 4, "
		  "\"secret\": \"0123456789abcdef01234567\"}}", "EINVAL"); /* clients.max 4 */
	EXPECT(a, "{\"cmd\": \"hello\", \"channel\": \"memif\", \"memif\": {\"id\": -1, "
		  "\"secret\": \"0123456789abcdef01234567\"}}", "EINVAL");
	EXPECT(a, "{\"cmd\": \"hello\", \"channel\": \"memif\", \"memif\": {\"id\": 0, "
		  "\"secret\": \"0123456789ABCDEF01234567\"}}", "EINVAL"); /* not as we make them */
	EXPECT(a, "{\"cmd\": \"hello\", \"channel\": \"memif\", \"memif\": {\"id\": 0, "
		  "\"secret\": \"0123456789abcdef0123456\"}}", "EINVAL"); /* 23 digits */
	EXPECT(a, "{\"cmd\": \"hello\", \"channel\": \"memif\", \"memif\": {\"id\": 0, "
		  "\"secret\": 5}}", "EINVAL");
	CU_ASSERT(a->client_id < 0); /* none of these attached */

	CU_ASSERT_STRING_EQUAL_FATAL(fx_call(a, "{\"cmd\": \"hello\", \"channel\": \"memif\"}",
					     &res), "ok");
	id = (int)json_integer_value(json_object_get(json_object_get(res, "memif"), "id"));
	snprintf(secret, sizeof(secret), "%s",
		 json_string_value(json_object_get(json_object_get(res, "memif"), "secret")));
	json_decref(res);
	CU_ASSERT_EQUAL(strlen(secret), 24);
	snprintf(text, sizeof(text),
		 "{\"cmd\": \"hello\", \"channel\": \"memif\", \"memif\": {\"id\": %d, "
		 "\"secret\": \"%s\"}}", id, secret);
	EXPECT(b, text, "EADDRINUSE"); /* a's, while a is attached */
	EXPECT(a, "{\"cmd\": \"bye\"}", "ok");
	/* a ring client takes the lowest free slot meanwhile: a's slot when it is the lowest */
	CU_ASSERT_STRING_EQUAL_FATAL(fx_call(b, text, &res), "ok");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(res, "client_id")), id);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(res, "memif"), "id")), id);
	CU_ASSERT_STRING_EQUAL(
		json_string_value(json_object_get(json_object_get(res, "memif"), "secret")), secret);
	json_decref(res);
	CU_ASSERT_EQUAL(F.sw.clients[id].channel, PMX_CHANNEL_MEMIF);
	EXPECT(b, "{\"cmd\": \"bye\"}", "ok");
	fx_session_free(a);
	fx_session_free(b);
	pmx_memif_server_destroy(F.sw.memif); /* and its socket, beside the control socket */
	F.sw.memif = NULL;
	F.cfg.memif = false;
}

static void test_listen_errors(void)
{
	struct pmx_ctl_session *a = client("a"), *b = client("b");

	EXPECT(a, "{\"cmd\": \"listen\"}", "EINVAL");
	EXPECT(a, "{\"cmd\": \"listen\", \"proto\": \"xtp\", \"port\": 7}", "EINVAL");
	EXPECT(a, "{\"cmd\": \"listen\", \"proto\": 17, \"port\": 7}", "EINVAL");
	EXPECT(a, "{\"cmd\": \"listen\", \"proto\": \"udp\"}", "EINVAL");
	EXPECT(a, "{\"cmd\": \"listen\", \"proto\": \"udp\", \"port\": 0}", "EINVAL");
	EXPECT(a, "{\"cmd\": \"listen\", \"proto\": \"udp\", \"port\": 65536}", "EINVAL");
	EXPECT(a, "{\"cmd\": \"listen\", \"proto\": \"udp\", \"port\": \"7\"}", "EINVAL");
	EXPECT(a, "{\"cmd\": \"listen\", \"proto\": \"udp\", \"port\": 7.5}", "EINVAL");
	EXPECT(a, "{\"cmd\": \"listen\", \"proto\": \"udp\", \"ip\": \"1.2.3\", \"port\": 7}",
	       "EINVAL");
	/* ports below 1024 need root, or the allow-list (udp:53) */
	EXPECT(a, "{\"cmd\": \"listen\", \"proto\": \"udp\", \"port\": 7}", "EACCES");
	EXPECT(a, "{\"cmd\": \"listen\", \"proto\": \"tcp\", \"port\": 53}", "EACCES");
	EXPECT(a, "{\"cmd\": \"listen\", \"proto\": \"udp\", \"port\": 53}", "ok");
	EXPECT(a, "{\"cmd\": \"listen\", \"proto\": \"udp\", \"port\": 53}", "EEXIST");
	EXPECT(b, "{\"cmd\": \"listen\", \"proto\": \"udp\", \"port\": 53}", "EADDRINUSE");
	EXPECT(b, "{\"cmd\": \"listen\", \"proto\": \"udp\", \"ip\": \"198.18.0.1\", \"port\": 53}",
	       "EADDRINUSE");
	EXPECT(b, "{\"cmd\": \"listen\", \"proto\": \"tcp\", \"port\": 5300}", "ok");
	EXPECT(a, "{\"cmd\": \"listen\", \"proto\": \"tcp\", \"ip\": \"fd00::1\", \"port\": 5300}",
	       "EADDRINUSE");
	/* a connection may not cut into someone else's listening port */
	EXPECT(a, "{\"cmd\": \"connect\", \"proto\": \"tcp\", \"local_ip\": \"198.18.0.1\","
		  " \"local_port\": 5300, \"remote_ip\": \"198.18.0.2\", \"remote_port\": 80}",
	       "EADDRINUSE");
	/* the rule quota is 6: five more fit, the sixth does not */
	for (unsigned i = 0; i < 5; i++) {
		char text[96];

		snprintf(text, sizeof(text), "{\"cmd\": \"listen\", \"proto\": \"udp\", \"port\": %u}",
			 6000 + i);
		EXPECT(a, text, "ok");
	}
	EXPECT(a, "{\"cmd\": \"listen\", \"proto\": \"udp\", \"port\": 6100}", "EDQUOT");
	CU_ASSERT_EQUAL(a->n_rules, 6);
	fx_session_free(a);
	fx_session_free(b);
	CU_ASSERT_EQUAL(pmx_flow_table_count(F.sw.ft), 0);
}

static void test_connect_claim_release(void)
{
	struct pmx_ctl_session *a = client("a"), *b = client("b"), *admin = fx_session(true, 0);
	json_t *res;
	char text[96];
	unsigned rule;

	EXPECT(a, "{\"cmd\": \"connect\", \"proto\": \"tcp\", \"local_ip\": \"198.18.0.1\","
		  " \"local_port\": 40000, \"remote_ip\": \"198.18.0.2\"}", "EINVAL");
	EXPECT(a, "{\"cmd\": \"connect\", \"proto\": \"tcp\", \"local_ip\": \"198.18.0.9\","
		  " \"local_port\": 40000, \"remote_ip\": \"198.18.0.2\", \"remote_port\": 80}",
	       "EADDRNOTAVAIL");
	CU_ASSERT_STRING_EQUAL(fx_call(a, "{\"cmd\": \"connect\", \"proto\": \"tcp\", \"local_ip\":"
				       " \"198.18.0.1\", \"local_port\": 40000, \"remote_ip\":"
				       " \"198.18.0.2\", \"remote_port\": 80}", &res), "ok");
	rule = (unsigned)json_integer_value(json_object_get(res, "rule_id"));
	json_decref(res);
	/* the same 5-tuple for someone else: taken */
	EXPECT(b, "{\"cmd\": \"connect\", \"proto\": \"tcp\", \"local_ip\": \"198.18.0.1\","
		  " \"local_port\": 40000, \"remote_ip\": \"198.18.0.2\", \"remote_port\": 80}",
	       "EADDRINUSE");
	/* release: bad id, no such rule, someone else's, then the owner */
	EXPECT(a, "{\"cmd\": \"release\", \"rule_id\": -1}", "EINVAL");
	EXPECT(a, "{\"cmd\": \"release\"}", "EINVAL");
	EXPECT(a, "{\"cmd\": \"release\", \"rule_id\": 4000000}", "ENOENT");
	snprintf(text, sizeof(text), "{\"cmd\": \"release\", \"rule_id\": %u}", rule);
	EXPECT(b, text, "EPERM");
	EXPECT(a, text, "ok");
	EXPECT(a, text, "ENOENT");
	CU_ASSERT_EQUAL(a->n_rules, 0);

	/* claim_ip: operators only; not the kernel's address; not "any" */
	EXPECT(a, "{\"cmd\": \"claim_ip\", \"ip\": \"198.18.0.50\"}", "EPERM");
	CU_ASSERT(fx_hello(admin, "admin-client") >= 0);
	EXPECT(admin, "{\"cmd\": \"claim_ip\"}", "EINVAL");
	EXPECT(admin, "{\"cmd\": \"claim_ip\", \"ip\": \"*\"}", "EINVAL");
	EXPECT(admin, "{\"cmd\": \"claim_ip\", \"ip\": \"198.18.0.1\"}", "EADDRINUSE");
	EXPECT(admin, "{\"cmd\": \"claim_ip\", \"ip\": \"198.18.0.50\"}", "ok");
	EXPECT(admin, "{\"cmd\": \"claim_ip\", \"ip\": \"198.18.0.50\"}", "EEXIST");
	/* listening on every address would reach into the claimed one */
	EXPECT(b, "{\"cmd\": \"listen\", \"proto\": \"udp\", \"port\": 7000}", "EADDRINUSE");
	/* an operator client may use low ports */
	EXPECT(admin, "{\"cmd\": \"listen\", \"proto\": \"tcp\", \"ip\": \"198.18.0.1\", \"port\": 80}",
	       "ok");
	fx_session_free(a);
	fx_session_free(b);
	fx_session_free(admin);
	CU_ASSERT_EQUAL(pmx_flow_table_count(F.sw.ft), 0);
}

static unsigned rules_count(struct pmx_ctl_session *s)
{
	json_t *res;
	unsigned n;

	CU_ASSERT_STRING_EQUAL(fx_call(s, "{\"cmd\": \"rules\"}", &res), "ok");
	n = (unsigned)json_array_size(json_object_get(res, "rules"));
	json_decref(res);
	return n;
}

static void test_rules_visibility(void)
{
	struct pmx_ctl_session *a = client("a"), *b = client("b");

	EXPECT(a, "{\"cmd\": \"listen\", \"proto\": \"udp\", \"port\": 7001}", "ok");
	EXPECT(b, "{\"cmd\": \"listen\", \"proto\": \"udp\", \"port\": 7002}", "ok");
	EXPECT(b, "{\"cmd\": \"listen\", \"proto\": \"udp\", \"port\": 7003}", "ok");
	CU_ASSERT_EQUAL(rules_count(a), 1);
	CU_ASSERT_EQUAL(rules_count(b), 2);
	CU_ASSERT_EQUAL(rules_count(user), 0); /* neither client nor operator */
	CU_ASSERT_EQUAL(rules_count(root), 3);
	fx_session_free(a);
	fx_session_free(b);
	CU_ASSERT_EQUAL(rules_count(root), 0);
}

static void test_stats_and_clear(void)
{
	struct pmx_worker *w = F.sw.workers[0];
	json_t *res;

	CU_ASSERT_STRING_EQUAL(fx_call(user, "{\"cmd\": \"stats\"}", &res), "ok");
	CU_ASSERT_PTR_NOT_NULL(json_object_get(res, "ports"));
	CU_ASSERT_PTR_NOT_NULL(json_object_get(res, "lcores"));
	CU_ASSERT_PTR_NOT_NULL(json_object_get(json_object_get(res, "drops"), "spoofed"));
	CU_ASSERT_PTR_NOT_NULL(json_object_get(json_object_get(res, "mempool"), "in_use"));
	/* the fixture's config names no policy: the default */
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(res, "kernel_policy")), "firewall");
	json_decref(res);
	/* counters written by the worker; clear keeps a baseline and never writes them */
	w->port[0].rx += 10;
	w->drops[PMX_DROP_SPOOFED] += 3;
	w->loops += 100;
	w->busy_cycles += 1000;
	EXPECT(root, "{\"cmd\": \"clear_stats\"}", "ok");
	CU_ASSERT_EQUAL(w->port[0].rx, 10);
	w->port[0].rx += 5;
	w->busy_cycles += 70;
	w->drops[PMX_DROP_SPOOFED] += 1;
	CU_ASSERT_STRING_EQUAL(fx_call(user, "{\"cmd\": \"stats\"}", &res), "ok");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_array_get(json_object_get(res, "ports"),
									   0), "rx")), 5);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(res, "drops"), "spoofed")),
			1);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_array_get(json_object_get(res,
											 "lcores"),
									  0), "loops")), 0);
	json_t *lc0 = json_array_get(json_object_get(res, "lcores"), 0);

	CU_ASSERT_EQUAL(json_integer_value(json_object_get(lc0, "rx")), 5);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(lc0, "busy_cycles")), 70);
	CU_ASSERT(json_integer_value(json_object_get(res, "tsc_hz")) > 0);
	CU_ASSERT(json_integer_value(json_object_get(res, "cleared_at")) > 0);
	json_decref(res);
}

static void test_port_info(void)
{
	json_t *res;

	EXPECT(user, "{\"cmd\": \"port_info\", \"port\": 2}", "ENODEV");
	EXPECT(user, "{\"cmd\": \"port_info\", \"port\": [0]}", "EINVAL");
	CU_ASSERT_STRING_EQUAL(fx_call(user, "{\"cmd\": \"port_info\", \"port\": \"lan1\"}", &res),
			       "ok");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(res, "name")), "lan1");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(res, "flow_offload")), "software");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(res, "device")), "net_null1");
	CU_ASSERT_EQUAL(json_array_size(json_object_get(res, "addresses")), 1);
	json_decref(res);
}

static void test_clients_and_kick(void)
{
	struct pmx_ctl_session *a = client("victim");
	json_t *res;
	int id = a->client_id;
	char text[64];

	EXPECT(a, "{\"cmd\": \"listen\", \"proto\": \"tcp\", \"port\": 41000}", "ok");
	CU_ASSERT_EQUAL(fx_bind_probe(SOCK_STREAM, "0.0.0.0", 41000), -EADDRINUSE);
	CU_ASSERT_STRING_EQUAL(fx_call(root, "{\"cmd\": \"clients\"}", &res), "ok");
	CU_ASSERT_EQUAL(json_array_size(json_object_get(res, "clients")), 1);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(json_object_get(res,
											 "clients"),
										0), "name")), "victim");
	json_decref(res);
	EXPECT(root, "{\"cmd\": \"kick\"}", "EINVAL");
	EXPECT(root, "{\"cmd\": \"kick\", \"client_id\": 3}", "ENOENT");
	EXPECT(root, "{\"cmd\": \"kick\", \"client_id\": 999}", "EINVAL");
	snprintf(text, sizeof(text), "{\"cmd\": \"kick\", \"client_id\": %d}", id);
	EXPECT(root, text, "ok");
	/* its rules, slot and port reservation are gone; the session is told so */
	CU_ASSERT_EQUAL(a->client_id, -1);
	CU_ASSERT_EQUAL(F.sw.clients[id].state, PMX_SLOT_FREE);
	CU_ASSERT_EQUAL(pmx_flow_table_count(F.sw.ft), 0);
	CU_ASSERT_EQUAL(fx_bind_probe(SOCK_STREAM, "0.0.0.0", 41000), 0);
	EXPECT(a, "{\"cmd\": \"listen\", \"proto\": \"tcp\", \"port\": 41000}", "ENOTCONN");
	fx_session_free(a);
}

static void test_set_kernel_policy(void)
{
	json_t *res;

	EXPECT(root, "{\"cmd\": \"set_kernel_policy\"}", "EINVAL");
	EXPECT(root, "{\"cmd\": \"set_kernel_policy\", \"policy\": \"drop\"}", "EINVAL");
	EXPECT(root, "{\"cmd\": \"set_kernel_policy\", \"policy\": 1}", "EINVAL");
	CU_ASSERT_STRING_EQUAL(fx_call(root, "{\"cmd\": \"set_kernel_policy\", \"policy\": "
					     "\"pass\"}", &res), "ok");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(res, "previous")), "firewall");
	json_decref(res);
	CU_ASSERT_EQUAL(__atomic_load_n(&F.sw.kernel_policy, __ATOMIC_ACQUIRE), PMX_POLICY_PASS);
	EXPECT(root, "{\"cmd\": \"set_kernel_policy\", \"policy\": \"firewall\"}", "ok");
	CU_ASSERT_EQUAL(F.sw.kernel_policy, PMX_POLICY_FIREWALL);
}

static void test_rule_add_del(void)
{
	struct pmx_ctl_session *a = client("a");
	json_t *res;
	char text[256];
	unsigned rule;

	EXPECT(root, "{\"cmd\": \"rule_add\", \"owner\": \"kernel\"}", "EINVAL");
	EXPECT(root, "{\"cmd\": \"rule_add\", \"kind\": \"flow\", \"owner\": \"kernel\"}", "EINVAL");
	EXPECT(root, "{\"cmd\": \"rule_add\", \"kind\": \"listen\", \"proto\": \"tcp\","
		     " \"local_port\": 22}", "EINVAL");
	EXPECT(root, "{\"cmd\": \"rule_add\", \"kind\": \"listen\", \"proto\": \"tcp\","
		     " \"local_port\": 22, \"owner\": \"nobody\"}", "EINVAL");
	EXPECT(root, "{\"cmd\": \"rule_add\", \"kind\": \"listen\", \"proto\": \"tcp\","
		     " \"local_port\": 22, \"owner\": 3}", "ENOENT");
	EXPECT(root, "{\"cmd\": \"rule_add\", \"kind\": \"listen\", \"proto\": \"tcp\","
		     " \"local_port\": 22, \"owner\": \"kernel\", \"port\": 9}", "ENODEV");
	EXPECT(root, "{\"cmd\": \"rule_add\", \"kind\": \"connect\", \"proto\": \"tcp\","
		     " \"local_ip\": \"198.18.0.1\", \"local_port\": 22, \"owner\": \"drop\"}",
	       "EINVAL");
	/* every kind, every owner */
	CU_ASSERT_STRING_EQUAL(fx_call(root, "{\"cmd\": \"rule_add\", \"kind\": \"listen\", \"proto\":"
				       " \"tcp\", \"local_port\": 22, \"owner\": \"kernel\"}", &res),
			       "ok");
	rule = (unsigned)json_integer_value(json_object_get(res, "rule_id"));
	json_decref(res);
	EXPECT(root, "{\"cmd\": \"rule_add\", \"kind\": \"ip\", \"local_ip\": \"198.18.0.66\","
		     " \"owner\": \"drop\", \"port\": \"wan0\"}", "ok");
	snprintf(text, sizeof(text), "{\"cmd\": \"rule_add\", \"kind\": \"connect\", \"proto\":"
		 " \"udp\", \"local_ip\": \"198.18.0.1\", \"local_port\": 5000, \"remote_ip\":"
		 " \"198.18.0.2\", \"remote_port\": 53, \"owner\": {\"client_id\": %d}}",
		 a->client_id);
	EXPECT(root, text, "ok");
	CU_ASSERT_EQUAL(a->n_rules, 1);
	CU_ASSERT_EQUAL(fx_bind_probe(SOCK_DGRAM, "198.18.0.1", 5000), -EADDRINUSE);
	/* a client cannot take what an operator gave the kernel */
	EXPECT(a, "{\"cmd\": \"listen\", \"proto\": \"tcp\", \"port\": 22}", "EACCES");
	snprintf(text, sizeof(text), "{\"cmd\": \"rule_add\", \"kind\": \"listen\", \"proto\":"
		 " \"tcp\", \"local_port\": 22, \"owner\": %d}", a->client_id);
	EXPECT(root, text, "EADDRINUSE");
	/* rule_del: any rule of anyone */
	EXPECT(root, "{\"cmd\": \"rule_del\"}", "EINVAL");
	EXPECT(root, "{\"cmd\": \"rule_del\", \"rule_id\": 100000}", "ENOENT");
	snprintf(text, sizeof(text), "{\"cmd\": \"rule_del\", \"rule_id\": %u}", rule);
	EXPECT(root, text, "ok");
	EXPECT(root, text, "ENOENT");
	CU_ASSERT_STRING_EQUAL(fx_call(root, "{\"cmd\": \"rules\"}", &res), "ok");
	CU_ASSERT_EQUAL(json_array_size(json_object_get(res, "rules")), 2);
	for (size_t i = 0; i < json_array_size(json_object_get(res, "rules")); i++) {
		json_t *r = json_array_get(json_object_get(res, "rules"), i);

		snprintf(text, sizeof(text), "{\"cmd\": \"rule_del\", \"rule_id\": %lld}",
			 (long long)json_integer_value(json_object_get(r, "rule_id")));
		EXPECT(root, text, "ok");
	}
	json_decref(res);
	CU_ASSERT_EQUAL(a->n_rules, 0);
	CU_ASSERT_EQUAL(fx_bind_probe(SOCK_DGRAM, "198.18.0.1", 5000), 0);
	fx_session_free(a);
}

static void test_port_reservation(void)
{
	struct pmx_ctl_session *a = client("a"), *admin = fx_session(true, 0), *lan;
	json_t *res;
	int kfd;
	unsigned rule_any;
	char text[96];

	/* the kernel's ports cannot be claimed: a listener, on any or one address */
	kfd = fx_kernel_listen("0.0.0.0", 42000);
	CU_ASSERT_FATAL(kfd >= 0);
	EXPECT(a, "{\"cmd\": \"listen\", \"proto\": \"tcp\", \"port\": 42000}", "EADDRINUSE");
	EXPECT(a, "{\"cmd\": \"listen\", \"proto\": \"tcp\", \"ip\": \"198.18.0.1\", \"port\": 42000}",
	       "EADDRINUSE");
	EXPECT(a, "{\"cmd\": \"listen\", \"proto\": \"udp\", \"port\": 42000}", "ok");
	/* a port without a kernel path (lan1) does not look at the kernel's ports */
	lan = fx_session(false, 1000);
	EXPECT(lan, "{\"cmd\": \"hello\", \"port\": \"lan1\"}", "ok");
	EXPECT(lan, "{\"cmd\": \"listen\", \"proto\": \"tcp\", \"port\": 42000}", "ok");
	fx_session_free(lan);
	/* the kernel's and the client's, side by side */
	CU_ASSERT(fx_hello(admin, "admin") >= 0);
	CU_ASSERT_STRING_EQUAL(fx_call(admin, "{\"cmd\": \"used_ports\"}", &res), "ok");
	CU_ASSERT(json_array_size(json_object_get(res, "listening")) >= 2); /* kernel tcp + udp */
	json_decref(res);
	close(kfd);

	/* a client's ports cannot be bound by the kernel while its rule exists */
	EXPECT(a, "{\"cmd\": \"listen\", \"proto\": \"udp\", \"ip\": \"198.18.0.1\", \"port\": 42001}",
	       "ok");
	CU_ASSERT_EQUAL(fx_bind_probe(SOCK_DGRAM, "198.18.0.1", 42001), -EADDRINUSE);
	CU_ASSERT_EQUAL(fx_bind_probe(SOCK_DGRAM, "198.18.0.7", 42001), 0);
	/* the same client on every address: one wildcard socket replaces the per-address one */
	CU_ASSERT_STRING_EQUAL(fx_call(a, "{\"cmd\": \"listen\", \"proto\": \"udp\", \"port\": 42001}",
				       &res), "ok");
	rule_any = (unsigned)json_integer_value(json_object_get(res, "rule_id"));
	json_decref(res);
	CU_ASSERT_EQUAL(fx_bind_probe(SOCK_DGRAM, "198.18.0.7", 42001), -EADDRINUSE);
	CU_ASSERT_EQUAL(fx_bind_probe(SOCK_DGRAM, "fd00::7", 42001), -EADDRINUSE);
	/* releasing the wildcard rule re-binds the per-address one */
	snprintf(text, sizeof(text), "{\"cmd\": \"release\", \"rule_id\": %u}", rule_any);
	EXPECT(a, text, "ok");
	CU_ASSERT_EQUAL(fx_bind_probe(SOCK_DGRAM, "198.18.0.7", 42001), 0);
	CU_ASSERT_EQUAL(fx_bind_probe(SOCK_DGRAM, "198.18.0.1", 42001), -EADDRINUSE);
	/* used_ports shows the client's */
	CU_ASSERT_STRING_EQUAL(fx_call(user, "{\"cmd\": \"used_ports\"}", &res), "ok");
	CU_ASSERT_EQUAL(json_array_size(json_object_get(res, "listening")), 2);
	json_decref(res);
	/* the client goes: everything is free again */
	fx_session_free(a);
	CU_ASSERT_EQUAL(fx_bind_probe(SOCK_DGRAM, "198.18.0.1", 42001), 0);
	CU_ASSERT_EQUAL(fx_bind_probe(SOCK_DGRAM, "0.0.0.0", 42000), 0);
	CU_ASSERT_STRING_EQUAL(fx_call(user, "{\"cmd\": \"used_ports\"}", &res), "ok");
	CU_ASSERT_EQUAL(json_array_size(json_object_get(res, "listening")), 0);
	json_decref(res);
	fx_session_free(admin);
}

static void test_usnetd(void)
{
	struct pmx_ctl_session *a = client("usnet"), *b = client("other");
	static const char want[] = "{\"dst_addr\": {\"Ipv4\": \"198.18.0.1\"}, \"dst_port\": 8000,"
				   " \"src_addr\": null, \"src_port\": null, \"protocol\": 6}";
	json_t *res, *listening, *triple;
	char text[256];

	snprintf(text, sizeof(text), "{\"AddMatch\": %s}", want);
	EXPECT(user, text, "ENOTCONN");
	/* a whole protocol takes its low ports too: root's */
	EXPECT(a, "{\"AddMatch\": {\"dst_addr\": {\"Ipv4\": \"198.18.0.1\"}, \"protocol\": 6}}",
	       "EACCES");
	EXPECT(a, "{\"AddMatch\": {\"dst_addr\": {\"Ipv4\": \"x\"}, \"dst_port\": 1, \"protocol\": 6}}",
	       "EINVAL");
	EXPECT(a, "{\"AddMatch\": {\"dst_port\": 8000, \"protocol\": 6}}", "EINVAL");
	EXPECT(a, "{\"AddMatch\": {\"dst_addr\": {\"Ipv4\": \"198.18.0.1\"}, \"dst_port\": 8000,"
		  " \"src_port\": 9, \"protocol\": 6}}", "EINVAL");
	EXPECT(a, "{\"AddMatch\": {\"dst_addr\": {\"Ipv4\": \"198.18.0.1\"}, \"dst_port\": 8000,"
		  " \"protocol\": 300}}", "EINVAL");
	EXPECT(a, text, "ok");
	EXPECT(b, text, "EADDRINUSE");
	/* the envelope form is the same command */
	EXPECT(a, "{\"cmd\": \"AddMatch\", \"id\": 3, \"dst_addr\": {\"Ipv6\": \"fd00::1\"},"
		  " \"dst_port\": 8001, \"src_addr\": {\"Ipv6\": \"fd00::2\"}, \"src_port\": 9,"
		  " \"protocol\": 17}", "ok");
	CU_ASSERT_EQUAL(a->n_rules, 2);
	CU_ASSERT_STRING_EQUAL(fx_call(b, "\"QueryUsedPorts\"", &res), "ok");
	listening = json_object_get(json_object_get(res, "QueryUsedPortsAnswer"), "listening");
	CU_ASSERT_EQUAL(json_array_size(json_object_get(json_object_get(res, "QueryUsedPortsAnswer"),
							"connected")), 1);
	CU_ASSERT_EQUAL_FATAL(json_array_size(listening), 1);
	triple = json_array_get(listening, 0);
	CU_ASSERT_EQUAL(json_integer_value(json_array_get(triple, 0)), 6);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(triple, 1), "Ipv4")),
			       "198.18.0.1");
	CU_ASSERT_EQUAL(json_integer_value(json_array_get(triple, 2)), 8000);
	json_decref(res);
	snprintf(text, sizeof(text), "{\"RemoveMatch\": %s}", want);
	EXPECT(b, text, "EPERM");
	EXPECT(a, text, "ok");
	EXPECT(a, text, "ENOENT");
	EXPECT(a, "\"DeleteClient\"", "ok");
	CU_ASSERT_EQUAL(a->client_id, -1);
	EXPECT(a, "\"DeleteClient\"", "ENOTCONN");
	fx_session_free(a);
	fx_session_free(b);
	CU_ASSERT_EQUAL(pmx_flow_table_count(F.sw.ft), 0);
}

#define MATCH(dst, extra, proto)                                                                   \
	"{\"AddMatch\": {\"dst_addr\": " dst extra ", \"protocol\": " #proto "}}"
#define V4(a) "{\"Ipv4\": \"" a "\"}"
#define V6(a) "{\"Ipv6\": \"" a "\"}"
#define FROM(a) ", \"src_addr\": " V4(a)

/* AddMatch without dst_port or src_port: against other clients, then against the kernel. */
static void test_usnetd_protocol_wide(void)
{
	struct pmx_ctl_session *a = client("ping"), *b = client("other");
	struct pmx_ctl_session *r = fx_session(true, 0);
	json_t *res, *rule;
	int fd;

	CU_ASSERT(fx_hello(r, "root") >= 0);
	EXPECT(a, MATCH(V4("0.0.0.0"), "", 1), "ENOTSUP");
	EXPECT(a, MATCH(V4("198.18.0.1"), ", \"src_port\": 7", 1), "EINVAL");
	EXPECT(a, MATCH(V4("198.18.0.1"), FROM("198.18.0.2") ", \"src_port\": 7", 1), "ENOTSUP");
	/* a ping responder: every ICMP frame to the address */
	EXPECT(a, MATCH(V4("198.18.0.1"), "", 1), "ok");
	CU_ASSERT_STRING_EQUAL(fx_call(a, "{\"cmd\": \"rules\"}", &res), "ok");
	rule = json_array_get(json_object_get(res, "rules"), 0);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(rule, "kind")), "proto");
	CU_ASSERT_PTR_NULL(json_object_get(rule, "local_port"));
	json_decref(res);
	EXPECT(b, MATCH(V4("198.18.0.1"), "", 1), "EADDRINUSE");
	EXPECT(b, MATCH(V4("198.18.0.1"), ", \"dst_port\": 7", 1), "EADDRINUSE"); /* an echo id */
	EXPECT(b, MATCH(V4("198.18.0.1"), FROM("198.18.0.2"), 1), "EADDRINUSE");
	EXPECT(b, MATCH(V4("198.18.0.9"), "", 1), "ok"); /* another address */
	EXPECT(b, "{\"RemoveMatch\": {\"dst_addr\": " V4("198.18.0.9") ", \"protocol\": 1}}", "ok");
	EXPECT(b, "{\"RemoveMatch\": {\"dst_addr\": " V4("198.18.0.9") ", \"protocol\": 1}}",
	       "ENOENT");
	/* a port from one peer, and that peer's whole protocol */
	EXPECT(b, MATCH(V4("198.18.0.1"), ", \"dst_port\": 8100" FROM("198.18.0.2"), 17), "ok");
	EXPECT(r, MATCH(V4("198.18.0.1"), FROM("198.18.0.2"), 17), "EADDRINUSE");
	EXPECT(r, MATCH(V4("198.18.0.1"), FROM("198.18.0.3"), 17), "ok");
	/* a port on that address: the peer's frames to it are root's */
	EXPECT(a, MATCH(V4("198.18.0.1"), ", \"dst_port\": 8200", 17), "EADDRINUSE");

	/* the same port with a kernel path: what the kernel at its own address has stays its */
	snprintf(F.sw.ports[0].exc_kind, sizeof(F.sw.ports[0].exc_kind), "tap");
	__atomic_store_n(&F.sw.kernel_policy, PMX_POLICY_PASS, __ATOMIC_RELEASE);
	EXPECT(b, MATCH(V6("fd00::1"), "", 58), "EADDRINUSE"); /* pass: everything */
	__atomic_store_n(&F.sw.kernel_policy, PMX_POLICY_FIREWALL, __ATOMIC_RELEASE);
	F.cfg.allow[0] = (struct pmx_proto_port){.proto = PMX_PROTO_ICMPV6};
	F.cfg.n_allow = 1;
	EXPECT(b, MATCH(V6("fd00::1"), "", 58), "EADDRINUSE"); /* allowed: it answers ping */
	F.cfg.n_allow = 0;
	fd = fx_kernel_listen("0.0.0.0", 2222);
	CU_ASSERT(fd >= 0);
	EXPECT(r, MATCH(V4("198.18.0.1"), "", 6), "EADDRINUSE"); /* its socket on tcp 2222 */
	close(fd);
	EXPECT(r, MATCH(V4("198.18.0.1"), "", 6), "ok");
	EXPECT(b, MATCH(V6("fd00::1"), "", 58), "ok"); /* firewalled, not allowed: free */
	snprintf(F.sw.ports[0].exc_kind, sizeof(F.sw.ports[0].exc_kind), "none");

	fx_session_free(a);
	fx_session_free(b);
	fx_session_free(r);
	CU_ASSERT_EQUAL(pmx_flow_table_count(F.sw.ft), 0);
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"malformed requests", test_malformed_requests},
		{"ENOTCONN and EPERM", test_needs_client_and_admin},
		{"hello", test_hello},
		{"memif identity kept across a restart", test_memif_identity},
		{"listen errors and quota", test_listen_errors},
		{"connect, claim_ip, release", test_connect_claim_release},
		{"rules visibility", test_rules_visibility},
		{"stats and clear_stats", test_stats_and_clear},
		{"port_info", test_port_info},
		{"clients and kick", test_clients_and_kick},
		{"set_kernel_policy", test_set_kernel_policy},
		{"rule_add and rule_del", test_rule_add_del},
		{"port reservation", test_port_reservation},
		{"usnetd messages", test_usnetd},
		{"usnetd matches without ports", test_usnetd_protocol_wide},
	};

	fx_eal_init("test_ctl");
	return cunit_run("ctl", suite_init, suite_cleanup, tests, RTE_DIM(tests));
}
