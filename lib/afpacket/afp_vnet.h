/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * afp_vnet.h - what the packet socket's virtio-net header asks of a received frame (wire ->
 * switch): a partial checksum to complete, a TSO/GSO super-frame to cut into wire frames.
 *
 * Pure functions on a frame in memory (the driver's RX ring, or a test's buffer): no socket,
 * no global state, safe to call from any thread on frames that thread owns.
 */
#ifndef PMX_AFP_VNET_H
#define PMX_AFP_VNET_H

#include <stdint.h>

#include <linux/virtio_net.h>

#include <rte_mbuf.h>

/* USO (UDP segmentation, kernel 4.18); Debian 12's kernel headers predate its name */
#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#endif

/** The most wire frames one super-frame may be cut into (64 KB at an MSS of 536 is 123). */
#define PMX_AFP_GSO_MAX_SEGS 128

/**
 * Complete the partial L4 checksum of a frame whose header says VIRTIO_NET_HDR_F_NEEDS_CSUM.
 * Thread-safe on distinct frames. The checksum field holds the pseudo-header sum (how the
 * sending stack leaves it for the NIC); the sum from csum_start to the end of the IP payload
 * (or of the frame, when it is not IP) is folded into it, as the kernel's skb_checksum_help()
 * would. A frame without that flag is left untouched, whatever its checksum.
 *
 * @return 1 the checksum was completed; 0 nothing to do (no NEEDS_CSUM);
 *   -EINVAL csum_start/csum_offset lie outside the frame (the frame is unchanged).
 */
int pmx_afp_csum_complete(uint8_t *frame, uint32_t len, const struct virtio_net_hdr *vh);

/**
 * Cut a TSO/GSO super-frame (gso_type TCPV4, TCPV6 or UDP_L4) into wire frames of at most
 * gso_size payload bytes, each a single-segment mbuf from pool, with their own IP length
 * (and IPv4 identification and header checksum), TCP sequence number and flags (FIN and PSH
 * only on the last, CWR only on the first) or UDP length, and a full L4 checksum.
 * Thread-safe on distinct frames; the mempool's own rules apply to pool. The frame is not
 * changed.
 *
 * @return the number of frames written to out (1..max_out); on failure no mbuf is left
 *   allocated and: -EINVAL headers that do not add up (not IP, lengths beyond the frame,
 *   no NEEDS_CSUM, gso_size 0, no payload); -ENOTSUP another gso_type (legacy UFO, which
 *   kernels since 4.14 no longer hand out); -EMSGSIZE more than max_out segments, or a
 *   segment larger than the pool's data room; -ENOBUFS the pool ran dry.
 */
int pmx_afp_gso_cut(const uint8_t *frame, uint32_t len, const struct virtio_net_hdr *vh,
		    struct rte_mempool *pool, struct rte_mbuf **out, unsigned max_out);

#endif
