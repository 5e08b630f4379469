/* usnetd_sock.c - usnetd's datagram control socket (client -> socket -> answer to the client's
 * own path): its clients known by path and task, watched through pidfds until they are gone */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>

#include "client_registry.h"
#include "ctl_session.h"
#include "pmx_afpacket.h"
#include "pmx_log.h"
#include "sock_path.h"
#include "uds_channel.h"
#include "usnetd_msg.h"
#include "usnetd_sock.h"

#define DATAGRAMS_PER_ROUND 32 /* then the other fds of the control loop get their turn */
#define PROBE_EVERY_S 1        /* tasks without a pidfd are looked for this often */
#define SPOOFED_LOG_EVERY_S 10 /* a client's frames refused by anti-spoofing: one line */
#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL /* Linux 6.9: a pidfd for a thread, not only a process */
#endif

struct pmx_usnetd;

/** A client: the path it sent RequestUDS from and the task it named. */
struct usnetd_client {
	struct pmx_ctl_session s;  /**< fd -1; uid/gid of the sender, pid = the task named */
	struct pmx_ctl_watch gone; /**< the task's pidfd (readable once it ended), fd -1: none */
	struct pmx_usnetd *u;
	struct sockaddr_un addr; /**< the client's socket, where answers go */
	char addr_end;           /**< 0: ends a path that fills sun_path (108 bytes) */
	socklen_t addrlen;
	bool dead;               /**< detached: freed by the sweep at the end of the round */
	uint64_t spoofed_seen;   /**< its frames refused by anti-spoofing, as last logged */
	uint64_t spoofed_logged; /**< time(NULL) of that line */
};

struct pmx_usnetd {
	struct pmx_ctl *ctl;
	int fd;
	struct pmx_ctl_watch watch;
	struct usnetd_client *clients[PMX_MAX_CLIENTS];
	uint64_t last_probe; /**< time(NULL) of the last look for tasks without a pidfd */
	struct pmx_usnetd_stats st;
	char buf[PMX_USNETD_MAX_MSG + 1];
};

/** One datagram as it came: who sent it, from where. */
struct datagram {
	struct sockaddr_un from;
	char from_end; /**< 0: ends a path that fills sun_path (108 bytes, no NUL of its own) */
	socklen_t fromlen;
	struct ucred cred; /**< pid 0 when the kernel gave none */
	size_t len;
	bool truncated;
};

_Static_assert(offsetof(struct datagram, from_end) == sizeof(struct sockaddr_un),
	       "a path filling sun_path is read as a string up to from_end");
_Static_assert(offsetof(struct usnetd_client, addr_end) ==
		       offsetof(struct usnetd_client, addr) + sizeof(struct sockaddr_un),
	       "a path filling sun_path is read as a string up to addr_end");

static bool has_path(const struct datagram *d)
{
	return d->fromlen > offsetof(struct sockaddr_un, sun_path) && d->from.sun_path[0] != '\0';
}

/* The sender's path for a log line ("(no path)" for an unbound or abstract socket). */
static const char *path_of(const struct datagram *d)
{
	return has_path(d) ? d->from.sun_path : "(no path)";
}

/* A session standing for the sender of d (one that is not a client), for the checks and
 * logs of the control API. */
static void sender_session(const struct pmx_ctl *ctl, const struct datagram *d,
			   struct pmx_ctl_session *s)
{
	memset(s, 0, sizeof(*s));
	s->kind = PMX_CTL_SESSION;
	s->fd = -1;
	s->uid = d->cred.pid != 0 ? d->cred.uid : (uid_t)-1;
	s->gid = d->cred.pid != 0 ? d->cred.gid : (gid_t)-1;
	s->pid = d->cred.pid;
	s->client_id = -1;
	s->admin = d->cred.pid != 0 &&
		   (d->cred.uid == 0 ||
		    (ctl->has_admin_gid &&
		     pmx_ctl_in_group(d->cred.gid, d->cred.pid, ctl->admin_gid)));
	snprintf(s->name, sizeof(s->name), "usnetd");
}

/* Send bytes (and fd, when >= 0, with SCM_RIGHTS) to addr from the bound socket. */
static int answer_to(struct pmx_usnetd *u, const struct sockaddr_un *addr, socklen_t addrlen,
		     const char *bytes, size_t n, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctrl;
	struct iovec iov = {.iov_base = (void *)(uintptr_t)bytes, .iov_len = n};
	struct msghdr msg = {.msg_name = (void *)(uintptr_t)addr,
			     .msg_namelen = addrlen,
			     .msg_iov = &iov,
			     .msg_iovlen = 1};

	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&ctrl, 0, sizeof(ctrl));
		msg.msg_control = ctrl.buf;
		msg.msg_controllen = sizeof(ctrl.buf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	if (sendmsg(u->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)n) {
		int ret = -errno;

		u->st.send_failed++;
		return ret;
	}
	u->st.answers++;
	return 0;
}

/* "OK", "ER", or a QueryUsedPortsAnswer to the sender of d (it has a path: checked first). */
static void answer(struct pmx_usnetd *u, const struct datagram *d, const char *text)
{
	if (answer_to(u, &d->from, d->fromlen, text, strlen(text), -1) != 0)
		PMX_LOG(DEBUG, ctl, "usnetd: %s did not take an answer", path_of(d));
}

/* A datagram refused: counted, one (rate-limited) log line that says why, and ER. */
static void refuse(struct pmx_usnetd *u, const struct datagram *d, uint64_t *counter,
		   const char *what, const char *why)
{
	struct pmx_ctl_session s;
	char line[256];

	sender_session(u->ctl, d, &s);
	snprintf(line, sizeof(line), "usnetd %s from %.108s refused: %s", what, path_of(d), why);
	pmx_ctl_log_bad_input(u->ctl, &s, line);
	(*counter)++;
	answer(u, d, PMX_USNETD_ER);
}

static struct usnetd_client *client_by_path(struct pmx_usnetd *u, const struct datagram *d)
{
	for (unsigned i = 0; i < PMX_MAX_CLIENTS; i++) {
		struct usnetd_client *c = u->clients[i];

		if (c != NULL && !c->dead && c->addrlen == d->fromlen &&
		    memcmp(&c->addr, &d->from, d->fromlen) == 0)
			return c;
	}
	return NULL;
}

/* The client is gone (its task ended, DeleteClient, kicked): rules and channel go now, the
 * memory at the end of the round (an event of this round may still name its watch). */
static void client_detach(struct usnetd_client *c)
{
	if (c->dead)
		return;
	if (c->gone.fd >= 0)
		pmx_ctl_unwatch(c->u->ctl, &c->gone);
	pmx_ctl_session_detach(c->u->ctl, &c->s);
	c->dead = true;
}

static void client_free(struct pmx_usnetd *u, unsigned i)
{
	struct usnetd_client *c = u->clients[i];

	client_detach(c);
	if (c->gone.fd >= 0)
		close(c->gone.fd);
	u->clients[i] = NULL;
	free(c);
}

/* Its pidfd is readable: the task ended. */
static void task_ended(void *arg)
{
	struct usnetd_client *c = arg;

	if (c->dead)
		return;
	c->u->st.gone++;
	PMX_LOG(INFO, ctl, "usnetd client %.108s: task %d ended, its rules and channel go",
		c->addr.sun_path, (int)c->s.pid);
	client_detach(c);
}

/* A pidfd for task pid (a process or, since Linux 6.9, a thread): fd, or -errno (-ESRCH: no
 * such task; -ENOSYS / -EINVAL: this kernel has no pidfd for it, the task is probed). */
static int task_pidfd(pid_t pid)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);

	if (fd < 0 && errno == EINVAL) /* a thread, not a thread group's leader */
		fd = (int)syscall(SYS_pidfd_open, pid, PIDFD_THREAD);
	return fd >= 0 ? fd : -errno;
}

/* Is task pid alive (as /proc sees it)? */
static bool task_alive(pid_t pid)
{
	char path[32];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	return stat(path, &st) == 0;
}

/* Is task pid one of process tgid's (usnet_sockets names its thread)? */
static bool task_of(pid_t pid, pid_t tgid)
{
	char path[48], line[128];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (f == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "Tgid:", 5) == 0)
			found = strtol(line + 5, NULL, 10) == (long)tgid;
	fclose(f);
	return found;
}

/* The NIC port whose name, wire interface or kernel interface is iface; -1 when none. */
static int port_by_iface(const struct pmx_ctl *ctl, const char *iface)
{
	for (unsigned p = 0; p < ctl->sw->n_ports; p++) {
		const struct pmx_port *port = &ctl->sw->ports[p];
		struct pmx_afp_conf conf;
		char err[128];

		if (strcmp(iface, port->name) == 0 || strcmp(iface, port->exc_iface) == 0)
			return (int)p;
		if (port->afp != NULL && strcmp(iface, pmx_afp_port_iface(port->afp)) == 0)
			return (int)p;
		if (pmx_afp_devargs_match(ctl->cfg->ports[p].device) &&
		    pmx_afp_conf_parse(ctl->cfg->ports[p].device, &conf, err, sizeof(err)) == 0 &&
		    strcmp(iface, conf.iface) == 0)
			return (int)p;
	}
	return -1;
}

/* Why RequestUDS cannot be served (NULL: it can); *port gets the NIC port. */
static const char *uds_refusal(struct pmx_usnetd *u, const struct datagram *d,
			       const struct pmx_usnetd_msg *m, int *port, unsigned *slot)
{
	for (*slot = 0; *slot < PMX_MAX_CLIENTS && u->clients[*slot] != NULL; (*slot)++)
		;
	*port = port_by_iface(u->ctl, m->iface);
	if (client_by_path(u, d) != NULL)
		return "this socket path has a channel already";
	if (*port < 0)
		return "no NIC port has that name, wire or kernel interface";
	if (m->pid == 0 || m->pid > INT32_MAX)
		return "the PID is out of range";
	if (d->cred.pid == 0 || !task_of((pid_t)m->pid, d->cred.pid))
		return "the PID is no task of the sending process";
	if (*slot == PMX_MAX_CLIENTS)
		return "too many usnetd clients";
	return NULL;
}

/* {"RequestUDS": [iface, pid]}: a frame channel, its end passed with "$". */
static void request_uds(struct pmx_usnetd *u, const struct datagram *d,
			const struct pmx_usnetd_msg *m)
{
	struct pmx_attach_info info = {0};
	const char *why;
	char name[PMX_NAME_LEN];
	struct usnetd_client *c;
	unsigned slot;
	int port, fd = -1, ret;

	why = uds_refusal(u, d, m, &port, &slot);
	if (why != NULL)
		return refuse(u, d, &u->st.refused, "RequestUDS", why);
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return refuse(u, d, &u->st.refused, "RequestUDS", "out of memory");
	sender_session(u->ctl, d, &c->s);
	c->s.pid = (pid_t)m->pid;
	c->u = u;
	c->addr = d->from;
	c->addrlen = d->fromlen;
	c->gone = (struct pmx_ctl_watch){
		.fd = task_pidfd(c->s.pid), .readable = task_ended, .arg = c};
	if (c->gone.fd == -ESRCH) {
		free(c);
		return refuse(u, d, &u->st.refused, "RequestUDS", "the task has ended");
	}
	if (c->gone.fd < 0)
		c->gone.fd = -1; /* no pidfd: probed once a second (pmx_usnetd_sweep()) */
	snprintf(name, sizeof(name), "usnetd-%d", (int)c->s.pid);
	ret = pmx_uds_channel_open(u->ctl, &c->s, (unsigned)port, name, SOCK_DGRAM, NULL, &info,
				   NULL, &fd);
	if (ret != 0) {
		if (c->gone.fd >= 0)
			close(c->gone.fd);
		free(c);
		return refuse(u, d, &u->st.refused, "RequestUDS",
			      ret == -ENOSPC ? "all client slots are taken (clients.max)"
			      : ret == -EMFILE || ret == -ENFILE
				      ? "no descriptor left for its channel"
				      : strerror(-ret));
	}
	u->clients[slot] = c;
	/* usnet_sockets' Random and Static MAC settings send from a MAC of the client's own:
	 * learned from its first such frame, or refused with the reason (mac_learn.c) */
	pmx_registry_mac_learn(u->ctl->sw, (uint16_t)info.client_id, PMX_MAC_LEARN_ON);
	ret = answer_to(u, &d->from, d->fromlen, PMX_USNETD_FD, 1, fd);
	close(fd);
	if (ret != 0 || (c->gone.fd >= 0 && pmx_ctl_watch(u->ctl, &c->gone) != 0)) {
		PMX_LOG(NOTICE, ctl, "usnetd RequestUDS from %.108s: %s", path_of(d),
			ret != 0 ? "the client did not take the channel" : "cannot watch its task");
		client_free(u, slot);
		return;
	}
	u->st.attached++;
	PMX_LOG(INFO, ctl, "usnetd client %.108s (task %d): client %u on port %s", path_of(d),
		(int)c->s.pid, info.client_id, u->ctl->sw->ports[port].name);
}

/* AddMatch, RemoveMatch, QueryUsedPorts, DeleteClient: the control API's own handlers
 * (ctl_usnetd.c, through the dispatch table), answered as usnetd answers. */
static void forward(struct pmx_usnetd *u, const struct datagram *d, struct pmx_usnetd_msg *m)
{
	struct usnetd_client *c = client_by_path(u, d);
	struct pmx_ctl_session anon, *s = c != NULL ? &c->s : &anon;
	json_t *reply, *err;
	char *text;
	bool ok;

	if (c == NULL)
		sender_session(u->ctl, d, &anon);
	reply = pmx_ctl_execute(u->ctl, s, m->doc);
	ok = json_is_true(json_object_get(reply, "ok"));
	err = json_object_get(reply, "error");
	if (!ok) {
		char why[200];

		snprintf(why, sizeof(why), "%s: %s",
			 json_string_value(json_object_get(err, "code")),
			 json_string_value(json_object_get(err, "message")));
		uint64_t *counter = strcmp(json_string_value(json_object_get(err, "code")),
					   "EINVAL") == 0
					    ? &u->st.bad_message
					    : &u->st.refused;

		/* usnetd answers AddMatch and QueryUsedPorts only */
		if (m->kind == PMX_USNETD_ADD_MATCH || m->kind == PMX_USNETD_QUERY_USED_PORTS) {
			refuse(u, d, counter, pmx_usnetd_kind_name(m->kind), why);
		} else {
			char line[400];

			(*counter)++;
			snprintf(line, sizeof(line), "usnetd %s from %.108s (not answered): %.200s",
				 pmx_usnetd_kind_name(m->kind), path_of(d), why);
			pmx_ctl_log_bad_input(u->ctl, s, line); /* rate-limited */
		}
	} else if (m->kind == PMX_USNETD_ADD_MATCH) {
		answer(u, d, PMX_USNETD_OK);
	} else if (m->kind == PMX_USNETD_QUERY_USED_PORTS) {
		text = pmx_usnetd_answer_text(json_object_get(reply, "result"));
		if (text != NULL)
			answer(u, d, text);
		free(text);
	} else if (m->kind == PMX_USNETD_DELETE_CLIENT && c != NULL) {
		u->st.deleted++;
		client_detach(c);
	}
	json_decref(reply);
}

/* One datagram, whatever it holds: answered where usnetd answers, counted when bad. */
static void serve(struct pmx_usnetd *u, const struct datagram *d)
{
	struct pmx_usnetd_msg m = {0};
	struct pmx_ctl_session s;
	int ret;

	u->st.datagrams++;
	if (!has_path(d)) {
		u->st.unbound++;
		sender_session(u->ctl, d, &s);
		pmx_ctl_log_bad_input(u->ctl, &s,
				      "usnetd: a datagram from a socket with no path (bind one: "
				      "answers go there)");
		return;
	}
	ret = d->truncated ? -E2BIG : pmx_usnetd_msg_parse(u->buf, d->len, &m);
	if (ret != 0) {
		refuse(u, d,
		       ret == -E2BIG   ? &u->st.oversize
		       : m.doc == NULL ? &u->st.bad_json
				       : &u->st.bad_message,
		       "datagram", d->truncated ? "longer than 4096 bytes" : m.why);
		pmx_usnetd_msg_free(&m);
		return;
	}
	switch (m.kind) {
	case PMX_USNETD_REQUEST_UDS: request_uds(u, d, &m); break;
	case PMX_USNETD_REQUEST_NETMAP_PIPE:
		refuse(u, d, &u->st.netmap, "RequestNetmapPipe",
		       "portmux has no netmap: use RequestUDS (the same frames over a UNIX "
		       "socket)");
		break;
	default: forward(u, d, &m); break;
	}
	pmx_usnetd_msg_free(&m);
}

/* Receive one datagram into u->buf: 1, 0 when there is none, -errno. Descriptors a client
 * sent along are closed. */
static int receive(struct pmx_usnetd *u, struct datagram *d)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int) * 8)];
		struct cmsghdr align;
	} ctrl;
	struct iovec iov = {.iov_base = u->buf, .iov_len = sizeof(u->buf)};
	struct msghdr msg = {.msg_name = &d->from,
			     .msg_namelen = sizeof(d->from),
			     .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = ctrl.buf,
			     .msg_controllen = sizeof(ctrl.buf)};
	ssize_t n;

	memset(d, 0, sizeof(*d));
	n = recvmsg(u->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -errno;
	d->fromlen = msg.msg_namelen;
	d->len = (size_t)n;
	d->truncated = (msg.msg_flags & MSG_TRUNC) || d->len > PMX_USNETD_MAX_MSG;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
			memcpy(&d->cred, CMSG_DATA(c), sizeof(d->cred));
		} else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (size_t i = 0; i < nfd; i++) {
				int fd;

				memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
				close(fd);
				u->st.fds_closed++;
			}
		}
	}
	return 1;
}

static void readable(void *arg)
{
	struct pmx_usnetd *u = arg;
	struct datagram d;

	for (unsigned i = 0; i < DATAGRAMS_PER_ROUND && u->fd >= 0; i++) {
		int ret = receive(u, &d);

		if (ret <= 0) {
			if (ret < 0)
				PMX_LOG(WARNING, ctl, "usnetd socket: %s", strerror(-ret));
			return;
		}
		serve(u, &d);
	}
}

/* Create, bind and publish the socket: 0 or -errno with err filled. */
static int open_socket(struct pmx_usnetd *u, const struct pmx_config *cfg, char *err, size_t errlen)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	gid_t gid = (gid_t)-1;
	int one = 1, ret;

	if (cfg->usnetd_group[0] != '\0') {
		struct group *gr = getgrnam(cfg->usnetd_group);

		if (gr == NULL) {
			snprintf(err, errlen, "usnetd.group: no group \"%s\"", cfg->usnetd_group);
			return -EINVAL;
		}
		gid = gr->gr_gid;
	}
	ret = pmx_sock_path_claim(cfg->usnetd_socket, SOCK_DGRAM);
	if (ret < 0) {
		snprintf(err, errlen, "usnetd.socket: %s: %s", cfg->usnetd_socket,
			 ret == -EADDRINUSE ? "another daemon (usnetd?) is serving it"
			 : ret == -ENOTSOCK ? "exists and is not a socket (not removed)"
					    : strerror(-ret));
		return ret;
	}
	u->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", cfg->usnetd_socket);
	if (u->fd < 0 || setsockopt(u->fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) != 0 ||
	    bind(u->fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
	    chmod(cfg->usnetd_socket, cfg->usnetd_mode) != 0 ||
	    (gid != (gid_t)-1 && chown(cfg->usnetd_socket, (uid_t)-1, gid) != 0)) {
		ret = -errno;
		snprintf(err, errlen, "usnetd.socket: %s: %s", cfg->usnetd_socket, strerror(-ret));
		if (u->fd >= 0) {
			close(u->fd);
			unlink(cfg->usnetd_socket);
		}
		u->fd = -1;
		return ret;
	}
	return 0;
}

int pmx_usnetd_open(struct pmx_ctl *ctl, char *err, size_t errlen)
{
	struct pmx_usnetd *u;
	int ret;

	if (!ctl->cfg->usnetd)
		return 0;
	u = calloc(1, sizeof(*u));
	if (u == NULL) {
		snprintf(err, errlen, "usnetd: out of memory");
		return -ENOMEM;
	}
	u->ctl = ctl;
	ret = open_socket(u, ctl->cfg, err, errlen);
	if (ret != 0) {
		free(u);
		return ret;
	}
	u->watch = (struct pmx_ctl_watch){.fd = u->fd, .readable = readable, .arg = u};
	ret = pmx_ctl_watch(ctl, &u->watch);
	if (ret != 0) {
		snprintf(err, errlen, "usnetd.socket: epoll: %s", strerror(-ret));
		close(u->fd);
		unlink(ctl->cfg->usnetd_socket);
		free(u);
		return ret;
	}
	ctl->usnetd = u;
	PMX_LOG(INFO, ctl, "usnetd's socket: %s", ctl->cfg->usnetd_socket);
	return 0;
}

/* Frames of c refused by anti-spoofing since the last look: one line that says why, at most
 * every SPOOFED_LOG_EVERY_S. A MAC of the client's own (usnet_sockets' Random and Static MAC
 * settings) is learned from its first frame where usnetd.own_macs allows it (mac_learn.c,
 * which logs a refusal and its reason once). */
static void spoofed_log(struct usnetd_client *c, uint64_t now)
{
	struct pmx_client_counters k;

	if (c->dead || c->s.client_id < 0 || now - c->spoofed_logged < SPOOFED_LOG_EVERY_S)
		return;
	pmx_registry_client_counters(c->u->ctl->sw, (uint16_t)c->s.client_id, &k);
	if (k.spoofed == c->spoofed_seen)
		return;
	PMX_LOG(NOTICE, ctl,
		"usnetd client %.108s (client %d): %llu frames refused (drops.spoofed): sent from "
		"a MAC, address or port not its own. A usnetd client sends from the port's MAC "
		"(usnet_sockets' Mac::Passthru) with the addresses and ports it matched, or from a "
		"MAC of its own learned from its first frame (usnetd.own_macs, clients.own_macs) "
		"with the addresses it matched or got by DHCP",
		c->addr.sun_path, c->s.client_id,
		(unsigned long long)(k.spoofed - c->spoofed_seen));
	c->spoofed_seen = k.spoofed;
	c->spoofed_logged = now;
}

void pmx_usnetd_sweep(struct pmx_ctl *ctl)
{
	struct pmx_usnetd *u = ctl->usnetd;
	uint64_t now = (uint64_t)time(NULL);
	bool probe;

	if (u == NULL)
		return;
	probe = now - u->last_probe >= PROBE_EVERY_S;
	if (probe)
		u->last_probe = now;
	for (unsigned i = 0; i < PMX_MAX_CLIENTS; i++) {
		struct usnetd_client *c = u->clients[i];

		if (c == NULL)
			continue;
		if (!c->dead && c->gone.fd < 0 && probe && !task_alive(c->s.pid))
			task_ended(c);
		if (probe)
			spoofed_log(c, now);
		if (!c->dead && c->s.client_id < 0)
			client_detach(c); /* kicked, or its channel was found closed */
		if (c->dead)
			client_free(u, i);
	}
}

void pmx_usnetd_stop_listening(struct pmx_ctl *ctl)
{
	struct pmx_usnetd *u = ctl->usnetd;

	if (u == NULL || u->fd < 0)
		return;
	pmx_ctl_unwatch(ctl, &u->watch);
	close(u->fd);
	unlink(ctl->cfg->usnetd_socket);
	u->fd = -1;
}

void pmx_usnetd_close(struct pmx_ctl *ctl)
{
	struct pmx_usnetd *u = ctl->usnetd;

	if (u == NULL)
		return;
	pmx_usnetd_stop_listening(ctl);
	for (unsigned i = 0; i < PMX_MAX_CLIENTS; i++)
		if (u->clients[i] != NULL)
			client_free(u, i);
	free(u);
	ctl->usnetd = NULL;
}

json_t *pmx_usnetd_stats_json(const struct pmx_ctl *ctl)
{
	const struct pmx_usnetd *u = ctl->usnetd;
	const struct pmx_usnetd_stats *st = &u->st;
	json_t *clients = json_array();

	for (unsigned i = 0; i < PMX_MAX_CLIENTS; i++) {
		const struct usnetd_client *c = u->clients[i];

		if (c != NULL && !c->dead)
			json_array_append_new(
				clients, json_pack("{s:i, s:s, s:i, s:b}", "client_id",
						   c->s.client_id, "path", c->addr.sun_path, "task",
						   (int)c->s.pid, "pidfd", c->gone.fd >= 0));
	}
	return json_pack(
		"{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
		"s:I, s:b, s:I, s:I, s:o}",
		"socket", ctl->cfg->usnetd_socket, "datagrams", (json_int_t)st->datagrams,
		"answers", (json_int_t)st->answers, "refused", (json_int_t)st->refused, "bad_json",
		(json_int_t)st->bad_json, "bad_message", (json_int_t)st->bad_message, "oversize",
		(json_int_t)st->oversize, "unbound", (json_int_t)st->unbound, "send_failed",
		(json_int_t)st->send_failed, "fds_closed", (json_int_t)st->fds_closed, "attached",
		(json_int_t)st->attached, "gone", (json_int_t)st->gone, "deleted",
		(json_int_t)st->deleted, "netmap", (json_int_t)st->netmap, "own_macs",
		ctl->cfg->usnetd_own_macs, "macs_learned", (json_int_t)ctl->mac_learned,
		"macs_refused", (json_int_t)ctl->mac_refused, "clients", clients);
}
