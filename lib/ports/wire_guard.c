/* wire_guard.c - keep the appliance's kernel off NIC ports that are kernel netdevs (nftables
 * netdev tables: nothing from the wire reaches the kernel's stack, nothing of it leaves) */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nftables/libnftables.h>
#include <rte_ethdev.h>

#include "pmx_log.h"
#include "wire_guard.h"

#define TABLE_PREFIX "portmux_"

struct pmx_wire_guard {
	struct nft_ctx *nft; /* its netlink socket owns the tables: keep it open while guarding */
	unsigned n;
	char iface[PMX_MAX_PORTS][IF_NAMESIZE];
};

/* PMDs whose netdev is the kernel's end of a kernel path, not a wire */
static const char *const kernel_end_drivers[] = {"net_tap", "net_virtio_user", "net_tun"};

bool pmx_wire_guard_needed(uint16_t port_id, char *ifname)
{
	struct rte_eth_dev_info info;

	if (rte_eth_dev_info_get(port_id, &info) != 0 || info.if_index == 0 ||
	    info.driver_name == NULL)
		return false;
	for (size_t i = 0; i < RTE_DIM(kernel_end_drivers); i++)
		if (strcmp(info.driver_name, kernel_end_drivers[i]) == 0)
			return false;
	return if_indextoname(info.if_index, ifname) != NULL;
}

int pmx_wire_guard_script(const char *ifname, uid_t uid, bool egress, char *buf, size_t len)
{
	char to_wire[256] = "";
	int n;

	if (ifname == NULL || !pmx_name_ok(ifname, IF_NAMESIZE, "."))
		return -EINVAL;
	if (egress)
		snprintf(to_wire, sizeof(to_wire),
			 "  chain to_wire {\n"
			 "    type filter hook egress device \"%s\" priority -500; policy drop;\n"
			 "    meta skuid %u accept\n"
			 "  }\n",
			 ifname, (unsigned)uid);
	/* "add" then "delete" removes a table of that name whether or not there is one; the
	 * whole script is one transaction, so the interface is never unguarded in between */
	n = snprintf(buf, len,
		     "add table netdev " TABLE_PREFIX "%1$s\n"
		     "delete table netdev " TABLE_PREFIX "%1$s\n"
		     "table netdev " TABLE_PREFIX "%1$s {\n"
		     "  flags owner\n"
		     "  chain from_wire {\n"
		     "    type filter hook ingress device \"%1$s\" priority -500; policy drop;\n"
		     "  }\n"
		     "%2$s"
		     "}\n",
		     ifname, to_wire);
	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

struct pmx_wire_guard *pmx_wire_guard_create(void)
{
	struct pmx_wire_guard *g = calloc(1, sizeof(*g));

	if (g == NULL)
		return NULL;
	g->nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (g->nft == NULL) {
		free(g);
		errno = ENOMEM;
		return NULL;
	}
	nft_ctx_buffer_output(g->nft);
	nft_ctx_buffer_error(g->nft);
	return g;
}

/* Run an nftables script; on failure copy nft's first error line into msg. */
static int run_script(struct pmx_wire_guard *g, const char *script, char *msg, size_t len)
{
	const char *out;
	size_t n;

	if (nft_run_cmd_from_buffer(g->nft, script) == 0)
		return 0;
	out = nft_ctx_get_error_buffer(g->nft);
	n = out != NULL ? strcspn(out, "\n") : 0;
	snprintf(msg, len, "%.*s", (int)n, out != NULL ? out : "");
	return -1;
}

int pmx_wire_guard_add(struct pmx_wire_guard *g, const char *ifname, char *err, size_t errlen)
{
	char script[1024], msg[256];
	int ret;

	if (g->n == PMX_MAX_PORTS)
		return -ENOSPC;
	ret = pmx_wire_guard_script(ifname, geteuid(), true, script, sizeof(script));
	if (ret != 0) {
		snprintf(err, errlen, "interface \"%s\": cannot guard it from the kernel: %s",
			 ifname, ret == -EINVAL ? "name not of [A-Za-z0-9_.-]" : strerror(-ret));
		return ret;
	}
	if (run_script(g, script, msg, sizeof(msg)) != 0) {
		/* kernels before 5.16 have no netdev egress hook: guard what comes in */
		char first[256];

		snprintf(first, sizeof(first), "%s", msg);
		pmx_wire_guard_script(ifname, geteuid(), false, script, sizeof(script));
		if (run_script(g, script, msg, sizeof(msg)) != 0) {
			snprintf(err, errlen,
				 "interface \"%s\": cannot keep the kernel off it (nftables netdev "
				 "table " TABLE_PREFIX "%s; needs CAP_NET_ADMIN and a kernel with "
				 "nf_tables): %s",
				 ifname, ifname, first[0] != '\0' ? first : "refused");
			return -EPERM;
		}
		PMX_LOG(WARNING, main,
			"%s: no netdev egress hook in this kernel (%s): the kernel's own frames "
			"may "
			"still leave on it; nothing reaches its stack",
			ifname, first);
	}
	snprintf(g->iface[g->n++], IF_NAMESIZE, "%s", ifname);
	return 0;
}

void pmx_wire_guard_destroy(struct pmx_wire_guard *g)
{
	char script[128], msg[256];

	if (g == NULL)
		return;
	for (unsigned i = 0; i < g->n; i++) {
		snprintf(script, sizeof(script), "delete table netdev " TABLE_PREFIX "%s\n",
			 g->iface[i]);
		/* the interface may be gone already (and its table with it) */
		if (run_script(g, script, msg, sizeof(msg)) != 0)
			PMX_LOG(DEBUG, main, "%s: %s", g->iface[i], msg);
	}
	nft_ctx_free(g->nft); /* closes the socket: owned tables go with it in any case */
	free(g);
}

unsigned pmx_wire_guard_count(const struct pmx_wire_guard *g)
{
	return g != NULL ? g->n : 0;
}

const char *pmx_wire_guard_iface(const struct pmx_wire_guard *g, unsigned i)
{
	return g != NULL && i < g->n ? g->iface[i] : NULL;
}
