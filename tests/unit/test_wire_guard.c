/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_wire_guard.c - the nftables script of wire_guard.c: interface names that must be refused
 * (empty, too long, characters nftables or a shell would read), a buffer too small, then what
 * a good script holds (the replace of a stale table, the owner flag, both chains dropping, the
 * daemon's uid let out, no egress chain when asked for none) and that libnftables parses it
 * (dry run: nothing reaches the kernel).
 */
#include <errno.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <nftables/libnftables.h>

#include "cunit_run.h"
#include "wire_guard.h"

static char buf[1024];

static void test_bad_names(void)
{
	static const char *const bad[] = {
		"",        "0123456789abcdef", "pmx wire", "pmx\"wire", "pmx;wire",
		"pmx\nwi", "pmx{wire}",        "eth0$x",   "a/b",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strcpy(buf, "untouched");
		CU_ASSERT_EQUAL(pmx_wire_guard_script(bad[i], 0, true, buf, sizeof(buf)), -EINVAL);
		CU_ASSERT_STRING_EQUAL(buf, "untouched");
	}
	CU_ASSERT_EQUAL(pmx_wire_guard_script(NULL, 0, true, buf, sizeof(buf)), -EINVAL);
}

static void test_small_buffer(void)
{
	CU_ASSERT_EQUAL(pmx_wire_guard_script("pmx-wire", 0, true, buf, 64), -ENOSPC);
	CU_ASSERT_EQUAL(pmx_wire_guard_script("pmx-wire", 0, false, buf, 1), -ENOSPC);
}

static void test_script(void)
{
	CU_ASSERT_EQUAL_FATAL(pmx_wire_guard_script("eth1.100", 990, true, buf, sizeof(buf)), 0);
	/* a stale table of that name is removed in the same transaction, before the new one */
	char *add = strstr(buf, "add table netdev portmux_eth1.100\n");
	char *del = strstr(buf, "delete table netdev portmux_eth1.100\n");
	char *make = strstr(buf, "table netdev portmux_eth1.100 {");

	CU_ASSERT(add != NULL && del != NULL && make != NULL && add < del && del < make);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "flags owner"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr(buf, "hook ingress device \"eth1.100\" priority -500; policy drop;"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr(buf, "hook egress device \"eth1.100\" priority -500; policy drop;"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "meta skuid 990 accept"));

	CU_ASSERT_EQUAL_FATAL(pmx_wire_guard_script("eth1", 0, false, buf, sizeof(buf)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "hook ingress device \"eth1\""));
	CU_ASSERT_PTR_NULL(strstr(buf, "egress"));
	CU_ASSERT_PTR_NULL(strstr(buf, "skuid"));
}

static void test_nft_parses_it(void)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);

	CU_ASSERT_PTR_NOT_NULL_FATAL(nft);
	nft_ctx_set_dry_run(nft, true);
	nft_ctx_buffer_error(nft);
	for (int egress = 0; egress <= 1; egress++) {
		CU_ASSERT_EQUAL(pmx_wire_guard_script("pmx-wire", 0, egress, buf, sizeof(buf)), 0);
		CU_ASSERT_EQUAL(nft_run_cmd_from_buffer(nft, buf), 0);
		if (nft_ctx_get_error_buffer(nft)[0] != '\0')
			printf("\nnft: %s\n", nft_ctx_get_error_buffer(nft));
	}
	CU_ASSERT_NOT_EQUAL(nft_run_cmd_from_buffer(nft, "table netdev x { chain y { nonsense } }"),
			    0);
	nft_ctx_free(nft);
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"bad interface names refused", test_bad_names},
		{"buffer too small", test_small_buffer},
		{"the script", test_script},
		{"libnftables parses it (dry run)", test_nft_parses_it},
	};

	return cunit_run("wire_guard", NULL, NULL, tests, sizeof(tests) / sizeof(tests[0]));
}
