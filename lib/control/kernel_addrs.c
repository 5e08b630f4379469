/* kernel_addrs.c - the ports' kernel interface addresses, followed from netlink events
 * (kernel -> netlink socket in the management epoll -> this set -> its readers) */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include "kernel_addrs.h"
#include "pmx_packet.h"

#define DUMP_WAIT_MS 1000 /* a dump reply not there by then: give up */
#define RECV_BUF 65536

struct kiface {
	char name[IF_NAMESIZE];
	int ifindex; /* 0 while no interface of that name is known */
	unsigned n;
	uint8_t rank[PMX_KERNEL_ADDRS_MAX]; /* 0 IPv4, 1 IPv6, 2 IPv6 link-local */
	uint8_t addr[PMX_KERNEL_ADDRS_MAX][16];
};

struct pmx_kernel_addrs {
	int fd;
	uint32_t seq;
	uint64_t generation;
	unsigned n;
	struct kiface iface[];
};

struct pmx_kernel_addrs *pmx_kernel_addrs_create(const char *const *names, unsigned n)
{
	struct pmx_kernel_addrs *ka = calloc(1, sizeof(*ka) + n * sizeof(ka->iface[0]));
	if (ka == NULL)
		return NULL;
	ka->fd = -1;
	ka->n = n;
	for (unsigned i = 0; i < n; i++)
		snprintf(ka->iface[i].name, sizeof(ka->iface[i].name), "%s", names[i]);
	return ka;
}

void pmx_kernel_addrs_destroy(struct pmx_kernel_addrs *ka)
{
	if (ka == NULL)
		return;
	if (ka->fd >= 0)
		close(ka->fd);
	free(ka);
}

int pmx_kernel_addrs_fd(const struct pmx_kernel_addrs *ka)
{
	return ka->fd;
}

uint64_t pmx_kernel_addrs_generation(const struct pmx_kernel_addrs *ka)
{
	return ka->generation;
}

unsigned pmx_kernel_addrs_get(const struct pmx_kernel_addrs *ka, unsigned i, uint8_t (*out)[16],
			      unsigned max)
{
	unsigned n;

	if (i >= ka->n)
		return 0;
	n = ka->iface[i].n < max ? ka->iface[i].n : max;
	memcpy(out, ka->iface[i].addr, n * 16);
	return n;
}

/* ---- the set ---- */

static void iface_clear(struct pmx_kernel_addrs *ka, struct kiface *f)
{
	if (f->n > 0)
		ka->generation++;
	f->n = 0;
}

static struct kiface *iface_by_index(struct pmx_kernel_addrs *ka, int ifindex)
{
	for (unsigned i = 0; i < ka->n; i++)
		if (ka->iface[i].ifindex != 0 && ka->iface[i].ifindex == ifindex)
			return &ka->iface[i];
	return NULL;
}

static int addr_find(const struct kiface *f, const uint8_t ip[16])
{
	for (unsigned i = 0; i < f->n; i++)
		if (memcmp(f->addr[i], ip, 16) == 0)
			return (int)i;
	return -1;
}

/* Add ip after the last address of the same or a lower rank (a dump's order). */
static void addr_add(struct pmx_kernel_addrs *ka, struct kiface *f, const uint8_t ip[16],
		     uint8_t rank)
{
	unsigned at = f->n;

	if (addr_find(f, ip) >= 0 || f->n == PMX_KERNEL_ADDRS_MAX)
		return;
	while (at > 0 && f->rank[at - 1] > rank)
		at--;
	memmove(f->addr[at + 1], f->addr[at], (f->n - at) * 16);
	memmove(&f->rank[at + 1], &f->rank[at], f->n - at);
	memcpy(f->addr[at], ip, 16);
	f->rank[at] = rank;
	f->n++;
	ka->generation++;
}

static void addr_del(struct pmx_kernel_addrs *ka, struct kiface *f, const uint8_t ip[16])
{
	int i = addr_find(f, ip);

	if (i < 0)
		return;
	memmove(f->addr[i], f->addr[i + 1], (f->n - (unsigned)i - 1) * 16);
	memmove(&f->rank[i], &f->rank[i + 1], f->n - (unsigned)i - 1);
	f->n--;
	ka->generation++;
}

/* RTM_NEWLINK / RTM_DELLINK: which of our names has which index. */
static int on_link(struct pmx_kernel_addrs *ka, const struct nlmsghdr *nh)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(nh);
	int len = (int)nh->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifi));
	const char *name = NULL;

	if (len < 0)
		return -EINVAL;
	for (const struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == IFLA_IFNAME && RTA_PAYLOAD(a) > 0 &&
		    ((const char *)RTA_DATA(a))[RTA_PAYLOAD(a) - 1] == '\0')
			name = RTA_DATA(a);
	if (nh->nlmsg_type == RTM_NEWLINK && name == NULL)
		return 0; /* no name: nothing to go by */
	for (unsigned i = 0; i < ka->n; i++) {
		struct kiface *f = &ka->iface[i];
		bool ours = nh->nlmsg_type == RTM_NEWLINK && name != NULL && f->name[0] != '\0' &&
			    strcmp(name, f->name) == 0;

		if (ours && f->ifindex != ifi->ifi_index) {
			iface_clear(ka, f); /* a new interface of that name */
			f->ifindex = ifi->ifi_index;
		} else if (!ours && f->ifindex == ifi->ifi_index && f->ifindex != 0) {
			iface_clear(ka, f); /* deleted, or renamed away */
			f->ifindex = 0;
		}
	}
	return 0;
}

/* RTM_NEWADDR / RTM_DELADDR: IFA_LOCAL if given (IPv4 point-to-point), else IFA_ADDRESS. */
static int on_addr(struct pmx_kernel_addrs *ka, const struct nlmsghdr *nh)
{
	const struct ifaddrmsg *ifa = NLMSG_DATA(nh);
	int len = (int)nh->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifa));
	const struct rtattr *local = NULL, *address = NULL, *use;
	struct kiface *f;
	uint8_t ip[16];
	uint8_t rank;

	if (len < 0)
		return -EINVAL;
	f = iface_by_index(ka, (int)ifa->ifa_index);
	if (f == NULL || (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
		return 0;
	for (const struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == IFA_LOCAL)
			local = a;
		else if (a->rta_type == IFA_ADDRESS)
			address = a;
	}
	use = local != NULL ? local : address;
	if (use == NULL || RTA_PAYLOAD(use) != (ifa->ifa_family == AF_INET ? 4u : 16u))
		return -EINVAL;
	if (ifa->ifa_family == AF_INET) {
		pmx_ip4_to_key(RTA_DATA(use), ip);
		rank = 0;
	} else {
		memcpy(ip, RTA_DATA(use), 16);
		rank = ip[0] == 0xfe && (ip[1] & 0xc0) == 0x80 ? 2 : 1;
	}
	if (nh->nlmsg_type == RTM_NEWADDR)
		addr_add(ka, f, ip, rank);
	else
		addr_del(ka, f, ip);
	return 0;
}

int pmx_kernel_addrs_apply(struct pmx_kernel_addrs *ka, const void *buf, size_t len)
{
	int left = (int)len, ret = 0;

	for (const struct nlmsghdr *nh = buf; ret == 0 && NLMSG_OK(nh, left);
	     nh = NLMSG_NEXT(nh, left)) {
		if (nh->nlmsg_type == RTM_NEWLINK || nh->nlmsg_type == RTM_DELLINK)
			ret = on_link(ka, nh);
		else if (nh->nlmsg_type == RTM_NEWADDR || nh->nlmsg_type == RTM_DELADDR)
			ret = on_addr(ka, nh);
	}
	return ret != 0 || left != 0 ? -EINVAL : 0;
}

/* ---- the socket ---- */

/* Did buf (len bytes) end dump seq: NLMSG_DONE, or an error (-errno in *err)? */
static bool dump_ended(const void *buf, size_t len, uint32_t seq, int *err)
{
	int left = (int)len;

	for (const struct nlmsghdr *nh = buf; NLMSG_OK(nh, left); nh = NLMSG_NEXT(nh, left)) {
		if (nh->nlmsg_seq != seq)
			continue; /* an event */
		if (nh->nlmsg_type == NLMSG_DONE)
			return true;
		if (nh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(nh);

			*err = e->error != 0 ? e->error : -EPROTO;
			return true;
		}
	}
	return false;
}

/* Ask for a dump of type (RTM_GETLINK, RTM_GETADDR) and apply its replies, and the events
 * in between, in the order they come. 0, -ENOBUFS (overrun: start over) or -errno. */
static int dump(struct pmx_kernel_addrs *ka, uint16_t type, void *buf)
{
	struct {
		struct nlmsghdr nh;
		struct rtgenmsg g;
	} req = {.nh = {.nlmsg_len = sizeof(req),
			.nlmsg_type = type,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
			.nlmsg_seq = ++ka->seq},
		 .g = {.rtgen_family = AF_UNSPEC}};
	struct pollfd pfd = {.fd = ka->fd, .events = POLLIN};
	int err = 0;

	if (send(ka->fd, &req, sizeof(req), 0) < 0)
		return -errno;
	for (;;) {
		ssize_t r;

		if (poll(&pfd, 1, DUMP_WAIT_MS) != 1)
			return -ETIMEDOUT;
		r = recv(ka->fd, buf, RECV_BUF, MSG_DONTWAIT);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0)
			return -errno;
		pmx_kernel_addrs_apply(ka, buf, (size_t)r);
		if (dump_ended(buf, (size_t)r, ka->seq, &err))
			return err;
	}
}

/* Forget everything and read it again: links (names -> indexes), then addresses. */
static int resync(struct pmx_kernel_addrs *ka, void *buf)
{
	int ret = -ENOBUFS;

	for (unsigned tries = 0; tries < 4 && ret == -ENOBUFS; tries++) {
		for (unsigned i = 0; i < ka->n; i++) {
			iface_clear(ka, &ka->iface[i]);
			ka->iface[i].ifindex = 0;
		}
		ret = dump(ka, RTM_GETLINK, buf);
		if (ret == 0)
			ret = dump(ka, RTM_GETADDR, buf);
	}
	ka->generation++;
	return ret;
}

int pmx_kernel_addrs_open(struct pmx_kernel_addrs *ka)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK,
				 .nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR |
					      RTMGRP_IPV6_IFADDR};
	void *buf = malloc(RECV_BUF);
	int ret;

	if (buf == NULL)
		return -ENOMEM;
	ka->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (ka->fd < 0 || bind(ka->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		ret = -errno;
		goto fail;
	}
	ret = resync(ka, buf);
	if (ret != 0)
		goto fail;
	free(buf);
	return 0;

fail:
	if (ka->fd >= 0)
		close(ka->fd);
	ka->fd = -1;
	free(buf);
	return ret;
}

int pmx_kernel_addrs_poll(struct pmx_kernel_addrs *ka)
{
	void *buf;
	int ret = 0;

	if (ka->fd < 0)
		return 0;
	buf = malloc(RECV_BUF);
	if (buf == NULL)
		return -ENOMEM;
	for (;;) {
		ssize_t r = recv(ka->fd, buf, RECV_BUF, MSG_DONTWAIT);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == ENOBUFS) {
			ret = resync(ka, buf); /* events were lost: read everything again */
			break;
		}
		if (r < 0) {
			ret = errno == EAGAIN ? 0 : -errno;
			break;
		}
		pmx_kernel_addrs_apply(ka, buf, (size_t)r);
	}
	free(buf);
	return ret;
}
