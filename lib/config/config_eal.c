/* config_eal.c - EAL arguments the config implies: the PCI allow-list entry of each port */
/* SPDX-License-Identifier: BSD-3-Clause */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_pci.h>

#include "config.h"

/* What EAL's arguments say about one PCI address (EAL's getopt stops at "--"). */
struct eal_pci_view {
	bool no_pci;   /* --no-pci: EAL scans no PCI bus */
	bool blocking; /* an -b/--block entry: EAL probes every device but the blocked ones,
			* and refuses -a beside -b */
	bool blocked;  /* an -b/--block entry for this address */
	bool allowed;  /* an -a/--allow entry for this address (with devargs of its own) */
};

/* The PCI address at the start of devargs ("0000:03:00.0,key=val", "03:00.0"). 0 or -EINVAL. */
static int devargs_pci_addr(const char *devargs, struct rte_pci_addr *addr)
{
	char name[32];
	size_t len = strcspn(devargs, ",");

	if (len == 0 || len >= sizeof(name))
		return -EINVAL;
	memcpy(name, devargs, len);
	name[len] = '\0';
	return rte_pci_addr_parse(name, addr) == 0 ? 0 : -EINVAL;
}

/* The value of argv[*i] when it is the short option s or the long option l ("-a X", "-aX",
 * "--allow X", "--allow=X"); *i moves past a separate value. NULL for any other argument. */
static const char *option_value(char **argv, int argc, int *i, const char *s, const char *l)
{
	const char *a = argv[*i];
	size_t ll = strlen(l);

	if (strcmp(a, s) == 0 || strcmp(a, l) == 0)
		return *i + 1 < argc ? argv[++*i] : NULL;
	if (strncmp(a, s, 2) == 0 && a[2] != '\0')
		return a + 2;
	if (strncmp(a, l, ll) == 0 && a[ll] == '=')
		return a + ll + 1;
	return NULL;
}

/* Read what cfg's EAL arguments say about addr into *view. */
static void eal_pci_scan(const struct pmx_config *cfg, const struct rte_pci_addr *addr,
			 struct eal_pci_view *view)
{
	struct rte_pci_addr other;
	const char *v;

	memset(view, 0, sizeof(*view));
	for (int i = 1; i < cfg->eal_argc && strcmp(cfg->eal_argv[i], "--") != 0; i++) {
		if (strcmp(cfg->eal_argv[i], "--no-pci") == 0) {
			view->no_pci = true;
		} else if ((v = option_value(cfg->eal_argv, cfg->eal_argc, &i, "-b", "--block"))) {
			view->blocking = true;
			if (devargs_pci_addr(v, &other) == 0 && rte_pci_addr_cmp(addr, &other) == 0)
				view->blocked = true;
		} else if ((v = option_value(cfg->eal_argv, cfg->eal_argc, &i, "-a", "--allow"))) {
			if (devargs_pci_addr(v, &other) == 0 && rte_pci_addr_cmp(addr, &other) == 0)
				view->allowed = true;
		}
	}
}

/* Put "-a", device at eal_argv[at] (1 + 2 * entries added before: after the program name,
 * in the order of the ports, before any "--" of the EAL arguments). */
static int eal_insert_allow(struct pmx_config *cfg, int at, const char *device)
{
	char **grown, *opt = strdup("-a"), *val = strdup(device);

	grown = realloc(cfg->eal_argv, ((size_t)cfg->eal_argc + 3) * sizeof(*grown));
	if (grown != NULL)
		cfg->eal_argv = grown; /* larger, holding the same arguments */
	if (grown == NULL || opt == NULL || val == NULL) {
		free(opt);
		free(val);
		return -ENOMEM;
	}
	/* eal_argv[at..eal_argc] (the NULL included) two places on */
	memmove(&grown[at + 2], &grown[at], (size_t)(cfg->eal_argc - at + 1) * sizeof(*grown));
	grown[at] = opt;
	grown[at + 1] = val;
	cfg->eal_argc += 2;
	return 0;
}

int pmx_config_eal_allow_pci(struct pmx_config *cfg, char *err, size_t errlen)
{
	struct eal_pci_view view;
	struct rte_pci_addr addr;
	int rc, at = 1;

	if (cfg == NULL || cfg->eal_argv == NULL)
		return -EINVAL;
	for (unsigned p = 0; p < cfg->n_ports; p++) {
		if (devargs_pci_addr(cfg->ports[p].device, &addr) != 0)
			continue; /* a virtual device: --vdev or hot-plugged by name */
		eal_pci_scan(cfg, &addr, &view);
		if (view.blocked) {
			if (err != NULL && errlen > 0)
				snprintf(err, errlen,
					 "ports[%u].device: PCI device %s is blocked by eal -b", p,
					 cfg->ports[p].device);
			return -EINVAL;
		}
		if (view.no_pci || view.blocking || view.allowed)
			continue;
		rc = eal_insert_allow(cfg, at, cfg->ports[p].device);
		if (rc < 0)
			return rc;
		at += 2;
	}
	return 0;
}
