/* port_setup.c - bring up NIC ports and their exception (kernel) ports before the RX lcores start */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_log.h>

#include "flow_offload.h"
#include "nic_offloads.h"
#include "pmx_afpacket.h"
#include "pmx_log.h"
#include "port_setup.h"
#include "wire_guard.h"

#define RX_DESC 1024
#define TX_DESC 1024

/* Symmetric RSS: a key of repeated 0x6d5a hashes (a,b) and (b,a) alike. */
static uint8_t symmetric_rss_key[40];

/* Find an ethdev by its devargs name, probing the device if EAL has not yet. */
static int find_or_probe(const char *devargs, uint16_t *port_id)
{
	char name[RTE_ETH_NAME_MAX_LEN];
	size_t len = strcspn(devargs, ",");
	int ret;

	if (len == 0 || len >= sizeof(name))
		return -EINVAL;
	memcpy(name, devargs, len);
	name[len] = '\0';
	if (rte_eth_dev_get_port_by_name(name, port_id) == 0)
		return 0;
	ret = rte_dev_probe(devargs);
	if (ret < 0)
		return ret;
	return rte_eth_dev_get_port_by_name(name, port_id) == 0 ? 0 : -ENODEV;
}

static int configure_port(uint16_t port_id, uint16_t queues, struct rte_mempool *pool, bool rss)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf = {0};
	uint16_t nb_rxd = RX_DESC, nb_txd = TX_DESC;
	int ret;

	ret = rte_eth_dev_info_get(port_id, &info);
	if (ret != 0)
		return ret;
	if (queues > info.max_rx_queues || queues > info.max_tx_queues)
		return -ENOTSUP;
	if (rss && queues > 1 && info.flow_type_rss_offloads != 0) {
		for (unsigned i = 0; i < sizeof(symmetric_rss_key); i += 2) {
			symmetric_rss_key[i] = 0x6d;
			symmetric_rss_key[i + 1] = 0x5a;
		}
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_key = symmetric_rss_key;
		conf.rx_adv_conf.rss_conf.rss_key_len = sizeof(symmetric_rss_key);
		conf.rx_adv_conf.rss_conf.rss_hf =
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP) &
			info.flow_type_rss_offloads;
	}
	ret = rte_eth_dev_configure(port_id, queues, queues, &conf);
	if (ret != 0)
		return ret;
	ret = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &nb_rxd, &nb_txd);
	if (ret != 0)
		return ret;
	for (uint16_t q = 0; q < queues; q++) {
		ret = rte_eth_rx_queue_setup(port_id, q, nb_rxd, rte_eth_dev_socket_id(port_id),
					     NULL, pool);
		if (ret != 0)
			return ret;
		ret = rte_eth_tx_queue_setup(port_id, q, nb_txd, rte_eth_dev_socket_id(port_id),
					     NULL);
		if (ret != 0)
			return ret;
	}
	return rte_eth_dev_start(port_id);
}

/* The NIC: a kernel interface written as DPDK users write it ("net_af_packet0,iface=eth1")
 * gets portmux's own port (lib/afpacket: wire frames, fragments as they came, socket drops
 * counted; a ring ethdev the RX lcores pump), unless the port asks for DPDK's ("driver":
 * "dpdk"); any other device is probed as it is. */
static int nic_open(struct pmx_switch *sw, const struct pmx_port_conf *pc, struct pmx_port *port,
		    char *err, size_t errlen)
{
	struct pmx_afp_conf ac;
	char why[256];
	int ret;

	if (pc->dpdk_driver || !pmx_afp_devargs_match(pc->device)) {
		ret = find_or_probe(pc->device, &port->nic);
		if (ret < 0)
			snprintf(err, errlen, "cannot probe \"%s\": %s", pc->device, strerror(-ret));
		return ret;
	}
	ret = pmx_afp_conf_parse(pc->device, &ac, why, sizeof(why));
	if (ret < 0) {
		snprintf(err, errlen, "\"%s\": %s", pc->device, why);
		return ret;
	}
	if (sw->n_workers > ac.qpairs) { /* one queue per RX lcore */
		snprintf(err, errlen, "cannot start with %u queues: \"%s\" has qpairs=%u",
			 sw->n_workers, pc->device, ac.qpairs);
		return -EINVAL;
	}
	ret = pmx_afp_port_create(&ac, sw->n_workers, sw->pool, &port->afp);
	if (ret < 0) {
		snprintf(err, errlen, "cannot probe \"%s\": %s", pc->device, strerror(-ret));
		return ret;
	}
	port->nic = pmx_afp_port_id(port->afp);
	return 0;
}

/* Build the devargs of the exception port; returns its kind name. */
static const char *exception_devargs(const struct pmx_port_conf *pc, const struct pmx_port *port,
				     uint16_t queues, char *buf, size_t len)
{
	char mac[RTE_ETHER_ADDR_FMT_SIZE];
	enum pmx_exception_type type = pc->exc_type;

	rte_ether_format_addr(mac, sizeof(mac), &port->mac);
	if (type == PMX_EXC_AUTO)
		type = access("/dev/vhost-net", R_OK | W_OK) == 0 ? PMX_EXC_VIRTIO_USER
								   : PMX_EXC_TAP;
	switch (type) {
	case PMX_EXC_TAP:
		snprintf(buf, len, "net_tap_%s,iface=%s,mac=%s", pc->name, pc->exc_iface, mac);
		return "tap";
	case PMX_EXC_VIRTIO_USER:
		snprintf(buf, len,
			 "net_virtio_user_%s,path=/dev/vhost-net,iface=%s,mac=%s,queues=%u,"
			 "queue_size=1024",
			 pc->name, pc->exc_iface, mac, queues);
		return "virtio_user";
	case PMX_EXC_DEVICE:
		snprintf(buf, len, "%s", pc->exc_device);
		return "device";
	default:
		return "none";
	}
}

/* A NIC port that is still a kernel netdev (af_packet, pcap on an interface) is the switch's
 * alone: guard it before it starts receiving, so the kernel never answers on it. */
static int guard_wire(struct pmx_switch *sw, const struct pmx_config *cfg, unsigned p, char *err,
		      size_t errlen)
{
	char ifname[IF_NAMESIZE], why[384];
	int ret;

	if (sw->ports[p].afp != NULL) /* a ring ethdev: no interface of its own */
		snprintf(ifname, sizeof(ifname), "%s", pmx_afp_port_iface(sw->ports[p].afp));
	else if (!pmx_wire_guard_needed(sw->ports[p].nic, ifname))
		return 0;
	if (sw->wire_guard == NULL && (sw->wire_guard = pmx_wire_guard_create()) == NULL) {
		snprintf(err, errlen, "ports[%u].device: %s: cannot open nftables: %s", p, ifname,
			 strerror(errno));
		return -ENOMEM;
	}
	ret = pmx_wire_guard_add(sw->wire_guard, ifname, why, sizeof(why));
	if (ret != 0) {
		snprintf(err, errlen, "ports[%u].device: %s", p, why);
		return ret;
	}
	/* guarded, the interface is ours (a second portmuxd stopped above): nothing may merge
	 * its frames before the switch reads them (nic_offloads.h) */
	if (sw->nic_offloads == NULL &&
	    (sw->nic_offloads = pmx_nic_offloads_create(cfg->socket_path)) == NULL) {
		snprintf(err, errlen, "ports[%u].device: %s: no socket for ethtool: %s", p, ifname,
			 strerror(errno));
		return -ENOMEM;
	}
	ret = pmx_nic_offloads_take(sw->nic_offloads, ifname, why, sizeof(why));
	if (ret != 0)
		snprintf(err, errlen, "ports[%u].device: %s", p, why);
	return ret;
}

/* Clients share the kernel's address, so their frames to it arrive from the kernel's own
 * address: without accept_local the kernel drops them as martians. Only a warning when
 * /proc/sys is read-only (a container on the host's network namespace). */
static void kernel_accepts_local(const char *iface)
{
	char path[128];
	FILE *f;
	int ret = -1;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/accept_local", iface);
	f = fopen(path, "w");
	if (f != NULL) {
		ret = fputs("1\n", f) == EOF ? -1 : 0;
		if (fclose(f) != 0)
			ret = -1;
	}
	if (ret != 0)
		PMX_LOG(WARNING, main,
			"%s: cannot set net.ipv4.conf.%s.accept_local=1 (%s): the kernel will drop "
			"clients' frames to its own address; set it by hand",
			iface, iface, strerror(errno));
}

int pmx_ports_init(struct pmx_switch *sw, const struct pmx_config *cfg, char *err, size_t errlen)
{
	char devargs[PMX_DEVARGS_LEN + 128];
	uint16_t queues = sw->n_workers;
	int ret;

	for (unsigned p = 0; p < cfg->n_ports; p++) {
		const struct pmx_port_conf *pc = &cfg->ports[p];
		struct pmx_port *port = &sw->ports[p];
		char why[384];

		snprintf(port->name, sizeof(port->name), "%s", pc->name);
		port->afp = NULL;
		ret = nic_open(sw, pc, port, why, sizeof(why));
		if (ret < 0) {
			snprintf(err, errlen, "ports[%u].device: %s", p, why);
			return ret;
		}
		sw->n_ports = p + 1; /* from here on pmx_ports_close() undoes this port */
		port->exc = PMX_PORT_NONE;
		ret = guard_wire(sw, cfg, p, err, errlen);
		if (ret < 0)
			return ret;
		pmx_offload_negotiate(sw, p); /* MARK metadata must be asked for before configure */
		ret = configure_port(port->nic, queues, sw->pool, true);
		if (ret < 0) {
			snprintf(err, errlen, "ports[%u].device: cannot start with %u queues: %s",
				 p, queues, strerror(-ret));
			return ret;
		}
		pmx_offload_probe(sw, p);
		rte_eth_promiscuous_enable(port->nic);
		if (port->afp != NULL) /* the wire's MAC, not the ring ethdev's */
			pmx_afp_port_mac(port->afp, &port->mac);
		else
			rte_eth_macaddr_get(port->nic, &port->mac);

		snprintf(port->exc_kind, sizeof(port->exc_kind), "%s",
			 exception_devargs(pc, port, queues, devargs, sizeof(devargs)));
		snprintf(port->exc_iface, sizeof(port->exc_iface), "%s", pc->exc_iface);
		if (strcmp(port->exc_kind, "none") == 0)
			continue;
		ret = find_or_probe(devargs, &port->exc);
		if (ret == 0)
			ret = configure_port(port->exc, queues, sw->pool, false);
		if (ret < 0) {
			snprintf(err, errlen, "ports[%u].exception: cannot start %s (%s): %s", p,
				 port->exc_kind, devargs, strerror(-ret));
			return ret;
		}
		if (strcmp(port->exc_kind, "device") != 0)
			kernel_accepts_local(port->exc_iface);
	}
	return 0;
}

void pmx_ports_close(struct pmx_switch *sw)
{
	pmx_offload_close(sw);
	for (unsigned p = 0; p < sw->n_ports; p++) {
		struct pmx_port *port = &sw->ports[p];

		if (port->exc != PMX_PORT_NONE) {
			rte_eth_dev_stop(port->exc);
			rte_eth_dev_close(port->exc);
		}
		if (port->afp != NULL) {
			pmx_afp_port_destroy(port->afp); /* its ethdev too */
			port->afp = NULL;
			continue;
		}
		rte_eth_dev_stop(port->nic);
		rte_eth_dev_close(port->nic);
	}
	sw->n_ports = 0;
	/* the kernel gets its interfaces back once the switch no longer reads them */
	pmx_wire_guard_destroy(sw->wire_guard);
	sw->wire_guard = NULL;
	pmx_nic_offloads_destroy(sw->nic_offloads); /* and its offload features */
	sw->nic_offloads = NULL;
}
