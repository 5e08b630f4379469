/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cunit_run.h - the main() of every unit test: one table of CUnit tests run as one suite.
 */
#ifndef PMX_CUNIT_RUN_H
#define PMX_CUNIT_RUN_H

#include <CUnit/CUnit.h>

/** One test of a table. */
struct cunit_test {
	const char *name;
	CU_TestFunc fn;
};

/**
 * Run tests[0..n-1] in order as one verbose CUnit suite named suite; init and cleanup (NULL
 * for none) are the suite's. Not thread-safe: the CUnit registry is a global.
 * @return the process's exit status: 0 when every test passed, 1 when a test failed, 2 when
 *         CUnit reported an error (out of memory, the suite's init or cleanup failed).
 */
int cunit_run(const char *suite, CU_InitializeFunc init, CU_CleanupFunc cleanup,
	      const struct cunit_test *tests, unsigned n);

#endif
