/* uds_bench.c - the uds channel's own frames/s and round-trip latency: a client without DPDK
 * attaches over "channel": "uds", owns two UDP ports and sends itself frames from one to the
 * other through the switch (socket -> uds I/O thread -> TX lcore checks -> local delivery ->
 * I/O thread -> socket), first one at a time (latency unloaded), then with a window of frames
 * in flight for a while (frames/s and latency under load). Prints one RESULT line (JSON). */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/un.h>

#define BATCH 32
#define FRAME_LEN 60
#define MAX_SAMPLES (1u << 22)

struct bench {
	const char *sock_path, *type, *local_ip;
	unsigned window, duration_s, pings;
	uint16_t port; /* frames go from port to port + 1 */
	int ctl, chan;
	uint8_t mac[6];
	uint32_t ip; /* network order */
	uint64_t sent, received, bad, timeouts;
	uint64_t *rtt; /* ns, one per frame received while sampling */
	unsigned n_rtt;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One request line; its reply line into buf, a descriptor that came with it into *fd. */
static int request(struct bench *b, const char *req, char *buf, size_t len, int *fd)
{
	size_t got = 0;

	if (write(b->ctl, req, strlen(req)) != (ssize_t)strlen(req))
		return -1;
	while (got + 1 < len && (got == 0 || buf[got - 1] != '\n')) {
		char cbuf[CMSG_SPACE(sizeof(int))];
		struct iovec iov = {.iov_base = buf + got, .iov_len = 1};
		struct msghdr mh = {.msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = cbuf,
				    .msg_controllen = sizeof(cbuf)};
		ssize_t r = recvmsg(b->ctl, &mh, MSG_CMSG_CLOEXEC);

		if (r <= 0)
			return -1;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
			if (cm->cmsg_type == SCM_RIGHTS && fd != NULL)
				memcpy(fd, CMSG_DATA(cm), sizeof(int));
		got += (size_t)r;
	}
	buf[got] = '\0';
	return strstr(buf, "\"ok\":true") != NULL ? 0 : -1;
}

static int attach(struct bench *b)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char req[256], buf[4096];
	const char *mac;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", b->sock_path);
	b->ctl = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (b->ctl < 0 || connect(b->ctl, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return -1;
	b->chan = -1;
	snprintf(req, sizeof(req),
		 "{\"cmd\":\"hello\",\"name\":\"uds-bench\",\"channel\":\"uds\",\"uds_type\":"
		 "\"%s\"}\n",
		 b->type);
	if (request(b, req, buf, sizeof(buf), &b->chan) != 0 || b->chan < 0) {
		fprintf(stderr, "uds-bench: hello: %s", buf);
		return -1;
	}
	mac = strstr(buf, "\"mac\":\"");
	if (mac == NULL || sscanf(mac + 7, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &b->mac[0], &b->mac[1],
				  &b->mac[2], &b->mac[3], &b->mac[4], &b->mac[5]) != 6)
		return -1;
	for (unsigned k = 0; k < 2; k++) {
		snprintf(req, sizeof(req), "{\"cmd\":\"listen\",\"proto\":\"udp\",\"port\":%u}\n",
			 b->port + k);
		if (request(b, req, buf, sizeof(buf), NULL) != 0) {
			fprintf(stderr, "uds-bench: listen: %s", buf);
			return -1;
		}
	}
	return 0;
}

static uint16_t ip_sum(const uint8_t *h)
{
	uint32_t s = 0;

	for (unsigned i = 0; i < 20; i += 2)
		s += (uint32_t)(h[i] << 8 | h[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* A frame from local:port to local:port+1 carrying seq and the time it is sent. */
static void build(const struct bench *b, uint8_t *f, uint64_t seq)
{
	uint64_t t = now_ns();
	uint16_t v;

	memset(f, 0, FRAME_LEN);
	memcpy(f, b->mac, 6);
	memcpy(f + 6, b->mac, 6);
	f[12] = 0x08;
	f[14] = 0x45;
	v = htons(FRAME_LEN - 14);
	memcpy(f + 16, &v, 2);
	f[22] = 64;
	f[23] = 17;
	memcpy(f + 26, &b->ip, 4);
	memcpy(f + 30, &b->ip, 4);
	v = htons(ip_sum(f + 14));
	memcpy(f + 24, &v, 2);
	v = htons(b->port);
	memcpy(f + 34, &v, 2);
	v = htons((uint16_t)(b->port + 1));
	memcpy(f + 36, &v, 2);
	v = htons(FRAME_LEN - 34);
	memcpy(f + 38, &v, 2);
	memcpy(f + 42, &seq, 8);
	memcpy(f + 50, &t, 8);
}

static void send_some(struct bench *b, unsigned n)
{
	uint8_t f[BATCH][FRAME_LEN];
	struct iovec iov[BATCH];
	struct mmsghdr m[BATCH];
	int r;

	for (unsigned i = 0; i < n; i++) {
		build(b, f[i], b->sent + i);
		iov[i] = (struct iovec){f[i], FRAME_LEN};
		m[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
	}
	r = sendmmsg(b->chan, m, n, MSG_DONTWAIT);
	if (r > 0)
		b->sent += (unsigned)r;
}

/* Read what came back (waiting up to wait_ms for the first); rtt samples while sample. */
static unsigned recv_some(struct bench *b, int wait_ms, int sample)
{
	uint8_t f[BATCH][2048];
	struct iovec iov[BATCH];
	struct mmsghdr m[BATCH];
	struct pollfd pfd = {.fd = b->chan, .events = POLLIN};
	uint64_t t;
	unsigned got = 0;
	int r;

	if (wait_ms != 0 && poll(&pfd, 1, wait_ms) <= 0)
		return 0;
	for (unsigned i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){f[i], sizeof(f[i])};
		m[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
	}
	r = recvmmsg(b->chan, m, BATCH, MSG_DONTWAIT, NULL);
	t = now_ns();
	for (int i = 0; i < r; i++) {
		uint64_t sent_at;

		if (m[i].msg_len != FRAME_LEN || f[i][23] != 17 ||
		    ntohs(*(uint16_t *)(f[i] + 36)) != b->port + 1) {
			b->bad++; /* something else for this client (none expected) */
			continue;
		}
		memcpy(&sent_at, f[i] + 50, 8);
		if (sample && b->n_rtt < MAX_SAMPLES)
			b->rtt[b->n_rtt++] = t - sent_at;
		got++;
	}
	b->received += got;
	return got;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* p50, p99 and max of n samples, in microseconds, as JSON fields. */
static void print_pct(const char *tag, uint64_t *s, unsigned n)
{
	if (n == 0) {
		printf("\"%s_samples\":0", tag);
		return;
	}
	qsort(s, n, sizeof(*s), cmp_u64);
	printf("\"%s_samples\":%u,\"%s_p50_us\":%.1f,\"%s_p99_us\":%.1f,\"%s_max_us\":%.1f", tag, n,
	       tag, s[n / 2] / 1e3, tag, s[(size_t)n * 99 / 100] / 1e3, tag, s[n - 1] / 1e3);
}

static void run(struct bench *b)
{
	uint64_t start, end, sent0, recv0, in_window;
	unsigned pinged;

	/* one frame at a time: the unloaded round trip */
	for (unsigned i = 0; i < b->pings; i++) {
		send_some(b, 1);
		recv_some(b, 1000, 1);
	}
	pinged = b->n_rtt;
	/* a window of frames in flight: the channel's rate */
	sent0 = b->sent;
	recv0 = b->received;
	start = now_ns();
	end = start + (uint64_t)b->duration_s * 1000000000u;
	while (now_ns() < end) {
		int64_t d = (int64_t)(b->sent - b->received - b->timeouts);
		uint64_t in_flight = d > 0 ? (uint64_t)d : 0; /* given-up frames may come back */

		if (in_flight < b->window)
			send_some(b,
				  (unsigned)(b->window - in_flight < BATCH ? b->window - in_flight
									   : BATCH));
		if (recv_some(b, in_flight >= b->window ? 100 : 0, 1) == 0 &&
		    in_flight >= b->window)
			b->timeouts += in_flight; /* none back for 100 ms: given up, go on */
	}
	end = now_ns();
	in_window = b->received - recv0;
	while (recv_some(b, 200, 0) > 0) /* the stragglers, not in the rate */
		;
	printf("RESULT {\"type\":\"%s\",\"window\":%u,\"duration_s\":%.3f,\"sent\":%llu,"
	       "\"received\":%llu,\"lost\":%llu,\"frames_per_s\":%.0f,\"bad\":%llu,",
	       b->type, b->window, (end - start) / 1e9, (unsigned long long)(b->sent - sent0),
	       (unsigned long long)in_window, (unsigned long long)(b->sent - b->received),
	       in_window / ((end - start) / 1e9), (unsigned long long)b->bad);
	print_pct("ping", b->rtt, pinged);
	printf(",");
	print_pct("loaded", b->rtt + pinged, b->n_rtt - pinged);
	printf("}\n");
}

int main(int argc, char **argv)
{
	struct bench b = {.sock_path = "/run/portmux/portmux.sock",
			  .type = "seqpacket",
			  .local_ip = "198.18.0.1",
			  .window = 256,
			  .duration_s = 5,
			  .pings = 1000,
			  .port = 20000};
	int opt;

	while ((opt = getopt(argc, argv, "s:t:a:w:d:n:p:h")) != -1) {
		switch (opt) {
		case 's': b.sock_path = optarg; break;
		case 't': b.type = optarg; break;
		case 'a': b.local_ip = optarg; break;
		case 'w': b.window = (unsigned)atoi(optarg); break;
		case 'd': b.duration_s = (unsigned)atoi(optarg); break;
		case 'n': b.pings = (unsigned)atoi(optarg); break;
		case 'p': b.port = (uint16_t)atoi(optarg); break;
		default:
			fprintf(stderr,
				"usage: uds-bench [-s SOCKET] [-t seqpacket|dgram] [-a LOCAL_IP]\n"
				"       [-w WINDOW] [-d SECONDS] [-n PINGS] [-p PORT]\n"
				"  frames from LOCAL_IP:PORT to LOCAL_IP:PORT+1 through the "
				"switch;\n"
				"  PINGS one at a time, then WINDOW in flight for SECONDS\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	if (inet_pton(AF_INET, b.local_ip, &b.ip) != 1 || b.window == 0) {
		fprintf(stderr, "uds-bench: bad -a or -w\n");
		return 2;
	}
	b.rtt = malloc(MAX_SAMPLES * sizeof(*b.rtt));
	if (b.rtt == NULL || attach(&b) != 0) {
		fprintf(stderr, "uds-bench: cannot attach over uds: %s\n", strerror(errno));
		return 1;
	}
	run(&b);
	free(b.rtt);
	close(b.chan);
	close(b.ctl);
	return 0;
}
