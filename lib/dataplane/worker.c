/* worker.c - the RX lcore loop: a flat list of polls over NIC, kernel path and client rings */
#include <rte_cycles.h>
#include <rte_lcore.h>

#include "stages.h"

#define AGE_BUDGET 32 /* entries looked at per idle pass */

/* Slow-path chores, only on passes that found no packet. */
static void idle_chores(struct pmx_worker *w)
{
	uint64_t now = rte_rdtsc(), us = rte_get_tsc_hz() / 1000000;

	pmx_frag_poll(w, true);
	pmx_lcore_table_age(&w->frags, now, us * PMX_FRAG_AGE_US, AGE_BUDGET);
	pmx_lcore_table_age(&w->kconns, now, us * PMX_KCONN_AGE_US, AGE_BUDGET);
}

int pmx_worker_main(void *arg)
{
	struct pmx_worker *w = arg;
	struct pmx_switch *sw = w->sw;

	uint64_t start = rte_rdtsc(), end;

	if (pmx_flow_table_reader_register(sw->ft, w->id) != 0)
		return -1;
	while (!__atomic_load_n(&sw->quit, __ATOMIC_RELAXED)) {
		unsigned work = 0;

		/* wire -> clients and kernel */
		for (unsigned p = 0; p < sw->n_ports; p++)
			work += pmx_nic_rx_poll(w, p);
		/* kernel -> wire */
		for (unsigned p = 0; p < sw->n_ports; p++)
			work += pmx_kernel_rx_poll(w, p);
		/* clients -> wire (or locally to the kernel and other clients) */
		work += pmx_client_tx_poll(w);
		/* first frames of new client connections, learned by the management lcore */
		work += pmx_learn_return_poll(w);
		/* later fragments whose first fragment arrived meanwhile */
		work += pmx_frag_poll(w, false);
		/* nothing looked up above is still held */
		pmx_flow_table_quiescent(sw->ft, w->id);

		w->loops++;
		end = rte_rdtsc();
		if (work != 0) {
			w->busy_loops++;
			w->busy_cycles += end - start;
		} else {
			idle_chores(w);
			end = rte_rdtsc();
		}
		start = end;
	}
	pmx_flow_table_reader_unregister(sw->ft, w->id);
	return 0;
}
