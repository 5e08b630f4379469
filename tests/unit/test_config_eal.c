/* test_config_eal.c - unit tests for the EAL arguments a config implies (config_eal.c) */
/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Covers, negative cases first, on the generated EAL argv (no device is probed):
 *  - a port's PCI device blocked by -b/--block: -EINVAL, the error names the port and device;
 *    NULL config;
 *  - table: virtual devices add nothing; a PCI device (DBDF, BDF, with devargs) gets "-a
 *    DEVICE" after the program name unless EAL's arguments decide already: --no-pci, an
 *    -a/--allow entry for the same address in any spelling (-a X, -aX, --allow X,
 *    --allow=X, short or long address, its own devargs), any -b entry; an -a for another
 *    device or one after "--" does not count; several ports in their order;
 *  - arguments appended from the command line (after "--") count; a second call adds nothing;
 *  - "rx_queues": absent is 0 (one per RX lcore), set is kept.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "config.h"
#include "cunit_run.h"

#define ERR_LEN 512

/* A config text from its "eal" array and ports (JSON fragments written with ' for "). */
static char *config_text(const char *eal, const char *ports)
{
	size_t len = strlen(eal) + strlen(ports) + 64;
	char *s = malloc(len);

	if (s == NULL)
		return NULL;
	snprintf(s, len, "{\"eal\":[%s],\"ports\":[%s]}", eal, ports);
	for (char *c = s; *c != '\0'; c++)
		if (*c == '\'')
			*c = '"';
	return s;
}

/* Parse eal/ports into *cfg; 0 or the parser's error. */
static int load(const char *eal, const char *ports, struct pmx_config *cfg)
{
	char err[ERR_LEN] = "", *text = config_text(eal, ports);
	int rc = text != NULL ? pmx_config_parse(text, "portmuxd", cfg, err, sizeof(err)) : -ENOMEM;

	CU_ASSERT_EQUAL(rc, 0);
	if (rc != 0)
		printf("\n    text: %s\n    rc %d, err \"%s\"\n", text, rc, err);
	free(text);
	return rc;
}

/* eal_argv[1..] joined by blanks */
static const char *argv_str(const struct pmx_config *cfg, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 1; i < cfg->eal_argc && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i > 1 ? " " : "",
					cfg->eal_argv[i]);
	return buf;
}

#define P(dev) "{'name':'p0','device':'" dev "'}"
#define P2(d0, d1) "{'name':'p0','device':'" d0 "'},{'name':'p1','device':'" d1 "'}"

static void test_blocked(void)
{
	static const struct {
		const char *eal, *ports, *err;
	} cases[] = {
		{"'-l','0-1','-b','0000:03:00.0'", P("03:00.0"),
		 "ports[0].device: PCI device 03:00.0 is blocked by eal -b"},
		{"'--block=03:00.0'", P2("net_null0", "0000:03:00.0,x=1"),
		 "ports[1].device: PCI device 0000:03:00.0,x=1 is blocked by eal -b"},
		{"'-b0000:03:00.0,y=2','-b','0000:04:00.0'", P("0000:03:00.0"),
		 "ports[0].device: PCI device 0000:03:00.0 is blocked by eal -b"},
	};
	char err[ERR_LEN];
	struct pmx_config cfg;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (load(cases[i].eal, cases[i].ports, &cfg) != 0)
			continue;
		err[0] = '\0';
		CU_ASSERT_EQUAL(pmx_config_eal_allow_pci(&cfg, err, sizeof(err)), -EINVAL);
		CU_ASSERT_STRING_EQUAL(err, cases[i].err);
		pmx_config_free(&cfg);
	}
	CU_ASSERT_EQUAL(pmx_config_eal_allow_pci(NULL, err, sizeof(err)), -EINVAL);
}

static void test_table(void)
{
	static const struct {
		const char *eal, *ports, *want;
	} cases[] = {
		/* virtual devices: nothing to add */
		{"'-l','0-1','--no-pci'", P("net_af_packet0,iface=x"), "-l 0-1 --no-pci"},
		{"'-l','0-1'", P("net_pcap0,rx_pcap=/tmp/a.pcap"), "-l 0-1"},
		{"", P("net_null0"), ""},
		/* a PCI device: its entry, devargs and spelling as written */
		{"'-l','0-1'", P("0000:03:00.0"), "-a 0000:03:00.0 -l 0-1"},
		{"'-l','0-1'", P("03:00.0"), "-a 03:00.0 -l 0-1"},
		{"'-l','0-1'", P("0000:03:00.0,rx_vec_en=0"), "-a 0000:03:00.0,rx_vec_en=0 -l 0-1"},
		{"", P("0000:af:00.1"), "-a 0000:af:00.1"},
		/* EAL's arguments decide already */
		{"'-l','0-1','--no-pci'", P("0000:03:00.0"), "-l 0-1 --no-pci"},
		{"'-a','03:00.0,txq_inline=128'", P("0000:03:00.0"), "-a 03:00.0,txq_inline=128"},
		{"'-a0000:03:00.0'", P("03:00.0"), "-a0000:03:00.0"},
		{"'--allow','0000:03:00.0'", P("0000:03:00.0"), "--allow 0000:03:00.0"},
		{"'--allow=03:00.0'", P("0000:03:00.0,x=1"), "--allow=03:00.0"},
		{"'-b','0000:04:00.0'", P("0000:03:00.0"), "-b 0000:04:00.0"},
		/* what does not count: another device, arguments after "--", a different function */
		{"'-a','0000:04:00.0'", P("0000:03:00.0"), "-a 0000:03:00.0 -a 0000:04:00.0"},
		{"'-a','0000:03:00.1'", P("0000:03:00.0"), "-a 0000:03:00.0 -a 0000:03:00.1"},
		{"'-l','0-1','--','-a','0000:03:00.0'", P("0000:03:00.0"),
		 "-a 0000:03:00.0 -l 0-1 -- -a 0000:03:00.0"},
		/* several ports, in their order; a virtual one among them */
		{"'-l','0-2'", P2("0000:03:00.0", "0000:03:00.1"),
		 "-a 0000:03:00.0 -a 0000:03:00.1 -l 0-2"},
		{"'-a','0000:03:00.1'", P2("0000:03:00.0", "0000:03:00.1"),
		 "-a 0000:03:00.0 -a 0000:03:00.1"},
		{"'-l','0-1'", P2("net_null0", "0000:03:00.0"), "-a 0000:03:00.0 -l 0-1"},
	};
	char err[ERR_LEN], got[1024];
	struct pmx_config cfg;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (load(cases[i].eal, cases[i].ports, &cfg) != 0)
			continue;
		CU_ASSERT_EQUAL(pmx_config_eal_allow_pci(&cfg, err, sizeof(err)), 0);
		CU_ASSERT_STRING_EQUAL(argv_str(&cfg, got, sizeof(got)), cases[i].want);
		CU_ASSERT_STRING_EQUAL(cfg.eal_argv[0], "portmuxd");
		CU_ASSERT_PTR_NULL(cfg.eal_argv[cfg.eal_argc]);
		if (strcmp(got, cases[i].want) != 0)
			printf("\n    case %zu: got \"%s\", want \"%s\"\n", i, got, cases[i].want);
		pmx_config_free(&cfg);
	}
}

static void test_appended_and_twice(void)
{
	char a0[] = "-a", a1[] = "03:00.0,x=1", nopci[] = "--no-pci";
	char *allow[] = {a0, a1}, *none[] = {nopci};
	char err[ERR_LEN], got[256];
	struct pmx_config cfg;

	/* -a after "--" on portmuxd's command line: EAL's own entry, nothing added */
	if (load("'-l','0-1'", P("0000:03:00.0"), &cfg) == 0) {
		CU_ASSERT_EQUAL(pmx_config_append_eal(&cfg, 2, allow), 0);
		CU_ASSERT_EQUAL(pmx_config_eal_allow_pci(&cfg, err, sizeof(err)), 0);
		CU_ASSERT_STRING_EQUAL(argv_str(&cfg, got, sizeof(got)), "-l 0-1 -a 03:00.0,x=1");
		pmx_config_free(&cfg);
	}
	if (load("'-l','0-1'", P("0000:03:00.0"), &cfg) == 0) {
		CU_ASSERT_EQUAL(pmx_config_append_eal(&cfg, 1, none), 0);
		CU_ASSERT_EQUAL(pmx_config_eal_allow_pci(&cfg, err, sizeof(err)), 0);
		CU_ASSERT_STRING_EQUAL(argv_str(&cfg, got, sizeof(got)), "-l 0-1 --no-pci");
		pmx_config_free(&cfg);
	}
	/* a second call (--check-config's output loaded again) finds its own entry */
	if (load("'-l','0-1'", P("0000:03:00.0"), &cfg) == 0) {
		CU_ASSERT_EQUAL(pmx_config_eal_allow_pci(&cfg, err, sizeof(err)), 0);
		CU_ASSERT_EQUAL(pmx_config_eal_allow_pci(&cfg, err, sizeof(err)), 0);
		CU_ASSERT_EQUAL(cfg.eal_argc, 5);
		CU_ASSERT_STRING_EQUAL(argv_str(&cfg, got, sizeof(got)), "-a 0000:03:00.0 -l 0-1");
		pmx_config_free(&cfg);
	}
}

static void test_rx_queues(void)
{
	struct pmx_config cfg;

	if (load("'-l','0-2'", P("net_null0"), &cfg) == 0) {
		CU_ASSERT_EQUAL(cfg.ports[0].rx_queues, 0); /* one per RX lcore, after EAL init */
		pmx_config_free(&cfg);
	}
	if (load("'-l','0-2'", "{'name':'p0','device':'net_null0','rx_queues':2}", &cfg) == 0) {
		CU_ASSERT_EQUAL(cfg.ports[0].rx_queues, 2);
		pmx_config_free(&cfg);
	}
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"PCI device blocked, bad arguments", test_blocked},
		{"PCI allow-list entries (table)", test_table},
		{"arguments after --, a second call", test_appended_and_twice},
		{"rx_queues: absent is one per RX lcore", test_rx_queues},
	};

	return cunit_run("config_eal", NULL, NULL, tests, sizeof(tests) / sizeof(tests[0]));
}
