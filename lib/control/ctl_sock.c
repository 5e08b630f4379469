/* ctl_sock.c - the control socket: accept, read NDJSON lines, answer within a budget, write replies */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl_rules.h"
#include "ctl_session.h"
#include "metrics.h"
#include "kernel_addrs.h"
#include "pmx_log.h"
#include "port_reserve.h"
#include "sock_path.h"
#include "static_rules.h"
#include "uds_channel.h"
#include "usnetd_sock.h"

#define ACCEPTS_PER_ROUND 16

bool pmx_ctl_in_group(gid_t gid, pid_t pid, gid_t want)
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
		char *save = NULL;

		if (strncmp(line, "Groups:", 7) != 0)
			continue;
		for (char *tok = strtok_r(line + 7, " \t\n", &save); tok;
		     tok = strtok_r(NULL, " \t\n", &save))
			if ((gid_t)strtoul(tok, NULL, 10) == want)
				found = true;
	}
	fclose(f);
	return found;
}

/* The kernel's address events for the ports' interfaces: read when the socket is readable. */
static void kernel_addrs_readable(void *arg)
{
	struct pmx_ctl *ctl = arg;
	int ret = pmx_kernel_addrs_poll(ctl->kaddrs);

	if (ret != 0)
		PMX_LOG(WARNING, ctl, "kernel addresses: netlink: %s", strerror(-ret));
}

/* The set of the ports' kernel interface addresses, filled from a first dump. 0 or -errno. */
static int kernel_addrs_start(struct pmx_ctl *ctl)
{
	const char *names[PMX_MAX_PORTS];

	for (unsigned p = 0; p < ctl->sw->n_ports; p++)
		names[p] = ctl->sw->ports[p].exc_iface;
	ctl->kaddrs = pmx_kernel_addrs_create(names, ctl->sw->n_ports);
	if (ctl->kaddrs == NULL)
		return -ENOMEM;
	ctl->kaddrs_watch.readable = kernel_addrs_readable;
	ctl->kaddrs_watch.arg = ctl;
	return pmx_kernel_addrs_open(ctl->kaddrs);
}

int pmx_ctl_init(struct pmx_ctl *ctl, struct pmx_switch *sw, const struct pmx_config *cfg,
		 char *err, size_t errlen)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct epoll_event ev = {.events = EPOLLIN};
	char dir[sizeof(addr.sun_path)];
	int ret = -ENOMEM, kret;
	char *slash;

	memset(ctl, 0, sizeof(*ctl));
	ctl->sw = sw;
	ctl->cfg = cfg;
	ctl->listen_fd = ctl->epfd = -1;
	ctl->listener_kind = PMX_CTL_LISTENER;
	if (cfg->socket_group[0] != '\0') {
		struct group *gr = getgrnam(cfg->socket_group);

		if (gr == NULL) {
			snprintf(err, errlen, "control.group: no group \"%s\"", cfg->socket_group);
			return -EINVAL;
		}
		ctl->has_admin_gid = true;
		ctl->admin_gid = gr->gr_gid;
	}
	ctl->base = calloc(1, sizeof(*ctl->base));
	ctl->resv = pmx_port_resv_create(pmx_flow_table_id_limit(sw->ft));
	ctl->listen_count = calloc(PMX_CTL_LISTEN_COUNTS, sizeof(*ctl->listen_count));
	if (ctl->base == NULL || ctl->resv == NULL || ctl->listen_count == NULL ||
	    pmx_ctl_lock_init(ctl) != 0) {
		snprintf(err, errlen, "control: out of memory");
		goto fail_free;
	}
	kret = kernel_addrs_start(ctl);
	if (kret != 0) {
		snprintf(err, errlen, "kernel addresses: netlink: %s", strerror(-kret));
		ret = kret;
		goto fail_lock;
	}
	/* the config's rules exist from start-up on, their ports held against the kernel */
	if (pmx_ctl_static_rules_install(ctl, err, errlen) != 0)
		goto fail_lock;

	/* the socket's directory is created if missing (e.g. /run/portmux) */
	snprintf(dir, sizeof(dir), "%s", cfg->socket_path);
	slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0755);
	}
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", cfg->socket_path);
	ret = pmx_sock_path_claim(cfg->socket_path, SOCK_STREAM);
	if (ret < 0) {
		snprintf(err, errlen, "control.socket: %s: %s", cfg->socket_path,
			 ret == -EADDRINUSE ? "another portmuxd is serving it"
			 : ret == -ENOTSOCK ? "exists and is not a socket (not removed)"
					    : strerror(-ret));
		pthread_mutex_destroy(&ctl->lock);
		goto fail_free;
	}
	if (ret == 1)
		PMX_LOG(NOTICE, ctl, "control.socket: %s: removed the socket of a daemon gone",
			cfg->socket_path);
	ctl->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl->listen_fd < 0)
		goto fail_errno;
	if (bind(ctl->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
	    chmod(cfg->socket_path, cfg->socket_mode) != 0 ||
	    (ctl->has_admin_gid && chown(cfg->socket_path, (uid_t)-1, ctl->admin_gid) != 0) ||
	    listen(ctl->listen_fd, 64) != 0)
		goto fail_errno;
	ctl->epfd = epoll_create1(EPOLL_CLOEXEC);
	ev.data.ptr = &ctl->listener_kind;
	if (ctl->epfd < 0 || epoll_ctl(ctl->epfd, EPOLL_CTL_ADD, ctl->listen_fd, &ev) != 0)
		goto fail_errno;
	ctl->kaddrs_watch.fd = pmx_kernel_addrs_fd(ctl->kaddrs);
	if (pmx_ctl_watch(ctl, &ctl->kaddrs_watch) != 0)
		goto fail_errno;
	/* usnetd's own socket, beside ours, when the config asks for it */
	ret = pmx_usnetd_open(ctl, err, errlen);
	if (ret != 0) {
		unlink(cfg->socket_path); /* bound above: ours */
		goto fail_close;
	}
	/* the Prometheus endpoint, when configured: served by this loop too */
	ret = pmx_metrics_http_start(ctl, err, errlen);
	if (ret != 0) {
		pmx_usnetd_close(ctl);
		unlink(cfg->socket_path);
		goto fail_close;
	}
	return 0;

fail_errno:
	ret = -errno;
	snprintf(err, errlen, "control.socket: %s: %s", cfg->socket_path, strerror(-ret));
fail_close:
	if (ctl->listen_fd >= 0)
		close(ctl->listen_fd);
	if (ctl->epfd >= 0)
		close(ctl->epfd);
	ctl->listen_fd = ctl->epfd = -1;
	for (unsigned i = 0; i < cfg->n_rules; i++)
		pmx_ctl_rule_delete(ctl, ctl->static_rule[i]);
fail_lock:
	pthread_mutex_destroy(&ctl->lock);
fail_free:
	pmx_kernel_addrs_destroy(ctl->kaddrs);
	ctl->kaddrs = NULL;
	pmx_port_resv_destroy(ctl->resv);
	free(ctl->listen_count);
	free(ctl->base);
	ctl->resv = NULL;
	ctl->listen_count = NULL;
	ctl->base = NULL;
	return ret;
}

int pmx_ctl_watch(struct pmx_ctl *ctl, struct pmx_ctl_watch *w)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = w};

	w->kind = PMX_CTL_WATCH;
	return epoll_ctl(ctl->epfd, EPOLL_CTL_ADD, w->fd, &ev) == 0 ? 0 : -errno;
}

void pmx_ctl_unwatch(struct pmx_ctl *ctl, struct pmx_ctl_watch *w)
{
	epoll_ctl(ctl->epfd, EPOLL_CTL_DEL, w->fd, NULL);
}

static void session_close(struct pmx_ctl *ctl, struct pmx_ctl_session *s)
{
	pmx_ctl_session_detach(ctl, s);
	for (unsigned i = 0; i < PMX_CTL_MAX_SESSIONS; i++)
		if (ctl->sessions[i] == s)
			ctl->sessions[i] = NULL;
	epoll_ctl(ctl->epfd, EPOLL_CTL_DEL, s->fd, NULL);
	close(s->fd);
	if (s->passing)
		close(s->pass_fd); /* a uds channel's end never handed over */
	free(s->wbuf);
	free(s);
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
	return json_pack("{s:n, s:b, s:{s:s, s:s}}", "id", "ok", 0, "error", "code", code,
			 "message", msg);
}

static void accept_one(struct pmx_ctl *ctl, int fd)
{
	struct pmx_ctl_session *s;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	unsigned slot, same_uid = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0) {
		close(fd);
		return;
	}
	for (slot = 0; slot < PMX_CTL_MAX_SESSIONS; slot++)
		same_uid += ctl->sessions[slot] != NULL && ctl->sessions[slot]->uid == cred.uid;
	for (slot = 0; slot < PMX_CTL_MAX_SESSIONS && ctl->sessions[slot] != NULL; slot++)
		;
	if (slot == PMX_CTL_MAX_SESSIONS ||
	    (cred.uid != 0 && same_uid >= PMX_CTL_SESSIONS_PER_UID)) {
		static const char busy[] =
			"{\"id\":null,\"ok\":false,\"error\":{\"code\":\"EMFILE\","
			"\"message\":\"too many connections\"}}\n";

		if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			PMX_LOG(DEBUG, ctl, "refused connection gone already");
		close(fd);
		PMX_LOG(NOTICE, ctl, "connection of uid %u refused: too many", (unsigned)cred.uid);
		return;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		close(fd);
		return;
	}
	s->kind = PMX_CTL_SESSION;
	s->fd = fd;
	s->uid = cred.uid;
	s->gid = cred.gid;
	s->pid = cred.pid;
	s->client_id = -1;
	s->admin = cred.uid == 0 ||
		   (ctl->has_admin_gid && pmx_ctl_in_group(cred.gid, cred.pid, ctl->admin_gid));
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = s};

	if (epoll_ctl(ctl->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		free(s);
		close(fd);
		return;
	}
	ctl->sessions[slot] = s;
}

static void accept_some(struct pmx_ctl *ctl)
{
	for (unsigned i = 0; i < ACCEPTS_PER_ROUND; i++) {
		int fd = accept4(ctl->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		accept_one(ctl, fd);
	}
}

/* Is there a complete request line in s->rbuf? */
static bool has_line(const struct pmx_ctl_session *s)
{
	return s->rlen > 0 && memchr(s->rbuf, '\n', s->rlen) != NULL;
}

/* Which events s waits for: input only while it has room and its replies are read. */
static void update_interest(struct pmx_ctl *ctl, struct pmx_ctl_session *s)
{
	struct epoll_event ev = {.events = 0, .data.ptr = s};

	if (!s->eof)
		ev.events |= EPOLLRDHUP; /* level-triggered: once seen, it would fire forever */
	if (!s->eof && s->rlen <= PMX_CTL_MAX_REQUEST && s->wlen < PMX_CTL_PAUSE_OUTPUT)
		ev.events |= EPOLLIN;
	if (s->wlen > 0)
		ev.events |= EPOLLOUT;
	epoll_ctl(ctl->epfd, EPOLL_CTL_MOD, s->fd, &ev);
}

/* Send len bytes with fd attached (SCM_RIGHTS) to the first of them. */
static ssize_t send_with_fd(int sock, const char *buf, size_t len, int fd)
{
	char ctl[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctl,
			    .msg_controllen = sizeof(ctl)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &mh, MSG_NOSIGNAL);
}

/* Write what is queued (a descriptor to pass with the bytes of its reply); -1 when the peer
 * is gone. */
static int flush_output(struct pmx_ctl_session *s)
{
	size_t done = 0;

	while (done < s->wlen) {
		bool with_fd = s->passing && done >= s->pass_at;
		size_t upto = s->passing && done < s->pass_at ? s->pass_at : s->wlen;
		ssize_t w = with_fd ? send_with_fd(s->fd, s->wbuf + done, upto - done, s->pass_fd)
				    : send(s->fd, s->wbuf + done, upto - done, MSG_NOSIGNAL);

		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (w <= 0)
			return -1;
		if (with_fd) { /* the client has its end now; ours goes */
			close(s->pass_fd);
			s->passing = false;
		}
		done += (size_t)w;
	}
	if (done > 0) { /* wbuf is NULL until the first reply: memmove(NULL, ...) is undefined */
		memmove(s->wbuf, s->wbuf + done, s->wlen - done);
		s->wlen -= done;
		if (s->passing)
			s->pass_at -= done;
	}
	return 0;
}

static int handle_line(struct pmx_ctl *ctl, struct pmx_ctl_session *s, const char *line, size_t len)
{
	json_error_t jerr;
	json_t *req, *reply;
	char msg[256];

	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0)
		return 0;
	req = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (req == NULL) {
		snprintf(msg, sizeof(msg), "invalid JSON at column %d: %s", jerr.column, jerr.text);
		ctl->requests++;
		ctl->errors++;
		pmx_ctl_log_bad_input(ctl, s, msg);
		return queue_reply(s, error_reply("EINVAL", msg));
	}
	size_t at = s->wlen;

	reply = pmx_ctl_execute(ctl, s, req);
	json_decref(req);
	if (s->passing && s->pass_at == SIZE_MAX)
		s->pass_at = at; /* the descriptor goes with its reply's first byte */
	return queue_reply(s, reply);
}

/* Answer up to PMX_CTL_BUDGET complete lines; -1 closes the session. */
static int serve_lines(struct pmx_ctl *ctl, struct pmx_ctl_session *s)
{
	size_t start = 0;
	int ret = 0;

	for (unsigned n = 0; n < PMX_CTL_BUDGET && !s->closing && s->wlen < PMX_CTL_PAUSE_OUTPUT;
	     n++) {
		char *nl = memchr(s->rbuf + start, '\n', s->rlen - start);
		size_t end;

		if (nl == NULL)
			break;
		end = (size_t)(nl - s->rbuf);
		if (!s->discarding)
			ret = handle_line(ctl, s, s->rbuf + start, end - start);
		s->discarding = false;
		start = end + 1;
		if (ret != 0)
			break;
	}
	memmove(s->rbuf, s->rbuf + start, s->rlen - start);
	s->rlen -= start;
	return ret;
}

/* One recv into the free part of the buffer; -1 when the peer is gone. */
static int read_some(struct pmx_ctl *ctl, struct pmx_ctl_session *s)
{
	ssize_t r;

	if (s->eof || s->rlen > PMX_CTL_MAX_REQUEST)
		return 0;
	r = recv(s->fd, s->rbuf + s->rlen, PMX_CTL_MAX_REQUEST + 1 - s->rlen, 0);
	if (r < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
	if (r == 0) {
		s->eof = true;
		return 0;
	}
	s->rlen += (size_t)r;
	if (s->rlen > PMX_CTL_MAX_REQUEST && !has_line(s)) {
		/* oversize request: answer once, skip up to its newline, stay connected */
		if (!s->discarding) {
			ctl->requests++;
			ctl->errors++;
			pmx_ctl_log_bad_input(ctl, s, "request longer than 64 KiB");
			if (queue_reply(s, error_reply("E2BIG", "request longer than 64 KiB")) != 0)
				return -1;
		}
		s->discarding = true;
		s->rlen = 0;
	}
	return 0;
}

/* Answer, write, decide: -1 when the session is over. */
static int serve(struct pmx_ctl *ctl, struct pmx_ctl_session *s)
{
	if (serve_lines(ctl, s) != 0 || flush_output(s) != 0)
		return -1;
	if (s->eof && !has_line(s) && s->wlen == 0)
		return -1; /* the peer is done and has every reply */
	update_interest(ctl, s);
	return 0;
}

int pmx_ctl_poll(struct pmx_ctl *ctl, int timeout_ms)
{
	struct epoll_event events[32];
	bool backlog = false;
	int n;

	/* sessions with requests left from the last round are served without waiting */
	for (unsigned i = 0; i < PMX_CTL_MAX_SESSIONS && !backlog; i++)
		backlog = ctl->sessions[i] != NULL && has_line(ctl->sessions[i]) &&
			  ctl->sessions[i]->wlen < PMX_CTL_PAUSE_OUTPUT;
	n = epoll_wait(ctl->epfd, events, RTE_DIM(events), backlog ? 0 : timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;

	pmx_ctl_lock(ctl);
	for (int i = 0; i < n; i++) {
		enum pmx_ctl_kind *kind = events[i].data.ptr;
		struct pmx_ctl_session *s;

		if (*kind == PMX_CTL_LISTENER) {
			accept_some(ctl);
			continue;
		}
		if (*kind == PMX_CTL_WATCH) {
			struct pmx_ctl_watch *w = events[i].data.ptr;

			w->readable(w->arg);
			continue;
		}
		s = events[i].data.ptr;
		if (s->closing)
			continue;
		if ((events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) &&
		    read_some(ctl, s) != 0)
			s->closing = true;
		if ((events[i].events & EPOLLERR) ||
		    ((events[i].events & EPOLLHUP) && !(events[i].events & EPOLLIN)))
			s->eof = true;
	}
	/* every session: at most PMX_CTL_BUDGET requests, then the next one */
	for (unsigned i = 0; i < PMX_CTL_MAX_SESSIONS; i++) {
		struct pmx_ctl_session *s = ctl->sessions[i];

		if (s == NULL)
			continue;
		if (!s->closing && (has_line(s) || s->wlen > 0 || s->eof) && serve(ctl, s) != 0)
			s->closing = true;
		if (s->closing) {
			flush_output(s); /* a kicked peer still gets what was queued, if it fits */
			session_close(ctl, s);
		}
	}
	pmx_usnetd_sweep(ctl); /* usnetd's clients that are gone */
	/* the metrics endpoint's timers (its requests came through its watched epoll fd) */
	pmx_metrics_http_poll(ctl);
	pmx_ctl_unlock(ctl);
	return n;
}

void pmx_ctl_close(struct pmx_ctl *ctl)
{
	if (ctl->base == NULL)
		return; /* never initialised, or closed already */
	pmx_ctl_lock(ctl);
	for (unsigned i = 0; i < PMX_CTL_MAX_SESSIONS; i++)
		if (ctl->sessions[i] != NULL)
			session_close(ctl, ctl->sessions[i]);
	pmx_usnetd_close(ctl);
	pmx_uds_channel_fini(ctl); /* its thread, and channels of clients not of a session */
	if (ctl->listen_fd >= 0) {
		close(ctl->listen_fd);
		unlink(ctl->cfg->socket_path);
	}
	pmx_metrics_http_stop(ctl);
	if (ctl->epfd >= 0)
		close(ctl->epfd);
	ctl->listen_fd = ctl->epfd = -1;
	pmx_port_resv_destroy(ctl->resv);
	ctl->resv = NULL;
	pmx_kernel_addrs_destroy(ctl->kaddrs);
	ctl->kaddrs = NULL;
	free(ctl->listen_count);
	ctl->listen_count = NULL;
	free(ctl->base);
	ctl->base = NULL;
	pmx_ctl_unlock(ctl);
}

void pmx_ctl_stop_listening(struct pmx_ctl *ctl)
{
	pmx_usnetd_stop_listening(ctl);
	if (ctl->listen_fd < 0)
		return;
	epoll_ctl(ctl->epfd, EPOLL_CTL_DEL, ctl->listen_fd, NULL);
	close(ctl->listen_fd);
	unlink(ctl->cfg->socket_path);
	ctl->listen_fd = -1;
}

/* Whether session s is a ring client whose peer has not closed the connection. */
static bool ring_client_connected(const struct pmx_ctl *ctl, const struct pmx_ctl_session *s)
{
	char byte;
	ssize_t r;

	if (s == NULL || s->fd < 0 || s->client_id < 0 ||
	    ctl->sw->clients[s->client_id].channel != PMX_CHANNEL_RING)
		return false;
	r = recv(s->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
	return r > 0 || (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR));
}

unsigned pmx_ctl_wait_ring_clients(struct pmx_ctl *ctl, unsigned max_ms)
{
	struct timespec start, now;
	long elapsed_ms;
	unsigned left;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		left = 0;
		for (unsigned i = 0; i < PMX_CTL_MAX_SESSIONS; i++)
			left += ring_client_connected(ctl, ctl->sessions[i]);
		clock_gettime(CLOCK_MONOTONIC, &now);
		elapsed_ms = (now.tv_sec - start.tv_sec) * 1000 +
			     (now.tv_nsec - start.tv_nsec) / 1000000;
		if (left == 0 || elapsed_ms >= max_ms)
			return left;
		usleep(1000);
	}
}
