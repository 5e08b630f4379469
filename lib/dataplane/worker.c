/* worker.c - the RX lcore loop: a flat list of polls over NIC, kernel path and client rings */
#include <rte_lcore.h>

#include "pmx_switch.h"

int pmx_worker_main(void *arg)
{
	struct pmx_worker *w = arg;
	struct pmx_switch *sw = w->sw;

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
		/* clients -> wire */
		work += pmx_client_tx_poll(w);
		/* nothing looked up above is still held */
		pmx_flow_table_quiescent(sw->ft, w->id);

		w->loops++;
		w->busy_loops += work != 0;
	}
	pmx_flow_table_reader_unregister(sw->ft, w->id);
	return 0;
}
