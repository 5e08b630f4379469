/* pacer.c - the latency benchmark's paced source (pcap trace -> the NIC's net_ring RX ring, at a
 * set rate, paced with the TSC) */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>
#include <rte_cycles.h>
#include <rte_mbuf.h>

#include "pacer.h"

#define PACER_FRAME_MAX 2048
#define PACER_BURST 32
#define PACER_MAX_FRAMES (1u << 20)

static int load_trace(struct pacer *p, const char *trace)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	unsigned cap = 1024;
	pcap_t *pc = pcap_open_offline(trace, err);

	if (pc == NULL)
		return -EINVAL;
	p->frames = malloc((size_t)cap * PACER_FRAME_MAX);
	p->len = malloc(cap * sizeof(*p->len));
	while (p->frames != NULL && p->len != NULL && p->n_frames < PACER_MAX_FRAMES &&
	       pcap_next_ex(pc, &h, &data) == 1) {
		if (h->caplen == 0 || h->caplen > PACER_FRAME_MAX)
			continue;
		if (p->n_frames == cap) {
			uint8_t *f = realloc(p->frames, (size_t)cap * 2 * PACER_FRAME_MAX);
			uint16_t *l = f ? realloc(p->len, cap * 2 * sizeof(*l)) : NULL;

			if (f != NULL)
				p->frames = f;
			if (l == NULL)
				break;
			p->len = l;
			cap *= 2;
		}
		memcpy(p->frames + (size_t)p->n_frames * PACER_FRAME_MAX, data, h->caplen);
		p->len[p->n_frames++] = (uint16_t)h->caplen;
	}
	pcap_close(pc);
	if (p->frames == NULL || p->len == NULL)
		return -ENOMEM;
	return p->n_frames > 0 ? 0 : -EINVAL;
}

int pacer_init(struct pacer *p, const char *trace, const char *ring_name, struct rte_mempool *pool,
	       double rate)
{
	int ret;

	memset(p, 0, sizeof(*p));
	p->pool = pool;
	p->rate = rate;
	p->ring = rte_ring_lookup(ring_name);
	if (p->ring == NULL)
		return -ENOENT;
	ret = load_trace(p, trace);
	if (ret != 0)
		pacer_fini(p);
	return ret;
}

/* How many frames to send now (at most a burst). */
static unsigned frames_due(struct pacer *p, uint64_t now)
{
	uint64_t due, backlog;

	if (p->rate <= 0)
		return PACER_BURST;
	if (p->start == 0)
		p->start = now;
	due = p->due_base + (uint64_t)((double)(now - p->start) * p->rate / rte_get_tsc_hz());
	backlog = due - (p->sent + p->ring_full + p->nomem + p->behind);
	if (backlog > rte_ring_get_size(p->ring)) { /* descheduled: skip, do not burst */
		p->behind += backlog - PACER_BURST;
		backlog = PACER_BURST;
	}
	return (unsigned)RTE_MIN(backlog, (uint64_t)PACER_BURST);
}

unsigned pacer_poll(struct pacer *p)
{
	struct rte_mbuf *m[PACER_BURST];
	unsigned n = frames_due(p, rte_rdtsc()), sent;

	if (n == 0)
		return 0;
	if (rte_pktmbuf_alloc_bulk(p->pool, m, n) != 0) {
		p->nomem += p->rate > 0 ? n : 0;
		return 0;
	}
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *f = p->frames + (size_t)p->next * PACER_FRAME_MAX;

		memcpy(rte_pktmbuf_mtod(m[i], uint8_t *), f, p->len[p->next]);
		m[i]->data_len = m[i]->pkt_len = p->len[p->next];
		p->next = p->next + 1 == p->n_frames ? 0 : p->next + 1;
	}
	sent = rte_ring_enqueue_burst(p->ring, (void **)m, n, NULL);
	p->sent += sent;
	if (sent < n) {
		rte_pktmbuf_free_bulk(m + sent, n - sent);
		if (p->rate > 0) /* flat out, a full ring is just back-pressure */
			p->ring_full += n - sent;
	}
	return sent;
}

void pacer_fini(struct pacer *p)
{
	free(p->frames);
	free(p->len);
	p->frames = NULL;
	p->len = NULL;
}
