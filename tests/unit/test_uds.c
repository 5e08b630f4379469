/* test_uds.c - unit tests of the uds client channel (uds_channel.c, uds_pump.c) */
/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Covers, negative cases first:
 *  - pmx_uds_channel_open() refuses a socket type other than SOCK_DGRAM/SOCK_SEQPACKET, a
 *    port out of range (EINVAL) and an attached session (EALREADY); hello refuses
 *    "channel": "uds" on a session that is not a socket (ENOTSOCK: nowhere to pass the
 *    descriptor), "uds_type" without "channel": "uds", a bad "uds_type", queues > 1;
 *  - frames both ways through the I/O thread: a datagram the client writes comes out of the
 *    slot's TX ring byte for byte; one longer than PMX_MAX_CLIENT_FRAME and an empty one are
 *    dropped and counted (oversize, malformed); a frame on the slot's RX ring reaches the
 *    client's socket whole;
 *  - a client that does not read loses frames (socket_full, ring_full in its counters and
 *    the drops), the RX ring is still emptied, no mbuf is kept;
 *  - a client that closes its end (SOCK_SEQPACKET at once; SOCK_DGRAM at the next frame for
 *    it) is detached by the control loop: its rule goes, its slot is free, every mbuf (the
 *    channel's spare ones too) is back in the pool; pmx_uds_channel_close() detaches and the
 *    client reads end of file;
 *  - over a real control connection, hello {"channel": "uds"} passes a working descriptor
 *    with SCM_RIGHTS beside its reply; closing the connection detaches the client.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <CUnit/Basic.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include "ctl_fixture.h"
#include "cunit_run.h"
#include "uds_channel.h"
#include "uds_pump.h"

static int suite_init(void)
{
	return fx_setup();
}

static int suite_cleanup(void)
{
	return fx_teardown();
}

/* Open a uds channel for a new session; returns the session, *fd the client's end. */
static struct pmx_ctl_session *open_chan(int type, int *fd)
{
	struct pmx_ctl_session *s = fx_session(false, 1000);
	struct pmx_attach_info info;

	CU_ASSERT_FATAL(
		pmx_uds_channel_open(&F.ctl, s, 0, "uds-test", type, NULL, &info, NULL, fd) == 0);
	CU_ASSERT_EQUAL(s->client_id, info.client_id);
	CU_ASSERT_EQUAL(F.sw.clients[s->client_id].channel, PMX_CHANNEL_UDS);
	return s;
}

static const struct pmx_uds_counts *counts(const struct pmx_ctl_session *s)
{
	return &F.sw.uds->count[s->client_id];
}

/* The pump counts a frame after it handed it on (sendmmsg returned, or the frame is on the TX
 * ring), so a client or a test can see the frame first: wait (up to 2 s) until counter *c
 * reaches want; return what it then holds. */
static uint64_t count_reaches(const uint64_t *c, uint64_t want)
{
	for (int i = 0; i < 2000 && __atomic_load_n(c, __ATOMIC_RELAXED) < want; i++)
		usleep(1000);
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* Wait (up to 2 s) for a frame on the slot's TX ring. */
static struct rte_mbuf *tx_ring_get(const struct pmx_ctl_session *s)
{
	void *m = NULL;

	for (int i = 0; i < 2000 && rte_ring_dequeue(F.sw.clients[s->client_id].tx_ring[0], &m);
	     i++)
		usleep(1000);
	return m;
}

/* Put a frame of len bytes (pattern from seed) on the slot's RX ring. */
static int rx_ring_put(const struct pmx_ctl_session *s, unsigned len, uint8_t seed)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(F.sw.pool);
	uint8_t *d = m ? (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len) : NULL;

	if (d == NULL) {
		rte_pktmbuf_free(m);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < len; i++)
		d[i] = (uint8_t)(seed + i);
	*RTE_MBUF_DYNFIELD(m, F.sw.rx_tsc_off, uint64_t *) = 0;
	if (rte_ring_enqueue(F.sw.clients[s->client_id].rx_ring[0], m) != 0) {
		rte_pktmbuf_free(m);
		return -ENOBUFS;
	}
	return 0;
}

/* Serve the control loop until s is detached (up to 2 s). */
static bool detached_by_loop(const struct pmx_ctl_session *s)
{
	for (int i = 0; i < 200 && s->client_id >= 0; i++)
		pmx_ctl_poll(&F.ctl, 10);
	return s->client_id < 0;
}

static void test_refused(void)
{
	struct pmx_ctl_session *s = fx_session(false, 1000);
	struct pmx_attach_info info;
	int fd = -1;

	CU_ASSERT_EQUAL(
		pmx_uds_channel_open(&F.ctl, s, 0, NULL, SOCK_STREAM, NULL, &info, NULL, &fd),
		-EINVAL);
	CU_ASSERT_EQUAL(
		pmx_uds_channel_open(&F.ctl, s, 2, NULL, SOCK_DGRAM, NULL, &info, NULL, &fd),
		-EINVAL);
	CU_ASSERT_STRING_EQUAL(fx_call(s, "{\"cmd\":\"hello\",\"channel\":\"uds\"}", NULL),
			       "ENOTSOCK");
	CU_ASSERT_STRING_EQUAL(fx_call(s, "{\"cmd\":\"hello\",\"uds_type\":\"dgram\"}", NULL),
			       "EINVAL");
	CU_ASSERT_STRING_EQUAL(
		fx_call(s, "{\"cmd\":\"hello\",\"channel\":\"uds\",\"uds_type\":\"stream\"}", NULL),
		"EINVAL");
	CU_ASSERT_STRING_EQUAL(
		fx_call(s, "{\"cmd\":\"hello\",\"channel\":\"uds\",\"queues\":2}", NULL), "EINVAL");
	CU_ASSERT_EQUAL(s->client_id, -1);
	CU_ASSERT(fx_hello(s, "ring") >= 0);
	CU_ASSERT_EQUAL(
		pmx_uds_channel_open(&F.ctl, s, 0, NULL, SOCK_DGRAM, NULL, &info, NULL, &fd),
		-EALREADY);
	CU_ASSERT_EQUAL(fd, -1);
	fx_session_free(s);
}

static void test_frames(void)
{
	unsigned in_use = rte_mempool_in_use_count(F.sw.pool);
	uint8_t frame[PMX_MAX_CLIENT_FRAME + 1], got[2048];
	struct pollfd pfd;
	struct rte_mbuf *m;
	int fd;
	struct pmx_ctl_session *s = open_chan(SOCK_SEQPACKET, &fd);

	for (unsigned i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)(i * 7);
	/* client -> switch: byte for byte onto the TX ring */
	CU_ASSERT_EQUAL(send(fd, frame, 60, 0), 60);
	m = tx_ring_get(s);
	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT_EQUAL(rte_pktmbuf_pkt_len(m), 60);
	CU_ASSERT_EQUAL(rte_pktmbuf_data_len(m), 60);
	CU_ASSERT(memcmp(rte_pktmbuf_mtod(m, uint8_t *), frame, 60) == 0);
	rte_pktmbuf_free(m);
	/* too long, empty: dropped, counted; the largest frame passes */
	CU_ASSERT_EQUAL(send(fd, frame, PMX_MAX_CLIENT_FRAME + 1, 0), PMX_MAX_CLIENT_FRAME + 1);
	CU_ASSERT_EQUAL(send(fd, frame, 0, 0), 0);
	CU_ASSERT_EQUAL(send(fd, frame, PMX_MAX_CLIENT_FRAME, 0), PMX_MAX_CLIENT_FRAME);
	m = tx_ring_get(s);
	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT_EQUAL(rte_pktmbuf_pkt_len(m), PMX_MAX_CLIENT_FRAME);
	rte_pktmbuf_free(m);
	CU_ASSERT_EQUAL(counts(s)->oversize, 1);
	CU_ASSERT_EQUAL(counts(s)->malformed, 1);
	CU_ASSERT_EQUAL(count_reaches(&counts(s)->received, 2), 2);
	/* switch -> client: whole, one datagram */
	CU_ASSERT_EQUAL(rx_ring_put(s, 1000, 3), 0);
	pfd = (struct pollfd){.fd = fd, .events = POLLIN};
	CU_ASSERT_EQUAL(poll(&pfd, 1, 2000), 1);
	CU_ASSERT_EQUAL(recv(fd, got, sizeof(got), MSG_DONTWAIT), 1000);
	CU_ASSERT(got[0] == 3 && got[999] == (uint8_t)(3 + 999));
	CU_ASSERT_EQUAL(count_reaches(&counts(s)->sent, 1), 1);
	fx_session_free(s); /* detach: the channel and its spare mbufs go */
	close(fd);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(F.sw.pool), in_use);
}

static void test_slow_client(void)
{
	unsigned in_use = rte_mempool_in_use_count(F.sw.pool), put = 0, read = 0;
	struct pmx_client_counters c;
	uint8_t got[2048];
	int fd;
	struct pmx_ctl_session *s = open_chan(SOCK_DGRAM, &fd);
	const struct pmx_uds_counts *k = counts(s);

	/* more than its socket holds (PMX_UDS_SNDBUF), the client reading nothing */
	while (put < 4000) {
		int ret = rx_ring_put(s, 1400, (uint8_t)put);

		if (ret == 0)
			put++;
		else
			usleep(200); /* the ring is full until the thread empties it */
	}
	for (int i = 0; i < 2000 && k->sent + k->socket_full < put; i++)
		usleep(1000);
	CU_ASSERT_EQUAL(k->sent + k->socket_full, put);
	CU_ASSERT(k->socket_full > 0);
	CU_ASSERT_EQUAL(rte_ring_count(F.sw.clients[s->client_id].rx_ring[0]), 0);
	pmx_registry_client_counters(&F.sw, (uint16_t)s->client_id, &c);
	CU_ASSERT_EQUAL(c.ring_full, k->socket_full);
	while (recv(fd, got, sizeof(got), MSG_DONTWAIT) == 1400)
		read++;
	CU_ASSERT_EQUAL(read, k->sent);
	fx_session_free(s);
	close(fd);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(F.sw.pool), in_use);
}

static void test_closed_end(void)
{
	unsigned in_use = rte_mempool_in_use_count(F.sw.pool);
	int fd, id;
	struct pmx_ctl_session *s = open_chan(SOCK_SEQPACKET, &fd);
	json_t *rules;
	uint8_t b;

	id = s->client_id;
	CU_ASSERT_STRING_EQUAL(
		fx_call(s, "{\"cmd\":\"listen\",\"proto\":\"udp\",\"port\":4242}", NULL), "ok");
	CU_ASSERT_EQUAL(send(fd, "x", 0, 0), 0); /* the thread reads: spares taken */
	close(fd);                               /* SOCK_SEQPACKET: seen at once */
	CU_ASSERT(detached_by_loop(s));
	CU_ASSERT_EQUAL(F.sw.clients[id].state, PMX_SLOT_FREE);
	rules = pmx_ctl_rules_json(&F.ctl, id);
	CU_ASSERT_EQUAL(json_array_size(rules), 0);
	json_decref(rules);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(F.sw.pool), in_use);
	fx_session_free(s);

	/* SOCK_DGRAM: the kernel says nothing until the next frame for it */
	s = open_chan(SOCK_DGRAM, &fd);
	close(fd);
	for (int i = 0; i < 20; i++)
		pmx_ctl_poll(&F.ctl, 1);
	CU_ASSERT(s->client_id >= 0);
	CU_ASSERT_EQUAL(rx_ring_put(s, 60, 0), 0);
	CU_ASSERT(detached_by_loop(s));
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(F.sw.pool), in_use);
	fx_session_free(s);

	/* closed by the switch: the client reads end of file */
	s = open_chan(SOCK_SEQPACKET, &fd);
	pmx_uds_channel_close(&F.ctl, s);
	CU_ASSERT_EQUAL(s->client_id, -1);
	CU_ASSERT_EQUAL(recv(fd, &b, 1, 0), 0);
	close(fd);
	fx_session_free(s);
	pmx_uds_channel_close(&F.ctl, s = fx_session(false, 1000)); /* not attached: nothing */
	fx_session_free(s);
}

/* The daemon side served until the client can read (up to 2 s). */
static bool serve_until_readable(int fd)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};

	for (int i = 0; i < 200; i++) {
		pmx_ctl_poll(&F.ctl, 10);
		if (poll(&pfd, 1, 0) == 1)
			return true;
	}
	return false;
}

static void test_hello_passes_fd(void)
{
	static const char hello[] = "{\"cmd\":\"hello\",\"channel\":\"uds\",\"name\":\"py\"}\n";
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char line[4096], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = line, .iov_len = sizeof(line) - 1};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf)};
	int ctl = socket(AF_UNIX, SOCK_STREAM, 0), chan = -1;
	struct cmsghdr *cm;
	struct rte_mbuf *m;
	ssize_t n;
	uint8_t b;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", F.sock);
	CU_ASSERT_FATAL(connect(ctl, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	CU_ASSERT_EQUAL(send(ctl, hello, sizeof(hello) - 1, 0), (ssize_t)sizeof(hello) - 1);
	CU_ASSERT_FATAL(serve_until_readable(ctl));
	n = recvmsg(ctl, &mh, 0);
	CU_ASSERT_FATAL(n > 0);
	line[n] = '\0';
	CU_ASSERT(strstr(line, "\"ok\":true") != NULL &&
		  strstr(line, "\"channel\":\"uds\"") != NULL);
	cm = CMSG_FIRSTHDR(&mh);
	CU_ASSERT_FATAL(cm != NULL && cm->cmsg_type == SCM_RIGHTS);
	memcpy(&chan, CMSG_DATA(cm), sizeof(int));
	/* the descriptor works: a frame written on it comes out of the client's TX ring */
	CU_ASSERT_EQUAL(send(chan, "0123456789abcdef", 16, 0), 16);
	for (int id = 0; id < (int)F.sw.clients_max; id++) {
		struct pmx_ctl_session *s = F.ctl.client_session[id];

		if (s != NULL && strcmp(s->name, "py") == 0 && (m = tx_ring_get(s)) != NULL) {
			CU_ASSERT(memcmp(rte_pktmbuf_mtod(m, char *), "0123456789abcdef", 16) == 0);
			rte_pktmbuf_free(m);
		}
	}
	/* the connection goes: its client is detached, the channel closed */
	close(ctl);
	for (int i = 0; i < 100; i++)
		pmx_ctl_poll(&F.ctl, 10);
	CU_ASSERT_EQUAL(recv(chan, &b, 1, MSG_DONTWAIT), 0);
	close(chan);
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"refused", test_refused},
		{"frames", test_frames},
		{"slow_client", test_slow_client},
		{"closed_end", test_closed_end},
		{"hello_passes_fd", test_hello_passes_fd},
	};

	fx_eal_init("test_uds");
	return cunit_run("uds", suite_init, suite_cleanup, tests, RTE_DIM(tests));
}
