/* port_reserve.c - kernel sockets that hold clients' ports against the kernel (one per
 * (protocol, address, port), shared by the rules that use it) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "ctl.h"
#include "pmx_log.h"
#include "port_reserve.h"

#ifndef IPV6_FREEBIND
#define IPV6_FREEBIND 78
#endif

/* One (proto, port, address) held for the clients' rules that use it. */
struct resv_sock {
	bool in_use;
	uint8_t proto;
	uint16_t port;   /* host order */
	uint8_t ip[16];  /* all zero = every address */
	unsigned refs;   /* rules using it */
	int fd;          /* -1 while a wildcard socket of the same (proto, port) covers it */
	uint32_t next;   /* index + 1 of the next in use of this (proto, port), 0 = last */
};

struct pmx_port_resv {
	uint32_t id_limit;
	uint32_t *by_rule; /* rule id -> index + 1 into socks, 0 = nothing held */
	unsigned n_held;   /* rules holding something */
	struct resv_sock *socks;
	unsigned cap;
	unsigned free_hint; /* no free sock below this index */
	bool dual_stack;    /* net.ipv6.bindv6only is 0: AF_INET6 wildcards take IPv4 too */
	uint32_t *head;    /* (TCP|UDP, port) -> index + 1 of its first sock in use, 0 = none */
};

#define CHAIN(proto, port) (((proto) == IPPROTO_TCP ? 0u : 65536u) + (port))

static const uint8_t any_ip[16];

static bool ip_is_any(const uint8_t ip[16])
{
	return memcmp(ip, any_ip, 16) == 0;
}

/* net.ipv6.bindv6only of the daemon's namespace, -1 when it cannot be read. */
static int read_bindv6only(void)
{
	FILE *f = fopen("/proc/sys/net/ipv6/bindv6only", "r");
	int v = -1;

	if (f != NULL) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

struct pmx_port_resv *pmx_port_resv_create(uint32_t id_limit)
{
	struct pmx_port_resv *pr = calloc(1, sizeof(*pr));

	if (pr == NULL)
		return NULL;
	pr->id_limit = id_limit;
	pr->dual_stack = read_bindv6only() == 0;
	pr->by_rule = calloc(id_limit, sizeof(*pr->by_rule));
	pr->head = calloc(2 * 65536, sizeof(*pr->head));
	if (pr->by_rule == NULL || pr->head == NULL) {
		free(pr->by_rule);
		free(pr->head);
		free(pr);
		return NULL;
	}
	return pr;
}

void pmx_port_resv_destroy(struct pmx_port_resv *pr)
{
	if (pr == NULL)
		return;
	for (unsigned i = 0; i < pr->cap; i++)
		if (pr->socks[i].in_use && pr->socks[i].fd >= 0)
			close(pr->socks[i].fd);
	free(pr->socks);
	free(pr->by_rule);
	free(pr->head);
	free(pr);
}

static int cmp_ino(const void *a, const void *b)
{
	ino_t x = *(const ino_t *)a, y = *(const ino_t *)b;

	return x < y ? -1 : x > y;
}

ino_t *pmx_port_resv_inodes(const struct pmx_port_resv *pr, unsigned *n)
{
	ino_t *ours = malloc(sizeof(*ours) * (pr->cap + 1));

	*n = 0;
	if (ours == NULL)
		return NULL;
	for (unsigned i = 0; i < pr->cap; i++) {
		struct stat st; /* what /proc/net names a socket by (looked up only here, rarely) */

		if (pr->socks[i].in_use && pr->socks[i].fd >= 0 && fstat(pr->socks[i].fd, &st) == 0)
			ours[(*n)++] = st.st_ino;
	}
	qsort(ours, *n, sizeof(*ours), cmp_ino);
	return ours;
}

/* Bind a socket that keeps the kernel off (proto, ip, port). 0 (fd set) or -errno. */
static int bind_hold(const struct pmx_port_resv *pr, uint8_t proto, const uint8_t ip[16],
		     uint16_t port, int *fd_out)
{
	int type = (proto == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC;
	bool v4 = pmx_key_ip_is_v4(ip);
	int one = 1, zero = 0, fd, ret;
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};

	if (ip_is_any(ip)) {
		/* a dual-stack wildcard socket holds the port for IPv4 and IPv6 alike */
		fd = socket(AF_INET6, type, 0);
		if (fd >= 0) {
			if (!pr->dual_stack)
				setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
			ret = bind(fd, (struct sockaddr *)&sin6, sizeof(sin6));
		} else {
			fd = socket(AF_INET, type, 0);
			ret = fd < 0 ? -1 : bind(fd, (struct sockaddr *)&sin, sizeof(sin));
		}
	} else if (v4) {
		memcpy(&sin.sin_addr, ip + 12, 4);
		fd = socket(AF_INET, type, 0);
		if (fd >= 0)
			setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
		ret = fd < 0 ? -1 : bind(fd, (struct sockaddr *)&sin, sizeof(sin));
	} else {
		memcpy(&sin6.sin6_addr, ip, 16);
		fd = socket(AF_INET6, type, 0);
		if (fd >= 0) {
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
			setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof(one));
		}
		ret = fd < 0 ? -1 : bind(fd, (struct sockaddr *)&sin6, sizeof(sin6));
	}
	if (fd < 0)
		return -errno;
	if (ret != 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	if (proto == IPPROTO_UDP) /* datagrams that reach it anyway are not kept */
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &one, sizeof(one));
	*fd_out = fd;
	return 0;
}

bool pmx_port_resv_probe(const struct pmx_port_resv *pr, const struct pmx_flow_key *k)
{
	int fd, ret;

	if (k->proto != IPPROTO_TCP && k->proto != IPPROTO_UDP)
		return false;
	ret = bind_hold(pr, k->proto, k->local_ip, ntohs(k->local_port), &fd);
	if (ret == 0)
		close(fd);
	return ret == -EADDRINUSE;
}

static struct resv_sock *find_sock(struct pmx_port_resv *pr, uint8_t proto, uint16_t port,
				   const uint8_t ip[16])
{
	for (uint32_t i = pr->head[CHAIN(proto, port)]; i != 0; i = pr->socks[i - 1].next)
		if (memcmp(pr->socks[i - 1].ip, ip, 16) == 0)
			return &pr->socks[i - 1];
	return NULL;
}

static struct resv_sock *new_sock(struct pmx_port_resv *pr)
{
	struct resv_sock *n;
	unsigned i;

	for (i = pr->free_hint; i < pr->cap; i++)
		if (!pr->socks[i].in_use) {
			pr->free_hint = i; /* taken only once linked: it may be given again */
			return &pr->socks[i];
		}
	n = realloc(pr->socks, sizeof(*n) * (pr->cap * 2 + 8));
	if (n == NULL)
		return NULL;
	memset(n + pr->cap, 0, sizeof(*n) * (pr->cap + 8));
	pr->socks = n;
	pr->cap = pr->cap * 2 + 8;
	return &pr->socks[i];
}

/* Put rs (now in use) on its (proto, port) chain / take it off. */
static void chain_link(struct pmx_port_resv *pr, struct resv_sock *rs)
{
	uint32_t *head = &pr->head[CHAIN(rs->proto, rs->port)];

	rs->in_use = true;
	rs->next = *head;
	*head = (uint32_t)(rs - pr->socks) + 1;
}

static void chain_unlink(struct pmx_port_resv *pr, struct resv_sock *rs)
{
	uint32_t self = (uint32_t)(rs - pr->socks) + 1;
	uint32_t *link = &pr->head[CHAIN(rs->proto, rs->port)];

	while (*link != 0 && *link != self)
		link = &pr->socks[*link - 1].next;
	if (*link == self)
		*link = rs->next;
	rs->in_use = false;
	rs->next = 0;
	if (self - 1 < pr->free_hint)
		pr->free_hint = self - 1;
}

/* Close the per-address sockets of (proto, port): a wildcard socket replaces them. */
static void cover_specific(struct pmx_port_resv *pr, uint8_t proto, uint16_t port)
{
	for (uint32_t i = pr->head[CHAIN(proto, port)]; i != 0; i = pr->socks[i - 1].next) {
		struct resv_sock *rs = &pr->socks[i - 1];

		if (rs->fd >= 0) {
			close(rs->fd);
			rs->fd = -1;
		}
	}
}

/* Bind every per-address socket of (proto, port) not bound (the wildcard one went away). */
static void uncover_specific(struct pmx_port_resv *pr, uint8_t proto, uint16_t port)
{
	for (uint32_t i = pr->head[CHAIN(proto, port)]; i != 0; i = pr->socks[i - 1].next) {
		struct resv_sock *rs = &pr->socks[i - 1];
		char buf[INET6_ADDRSTRLEN];

		if (rs->fd >= 0)
			continue;
		if (bind_hold(pr, proto, rs->ip, port, &rs->fd) != 0)
			PMX_LOG(WARNING, ctl, "cannot hold %s %s port %u against the kernel any more",
				proto == IPPROTO_TCP ? "tcp" : "udp",
				pmx_addr_str(rs->ip, buf, sizeof(buf)), port);
	}
}

int pmx_port_resv_get(struct pmx_port_resv *pr, const struct pmx_flow_key *k, uint32_t *handle)
{
	uint16_t port = ntohs(k->local_port);
	struct resv_sock *rs, *wild;
	int ret;

	*handle = 0;
	if ((k->proto != IPPROTO_TCP && k->proto != IPPROTO_UDP) || k->kind == PMX_KEY_IP ||
	    port == 0)
		return 0;
	rs = find_sock(pr, k->proto, port, k->local_ip);
	if (rs != NULL)
		goto hold;
	wild = find_sock(pr, k->proto, port, any_ip);
	rs = new_sock(pr);
	if (rs == NULL)
		return -ENOMEM;
	*rs = (struct resv_sock){.proto = k->proto, .port = port, .fd = -1};
	memcpy(rs->ip, k->local_ip, 16);
	if (wild == NULL) {
		if (ip_is_any(k->local_ip))
			cover_specific(pr, k->proto, port);
		ret = bind_hold(pr, k->proto, k->local_ip, port, &rs->fd);
		if (ret != 0) {
			if (ip_is_any(k->local_ip))
				uncover_specific(pr, k->proto, port);
			return ret;
		}
	}
	chain_link(pr, rs);
hold:
	rs->refs++;
	*handle = (uint32_t)(rs - pr->socks) + 1;
	return 0;
}

void pmx_port_resv_put(struct pmx_port_resv *pr, uint32_t handle)
{
	struct resv_sock *rs;

	if (handle == 0 || handle > pr->cap)
		return;
	rs = &pr->socks[handle - 1];
	if (--rs->refs > 0)
		return;
	if (rs->fd >= 0)
		close(rs->fd);
	chain_unlink(pr, rs);
	if (ip_is_any(rs->ip))
		uncover_specific(pr, rs->proto, rs->port);
}

void pmx_port_resv_assign(struct pmx_port_resv *pr, uint32_t rule_id, uint32_t handle)
{
	if (handle == 0 || rule_id >= pr->id_limit) {
		pmx_port_resv_put(pr, handle);
		return;
	}
	pmx_port_resv_release(pr, rule_id);
	pr->by_rule[rule_id] = handle;
	pr->n_held++;
}

void pmx_port_resv_release(struct pmx_port_resv *pr, uint32_t rule_id)
{
	uint32_t handle;

	if (rule_id >= pr->id_limit || pr->by_rule[rule_id] == 0)
		return;
	handle = pr->by_rule[rule_id];
	pr->by_rule[rule_id] = 0;
	pr->n_held--;
	pmx_port_resv_put(pr, handle);
}

bool pmx_port_resv_held(const struct pmx_port_resv *pr, uint32_t rule_id)
{
	return rule_id < pr->id_limit && pr->by_rule[rule_id] != 0;
}

unsigned pmx_port_resv_sweep(struct pmx_port_resv *pr, const struct pmx_flow_table *ft)
{
	unsigned released = 0;

	for (uint32_t id = 0; id < pr->id_limit && pr->n_held > 0; id++) {
		const struct pmx_rule *r;
		const struct resv_sock *rs;

		if (pr->by_rule[id] == 0)
			continue;
		r = pmx_flow_table_rule(ft, id);
		rs = &pr->socks[pr->by_rule[id] - 1];
		/* still a client's rule, or a config rule waiting for its client */
		if (r != NULL && (r->owner < PMX_MAX_CLIENTS || r->owner == PMX_OWNER_ABSENT) &&
		    r->key.proto == rs->proto && ntohs(r->key.local_port) == rs->port &&
		    !memcmp(r->key.local_ip, rs->ip, 16))
			continue;
		pmx_port_resv_release(pr, id);
		released++;
	}
	return released;
}
