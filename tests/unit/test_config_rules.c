/* test_config_rules.c - unit tests for the config file's "rules" (JSON -> struct pmx_config_rule)
 * and the rule parser it shares with the control API (rule_spec.c) */
/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Covers, negative cases first:
 *  - table of bad "rules": not an array, an entry not an object, unknown key, missing kind /
 *    owner / proto / local_port / local_ip / remote end, bad kind, bad proto, L4 port out of
 *    range or not an integer, bad or "any" addresses where one address is needed, an owner
 *    that is not a client name, a NIC port that does not exist (by name and index, and the
 *    hint that the L4 port is local_port), the same rule twice, rules of two owners that
 *    overlap (same port, any address against one address, an IP rule against a listener,
 *    a connection inside another owner's listener); each gives -EINVAL, the key path
 *    ("rules[1].proto: ...") and a zeroed config;
 *  - too many rules (PMX_MAX_CONFIG_RULES + 1);
 *  - positive: every kind with every field into the flow key (IPv4 mapped, IPv6, ports in
 *    network order, NIC port by name and index, "*" = every address), overlaps that are fine
 *    (one owner; connections with different remote ends; different NIC ports);
 *  - rule_spec.c directly: the listen names ("ip", "port") and the message parts the control
 *    API turns into its errors.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <CUnit/Basic.h>

#include "config.h"
#include "cunit_run.h"
#include "rule_spec.h"

#define ERR_LEN 512
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ' stands for " in the texts below; two ports, wan0 and lan1 */
#define RULES(x)                                                                                   \
	"{'eal':[],'ports':[{'name':'wan0','device':'net_null0'},"                                 \
	"{'name':'lan1','device':'net_null1'}],'rules':" x "}"
#define UDP53 "{'kind':'listen','proto':'udp','local_port':53,'owner':'dns'}"

/* A copy of s with ' turned into ". */
static char *dq(const char *s)
{
	char *out = strdup(s);

	for (char *p = out; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	return out;
}

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

static void expect_error(const char *text, const char *want_text)
{
	static struct pmx_config cfg;
	char *json = dq(text), *want = dq(want_text), err[ERR_LEN] = "";
	bool ok;
	int rc;

	memset(&cfg, 0xa5, sizeof(cfg));
	rc = pmx_config_parse(json, "portmuxd", &cfg, err, sizeof(err));
	ok = rc == -EINVAL && strstr(err, want) != NULL && all_zero(&cfg, sizeof(cfg));
	CU_ASSERT(ok);
	if (!ok)
		printf("\n    text: %.300s\n    rc %d, err \"%s\", want \"%s\"\n", json, rc, err,
		       want);
	if (rc == 0)
		pmx_config_free(&cfg);
	free(json);
	free(want);
}

static void test_bad_rules(void)
{
	static const struct {
		const char *json, *expect;
	} cases[] = {
		{RULES("{}"), "rules: must be an array of objects"},
		{RULES("[7]"), "rules[0]: must be an object"},
		{RULES("[" UDP53 ",{'kind':'listen','proto':'udp','local_port':54,'owner':'dns',"
		       "'ip':'198.18.0.1'}]"),
		 "rules[1]: unknown key 'ip'"},
		{RULES("[{'proto':'udp','local_port':53,'owner':'dns'}]"),
		 "rules[0]: missing required key 'kind'"},
		{RULES("[{'kind':'listen','proto':'udp','local_port':53}]"),
		 "rules[0]: missing required key 'owner'"},
		{RULES("[{'kind':'listen','local_port':53,'owner':'dns'}]"),
		 "rules[0]: missing required key 'proto'"},
		{RULES("[{'kind':'listen','proto':'udp','owner':'dns'}]"),
		 "rules[0]: missing required key 'local_port'"},
		{RULES("[{'kind':'bind','proto':'udp','local_port':53,'owner':'dns'}]"),
		 "rules[0].kind: must be 'listen', 'connect' or 'ip'"},
		{RULES("[{'kind':7,'proto':'udp','local_port':53,'owner':'dns'}]"),
		 "rules[0].kind: must be"},
		{RULES("[{'kind':'listen','proto':'quic','local_port':53,'owner':'dns'}]"),
		 "rules[0].proto: must be tcp, udp, sctp, udplite, dccp, icmp, icmpv6 or a number"},
		{RULES("[{'kind':'listen','proto':17,'local_port':53,'owner':'dns'}]"),
		 "rules[0].proto: must be tcp, udp"},
		{RULES("[{'kind':'listen','proto':'udp','local_port':65536,'owner':'dns'}]"),
		 "rules[0].local_port: must be an integer 1..65535"},
		{RULES("[{'kind':'listen','proto':'udp','local_port':0,'owner':'dns'}]"),
		 "rules[0].local_port: must be an integer 1..65535"},
		{RULES("[{'kind':'listen','proto':'udp','local_port':'53','owner':'dns'}]"),
		 "rules[0].local_port: must be an integer 1..65535"},
		{RULES("[{'kind':'listen','proto':'udp','local_port':53,'owner':'dns',"
		       "'local_ip':'198.18.0.300'}]"),
		 "rules[0].local_ip: is not an IPv4 or IPv6 address"},
		{RULES("[{'kind':'listen','proto':'udp','local_port':53,'owner':'dns','local_ip':5}"
		       "]"),
		 "rules[0].local_ip: must be a string"},
		{RULES("[{'kind':'connect','proto':'tcp','local_ip':'198.18.0.1','local_port':4000,"
		       "'remote_ip':'198.18.0.2','owner':'dns'}]"),
		 "rules[0]: missing required key 'remote_port'"},
		{RULES("[{'kind':'connect','proto':'tcp','local_ip':'*','local_port':4000,"
		       "'remote_ip':'198.18.0.2','remote_port':80,'owner':'dns'}]"),
		 "rules[0].local_ip: must be one address, not any"},
		{RULES("[{'kind':'connect','proto':'tcp','local_ip':'198.18.0.1','local_port':4000,"
		       "'remote_ip':'::','remote_port':80,'owner':'dns'}]"),
		 "rules[0].remote_ip: must be one address, not any"},
		{RULES("[{'kind':'ip','owner':'dns'}]"),
		 "rules[0]: missing required key 'local_ip'"},
		{RULES("[{'kind':'listen','proto':'udp','local_port':53,'owner':''}]"),
		 "rules[0].owner: must be a client name"},
		{RULES("[{'kind':'listen','proto':'udp','local_port':53,'owner':'a b'}]"),
		 "rules[0].owner: must be a client name"},
		{RULES("[{'kind':'listen','proto':'udp','local_port':53,"
		       "'owner':'abcdefghijklmnopqrstuvwxyz012345'}]"),
		 "rules[0].owner: must be a client name (1..31"},
		{RULES("[{'kind':'listen','proto':'udp','local_port':53,'owner':'dns','port':'lan9'"
		       "}]"),
		 "rules[0].port: no such NIC port"},
		{RULES("[{'kind':'listen','proto':'udp','local_port':53,'owner':'dns','port':53}]"),
		 "the L4 port is 'local_port'"},
		{RULES("[{'kind':'listen','proto':'udp','local_port':53,'owner':'dns','port':[]}]"),
		 "rules[0].port: must be the name or index of a NIC port"},
		{RULES("[" UDP53 "," UDP53 "]"), "rules[1]: the same rule as rules[0]"},
		{RULES("[" UDP53 ",{'kind':'listen','proto':'udp','local_port':53,'owner':'web'}]"),
		 "rules[1]: the same rule as rules[0]"},
		{RULES("[" UDP53 ",{'kind':'listen','proto':'udp','local_port':53,'owner':'web',"
		       "'local_ip':'198.18.0.1'}]"),
		 "rules[1]: overlaps rules[0], which 'dns' owns"},
		{RULES("[{'kind':'ip','local_ip':'198.18.0.9','owner':'web'}," UDP53 "]"),
		 "rules[1]: overlaps rules[0], which 'web' owns"},
		{RULES("[{'kind':'listen','proto':'tcp','local_port':80,'local_ip':'fd00::1',"
		       "'owner':'web'},{'kind':'connect','proto':'tcp','local_ip':'fd00::1',"
		       "'local_port':80,'remote_ip':'fd00::2','remote_port':5000,'owner':'dns'}]"),
		 "rules[1]: overlaps rules[0], which 'web' owns"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		expect_error(cases[i].json, cases[i].expect);
}

static void test_too_many(void)
{
	size_t len = 128 + 96 * (PMX_MAX_CONFIG_RULES + 1);
	char *arr = malloc(len), *text = malloc(len + 256);
	size_t n = 0;

	CU_ASSERT_FATAL(arr != NULL && text != NULL);
	n += (size_t)snprintf(arr + n, len - n, "[");
	for (int i = 0; i <= PMX_MAX_CONFIG_RULES; i++)
		n += (size_t)snprintf(
			arr + n, len - n,
			"%s{'kind':'listen','proto':'udp','local_port':%d,'owner':'x'}",
			i ? "," : "", 1000 + i);
	snprintf(arr + n, len - n, "]");
	snprintf(text, len + 256, RULES("%s"), arr);
	expect_error(text, "rules: at most 128 entries");
	free(arr);
	free(text);
}

static void test_good_rules(void)
{
	static const uint8_t v4[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 18, 0, 1};
	static const uint8_t v4b[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 18, 0, 2};
	static const uint8_t v6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	static const uint8_t any[16];
	static struct pmx_config cfg;
	char *json = dq(
		RULES("[" UDP53 ","
		      "{'kind':'listen','proto':'tcp','local_ip':'fd00::1','local_port':8080,'"
		      "owner':'web',"
		      " 'port':'lan1'},"
		      "{'kind':'connect','proto':'tcp','local_ip':'198.18.0.1','local_port':40000,"
		      " 'remote_ip':'198.18.0.2','remote_port':80,'owner':'dns.v2','port':0},"
		      "{'kind':'connect','proto':'tcp','local_ip':'198.18.0.1','local_port':40000,"
		      " 'remote_ip':'198.18.0.2','remote_port':81,'owner':'web'},"
		      "{'kind':'listen','proto':'udp','local_ip':'198.18.0.1','local_port':53,'"
		      "owner':'dns'},"
		      "{'kind':'listen','proto':'udp','local_ip':'*','local_port':53,'owner':'web',"
		      " 'port':1},"
		      "{'kind':'ip','local_ip':'198.18.0.2','owner':'web','port':'lan1'}]"));
	char err[ERR_LEN] = "";

	CU_ASSERT_EQUAL_FATAL(pmx_config_parse(json, "portmuxd", &cfg, err, sizeof(err)), 0);
	free(json);
	CU_ASSERT_EQUAL(cfg.n_rules, 7);
	/* 0: listen on every address of port 0 */
	CU_ASSERT_EQUAL(cfg.rules[0].key.kind, PMX_KEY_LISTEN);
	CU_ASSERT_EQUAL(cfg.rules[0].key.proto, 17);
	CU_ASSERT_EQUAL(cfg.rules[0].key.local_port, htons(53));
	CU_ASSERT_EQUAL(cfg.rules[0].key.port_id, 0);
	CU_ASSERT_EQUAL(memcmp(cfg.rules[0].key.local_ip, any, 16), 0);
	CU_ASSERT_STRING_EQUAL(cfg.rules[0].owner, "dns");
	/* 1: IPv6, NIC port by name */
	CU_ASSERT_EQUAL(cfg.rules[1].key.port_id, 1);
	CU_ASSERT_EQUAL(memcmp(cfg.rules[1].key.local_ip, v6, 16), 0);
	CU_ASSERT_EQUAL(cfg.rules[1].key.local_port, htons(8080));
	/* 2, 3: connections of two owners from one local port, different remote ends */
	CU_ASSERT_EQUAL(cfg.rules[2].key.kind, PMX_KEY_EXACT);
	CU_ASSERT_EQUAL(memcmp(cfg.rules[2].key.local_ip, v4, 16), 0);
	CU_ASSERT_EQUAL(memcmp(cfg.rules[2].key.remote_ip, v4b, 16), 0);
	CU_ASSERT_EQUAL(cfg.rules[2].key.local_port, htons(40000));
	CU_ASSERT_EQUAL(cfg.rules[2].key.remote_port, htons(80));
	CU_ASSERT_STRING_EQUAL(cfg.rules[2].owner, "dns.v2");
	CU_ASSERT_EQUAL(cfg.rules[3].key.remote_port, htons(81));
	/* 4: one owner may overlap itself; 5: another owner on another NIC port */
	CU_ASSERT_EQUAL(memcmp(cfg.rules[4].key.local_ip, v4, 16), 0);
	CU_ASSERT_EQUAL(cfg.rules[5].key.port_id, 1);
	/* 6: an IP rule (on port 0 it would overlap rules[0] of "dns") */
	CU_ASSERT_EQUAL(cfg.rules[6].key.kind, PMX_KEY_IP);
	CU_ASSERT_EQUAL(cfg.rules[6].key.port_id, 1);
	CU_ASSERT_EQUAL(cfg.rules[6].key.proto, 0);
	CU_ASSERT_EQUAL(cfg.rules[6].key.local_port, 0);
	CU_ASSERT_EQUAL(memcmp(cfg.rules[6].key.local_ip, v4b, 16), 0);
	pmx_config_free(&cfg);
	/* no "rules": none */
	json = dq("{'eal':[],'ports':[{'name':'wan0','device':'net_null0'}]}");
	CU_ASSERT_EQUAL_FATAL(pmx_config_parse(json, "portmuxd", &cfg, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cfg.n_rules, 0);
	pmx_config_free(&cfg);
	free(json);
}

/* What the control API builds its messages from: the key at fault and why. */
static void test_rule_spec(void)
{
	struct pmx_flow_key key = {.port_id = 3};
	struct pmx_rule_error err;
	json_t *req;

	CU_ASSERT_EQUAL(pmx_rule_kind_parse("listen"), PMX_KEY_LISTEN);
	CU_ASSERT_EQUAL(pmx_rule_kind_parse("connect"), PMX_KEY_EXACT);
	CU_ASSERT_EQUAL(pmx_rule_kind_parse("ip"), PMX_KEY_IP);
	CU_ASSERT_EQUAL(pmx_rule_kind_parse("LISTEN"), -EINVAL);
	CU_ASSERT_EQUAL(pmx_rule_kind_parse(NULL), -EINVAL);
	/* listen's own names: "ip" and "port"; port_id is kept */
	req = json_pack("{s:s, s:s, s:i}", "proto", "udp", "ip", "fd00::1", "port", 7);
	CU_ASSERT_EQUAL(
		pmx_rule_spec_parse(req, PMX_KEY_LISTEN, &pmx_rule_names_listen, &key, &err), 0);
	CU_ASSERT_EQUAL(key.port_id, 3);
	CU_ASSERT_EQUAL(key.local_port, htons(7));
	CU_ASSERT_EQUAL(key.local_ip[0], 0xfd);
	/* the same object read with the full names lacks local_port */
	CU_ASSERT_EQUAL(pmx_rule_spec_parse(req, PMX_KEY_LISTEN, &pmx_rule_names_full, &key, &err),
			-EINVAL);
	CU_ASSERT_STRING_EQUAL(err.key, "local_port");
	CU_ASSERT_TRUE(err.missing);
	json_decref(req);
	req = json_pack("{s:s, s:i}", "proto", "tcp", "port", 70000);
	CU_ASSERT_EQUAL(
		pmx_rule_spec_parse(req, PMX_KEY_LISTEN, &pmx_rule_names_listen, &key, &err),
		-EINVAL);
	CU_ASSERT_STRING_EQUAL(err.key, "port");
	CU_ASSERT_FALSE(err.missing);
	CU_ASSERT_STRING_EQUAL(err.why, "must be an integer 1..65535");
	CU_ASSERT_EQUAL(key.local_port, htons(7)); /* untouched on failure */
	CU_ASSERT_EQUAL(pmx_rule_spec_parse(req, 9, &pmx_rule_names_listen, &key, &err), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err.key, "kind");
	json_decref(req);
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"bad rules (table)", test_bad_rules},
		{"too many rules", test_too_many},
		{"good rules", test_good_rules},
		{"rule_spec for the control API", test_rule_spec},
	};

	return cunit_run("config_rules", NULL, NULL, tests, ARRAY_SIZE(tests));
}
