/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * mbuf_home.h - every mbuf a ring client holds is marked as its own, so that all of them come
 * back when it dies.
 *
 * Each attach of a ring client gets a "home": a mempool in shared memory without objects or
 * cache of its own (a ring_mp_sc ring). On delivery (deliver.c) every segment of a frame gets
 * m->pool = home, so the client's rte_pktmbuf_free() lands in its home instead of the switch's
 * pool. The client's TX lcore drains the home back into the switch's pool and restores
 * m->pool (pmx_mbuf_home_drain()); a frame the client sends gets m->pool restored when its TX
 * ring is dequeued (pmx_mbuf_home_unmark()). A marked mbuf is therefore always in exactly one
 * of: the client's RX ring, its hands, its home, its TX ring.
 *
 * At detach the home is retired (rings already drained, home drained); when every mbuf lent
 * came back it is freed at once, else once the client's
 * process has exited (a pidfd taken at attach says so: until then it may still free what it
 * holds), pmx_mbuf_home_poll() drains the home one last time, then walks the switch's pool
 * (rte_mempool_obj_iter()) and gives back every mbuf still marked with that home: exactly the
 * ones the dead process held. The home is freed after that, never before: no mbuf can point
 * to a freed home. A mark never leads to a double free: a marked mbuf is freed by the sweep
 * only when no process can free it any more.
 *
 * Not marked: mbufs a client allocates itself from the pool (they are its own until it sends
 * them) and memif clients' frames (copied; the mbufs never leave the switch).
 */
#ifndef PMX_MBUF_HOME_H
#define PMX_MBUF_HOME_H

#include <stdint.h>
#include <sys/types.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

struct pmx_switch;
struct pmx_worker;

/** The figures of every home, for stats (management lcore). */
struct pmx_mbuf_home_stats {
	uint64_t recovered; /**< mbufs given back by sweeps: what dead clients held */
	uint64_t sweeps;    /**< homes swept */
	unsigned pending;   /**< retired homes still lent mbufs, whose process has not exited */
};

/**
 * Mark n frames (every segment) as held by the client of `home`. Hot path (RX lcores), before
 * the frames are enqueued on the client's RX ring. @return the number of mbufs marked.
 */
static inline unsigned pmx_mbuf_home_mark(struct rte_mbuf **pkts, unsigned n,
					  struct rte_mempool *home)
{
	unsigned marked = n, i = 0;
	uint16_t more = 0; /* nonzero when a frame has several segments */

	/* the first segments four at a time; the chains (rare) after */
	for (; i + 4 <= n; i += 4) {
		pkts[i]->pool = pkts[i + 1]->pool = pkts[i + 2]->pool = pkts[i + 3]->pool = home;
		more |= (pkts[i]->nb_segs | pkts[i + 1]->nb_segs | pkts[i + 2]->nb_segs |
			 pkts[i + 3]->nb_segs) -
			1;
	}
	for (; i < n; i++) {
		pkts[i]->pool = home;
		more |= pkts[i]->nb_segs - 1;
	}
	if (unlikely(more != 0)) {
		for (i = 0; i < n; i++)
			for (struct rte_mbuf *m = pkts[i]->next; m != NULL; m = m->next, marked++)
				m->pool = home;
	}
	return marked;
}

/**
 * Give n frames that came back from a client (its TX ring, or not enqueued) the switch's
 * pool again: every segment whose pool is not `pool` (a client's home, this one's or an
 * earlier one's) gets `pool`. Hot path. @return the number of segments that were marked with
 * `home`.
 */
static inline unsigned pmx_mbuf_home_unmark(struct rte_mbuf **pkts, unsigned n,
					    struct rte_mempool *pool,
					    const struct rte_mempool *home)
{
	unsigned back = 0;

	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];

		if (likely(m->nb_segs == 1)) {
			if (m->pool != pool) {
				back += m->pool == home;
				m->pool = pool;
			}
			continue;
		}
		for (; m != NULL; m = m->next) {
			if (m->pool != pool) {
				back += m->pool == home;
				m->pool = pool;
			}
		}
	}
	return back;
}

/**
 * Move what the client freed into `home` back to the switch's pool `pool` (at most 64 mbufs
 * a call), its pool pointer restored. One consumer at a time: the client's TX lcore while it
 * is attached, the management lcore after. @return the number of mbufs moved.
 */
unsigned pmx_mbuf_home_drain(struct rte_mempool *home, struct rte_mempool *pool);

/**
 * Move n of the mbufs in `home` (n at most its count, taken at most 64 at a time) back to
 * `pool`, as pmx_mbuf_home_drain() does, for a caller that has just read the count. Same
 * single consumer. @return the number of mbufs moved.
 */
unsigned pmx_mbuf_home_take(struct rte_mempool *home, struct rte_mempool *pool, unsigned n);

/**
 * Create the home of client slot `id`, attach `generation`, whose process is `pid`, in
 * *home. Management lcore. @return 0, -ENOMEM (no memory for the home or its bookkeeping),
 * or -EEXIST (a home of that name exists).
 */
int pmx_mbuf_home_open(struct pmx_switch *sw, uint16_t id, uint32_t generation, pid_t pid,
		       struct rte_mempool **home);

/**
 * Retire a client's home (detach, after its rings were drained and no RX lcore can use the
 * slot), given the client's counters (mbufs lent to it, and returned: sent back or drained by
 * its TX lcore): drained now; freed now when every mbuf lent came back (nothing can point to
 * it), else swept by pmx_mbuf_home_poll() once the process exited. Accepts a NULL home
 * (nothing happens). Management lcore. @return mbufs drained.
 */
unsigned pmx_mbuf_home_retire(struct pmx_switch *sw, struct rte_mempool *home, uint64_t lent,
			      uint64_t returned);

/**
 * Sweep the retired homes whose process has exited: their last frees drained, every mbuf
 * still marked with them given back to the switch's pool, the home freed. Management lcore;
 * walks the whole pool for each home swept. @return mbufs given back (recovered).
 */
unsigned pmx_mbuf_home_poll(struct pmx_switch *sw);

/** Mbufs in `home` (freed by the client, not yet drained). Any thread. */
unsigned pmx_mbuf_home_count(const struct rte_mempool *home);

/** Mbufs in every home (freed by their client, not yet drained back): free, though the
 * switch's pool does not count them yet. Management lcore. */
unsigned pmx_mbuf_home_free_count(const struct pmx_switch *sw);

/** The figures of every home so far. Management lcore. */
void pmx_mbuf_home_stats(const struct pmx_switch *sw, struct pmx_mbuf_home_stats *out);

/**
 * Free every home, retired or not, without a sweep (shutdown: the pool goes too). Accepts a
 * switch without homes.
 */
void pmx_mbuf_home_fini(struct pmx_switch *sw);

#endif
