/* ctl_session.c - the life of a control session: the control lock, a client's attach and
 * detach (slot, rules, reservations, config rules), and rate-limited bad-input logging */
#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "ctl_rules.h"
#include "ctl_session.h"
#include "pmx_log.h"
#include "port_reserve.h"
#include "static_rules.h"

#define BAD_INPUT_LOGS_PER_S 10

int pmx_ctl_lock_init(struct pmx_ctl *ctl)
{
	pthread_mutexattr_t attr;
	int ret;

	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	ret = pthread_mutex_init(&ctl->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	return -ret;
}

void pmx_ctl_lock(struct pmx_ctl *ctl)
{
	pthread_mutex_lock(&ctl->lock);
}

void pmx_ctl_unlock(struct pmx_ctl *ctl)
{
	pthread_mutex_unlock(&ctl->lock);
}

int pmx_ctl_session_attach(struct pmx_ctl *ctl, struct pmx_ctl_session *s, unsigned p,
			   enum pmx_channel channel, unsigned n_queues, const char *name,
			   const struct pmx_ctl_own_mac_req *om, struct pmx_attach_info *info,
			   json_t **config_rules)
{
	int ret;

	info->pid = s->pid; /* whose process must have ended before its mbufs are swept */
	ret = pmx_registry_attach(ctl->sw, (uint16_t)p, channel, n_queues, info);

	if (ret != 0)
		return ret;
	if (om->set)
		pmx_registry_own_mac(ctl->sw, info->client_id, &om->mac, om->addrs, om->n);
	s->client_id = info->client_id;
	s->n_rules = 0;
	snprintf(s->name, sizeof(s->name), "%s", name);
	ctl->client_session[info->client_id] = s;
	PMX_LOG(INFO, ctl, "client %u \"%s\" attached (pid %d, uid %u) on port %s", info->client_id,
		s->name, (int)s->pid, (unsigned)s->uid, ctl->sw->ports[p].name);
	/* the config's rules for this name are its own from now on */
	*config_rules = pmx_ctl_static_rules_adopt(ctl, info->client_id, s->name);
	return 0;
}

void pmx_ctl_session_detach(struct pmx_ctl *ctl, struct pmx_ctl_session *s)
{
	int id = s->client_id;
	unsigned freed;

	if (id < 0)
		return;
	pmx_ctl_lock(ctl);
	pmx_learn_poll(ctl); /* frames it handed over before it left are still sent */
	pmx_ctl_static_rules_orphan(ctl, (uint16_t)id); /* they stay, for the next of that name */
	pmx_ctl_rules_forget_owner(ctl, (uint16_t)id);
	freed = pmx_registry_detach(ctl->sw, (uint16_t)id);
	pmx_port_resv_sweep(ctl->resv, ctl->sw->ft);
	ctl->client_session[id] = NULL;
	s->client_id = -1;
	s->n_rules = 0;
	pmx_ctl_unlock(ctl);
	PMX_LOG(INFO, ctl, "client %d \"%s\" detached, %u queued frames freed", id, s->name, freed);
}

void pmx_ctl_log_bad_input(struct pmx_ctl *ctl, const struct pmx_ctl_session *s, const char *what)
{
	uint64_t now = (uint64_t)time(NULL);

	if (now != ctl->log_window) {
		if (ctl->log_dropped > 0)
			PMX_LOG(NOTICE, ctl, "%llu more bad requests not logged",
				(unsigned long long)ctl->log_dropped);
		ctl->log_window = now;
		ctl->log_count = 0;
		ctl->log_dropped = 0;
	}
	if (ctl->log_count >= BAD_INPUT_LOGS_PER_S) {
		ctl->log_dropped++;
		return;
	}
	ctl->log_count++;
	PMX_LOG(NOTICE, ctl, "bad request from pid %d uid %u: %s", (int)s->pid, (unsigned)s->uid,
		what);
}
