/* memif_ring.c - the copy between a memif client's rings and mbufs (client <-> switch),
 * every descriptor read once and checked against the client's regions */
#include <errno.h>
#include <string.h>

#include "memif_ring.h"
#include "pmx_switch.h"

/* A descriptor copied out of the shared ring: each field read once, through volatile, so that
 * what is checked is what is used whatever the client writes meanwhile. */
static inline struct pmx_memif_desc desc_load(const struct pmx_memif_ring *r, uint32_t slot)
{
	const volatile struct pmx_memif_desc *s = &r->desc[slot];
	struct pmx_memif_desc d;

	d.flags = s->flags;
	d.region = s->region;
	d.length = s->length;
	d.offset = s->offset;
	d.metadata = 0;
	return d;
}

int pmx_memif_desc_check(const struct pmx_memif_chan *ch, const struct pmx_memif_desc *d)
{
	if (d->region >= ch->n_regions || d->length == 0)
		return -EINVAL;
	if ((uint64_t)d->offset + d->length > ch->region[d->region].size)
		return -EINVAL;
	return 0;
}

enum frame_verdict { FRAME_OK, FRAME_MALFORMED, FRAME_OVERSIZE };

/* Walk one frame from slot tail: at most avail slots (those posted). Fills seg[] with the
 * checked descriptors and *used with the slots the frame takes; a chain still "continued" at
 * the last posted slot is malformed. */
static enum frame_verdict frame_walk(const struct pmx_memif_chan *ch, uint16_t tail, uint16_t avail,
				     struct pmx_memif_desc *seg, unsigned *n_seg, uint16_t *used,
				     uint32_t *len)
{
	enum frame_verdict v = FRAME_OK;
	uint64_t total = 0;
	uint16_t u = 0;
	unsigned ns = 0;

	for (;;) {
		struct pmx_memif_desc d;

		if (u == avail) { /* the chain runs past what the client posted */
			v = FRAME_MALFORMED;
			break;
		}
		d = desc_load(ch->s2m, (uint16_t)(tail + u) & (ch->s2m_size - 1));
		u++;
		if (v == FRAME_OK) {
			if (pmx_memif_desc_check(ch, &d) != 0) {
				v = FRAME_MALFORMED;
			} else if (total + d.length > PMX_MAX_CLIENT_FRAME ||
				   ns == PMX_MEMIF_MAX_SEGS) {
				v = FRAME_OVERSIZE;
			} else {
				seg[ns++] = d;
				total += d.length;
			}
		}
		if (!(d.flags & PMX_MEMIF_DESC_NEXT))
			break;
	}
	*n_seg = ns;
	*used = u;
	*len = (uint32_t)total;
	return v;
}

/* Slots the client has made ready past tail (head read once). A head more than a ring ahead
 * is a violation: flagged for the management lcore to disconnect, and 0 slots. */
static inline uint16_t ring_avail(struct pmx_memif_chan *ch, struct pmx_memif_ring *r,
				  uint16_t tail, uint32_t size)
{
	uint16_t avail = (uint16_t)(__atomic_load_n(&r->head, __ATOMIC_ACQUIRE) - tail);

	if (avail > size) {
		__atomic_store_n(&ch->violation, 1, __ATOMIC_RELEASE);
		return 0;
	}
	return avail;
}

unsigned pmx_memif_ring_rx(struct pmx_memif_chan *ch, struct rte_mempool *mp,
			   struct rte_mbuf **pkts, unsigned max, struct pmx_memif_counts *cnt)
{
	struct pmx_memif_ring *r = ch->s2m;
	uint16_t tail = ch->s2m_tail;
	uint16_t avail = ring_avail(ch, r, tail, ch->s2m_size);
	unsigned n = 0;

	while (avail > 0 && n < max) {
		struct pmx_memif_desc seg[PMX_MEMIF_MAX_SEGS];
		enum frame_verdict v;
		struct rte_mbuf *m;
		unsigned ns;
		uint16_t used;
		uint32_t len, off = 0;
		uint8_t *dst;

		v = frame_walk(ch, tail, avail, seg, &ns, &used, &len);
		if (v == FRAME_OK) {
			m = rte_pktmbuf_alloc(mp);
			if (m == NULL) {
				cnt->nomem++;
				break; /* its slots stay posted: the next poll tries again */
			}
			dst = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
			if (dst == NULL) { /* the pool's buffers are smaller than a frame */
				rte_pktmbuf_free(m);
				v = FRAME_OVERSIZE;
			} else {
				for (unsigned i = 0; i < ns; i++) {
					memcpy(dst + off,
					       ch->region[seg[i].region].addr + seg[i].offset,
					       seg[i].length);
					off += seg[i].length;
				}
				pkts[n++] = m;
			}
		}
		if (v == FRAME_MALFORMED)
			cnt->malformed++;
		else if (v == FRAME_OVERSIZE)
			cnt->oversize++;
		tail = (uint16_t)(tail + used);
		avail = (uint16_t)(avail - used);
	}
	if (tail != ch->s2m_tail) {
		ch->s2m_tail = tail;
		__atomic_store_n(&r->tail, tail, __ATOMIC_RELEASE);
	}
	return n;
}

unsigned pmx_memif_ring_tx(struct pmx_memif_chan *ch, struct rte_mbuf **pkts, unsigned n,
			   struct pmx_memif_counts *cnt)
{
	struct pmx_memif_ring *r = ch->m2s;
	uint16_t tail = ch->m2s_tail;
	uint16_t avail = ring_avail(ch, r, tail, ch->m2s_size);
	unsigned sent = 0;

	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint32_t slot = tail & (ch->m2s_size - 1), off = 0;
		volatile struct pmx_memif_desc *out = &r->desc[slot];
		struct pmx_memif_desc d;
		uint8_t *dst;

		if (avail == 0) {
			cnt->no_room += n - i;
			break;
		}
		d = desc_load(r, slot);
		if (pmx_memif_desc_check(ch, &d) != 0) {
			cnt->malformed++; /* a buffer outside its regions: never written */
			continue;
		}
		if (rte_pktmbuf_pkt_len(m) > d.length) {
			cnt->no_room++; /* the frame does not fit the buffer: dropped, not cut */
			continue;
		}
		dst = ch->region[d.region].addr + d.offset;
		for (const struct rte_mbuf *s = m; s != NULL; s = s->next) {
			memcpy(dst + off, rte_pktmbuf_mtod(s, const uint8_t *), s->data_len);
			off += s->data_len;
		}
		out->length = rte_pktmbuf_pkt_len(m);
		out->flags = 0;
		tail++;
		avail--;
		pkts[i] = pkts[sent]; /* the copied frames first, in order, for the caller */
		pkts[sent++] = m;
	}
	if (tail != ch->m2s_tail) {
		ch->m2s_tail = tail;
		__atomic_store_n(&r->tail, tail, __ATOMIC_RELEASE);
	}
	return sent;
}
