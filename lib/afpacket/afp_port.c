/* afp_port.c - the af_packet port: devargs, sockets, promiscuous membership, the ring ethdev the
 * switch sees, and the counters by name */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_packet.h>

#include <rte_bus_vdev.h>
#include <rte_eth_ring.h>
#include <rte_kvargs.h>
#include <rte_malloc.h>

#include "afp.h"

#define ARG_IFACE "iface"
#define ARG_QPAIRS "qpairs"
#define ARG_FRAMECNT "framecnt"
#define ARG_QDISC_BYPASS "qdisc_bypass"
/* DPDK net_af_packet's ring shape, accepted so its device strings keep working: this port
 * sizes its frames itself (RX frames hold a 64 KB super-frame, TX frames the MTU) */
#define ARG_BLOCKSZ "blocksz"
#define ARG_FRAMESZ "framesz"

#define DEFAULT_FRAMES 512
#define RING_SIZE 1024 /* each rte_ring: the pump fills a burst, the switch takes it */

static const char dpdk_name[] = "net_af_packet";

static const char *const valid_args[] = {ARG_IFACE,   ARG_QPAIRS,  ARG_FRAMECNT, ARG_QDISC_BYPASS,
					 ARG_BLOCKSZ, ARG_FRAMESZ, NULL};

bool pmx_afp_devargs_match(const char *devargs)
{
	return strncmp(devargs, dpdk_name, sizeof(dpdk_name) - 1) == 0;
}

static int arg_string(const char *key, const char *value, void *opaque)
{
	RTE_SET_USED(key);
	return snprintf(opaque, IF_NAMESIZE, "%s", value) < IF_NAMESIZE ? 0 : -EINVAL;
}

static int arg_uint(const char *key, const char *value, void *opaque)
{
	char *end;
	unsigned long v = strtoul(value, &end, 10);

	RTE_SET_USED(key);
	if (*value == '\0' || *end != '\0' || v > UINT32_MAX)
		return -EINVAL;
	*(uint32_t *)opaque = (uint32_t)v;
	return 0;
}

int pmx_afp_conf_parse(const char *devargs, struct pmx_afp_conf *conf, char *err, size_t errlen)
{
	const char *args = strchr(devargs, ',');
	struct rte_kvargs *kv = rte_kvargs_parse(args != NULL ? args + 1 : "", valid_args);
	uint32_t qpairs = 1, frames = DEFAULT_FRAMES, bypass = 1, ignored;
	int ret = -EINVAL;

	memset(conf, 0, sizeof(*conf));
	if (kv == NULL)
		goto fail;
	if (rte_kvargs_count(kv, ARG_IFACE) != 1 ||
	    rte_kvargs_process(kv, ARG_IFACE, arg_string, conf->iface) < 0 ||
	    rte_kvargs_process(kv, ARG_QPAIRS, arg_uint, &qpairs) < 0 ||
	    rte_kvargs_process(kv, ARG_FRAMECNT, arg_uint, &frames) < 0 ||
	    rte_kvargs_process(kv, ARG_QDISC_BYPASS, arg_uint, &bypass) < 0 ||
	    rte_kvargs_process(kv, ARG_BLOCKSZ, arg_uint, &ignored) < 0 ||
	    rte_kvargs_process(kv, ARG_FRAMESZ, arg_uint, &ignored) < 0)
		goto fail;
	if (qpairs < 1 || qpairs > PMX_AFP_MAX_QPAIRS || frames < 64 || frames > 65536 ||
	    bypass > 1)
		goto fail;
	conf->qpairs = qpairs;
	conf->frames = frames;
	conf->qdisc_bypass = bypass == 1;
	ret = 0;
fail:
	if (ret < 0)
		snprintf(err, errlen,
			 "bad arguments \"%s\" (iface=NAME[,qpairs=1..16][,framecnt=64..65536]"
			 "[,qdisc_bypass=0|1][,blocksz=N][,framesz=N])",
			 args != NULL ? args + 1 : "");
	rte_kvargs_free(kv);
	return ret;
}

/* An ioctl on the interface through a throw-away socket. */
static int if_ioctl(const char *iface, unsigned long req, struct ifreq *ifr)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", iface);
	if (ioctl(fd, req, ifr) != 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* The interface's index and MAC; the control socket and its PROMISC membership, which lives
 * as long as ctl_fd (the kernel undoes it when portmuxd dies). */
static int iface_open(struct pmx_afp_port *pt)
{
	struct ifreq ifr = {0};
	struct packet_mreq mr = {.mr_type = PACKET_MR_PROMISC};
	int ret;

	pt->ifindex = (int)if_nametoindex(pt->conf.iface);
	if (pt->ifindex == 0)
		return -ENODEV;
	ret = if_ioctl(pt->conf.iface, SIOCGIFHWADDR, &ifr);
	if (ret < 0)
		return ret;
	memcpy(pt->mac.addr_bytes, ifr.ifr_hwaddr.sa_data, RTE_ETHER_ADDR_LEN);
	pt->ctl_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (pt->ctl_fd < 0)
		return -errno;
	mr.mr_ifindex = pt->ifindex;
	if (setsockopt(pt->ctl_fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) != 0)
		return -errno;
	return 0;
}

/* Queue q's socket (TX frames sized for the interface's MTU) and rte_rings. */
static int queue_open(struct pmx_afp_port *pt, unsigned q, uint16_t mtu, struct rte_mempool *pool)
{
	struct pmx_afp_queue *aq = &pt->q[q];
	char name[RTE_RING_NAMESIZE];
	int ret;

	aq->rxq.pool = pool;
	ret = pmx_afp_sock_open(pt, q, mtu);
	if (ret < 0)
		return ret;
	snprintf(name, sizeof(name), "pmx_afp%d_rx%u", pt->ifindex, q);
	aq->rx_ring = rte_ring_create(name, RING_SIZE, (int)rte_socket_id(),
				      RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "pmx_afp%d_tx%u", pt->ifindex, q);
	aq->tx_ring = rte_ring_create(name, RING_SIZE, (int)rte_socket_id(),
				      RING_F_SP_ENQ | RING_F_SC_DEQ);
	return aq->rx_ring != NULL && aq->tx_ring != NULL ? 0 : -rte_errno;
}

/* The ring ethdev "net_ring_pmx_<iface>" over the queues' rte_rings. */
static int ethdev_make(struct pmx_afp_port *pt)
{
	struct rte_ring *rx[PMX_AFP_MAX_QPAIRS], *tx[PMX_AFP_MAX_QPAIRS];
	char name[RTE_RING_NAMESIZE];
	int id;

	for (unsigned q = 0; q < pt->nq; q++) {
		rx[q] = pt->q[q].rx_ring;
		tx[q] = pt->q[q].tx_ring;
	}
	snprintf(name, sizeof(name), "pmx_%s", pt->conf.iface);
	id = rte_eth_from_rings(name, rx, pt->nq, tx, pt->nq, rte_socket_id());
	if (id < 0)
		return -rte_errno;
	pt->port_id = (uint16_t)id;
	pt->ethdev_made = true;
	if (rte_eth_dev_get_name_by_port(pt->port_id, pt->ethdev_name) != 0)
		snprintf(pt->ethdev_name, sizeof(pt->ethdev_name), "net_ring_%s", name);
	for (unsigned q = 0; q < pt->nq; q++)
		pt->q[q].rxq.port_id = pt->port_id;
	return 0;
}

int pmx_afp_port_create(const struct pmx_afp_conf *conf, unsigned nq, struct rte_mempool *pool,
			struct pmx_afp_port **out)
{
	struct pmx_afp_port *pt;
	struct ifreq ifr = {0};
	int ret;

	if (nq == 0 || nq > conf->qpairs)
		return -EINVAL;
	pt = rte_zmalloc("pmx_afp_port", sizeof(*pt), RTE_CACHE_LINE_SIZE);
	if (pt == NULL)
		return -ENOMEM;
	pt->conf = *conf;
	pt->nq = nq;
	pt->ctl_fd = -1;
	rte_spinlock_init(&pt->stats_lock);
	for (unsigned q = 0; q < PMX_AFP_MAX_QPAIRS; q++)
		pt->q[q].sock.fd = -1;
	ret = iface_open(pt);
	if (ret == 0)
		ret = if_ioctl(conf->iface, SIOCGIFMTU, &ifr);
	pt->fanout_id = (uint16_t)((unsigned)getpid() ^ (unsigned)pt->ifindex);
	for (unsigned q = 0; ret == 0 && q < nq; q++)
		ret = queue_open(pt, q, (uint16_t)RTE_MIN(ifr.ifr_mtu, UINT16_MAX), pool);
	if (ret == 0)
		ret = ethdev_make(pt);
	if (ret < 0) {
		pmx_afp_port_destroy(pt);
		return ret;
	}
	*out = pt;
	return 0;
}

static void ring_free_frames(struct rte_ring *r)
{
	struct rte_mbuf *m;

	while (r != NULL && rte_ring_dequeue(r, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(r);
}

void pmx_afp_port_destroy(struct pmx_afp_port *pt)
{
	if (pt == NULL)
		return;
	if (pt->ethdev_made) {
		rte_eth_dev_stop(pt->port_id);
		rte_eth_dev_close(pt->port_id);
		rte_vdev_uninit(pt->ethdev_name);
	}
	for (unsigned q = 0; q < PMX_AFP_MAX_QPAIRS; q++) {
		struct pmx_afp_queue *aq = &pt->q[q];

		pmx_afp_sock_close(&aq->sock);
		if (aq->rxq.stash_n > 0)
			rte_pktmbuf_free_bulk(aq->rxq.stash + aq->rxq.stash_head, aq->rxq.stash_n);
		ring_free_frames(aq->rx_ring);
		ring_free_frames(aq->tx_ring);
	}
	if (pt->ctl_fd >= 0)
		close(pt->ctl_fd); /* drops the PROMISC membership */
	rte_free(pt);
}

uint16_t pmx_afp_port_id(const struct pmx_afp_port *pt)
{
	return pt->port_id;
}

const char *pmx_afp_port_iface(const struct pmx_afp_port *pt)
{
	return pt->conf.iface;
}

void pmx_afp_port_mac(const struct pmx_afp_port *pt, struct rte_ether_addr *mac)
{
	*mac = pt->mac;
}

void pmx_afp_port_describe(const struct pmx_afp_port *pt, char *buf, size_t len)
{
	snprintf(buf, len, "portmux af_packet on %s (ring ethdev %s)", pt->conf.iface,
		 pt->ethdev_name);
}

/* The sums over the queues, the sockets' drop counters (reset on every read) accumulated. */
static void stats_sum(struct pmx_afp_port *pt, struct pmx_afp_stats *st)
{
	memset(st, 0, sizeof(*st));
	for (unsigned q = 0; q < pt->nq; q++) {
		struct pmx_afp_queue *aq = &pt->q[q];
		struct tpacket_stats ts;
		socklen_t len = sizeof(ts);

		if (getsockopt(aq->sock.fd, SOL_PACKET, PACKET_STATISTICS, &ts, &len) == 0)
			aq->sock_drops += ts.tp_drops;
		st->socket_drops += aq->sock_drops;
		st->rx_frames += __atomic_load_n(&aq->rxq.pkts, __ATOMIC_RELAXED);
		st->rx_bytes += __atomic_load_n(&aq->rxq.bytes, __ATOMIC_RELAXED);
		st->rx_errors += __atomic_load_n(&aq->rxq.errors, __ATOMIC_RELAXED);
		st->rx_nombuf += __atomic_load_n(&aq->rxq.nombuf, __ATOMIC_RELAXED);
		st->gso_superframes += __atomic_load_n(&aq->rxq.gso_frames, __ATOMIC_RELAXED);
		st->gso_segments += __atomic_load_n(&aq->rxq.gso_segments, __ATOMIC_RELAXED);
		st->csum_completed += __atomic_load_n(&aq->rxq.csum_completed, __ATOMIC_RELAXED);
		st->tx_frames += __atomic_load_n(&aq->txq.pkts, __ATOMIC_RELAXED);
		st->tx_bytes += __atomic_load_n(&aq->txq.bytes, __ATOMIC_RELAXED);
		st->tx_drops += __atomic_load_n(&aq->txq.errors, __ATOMIC_RELAXED);
	}
}

void pmx_afp_port_stats(struct pmx_afp_port *pt, struct pmx_afp_stats *st)
{
	uint64_t *v = (uint64_t *)st;
	const uint64_t *b = (const uint64_t *)&pt->base;

	rte_spinlock_lock(&pt->stats_lock);
	stats_sum(pt, st);
	for (size_t i = 0; i < sizeof(*st) / sizeof(uint64_t); i++)
		v[i] -= b[i];
	rte_spinlock_unlock(&pt->stats_lock);
}

void pmx_afp_port_stats_clear(struct pmx_afp_port *pt)
{
	rte_spinlock_lock(&pt->stats_lock);
	stats_sum(pt, &pt->base);
	rte_spinlock_unlock(&pt->stats_lock);
}
