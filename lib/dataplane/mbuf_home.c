/* mbuf_home.c - ring clients' homes: where their frees land (client -> switch's pool), and the
 * sweep that gives back what a dead client held */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/pidfd.h>
#include <sys/queue.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_tailq.h>

#include "mbuf_home.h"
#include "pmx_log.h"
#include "pmx_switch.h"

#define DRAIN_BURST 64

/* One home: a client attach's mempool, from open to the sweep after its process exited. */
struct home {
	TAILQ_ENTRY(home) next;
	struct rte_mempool *mp;
	void *area;    /* the objects populate_iova needed (taken out, never used) */
	int pidfd;     /* the client's process; -1: unknown (swept as soon as retired) */
	bool retired;  /* detached: swept once the process exited */
	uint64_t held; /* retired: marked mbufs not back (what the sweep should find) */
	uint16_t id;   /* the slot, for the log */
};

TAILQ_HEAD(home_list, home);

struct pmx_mbuf_homes {
	struct home_list list;
	struct pmx_mbuf_home_stats stats;
};

static void home_free(struct pmx_switch *sw, struct home *h);

unsigned pmx_mbuf_home_take(struct rte_mempool *home, struct rte_mempool *pool, unsigned n)
{
	void *objs[DRAIN_BURST];

	n = RTE_MIN(n, (unsigned)DRAIN_BURST);
	/* one consumer: the count can only grow until we take them */
	if (n == 0 || rte_mempool_get_bulk(home, objs, n) != 0)
		return 0;
#pragma GCC unroll 4
	for (unsigned i = 0; i < n; i++)
		((struct rte_mbuf *)objs[i])->pool = pool;
	rte_mempool_put_bulk(pool, objs, n);
	return n;
}

unsigned pmx_mbuf_home_drain(struct rte_mempool *home, struct rte_mempool *pool)
{
	return pmx_mbuf_home_take(home, pool, rte_mempool_avail_count(home));
}

unsigned pmx_mbuf_home_count(const struct rte_mempool *home)
{
	return home != NULL ? rte_mempool_avail_count(home) : 0;
}

static struct pmx_mbuf_homes *homes_get(struct pmx_switch *sw)
{
	if (sw->homes == NULL) {
		sw->homes = calloc(1, sizeof(*sw->homes));
		if (sw->homes != NULL)
			TAILQ_INIT(&sw->homes->list);
	}
	return sw->homes;
}

/* A mempool with a ring for mbufs of `pool` and no objects of its own: created empty, given
 * the pool's mbuf private area (rte_pktmbuf_data_room_size() and the like read it through
 * m->pool), populated with room for two objects only so that its ring exists, those objects
 * taken out for good. */
static struct rte_mempool *home_create(struct rte_mempool *pool, const char *name, void **area)
{
	struct rte_pktmbuf_pool_private priv = *(
		struct rte_pktmbuf_pool_private *)rte_mempool_get_priv(pool);
	struct rte_mempool *mp;
	void *own[2]; /* the objects populated: room for two at most */
	size_t len;
	int n;

	mp = rte_mempool_create_empty(name, pool->size, pool->elt_size, 0, sizeof(priv),
				      pool->socket_id, 0);
	if (mp == NULL)
		return NULL;
	if (rte_mempool_set_ops_byname(mp, "ring_mp_sc", NULL) != 0)
		goto fail_free;
	rte_pktmbuf_pool_init(mp, &priv);
	len = 2 * (mp->header_size + mp->elt_size + mp->trailer_size);
	*area = rte_zmalloc_socket(name, len, RTE_CACHE_LINE_SIZE, pool->socket_id);
	if (*area == NULL)
		goto fail_free;
	n = rte_mempool_populate_iova(mp, *area, rte_malloc_virt2iova(*area), len, NULL, NULL);
	if (n < 1 || n > (int)RTE_DIM(own) || rte_mempool_get_bulk(mp, own, n) != 0)
		goto fail_area;
	return mp;

fail_area:
	rte_mempool_free(mp);
	rte_free(*area);
	return NULL;
fail_free:
	rte_mempool_free(mp);
	return NULL;
}

int pmx_mbuf_home_open(struct pmx_switch *sw, uint16_t id, uint32_t generation, pid_t pid,
		       struct rte_mempool **out)
{
	struct pmx_mbuf_homes *homes = homes_get(sw);
	char name[RTE_MEMPOOL_NAMESIZE];
	struct home *h;

	if (homes == NULL)
		return -ENOMEM;
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return -ENOMEM;
	snprintf(name, sizeof(name), "pmx_h%u_%u", id, generation);
	h->mp = home_create(sw->pool, name, &h->area);
	if (h->mp == NULL) {
		int ret = rte_errno == EEXIST ? -EEXIST : -ENOMEM;

		PMX_LOG(WARNING, ctl, "client %u: cannot create its home %s: %s", id, name,
			rte_strerror(rte_errno));
		free(h);
		return ret;
	}
	/* held from attach: the pid cannot be reused while we hold it */
	h->pidfd = pid > 0 ? pidfd_open(pid, 0) : -1;
	h->id = id;
	TAILQ_INSERT_TAIL(&homes->list, h, next);
	*out = h->mp;
	return 0;
}

unsigned pmx_mbuf_home_retire(struct pmx_switch *sw, struct rte_mempool *home, uint64_t lent,
			      uint64_t returned)
{
	unsigned n, drained = 0;
	struct home *h;

	if (home == NULL || sw->homes == NULL)
		return 0;
	while ((n = pmx_mbuf_home_drain(home, sw->pool)) > 0)
		drained += n;
	TAILQ_FOREACH (h, &sw->homes->list, next) {
		if (h->mp != home)
			continue;
		h->retired = true;
		h->held = lent - returned - drained;
		if (h->held == 0) { /* no mbuf points to it: no sweep needed, even if it lives on */
			sw->homes->stats.sweeps++;
			home_free(sw, h);
		}
		break;
	}
	return drained;
}

/* Has the process of h exited (its memory unmapped: it can free nothing any more)? */
static bool process_gone(const struct home *h)
{
	struct pollfd p = {.fd = h->pidfd, .events = POLLIN};

	return h->pidfd < 0 || poll(&p, 1, 0) != 0;
}

struct sweep {
	const struct rte_mempool *home;
	struct rte_mempool *pool;
	unsigned found;
};

/* rte_mempool_obj_iter() callback: an mbuf still marked with the dead client's home is one it
 * held; it goes back to the pool as new (chains, indirect mbufs and reference counts of what
 * the client did with it do not matter: each of its mbufs is found and reset on its own). */
static void sweep_one(struct rte_mempool *mp, void *arg, void *obj, unsigned idx)
{
	struct sweep *s = arg;
	struct rte_mbuf *m = obj;

	if (__atomic_load_n(&m->pool, __ATOMIC_RELAXED) != s->home)
		return;
	rte_pktmbuf_init(mp, NULL, m, idx);
	rte_mempool_put(s->pool, m);
	s->found++;
}

static unsigned sweep(struct pmx_switch *sw, struct home *h)
{
	struct sweep s = {.home = h->mp, .pool = sw->pool};

	while (pmx_mbuf_home_drain(h->mp, sw->pool) > 0)
		;
	rte_mempool_obj_iter(sw->pool, sweep_one, &s);
	return s.found;
}

static void home_free(struct pmx_switch *sw, struct home *h)
{
	TAILQ_REMOVE(&sw->homes->list, h, next);
	rte_mempool_free(h->mp);
	rte_free(h->area);
	if (h->pidfd >= 0)
		close(h->pidfd);
	free(h);
}

unsigned pmx_mbuf_home_poll(struct pmx_switch *sw)
{
	struct pmx_mbuf_homes *homes = sw->homes;
	unsigned recovered = 0, pending = 0;
	struct home *h, *tmp;

	if (homes == NULL)
		return 0;
	RTE_TAILQ_FOREACH_SAFE(h, &homes->list, next, tmp)
	{
		unsigned found;

		if (!h->retired)
			continue;
		if (!process_gone(h)) {
			pending++;
			continue;
		}
		found = sweep(sw, h);
		PMX_LOG(NOTICE, ctl,
			"client %u: %u mbufs it held when its process ended "
			"recovered (%" PRIu64 " counted held)",
			h->id, found, h->held);
		recovered += found;
		homes->stats.sweeps++;
		home_free(sw, h);
	}
	homes->stats.recovered += recovered;
	homes->stats.pending = pending;
	return recovered;
}

unsigned pmx_mbuf_home_free_count(const struct pmx_switch *sw)
{
	const struct home *h;
	unsigned n = 0;

	if (sw->homes == NULL)
		return 0;
	TAILQ_FOREACH (h, &sw->homes->list, next)
		n += rte_mempool_avail_count(h->mp);
	return n;
}

void pmx_mbuf_home_stats(const struct pmx_switch *sw, struct pmx_mbuf_home_stats *out)
{
	*out = sw->homes != NULL ? sw->homes->stats : (struct pmx_mbuf_home_stats){0};
}

void pmx_mbuf_home_fini(struct pmx_switch *sw)
{
	struct home *h, *tmp;

	if (sw->homes == NULL)
		return;
	RTE_TAILQ_FOREACH_SAFE(h, &sw->homes->list, next, tmp)
	home_free(sw, h);
	free(sw->homes);
	sw->homes = NULL;
}
