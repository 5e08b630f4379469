/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_nic_offloads.c - the pure parts of nic_offloads.c: state files that must be refused
 * (unknown lines, bad names and numbers, iface or ifindex missing or twice, too many
 * features), feature names refused by the list, a buffer too small; then which kernel features
 * are turned off (the table, a newer kernel's rx-*gro* names, and what must stay: checksums,
 * TSO, VLAN), what is done with each (off, on but fixed, requested only), a state file written
 * and read back, and when a crashed run's file still applies (same name and index).
 */
#include <errno.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "cunit_run.h"
#include "nic_offloads.h"

static void test_parse_refused(void)
{
	static const char *const bad[] = {
		"",
		"# only a comment\n",
		"iface eth0\n",                              /* no ifindex */
		"ifindex 3\n",                               /* no iface */
		"iface eth0\nifindex 3\niface eth1\n",       /* twice */
		"iface eth0\nifindex 3\nifindex 3\n",        /* twice */
		"iface eth0\nifindex 0\n",                   /* no interface has index 0 */
		"iface eth0\nifindex -1\n",                  /* not a number */
		"iface eth0\nifindex 3x\n",                  /* not a number */
		"iface eth0\nifindex 99999999999999999\n",   /* too large */
		"iface eth0\nifindex 3\non\n",               /* no feature */
		"iface eth0\nifindex 3\non RX-GRO\n",        /* not a kernel feature name */
		"iface eth0\nifindex 3\non rx gro\n",        /* space in the name */
		"iface eth0\nifindex 3\non rx-gro;reboot\n", /* not a name */
		"iface eth0\nifindex 3\non 0123456789012345678901234567890123\n", /* too long */
		"iface eth0\nifindex 3\noff rx-gro\n", /* unknown keyword */
		"iface eth0\nifindex 3\nrx-gro\n",     /* no keyword */
		"iface eth 0\nifindex 3\n",            /* space in the interface name */
		"iface 0123456789abcdef\nifindex 3\n", /* interface name too long */
		"iface a/b\nifindex 3\n",              /* not an interface name */
	};
	struct pmx_offload_state st = {.ifname = "untouched", .ifindex = 7};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(pmx_offload_state_parse(bad[i], &st), -EINVAL);
		if (strcmp(st.ifname, "untouched") != 0)
			printf("\nchanged by: %s\n", bad[i]);
		CU_ASSERT_STRING_EQUAL(st.ifname, "untouched");
		CU_ASSERT_EQUAL(st.ifindex, 7);
	}
}

static void test_too_many(void)
{
	struct pmx_offload_state st = {.ifname = "eth0", .ifindex = 2};
	char name[PMX_OFFLOAD_NAME_LEN], text[4096];
	size_t used;

	for (unsigned i = 0; i < PMX_OFFLOAD_STATE_MAX; i++) {
		snprintf(name, sizeof(name), "rx-f%u", i);
		CU_ASSERT_EQUAL(pmx_offload_state_add(&st, name), 0);
	}
	CU_ASSERT_EQUAL(pmx_offload_state_add(&st, "rx-one-more"), -ENOSPC);
	CU_ASSERT_EQUAL(pmx_offload_state_add(&st, "rx-f3"), 0); /* listed already */
	CU_ASSERT_EQUAL(st.n, PMX_OFFLOAD_STATE_MAX);
	CU_ASSERT_EQUAL(pmx_offload_state_add(&st, ""), -EINVAL);
	CU_ASSERT_EQUAL(pmx_offload_state_add(&st, "Rx-gro"), -EINVAL);

	/* a file listing one more than fits */
	CU_ASSERT_EQUAL_FATAL(pmx_offload_state_format(&st, text, sizeof(text)), 0);
	used = strlen(text);
	snprintf(text + used, sizeof(text) - used, "on rx-one-more\n");
	st.ifindex = 9;
	CU_ASSERT_EQUAL(pmx_offload_state_parse(text, &st), -ENOSPC);
	CU_ASSERT_EQUAL(st.ifindex, 9);
}

static void test_format_refused(void)
{
	struct pmx_offload_state st = {.ifname = "eth0", .ifindex = 2};
	char text[4096];

	CU_ASSERT_EQUAL(pmx_offload_state_add(&st, "rx-gro"), 0);
	CU_ASSERT_EQUAL(pmx_offload_state_format(&st, text, 20), -ENOSPC);
	/* the header fits, the feature line does not */
	CU_ASSERT_EQUAL_FATAL(pmx_offload_state_format(&st, text, sizeof(text)), 0);
	CU_ASSERT_EQUAL(pmx_offload_state_format(&st, text, strlen(text)), -ENOSPC);
	CU_ASSERT_EQUAL(pmx_offload_state_format(&st, text, strlen(text) - 3), -ENOSPC);
	strcpy(st.ifname, "a b");
	CU_ASSERT_EQUAL(pmx_offload_state_format(&st, text, sizeof(text)), -EINVAL);
	st.ifname[0] = '\0';
	CU_ASSERT_EQUAL(pmx_offload_state_format(&st, text, sizeof(text)), -EINVAL);
}

static void test_which_features(void)
{
	static const char *const off[] = {
		"rx-gro",
		"rx-gro-hw",
		"rx-lro",
		"rx-gro-list",
		"rx-udp-gro-forwarding",
		"rx-fcs",
		"rx-gro-hw-v2" /* a newer kernel's name */,
	};
	static const char *const kept[] = {
		"rx-checksum",
		"tx-checksum-ip-generic",
		"tx-tcp-segmentation",
		"tx-generic-segmentation",
		"tx-udp-segmentation",
		"rx-vlan-hw-parse",
		"rx-hashing",
		"rx-all",
		"tx-gro-something" /* not receive */,
		"rx-ntuple-filter",
		"",
	};

	for (size_t i = 0; i < sizeof(off) / sizeof(off[0]); i++) {
		CU_ASSERT_PTR_NOT_NULL(pmx_nic_offloads_why(off[i]));
		if (pmx_nic_offloads_why(off[i]) == NULL)
			printf("\nnot turned off: %s\n", off[i]);
	}
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
		CU_ASSERT_PTR_NULL(pmx_nic_offloads_why(kept[i]));
		if (pmx_nic_offloads_why(kept[i]) != NULL)
			printf("\nturned off: %s\n", kept[i]);
	}
	CU_ASSERT_PTR_NOT_NULL(strstr(pmx_nic_offloads_why("rx-gro"), "GRO"));
	CU_ASSERT_PTR_NOT_NULL(strstr(pmx_nic_offloads_why("rx-lro"), "LRO"));
}

static void test_decide(void)
{
	static const struct {
		const char *name;
		bool available, requested, active;
		enum pmx_offload_action want;
	} cases[] = {
		{"rx-gro", true, true, true, PMX_OFFLOAD_TURN_OFF},
		{"rx-gro", true, false, false, PMX_OFFLOAD_KEEP}, /* off already */
		{"rx-gro", true, true, false,
		 PMX_OFFLOAD_TURN_OFF}, /* asked for, not yet in effect */
		{"rx-gro", true, false, true, PMX_OFFLOAD_TURN_OFF},  /* in effect anyway */
		{"rx-gro-hw", false, false, false, PMX_OFFLOAD_KEEP}, /* "off [fixed]" (veth) */
		{"rx-lro", false, false, true, PMX_OFFLOAD_FIXED},    /* "on [fixed]" */
		{"rx-lro", false, true, true, PMX_OFFLOAD_FIXED},
		{"rx-lro", false, true, false, PMX_OFFLOAD_KEEP}, /* asked for, cannot happen */
		{"tx-tcp-segmentation", true, true, true, PMX_OFFLOAD_KEEP},
		{"rx-checksum", false, true, true, PMX_OFFLOAD_KEEP},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum pmx_offload_action got = pmx_nic_offloads_decide(
			cases[i].name, cases[i].available, cases[i].requested, cases[i].active);

		CU_ASSERT_EQUAL(got, cases[i].want);
		if (got != cases[i].want)
			printf("\ncase %zu (%s): %d, want %d\n", i, cases[i].name, got,
			       cases[i].want);
	}
}

static void test_round_trip(void)
{
	struct pmx_offload_state st = {.ifname = "eth1.100", .ifindex = 42}, back;
	char text[1024];

	CU_ASSERT_EQUAL(pmx_offload_state_add(&st, "rx-gro"), 0);
	CU_ASSERT_EQUAL(pmx_offload_state_add(&st, "rx-udp-gro-forwarding"), 0);
	CU_ASSERT_EQUAL(pmx_offload_state_add(&st, "rx-gro"), 0);
	CU_ASSERT_EQUAL(st.n, 2);
	CU_ASSERT_EQUAL_FATAL(pmx_offload_state_format(&st, text, sizeof(text)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\niface eth1.100\nifindex 42\non rx-gro\n"
					    "on rx-udp-gro-forwarding\n"));
	CU_ASSERT_EQUAL(text[0], '#');
	CU_ASSERT_EQUAL_FATAL(pmx_offload_state_parse(text, &back), 0);
	CU_ASSERT_STRING_EQUAL(back.ifname, "eth1.100");
	CU_ASSERT_EQUAL(back.ifindex, 42);
	CU_ASSERT_EQUAL_FATAL(back.n, 2);
	CU_ASSERT_STRING_EQUAL(back.on[0], "rx-gro");
	CU_ASSERT_STRING_EQUAL(back.on[1], "rx-udp-gro-forwarding");

	/* nothing listed (a crashed run that had turned nothing off), blank lines, no final \n */
	CU_ASSERT_EQUAL(pmx_offload_state_parse("\n\niface eth0\n\nifindex 1", &back), 0);
	CU_ASSERT_EQUAL(back.n, 0);
	CU_ASSERT_EQUAL(back.ifindex, 1);
}

static void test_applies(void)
{
	struct pmx_offload_state prev = {.ifname = "pmx-wire", .ifindex = 5};

	CU_ASSERT_TRUE(pmx_offload_state_applies(&prev, "pmx-wire", 5));
	CU_ASSERT_FALSE(pmx_offload_state_applies(&prev, "pmx-wire", 6)); /* recreated */
	CU_ASSERT_FALSE(pmx_offload_state_applies(&prev, "pmx-wire2", 5));
	CU_ASSERT_FALSE(pmx_offload_state_applies(&prev, "pmx-wir", 5));
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"state files refused", test_parse_refused},
		{"too many features", test_too_many},
		{"format: buffer too small, bad name", test_format_refused},
		{"which features go off", test_which_features},
		{"what is done with each", test_decide},
		{"state file round trip", test_round_trip},
		{"a crashed run's file applies to the same interface only", test_applies},
	};

	return cunit_run("nic_offloads", NULL, NULL, tests, sizeof(tests) / sizeof(tests[0]));
}
