/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_mbuf_home.c - mbuf_home.c on a primary's pool (EAL --no-huge): a home's name taken
 * twice, the mark and unmark of single frames and chains (what was lent and what came back),
 * a client's frees landing in its home and drained back, a home freed at detach when all came
 * back (its process alive), and the sweep: nothing while the
 * client's process lives, then exactly the mbufs it held (chains too) once it exited, others'
 * mbufs untouched, the pool whole again; a client of unknown pid swept at once.
 * Negative cases first.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CUnit/CUnit.h>
#include <rte_eal.h>
#include <rte_mbuf.h>

#include "cunit_run.h"
#include "mbuf_home.h"
#include "pmx_switch.h"

#define POOL_SIZE 255

static struct pmx_switch sw;

/* A process that lives until killed: the client whose death the sweep waits for. */
static pid_t child_start(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		pause();
		_exit(0);
	}
	return pid;
}

static void child_end(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void alloc_n(struct rte_mbuf **m, unsigned n)
{
	CU_ASSERT_FATAL(rte_pktmbuf_alloc_bulk(sw.pool, m, n) == 0);
}

/* ---- negative cases ---- */

static void test_name_taken(void)
{
	struct rte_mempool *a, *b;

	CU_ASSERT_EQUAL(pmx_mbuf_home_open(&sw, 7, 1, 0, &a), 0);
	CU_ASSERT_EQUAL(pmx_mbuf_home_open(&sw, 7, 1, 0, &b), -EEXIST);
	CU_ASSERT_EQUAL(pmx_mbuf_home_count(a), 0);
	CU_ASSERT_EQUAL(pmx_mbuf_home_retire(&sw, a, 0, 0), 0);
	CU_ASSERT_EQUAL(pmx_mbuf_home_retire(&sw, NULL, 0, 0), 0);
	CU_ASSERT_EQUAL(pmx_mbuf_home_poll(&sw), 0); /* pid unknown: swept, nothing held */
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(sw.pool), 0);
}

/* ---- mark and unmark ---- */

static void test_mark_unmark(void)
{
	struct rte_mempool *home;
	struct rte_mbuf *m[4];

	CU_ASSERT_FATAL(pmx_mbuf_home_open(&sw, 1, 1, 0, &home) == 0);
	alloc_n(m, 4);
	CU_ASSERT_EQUAL(rte_pktmbuf_chain(m[2], m[3]), 0); /* m[2]: a chain of 2 */
	CU_ASSERT_EQUAL(pmx_mbuf_home_mark(m, 3, home), 4);
	for (unsigned i = 0; i < 4; i++)
		CU_ASSERT_PTR_EQUAL(m[i]->pool, home);
	/* an unmarked frame and one of an earlier home among them: restored, not counted */
	m[0]->pool = sw.pool;
	m[1]->pool = (struct rte_mempool *)&sw; /* any other home */
	CU_ASSERT_EQUAL(pmx_mbuf_home_unmark(m, 3, sw.pool, home), 2);
	for (unsigned i = 0; i < 4; i++)
		CU_ASSERT_PTR_EQUAL(m[i]->pool, sw.pool);
	rte_pktmbuf_free_bulk(m, 3);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(sw.pool), 0);
	pmx_mbuf_home_retire(&sw, home, 2, 2);
	CU_ASSERT_EQUAL(pmx_mbuf_home_poll(&sw), 0);
}

/* ---- frees land in the home ---- */

static void test_free_goes_home(void)
{
	struct rte_mempool *home;
	struct rte_mbuf *m[8];

	CU_ASSERT_FATAL(pmx_mbuf_home_open(&sw, 2, 1, 0, &home) == 0);
	alloc_n(m, 8);
	CU_ASSERT_EQUAL(rte_pktmbuf_chain(m[6], m[7]), 0);
	CU_ASSERT_EQUAL(pmx_mbuf_home_mark(m, 7, home), 8);
	rte_pktmbuf_free_bulk(m, 7); /* what the client does */
	CU_ASSERT_EQUAL(pmx_mbuf_home_count(home), 8);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(sw.pool), 8); /* not back yet */
	CU_ASSERT_EQUAL(pmx_mbuf_home_drain(home, sw.pool), 8);
	CU_ASSERT_EQUAL(pmx_mbuf_home_count(home), 0);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(sw.pool), 0);
	alloc_n(m, 8); /* they come out as the switch's own */
	for (unsigned i = 0; i < 8; i++)
		CU_ASSERT_PTR_EQUAL(m[i]->pool, sw.pool);
	rte_pktmbuf_free_bulk(m, 8);
	pmx_mbuf_home_retire(&sw, home, 8, 8);
	CU_ASSERT_EQUAL(pmx_mbuf_home_poll(&sw), 0);
}

/* A client that gave everything back is done with at detach, though its process lives on
 * (a clean bye, a restart with exec): nothing waits for it. */
static void test_nothing_held(void)
{
	struct pmx_mbuf_home_stats st;
	struct rte_mempool *home;
	struct rte_mbuf *m[4];
	pid_t pid = child_start();

	CU_ASSERT_FATAL(pid > 0);
	CU_ASSERT_FATAL(pmx_mbuf_home_open(&sw, 4, 1, pid, &home) == 0);
	alloc_n(m, 4);
	pmx_mbuf_home_mark(m, 4, home);
	rte_pktmbuf_free_bulk(m, 3);                                       /* freed */
	CU_ASSERT_EQUAL(pmx_mbuf_home_unmark(&m[3], 1, sw.pool, home), 1); /* sent */
	rte_pktmbuf_free(m[3]);
	CU_ASSERT_EQUAL(pmx_mbuf_home_retire(&sw, home, 4, 1), 3);
	CU_ASSERT_EQUAL(pmx_mbuf_home_poll(&sw), 0);
	pmx_mbuf_home_stats(&sw, &st);
	CU_ASSERT_EQUAL(st.pending, 0);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(sw.pool), 0);
	/* its name is free again: the home is gone */
	CU_ASSERT_EQUAL(pmx_mbuf_home_open(&sw, 4, 1, 0, &home), 0);
	pmx_mbuf_home_retire(&sw, home, 0, 0);
	child_end(pid);
}

/* ---- the sweep ---- */

static void test_sweep_waits_for_exit(void)
{
	struct rte_mbuf *m[10], *other[3];
	struct pmx_mbuf_home_stats st;
	struct rte_mempool *home;
	pid_t pid = child_start();

	CU_ASSERT_FATAL(pid > 0);
	CU_ASSERT_FATAL(pmx_mbuf_home_open(&sw, 3, 1, pid, &home) == 0);
	alloc_n(other, 3); /* in use elsewhere in the switch: never swept */
	alloc_n(m, 10);
	CU_ASSERT_EQUAL(rte_pktmbuf_chain(m[8], m[9]), 0);
	CU_ASSERT_EQUAL(pmx_mbuf_home_mark(m, 9, home), 10);
	rte_pktmbuf_free_bulk(m, 4); /* freed by the client */
	/* m[4], m[5]: sent back on its TX ring, now the switch's again */
	CU_ASSERT_EQUAL(pmx_mbuf_home_unmark(&m[4], 2, sw.pool, home), 2);
	/* m[6], m[7], m[8] + m[9]: in its hands when it dies */
	CU_ASSERT_EQUAL(pmx_mbuf_home_retire(&sw, home, 10, 2), 4);
	CU_ASSERT_EQUAL(pmx_mbuf_home_poll(&sw), 0); /* alive: it may still free them */
	pmx_mbuf_home_stats(&sw, &st);
	CU_ASSERT_EQUAL(st.pending, 1);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(sw.pool), 3 + 6);

	child_end(pid);
	CU_ASSERT_EQUAL(pmx_mbuf_home_poll(&sw), 4);
	pmx_mbuf_home_stats(&sw, &st);
	CU_ASSERT_EQUAL(st.pending, 0);
	CU_ASSERT_EQUAL(st.recovered, 4);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(sw.pool), 3 + 2);
	rte_pktmbuf_free_bulk(&m[4], 2);
	for (unsigned i = 0; i < 3; i++)
		CU_ASSERT_PTR_EQUAL(other[i]->pool, sw.pool);
	rte_pktmbuf_free_bulk(other, 3);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(sw.pool), 0);
	CU_ASSERT_EQUAL(rte_mempool_avail_count(sw.pool), POOL_SIZE);
	rte_mempool_audit(sw.pool);
	alloc_n(m, 10); /* swept mbufs are whole again: single segments of the pool */
	for (unsigned i = 0; i < 10; i++)
		CU_ASSERT(m[i]->pool == sw.pool && m[i]->nb_segs == 1 && m[i]->next == NULL &&
			  rte_mbuf_refcnt_read(m[i]) == 1);
	rte_pktmbuf_free_bulk(m, 10);
}

static void test_sweep_unknown_pid(void)
{
	struct rte_mempool *home;
	struct rte_mbuf *m[5];

	CU_ASSERT_FATAL(pmx_mbuf_home_open(&sw, 3, 2, 0, &home) == 0);
	alloc_n(m, 5);
	pmx_mbuf_home_mark(m, 5, home);
	CU_ASSERT_EQUAL(pmx_mbuf_home_retire(&sw, home, 5, 0), 0);
	CU_ASSERT_EQUAL(pmx_mbuf_home_poll(&sw), 5);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(sw.pool), 0);
}

static int suite_init(void)
{
	static char *argv[] = {"test_mbuf_home", "-l",          "0",
			       "--no-huge",      "-m",          "64",
			       "--no-pci",       "--no-shconf", "--no-telemetry",
			       "--log-level",    "*:error",     "--file-prefix",
			       "test_mbuf_home", NULL};

	if (rte_eal_init((int)RTE_DIM(argv) - 1, argv) < 0)
		return -1;
	sw.pool = rte_pktmbuf_pool_create("mbuf_home_test", POOL_SIZE, 32, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	return sw.pool != NULL ? 0 : -1;
}

static int suite_cleanup(void)
{
	pmx_mbuf_home_fini(&sw);
	rte_mempool_free(sw.pool);
	return rte_eal_cleanup();
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"a home's name taken twice; retire NULL", test_name_taken},
		{"mark and unmark: frames and chains, other homes", test_mark_unmark},
		{"a client's frees land in its home, drained back", test_free_goes_home},
		{"nothing held: freed at detach though the process lives", test_nothing_held},
		{"sweep: nothing while the process lives, then what it held",
		 test_sweep_waits_for_exit},
		{"sweep: unknown pid, at once", test_sweep_unknown_pid},
	};

	return cunit_run("mbuf_home", suite_init, suite_cleanup, tests, RTE_DIM(tests));
}
