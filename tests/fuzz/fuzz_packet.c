/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_packet.c - fuzz target: the frame parser in both directions, then the flow-table
 * classifier on the keys it produced (wire or client frame -> class, key, owner).
 *
 * Invariants checked on every input (a failure aborts):
 *  - the class is valid and equals info->cls; a malformed frame has a reason and an all-zero
 *    key, any other frame has none; ARP and non-IP frames have an all-zero key;
 *  - offsets lie within the frame (l3 after the Ethernet header and optional tag, l4 at least
 *    a minimal IP header after l3); fragments and multicast are consistent with the header bits;
 *  - IPv4 keys hold IPv4-mapped addresses; the parser leaves port_id 0;
 *  - parsing as received (IN) and as sent (OUT) agrees on everything but which end is local;
 *  - the inline fast path, when it takes a frame, fills info exactly as the full parser;
 *  - the bulk classifier gives the owner that single writer-side lookups in the documented
 *    order (exact, listen on the address, listen on any address, owned IP) give.
 */
#include <string.h>
#include <arpa/inet.h>

#include <rte_memory.h>

#include "flow_table.h"
#include "fuzz.h"
#include "pmx_packet.h"

static struct pmx_flow_table *ft;
static int verbose; /* PMX_FUZZ_VERBOSE=1: print what each input parsed as */

static void add_rule(uint8_t kind, uint8_t proto, const char *ip, uint16_t port, uint16_t owner)
{
	struct pmx_flow_key k = {.kind = kind, .proto = proto, .local_port = htons(port)};
	uint8_t v4[4];
	uint32_t id;

	if (ip != NULL && inet_pton(AF_INET, ip, v4) == 1)
		pmx_ip4_to_key(v4, k.local_ip);
	else if (ip != NULL)
		FUZZ_CHECK(inet_pton(AF_INET6, ip, k.local_ip) == 1);
	if (kind == PMX_KEY_EXACT) { /* 198.18.0.1:5000 <-> 198.18.0.2:6000 */
		FUZZ_CHECK(inet_pton(AF_INET, "198.18.0.2", v4) == 1);
		pmx_ip4_to_key(v4, k.remote_ip);
		k.remote_port = htons(6000);
	}
	FUZZ_CHECK(pmx_flow_table_add(ft, &k, owner, PMX_ORIGIN_CLIENT, &id) == 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	verbose = getenv("PMX_FUZZ_VERBOSE") != NULL;
	pmx_fuzz_eal_init();
	ft = pmx_flow_table_create("fuzz_packet", 64, 1, SOCKET_ID_ANY);
	FUZZ_CHECK(ft != NULL);
	FUZZ_CHECK(pmx_flow_table_reader_register(ft, 0) == 0);
	/* one rule of every kind, as the corpus frames address them */
	add_rule(PMX_KEY_LISTEN, PMX_PROTO_UDP, NULL, 7, 0);
	add_rule(PMX_KEY_LISTEN, PMX_PROTO_UDP, "198.18.0.1", 9, 1);
	add_rule(PMX_KEY_LISTEN, PMX_PROTO_TCP, "198.18.0.1", 22, PMX_OWNER_KERNEL);
	add_rule(PMX_KEY_EXACT, PMX_PROTO_TCP, "198.18.0.1", 5000, 2);
	add_rule(PMX_KEY_LISTEN, PMX_PROTO_ICMP, NULL, 0x1234, 3);
	add_rule(PMX_KEY_LISTEN, PMX_PROTO_ICMPV6, NULL, 0x1234, 3);
	add_rule(PMX_KEY_IP, 0, "fd00::5", 0, 4);
	add_rule(PMX_KEY_LISTEN, PMX_PROTO_UDP, "fd00::1", 7, PMX_OWNER_DROP);
	return 0;
}

static void check_one(const uint8_t *data, size_t size, const struct pmx_pkt_info *info,
		      enum pmx_pkt_class cls)
{
	const struct pmx_flow_key *k = &info->key;
	int ip_class = cls == PMX_PKT_FLOW || cls == PMX_PKT_IP_OTHER ||
		       cls == PMX_PKT_ICMP_ERROR || cls == PMX_PKT_FRAGMENT;

	FUZZ_CHECK((unsigned)cls < PMX_PKT_CLASS_MAX && info->cls == cls);
	FUZZ_CHECK(strcmp(pmx_packet_class_name(cls), "unknown") != 0);
	if (cls == PMX_PKT_MALFORMED) {
		FUZZ_CHECK(fuzz_all_zero(k, sizeof(*k)));
		FUZZ_CHECK(info->malformed_reason > PMX_BAD_NONE && info->malformed_reason < PMX_BAD_MAX);
		FUZZ_CHECK(strcmp(pmx_packet_malformed_name(info->malformed_reason), "unknown") != 0);
		return;
	}
	FUZZ_CHECK(info->malformed_reason == PMX_BAD_NONE);
	FUZZ_CHECK(size >= 14);
	FUZZ_CHECK(info->l3_offset == (info->has_vlan ? 18 : 14) && info->l3_offset <= size);
	FUZZ_CHECK(info->l4_offset == 0 ||
		   (info->l4_offset >= info->l3_offset + 20 && info->l4_offset <= size));
	FUZZ_CHECK(k->port_id == 0);
	if (cls == PMX_PKT_ARP || cls == PMX_PKT_NON_IP) {
		FUZZ_CHECK(fuzz_all_zero(k, sizeof(*k)) && info->family == 0);
		return;
	}
	FUZZ_CHECK(k->kind == PMX_KEY_EXACT && (info->family == 4 || info->family == 6));
	if (ip_class)
		FUZZ_CHECK(!(data[0] & 1));
	if (cls == PMX_PKT_MULTICAST)
		FUZZ_CHECK(data[0] & 1);
	if (cls == PMX_PKT_ND)
		FUZZ_CHECK(info->family == 6 && k->proto == PMX_PROTO_ICMPV6);
	if (cls == PMX_PKT_FRAGMENT)
		FUZZ_CHECK(info->is_fragment && info->frag_offset != 0 && info->l4_offset == 0);
	if (!info->is_fragment)
		FUZZ_CHECK(info->frag_offset == 0 && info->more_fragments == 0 && info->frag_id == 0);
	if (info->family == 4)
		FUZZ_CHECK(pmx_key_ip_is_v4(k->local_ip) && pmx_key_ip_is_v4(k->remote_ip));
	if (info->family == 4 && cls != PMX_PKT_ICMP_ERROR && info->l4_offset != 0)
		FUZZ_CHECK(info->l4_offset >= info->l3_offset + 20 &&
			   info->l4_offset <= info->l3_offset + 60);
}

/* The same frame parsed as received and as sent: only local and remote trade places. */
static void check_symmetry(const struct pmx_pkt_info *in, const struct pmx_pkt_info *out)
{
	const struct pmx_flow_key *a = &in->key, *b = &out->key;

	FUZZ_CHECK(in->cls == out->cls && in->malformed_reason == out->malformed_reason);
	FUZZ_CHECK(in->family == out->family && in->l3_offset == out->l3_offset &&
		   in->l4_offset == out->l4_offset && in->ethertype == out->ethertype);
	FUZZ_CHECK(in->is_fragment == out->is_fragment && in->frag_id == out->frag_id &&
		   in->frag_offset == out->frag_offset && in->more_fragments == out->more_fragments);
	FUZZ_CHECK(in->has_vlan == out->has_vlan && in->vlan_tci == out->vlan_tci);
	FUZZ_CHECK(a->kind == b->kind && a->proto == b->proto && a->port_id == b->port_id);
	FUZZ_CHECK(memcmp(a->local_ip, b->remote_ip, 16) == 0 &&
		   memcmp(a->remote_ip, b->local_ip, 16) == 0);
	/* ports trade places too, except an echo identifier, which is local both ways */
	FUZZ_CHECK((a->local_port == b->remote_port && a->remote_port == b->local_port) ||
		   (a->local_port == b->local_port && a->remote_port == 0 && b->remote_port == 0));
}

/* pmx_packet_turn() of one direction's parse is the other direction's parse, byte for byte. */
static void check_turn(const struct pmx_pkt_info *in, const struct pmx_pkt_info *out)
{
	struct pmx_pkt_info t = *out;

	pmx_packet_turn(&t);
	FUZZ_CHECK(memcmp(&t, in, sizeof(t)) == 0);
	t = *in;
	pmx_packet_turn(&t);
	FUZZ_CHECK(memcmp(&t, out, sizeof(t)) == 0);
}

/* The owner single lookups give, in the classifier's documented order. */
static uint16_t expected_owner(const struct pmx_flow_key *exact)
{
	static const struct {
		enum pmx_key_kind kind;
		int any_ip;
	} order[] = {
		{PMX_KEY_EXACT, 0}, {PMX_KEY_LISTEN, 0}, {PMX_KEY_LISTEN, 1}, {PMX_KEY_IP, 0}};
	struct pmx_flow_key k;

	for (unsigned i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		uint32_t id;

		pmx_flow_key_reduce(exact, order[i].kind, order[i].any_ip, &k);
		id = pmx_flow_table_find(ft, &k);
		if (id != PMX_RULE_NONE) {
			const struct pmx_rule *r = pmx_flow_table_rule(ft, id);

			FUZZ_CHECK(r != NULL);
			return r->owner;
		}
	}
	return PMX_OWNER_NONE;
}

/* The inline fast path, when it takes a frame, gives the full parser's result byte for byte. */
static void check_fast_path(const uint8_t *data, size_t size, enum pmx_dir dir)
{
	struct pmx_pkt_info fast, full;

	memset(&fast, 0x5a, sizeof(fast));
	memset(&full, 0xa5, sizeof(full));
	if (!pmx_packet_parse_fast(data, (uint32_t)size, dir, &fast))
		return;
	pmx_packet_parse_full(data, (uint32_t)size, dir, &full);
	FUZZ_CHECK(memcmp(&fast, &full, sizeof(fast)) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pmx_pkt_info in, out;
	const struct pmx_flow_key *keys[2] = {&in.key, &out.key};
	uint16_t owner[2];
	enum pmx_pkt_class cls;

	if (size > UINT16_MAX + 64) /* larger than any frame a port can receive */
		return 0;
	check_fast_path(data, size, PMX_DIR_IN);
	check_fast_path(data, size, PMX_DIR_OUT);
	cls = pmx_packet_parse(data, (uint32_t)size, PMX_DIR_IN, &in);
	check_one(data, size, &in, cls);
	cls = pmx_packet_parse(data, (uint32_t)size, PMX_DIR_OUT, &out);
	check_one(data, size, &out, cls);
	check_symmetry(&in, &out);
	check_turn(&in, &out);
	if (verbose)
		printf("%zu bytes: %s/%s\n", size, pmx_packet_class_name(cls),
		       pmx_packet_malformed_name(in.malformed_reason));

	if (in.key.kind != PMX_KEY_EXACT)
		return 0;
	pmx_flow_table_classify_bulk(ft, 0, keys, 2, owner);
	FUZZ_CHECK(owner[0] == expected_owner(&in.key));
	FUZZ_CHECK(owner[1] == expected_owner(&out.key));
	pmx_flow_table_quiescent(ft, 0);
	return 0;
}
