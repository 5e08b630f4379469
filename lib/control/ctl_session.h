/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * ctl_session.h - internal to lib/control: the life of a session (ctl_session.c) beyond what
 * ctl.h gives everyone (pmx_ctl_lock(), pmx_ctl_session_detach(), pmx_ctl_log_bad_input()):
 * the control lock's creation and a client's attach. Management thread only.
 */
#ifndef PMX_CTL_SESSION_H
#define PMX_CTL_SESSION_H

#include <jansson.h>

#include "client_registry.h"
#include "ctl.h"
#include "ctl_own_mac.h"

/** Is the peer (primary group gid, process pid) a member of group want? The supplementary
 *  groups come from /proc (ctl_sock.c). */
bool pmx_ctl_in_group(gid_t gid, pid_t pid, gid_t want);

/** Create ctl->lock (recursive). @return 0 or -errno. */
int pmx_ctl_lock_init(struct pmx_ctl *ctl);

/**
 * Attach session s as a client named `name` on NIC port p: its slot and rings (or memif
 * interface) from the registry, its MAC of its own (om->set), and the config rules of its
 * name, returned in *config_rules (rule ids, new reference). Control lock held.
 * @return 0 (info filled, s->client_id set), or the registry's -ENOSPC, -ENODEV,
 *         -EADDRINUSE, -ENOMEM (nothing attached).
 */
int pmx_ctl_session_attach(struct pmx_ctl *ctl, struct pmx_ctl_session *s, unsigned p,
			   enum pmx_channel channel, unsigned n_queues, const char *name,
			   const struct pmx_ctl_own_mac_req *om, struct pmx_attach_info *info,
			   json_t **config_rules);

#endif
