/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_kernel_addrs.c - the set of the ports' kernel interface addresses (lib/control/
 * kernel_addrs.{h,c}) fed with netlink messages built here, no socket: what it refuses or
 * skips (a truncated message, an address without IFA_ADDRESS, an address of another
 * interface, of an interface not known yet, an unknown index to get), then an interface
 * learnt from RTM_NEWLINK and its IPv4/IPv6 addresses (IFA_LOCAL over IFA_ADDRESS, a dump's
 * order: IPv4, IPv6, link-local), a repeated RTM_NEWADDR, RTM_DELADDR, max, the generation
 * that moves only on a change, several messages in one buffer, the interface deleted
 * (RTM_DELLINK) or renamed away, and created again under its name with a new index. The
 * socket itself (dump, ENOBUFS) is covered by the namespace tests (test_e2e.sh, test_ipv6.sh).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <CUnit/CUnit.h>

#include "cunit_run.h"
#include "kernel_addrs.h"

#define RTE_DIM(a) (sizeof(a) / sizeof((a)[0]))

/* A buffer of netlink messages, appended one by one. */
struct nlbuf {
	size_t len;
	char data[4096] __attribute__((aligned(NLMSG_ALIGNTO)));
};

static struct nlmsghdr *msg_start(struct nlbuf *b, uint16_t type, const void *hdr, size_t hlen)
{
	struct nlmsghdr *nh = (struct nlmsghdr *)(b->data + b->len);

	memset(nh, 0, NLMSG_SPACE(hlen));
	nh->nlmsg_len = NLMSG_LENGTH(hlen);
	nh->nlmsg_type = type;
	memcpy(NLMSG_DATA(nh), hdr, hlen);
	return nh;
}

static void attr_add(struct nlmsghdr *nh, uint16_t type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)((char *)nh + NLMSG_ALIGN(nh->nlmsg_len));

	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + RTA_ALIGN(a->rta_len);
}

static void msg_end(struct nlbuf *b, struct nlmsghdr *nh)
{
	b->len += NLMSG_ALIGN(nh->nlmsg_len);
}

static void link_msg(struct nlbuf *b, uint16_t type, int ifindex, const char *name)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = ifindex};
	struct nlmsghdr *nh = msg_start(b, type, &ifi, sizeof(ifi));

	if (name != NULL)
		attr_add(nh, IFLA_IFNAME, name, strlen(name) + 1);
	msg_end(b, nh);
}

/* An address message; local (IFA_LOCAL) may be NULL, address (IFA_ADDRESS) too. */
static void addr_msg(struct nlbuf *b, uint16_t type, int ifindex, const char *address,
		     const char *local)
{
	int family = strchr(address != NULL ? address : local, ':') ? AF_INET6 : AF_INET;
	struct ifaddrmsg ifa = {.ifa_family = (uint8_t)family, .ifa_index = (uint32_t)ifindex};
	struct nlmsghdr *nh = msg_start(b, type, &ifa, sizeof(ifa));
	uint8_t bin[16];

	if (address != NULL) {
		CU_ASSERT_FATAL(inet_pton(family, address, bin) == 1);
		attr_add(nh, IFA_ADDRESS, bin, family == AF_INET ? 4 : 16);
	}
	if (local != NULL) {
		CU_ASSERT_FATAL(inet_pton(family, local, bin) == 1);
		attr_add(nh, IFA_LOCAL, bin, family == AF_INET ? 4 : 16);
	}
	msg_end(b, nh);
}

static int apply(struct pmx_kernel_addrs *ka, struct nlbuf *b)
{
	int ret = pmx_kernel_addrs_apply(ka, b->data, b->len);

	b->len = 0;
	return ret;
}

/* The addresses of interface i as text, space separated. */
static const char *addrs_of(const struct pmx_kernel_addrs *ka, unsigned i)
{
	static char text[1024];
	uint8_t addrs[PMX_KERNEL_ADDRS_MAX][16];
	unsigned n = pmx_kernel_addrs_get(ka, i, addrs, PMX_KERNEL_ADDRS_MAX);
	char buf[INET6_ADDRSTRLEN];
	static const uint8_t v4_mapped[12] = {[10] = 0xff, [11] = 0xff};

	text[0] = '\0';
	for (unsigned k = 0; k < n; k++) {
		if (memcmp(addrs[k], v4_mapped, 12) == 0)
			inet_ntop(AF_INET, addrs[k] + 12, buf, sizeof(buf));
		else
			inet_ntop(AF_INET6, addrs[k], buf, sizeof(buf));
		strcat(text, k > 0 ? " " : "");
		strcat(text, buf);
	}
	return text;
}

static const char *const names[] = {"pmx0", "pmx1", ""};

static void test_refused_and_skipped(void)
{
	struct pmx_kernel_addrs *ka = pmx_kernel_addrs_create(names, 3);
	struct nlbuf b = {0};
	uint8_t out[4][16];

	CU_ASSERT_PTR_NOT_NULL_FATAL(ka);
	CU_ASSERT_EQUAL(pmx_kernel_addrs_fd(ka), -1);
	/* an address before its interface is known: nothing to put it on */
	addr_msg(&b, RTM_NEWADDR, 7, "198.18.0.1", NULL);
	CU_ASSERT_EQUAL(apply(ka, &b), 0);
	CU_ASSERT_STRING_EQUAL(addrs_of(ka, 0), "");
	CU_ASSERT_EQUAL(pmx_kernel_addrs_generation(ka), 0);
	/* a truncated message */
	link_msg(&b, RTM_NEWLINK, 7, "pmx0");
	b.len -= 4;
	CU_ASSERT_EQUAL(apply(ka, &b), -EINVAL);
	/* an address message without an address */
	link_msg(&b, RTM_NEWLINK, 7, "pmx0");
	addr_msg(&b, RTM_NEWADDR, 7, "198.18.0.1", NULL);
	((struct nlmsghdr *)(b.data + NLMSG_ALIGN(((struct nlmsghdr *)b.data)->nlmsg_len)))
		->nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
	b.len = NLMSG_ALIGN(((struct nlmsghdr *)b.data)->nlmsg_len) +
		NLMSG_SPACE(sizeof(struct ifaddrmsg));
	CU_ASSERT_EQUAL(apply(ka, &b), -EINVAL);
	CU_ASSERT_STRING_EQUAL(addrs_of(ka, 0), "");
	/* another interface's address; an interface without a name of ours ("" = none) */
	link_msg(&b, RTM_NEWLINK, 9, "eth0");
	link_msg(&b, RTM_NEWLINK, 10, "");
	addr_msg(&b, RTM_NEWADDR, 9, "198.18.1.1", NULL);
	addr_msg(&b, RTM_NEWADDR, 10, "198.18.2.1", NULL);
	CU_ASSERT_EQUAL(apply(ka, &b), 0);
	CU_ASSERT_STRING_EQUAL(addrs_of(ka, 0), "");
	CU_ASSERT_STRING_EQUAL(addrs_of(ka, 1), "");
	CU_ASSERT_STRING_EQUAL(addrs_of(ka, 2), "");
	CU_ASSERT_EQUAL(pmx_kernel_addrs_get(ka, 3, out, 4), 0); /* no interface 3 */
	pmx_kernel_addrs_destroy(ka);
	pmx_kernel_addrs_destroy(NULL);
}

static void test_add_order_delete(void)
{
	struct pmx_kernel_addrs *ka = pmx_kernel_addrs_create(names, 3);
	struct nlbuf b = {0};
	uint8_t out[2][16];
	uint64_t gen;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ka);
	/* several messages in one buffer, as a dump or a burst of events comes */
	link_msg(&b, RTM_NEWLINK, 7, "pmx0");
	link_msg(&b, RTM_NEWLINK, 8, "pmx1");
	addr_msg(&b, RTM_NEWADDR, 7, "fe80::1", NULL);
	addr_msg(&b, RTM_NEWADDR, 7, "fd00::1", NULL);
	addr_msg(&b, RTM_NEWADDR, 7, "198.18.0.1", NULL);
	addr_msg(&b, RTM_NEWADDR, 7, "198.18.9.9", "198.18.0.5"); /* point-to-point: the local */
	addr_msg(&b, RTM_NEWADDR, 8, "198.19.0.1", NULL);
	CU_ASSERT_EQUAL(apply(ka, &b), 0);
	CU_ASSERT_STRING_EQUAL(addrs_of(ka, 0), "198.18.0.1 198.18.0.5 fd00::1 fe80::1");
	CU_ASSERT_STRING_EQUAL(addrs_of(ka, 1), "198.19.0.1");
	CU_ASSERT_EQUAL(pmx_kernel_addrs_get(ka, 0, out, 2), 2); /* at most max */
	gen = pmx_kernel_addrs_generation(ka);
	CU_ASSERT_NOT_EQUAL(gen, 0);
	/* the same address again (DAD done, flags changed): no change */
	addr_msg(&b, RTM_NEWADDR, 7, "fd00::1", NULL);
	link_msg(&b, RTM_NEWLINK, 7, "pmx0"); /* link up/down: same interface */
	CU_ASSERT_EQUAL(apply(ka, &b), 0);
	CU_ASSERT_EQUAL(pmx_kernel_addrs_generation(ka), gen);
	CU_ASSERT_STRING_EQUAL(addrs_of(ka, 0), "198.18.0.1 198.18.0.5 fd00::1 fe80::1");
	/* deleted; deleting one that is not there changes nothing */
	addr_msg(&b, RTM_DELADDR, 7, "198.18.0.1", NULL);
	addr_msg(&b, RTM_DELADDR, 7, "fd00::1", NULL);
	CU_ASSERT_EQUAL(apply(ka, &b), 0);
	CU_ASSERT_STRING_EQUAL(addrs_of(ka, 0), "198.18.0.5 fe80::1");
	gen = pmx_kernel_addrs_generation(ka);
	addr_msg(&b, RTM_DELADDR, 7, "198.18.0.1", NULL);
	CU_ASSERT_EQUAL(apply(ka, &b), 0);
	CU_ASSERT_EQUAL(pmx_kernel_addrs_generation(ka), gen);
	/* a new IPv4 address goes before the IPv6 ones */
	addr_msg(&b, RTM_NEWADDR, 7, "198.18.0.7", NULL);
	CU_ASSERT_EQUAL(apply(ka, &b), 0);
	CU_ASSERT_STRING_EQUAL(addrs_of(ka, 0), "198.18.0.5 198.18.0.7 fe80::1");
	pmx_kernel_addrs_destroy(ka);
}

static void test_max(void)
{
	struct pmx_kernel_addrs *ka = pmx_kernel_addrs_create(names, 1);
	struct nlbuf b = {0};
	uint8_t out[PMX_KERNEL_ADDRS_MAX + 1][16];
	char ip[32];

	CU_ASSERT_PTR_NOT_NULL_FATAL(ka);
	link_msg(&b, RTM_NEWLINK, 7, "pmx0");
	CU_ASSERT_EQUAL(apply(ka, &b), 0);
	for (unsigned i = 0; i <= PMX_KERNEL_ADDRS_MAX; i++) {
		snprintf(ip, sizeof(ip), "198.18.%u.%u", i / 200, i % 200 + 1);
		addr_msg(&b, RTM_NEWADDR, 7, ip, NULL);
		CU_ASSERT_EQUAL(apply(ka, &b), 0);
	}
	CU_ASSERT_EQUAL(pmx_kernel_addrs_get(ka, 0, out, PMX_KERNEL_ADDRS_MAX + 1),
			PMX_KERNEL_ADDRS_MAX);
	pmx_kernel_addrs_destroy(ka);
}

static void test_link_gone_and_back(void)
{
	struct pmx_kernel_addrs *ka = pmx_kernel_addrs_create(names, 3);
	struct nlbuf b = {0};

	CU_ASSERT_PTR_NOT_NULL_FATAL(ka);
	link_msg(&b, RTM_NEWLINK, 7, "pmx0");
	addr_msg(&b, RTM_NEWADDR, 7, "198.18.0.1", NULL);
	CU_ASSERT_EQUAL(apply(ka, &b), 0);
	CU_ASSERT_STRING_EQUAL(addrs_of(ka, 0), "198.18.0.1");
	/* deleted: its addresses go with it, and later ones of index 7 are not its */
	link_msg(&b, RTM_DELLINK, 7, "pmx0");
	addr_msg(&b, RTM_NEWADDR, 7, "198.18.0.2", NULL);
	CU_ASSERT_EQUAL(apply(ka, &b), 0);
	CU_ASSERT_STRING_EQUAL(addrs_of(ka, 0), "");
	/* created again under its name, another index */
	link_msg(&b, RTM_NEWLINK, 12, "pmx0");
	addr_msg(&b, RTM_NEWADDR, 12, "198.18.0.3", NULL);
	CU_ASSERT_EQUAL(apply(ka, &b), 0);
	CU_ASSERT_STRING_EQUAL(addrs_of(ka, 0), "198.18.0.3");
	/* renamed away: no longer the port's */
	link_msg(&b, RTM_NEWLINK, 12, "old0");
	CU_ASSERT_EQUAL(apply(ka, &b), 0);
	CU_ASSERT_STRING_EQUAL(addrs_of(ka, 0), "");
	pmx_kernel_addrs_destroy(ka);
}

/* The socket on the machine's own namespace: a dump fills the set, poll reads nothing. */
static void test_open_dump(void)
{
	static const char *const lo[] = {"lo"};
	struct pmx_kernel_addrs *ka = pmx_kernel_addrs_create(lo, 1);

	CU_ASSERT_PTR_NOT_NULL_FATAL(ka);
	CU_ASSERT_EQUAL_FATAL(pmx_kernel_addrs_open(ka), 0);
	CU_ASSERT(pmx_kernel_addrs_fd(ka) >= 0);
	CU_ASSERT(strncmp(addrs_of(ka, 0), "127.0.0.1", 9) == 0);
	CU_ASSERT_EQUAL(pmx_kernel_addrs_poll(ka), 0);
	pmx_kernel_addrs_destroy(ka);
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"refused and skipped messages", test_refused_and_skipped},
		{"add, order, repeat, delete, generation", test_add_order_delete},
		{"at most PMX_KERNEL_ADDRS_MAX per interface", test_max},
		{"interface deleted, back, renamed", test_link_gone_and_back},
		{"open: the first dump (lo)", test_open_dump},
	};

	return cunit_run("kernel_addrs", NULL, NULL, tests, RTE_DIM(tests));
}
