/* kernel_ports.c - the kernel's own sockets, read from /proc/net/{tcp,udp}[6] of the daemon's
 * namespace (the sockets port_reserve.c holds left out): who uses a port, used_ports' list */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/types.h>

#include "ctl.h"
#include "kernel_ports.h"
#include "pmx_packet.h"
#include "port_reserve.h"

/* A kernel socket as /proc/net/{tcp,udp}[6] shows it. */
struct ksock {
	uint8_t proto;
	uint8_t lip[16], rip[16];
	uint16_t lport, rport;
	unsigned state;
	unsigned long inode;
};

static const uint8_t any_ip[16];

static bool ip_is_any(const uint8_t ip[16])
{
	return memcmp(ip, any_ip, 16) == 0;
}

/* Hex words as the kernel prints them (each a host-order u32 of network-order bytes). */
static int parse_hex_addr(const char *hex, uint8_t out[16])
{
	size_t len = strlen(hex);
	char word[9] = {0};

	if (len != 8 && len != 32)
		return -EINVAL;
	memset(out, 0, 16);
	for (size_t w = 0; w < len / 8; w++) {
		uint32_t v;

		memcpy(word, hex + w * 8, 8);
		v = (uint32_t)strtoul(word, NULL, 16);
		memcpy(len == 8 ? out + 12 : out + w * 4, &v, 4);
	}
	if (len == 8) {
		uint8_t v4[4];

		memcpy(v4, out + 12, 4);
		pmx_ip4_to_key(v4, out);
	}
	return 0;
}

static int parse_line(const char *line, uint8_t proto, struct ksock *ks)
{
	char lip[40], rip[40];
	unsigned lport, rport;

	if (sscanf(line, " %*u: %39[0-9A-Fa-f]:%x %39[0-9A-Fa-f]:%x %x %*s %*s %*s %*u %*u %lu",
		   lip, &lport, rip, &rport, &ks->state, &ks->inode) != 6)
		return -EINVAL;
	if (parse_hex_addr(lip, ks->lip) != 0 || parse_hex_addr(rip, ks->rip) != 0)
		return -EINVAL;
	ks->proto = proto;
	ks->lport = (uint16_t)lport;
	ks->rport = (uint16_t)rport;
	return 0;
}

static int cmp_ino(const void *a, const void *b)
{
	ino_t x = *(const ino_t *)a, y = *(const ino_t *)b;

	return x < y ? -1 : x > y;
}

/* Call fn for every kernel socket of proto (TCP or UDP) that is not one of ours. */
static void foreach_ksock(const struct pmx_port_resv *pr, uint8_t proto,
			  void (*fn)(const struct ksock *, void *), void *arg)
{
	static const char *const tcp_files[] = {"/proc/net/tcp", "/proc/net/tcp6"};
	static const char *const udp_files[] = {"/proc/net/udp", "/proc/net/udp6"};
	const char *const *files = proto == IPPROTO_TCP ? tcp_files : udp_files;
	unsigned n_ours;
	ino_t *ours = pmx_port_resv_inodes(pr, &n_ours);
	char line[512];

	if (ours == NULL)
		return;
	for (unsigned f = 0; f < 2; f++) {
		FILE *fp = fopen(files[f], "r");

		if (fp == NULL)
			continue;
		while (fgets(line, sizeof(line), fp) != NULL) {
			struct ksock ks;
			ino_t ino;

			if (parse_line(line, proto, &ks) != 0)
				continue; /* the header line */
			ino = (ino_t)ks.inode;
			if (ino == 0 || bsearch(&ino, ours, n_ours, sizeof(*ours), cmp_ino) == NULL)
				fn(&ks, arg);
		}
		fclose(fp);
	}
	free(ours);
}

/* Does a kernel address overlap with ours? 0.0.0.0 covers IPv4, :: covers everything. */
static bool addr_overlap(const uint8_t kip[16], const uint8_t ip[16])
{
	uint8_t v4_any[16];
	static const uint8_t zero4[4];

	if (ip_is_any(ip) || ip_is_any(kip) || memcmp(kip, ip, 16) == 0)
		return true;
	pmx_ip4_to_key(zero4, v4_any);
	return memcmp(kip, v4_any, 16) == 0 && pmx_key_ip_is_v4(ip);
}

struct uses_arg {
	const struct pmx_flow_key *k;
	bool found;
	char *what;
	size_t len;
};

static const char *const tcp_states[] = {
	"unknown",   "established", "syn_sent",   "syn_recv", "fin_wait1", "fin_wait2",
	"time_wait", "close",       "close_wait", "last_ack", "listen",    "closing",
};

static const char *state_name(const struct ksock *ks)
{
	if (ks->proto == IPPROTO_UDP)
		return ks->rport == 0 ? "unconnected" : "connected";
	return ks->state < RTE_DIM(tcp_states) ? tcp_states[ks->state] : "unknown";
}

static void check_use(const struct ksock *ks, void *arg)
{
	struct uses_arg *u = arg;
	char buf[INET6_ADDRSTRLEN];

	if (u->found ||
	    (u->k->kind != PMX_KEY_PROTO && ks->lport != ntohs(u->k->local_port)) ||
	    !addr_overlap(ks->lip, u->k->local_ip))
		return;
	u->found = true;
	snprintf(u->what, u->len, "%s %s port %u (%s)", ks->proto == IPPROTO_TCP ? "tcp" : "udp",
		 pmx_addr_str(ks->lip, buf, sizeof(buf)), ks->lport, state_name(ks));
}

bool pmx_kernel_ports_uses(const struct pmx_port_resv *pr, const struct pmx_flow_key *k, char *what,
			   size_t len)
{
	struct uses_arg u = {.k = k, .what = what, .len = len};

	if (k->proto != IPPROTO_TCP && k->proto != IPPROTO_UDP)
		return false;
	foreach_ksock(pr, k->proto, check_use, &u);
	return u.found;
}

static void add_kernel_port(const struct ksock *ks, void *arg)
{
	json_t **lists = arg;
	const char *proto = ks->proto == IPPROTO_TCP ? "tcp" : "udp";
	char lbuf[INET6_ADDRSTRLEN], rbuf[INET6_ADDRSTRLEN];
	bool listening = ks->proto == IPPROTO_TCP ? ks->state == 0x0a
						  : ks->rport == 0 && ip_is_any(ks->rip);

	pmx_addr_str(ks->lip, lbuf, sizeof(lbuf));
	if (listening) {
		json_array_append_new(lists[0],
				      json_pack("{s:s, s:s, s:i, s:s}", "proto", proto, "ip", lbuf,
						"port", ks->lport, "owner", "kernel"));
		return;
	}
	pmx_addr_str(ks->rip, rbuf, sizeof(rbuf));
	json_array_append_new(lists[1], json_pack("{s:s, s:s, s:i, s:s, s:i, s:s, s:s}", "proto",
						  proto, "local_ip", lbuf, "local_port", ks->lport,
						  "remote_ip", rbuf, "remote_port", ks->rport,
						  "state", state_name(ks), "owner", "kernel"));
}

void pmx_kernel_ports_list(const struct pmx_port_resv *pr, json_t *listening, json_t *connected)
{
	json_t *lists[2] = {listening, connected};

	foreach_ksock(pr, IPPROTO_TCP, add_kernel_port, lists);
	foreach_ksock(pr, IPPROTO_UDP, add_kernel_port, lists);
}
