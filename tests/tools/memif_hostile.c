/* memif_hostile.c - test client: a memif client of our own (no DPDK), attached to portmuxd's
 * memif socket, that sends well-formed, malformed, oversize or flooding frames (client ->
 * switch) and drains what the switch sends back (switch -> client).
 *
 * Written from the memif protocol (DPDK doc/guides/nics/memif.rst and the message and ring
 * layout of memif version 2.0): every message is 128 bytes on a SOCK_SEQPACKET socket; the
 * server sends HELLO; the client answers INIT (interface id, secret), ADD_REGION (a memfd
 * passed with SCM_RIGHTS), one ADD_RING per ring (an eventfd passed along), CONNECT; the
 * server ACKs each and ends with CONNECTED. Region 0 holds both rings, then the buffers.
 * The client owns every descriptor: on the client-to-server ring it fills descriptors and
 * moves head, the server moves tail; on the server-to-client ring it offers buffers by
 * moving head, the server fills them and moves tail.
 *
 * Modes (--mode, --variant K picks one variant; without it they take turns):
 *   good, flood      well-formed UDP frames from the client's address, paced or as fast as
 *                    the ring allows
 *   zero-len         descriptors of length 0
 *   big-len          longer than the buffer: 0) 8 KiB inside the region, 1) 0xffffffff from
 *                    the last buffer (past the region's end)
 *   oversize         one frame of 40 chained full buffers (80 KiB)
 *   chain-loop       "continued" flags: 0) on the posted slots only, ended after 2 s, 1) on
 *                    every slot of the ring, 2) as 0 but leave at once
 *   bad-region       region index 1, 255, 65535 (only region 0 exists)
 *   bad-offset       0) straddling the region's end, 1) just past it, 2) 4 GiB minus a page,
 *                    3) a valid header chained to 1 KiB from just past the region's end
 *   bad-s2c          offer server-to-client buffers 4 GiB minus a page from the region
 *   shrink           truncate the (unsealed) region to nothing once connected (a server
 *                    that requires F_SEAL_SHRINK refuses the region instead)
 *
 * Handshakes that break the protocol (--break, with any mode; the server should refuse):
 *   version          INIT with memif version 1.0
 *   region-size      ADD_REGION declares 1 MiB more than the file has
 *   ring-outside     the client-to-server ring starts 128 bytes before the region's end
 *   ring-log2        a ring of 2^15 slots
 *   ring-region      a ring in region 1 (never added)
 *   one-ring         no server-to-client ring, then CONNECT
 *
 * Exit status: 0 the mode ran to its end, 1 usage or set-up error, 2 the server refused the
 * handshake, 3 the server went away (its socket closed or it sent DISCONNECT) while we ran. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "pmx_memif_proto.h" /* the messages, rings and descriptors */

#define LOG2_RING 10
#define RING_N (1u << LOG2_RING)
#define BUF_SIZE 2048u
#define RING_BYTES (sizeof(struct pmx_memif_ring) + RING_N * sizeof(struct pmx_memif_desc))

/* --- the client --- */
struct client {
	int sock, memfd, efd[2];
	uint8_t *region;
	uint64_t region_size;
	struct pmx_memif_ring *c2s, *s2c;
	uint64_t sent, received;
	int gone;            /* the server closed or disconnected */
	uint32_t s2c_offset; /* UINT32_MAX: the slot's own buffer (bad-s2c: another) */
};

struct args {
	const char *socket, *secret, *mode;
	const char *brk; /* --break: how the handshake breaks the protocol, NULL: it does not */
	uint32_t id;
	unsigned count, seconds, gap_us; /* gap_us: pause between postings (not flood) */
	int variant;                     /* -1: every variant of the mode in turn */
	uint8_t src_mac[6], dst_mac[6];
	uint32_t src_ip, dst_ip; /* network order */
	uint16_t sport, dport;
};

static uint32_t buf_offset(unsigned i) /* buffer i: C2S slots first, then S2C */
{
	return (uint32_t)(2 * RING_BYTES + (uint64_t)i * BUF_SIZE);
}

/* Wall-clock seconds: the test matches them against the times of its probes. */
static double wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int send_msg(int sock, const struct mif_msg *m, int fd)
{
	char ctl[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov = {.iov_base = (void *)m, .iov_len = sizeof(*m)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	if (fd >= 0) {
		struct cmsghdr *c;

		mh.msg_control = ctl;
		mh.msg_controllen = sizeof(ctl);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	return sendmsg(sock, &mh, MSG_NOSIGNAL) == (ssize_t)sizeof(*m) ? 0 : -1;
}

/* Wait for one message of type want (up to 5 s); a DISCONNECT is printed. */
static int recv_msg(struct client *c, uint16_t want)
{
	struct mif_msg m;
	struct pollfd p = {.fd = c->sock, .events = POLLIN};
	ssize_t n;

	if (poll(&p, 1, 5000) != 1)
		return -1;
	n = recv(c->sock, &m, sizeof(m), 0);
	if (n != (ssize_t)sizeof(m))
		return -1;
	if (m.type == MIF_MSG_DISCONNECT) {
		fprintf(stderr, "memif_hostile: server disconnected: %.96s\n",
			(const char *)m.disconnect.string);
		return -2;
	}
	return m.type == want ? 0 : -1;
}

/* Is the server still there? (EOF or DISCONNECT on the control socket says no.) */
static void check_server(struct client *c)
{
	struct mif_msg m;
	ssize_t n;

	if (c->gone)
		return;
	n = recv(c->sock, &m, sizeof(m), MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) ||
	    (n == (ssize_t)sizeof(m) && m.type == MIF_MSG_DISCONNECT))
		c->gone = 1;
}

static void ring_init(struct pmx_memif_ring *r, unsigned first_buf)
{
	r->cookie = PMX_MEMIF_COOKIE;
	r->flags = 0;
	r->head = r->tail = 0;
	for (unsigned i = 0; i < RING_N; i++)
		r->desc[i] = (struct pmx_memif_desc){
			.region = 0, .length = BUF_SIZE, .offset = buf_offset(first_buf + i)};
}

/* The region (a sealed memfd unless shrink is wanted) and both rings in it. */
static int region_create(struct client *c, int seal)
{
	c->region_size = 2 * RING_BYTES + 2ull * RING_N * BUF_SIZE;
	c->memfd = memfd_create("memif_hostile", MFD_ALLOW_SEALING);
	if (c->memfd < 0 || ftruncate(c->memfd, (off_t)c->region_size) != 0)
		return -1;
	if (seal && fcntl(c->memfd, F_ADD_SEALS, F_SEAL_SHRINK) != 0)
		return -1;
	c->region = mmap(NULL, c->region_size, PROT_READ | PROT_WRITE, MAP_SHARED, c->memfd, 0);
	if (c->region == MAP_FAILED)
		return -1;
	c->c2s = (struct pmx_memif_ring *)c->region;
	c->s2c = (struct pmx_memif_ring *)(c->region + RING_BYTES);
	ring_init(c->c2s, 0);
	ring_init(c->s2c, RING_N);
	return 0;
}

static int breaks(const struct args *a, const char *what)
{
	return a->brk != NULL && strcmp(a->brk, what) == 0;
}

static int handshake(struct client *c, const struct args *a)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct mif_msg m;
	int ret;

	c->sock = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", a->socket);
	if (c->sock < 0 || connect(c->sock, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		perror("memif_hostile: connect");
		return -1;
	}
	if ((ret = recv_msg(c, MIF_MSG_HELLO)) != 0)
		return ret;

	memset(&m, 0, sizeof(m));
	m.type = MIF_MSG_INIT;
	m.init.version = breaks(a, "version") ? (1 << 8) : MIF_VERSION;
	m.init.id = a->id;
	snprintf((char *)m.init.secret, sizeof(m.init.secret), "%s", a->secret);
	snprintf((char *)m.init.name, sizeof(m.init.name), "memif_hostile");
	if (send_msg(c->sock, &m, -1) != 0 || (ret = recv_msg(c, MIF_MSG_ACK)) != 0)
		return ret ? ret : -1;

	memset(&m, 0, sizeof(m));
	m.type = MIF_MSG_ADD_REGION;
	m.add_region.size = c->region_size + (breaks(a, "region-size") ? 1u << 20 : 0);
	if (send_msg(c->sock, &m, c->memfd) != 0 || (ret = recv_msg(c, MIF_MSG_ACK)) != 0)
		return ret ? ret : -1;

	for (int dir = 0; dir < 2 - breaks(a, "one-ring"); dir++) { /* 0: c2s, 1: s2c */
		memset(&m, 0, sizeof(m));
		m.type = MIF_MSG_ADD_RING;
		m.add_ring.flags = dir == 0 ? 1 : 0;
		m.add_ring.offset = dir == 0 ? 0 : (uint32_t)RING_BYTES;
		m.add_ring.log2_ring_size = LOG2_RING;
		if (dir == 0 && breaks(a, "ring-outside"))
			m.add_ring.offset = (uint32_t)c->region_size - 128;
		if (dir == 0 && breaks(a, "ring-log2"))
			m.add_ring.log2_ring_size = 15;
		if (dir == 0 && breaks(a, "ring-region"))
			m.add_ring.region = 1;
		c->efd[dir] = eventfd(0, EFD_NONBLOCK);
		if (send_msg(c->sock, &m, c->efd[dir]) != 0 ||
		    (ret = recv_msg(c, MIF_MSG_ACK)) != 0)
			return ret ? ret : -1;
	}

	memset(&m, 0, sizeof(m));
	m.type = MIF_MSG_CONNECT;
	snprintf((char *)m.if_name, sizeof(m.if_name), "memif_hostile");
	if (send_msg(c->sock, &m, -1) != 0 || (ret = recv_msg(c, MIF_MSG_CONNECTED)) != 0)
		return ret ? ret : -1;
	/* the server reset both rings when it connected: offer it every S2C buffer */
	__atomic_store_n(&c->s2c->head, (uint16_t)RING_N, __ATOMIC_RELEASE);
	return 0;
}

/* Take what the switch sent (and count it), give the buffers back. */
static void drain_s2c(struct client *c)
{
	uint16_t tail = __atomic_load_n(&c->s2c->tail, __ATOMIC_ACQUIRE);
	uint16_t head = c->s2c->head;

	/* head - RING_N is where our reading stands; every filled slot up to tail is ours */
	for (uint16_t s = (uint16_t)(head - RING_N); s != tail; s++) {
		struct pmx_memif_desc *d = &c->s2c->desc[s & (RING_N - 1)];

		if (!(d->flags & PMX_MEMIF_DESC_NEXT))
			c->received++;
		*d = (struct pmx_memif_desc){.region = 0,
				       .length = BUF_SIZE,
				       .offset = c->s2c_offset != UINT32_MAX
							 ? c->s2c_offset
							 : buf_offset(RING_N + (s & (RING_N - 1)))};
	}
	__atomic_store_n(&c->s2c->head, (uint16_t)(tail + RING_N), __ATOMIC_RELEASE);
}

/* Free C2S slots (the server moves tail as it reads). */
static unsigned c2s_free(const struct client *c)
{
	return RING_N - (uint16_t)(c->c2s->head - __atomic_load_n(&c->c2s->tail, __ATOMIC_ACQUIRE));
}

static uint16_t ip_csum(const uint8_t *h)
{
	uint32_t s = 0;

	for (int i = 0; i < 20; i += 2)
		s += (uint32_t)h[i] << 8 | h[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* An Ethernet/IPv4/UDP frame of len bytes (len >= 42) at p; the IP and UDP lengths say
 * min(len, 65535) minus headers. */
static void build_frame(uint8_t *p, size_t len, const struct args *a, unsigned seq)
{
	size_t ip_len = len - 14 > 65535 ? 65535 : len - 14;
	uint16_t v;

	memcpy(p, a->dst_mac, 6);
	memcpy(p + 6, a->src_mac, 6);
	p[12] = 0x08, p[13] = 0x00;
	memset(p + 14, 0, 20);
	p[14] = 0x45;
	v = htons((uint16_t)ip_len), memcpy(p + 16, &v, 2);
	v = htons((uint16_t)seq), memcpy(p + 18, &v, 2);
	p[20] = 0x40; /* DF */
	p[22] = 64, p[23] = 17;
	memcpy(p + 26, &a->src_ip, 4);
	memcpy(p + 30, &a->dst_ip, 4);
	v = htons(ip_csum(p + 14)), memcpy(p + 24, &v, 2);
	v = htons(a->sport), memcpy(p + 34, &v, 2);
	v = htons(a->dport), memcpy(p + 36, &v, 2);
	v = htons((uint16_t)(ip_len - 20)), memcpy(p + 38, &v, 2);
	memset(p + 40, 0, 2);
	if (len > 42)
		snprintf((char *)p + 42, len - 42, "memif-hostile %s %u", a->mode, seq);
}

/* Put n descriptors on the C2S ring and publish them in one move of head (waits up to the
 * deadline for room). d[i].offset == UINT32_MAX means "slot's own buffer". */
static int c2s_post(struct client *c, const struct pmx_memif_desc *d, unsigned n, double deadline)
{
	uint16_t head = c->c2s->head;

	while (c2s_free(c) < n) {
		drain_s2c(c);
		check_server(c);
		if (c->gone || now_s() > deadline)
			return -1;
		usleep(100);
	}
	for (unsigned i = 0; i < n; i++) {
		unsigned s = (uint16_t)(head + i) & (RING_N - 1);

		c->c2s->desc[s] = d[i];
		if (d[i].offset == UINT32_MAX)
			c->c2s->desc[s].offset = buf_offset(s);
	}
	__atomic_store_n(&c->c2s->head, (uint16_t)(head + n), __ATOMIC_RELEASE);
	return 0;
}

static uint8_t *slot_buf(struct client *c, unsigned i)
{
	return c->region + buf_offset((uint16_t)(c->c2s->head + i) & (RING_N - 1));
}

/* One round of the chosen mode; returns the frames (or descriptor sets) it posted, or -1. */
static int run_one(struct client *c, const struct args *a, unsigned seq, double deadline)
{
	const char *m = a->mode;
	struct pmx_memif_desc d[48];
	unsigned n = 1, v = a->variant >= 0 ? (unsigned)a->variant : seq;

	d[0] = (struct pmx_memif_desc){.region = 0, .length = 60, .offset = UINT32_MAX};
	if (!strcmp(m, "good") || !strcmp(m, "flood")) {
		d[0].length = 80;
		build_frame(slot_buf(c, 0), 80, a, seq);
	} else if (!strcmp(m, "bad-region")) {
		/* region 1 was never added; 255 and 65535: far past the server's table */
		static const uint16_t regions[] = {1, 255, 65535};
		build_frame(slot_buf(c, 0), 60, a, seq);
		d[0].region = regions[v % 3];
	} else if (!strcmp(m, "bad-offset") && v == 3) {
		/* a valid header, then a chained 1 KiB from just past the region's end: what the
		 * switch copies from there leaves as the datagram's payload */
		n = 2;
		build_frame(slot_buf(c, 0), 42 + 1024, a, seq);
		d[0] = (struct pmx_memif_desc){
			.flags = PMX_MEMIF_DESC_NEXT, .length = 42, .offset = UINT32_MAX};
		d[1] = (struct pmx_memif_desc){.length = 1024, .offset = (uint32_t)c->region_size};
	} else if (!strcmp(m, "bad-offset")) {
		/* straddling the region's end; just past it; 4 GiB minus a page */
		const uint32_t offs[] = {(uint32_t)c->region_size - 16, (uint32_t)c->region_size,
					 0xfffff000u};
		d[0].offset = offs[v % 3];
	} else if (!strcmp(m, "zero-len")) {
		d[0].length = 0;
	} else if (!strcmp(m, "big-len")) {
		/* longer than the buffer: within the region, then past its end */
		build_frame(slot_buf(c, 0), 60, a, seq);
		d[0].length = v % 2 ? 0xffffffffu : 4 * BUF_SIZE;
		if (v % 2)
			d[0].offset = buf_offset(2 * RING_N - 1);
	} else if (!strcmp(m, "chain-loop")) {
		/* every posted slot says "continued in the next": the frame never ends; variant
		 * 1 marks every slot of the ring so, not only the posted ones */
		n = 4;
		for (unsigned i = 0; v % 2 == 1 && i < RING_N; i++)
			c->c2s->desc[i].flags = PMX_MEMIF_DESC_NEXT;
		for (unsigned i = 0; i < n; i++) {
			d[i] = (struct pmx_memif_desc){
				.flags = PMX_MEMIF_DESC_NEXT, .length = 60, .offset = UINT32_MAX};
			build_frame(slot_buf(c, i), 60, a, seq);
		}
	} else if (!strcmp(m, "oversize")) {
		/* one frame of 40 full chained buffers (81920 bytes), headers valid */
		n = 40;
		for (unsigned i = 0; i < n; i++) {
			d[i] = (struct pmx_memif_desc){.flags = i + 1 < n ? PMX_MEMIF_DESC_NEXT : 0,
						 .length = BUF_SIZE,
						 .offset = UINT32_MAX};
			memset(slot_buf(c, i), 'x', BUF_SIZE);
		}
		build_frame(slot_buf(c, 0), BUF_SIZE, a, seq);
	} else if (!strcmp(m, "bad-s2c")) {
		/* nothing to send: the buffers we offer the server point past our region */
		return 1;
	} else {
		return -1;
	}
	if (c2s_post(c, d, n, deadline) != 0)
		return -1;
	return 1;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3],
		      &mac[4], &mac[5]) == 6
		       ? 0
		       : -1;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: memif_hostile --socket PATH --id N --secret S --mode MODE [--count N]\n"
		"  [--seconds S] [--src-mac M] [--dst-mac M] [--src-ip A] [--dst-ip A]\n"
		"  [--sport P] [--dport P] [--variant K] [--gap-us U] [--break HOW]\n"
		"modes: good flood bad-region bad-offset zero-len big-len chain-loop oversize "
		"shrink bad-s2c\n");
	exit(1);
}

static void parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {{"socket", 1, 0, 's'},  {"id", 1, 0, 'i'},
					     {"secret", 1, 0, 'k'},  {"mode", 1, 0, 'm'},
					     {"count", 1, 0, 'n'},   {"seconds", 1, 0, 't'},
					     {"src-mac", 1, 0, 'a'}, {"dst-mac", 1, 0, 'b'},
					     {"src-ip", 1, 0, 'c'},  {"dst-ip", 1, 0, 'd'},
					     {"sport", 1, 0, 'e'},   {"dport", 1, 0, 'f'},
					     {"variant", 1, 0, 'v'}, {"gap-us", 1, 0, 'g'},
					     {"break", 1, 0, 'x'},   {0, 0, 0, 0}};
	int o;

	*a = (struct args){.secret = "",
			   .count = 100,
			   .seconds = 10,
			   .sport = 9,
			   .dport = 9,
			   .variant = -1,
			   .gap_us = 1000};
	inet_pton(AF_INET, "198.18.0.1", &a->src_ip);
	inet_pton(AF_INET, "198.18.0.2", &a->dst_ip);
	memset(a->dst_mac, 0xff, 6);
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 's': a->socket = optarg; break;
		case 'i': a->id = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'k': a->secret = optarg; break;
		case 'm': a->mode = optarg; break;
		case 'n': a->count = (unsigned)strtoul(optarg, NULL, 0); break;
		case 't': a->seconds = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'a':
			if (parse_mac(optarg, a->src_mac))
				usage();
			break;
		case 'b':
			if (parse_mac(optarg, a->dst_mac))
				usage();
			break;
		case 'c':
			if (inet_pton(AF_INET, optarg, &a->src_ip) != 1)
				usage();
			break;
		case 'd':
			if (inet_pton(AF_INET, optarg, &a->dst_ip) != 1)
				usage();
			break;
		case 'e': a->sport = (uint16_t)strtoul(optarg, NULL, 0); break;
		case 'f': a->dport = (uint16_t)strtoul(optarg, NULL, 0); break;
		case 'v': a->variant = (int)strtol(optarg, NULL, 0); break;
		case 'g': a->gap_us = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'x': a->brk = optarg; break;
		default: usage();
		}
	}
	if (a->socket == NULL || a->mode == NULL || a->seconds == 0 || a->seconds > 120)
		usage();
}

int main(int argc, char **argv)
{
	struct client c = {.sock = -1, .memfd = -1, .efd = {-1, -1}};
	struct args a;
	double deadline, linger, start;
	unsigned seq;
	int ret;

	parse_args(argc, argv, &a);
	if (region_create(&c, strcmp(a.mode, "shrink") != 0) != 0) {
		perror("memif_hostile: region");
		return 1;
	}
	ret = handshake(&c, &a);
	if (ret != 0) {
		fprintf(stderr, "memif_hostile: handshake failed\n");
		return ret == -2 ? 2 : 1;
	}
	start = wall_s();
	c.s2c_offset = UINT32_MAX;
	if (!strcmp(a.mode, "bad-s2c")) {
		/* the server-to-client buffers we offer: 4 GiB minus a page from our region */
		c.s2c_offset = 0xfffff000u;
		for (unsigned i = 0; i < RING_N; i++)
			c.s2c->desc[i].offset = c.s2c_offset;
	}
	printf("connected id=%u mode=%s start=%.3f\n", a.id, a.mode, start);
	fflush(stdout);

	deadline = now_s() + a.seconds;
	if (!strcmp(a.mode, "shrink")) {
		/* the region (rings included) shrinks to nothing under the server: an unsealed
		 * memfd allows it; we never touch it again, and watch whether the server stays */
		if (ftruncate(c.memfd, 0) != 0)
			return 1;
		while (!c.gone && now_s() < deadline)
			check_server(&c), usleep(10000);
		printf("mode=shrink server=%s start=%.3f end=%.3f\n", c.gone ? "gone" : "alive",
		       start, wall_s());
		return c.gone ? 3 : 0;
	}
	for (seq = 0; seq < a.count && now_s() < deadline; seq++) {
		if (run_one(&c, &a, seq, deadline) < 0)
			break;
		c.sent++;
		drain_s2c(&c);
		if (strcmp(a.mode, "flood") != 0) {
			check_server(&c);
			usleep(a.gap_us); /* the paced modes */
		}
		if (c.gone)
			break;
	}
	/* give the server time to read what we posted before we unmap it: until it has read
	 * everything, or its tail stood still for 200 ms (at most 3 s). chain-loop variant 2
	 * leaves at once, while the server may still be reading our region. */
	if (strcmp(a.mode, "chain-loop") == 0 && a.variant != 2) {
		/* the server follows the flag past head and, crossing head inside a chain again,
		 * around the ring forever: let it run for 2 s, then end the chains so that it
		 * stops within one more turn of its 16-bit slot counter */
		for (linger = now_s() + 2.0; !c.gone && now_s() < linger; usleep(1000))
			check_server(&c);
		for (unsigned i = 0; i < RING_N; i++)
			c.c2s->desc[i].flags = 0;
	}
	linger = now_s() + 3.0;
	if (!(strcmp(a.mode, "chain-loop") == 0 && a.variant == 2)) {
		uint16_t last = __atomic_load_n(&c.c2s->tail, __ATOMIC_ACQUIRE);
		double still = now_s();

		while (!c.gone && now_s() < linger && now_s() - still < 0.2 &&
		       __atomic_load_n(&c.c2s->tail, __ATOMIC_ACQUIRE) != c.c2s->head) {
			drain_s2c(&c);
			check_server(&c);
			usleep(1000);
			if (__atomic_load_n(&c.c2s->tail, __ATOMIC_ACQUIRE) != last)
				last = __atomic_load_n(&c.c2s->tail, __ATOMIC_ACQUIRE), still = now_s();
		}
		if (strcmp(a.mode, "chain-loop") == 0) /* its tail runs past head: wait it out */
			while (!c.gone && now_s() < linger && now_s() - still < 0.2) {
				check_server(&c);
				usleep(1000);
				if (__atomic_load_n(&c.c2s->tail, __ATOMIC_ACQUIRE) != last)
					last = __atomic_load_n(&c.c2s->tail, __ATOMIC_ACQUIRE), still = now_s();
			}
	}
	check_server(&c);
	printf("mode=%s sent=%llu received=%llu c2s_unread=%u server=%s start=%.3f end=%.3f\n",
	       a.mode, (unsigned long long)c.sent, (unsigned long long)c.received,
	       RING_N - c2s_free(&c), c.gone ? "gone" : "alive", start, wall_s());
	return c.gone ? 3 : 0;
}
