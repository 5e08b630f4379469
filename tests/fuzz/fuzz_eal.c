/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_eal.c - a private EAL for the fuzz targets: in memory, no hugepages, nothing left behind */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>

#include "fuzz.h"

static char runtime_dir[160];

/* --no-shconf still creates the runtime directory (empty): remove it when the process ends. */
static void remove_runtime_dir(void)
{
	rte_eal_cleanup();
	rmdir(runtime_dir);
}

void pmx_fuzz_eal_init(void)
{
	static int done;
	static char prefix[64];
	static char *argv[] = {"pmx-fuzz", "-l", "0", "--no-huge", "-m", "256", "--no-pci",
			       "--no-shconf", "--no-telemetry", "--log-level", "*:error",
			       "--file-prefix", prefix, NULL};

	if (done)
		return;
	done = 1;
	/* a prefix of its own: several fuzzers (and daemons) may run at once */
	snprintf(prefix, sizeof(prefix), "pmx-fuzz-%d", (int)getpid());
	if (rte_eal_init((int)RTE_DIM(argv) - 1, argv) < 0) {
		fprintf(stderr, "pmx-fuzz: cannot initialise EAL: %s\n", rte_strerror(rte_errno));
		exit(1);
	}
	snprintf(runtime_dir, sizeof(runtime_dir), "%s", rte_eal_get_runtime_dir());
	/* from here on only critical messages: the targets provoke errors by design */
	rte_log_set_global_level(RTE_LOG_CRIT);
	atexit(remove_runtime_dir);
}
