/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * fuzz.h - what the fuzz targets share: the libFuzzer entry points, an invariant check that
 * aborts (so libFuzzer and the corpus replayer report it as a crash), and a private EAL.
 */
#ifndef PMX_FUZZ_H
#define PMX_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/** Abort with the failed condition when an invariant does not hold. */
#define FUZZ_CHECK(cond)                                                                   \
	do {                                                                                \
		if (!(cond)) {                                                              \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                     \
			abort();                                                            \
		}                                                                           \
	} while (0)

/** Are all len bytes at p zero? */
static inline int fuzz_all_zero(const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/**
 * Start a private EAL once per process: one lcore, no hugepages, no PCI, no shared files,
 * no telemetry, errors only. Exits the process when EAL cannot start (nothing to fuzz).
 */
void pmx_fuzz_eal_init(void);

#endif
