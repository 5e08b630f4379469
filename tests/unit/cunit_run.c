/* cunit_run.c - one table of CUnit tests run as one suite (see cunit_run.h) */
/* SPDX-License-Identifier: BSD-3-Clause */
#include <CUnit/Basic.h>

#include "cunit_run.h"

int cunit_run(const char *suite, CU_InitializeFunc init, CU_CleanupFunc cleanup,
	      const struct cunit_test *tests, unsigned n)
{
	unsigned failures;
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	s = CU_add_suite(suite, init, cleanup);
	if (s == NULL)
		goto fail_registry;
	for (unsigned i = 0; i < n; i++)
		if (CU_add_test(s, tests[i].name, tests[i].fn) == NULL)
			goto fail_registry;
	CU_basic_set_mode(CU_BRM_VERBOSE);
	if (CU_basic_run_tests() != CUE_SUCCESS)
		goto fail_registry;
	failures = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	return failures == 0 ? 0 : 1;

fail_registry:
	CU_cleanup_registry();
	return 2;
}
