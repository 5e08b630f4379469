/* uds_pump.c - the uds channels' I/O thread: client rx_ring -> sendmmsg() (switch -> client)
 * and recvmmsg() -> client tx_ring (client -> switch), batched, nonblocking, frames copied */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "pmx_latency.h"
#include "pmx_log.h"
#include "uds_pump.h"

#define SPIN_PASSES 64  /* passes without work before the pump sleeps (~30 us here) */
#define MAX_EVENTS 64   /* readable sockets taken from one epoll call */
#define KICK UINT32_MAX /* epoll data of kick_fd (a channel's is its client id) */
#define MAX_SEGS 8      /* segments of one frame sent as one datagram */

/* The client left: stop serving the channel and tell the management lcore. */
static void chan_gone(struct pmx_uds_pump *p, struct pmx_uds_chan *ch)
{
	uint64_t one = 1;

	if (__atomic_load_n(&ch->gone, __ATOMIC_RELAXED))
		return;
	__atomic_store_n(&ch->gone, 1, __ATOMIC_RELEASE);
	if (write(p->gone_fd, &one, sizeof(one)) < 0)
		PMX_LOG(DEBUG, ctl, "uds: cannot signal client %u gone", ch->id);
}

/* Did the peer of a SOCK_SEQPACKET socket hang up (an empty read is then end of file)? */
static bool hung_up(int fd)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN | POLLRDHUP};

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

/* Frames queued for the client -> its socket, one datagram each. */
static unsigned to_client(struct pmx_uds_pump *p, struct pmx_uds_chan *ch)
{
	struct pmx_uds_counts *k = &p->count[ch->id];
	struct rte_mbuf *pkts[PMX_BURST], *send[PMX_BURST];
	struct iovec iov[PMX_BURST][MAX_SEGS];
	struct mmsghdr msg[PMX_BURST];
	unsigned n, ns = 0;
	int sent;

	pmx_lat_writer_poll(ch->lat); /* the pump is a uds client's histogram's one writer */
	n = rte_ring_sc_dequeue_burst(ch->rx, (void **)pkts, PMX_BURST, NULL);
	if (n == 0)
		return 0;
	for (unsigned i = 0; i < n; i++) {
		unsigned s = 0;

		if (pkts[i]->nb_segs > MAX_SEGS) {
			k->malformed++;
			p->drops[PMX_DROP_MALFORMED]++;
			rte_pktmbuf_free(pkts[i]);
			continue;
		}
		for (struct rte_mbuf *m = pkts[i]; m != NULL; m = m->next, s++)
			iov[ns][s] = (struct iovec){rte_pktmbuf_mtod(m, void *), m->data_len};
		msg[ns] = (struct mmsghdr){.msg_hdr = {.msg_iov = iov[ns], .msg_iovlen = s}};
		send[ns++] = pkts[i];
	}
	sent = ns > 0 ? sendmmsg(ch->fd, msg, ns, MSG_DONTWAIT | MSG_NOSIGNAL) : 0;
	if (sent < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS && errno != EINTR)
			chan_gone(p, ch); /* ECONNREFUSED, ENOTCONN (dgram), EPIPE (seqpacket) */
		sent = 0;
	}
	pmx_lat_record(ch->lat, p->sw->rx_tsc_off, send, (unsigned)sent, rte_rdtsc());
	k->sent += (unsigned)sent;
	/* a client that does not read: what its socket did not take is lost, as on a full ring */
	k->socket_full += ns - (unsigned)sent;
	p->drops[PMX_DROP_RING_FULL] += ns - (unsigned)sent;
	rte_pktmbuf_free_bulk(send, ns);
	return n;
}

/* Keep ch's spare mbufs (what the next read lands in) at PMX_BURST; a pool that ran dry
 * leaves fewer. @return how many spares ch has. */
static unsigned refill(struct pmx_uds_pump *p, struct pmx_uds_chan *ch)
{
	unsigned want = PMX_BURST - ch->n_spare;

	if (want > 0 && rte_pktmbuf_alloc_bulk(p->sw->pool, ch->spare + ch->n_spare, want) == 0)
		ch->n_spare = PMX_BURST;
	return ch->n_spare;
}

/* The client's datagrams -> mbufs -> its TX ring (its TX lcore checks them). Reads no more
 * than the ring takes: a client faster than its TX lcore finds its socket full and waits. */
static unsigned from_client(struct pmx_uds_pump *p, struct pmx_uds_chan *ch)
{
	struct pmx_uds_counts *k = &p->count[ch->id];
	struct rte_mbuf *keep[PMX_BURST], *back[PMX_BURST];
	struct iovec iov[PMX_BURST];
	struct mmsghdr msg[PMX_BURST];
	unsigned room = RTE_MIN(rte_ring_free_count(ch->tx), refill(p, ch)), nk = 0, left = 0;
	int got;

	if (room == 0) {
		if (ch->n_spare == 0)
			k->nomem++; /* nothing dropped: the datagrams wait in the socket */
		return 0;
	}
	for (unsigned i = 0; i < room; i++) {
		struct rte_mbuf *m = ch->spare[ch->n_spare - 1 - i];

		iov[i] = (struct iovec){
			rte_pktmbuf_mtod(m, void *),
			RTE_MIN(rte_pktmbuf_tailroom(m), (uint16_t)PMX_MAX_CLIENT_FRAME)};
		msg[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
	}
	got = recvmmsg(ch->fd, msg, room, MSG_DONTWAIT, NULL);
	if (got < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			chan_gone(p, ch);
		return 0;
	}
	for (unsigned i = 0; i < (unsigned)got; i++) {
		struct rte_mbuf *m = ch->spare[ch->n_spare - 1 - i];
		unsigned len = msg[i].msg_len;

		if (msg[i].msg_hdr.msg_flags & MSG_TRUNC) {
			k->oversize++;
			p->drops[PMX_DROP_OVERSIZE]++;
		} else if (len == 0 && ch->sock_type == SOCK_SEQPACKET && hung_up(ch->fd)) {
			chan_gone(p, ch); /* end of file, not an empty datagram */
		} else if (len == 0) {
			k->malformed++;
			p->drops[PMX_DROP_MALFORMED]++;
		} else {
			m->data_len = (uint16_t)len;
			m->pkt_len = len;
			keep[nk++] = m;
			continue;
		}
		back[left++] = m; /* dropped: the mbuf is untouched and stays a spare */
	}
	ch->n_spare -= (unsigned)got;
	for (unsigned i = 0; i < left; i++)
		ch->spare[ch->n_spare++] = back[i];
	/* the one producer, with room counted above: every frame fits */
	k->received += rte_ring_sp_enqueue_burst(ch->tx, (void **)keep, nk, NULL);
	return (unsigned)got;
}

/* Wait for readable sockets (and kicks) for at most timeout_ns (0: just look; -1: until one
 * comes): one syscall for every channel, and a socket is read only when it has something. */
static void pump_wait(struct pmx_uds_pump *p, long timeout_ns)
{
	struct epoll_event ev[MAX_EVENTS];
	struct timespec ts = {.tv_sec = 0, .tv_nsec = timeout_ns};
	int n = epoll_pwait2(p->epfd, ev, MAX_EVENTS, timeout_ns < 0 ? NULL : &ts, NULL);
	uint64_t v;

	for (int i = 0; i < n; i++) {
		uint32_t id = ev[i].data.u32;

		if (id != KICK)
			p->readable[id] = 1;
		else if (read(p->kick_fd, &v, sizeof(v)) < 0)
			PMX_LOG(DEBUG, ctl, "uds: kick read: %s", strerror(errno));
	}
}

static void *pump_main(void *arg)
{
	struct pmx_uds_pump *p = arg;
	unsigned work, open = 0, idle = 0;

	prctl(PR_SET_TIMERSLACK, 1000UL); /* its short sleeps as short as asked */
	while (!__atomic_load_n(&p->quit, __ATOMIC_ACQUIRE)) {
		/* busy (or just was): only look; idle: sleep until a client writes, or for
		 * frames to it; the passes spun before sleeping catch an answer coming back */
		pump_wait(p, idle < SPIN_PASSES ? 0 : open > 0 ? PMX_UDS_IDLE_NS : -1);
		work = open = 0;
		for (unsigned id = 0; id < p->sw->clients_max; id++) {
			struct pmx_uds_chan *ch = __atomic_load_n(&p->chan[id], __ATOMIC_ACQUIRE);

			if (ch == NULL || __atomic_load_n(&ch->gone, __ATOMIC_RELAXED))
				continue;
			open++;
			work += to_client(p, ch);
			if (p->readable[id]) {
				p->readable[id] = 0;
				work += from_client(p, ch);
			}
		}
		/* the end of a pass: no channel pointer is held past this store */
		__atomic_fetch_add(&p->passes, 1, __ATOMIC_RELEASE);
		idle = work > 0 ? 0 : idle + 1;
	}
	return NULL;
}

static void kick(struct pmx_uds_pump *p)
{
	uint64_t one = 1;

	if (write(p->kick_fd, &one, sizeof(one)) < 0)
		PMX_LOG(DEBUG, ctl, "uds: kick: %s", strerror(errno));
}

struct pmx_uds_pump *pmx_uds_pump_create(struct pmx_switch *sw)
{
	struct epoll_event ev = {.events = EPOLLIN};
	struct pmx_uds_pump *p = calloc(1, sizeof(*p));
	int err;

	if (p == NULL)
		return NULL;
	p->sw = sw;
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	p->kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	p->gone_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (p->epfd < 0 || p->kick_fd < 0 || p->gone_fd < 0)
		goto err_close;
	ev.data.u32 = KICK;
	if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->kick_fd, &ev) != 0)
		goto err_close;
	err = rte_ctrl_thread_create(&p->thread, "pmx-uds", NULL, pump_main, p);
	if (err != 0) {
		errno = err < 0 ? -err : err;
		goto err_close;
	}
	return p;

err_close:
	err = errno;
	for (int *fd = &p->epfd; fd <= &p->gone_fd; fd++)
		if (*fd >= 0)
			close(*fd);
	free(p);
	errno = err;
	return NULL;
}

static void chan_free(struct pmx_uds_pump *p, struct pmx_uds_chan *ch)
{
	rte_pktmbuf_free_bulk(ch->spare, ch->n_spare);
	epoll_ctl(p->epfd, EPOLL_CTL_DEL, ch->fd, NULL);
	close(ch->fd);
	free(ch);
}

void pmx_uds_pump_destroy(struct pmx_uds_pump *p)
{
	if (p == NULL)
		return;
	__atomic_store_n(&p->quit, 1, __ATOMIC_RELEASE);
	kick(p);
	pthread_join(p->thread, NULL);
	for (unsigned id = 0; id < PMX_MAX_CLIENTS; id++)
		if (p->chan[id] != NULL)
			chan_free(p, p->chan[id]);
	close(p->epfd);
	close(p->kick_fd);
	close(p->gone_fd);
	free(p);
}

int pmx_uds_pump_add(struct pmx_uds_pump *p, uint16_t id, int fd, int sock_type)
{
	const struct pmx_client_slot *slot = &p->sw->clients[id];
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = id};
	struct pmx_uds_chan *ch;
	int sndbuf = PMX_UDS_SNDBUF;

	if (id >= PMX_MAX_CLIENTS || p->chan[id] != NULL)
		return -EBUSY;
	ch = calloc(1, sizeof(*ch));
	if (ch == NULL)
		return -ENOMEM;
	/* room for bursts towards a slow reader (root may go past net.core.wmem_max) */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) != 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		int err = -errno;

		free(ch);
		return err;
	}
	*ch = (struct pmx_uds_chan){.fd = fd,
				    .sock_type = sock_type,
				    .id = id,
				    .rx = slot->rx_ring[0],
				    .tx = slot->tx_ring[0],
				    .lat = &p->sw->lat[id * PMX_MAX_QUEUES]};
	memset(&p->count[id], 0, sizeof(p->count[id]));
	__atomic_store_n(&p->chan[id], ch, __ATOMIC_RELEASE);
	kick(p); /* a pump asleep without channels sleeps without a timeout */
	return 0;
}

void pmx_uds_pump_remove(struct pmx_uds_pump *p, uint16_t id)
{
	struct pmx_uds_chan *ch;
	uint64_t pass;

	if (p == NULL || id >= PMX_MAX_CLIENTS || p->chan[id] == NULL)
		return;
	ch = p->chan[id];
	__atomic_store_n(&p->chan[id], NULL, __ATOMIC_RELEASE);
	/* a pass that loaded ch ends with the next increment of passes */
	pass = __atomic_load_n(&p->passes, __ATOMIC_ACQUIRE);
	kick(p);
	while (__atomic_load_n(&p->passes, __ATOMIC_ACQUIRE) == pass)
		usleep(10);
	chan_free(p, ch);
}

void pmx_uds_pump_client_counters(const struct pmx_uds_pump *p, uint16_t id,
				  struct pmx_client_counters *c)
{
	if (p == NULL || id >= PMX_MAX_CLIENTS || p->chan[id] == NULL)
		return;
	c->ring_full += __atomic_load_n(&p->count[id].socket_full, __ATOMIC_RELAXED);
}

void pmx_uds_pump_drops(const struct pmx_uds_pump *p, uint64_t drops[PMX_DROP_MAX])
{
	if (p == NULL)
		return;
	for (unsigned r = 0; r < PMX_DROP_MAX; r++)
		drops[r] += __atomic_load_n(&p->drops[r], __ATOMIC_RELAXED);
}
