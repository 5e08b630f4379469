/* ctl_sock.c - the control socket: accept, read NDJSON lines, write replies (management lcore) */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_log.h>

#include "ctl.h"

#define RTE_LOGTYPE_PMX_CTL RTE_LOGTYPE_USER1

static bool in_group(gid_t gid, pid_t pid, gid_t want)
{
	char path[64], line[512];
	bool found = gid == want;
	FILE *f;

	/* supplementary groups of the peer, from /proc (SO_PEERCRED has only the primary) */
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return found;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "Groups:", 7) != 0)
			continue;
		for (char *tok = strtok(line + 7, " \t\n"); tok; tok = strtok(NULL, " \t\n"))
			if ((gid_t)strtoul(tok, NULL, 10) == want)
				found = true;
	}
	fclose(f);
	return found;
}

int pmx_ctl_init(struct pmx_ctl *ctl, struct pmx_switch *sw, const struct pmx_config *cfg,
		 char *err, size_t errlen)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct epoll_event ev = {.events = EPOLLIN};
	char dir[sizeof(addr.sun_path)];
	char *slash;

	memset(ctl, 0, sizeof(*ctl));
	ctl->sw = sw;
	ctl->cfg = cfg;
	ctl->policy = cfg->policy;
	ctl->listen_fd = ctl->epfd = -1;
	if (cfg->socket_group[0] != '\0') {
		struct group *gr = getgrnam(cfg->socket_group);

		if (gr == NULL) {
			snprintf(err, errlen, "control.group: no group \"%s\"", cfg->socket_group);
			return -EINVAL;
		}
		ctl->has_admin_gid = true;
		ctl->admin_gid = gr->gr_gid;
	}

	/* the socket's directory is created if missing (e.g. /run/portmux) */
	snprintf(dir, sizeof(dir), "%s", cfg->socket_path);
	slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0755);
	}
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", cfg->socket_path);
	ctl->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl->listen_fd < 0)
		goto fail_errno;
	unlink(cfg->socket_path);
	if (bind(ctl->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
	    chmod(cfg->socket_path, cfg->socket_mode) != 0 ||
	    (ctl->has_admin_gid && chown(cfg->socket_path, (uid_t)-1, ctl->admin_gid) != 0) ||
	    listen(ctl->listen_fd, 64) != 0)
		goto fail_errno;
	ctl->epfd = epoll_create1(EPOLL_CLOEXEC);
	ev.data.ptr = NULL; /* NULL marks the listening socket */
	if (ctl->epfd < 0 || epoll_ctl(ctl->epfd, EPOLL_CTL_ADD, ctl->listen_fd, &ev) != 0)
		goto fail_errno;
	return 0;

fail_errno:;
	int ret = -errno;

	snprintf(err, errlen, "control.socket: %s: %s", cfg->socket_path, strerror(errno));
	if (ctl->listen_fd >= 0)
		close(ctl->listen_fd);
	if (ctl->epfd >= 0)
		close(ctl->epfd);
	ctl->listen_fd = ctl->epfd = -1;
	return ret;
}

int pmx_ctl_fd(const struct pmx_ctl *ctl)
{
	return ctl->epfd;
}

static void session_close(struct pmx_ctl *ctl, struct pmx_ctl_session *s)
{
	pmx_ctl_session_detach(ctl, s);
	for (unsigned i = 0; i < PMX_CTL_MAX_SESSIONS; i++)
		if (ctl->sessions[i] == s)
			ctl->sessions[i] = NULL;
	epoll_ctl(ctl->epfd, EPOLL_CTL_DEL, s->fd, NULL);
	close(s->fd);
	free(s->wbuf);
	free(s);
}

static void accept_one(struct pmx_ctl *ctl)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP};
	struct pmx_ctl_session *s;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	unsigned slot;
	int fd;

	fd = accept4(ctl->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	for (slot = 0; slot < PMX_CTL_MAX_SESSIONS && ctl->sessions[slot] != NULL; slot++)
		;
	s = slot < PMX_CTL_MAX_SESSIONS ? calloc(1, sizeof(*s)) : NULL;
	if (s == NULL || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0) {
		free(s);
		close(fd);
		return;
	}
	s->fd = fd;
	s->uid = cred.uid;
	s->gid = cred.gid;
	s->pid = cred.pid;
	s->client_id = -1;
	s->admin = cred.uid == 0 ||
		   (ctl->has_admin_gid && in_group(cred.gid, cred.pid, ctl->admin_gid));
	ev.data.ptr = s;
	if (epoll_ctl(ctl->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		free(s);
		close(fd);
		return;
	}
	ctl->sessions[slot] = s;
}

/* Write what is queued; returns -1 when the peer is gone or hopelessly behind. */
static int flush_output(struct pmx_ctl *ctl, struct pmx_ctl_session *s)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = s};

	while (s->wlen > 0) {
		ssize_t w = send(s->fd, s->wbuf, s->wlen, MSG_NOSIGNAL);

		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (w <= 0)
			return -1;
		memmove(s->wbuf, s->wbuf + w, s->wlen - w);
		s->wlen -= w;
	}
	if (s->wlen > 0)
		ev.events |= EPOLLOUT;
	epoll_ctl(ctl->epfd, EPOLL_CTL_MOD, s->fd, &ev);
	return 0;
}

static int queue_reply(struct pmx_ctl_session *s, json_t *reply)
{
	char *text = json_dumps(reply, JSON_COMPACT);
	size_t len;
	char *nbuf;

	json_decref(reply);
	if (text == NULL)
		return -1;
	len = strlen(text);
	if (s->wlen + len + 1 > PMX_CTL_MAX_OUTPUT) {
		free(text);
		return -1; /* the peer does not read its replies */
	}
	nbuf = realloc(s->wbuf, s->wlen + len + 1);
	if (nbuf == NULL) {
		free(text);
		return -1;
	}
	s->wbuf = nbuf;
	memcpy(s->wbuf + s->wlen, text, len);
	s->wbuf[s->wlen + len] = '\n';
	s->wlen += len + 1;
	free(text);
	return 0;
}

static json_t *error_reply(const char *code, const char *msg)
{
	return json_pack("{s:n, s:b, s:{s:s, s:s}}", "id", 0, "ok", 0, "error", "code", code,
			 "message", msg);
}

static int handle_line(struct pmx_ctl *ctl, struct pmx_ctl_session *s, const char *line,
		       size_t len)
{
	json_error_t jerr;
	json_t *req, *reply;
	char msg[256];

	if (len == 0)
		return 0;
	req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (req == NULL) {
		snprintf(msg, sizeof(msg), "invalid JSON at column %d: %s", jerr.column, jerr.text);
		ctl->errors++;
		return queue_reply(s, error_reply("EINVAL", msg));
	}
	reply = pmx_ctl_execute(ctl, s, req);
	json_decref(req);
	return queue_reply(s, reply);
}

/* Read what arrived and answer every complete line; -1 closes the session. */
static int read_input(struct pmx_ctl *ctl, struct pmx_ctl_session *s)
{
	for (;;) {
		ssize_t r = recv(s->fd, s->rbuf + s->rlen, PMX_CTL_MAX_REQUEST + 1 - s->rlen, 0);
		size_t start = 0;

		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (r <= 0)
			return -1;
		s->rlen += r;
		for (size_t i = 0; i < s->rlen; i++) {
			if (s->rbuf[i] != '\n')
				continue;
			if (!s->discarding && handle_line(ctl, s, s->rbuf + start, i - start) != 0)
				return -1;
			s->discarding = false;
			start = i + 1;
			/* a client that detached itself (bye) is done after its reply */
		}
		memmove(s->rbuf, s->rbuf + start, s->rlen - start);
		s->rlen -= start;
		if (s->rlen > PMX_CTL_MAX_REQUEST) {
			/* oversize request: answer once, skip up to its newline, stay connected */
			if (!s->discarding &&
			    queue_reply(s, error_reply("E2BIG", "request longer than 64 KiB")) != 0)
				return -1;
			ctl->errors++;
			s->discarding = true;
			s->rlen = 0;
		}
		if (flush_output(ctl, s) != 0)
			return -1;
	}
}

int pmx_ctl_poll(struct pmx_ctl *ctl, int timeout_ms)
{
	struct epoll_event events[32];
	int n = epoll_wait(ctl->epfd, events, RTE_DIM(events), timeout_ms);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		struct pmx_ctl_session *s = events[i].data.ptr;

		if (s == NULL) {
			accept_one(ctl);
			continue;
		}
		if ((events[i].events & EPOLLIN) && read_input(ctl, s) != 0) {
			session_close(ctl, s);
			continue;
		}
		if ((events[i].events & EPOLLOUT) && flush_output(ctl, s) != 0) {
			session_close(ctl, s);
			continue;
		}
		if (events[i].events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP))
			if (!(events[i].events & EPOLLIN) || read_input(ctl, s) != 0)
				session_close(ctl, s);
	}
	return n;
}

void pmx_ctl_close(struct pmx_ctl *ctl)
{
	for (unsigned i = 0; i < PMX_CTL_MAX_SESSIONS; i++)
		if (ctl->sessions[i] != NULL)
			session_close(ctl, ctl->sessions[i]);
	if (ctl->listen_fd >= 0) {
		close(ctl->listen_fd);
		unlink(ctl->cfg->socket_path);
	}
	if (ctl->epfd >= 0)
		close(ctl->epfd);
	ctl->listen_fd = ctl->epfd = -1;
}
