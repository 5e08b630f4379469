/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * pmx_memif_proto.h - the memif 2.0 wire contract, shared by portmux's memif server
 * (lib/control/memif_server.c, lib/dataplane/memif_ring.c) and the test client
 * (tests/tools/memif_hostile.c): the 128-byte control messages and the ring and descriptor
 * layout in the client's regions. Plain C, no DPDK.
 *
 * On the S2M ring (client -> server) the client fills descriptors and moves head, the server
 * moves tail; on the M2S ring (server -> client) the client offers buffers by moving head, the
 * server fills them and moves tail.
 */
#ifndef PMX_MEMIF_PROTO_H
#define PMX_MEMIF_PROTO_H

#include <stdint.h>

#define MIF_VERSION ((2 << 8) | 0)
#define MIF_MSG_SIZE 128
#define MIF_RING_C2S 1u /**< ADD_RING flag: client-to-server (S2M) */

enum mif_msg_type {
	MIF_MSG_ACK = 1,
	MIF_MSG_HELLO = 2,
	MIF_MSG_INIT = 3,
	MIF_MSG_ADD_REGION = 4,
	MIF_MSG_ADD_RING = 5,
	MIF_MSG_CONNECT = 6,
	MIF_MSG_CONNECTED = 7,
	MIF_MSG_DISCONNECT = 8,
};

struct __attribute__((packed)) mif_hello {
	uint8_t name[32];
	uint16_t min_version, max_version;
	uint16_t max_region, max_s2c_ring, max_c2s_ring; /* highest index */
	uint8_t max_log2_ring_size;
};

struct __attribute__((packed)) mif_init {
	uint16_t version;
	uint32_t id;
	uint8_t mode; /* 0: ethernet */
	uint8_t secret[24];
	uint8_t name[32];
};

struct __attribute__((packed)) mif_add_region {
	uint16_t index;
	uint64_t size;
};

struct __attribute__((packed)) mif_add_ring {
	uint16_t flags; /* MIF_RING_C2S */
	uint16_t index;
	uint16_t region;
	uint32_t offset;
	uint8_t log2_ring_size;
	uint16_t private_hdr_size;
};

struct __attribute__((packed)) mif_disconnect {
	uint32_t code;
	uint8_t string[96];
};

struct __attribute__((packed, aligned(128))) mif_msg {
	uint16_t type;
	union {
		struct mif_hello hello;
		struct mif_init init;
		struct mif_add_region add_region;
		struct mif_add_ring add_ring;
		uint8_t if_name[32]; /* CONNECT, CONNECTED */
		struct mif_disconnect disconnect;
	};
};
_Static_assert(sizeof(struct mif_msg) == MIF_MSG_SIZE, "memif messages are 128 bytes");

#define PMX_MEMIF_COOKIE 0x3E31F20u
#define PMX_MEMIF_DESC_NEXT 1u     /**< descriptor flag: the frame continues in the next slot */
#define PMX_MEMIF_RING_MASK_INT 1u /**< ring flag: the reader polls, do not notify it */

/** One buffer descriptor (16 bytes). */
struct __attribute__((packed)) pmx_memif_desc {
	uint16_t flags;  /**< PMX_MEMIF_DESC_NEXT */
	uint16_t region; /**< index of the region the buffer is in */
	uint32_t length; /**< S2M: bytes of the frame in it; M2S: the buffer's size, then bytes */
	uint32_t offset; /**< the buffer's offset in its region */
	uint32_t metadata;
};
_Static_assert(sizeof(struct pmx_memif_desc) == 16, "memif descriptors are 16 bytes");

/** A ring as it lies in the client's region: header (two cache lines), then descriptors.
 * head and tail are written by the other process: read them with acquire loads. */
struct pmx_memif_ring {
	uint32_t cookie; /**< PMX_MEMIF_COOKIE, written by the client */
	uint16_t flags;  /**< PMX_MEMIF_RING_MASK_INT */
	uint16_t head;   /**< written by the client */
	uint8_t pad0[56];
	uint16_t tail; /**< written by the server */
	uint8_t pad1[62];
	struct pmx_memif_desc desc[];
};
_Static_assert(__builtin_offsetof(struct pmx_memif_ring, tail) == 64, "tail on line 1");
_Static_assert(__builtin_offsetof(struct pmx_memif_ring, desc) == 128, "descriptors on line 2");

#endif
