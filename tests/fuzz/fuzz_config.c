/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_config.c - fuzz target: the config loader (JSON text -> struct pmx_config).
 *
 * Invariants checked on every input (a failure aborts):
 *  - the result is 0, -EINVAL or -ENOMEM; a failure leaves a zeroed struct and a non-empty,
 *    terminated message, also when the error buffer is short;
 *  - a success gives eal_argv[0] = the program name and eal_argv[eal_argc] = NULL, values
 *    within the documented ranges (ports, queues, ring size a power of two, quotas, mbufs,
 *    socket mode, absolute socket path), and NUL-terminated names;
 *  - appending EAL arguments keeps the array terminated; freeing twice is harmless.
 */
#include <errno.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"
#include "pmx_shm.h"

int LLVMFuzzerInitialize(int *argc, char **argv[])
{
	(void)argc;
	(void)argv;
	return 0;
}

static void check_good(const struct pmx_config *c)
{
	FUZZ_CHECK(c->eal_argc >= 1 && c->eal_argv != NULL && c->eal_argv[c->eal_argc] == NULL);
	FUZZ_CHECK(strcmp(c->eal_argv[0], "pmx-fuzz") == 0);
	FUZZ_CHECK(c->n_ports >= 1 && c->n_ports <= PMX_MAX_PORTS);
	for (unsigned p = 0; p < c->n_ports; p++) {
		const struct pmx_port_conf *pc = &c->ports[p];

		FUZZ_CHECK(memchr(pc->name, 0, sizeof(pc->name)) != NULL && pc->name[0] != 0);
		FUZZ_CHECK(memchr(pc->device, 0, sizeof(pc->device)) != NULL && pc->device[0] != 0);
		FUZZ_CHECK(memchr(pc->exc_iface, 0, sizeof(pc->exc_iface)) != NULL);
		FUZZ_CHECK(pc->rx_queues <= 16); /* 0: one per RX lcore */
		FUZZ_CHECK(pc->n_addresses <= PMX_MAX_ADDRS);
		FUZZ_CHECK((pc->exc_type == PMX_EXC_DEVICE) == (pc->exc_device[0] != 0));
		for (unsigned q = 0; q < p; q++)
			FUZZ_CHECK(strcmp(c->ports[q].name, pc->name) != 0);
	}
	FUZZ_CHECK(c->policy == PMX_POLICY_PASS || c->policy == PMX_POLICY_FIREWALL);
	FUZZ_CHECK(c->n_allow <= PMX_MAX_ALLOW && c->n_low_ports <= PMX_MAX_ALLOW);
	for (unsigned i = 0; i < c->n_allow; i++)
		FUZZ_CHECK(c->allow[i].port_lo <= c->allow[i].port_hi);
	for (unsigned i = 0; i < c->n_low_ports; i++)
		FUZZ_CHECK(c->low_ports[i].port_lo >= 1 && c->low_ports[i].port_hi <= 1023 &&
			   c->low_ports[i].port_lo <= c->low_ports[i].port_hi);
	FUZZ_CHECK(c->socket_path[0] == '/' &&
		   memchr(c->socket_path, 0, sizeof(c->socket_path)) != NULL);
	FUZZ_CHECK(c->socket_mode <= 0777);
	FUZZ_CHECK(c->clients_max >= 1 && c->clients_max <= PMX_MAX_CLIENTS);
	FUZZ_CHECK(c->ring_size >= 64 && c->ring_size <= 65536 &&
		   (c->ring_size & (c->ring_size - 1)) == 0);
	FUZZ_CHECK(c->max_rules >= 16 && c->max_rules <= 1048576);
	FUZZ_CHECK(c->client_rule_quota >= 1 && c->client_rule_quota <= c->max_rules);
	FUZZ_CHECK(c->mbufs >= 1024 && c->mbufs <= 4194304);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *extra[] = {"--no-pci", "--log-level", "*:error"};
	struct pmx_config cfg;
	char err[512], tiny[8];
	char *text = malloc(size + 1);
	int ret;

	FUZZ_CHECK(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';

	memset(err, 'x', sizeof(err));
	ret = pmx_config_parse(text, "pmx-fuzz", &cfg, err, sizeof(err));
	FUZZ_CHECK(ret == 0 || ret == -EINVAL || ret == -ENOMEM);
	if (getenv("PMX_FUZZ_VERBOSE") != NULL) /* what each input gave */
		printf("%d %s\n", ret, ret == 0 ? "ok" : err);
	if (ret != 0) {
		FUZZ_CHECK(fuzz_all_zero(&cfg, sizeof(cfg)));
		FUZZ_CHECK(memchr(err, 0, sizeof(err)) != NULL && err[0] != '\0');
	} else {
		int argc = cfg.eal_argc;

		check_good(&cfg);
		FUZZ_CHECK(pmx_config_append_eal(&cfg, 3, extra) == 0);
		FUZZ_CHECK(cfg.eal_argc == argc + 3 && cfg.eal_argv[cfg.eal_argc] == NULL);
	}
	pmx_config_free(&cfg);
	FUZZ_CHECK(fuzz_all_zero(&cfg, sizeof(cfg)));
	pmx_config_free(&cfg);

	/* the same text with a short error buffer: still terminated, never overrun */
	memset(tiny, 'x', sizeof(tiny));
	ret = pmx_config_parse(text, NULL, &cfg, tiny, sizeof(tiny));
	if (ret != 0)
		FUZZ_CHECK(memchr(tiny, 0, sizeof(tiny)) != NULL);
	pmx_config_free(&cfg);
	free(text);
	return 0;
}
