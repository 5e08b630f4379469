/* sd_service.c - portmuxd under systemd: readiness, status, stop and the RX lcores' watchdog */
#include <errno.h>
#include <string.h>

#include <rte_cycles.h>

#include "pmx_log.h"
#include "pmx_sd_notify.h"
#include "sd_service.h"

int pmx_sd_service_init(struct pmx_sd_service *s)
{
	uint64_t usec;
	int ret = pmx_sd_watchdog_usec(&usec);

	memset(s, 0, sizeof(*s));
	s->stalled = -1;
	pmx_sd_notify("STATUS=starting: EAL, ports, control socket");
	if (ret == -ENODATA)
		return 0;
	if (ret < 0) {
		PMX_LOG(WARNING, main,
			"systemd: WATCHDOG_USEC/WATCHDOG_PID malformed: no watchdog");
		return ret;
	}
	/* sd_watchdog_enabled(3): send keep-alives at half the interval */
	s->period_tsc = (uint64_t)((double)usec / 2e6 * (double)rte_get_tsc_hz());
	if (s->period_tsc == 0)
		s->period_tsc = 1;
	return 0;
}

static void snapshot_loops(struct pmx_sd_service *s, const struct pmx_switch *sw)
{
	for (unsigned w = 0; w < sw->n_workers; w++)
		s->loops[w] = __atomic_load_n(&sw->workers[w]->loops, __ATOMIC_RELAXED);
}

void pmx_sd_service_ready(struct pmx_sd_service *s, const struct pmx_switch *sw)
{
	snapshot_loops(s, sw);
	s->next_tsc = rte_rdtsc() + s->period_tsc;
	pmx_sd_notifyf("READY=1\nSTATUS=ready: %u port(s), %u RX lcore(s)%s", sw->n_ports,
		       sw->n_workers, s->period_tsc != 0 ? ", watchdog on" : "");
	if (s->period_tsc != 0)
		pmx_sd_notify("WATCHDOG=1");
}

void pmx_sd_service_poll(struct pmx_sd_service *s, const struct pmx_switch *sw)
{
	uint64_t now;
	int stalled = -1;

	if (s->period_tsc == 0)
		return;
	now = rte_rdtsc();
	if (now < s->next_tsc)
		return;
	s->next_tsc = now + s->period_tsc;
	for (unsigned w = 0; w < sw->n_workers && stalled < 0; w++)
		if (__atomic_load_n(&sw->workers[w]->loops, __ATOMIC_RELAXED) == s->loops[w])
			stalled = (int)w;
	snapshot_loops(s, sw);
	if (stalled < 0) {
		if (s->stalled >= 0)
			pmx_sd_notifyf("STATUS=ready: %u port(s), %u RX lcore(s), watchdog on",
				       sw->n_ports, sw->n_workers);
		pmx_sd_notify("WATCHDOG=1");
	} else if (stalled != s->stalled) {
		PMX_LOG(ERR, main,
			"watchdog: RX lcore %u made no progress for %.1f s: no keep-alive",
			sw->workers[stalled]->lcore_id,
			(double)s->period_tsc / (double)rte_get_tsc_hz());
		pmx_sd_notifyf("STATUS=RX lcore %u stalled: watchdog not fed",
			       sw->workers[stalled]->lcore_id);
	}
	s->stalled = stalled;
}

void pmx_sd_service_stopping(void)
{
	pmx_sd_notify("STOPPING=1\nSTATUS=stopping: detaching clients, closing ports");
}
