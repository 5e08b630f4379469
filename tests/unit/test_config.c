/* test_config.c - unit tests for the strict config loader (JSON text/file -> struct pmx_config) */
/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Covers, negative cases first:
 *  - table of bad texts: invalid JSON (syntax with line number, empty, trailing data, NUL,
 *    huge numbers, duplicate keys at two levels), top level not an object, unknown keys at
 *    every level, missing required keys, wrong types and out-of-range values for every key,
 *    bad port names / interface names / addresses / kernel.allow and clients.low_ports
 *    entries, cross-field rules (duplicate port names and interfaces, exception.device vs
 *    type, rule_quota vs max_rules in either key order); each must give -EINVAL, an error
 *    naming the key path, and a zeroed *out;
 *  - generated bad texts: strings one byte too long, too many ports/addresses/allow entries;
 *  - NULL/short error buffers and NULL arguments;
 *  - pmx_proto_port_parse() and pmx_proto_parse() tables, good and bad;
 *  - positive: defaults of a minimal config, every key of a full config, boundary values,
 *    the rule_quota default clamped to max_rules;
 *  - pmx_config_append_eal() and pmx_config_free() (NULL, twice);
 *  - pmx_config_load(): missing file, directory, good-minimal.json, and the bad-input
 *    catalogue tests/config/expected-errors.txt (every bad-*.json there must be listed).
 * Usage: test_config [CONFIG_DIR]; CONFIG_DIR defaults to $PMX_CONFIG_DIR, then "tests/config".
 */

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

#include "config.h"
#include "cunit_run.h"

#define ERR_LEN 512
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Texts below use ' for " so they stay readable; dq() turns them into JSON. */
#define MIN_PORT "{'name':'p0','device':'net_null0'}"
#define TOP(x) "{'eal':[],'ports':[" MIN_PORT "]," x "}"
#define EAL(x) "{'eal':" x ",'ports':[" MIN_PORT "]}"
#define PORTS(x) "{'eal':[],'ports':" x "}"
#define PORT(x) "{'eal':[],'ports':[{'name':'p0','device':'net_null0'," x "}]}"
#define NAME(x) "{'eal':[],'ports':[{'device':'net_null0','name':" x "}]}"
#define DEVICE(x) "{'eal':[],'ports':[{'name':'p0','device':" x "}]}"
#define EXC(x) PORT("'exception':{" x "}")
#define ADDR(x) EXC("'addresses':[" x "]")
#define KERNEL(x) TOP("'kernel':{" x "}")
#define ALLOW(x) KERNEL("'allow':[" x "]")
#define CONTROL(x) TOP("'control':{" x "}")
#define CLIENTS(x) TOP("'clients':{" x "}")
#define LOW(x) CLIENTS("'low_ports':[" x "]")

static const char *cfg_dir;

struct bad_case {
	const char *json;   /* ' stands for " */
	const char *expect; /* substring of the error; ' stands for " */
};

static const struct bad_case bad_cases[] = {
	/* invalid JSON, top level */
	{"", "invalid JSON at line 1"},
	{"{", "invalid JSON at line 1"},
	{"{'eal':[],}", "invalid JSON"},
	{"{'eal':[]} x", "invalid JSON"},
	{"{'eal':[],\n'ports':[\n{'name':'a' 'device':'b'}]}", "invalid JSON at line 3"},
	{"{'eal':[],'eal':[]}", "duplicate object key"},
	{PORT("'name':'p1'"), "duplicate object key"},
	{EAL("['a\\u0000b']"), "invalid JSON"},
	{TOP("'mbufs':99999999999999999999999"), "invalid JSON"},
	{PORT("'rx_queues':1e400"), "invalid JSON"},
	{"[]", "must be a JSON object"},
	/* unknown keys at each level */
	{TOP("'foo':1"), "unknown key 'foo'"},
	{TOP("'a\\nb':1"), "unknown key 'a?b'"},
	{PORT("'rxqueues':1"), "ports[0]: unknown key 'rxqueues'"},
	{PORT("'driver':'kernel'"), "ports[0].driver: must be \"portmux\" or \"dpdk\""},
	{PORT("'driver':1"), "ports[0].driver: must be a string"},
	{EXC("'ifname':'x'"), "ports[0].exception: unknown key 'ifname'"},
	{KERNEL("'allows':[]"), "kernel: unknown key 'allows'"},
	{CONTROL("'sockett':'/x'"), "control: unknown key 'sockett'"},
	{CLIENTS("'ringsize':64"), "clients: unknown key 'ringsize'"},
	/* missing required keys */
	{"{}", "missing required key 'eal'"},
	{"{'ports':[" MIN_PORT "]}", "missing required key 'eal'"},
	{"{'eal':[]}", "missing required key 'ports'"},
	{PORTS("[{'device':'d'}]"), "ports[0]: missing required key 'name'"},
	{PORTS("[{'name':'p'}]"), "ports[0]: missing required key 'device'"},
	{PORTS("[" MIN_PORT ",{'name':'p1'}]"), "ports[1]: missing required key 'device'"},
	{EXC("'type':'device'"), "ports[0].exception: missing required key 'device'"},
	/* eal */
	{EAL("'-l 0'"), "eal: must be an array of strings"},
	{EAL("null"), "eal: must be an array of strings"},
	{EAL("{}"), "eal: must be an array of strings"},
	{EAL("['-l',0]"), "eal[1]: must be a string"},
	{EAL("[null]"), "eal[0]: must be a string"},
	/* ports */
	{PORTS("{}"), "ports: must be an array"},
	{PORTS("'p0'"), "ports: must be an array"},
	{PORTS("[]"), "ports: must have 1..8 entries"},
	{PORTS("['p0']"), "ports[0]: must be an object"},
	{PORTS("[" MIN_PORT ",null]"), "ports[1]: must be an object"},
	{NAME("1"), "ports[0].name: must be a string"},
	{NAME("null"), "ports[0].name: must be a string"},
	{NAME("''"), "ports[0].name: bad name ''"},
	{NAME("'abcdefghijklmnopqrstuvwxyz012345'"), "ports[0].name: bad name"},
	{NAME("'wan 0'"), "ports[0].name: bad name 'wan 0'"},
	{NAME("'wan/0'"), "ports[0].name: bad name"},
	{NAME("'wan.0'"), "ports[0].name: bad name"},
	{NAME("'w\\u00e4n'"), "ports[0].name: bad name"},
	{PORTS("[{'name':'a','device':'d'},{'name':'a','device':'e'}]"),
	 "ports[1].name: duplicate name 'a'"},
	{DEVICE("5"), "ports[0].device: must be a string"},
	{DEVICE("['x']"), "ports[0].device: must be a string"},
	{DEVICE("''"), "ports[0].device: must be a string of 1..511 bytes"},
	{PORT("'rx_queues':0"), "ports[0].rx_queues: must be an integer 1..16"},
	{PORT("'rx_queues':17"), "ports[0].rx_queues: must be an integer 1..16"},
	{PORT("'rx_queues':-1"), "ports[0].rx_queues: must be an integer 1..16"},
	{PORT("'rx_queues':1.5"), "ports[0].rx_queues: must be an integer 1..16"},
	{PORT("'rx_queues':1.0"), "ports[0].rx_queues: must be an integer 1..16"},
	{PORT("'rx_queues':'4'"), "ports[0].rx_queues: must be an integer 1..16"},
	{PORT("'rx_queues':true"), "ports[0].rx_queues: must be an integer 1..16"},
	{PORT("'rx_queues':null"), "ports[0].rx_queues: must be an integer 1..16"},
	/* ports[].exception */
	{PORT("'exception':'tap'"), "ports[0].exception: must be an object"},
	{PORT("'exception':null"), "ports[0].exception: must be an object"},
	{PORT("'exception':[]"), "ports[0].exception: must be an object"},
	{EXC("'type':5"), "ports[0].exception.type: must be a string"},
	{EXC("'type':'kni'"), "ports[0].exception.type: must be one of auto, tap"},
	{EXC("'type':'TAP'"), "ports[0].exception.type: must be one of"},
	{EXC("'type':''"), "ports[0].exception.type: must be one of"},
	{EXC("'iface':5"), "ports[0].exception.iface: must be a string"},
	{EXC("'iface':''"), "ports[0].exception.iface: bad interface name ''"},
	{EXC("'iface':'abcdefghijklmnop'"), "ports[0].exception.iface: bad interface name"},
	{EXC("'iface':'a/b'"), "ports[0].exception.iface: bad interface name"},
	{EXC("'iface':'a b'"), "ports[0].exception.iface: bad interface name"},
	{EXC("'iface':'a:b'"), "ports[0].exception.iface: bad interface name"},
	{EXC("'iface':'.'"), "ports[0].exception.iface: bad interface name"},
	{EXC("'iface':'..'"), "ports[0].exception.iface: bad interface name"},
	{EXC("'type':'tap','device':'x'"),
	 "ports[0].exception.device: only allowed when type is 'device'"},
	{EXC("'device':'x'"), "ports[0].exception.device: only allowed when type is 'device'"},
	{EXC("'type':'none','device':'x'"), "ports[0].exception.device: only allowed"},
	{EXC("'type':'device','device':''"),
	 "ports[0].exception.device: must be a string of 1..511 bytes"},
	{EXC("'type':'device','device':7"), "ports[0].exception.device: must be a string"},
	{EXC("'addresses':'192.0.2.1'"), "ports[0].exception.addresses: must be an array"},
	{EXC("'addresses':{}"), "ports[0].exception.addresses: must be an array"},
	{ADDR("1"), "ports[0].exception.addresses[0]: must be a string"},
	{ADDR("'192.0.2.1',null"), "ports[0].exception.addresses[1]: must be a string"},
	{ADDR("'1.2.3'"), "ports[0].exception.addresses[0]: bad address '1.2.3'"},
	{ADDR("'192.0.2.1','1.2.3.4.5'"), "ports[0].exception.addresses[1]: bad address"},
	{ADDR("'256.1.1.1'"), "ports[0].exception.addresses[0]: bad address"},
	{ADDR("'10.0.0.1/24'"), "ports[0].exception.addresses[0]: bad address"},
	{ADDR("' 10.0.0.1'"), "ports[0].exception.addresses[0]: bad address"},
	{ADDR("'fe80::1%eth0'"), "ports[0].exception.addresses[0]: bad address"},
	{ADDR("'2001:db8::g'"), "ports[0].exception.addresses[0]: bad address"},
	{ADDR("'localhost'"), "ports[0].exception.addresses[0]: bad address 'localhost'"},
	{ADDR("''"), "ports[0].exception.addresses[0]: bad address ''"},
	{ADDR("'0.0.0.0'"), "ports[0].exception.addresses[0]: '0.0.0.0' is not a unicast address"},
	{ADDR("'::'"), "ports[0].exception.addresses[0]: '::' is not a unicast address"},
	{ADDR("'224.0.0.1'"), "ports[0].exception.addresses[0]: '224.0.0.1' is not a unicast"},
	{ADDR("'255.255.255.255'"), "ports[0].exception.addresses[0]: '255.255.255.255' is not"},
	{ADDR("'ff02::1'"), "ports[0].exception.addresses[0]: 'ff02::1' is not a unicast"},
	{ADDR("'192.0.2.1','::ffff:192.0.2.1'"),
	 "ports[0].exception.addresses[1]: duplicate address '::ffff:192.0.2.1'"},
	{ADDR("'2001:db8::1','2001:DB8:0::1'"), "ports[0].exception.addresses[1]: duplicate"},
	{PORTS("[{'name':'a','device':'d','exception':{'iface':'pmx1'}},"
	       "{'name':'b','device':'e'}]"),
	 "ports[1].exception.iface: interface 'pmx1' already used by ports[0]"},
	/* kernel */
	{TOP("'kernel':[]"), "kernel: must be an object"},
	{TOP("'kernel':null"), "kernel: must be an object"},
	{KERNEL("'policy':1"), "kernel.policy: must be a string"},
	{KERNEL("'policy':'drop'"), "kernel.policy: must be 'pass' or 'firewall'"},
	{KERNEL("'policy':'Pass'"), "kernel.policy: must be 'pass' or 'firewall'"},
	{KERNEL("'allow':'tcp:22'"), "kernel.allow: must be an array of strings"},
	{ALLOW("22"), "kernel.allow[0]: must be a string"},
	{ALLOW("'icmp','tcp:99999'"), "kernel.allow[1]: bad entry 'tcp:99999'"},
	{ALLOW("'tcp:0'"), "kernel.allow[0]: bad entry 'tcp:0'"},
	{ALLOW("'tcp:'"), "kernel.allow[0]: bad entry 'tcp:'"},
	{ALLOW("'tcp:20-10'"), "kernel.allow[0]: bad entry 'tcp:20-10'"},
	{ALLOW("'tcp:22-'"), "kernel.allow[0]: bad entry"},
	{ALLOW("'tcp:-22'"), "kernel.allow[0]: bad entry"},
	{ALLOW("'tcp:1-65536'"), "kernel.allow[0]: bad entry"},
	{ALLOW("'tcp:1:2'"), "kernel.allow[0]: bad entry"},
	{ALLOW("'tcp 22'"), "kernel.allow[0]: bad entry"},
	{ALLOW("':22'"), "kernel.allow[0]: bad entry"},
	{ALLOW("''"), "kernel.allow[0]: bad entry ''"},
	{ALLOW("'icmp:8'"), "kernel.allow[0]: bad entry 'icmp:8'"},
	{ALLOW("'icmpv6:1'"), "kernel.allow[0]: bad entry"},
	{ALLOW("'47:1'"), "kernel.allow[0]: bad entry '47:1'"},
	{ALLOW("'gre'"), "kernel.allow[0]: bad entry 'gre'"},
	{ALLOW("'256'"), "kernel.allow[0]: bad entry '256'"},
	{ALLOW("'-6'"), "kernel.allow[0]: bad entry"},
	/* control */
	{TOP("'control':'/run/x'"), "control: must be an object"},
	{CONTROL("'socket':1"), "control.socket: must be a string"},
	{CONTROL("'socket':null"), "control.socket: must be a string"},
	{CONTROL("'socket':'run/p.sock'"), "control.socket: must be an absolute path"},
	{CONTROL("'socket':''"), "control.socket: must be an absolute path"},
	{CONTROL("'mode':432"), "control.mode: must be a string of octal digits"},
	{CONTROL("'mode':'0999'"), "control.mode: must be a string of octal digits"},
	{CONTROL("'mode':'01777'"), "control.mode: must be a string of octal digits"},
	{CONTROL("'mode':'1000'"), "control.mode: must be a string of octal digits"},
	{CONTROL("'mode':'00660'"), "control.mode: must be a string of octal digits"},
	{CONTROL("'mode':''"), "control.mode: must be a string of octal digits"},
	{CONTROL("'mode':'rw'"), "control.mode: must be a string of octal digits"},
	{CONTROL("'mode':' 660'"), "control.mode: must be a string of octal digits"},
	{CONTROL("'mode':null"), "control.mode: must be a string of octal digits"},
	{CONTROL("'group':0"), "control.group: must be null or a group name"},
	{CONTROL("'group':true"), "control.group: must be null or a group name"},
	{CONTROL("'group':''"), "control.group: must be null or a group name"},
	{CONTROL("'group':'a b'"), "control.group: must be null or a group name"},
	{CONTROL("'group':'a:b'"), "control.group: must be null or a group name"},
	{CONTROL("'group':'abcdefghijklmnopqrstuvwxyz012345'"), "control.group: must be null"},
	/* usnetd: the control socket's rules for socket, mode and group */
	{TOP("'usnetd':'/run/usnetd.socket'"), "usnetd: must be an object (or null: off)"},
	{TOP("'usnetd':true"), "usnetd: must be an object (or null: off)"},
	{TOP("'usnetd':{'sock':'/x'}"), "usnetd: unknown key 'sock'"},
	{TOP("'usnetd':{'socket':1}"), "usnetd.socket: must be a string"},
	{TOP("'usnetd':{'socket':'run/u.sock'}"), "usnetd.socket: must be an absolute path"},
	{TOP("'usnetd':{'socket':'/run/portmux/portmux.sock'}"),
	 "usnetd.socket: must differ from control.socket"},
	{TOP("'usnetd':{'mode':'0999'}"), "usnetd.mode: must be a string of octal digits"},
	{TOP("'usnetd':{'mode':660}"), "usnetd.mode: must be a string of octal digits"},
	{TOP("'usnetd':{'group':'a:b'}"), "usnetd.group: must be null or a group name"},
	{TOP("'usnetd':{'group':''}"), "usnetd.group: must be null or a group name"},
	{TOP("'usnetd':{'own_macs':1}"), "usnetd.own_macs: must be true or false"},
	{TOP("'usnetd':{'own_macs':'yes'}"), "usnetd.own_macs: must be true or false"},
	/* clients */
	{TOP("'clients':[]"), "clients: must be an object"},
	{CLIENTS("'max':0"), "clients.max: must be an integer 1..256"},
	{CLIENTS("'max':257"), "clients.max: must be an integer 1..256"},
	{CLIENTS("'max':'64'"), "clients.max: must be an integer 1..256"},
	{CLIENTS("'max':64.0"), "clients.max: must be an integer 1..256"},
	{CLIENTS("'ring_size':1000"), "clients.ring_size: must be a power of two 64..65536"},
	{CLIENTS("'ring_size':32"), "clients.ring_size: must be a power of two 64..65536"},
	{CLIENTS("'ring_size':131072"), "clients.ring_size: must be a power of two 64..65536"},
	{CLIENTS("'ring_size':0"), "clients.ring_size: must be a power of two 64..65536"},
	{CLIENTS("'ring_size':-1024"), "clients.ring_size: must be a power of two 64..65536"},
	{CLIENTS("'ring_size':1024.0"), "clients.ring_size: must be a power of two 64..65536"},
	{CLIENTS("'ring_size':'1024'"), "clients.ring_size: must be a power of two 64..65536"},
	{CLIENTS("'max_rules':15"), "clients.max_rules: must be an integer 16..1048576"},
	{CLIENTS("'max_rules':1048577"), "clients.max_rules: must be an integer 16..1048576"},
	{CLIENTS("'max_rules':false"), "clients.max_rules: must be an integer 16..1048576"},
	{CLIENTS("'rule_quota':0"), "clients.rule_quota: must be an integer 1..4096 (max_rules)"},
	{CLIENTS("'rule_quota':4097"), "clients.rule_quota: must be an integer 1..4096"},
	{CLIENTS("'rule_quota':'5'"), "clients.rule_quota: must be an integer 1..4096"},
	{CLIENTS("'max_rules':16,'rule_quota':17"), "clients.rule_quota: must be an integer 1..16"},
	{CLIENTS("'rule_quota':3000,'max_rules':2000"),
	 "clients.rule_quota: must be an integer 1..2000"},
	{CLIENTS("'queue_quota':0"), "clients.queue_quota: must be an integer 1..16"},
	{CLIENTS("'queue_quota':17"), "clients.queue_quota: must be an integer 1..16"},
	{CLIENTS("'queue_quota':2.5"), "clients.queue_quota: must be an integer 1..16"},
	{CLIENTS("'memif':1"), "clients.memif: must be true or false"},
	{CLIENTS("'own_macs':-1"), "clients.own_macs: must be an integer 0..64 (clients.max)"},
	{CLIENTS("'own_macs':65"), "clients.own_macs: must be an integer 0..64 (clients.max)"},
	{CLIENTS("'own_macs':'2'"), "clients.own_macs: must be an integer 0..64"},
	{CLIENTS("'own_macs':3,'max':2"),
	 "clients.own_macs: must be an integer 0..2 (clients.max)"},
	{CLIENTS("'memif':'yes'"), "clients.memif: must be true or false"},
	{CLIENTS("'low_ports':'tcp:80'"), "clients.low_ports: must be an array of strings"},
	{LOW("80"), "clients.low_ports[0]: must be a string"},
	{LOW("'tcp:80','tcp:2000'"), "clients.low_ports[1]: bad entry 'tcp:2000'"},
	{LOW("'tcp'"), "clients.low_ports[0]: bad entry 'tcp'"},
	{LOW("'icmp'"), "clients.low_ports[0]: bad entry 'icmp'"},
	{LOW("'tcp:80-1024'"), "clients.low_ports[0]: bad entry 'tcp:80-1024'"},
	{LOW("'udp:0'"), "clients.low_ports[0]: bad entry"},
	/* mbufs */
	{TOP("'mbufs':1023"), "mbufs: must be an integer 1024..4194304"},
	{TOP("'mbufs':4194305"), "mbufs: must be an integer 1024..4194304"},
	{TOP("'mbufs':-1"), "mbufs: must be an integer 1024..4194304"},
	{TOP("'mbufs':'32768'"), "mbufs: must be an integer 1024..4194304"},
	{TOP("'mbufs':32768.0"), "mbufs: must be an integer 1024..4194304"},
	{TOP("'mbufs':null"), "mbufs: must be an integer 1024..4194304"},
	/* metrics */
	{TOP("'metrics':1"), "metrics: must be an object"},
	{TOP("'metrics':{}"), "metrics: missing required key \"listen\""},
	{TOP("'metrics':{'listen':'127.0.0.1:9273','path':'/m'}"), "metrics: unknown key \"path\""},
	{TOP("'metrics':{'listen':9273}"), "metrics.listen: must be a string"},
	{TOP("'metrics':{'listen':'127.0.0.1'}"), "metrics.listen: must be \"ADDRESS:PORT\""},
	{TOP("'metrics':{'listen':'localhost:9273'}"), "metrics.listen: must be"},
	{TOP("'metrics':{'listen':'127.0.0.1:0'}"), "metrics.listen: must be"},
	{TOP("'metrics':{'listen':'127.0.0.1:65536'}"), "metrics.listen: must be"},
	{TOP("'metrics':{'listen':'127.0.0.1:+80'}"), "metrics.listen: must be"},
	{TOP("'metrics':{'listen':'127.0.0.1:80x'}"), "metrics.listen: must be"},
	{TOP("'metrics':{'listen':'::1:9273'}"), "metrics.listen: must be"},
	{TOP("'metrics':{'listen':'[127.0.0.1]:9273'}"), "metrics.listen: must be"},
	{TOP("'metrics':{'listen':'[::1]9273'}"), "metrics.listen: must be"},
	{TOP("'metrics':{'listen':':9273'}"), "metrics.listen: must be"},
	/* mbuf_pool */
	{TOP("'mbuf_pool':1"), "mbuf_pool: must be a string"},
	{TOP("'mbuf_pool':''"), "mbuf_pool: must name a mempool driver"},
	{TOP("'mbuf_pool':'Stack'"), "mbuf_pool: must name a mempool driver"},
	{TOP("'mbuf_pool':'ring mp'"), "mbuf_pool: must name a mempool driver"},
	{TOP("'mbuf_pool':'abcdefghijabcdefghijabcdefghij12'"), "mbuf_pool: must name a mempool"},
};

/* strdup() with every ' turned into ". */
static char *dq(const char *s)
{
	char *d = strdup(s), *p;

	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	for (p = d; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	return d;
}

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

/* Parse json (real JSON); expect -EINVAL, expect in the message and a zeroed config. */
static void expect_error(const char *json, const char *expect)
{
	struct pmx_config cfg;
	char err[ERR_LEN] = "";
	bool ok;
	int rc;

	memset(&cfg, 0xa5, sizeof(cfg));
	rc = pmx_config_parse(json, "portmuxd", &cfg, err, sizeof(err));
	ok = rc == -EINVAL && strstr(err, expect) != NULL && all_zero(&cfg, sizeof(cfg));
	CU_ASSERT(ok);
	if (!ok)
		printf("\n    text: %.200s\n    rc %d, err \"%s\", want \"%s\"\n", json, rc, err,
		       expect);
	if (rc == 0)
		pmx_config_free(&cfg);
}

static void test_bad_table(void)
{
	char *json, *expect;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		json = dq(bad_cases[i].json);
		expect = dq(bad_cases[i].expect);
		expect_error(json, expect);
		free(json);
		free(expect);
	}
}

/* Append n copies of item (separated by commas) to buf. */
static void repeat(char *buf, size_t len, const char *item, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		strncat(buf, i > 0 ? "," : "", len - strlen(buf) - 1);
		strncat(buf, item, len - strlen(buf) - 1);
	}
}

static void test_bad_generated(void)
{
	char big[PMX_DEVARGS_LEN + 1], json[4096];
	int i;

	memset(big, 'x', PMX_DEVARGS_LEN);
	big[PMX_DEVARGS_LEN] = '\0';
	snprintf(json, sizeof(json), "{\"eal\":[],\"ports\":[{\"name\":\"p\",\"device\":\"%s\"}]}",
		 big);
	expect_error(json, "ports[0].device: must be a string of 1..511 bytes");
	snprintf(json, sizeof(json),
		 "{\"eal\":[],\"ports\":[{\"name\":\"p\",\"device\":\"d\",\"exception\":"
		 "{\"type\":\"device\",\"device\":\"%s\"}}]}", big);
	expect_error(json, "ports[0].exception.device: must be a string of 1..511 bytes");
	big[108] = '\0';
	big[0] = '/';
	snprintf(json, sizeof(json), "{\"eal\":[],\"ports\":[{\"name\":\"p\",\"device\":\"d\"}],"
		 "\"control\":{\"socket\":\"%s\"}}", big);
	expect_error(json, "control.socket: must be an absolute path shorter than 108 bytes");

	snprintf(json, sizeof(json), "{\"eal\":[],\"ports\":[");
	for (i = 0; i < PMX_MAX_PORTS + 1; i++)
		snprintf(json + strlen(json), sizeof(json) - strlen(json),
			 "%s{\"name\":\"p%d\",\"device\":\"d%d\"}", i > 0 ? "," : "", i, i);
	strncat(json, "]}", sizeof(json) - strlen(json) - 1);
	expect_error(json, "ports: must have 1..8 entries");

	snprintf(json, sizeof(json), "{\"eal\":[],\"ports\":[{\"name\":\"p\",\"device\":\"d\","
		 "\"exception\":{\"addresses\":[");
	for (i = 0; i < PMX_MAX_ADDRS + 1; i++)
		snprintf(json + strlen(json), sizeof(json) - strlen(json), "%s\"10.0.0.%d\"",
			 i > 0 ? "," : "", i + 1);
	strncat(json, "]}}]}", sizeof(json) - strlen(json) - 1);
	expect_error(json, "ports[0].exception.addresses: at most 16 addresses");

	snprintf(json, sizeof(json), "{\"eal\":[],\"ports\":[{\"name\":\"p\",\"device\":\"d\"}],"
		 "\"kernel\":{\"allow\":[");
	repeat(json, sizeof(json), "\"tcp:22\"", PMX_MAX_ALLOW + 1);
	strncat(json, "]}}", sizeof(json) - strlen(json) - 1);
	expect_error(json, "kernel.allow: at most 64 entries");

	snprintf(json, sizeof(json), "{\"eal\":[],\"ports\":[{\"name\":\"p\",\"device\":\"d\"}],"
		 "\"clients\":{\"low_ports\":[");
	repeat(json, sizeof(json), "\"tcp:80\"", PMX_MAX_ALLOW + 1);
	strncat(json, "]}}", sizeof(json) - strlen(json) - 1);
	expect_error(json, "clients.low_ports: at most 64 entries");
}

static void test_bad_args(void)
{
	struct pmx_config cfg;
	char err[8];

	CU_ASSERT_EQUAL(pmx_config_parse("{", "x", &cfg, NULL, 0), -EINVAL);
	CU_ASSERT_TRUE(all_zero(&cfg, sizeof(cfg)));
	memset(err, 'z', sizeof(err));
	CU_ASSERT_EQUAL(pmx_config_parse("{}", "x", &cfg, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(strlen(err), sizeof(err) - 1);
	CU_ASSERT_EQUAL(pmx_config_parse(NULL, "x", &cfg, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(pmx_config_parse("{}", "x", NULL, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(pmx_config_load(NULL, "x", &cfg, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(pmx_config_append_eal(NULL, 0, NULL), -EINVAL);
	CU_ASSERT_EQUAL(pmx_config_append_eal(&cfg, -1, NULL), -EINVAL);
	CU_ASSERT_EQUAL(pmx_config_append_eal(&cfg, 1, NULL), -EINVAL);
}

static void test_proto_port(void)
{
	static const struct {
		const char *s;
		int rc;
		uint8_t proto;
		uint16_t lo, hi;
	} cases[] = {
		{"tcp:22", 0, 6, 22, 22},	  {"udp:1000-2000", 0, 17, 1000, 2000},
		{"icmp", 0, 1, 0, 0},		  {"icmpv6", 0, 58, 0, 0},
		{"tcp", 0, 6, 0, 0},		  {"TCP:80", 0, 6, 80, 80},
		{"sctp:1-65535", 0, 132, 1, 65535}, {"udplite:9", 0, 136, 9, 9},
		{"dccp:5-5", 0, 33, 5, 5},	  {"6:22", 0, 6, 22, 22},
		{"47", 0, 47, 0, 0},		  {"0", 0, 0, 0, 0},
		{"255", 0, 255, 0, 0},		  {"tcp:022", 0, 6, 22, 22},
		{"", -EINVAL, 0, 0, 0},		  {":22", -EINVAL, 0, 0, 0},
		{"tcp:", -EINVAL, 0, 0, 0},	  {"tcp:0", -EINVAL, 0, 0, 0},
		{"tcp:65536", -EINVAL, 0, 0, 0},  {"tcp:20-10", -EINVAL, 0, 0, 0},
		{"tcp:22-", -EINVAL, 0, 0, 0},	  {"tcp:-22", -EINVAL, 0, 0, 0},
		{"tcp:1-2-3", -EINVAL, 0, 0, 0},  {"tcp:1:2", -EINVAL, 0, 0, 0},
		{"tcp: 22", -EINVAL, 0, 0, 0},	  {" tcp", -EINVAL, 0, 0, 0},
		{"tcp:+22", -EINVAL, 0, 0, 0},	  {"tcp:000022", -EINVAL, 0, 0, 0},
		{"icmp:8", -EINVAL, 0, 0, 0},	  {"47:1", -EINVAL, 0, 0, 0},
		{"256", -EINVAL, 0, 0, 0},	  {"-1", -EINVAL, 0, 0, 0},
		{"gre", -EINVAL, 0, 0, 0},	  {"averyveryverylongname", -EINVAL, 0, 0, 0},
	};
	struct pmx_proto_port pp;
	size_t i;
	int rc;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		memset(&pp, 0x5a, sizeof(pp));
		rc = pmx_proto_port_parse(cases[i].s, &pp);
		CU_ASSERT_EQUAL(rc, cases[i].rc);
		if (rc != cases[i].rc)
			printf("\n    \"%s\": rc %d, want %d\n", cases[i].s, rc, cases[i].rc);
		if (rc == 0) {
			CU_ASSERT_EQUAL(pp.proto, cases[i].proto);
			CU_ASSERT_EQUAL(pp.port_lo, cases[i].lo);
			CU_ASSERT_EQUAL(pp.port_hi, cases[i].hi);
		} else {
			CU_ASSERT_EQUAL(pp.proto, 0x5a); /* untouched */
		}
	}
	CU_ASSERT_EQUAL(pmx_proto_port_parse(NULL, &pp), -EINVAL);
	CU_ASSERT_EQUAL(pmx_proto_port_parse("tcp", NULL), -EINVAL);
	CU_ASSERT_EQUAL(pmx_proto_parse("udp"), 17);
	CU_ASSERT_EQUAL(pmx_proto_parse("IcmpV6"), 58);
	CU_ASSERT_EQUAL(pmx_proto_parse("132"), 132);
	CU_ASSERT_EQUAL(pmx_proto_parse("tcp:22"), -EINVAL);
	CU_ASSERT_EQUAL(pmx_proto_parse(""), -EINVAL);
	CU_ASSERT_EQUAL(pmx_proto_parse(NULL), -EINVAL);
}

/* Parse a text written with ' for ", which must succeed. */
static int parse_ok(const char *text, struct pmx_config *cfg)
{
	char err[ERR_LEN] = "";
	char *json = dq(text);
	int rc;

	rc = pmx_config_parse(json, "portmuxd", cfg, err, sizeof(err));
	CU_ASSERT_EQUAL(rc, 0);
	if (rc != 0)
		printf("\n    text: %.200s\n    rc %d, err \"%s\"\n", json, rc, err);
	free(json);
	return rc;
}

static void test_minimal_defaults(void)
{
	struct pmx_config cfg;

	if (parse_ok(EAL("[]"), &cfg) != 0)
		return;
	CU_ASSERT_EQUAL(cfg.eal_argc, 1);
	CU_ASSERT_STRING_EQUAL(cfg.eal_argv[0], "portmuxd");
	CU_ASSERT_PTR_NULL(cfg.eal_argv[1]);
	CU_ASSERT_EQUAL(cfg.n_ports, 1);
	CU_ASSERT_STRING_EQUAL(cfg.ports[0].name, "p0");
	CU_ASSERT_STRING_EQUAL(cfg.ports[0].device, "net_null0");
	CU_ASSERT_EQUAL(cfg.ports[0].rx_queues, 0); /* one per RX lcore */
	CU_ASSERT_EQUAL(cfg.ports[0].exc_type, PMX_EXC_AUTO);
	CU_ASSERT_STRING_EQUAL(cfg.ports[0].exc_iface, "pmx0");
	CU_ASSERT_STRING_EQUAL(cfg.ports[0].exc_device, "");
	CU_ASSERT_EQUAL(cfg.ports[0].n_addresses, 0);
	CU_ASSERT_EQUAL(cfg.policy, PMX_POLICY_FIREWALL); /* the kernel firewalled by default */
	CU_ASSERT_EQUAL(cfg.n_allow, 0);
	CU_ASSERT_STRING_EQUAL(cfg.socket_path, "/run/portmux/portmux.sock");
	CU_ASSERT_EQUAL(cfg.socket_mode, 0660);
	CU_ASSERT_STRING_EQUAL(cfg.socket_group, "");
	CU_ASSERT_EQUAL(cfg.clients_max, 64);
	CU_ASSERT_EQUAL(cfg.ring_size, 1024);
	CU_ASSERT_EQUAL(cfg.max_rules, 4096);
	CU_ASSERT_EQUAL(cfg.client_rule_quota, 1024);
	CU_ASSERT_EQUAL(cfg.client_queue_quota, 4);
	CU_ASSERT_EQUAL(cfg.n_low_ports, 0);
	CU_ASSERT_EQUAL(cfg.mbufs, 32768);
	CU_ASSERT_EQUAL(cfg.metrics_port, 0); /* off unless set */
	CU_ASSERT_STRING_EQUAL(cfg.metrics_listen, "");
	CU_ASSERT_STRING_EQUAL(cfg.mbuf_pool, "stack");
	CU_ASSERT_FALSE(cfg.memif);
	CU_ASSERT_EQUAL(cfg.client_own_macs, 4);
	CU_ASSERT_FALSE(cfg.usnetd);
	CU_ASSERT_STRING_EQUAL(cfg.usnetd_socket, "/run/usnetd.socket");
	pmx_config_free(&cfg);

	/* "usnetd": {} turns usnetd's socket on at the path its clients hard-code; null is off */
	if (parse_ok(TOP("'usnetd':{}"), &cfg) == 0) {
		CU_ASSERT_TRUE(cfg.usnetd);
		CU_ASSERT_STRING_EQUAL(cfg.usnetd_socket, "/run/usnetd.socket");
		CU_ASSERT_EQUAL(cfg.usnetd_mode, 0660);
		CU_ASSERT_STRING_EQUAL(cfg.usnetd_group, "");
		CU_ASSERT_FALSE(cfg.usnetd_own_macs);
		pmx_config_free(&cfg);
	}
	if (parse_ok(TOP("'usnetd':null"), &cfg) == 0) {
		CU_ASSERT_FALSE(cfg.usnetd);
		pmx_config_free(&cfg);
	}

	/* empty objects change nothing; argv0 NULL gives "portmuxd" */
	{
		char *json = dq(TOP("'kernel':{},'control':{},'clients':{}"));
		char err[ERR_LEN];

		CU_ASSERT_EQUAL(pmx_config_parse(json, NULL, &cfg, err, sizeof(err)), 0);
		free(json);
	}
	CU_ASSERT_STRING_EQUAL(cfg.eal_argv[0], "portmuxd");
	CU_ASSERT_EQUAL(cfg.ring_size, 1024);
	CU_ASSERT_STRING_EQUAL(cfg.socket_path, "/run/portmux/portmux.sock");
	pmx_config_free(&cfg);
}

static const char full_config[] =
	"{'eal':['-l','0-1','--no-pci'],"
	" 'ports':["
	"  {'name':'wan0','device':'net_af_packet0,iface=x','rx_queues':4,"
	"   'exception':{'type':'tap','iface':'tapwan','addresses':['192.0.2.1','2001:db8::1']}},"
	"  {'name':'lan_1','device':'net_ring0','driver':'dpdk',"
	"   'exception':{'type':'device','device':'net_pcap0,iface=y'}},"
	"  {'name':'X-2','device':'d2','exception':{'type':'none','iface':'tapwan'}},"
	"  {'name':'v','device':'d3','exception':{'type':'virtio_user','iface':'v.100'}},"
	"  {'exception':{'type':'auto'},'device':'d4','name':'a'}],"
	" 'kernel':{'policy':'firewall','allow':['tcp:22','udp:1000-2000','icmp','icmpv6','47']},"
	" 'control':{'socket':'/tmp/p.sock','mode':'0600','group':'portmux'},"
	" 'clients':{'max':256,'ring_size':65536,'max_rules':1048576,'rule_quota':1048576,"
	"  'queue_quota':16,'low_ports':['tcp:80','udp:67-68'],'memif':true,'own_macs':200},"
	" 'usnetd':{'socket':'/tmp/u.sock','mode':'0666','group':'users','own_macs':true},"
	" 'mbufs':4194304,'mbuf_pool':'ring_mp_mc'}";

static void test_full(void)
{
	static const uint8_t v4[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
	static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	struct pmx_config cfg;

	if (parse_ok(full_config, &cfg) != 0)
		return;
	CU_ASSERT_EQUAL(cfg.eal_argc, 4);
	CU_ASSERT_STRING_EQUAL(cfg.eal_argv[1], "-l");
	CU_ASSERT_STRING_EQUAL(cfg.eal_argv[2], "0-1");
	CU_ASSERT_STRING_EQUAL(cfg.eal_argv[3], "--no-pci");
	CU_ASSERT_PTR_NULL(cfg.eal_argv[4]);
	CU_ASSERT_EQUAL(cfg.n_ports, 5);
	CU_ASSERT_STRING_EQUAL(cfg.ports[0].name, "wan0");
	CU_ASSERT_STRING_EQUAL(cfg.ports[0].device, "net_af_packet0,iface=x");
	CU_ASSERT_EQUAL(cfg.ports[0].rx_queues, 4);
	CU_ASSERT_EQUAL(cfg.ports[0].exc_type, PMX_EXC_TAP);
	CU_ASSERT_STRING_EQUAL(cfg.ports[0].exc_iface, "tapwan");
	CU_ASSERT_EQUAL(cfg.ports[0].n_addresses, 2);
	CU_ASSERT_EQUAL(memcmp(cfg.ports[0].addresses[0], v4, 16), 0);
	CU_ASSERT_EQUAL(memcmp(cfg.ports[0].addresses[1], v6, 16), 0);
	CU_ASSERT_FALSE(cfg.ports[0].dpdk_driver);
	CU_ASSERT_TRUE(cfg.ports[1].dpdk_driver);
	CU_ASSERT_EQUAL(cfg.ports[1].exc_type, PMX_EXC_DEVICE);
	CU_ASSERT_STRING_EQUAL(cfg.ports[1].exc_device, "net_pcap0,iface=y");
	CU_ASSERT_STRING_EQUAL(cfg.ports[1].exc_iface, "pmx1");
	CU_ASSERT_EQUAL(cfg.ports[2].exc_type, PMX_EXC_NONE);
	CU_ASSERT_STRING_EQUAL(cfg.ports[2].name, "X-2");
	CU_ASSERT_EQUAL(cfg.ports[3].exc_type, PMX_EXC_VIRTIO_USER);
	CU_ASSERT_STRING_EQUAL(cfg.ports[3].exc_iface, "v.100");
	CU_ASSERT_EQUAL(cfg.ports[4].exc_type, PMX_EXC_AUTO);
	CU_ASSERT_STRING_EQUAL(cfg.ports[4].exc_iface, "pmx4");
	CU_ASSERT_EQUAL(cfg.policy, PMX_POLICY_FIREWALL);
	CU_ASSERT_EQUAL(cfg.n_allow, 5);
	CU_ASSERT(cfg.allow[0].proto == 6 && cfg.allow[0].port_lo == 22 &&
		  cfg.allow[0].port_hi == 22);
	CU_ASSERT(cfg.allow[1].proto == 17 && cfg.allow[1].port_lo == 1000 &&
		  cfg.allow[1].port_hi == 2000);
	CU_ASSERT(cfg.allow[2].proto == 1 && cfg.allow[2].port_lo == 0 &&
		  cfg.allow[2].port_hi == 0);
	CU_ASSERT_EQUAL(cfg.allow[3].proto, 58);
	CU_ASSERT_EQUAL(cfg.allow[4].proto, 47);
	CU_ASSERT_STRING_EQUAL(cfg.socket_path, "/tmp/p.sock");
	CU_ASSERT_EQUAL(cfg.socket_mode, 0600);
	CU_ASSERT_STRING_EQUAL(cfg.socket_group, "portmux");
	CU_ASSERT_EQUAL(cfg.clients_max, 256);
	CU_ASSERT_EQUAL(cfg.ring_size, 65536);
	CU_ASSERT_EQUAL(cfg.max_rules, 1048576);
	CU_ASSERT_EQUAL(cfg.client_rule_quota, 1048576);
	CU_ASSERT_EQUAL(cfg.client_queue_quota, 16);
	CU_ASSERT_EQUAL(cfg.n_low_ports, 2);
	CU_ASSERT(cfg.low_ports[0].proto == 6 && cfg.low_ports[0].port_lo == 80 &&
		  cfg.low_ports[0].port_hi == 80);
	CU_ASSERT(cfg.low_ports[1].proto == 17 && cfg.low_ports[1].port_lo == 67 &&
		  cfg.low_ports[1].port_hi == 68);
	CU_ASSERT_EQUAL(cfg.mbufs, 4194304);
	CU_ASSERT_STRING_EQUAL(cfg.mbuf_pool, "ring_mp_mc");
	CU_ASSERT_TRUE(cfg.memif);
	CU_ASSERT_EQUAL(cfg.client_own_macs, 200);
	CU_ASSERT_TRUE(cfg.usnetd);
	CU_ASSERT_STRING_EQUAL(cfg.usnetd_socket, "/tmp/u.sock");
	CU_ASSERT_EQUAL(cfg.usnetd_mode, 0666);
	CU_ASSERT_STRING_EQUAL(cfg.usnetd_group, "users");
	CU_ASSERT_TRUE(cfg.usnetd_own_macs);
	pmx_config_free(&cfg);
}

static void test_boundaries(void)
{
	char json[8192], big[PMX_DEVARGS_LEN];
	struct pmx_config cfg;
	char err[ERR_LEN];
	int i;

	if (parse_ok(CLIENTS("'max':1,'ring_size':64,'max_rules':16,'queue_quota':1"), &cfg) == 0) {
		CU_ASSERT_EQUAL(cfg.client_own_macs, 1); /* the default, clamped to max */
		CU_ASSERT_EQUAL(cfg.clients_max, 1);
		CU_ASSERT_EQUAL(cfg.ring_size, 64);
		CU_ASSERT_EQUAL(cfg.client_rule_quota, 16); /* default clamped to max_rules */
		CU_ASSERT_EQUAL(cfg.client_queue_quota, 1);
		pmx_config_free(&cfg);
	}
	if (parse_ok(CLIENTS("'rule_quota':2000,'max_rules':2000"), &cfg) == 0) {
		CU_ASSERT_EQUAL(cfg.client_rule_quota, 2000);
		pmx_config_free(&cfg);
	}
	if (parse_ok(CONTROL("'mode':'0','group':null"), &cfg) == 0) {
		CU_ASSERT_EQUAL(cfg.socket_mode, 0);
		CU_ASSERT_STRING_EQUAL(cfg.socket_group, "");
		pmx_config_free(&cfg);
	}
	if (parse_ok(CONTROL("'mode':'777','group':'abcdefghijklmnopqrstuvwxyz01234'"),
		     &cfg) == 0) {
		CU_ASSERT_EQUAL(cfg.socket_mode, 0777);
		CU_ASSERT_EQUAL(strlen(cfg.socket_group), PMX_NAME_LEN - 1);
		pmx_config_free(&cfg);
	}
	if (parse_ok(TOP("'metrics':{'listen':'[::1]:65535'}"), &cfg) == 0) {
		CU_ASSERT_STRING_EQUAL(cfg.metrics_listen, "[::1]:65535");
		CU_ASSERT_STRING_EQUAL(cfg.metrics_host, "::1");
		CU_ASSERT_EQUAL(cfg.metrics_port, 65535);
		pmx_config_free(&cfg);
	}
	if (parse_ok(TOP("'metrics':{'listen':'198.18.0.1:1'}"), &cfg) == 0) {
		CU_ASSERT_STRING_EQUAL(cfg.metrics_host, "198.18.0.1");
		CU_ASSERT_EQUAL(cfg.metrics_port, 1);
		pmx_config_free(&cfg);
	}
	if (parse_ok(TOP("'mbufs':1024"), &cfg) == 0) {
		CU_ASSERT_EQUAL(cfg.mbufs, 1024);
		pmx_config_free(&cfg);
	}
	if (parse_ok(NAME("'abcdefghijklmnopqrstuvwxyz01234'"), &cfg) == 0) {
		CU_ASSERT_EQUAL(strlen(cfg.ports[0].name), PMX_NAME_LEN - 1);
		pmx_config_free(&cfg);
	}
	if (parse_ok(PORT("'rx_queues':16,'exception':{'iface':'abcdefghijklmno'}"), &cfg) == 0) {
		CU_ASSERT_EQUAL(cfg.ports[0].rx_queues, 16);
		CU_ASSERT_STRING_EQUAL(cfg.ports[0].exc_iface, "abcdefghijklmno");
		pmx_config_free(&cfg);
	}

	/* longest strings, most entries */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(json, sizeof(json), "{\"eal\":[],\"ports\":[{\"name\":\"p\",\"device\":\"%s\","
		 "\"exception\":{\"addresses\":[", big);
	for (i = 0; i < PMX_MAX_ADDRS; i++)
		snprintf(json + strlen(json), sizeof(json) - strlen(json), "%s\"2001:db8::%x\"",
			 i > 0 ? "," : "", i + 1);
	strncat(json, "]}}", sizeof(json) - strlen(json) - 1);
	for (i = 1; i < PMX_MAX_PORTS; i++)
		snprintf(json + strlen(json), sizeof(json) - strlen(json),
			 ",{\"name\":\"p%d\",\"device\":\"d%d\"}", i, i);
	big[sizeof(((struct pmx_config *)0)->socket_path) - 1] = '\0';
	big[0] = '/';
	snprintf(json + strlen(json), sizeof(json) - strlen(json),
		 "],\"control\":{\"socket\":\"%s\"},\"kernel\":{\"allow\":[", big);
	repeat(json, sizeof(json), "\"tcp:22\"", PMX_MAX_ALLOW);
	strncat(json, "]},\"clients\":{\"low_ports\":[", sizeof(json) - strlen(json) - 1);
	repeat(json, sizeof(json), "\"tcp:1-1023\"", PMX_MAX_ALLOW);
	strncat(json, "]}}", sizeof(json) - strlen(json) - 1);
	CU_ASSERT_EQUAL_FATAL(pmx_config_parse(json, "x", &cfg, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(strlen(cfg.ports[0].device), PMX_DEVARGS_LEN - 1);
	CU_ASSERT_EQUAL(cfg.ports[0].n_addresses, PMX_MAX_ADDRS);
	CU_ASSERT_EQUAL(cfg.ports[0].addresses[PMX_MAX_ADDRS - 1][15], PMX_MAX_ADDRS);
	CU_ASSERT_EQUAL(cfg.n_ports, PMX_MAX_PORTS);
	CU_ASSERT_STRING_EQUAL(cfg.ports[7].exc_iface, "pmx7");
	CU_ASSERT_EQUAL(strlen(cfg.socket_path), sizeof(cfg.socket_path) - 1);
	CU_ASSERT_EQUAL(cfg.n_allow, PMX_MAX_ALLOW);
	CU_ASSERT_EQUAL(cfg.n_low_ports, PMX_MAX_ALLOW);
	CU_ASSERT_EQUAL(cfg.low_ports[63].port_hi, 1023);
	pmx_config_free(&cfg);
}

static void test_append_and_free(void)
{
	char a0[] = "-a", a1[] = "0000:01:00.0";
	char *args[] = {a0, a1};
	struct pmx_config cfg;

	if (parse_ok(EAL("['-l','0']"), &cfg) != 0)
		return;
	CU_ASSERT_EQUAL(pmx_config_append_eal(&cfg, 0, NULL), 0);
	CU_ASSERT_EQUAL(cfg.eal_argc, 3);
	CU_ASSERT_EQUAL(pmx_config_append_eal(&cfg, 2, args), 0);
	a0[1] = 'X'; /* copies were taken */
	CU_ASSERT_EQUAL(cfg.eal_argc, 5);
	CU_ASSERT_STRING_EQUAL(cfg.eal_argv[0], "portmuxd");
	CU_ASSERT_STRING_EQUAL(cfg.eal_argv[2], "0");
	CU_ASSERT_STRING_EQUAL(cfg.eal_argv[3], "-a");
	CU_ASSERT_STRING_EQUAL(cfg.eal_argv[4], "0000:01:00.0");
	CU_ASSERT_PTR_NULL(cfg.eal_argv[5]);
	pmx_config_free(&cfg);
	CU_ASSERT_TRUE(all_zero(&cfg, sizeof(cfg)));
	pmx_config_free(&cfg);
	pmx_config_free(NULL);
}

/* "<dir>/<name>" into buf. */
static const char *in_dir(char *buf, size_t len, const char *name)
{
	if (snprintf(buf, len, "%s/%s", cfg_dir, name) >= (int)len)
		CU_FAIL("path too long");
	return buf;
}

static void test_load(void)
{
	char path[1024], expect[1200], err[ERR_LEN];
	struct pmx_config cfg;

	in_dir(path, sizeof(path), "does-not-exist.json");
	memset(&cfg, 0xa5, sizeof(cfg));
	CU_ASSERT_EQUAL(pmx_config_load(path, "x", &cfg, err, sizeof(err)), -ENOENT);
	snprintf(expect, sizeof(expect), "%s: %s", path, strerror(ENOENT));
	CU_ASSERT_STRING_EQUAL(err, expect);
	CU_ASSERT_TRUE(all_zero(&cfg, sizeof(cfg)));

	CU_ASSERT_EQUAL(pmx_config_load(cfg_dir, "x", &cfg, err, sizeof(err)), -EISDIR);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, cfg_dir));

	in_dir(path, sizeof(path), "good-minimal.json");
	CU_ASSERT_EQUAL_FATAL(pmx_config_load(path, "x", &cfg, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cfg.n_ports, 1);
	CU_ASSERT_STRING_EQUAL(cfg.eal_argv[0], "x");
	CU_ASSERT_EQUAL(cfg.mbufs, 32768);
	CU_ASSERT_STRING_EQUAL(cfg.mbuf_pool, "stack");
	pmx_config_free(&cfg);
}

/* Every line "<file> <substring>" of expected-errors.txt: loading the file fails with it. */
static void test_catalogue(void)
{
	char line[1024], path[1024], err[ERR_LEN], listed[128][128];
	struct pmx_config cfg;
	unsigned n = 0, i;
	struct dirent *de;
	char *sp;
	FILE *f;
	DIR *d;
	int rc;

	f = fopen(in_dir(path, sizeof(path), "expected-errors.txt"), "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0')
			continue;
		sp = strchr(line, ' ');
		CU_ASSERT_PTR_NOT_NULL(sp);
		if (sp == NULL || n == ARRAY_SIZE(listed) || sp - line >= (long)sizeof(listed[0]))
			continue;
		*sp = '\0';
		memcpy(listed[n++], line, (size_t)(sp - line) + 1);
		in_dir(path, sizeof(path), line);
		memset(&cfg, 0xa5, sizeof(cfg));
		rc = pmx_config_load(path, "portmuxd", &cfg, err, sizeof(err));
		CU_ASSERT(rc == -EINVAL && strstr(err, sp + 1) != NULL &&
			  strncmp(err, path, strlen(path)) == 0 && all_zero(&cfg, sizeof(cfg)));
		if (rc != -EINVAL || strstr(err, sp + 1) == NULL)
			printf("\n    %s: rc %d, err \"%s\", want \"%s\"\n", line, rc, err, sp + 1);
		if (rc == 0)
			pmx_config_free(&cfg);
	}
	fclose(f);
	CU_ASSERT(n >= 12);

	d = opendir(cfg_dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "bad-", 4) != 0)
			continue;
		for (i = 0; i < n && strcmp(listed[i], de->d_name) != 0; i++)
			;
		CU_ASSERT(i < n);
		if (i == n)
			printf("\n    %s is not listed in expected-errors.txt\n", de->d_name);
	}
	closedir(d);
}

int main(int argc, char **argv)
{
	static const struct cunit_test tests[] = {
		{"bad texts (table)", test_bad_table},
		{"bad texts (generated)", test_bad_generated},
		{"bad arguments", test_bad_args},
		{"proto:port parsing", test_proto_port},
		{"minimal config and defaults", test_minimal_defaults},
		{"full config", test_full},
		{"boundary values", test_boundaries},
		{"append_eal and free", test_append_and_free},
		{"load from files", test_load},
		{"bad-input catalogue", test_catalogue},
	};
	int ret;

	cfg_dir = argc > 1 ? argv[1] : getenv("PMX_CONFIG_DIR");
	if (cfg_dir == NULL)
		cfg_dir = "tests/config";
	ret = cunit_run("config", NULL, NULL, tests, ARRAY_SIZE(tests));
	printf("%zu table cases\n", ARRAY_SIZE(bad_cases));
	return ret;
}
