/* pmx_netif.c - lwIP netif over a portmux client (client RX ring -> lwIP -> client TX ring) */
#include <errno.h>
#include <string.h>

#include <rte_tcp.h>

#include <lwip/etharp.h>
#include <lwip/ethip6.h>
#include <lwip/pbuf.h>
#include <lwip/priv/tcp_priv.h> /* tcp_tw_pcbs, TCP_SEQ_GT: see reopen_time_wait() */
#include <lwip/tcp.h>
#include <netif/ethernet.h>

#include "pmx_netif.h"
#include "pmx_packet.h"

_Static_assert(ETH_HWADDR_LEN == RTE_ETHER_ADDR_LEN, "lwIP and DPDK MAC sizes differ");

/* A source lwIP must not answer: its own address (another stack of the appliance, or a forged
 * "land" packet), 0/8, 127/8, multicast and above. lwIP would send its answer to its own
 * loopback, which this library build (NO_SYS=0) hands to the tcpip thread we do not run: the
 * process would abort on an assertion. */
static bool bad_source(const struct pmx_netif *pn, const uint8_t src[16])
{
	const uint8_t first = src[12];

	return memcmp(src, pn->ip_key, 16) == 0 || first == 0 || first == 127 || first >= 224;
}

/* RFC 1122 4.2.2.13 (and RFC 6191): a SYN whose sequence number is beyond the end of a
 * connection in TIME_WAIT may reopen it, as Linux does. lwIP 2.1 answers such a SYN with an
 * ACK and ignores the client's RST, so a client reusing its port within 2 MSL (2 minutes) would
 * stall until lwIP's TIME_WAIT ends; this server closes first (HTTP "Connection: close"), so
 * its side is the one in TIME_WAIT. Drop that PCB before lwIP sees the SYN: a TIME_WAIT PCB is
 * freed by tcp_abort() without sending anything. */
static void reopen_time_wait(struct pmx_netif *pn, const struct rte_mbuf *m,
			     const struct pmx_pkt_info *pi)
{
	const struct rte_tcp_hdr *th =
		rte_pktmbuf_mtod_offset(m, const struct rte_tcp_hdr *, pi->l4_offset);
	const uint8_t flags = RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG | RTE_TCP_RST_FLAG;
	uint32_t seq = rte_be_to_cpu_32(th->sent_seq);
	uint16_t remote_port = rte_be_to_cpu_16(pi->key.remote_port);
	ip4_addr_t remote_ip;

	if ((th->tcp_flags & flags) != RTE_TCP_SYN_FLAG)
		return;
	memcpy(&remote_ip.addr, pi->key.remote_ip + 12, 4);
	for (struct tcp_pcb *pcb = tcp_tw_pcbs; pcb != NULL; pcb = pcb->next) {
		if (pcb->remote_port != remote_port || !IP_IS_V4_VAL(pcb->remote_ip) ||
		    !ip4_addr_cmp(ip_2_ip4(&pcb->remote_ip), &remote_ip) ||
		    pcb->local_port != rte_be_to_cpu_16(pn->tcp_port_be))
			continue;
		if (TCP_SEQ_GT(seq, pcb->rcv_nxt)) {
			pn->st.tw_reopened++;
			tcp_abort(pcb);
		}
		return;
	}
}

/* Is this frame for lwIP? ARP always (lwIP keeps its own neighbour cache from the copies the
 * switch mirrors to every client); IPv4 only to our address and our TCP port (including ICMP
 * errors quoting such a flow and later fragments of it), or with a MAC of our own every IPv4
 * frame to our address (the address is ours alone: lwIP answers pings and closed ports). The
 * rest never reaches lwIP. */
static bool for_lwip(struct pmx_netif *pn, const struct rte_mbuf *m)
{
	struct pmx_pkt_info pi;
	enum pmx_pkt_class cls;
	bool our_port;

	cls = pmx_packet_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m),
			       PMX_DIR_IN, &pi);
	switch (cls) {
	case PMX_PKT_ARP:
		if (pi.has_vlan)
			break; /* lwIP is built without VLAN support */
		return true;
	case PMX_PKT_FLOW:
	case PMX_PKT_ICMP_ERROR:
	case PMX_PKT_FRAGMENT:
	case PMX_PKT_IP_OTHER:
		our_port = pi.key.proto == PMX_PROTO_TCP &&
			   (cls == PMX_PKT_FRAGMENT || pi.key.local_port == pn->tcp_port_be);
		if (pi.has_vlan || pi.family != 4 || memcmp(pi.key.local_ip, pn->ip_key, 16) != 0 ||
		    (!pn->own_host && (cls == PMX_PKT_IP_OTHER || !our_port)))
			break;
		if (bad_source(pn, pi.key.remote_ip)) {
			pn->st.bad_source++;
			return false;
		}
		if (cls == PMX_PKT_FLOW && !pi.is_fragment && our_port)
			reopen_time_wait(pn, m, &pi);
		return true;
	case PMX_PKT_ND:
	case PMX_PKT_MULTICAST:
	case PMX_PKT_NON_IP:
		pn->st.mirrored++;
		return false;
	default:
		break;
	}
	pn->st.unexpected++;
	return false;
}

/* Copy a (possibly segmented) mbuf into a new pbuf. NULL when there is no memory. PBUF_RAM,
 * not PBUF_POOL: an empty pool makes this NO_SYS=0 library post to its tcpip thread. */
static struct pbuf *mbuf_to_pbuf(const struct rte_mbuf *m)
{
	struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)rte_pktmbuf_pkt_len(m), PBUF_RAM);
	uint8_t *dst;

	if (p == NULL)
		return NULL;
	dst = p->payload;
	for (const struct rte_mbuf *seg = m; seg != NULL; seg = seg->next) {
		memcpy(dst, rte_pktmbuf_mtod(seg, const void *), seg->data_len);
		dst += seg->data_len;
	}
	return p;
}

unsigned pmx_netif_poll(struct pmx_netif *pn)
{
	struct rte_mbuf *pkts[PMX_NETIF_BURST];
	uint16_t n = pmx_client_rx_burst(pn->client, pkts, PMX_NETIF_BURST);

	pn->st.rx += n;
	for (uint16_t i = 0; i < n; i++) {
		struct pbuf *p;

		if (rte_pktmbuf_pkt_len(pkts[i]) > UINT16_MAX) {
			pn->st.unexpected++;
			continue;
		}
		if (!for_lwip(pn, pkts[i]))
			continue;
		p = mbuf_to_pbuf(pkts[i]);
		if (p == NULL) {
			pn->st.rx_nomem++;
			continue;
		}
		pn->st.to_lwip++;
		if (pn->netif.input(p, &pn->netif) != ERR_OK)
			pbuf_free(p);
	}
	rte_pktmbuf_free_bulk(pkts, n);
	return n;
}

unsigned pmx_netif_flush(struct pmx_netif *pn)
{
	uint16_t sent;

	if (pn->n_tx == 0)
		return 0;
	sent = pmx_client_tx_burst(pn->client, pn->tx, (uint16_t)pn->n_tx);
	pn->n_tx -= sent;
	if (pn->n_tx > 0)
		memmove(pn->tx, pn->tx + sent, pn->n_tx * sizeof(pn->tx[0]));
	pn->st.tx += sent;
	return sent;
}

/* lwIP's link output: copy the frame into an mbuf of the switch's pool and queue it. lwIP
 * keeps ownership of p. A frame that cannot be queued is dropped (TCP retransmits). */
static err_t pmx_linkoutput(struct netif *netif, struct pbuf *p)
{
	struct pmx_netif *pn = netif->state;
	struct rte_mbuf *m;
	char *data;

	if (pn->n_tx == PMX_NETIF_TX_MAX)
		pmx_netif_flush(pn);
	if (pn->n_tx == PMX_NETIF_TX_MAX)
		goto drop;
	m = rte_pktmbuf_alloc(pn->client->pool);
	if (m == NULL)
		goto drop;
	data = rte_pktmbuf_append(m, p->tot_len);
	if (data == NULL || pbuf_copy_partial(p, data, p->tot_len, 0) != p->tot_len) {
		rte_pktmbuf_free(m);
		goto drop;
	}
	pn->tx[pn->n_tx++] = m;
	return ERR_OK;

drop:
	pn->st.tx_dropped++;
	return ERR_IF;
}

/* netif_add's init callback: an Ethernet interface with ARP, no IGMP/MLD (we join nothing). */
static err_t pmx_netif_setup(struct netif *netif)
{
	struct pmx_netif *pn = netif->state;

	netif->name[0] = 'p';
	netif->name[1] = 'x';
	netif->mtu = RTE_ETHER_MTU;
	netif->hwaddr_len = ETH_HWADDR_LEN;
	memcpy(netif->hwaddr, pn->client->mac.addr_bytes, ETH_HWADDR_LEN);
	netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
	netif->output = etharp_output;
	netif->output_ip6 = ethip6_output; /* never used: no IPv6 address, no IPv6 input */
	netif->linkoutput = pmx_linkoutput;
	return ERR_OK;
}

int pmx_netif_init(struct pmx_netif *pn, struct pmx_client *c, const ip4_addr_t *ip,
		   const ip4_addr_t *netmask, const ip4_addr_t *gw, uint16_t tcp_port,
		   bool own_host)
{
	memset(pn, 0, sizeof(*pn));
	pn->client = c;
	pn->own_host = own_host;
	pn->tcp_port_be = rte_cpu_to_be_16(tcp_port);
	pmx_ip4_to_key((const uint8_t *)&ip->addr, pn->ip_key);
	if (netif_add(&pn->netif, ip, netmask, gw, pn, pmx_netif_setup, ethernet_input) == NULL)
		return -EINVAL;
	netif_set_default(&pn->netif);
	netif_set_link_up(&pn->netif);
	netif_set_up(&pn->netif);
	return 0;
}

void pmx_netif_fini(struct pmx_netif *pn)
{
	netif_set_down(&pn->netif);
	netif_remove(&pn->netif);
	pmx_netif_flush(pn);
	pn->st.tx_dropped += pn->n_tx;
	rte_pktmbuf_free_bulk(pn->tx, pn->n_tx);
	pn->n_tx = 0;
}
