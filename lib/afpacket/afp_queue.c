/* afp_queue.c - one packet socket per queue: its rings, the RX (wire -> switch) and TX (switch ->
 * wire) bursts over them, and the pump between them and the ring ethdev's rte_rings */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_ether.h>

#include "afp.h"

/* An RX frame holds the tpacket2 header, the sockaddr_ll, the virtio-net header and a whole
 * TSO/GSO super-frame (64 KB IP packet plus Ethernet and VLAN headers): 17 pages. */
#define RX_FRAME_SIZE (17u * 4096u)
/* Where a TX frame's data starts (tp_hdrlen less the sockaddr_ll: no PACKET_TX_HAS_OFF). */
#define TX_DATA_OFF (TPACKET2_HDRLEN - sizeof(struct sockaddr_ll))
#define VNET_LEN sizeof(struct virtio_net_hdr)
/* frames one pump moves each way (the switch's burst) */
#define PUMP_BURST 32

static_assert(RX_FRAME_SIZE % 4096 == 0, "ring blocks are whole pages");

static int sockopt(int fd, int name, int val)
{
	return setsockopt(fd, SOL_PACKET, name, &val, sizeof(val)) == 0 ? 0 : -errno;
}

static int ring_req(int fd, int name, uint32_t frame_size, uint32_t frames)
{
	struct tpacket_req req = {
		.tp_block_size = frame_size, /* one frame a block: no frame straddles pages */
		.tp_block_nr = frames,
		.tp_frame_size = frame_size,
		.tp_frame_nr = frames,
	};

	return setsockopt(fd, SOL_PACKET, name, &req, sizeof(req)) == 0 ? 0 : -errno;
}

/* Socket options, in the order the kernel wants them: everything that shapes the rings
 * before the rings, the fanout group after the bind. */
static int sock_setup(const struct pmx_afp_port *pv, int fd, uint32_t tx_frame)
{
	int ret;

	ret = sockopt(fd, PACKET_VERSION, TPACKET_V2);
	if (ret == 0)
		ret = sockopt(fd, PACKET_VNET_HDR, 1);
	if (ret == 0) /* the switch's own TX must not come back as RX */
		ret = sockopt(fd, PACKET_IGNORE_OUTGOING, 1);
	if (ret == 0) /* a frame the kernel refuses is skipped, not a stuck ring */
		ret = sockopt(fd, PACKET_LOSS, 1);
	if (ret == 0 && pv->conf.qdisc_bypass)
		ret = sockopt(fd, PACKET_QDISC_BYPASS, 1);
	if (ret == 0)
		ret = ring_req(fd, PACKET_RX_RING, RX_FRAME_SIZE, pv->conf.frames);
	if (ret == 0)
		ret = ring_req(fd, PACKET_TX_RING, tx_frame, pv->conf.frames);
	return ret;
}

int pmx_afp_sock_open(struct pmx_afp_port *pv, unsigned q, uint16_t mtu)
{
	struct pmx_afp_sock *s = &pv->q[q].sock;
	struct pmx_afp_rxq *rxq = &pv->q[q].rxq;
	struct pmx_afp_txq *txq = &pv->q[q].txq;
	/* a TX frame holds the largest frame the MTU allows, VLAN-tagged, behind the headers */
	uint32_t tx_frame = RTE_ALIGN_CEIL(TX_DATA_OFF + VNET_LEN + RTE_ETHER_HDR_LEN + 8u + mtu,
					   4096u);
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = pv->ifindex,
	};
	size_t rx_len = (size_t)RX_FRAME_SIZE * pv->conf.frames;
	int ret;

	s->map = MAP_FAILED;
	s->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0); /* nothing arrives before bind */
	if (s->fd < 0)
		return -errno;
	ret = sock_setup(pv, s->fd, tx_frame);
	if (ret < 0)
		goto close_fd;
	s->map_len = rx_len + (size_t)tx_frame * pv->conf.frames;
	s->map = mmap(NULL, s->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, s->fd,
		      0);
	if (s->map == MAP_FAILED) {
		ret = -errno;
		goto close_fd;
	}
	if (bind(s->fd, (struct sockaddr *)&sll, sizeof(sll)) != 0) {
		ret = -errno;
		goto close_fd;
	}
	/* several queues share the frames by flow hash; no PACKET_FANOUT_FLAG_DEFRAG: the switch
	 * sees fragments as they came (the kernel's flow hash of a fragment uses its addresses
	 * only, so all fragments of a datagram reach one queue) */
	if (pv->nq > 1) {
		ret = sockopt(s->fd, PACKET_FANOUT, pv->fanout_id | (PACKET_FANOUT_HASH << 16));
		if (ret < 0)
			goto close_fd;
	}
	rxq->ring = (struct pmx_afp_ring){s->map, RX_FRAME_SIZE, pv->conf.frames, 0};
	txq->ring = (struct pmx_afp_ring){s->map + rx_len, tx_frame, pv->conf.frames, 0};
	txq->fd = s->fd;
	rxq->stash_head = rxq->stash_n = 0;
	return 0;

close_fd:
	pmx_afp_sock_close(s);
	return ret;
}

void pmx_afp_sock_close(struct pmx_afp_sock *s)
{
	if (s->map != MAP_FAILED && s->map != NULL)
		munmap(s->map, s->map_len);
	s->map = NULL;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

static inline struct tpacket2_hdr *ring_frame(const struct pmx_afp_ring *r)
{
	return (struct tpacket2_hdr *)(r->base + (size_t)r->head * r->frame_size);
}

static inline void ring_advance(struct pmx_afp_ring *r)
{
	r->head = r->head + 1 == r->frame_nr ? 0 : r->head + 1;
}

/* Put back the VLAN tag the kernel took off into tp_vlan_tci: the switch gets the wire's
 * frame. Returns 0 or -ENOSPC (no headroom). */
static int vlan_restore(struct rte_mbuf *m, const struct tpacket2_hdr *h)
{
	uint16_t tpid = (h->tp_status & TP_STATUS_VLAN_TPID_VALID) && h->tp_vlan_tpid != 0
				? h->tp_vlan_tpid
				: RTE_ETHER_TYPE_VLAN;
	uint8_t *p = (uint8_t *)rte_pktmbuf_prepend(m, 4);
	uint16_t tag[2] = {rte_cpu_to_be_16(tpid), rte_cpu_to_be_16(h->tp_vlan_tci)};

	if (p == NULL)
		return -ENOSPC;
	memmove(p, p + 4, 2 * RTE_ETHER_ADDR_LEN);
	memcpy(p + 2 * RTE_ETHER_ADDR_LEN, tag, 4);
	return 0;
}

/* One ring frame into the stash (a super-frame cut) or one mbuf; returns mbufs made. */
static unsigned rx_frame(struct pmx_afp_rxq *q, struct tpacket2_hdr *h, struct rte_mbuf **out)
{
	uint8_t *data = (uint8_t *)h + h->tp_mac;
	const struct virtio_net_hdr *vh = (const void *)(data - VNET_LEN);
	uint32_t len = h->tp_snaplen;
	struct rte_mbuf *m;
	int n = 1;

	if (unlikely(len != h->tp_len)) { /* truncated: larger than a ring frame */
		q->errors++;
		return 0;
	}
	if (unlikely(vh->gso_type != VIRTIO_NET_HDR_GSO_NONE)) {
		n = pmx_afp_gso_cut(data, len, vh, q->pool, out, PMX_AFP_GSO_MAX_SEGS);
		if (n < 0) {
			if (n == -ENOBUFS)
				q->nombuf++;
			else
				q->errors++;
			return 0;
		}
		q->gso_frames++;
		q->gso_segments += (unsigned)n;
	} else {
		if (unlikely(vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
			if (pmx_afp_csum_complete(data, len, vh) < 0) {
				q->errors++;
				return 0;
			}
			q->csum_completed++;
		}
		m = rte_pktmbuf_alloc(q->pool);
		if (unlikely(m == NULL)) {
			q->nombuf++;
			return 0;
		}
		if (unlikely(len > rte_pktmbuf_tailroom(m))) {
			rte_pktmbuf_free(m);
			q->errors++;
			return 0;
		}
		rte_memcpy(rte_pktmbuf_append(m, (uint16_t)len), data, len);
		out[0] = m;
	}
	for (int i = 0; i < n; i++) {
		out[i]->port = q->port_id;
		if ((h->tp_status & TP_STATUS_VLAN_VALID) && vlan_restore(out[i], h) < 0) {
			rte_pktmbuf_free_bulk(out, (unsigned)n);
			q->errors++;
			return 0;
		}
	}
	return (unsigned)n;
}

uint16_t pmx_afp_rx_burst(struct pmx_afp_rxq *q, struct rte_mbuf **pkts, uint16_t nb_pkts)
{
	uint16_t n = 0;

	while (n < nb_pkts) {
		struct tpacket2_hdr *h;

		if (q->stash_n > 0) { /* wire frames of the last super-frame first */
			uint16_t k = RTE_MIN(q->stash_n, (uint16_t)(nb_pkts - n));

			memcpy(pkts + n, q->stash + q->stash_head, k * sizeof(pkts[0]));
			q->stash_head += k;
			q->stash_n -= k;
			n += k;
			continue;
		}
		h = ring_frame(&q->ring);
		if (!(__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
			break;
		if (nb_pkts - n >= PMX_AFP_GSO_MAX_SEGS) {
			n += rx_frame(q, h, pkts + n);
		} else {
			q->stash_head = 0;
			q->stash_n = (uint16_t)rx_frame(q, h, q->stash);
		}
		__atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		ring_advance(&q->ring);
	}
	for (uint16_t i = 0; i < n; i++)
		q->bytes += pkts[i]->pkt_len;
	q->pkts += n;
	return n;
}

/* Ask the kernel to send the frames marked SEND_REQUEST. When it could not take them all (the
 * device's queue or the peer's backlog full: EAGAIN, ENOBUFS), the rest stay marked and the
 * next pump asks again, so they do not wait for the next frame to send. */
static void tx_kick(struct pmx_afp_txq *q)
{
	q->kick = send(q->fd, NULL, 0, MSG_DONTWAIT) < 0 && (errno == EAGAIN || errno == ENOBUFS);
}

uint16_t pmx_afp_tx_burst(struct pmx_afp_txq *q, struct rte_mbuf **pkts, uint16_t nb_pkts)
{
	uint32_t room = q->ring.frame_size - TX_DATA_OFF - VNET_LEN;
	uint16_t i, sent = 0;

	for (i = 0; i < nb_pkts; i++) {
		struct tpacket2_hdr *h = ring_frame(&q->ring);
		struct rte_mbuf *m = pkts[i];
		uint8_t *data = (uint8_t *)h + TX_DATA_OFF;

		if (__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) != TP_STATUS_AVAILABLE)
			break; /* ring full: the caller keeps the rest */
		if (unlikely(m->pkt_len > room)) {
			q->errors++;
			rte_pktmbuf_free(m);
			continue;
		}
		memset(data, 0, VNET_LEN); /* no offload asked of the kernel */
		if (rte_pktmbuf_is_contiguous(m))
			rte_memcpy(data + VNET_LEN, rte_pktmbuf_mtod(m, void *), m->pkt_len);
		else
			rte_pktmbuf_read(m, 0, m->pkt_len, data + VNET_LEN);
		h->tp_len = VNET_LEN + m->pkt_len;
		q->bytes += m->pkt_len;
		sent++;
		rte_pktmbuf_free(m);
		__atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
		ring_advance(&q->ring);
	}
	if (sent > 0)
		tx_kick(q);
	q->pkts += sent;
	return i;
}

unsigned pmx_afp_tx_room(const struct pmx_afp_txq *q, unsigned max)
{
	struct pmx_afp_ring r = q->ring;
	unsigned n;

	for (n = 0; n < max; n++) {
		if (__atomic_load_n(&ring_frame(&r)->tp_status, __ATOMIC_ACQUIRE) !=
		    TP_STATUS_AVAILABLE)
			break;
		ring_advance(&r);
	}
	return n;
}

unsigned pmx_afp_pump(struct pmx_afp_port *pt, unsigned q)
{
	struct pmx_afp_queue *aq = &pt->q[q];
	struct rte_mbuf *pkts[PUMP_BURST];
	unsigned n, moved = 0;

	/* switch -> wire: no more than the socket ring has free frames for; the rest wait */
	if (unlikely(aq->txq.kick))
		tx_kick(&aq->txq);
	if (!rte_ring_empty(aq->tx_ring)) {
		n = rte_ring_sc_dequeue_burst(aq->tx_ring, (void **)pkts,
					      pmx_afp_tx_room(&aq->txq, PUMP_BURST), NULL);
		if (n > 0)
			moved += pmx_afp_tx_burst(&aq->txq, pkts, (uint16_t)n);
	}
	/* wire -> switch: no more than the RX ring has room for; the rest wait in the socket
	 * ring, whose overflow the kernel counts (socket_drops) */
	if (aq->rxq.stash_n > 0 ||
	    (__atomic_load_n(&ring_frame(&aq->rxq.ring)->tp_status, __ATOMIC_ACQUIRE) &
	     TP_STATUS_USER)) {
		n = pmx_afp_rx_burst(
			&aq->rxq, pkts,
			(uint16_t)RTE_MIN(rte_ring_free_count(aq->rx_ring), (unsigned)PUMP_BURST));
		/* the one producer checked the room: all fit */
		moved += rte_ring_sp_enqueue_burst(aq->rx_ring, (void **)pkts, n, NULL);
	}
	return moved;
}
