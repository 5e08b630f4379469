/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * ctl.h - the control API (DESIGN.md §4): NDJSON over a UNIX stream socket, served by the
 * management lcore. Everything here runs on the management lcore only; the dataplane is
 * reached through the flow table (RCU) and the client registry.
 */
#ifndef PMX_CTL_H
#define PMX_CTL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "config.h"
#include "pmx_switch.h"

#define PMX_CTL_MAX_REQUEST (64 * 1024)  /**< longer request lines get E2BIG */
#define PMX_CTL_MAX_OUTPUT (4 * 1024 * 1024) /**< unread replies beyond this drop the peer */
#define PMX_CTL_MAX_SESSIONS 1024

/** One connection (or the daemon's own CLI). */
struct pmx_ctl_session {
	int fd;            /**< -1 for the built-in CLI session */
	uid_t uid;         /**< from SO_PEERCRED */
	gid_t gid;
	pid_t pid;
	bool admin;        /**< root or member of control.group */
	int client_id;     /**< -1 until hello */
	char name[PMX_NAME_LEN];
	unsigned n_rules;  /**< rules it owns (quota) */
	size_t rlen;       /**< bytes in rbuf */
	bool discarding;   /**< skipping the rest of an oversize line */
	char rbuf[PMX_CTL_MAX_REQUEST + 1];
	char *wbuf;        /**< replies not yet written */
	size_t wlen;
};

/** The control plane. */
struct pmx_ctl {
	struct pmx_switch *sw;
	const struct pmx_config *cfg;
	int listen_fd;
	int epfd;
	bool has_admin_gid;
	gid_t admin_gid;
	char file_prefix[64];
	enum pmx_kernel_policy policy;
	struct pmx_ctl_session *sessions[PMX_CTL_MAX_SESSIONS];
	struct pmx_ctl_session *client_session[PMX_MAX_CLIENTS]; /**< by client id */
	uint64_t requests;
	uint64_t errors;
};

/**
 * Create the socket (mode and group from cfg) and the epoll set.
 * @return 0 or a negative errno with err filled naming the config key.
 */
int pmx_ctl_init(struct pmx_ctl *ctl, struct pmx_switch *sw, const struct pmx_config *cfg,
		 char *err, size_t errlen);

/** Serve the socket for at most timeout_ms. @return events handled, or -errno. */
int pmx_ctl_poll(struct pmx_ctl *ctl, int timeout_ms);

/** Close every session (detaching clients) and the socket; removes the socket file. */
void pmx_ctl_close(struct pmx_ctl *ctl);

/** Epoll fd, so the daemon can wait on it together with its own fds. */
int pmx_ctl_fd(const struct pmx_ctl *ctl);

/**
 * Execute one request object for session s; returns the reply object (new reference),
 * always {"id":..., "ok":...}. Used by the socket, the CLI and tests.
 */
json_t *pmx_ctl_execute(struct pmx_ctl *ctl, struct pmx_ctl_session *s, json_t *req);

/** Detach the client of session s (if any): rules and rings released. */
void pmx_ctl_session_detach(struct pmx_ctl *ctl, struct pmx_ctl_session *s);

/* ctl_stats.c: read-only views */
json_t *pmx_ctl_stats_json(struct pmx_ctl *ctl);
json_t *pmx_ctl_rules_json(struct pmx_ctl *ctl, int only_owner);
json_t *pmx_ctl_clients_json(struct pmx_ctl *ctl);
json_t *pmx_ctl_rule_json(struct pmx_ctl *ctl, uint32_t rule_id);

/* local_addrs.c: refresh the dataplane's own-address sets (call periodically) */
void pmx_local_addrs_refresh(struct pmx_ctl *ctl);

/* addresses.c: the addresses of port p (configured, else those of its kernel interface) */
unsigned pmx_port_addresses(const struct pmx_ctl *ctl, unsigned p, uint8_t (*out)[16],
			    unsigned max);
/** Format a 16-byte key address (IPv4-mapped shown as dotted quad). */
const char *pmx_addr_str(const uint8_t ip[16], char *buf, size_t len);
/** Parse an IPv4/IPv6 address into key form. 0 or -EINVAL. */
int pmx_addr_parse(const char *s, uint8_t out[16]);

#endif
