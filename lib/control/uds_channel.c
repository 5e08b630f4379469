/* uds_channel.c - the uds client channel's control side: a client's socketpair made and
 * published to the I/O thread (uds_pump.c), and clients that closed their end detached */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>

#include "client_registry.h"
#include "ctl_session.h"
#include "pmx_log.h"
#include "uds_channel.h"
#include "uds_pump.h"

/* The pump said a client closed its end: detach it like any client (control lock held). */
static void on_gone(void *arg)
{
	struct pmx_ctl *ctl = arg;
	struct pmx_uds_pump *p = ctl->sw->uds;
	uint64_t v;

	if (read(p->gone_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		PMX_LOG(DEBUG, ctl, "uds: gone read: %s", strerror(errno));
	for (unsigned id = 0; id < ctl->sw->clients_max; id++) {
		const struct pmx_uds_chan *ch = p->chan[id];
		struct pmx_ctl_session *s = ctl->client_session[id];

		if (ch == NULL || !__atomic_load_n(&ch->gone, __ATOMIC_ACQUIRE))
			continue;
		PMX_LOG(INFO, ctl, "client %u closed its uds channel: detached", id);
		if (s != NULL)
			pmx_ctl_session_detach(ctl, s);
		else
			pmx_registry_detach(ctl->sw, (uint16_t)id);
	}
}

/* The first uds client starts the I/O thread and puts its "gone" eventfd in the control loop. */
static int pump_start(struct pmx_ctl *ctl)
{
	struct pmx_uds_pump *p;
	int ret;

	if (ctl->sw->uds != NULL)
		return 0;
	p = pmx_uds_pump_create(ctl->sw);
	if (p == NULL) {
		PMX_LOG(WARNING, ctl, "uds: cannot start the I/O thread: %s", strerror(errno));
		return errno == EMFILE || errno == ENFILE || errno == ENOMEM ? -errno : -EAGAIN;
	}
	p->watch = (struct pmx_ctl_watch){
		.kind = PMX_CTL_WATCH, .fd = p->gone_fd, .readable = on_gone, .arg = ctl};
	ret = pmx_ctl_watch(ctl, &p->watch);
	if (ret != 0) {
		pmx_uds_pump_destroy(p);
		return ret;
	}
	ctl->sw->uds = p;
	return 0;
}

int pmx_uds_channel_open(struct pmx_ctl *ctl, struct pmx_ctl_session *s, unsigned port,
			 const char *name, int sock_type, const struct pmx_ctl_own_mac_req *om,
			 struct pmx_attach_info *info, json_t **config_rules, int *client_fd)
{
	static const struct pmx_ctl_own_mac_req no_mac;
	json_t *rules = NULL;
	int sv[2], ret;

	if (s->client_id >= 0)
		return -EALREADY;
	if (port >= ctl->sw->n_ports || (sock_type != SOCK_DGRAM && sock_type != SOCK_SEQPACKET))
		return -EINVAL;
	pmx_ctl_lock(ctl);
	ret = pump_start(ctl);
	if (ret != 0)
		goto out_unlock;
	if (socketpair(AF_UNIX, sock_type | SOCK_CLOEXEC, 0, sv) != 0) {
		ret = -errno;
		goto out_unlock;
	}
	/* portmuxd's end never blocks; the client's stays as the client would have made it */
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) != 0) {
		ret = -errno;
		goto out_close;
	}
	memset(info, 0, sizeof(*info));
	ret = pmx_ctl_session_attach(ctl, s, port, PMX_CHANNEL_UDS, 1, name ? name : "client",
				     om ? om : &no_mac, info, &rules);
	if (ret != 0)
		goto out_close;
	ret = pmx_uds_pump_add(ctl->sw->uds, info->client_id, sv[0], sock_type);
	if (ret != 0) {
		json_decref(rules);
		pmx_ctl_session_detach(ctl, s);
		goto out_close;
	}
	if (config_rules != NULL)
		*config_rules = rules;
	else
		json_decref(rules);
	*client_fd = sv[1];
	pmx_ctl_unlock(ctl);
	return 0;

out_close:
	close(sv[0]);
	close(sv[1]);
out_unlock:
	pmx_ctl_unlock(ctl);
	return ret;
}

void pmx_uds_channel_close(struct pmx_ctl *ctl, struct pmx_ctl_session *s)
{
	pmx_ctl_session_detach(ctl, s); /* the registry's detach closes the channel */
}

void pmx_uds_channel_fini(struct pmx_ctl *ctl)
{
	struct pmx_uds_pump *p = ctl->sw->uds;

	if (p == NULL)
		return;
	pmx_ctl_unwatch(ctl, &p->watch);
	ctl->sw->uds = NULL;
	pmx_uds_pump_destroy(p);
}
