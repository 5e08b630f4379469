/* pmx_ctl_client.c - the control socket's client: JSON requests out, line-delimited replies in */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "pmx_ctl_client.h"

#define FIRST_DELAY_MS 50u /* connect retries: 50 ms, doubling ... */
#define MAX_DELAY_MS 1000u /* ... up to 1 s */
#define READ_CHUNK 65536u  /* free space asked for before each recv */
#define OUT_FIRST 4096u    /* the output buffer's first size */

struct pmx_ctl_client {
	int fd;
	int failed;          /* 0, or the -errno that put the connection out of step */
	unsigned timeout_ms; /* 0: for ever */
	size_t max_line;
	json_int_t next_id;
	char *in; /* received bytes: in[start, end) not parsed yet */
	size_t in_cap, start, end;
	size_t scanned; /* in[start, scanned) holds no newline */
	char *out;      /* queued requests: out[0, out_len) */
	size_t out_cap, out_len;
	char code[32], message[256]; /* the last error reply */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* 0 and *fd connected, or socket()'s/connect()'s -errno. */
static int connect_once(const struct sockaddr_un *addr, int *fd)
{
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		return -errno;
	if (connect(s, (const struct sockaddr *)addr, sizeof(*addr)) != 0) {
		int ret = -errno;

		close(s);
		return ret;
	}
	*fd = s;
	return 0;
}

/* connect(), retried while waiting can help and wait_ms is not over. */
static int connect_wait(const struct sockaddr_un *addr, unsigned wait_ms, int *fd)
{
	uint64_t deadline = now_ms() + wait_ms;
	unsigned delay = FIRST_DELAY_MS;
	int ret;

	while ((ret = connect_once(addr, fd)) != 0) {
		uint64_t now = now_ms();

		if (wait_ms == 0 || (ret != -ENOENT && ret != -ECONNREFUSED && ret != -EAGAIN))
			return ret; /* e.g. -EACCES: waiting would not help */
		if (now >= deadline)
			return -ETIMEDOUT;
		usleep(1000 * (unsigned)(delay < deadline - now ? delay : deadline - now));
		delay = delay * 2 < MAX_DELAY_MS ? delay * 2 : MAX_DELAY_MS;
	}
	return 0;
}

int pmx_ctl_client_open(const char *path, const struct pmx_ctl_client_opts *opts,
			struct pmx_ctl_client **out)
{
	static const struct pmx_ctl_client_opts defaults;
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct pmx_ctl_client *c;
	int ret;

	if (path == NULL || out == NULL)
		return -EINVAL;
	if (opts == NULL)
		opts = &defaults;
	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	memcpy(addr.sun_path, path, strlen(path) + 1);
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->timeout_ms = opts->timeout_ms;
	c->max_line = opts->max_line ? opts->max_line : PMX_CTL_CLIENT_MAX_LINE;
	c->next_id = 1;
	/* both buffers exist from the start: no NULL + 0, no memchr(NULL, ...) */
	c->in_cap = c->max_line + 1 < READ_CHUNK ? c->max_line + 1 : READ_CHUNK;
	c->in = malloc(c->in_cap);
	c->out = malloc(OUT_FIRST);
	c->out_cap = OUT_FIRST;
	if (c->in == NULL || c->out == NULL) {
		ret = -ENOMEM;
		goto fail_free;
	}
	ret = connect_wait(&addr, opts->connect_wait_ms, &c->fd);
	if (ret != 0)
		goto fail_free;
	*out = c;
	return 0;

fail_free:
	free(c->in);
	free(c->out);
	free(c);
	return ret;
}

void pmx_ctl_client_close(struct pmx_ctl_client *c)
{
	if (c == NULL)
		return;
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
}

int pmx_ctl_client_fd(const struct pmx_ctl_client *c)
{
	return c->fd;
}

/* The connection is out of step from now on: ret for this call, -ENOTCONN for later ones. */
static int fail(struct pmx_ctl_client *c, int ret)
{
	c->failed = ret;
	return ret;
}

/* ms left until deadline for poll(): -1 without a timeout, 0 when it passed. */
static int time_left(const struct pmx_ctl_client *c, uint64_t deadline)
{
	uint64_t now;

	if (c->timeout_ms == 0)
		return -1;
	now = now_ms();
	return now >= deadline ? 0 : (int)(deadline - now);
}

/* Wait until fd has events (or -ETIMEDOUT). */
static int wait_fd(struct pmx_ctl_client *c, short events, uint64_t deadline)
{
	struct pollfd pfd = {.fd = c->fd, .events = events};
	int n;

	do
		n = poll(&pfd, 1, time_left(c, deadline));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == 0 ? -ETIMEDOUT : 0;
}

int pmx_ctl_client_queue(struct pmx_ctl_client *c, json_t *req, json_int_t *id)
{
	json_t *given = json_object_get(req, "id");
	json_int_t req_id;
	size_t len;

	if (c->failed != 0)
		return -ENOTCONN;
	if (!json_is_object(req))
		return -EINVAL;
	if (json_is_integer(given)) {
		req_id = json_integer_value(given);
	} else {
		req_id = c->next_id++;
		if (json_object_set_new(req, "id", json_integer(req_id)) != 0)
			return -ENOMEM;
	}
	/* dump in place; when it does not fit, grow to what it needs and dump again */
	len = json_dumpb(req, c->out + c->out_len, c->out_cap - c->out_len, JSON_COMPACT);
	if (len == 0)
		return -ENOMEM;
	if (c->out_len + len + 1 > c->out_cap) {
		size_t cap = (c->out_len + len + 1) * 2;
		char *nbuf = realloc(c->out, cap);

		if (nbuf == NULL)
			return -ENOMEM;
		c->out = nbuf;
		c->out_cap = cap;
		json_dumpb(req, c->out + c->out_len, len, JSON_COMPACT);
	}
	c->out[c->out_len + len] = '\n';
	c->out_len += len + 1;
	if (id != NULL)
		*id = req_id;
	return 0;
}

int pmx_ctl_client_flush(struct pmx_ctl_client *c)
{
	uint64_t deadline = now_ms() + c->timeout_ms;
	size_t done = 0;

	if (c->failed != 0)
		return -ENOTCONN;
	while (done < c->out_len) {
		ssize_t w = send(c->fd, c->out + done, c->out_len - done,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		int ret;

		if (w > 0) {
			done += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			return fail(c, w == 0 ? -EPIPE : -errno);
		ret = wait_fd(c, POLLOUT, deadline); /* the daemon reads slower than we write */
		if (ret != 0)
			return fail(c, ret);
	}
	c->out_len = 0;
	return 0;
}

int pmx_ctl_client_send(struct pmx_ctl_client *c, json_t *req, json_int_t *id)
{
	int ret = pmx_ctl_client_queue(c, req, id);

	return ret != 0 ? ret : pmx_ctl_client_flush(c);
}

/* Room after in[end] for READ_CHUNK bytes, or for the rest of a line of max_line bytes. */
static int make_room(struct pmx_ctl_client *c)
{
	size_t want;
	char *nbuf;

	if (c->start > 0) { /* the parsed part goes: the pending line moves to in[0] */
		memmove(c->in, c->in + c->start, c->end - c->start);
		c->scanned -= c->start;
		c->end -= c->start;
		c->start = 0;
	}
	/* end <= max_line here (next_line() checks first): at least one byte of room */
	want = c->end + READ_CHUNK < c->max_line + 1 ? c->end + READ_CHUNK : c->max_line + 1;
	if (c->in_cap >= want)
		return 0;
	if (c->in_cap * 2 > want && c->in_cap * 2 <= c->max_line + 1)
		want = c->in_cap * 2; /* a long line: double, not one chunk at a time */
	nbuf = realloc(c->in, want);
	if (nbuf == NULL)
		return -ENOMEM;
	c->in = nbuf;
	c->in_cap = want;
	return 0;
}

/* Bytes from the socket into in[end...]: 0, or -ETIMEDOUT, -ECONNRESET (EOF), -errno. */
static int read_more(struct pmx_ctl_client *c, uint64_t deadline)
{
	int ret = make_room(c);

	if (ret != 0)
		return ret;
	for (;;) {
		/* try first: pipelined replies are often there already, poll only when not */
		ssize_t r = recv(c->fd, c->in + c->end, c->in_cap - c->end, MSG_DONTWAIT);

		if (r > 0) {
			c->end += (size_t)r;
			return 0;
		}
		if (r == 0)
			return -ECONNRESET;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		ret = wait_fd(c, POLLIN, deadline);
		if (ret != 0)
			return ret;
	}
}

/* The next line, without its newline, as in[*line_start, +*len). */
static int next_line(struct pmx_ctl_client *c, size_t *line_start, size_t *len)
{
	uint64_t deadline = now_ms() + c->timeout_ms;

	for (;;) {
		char *nl = memchr(c->in + c->scanned, '\n', c->end - c->scanned);
		int ret;

		if (nl != NULL) {
			*line_start = c->start;
			*len = (size_t)(nl - c->in) - c->start;
			c->start = c->scanned = (size_t)(nl - c->in) + 1;
			return *len > c->max_line ? -EMSGSIZE : 0;
		}
		c->scanned = c->end;
		if (c->end - c->start > c->max_line)
			return -EMSGSIZE;
		ret = read_more(c, deadline);
		if (ret != 0)
			return ret;
	}
}

int pmx_ctl_client_wait(struct pmx_ctl_client *c, json_int_t id, json_t **reply)
{
	size_t at, len;
	json_t *r, *rid;
	int ret;

	if (c->failed != 0)
		return -ENOTCONN;
	ret = next_line(c, &at, &len);
	if (ret != 0)
		return fail(c, ret);
	r = json_loadb(c->in + at, len, 0, NULL);
	if (c->start == c->end) /* everything parsed: the next read starts at in[0] */
		c->start = c->end = c->scanned = 0;
	if (!json_is_object(r)) {
		json_decref(r);
		return fail(c, -EPROTO);
	}
	rid = json_object_get(r, "id");
	if (rid != NULL && !json_is_null(rid) &&
	    (!json_is_integer(rid) || json_integer_value(rid) != id)) {
		json_decref(r);
		return fail(c, -EPROTO);
	}
	*reply = r;
	return 0;
}

int pmx_ctl_client_result(struct pmx_ctl_client *c, const json_t *reply, json_t **result)
{
	json_t *ok = json_object_get(reply, "ok"), *error, *res;

	if (json_is_true(ok)) {
		if (result == NULL)
			return 0;
		res = json_object_get(reply, "result");
		*result = res != NULL ? json_incref(res) : json_object();
		return *result != NULL ? 0 : -ENOMEM;
	}
	if (!json_is_false(ok))
		return -EPROTO;
	error = json_object_get(reply, "error");
	snprintf(c->code, sizeof(c->code), "%s",
		 json_string_value(json_object_get(error, "code")) ?: "");
	snprintf(c->message, sizeof(c->message), "%s",
		 json_string_value(json_object_get(error, "message")) ?: "");
	return -PMX_CTL_CLIENT_EREPLY;
}

int pmx_ctl_client_exchange(struct pmx_ctl_client *c, json_t *req, json_t **reply)
{
	json_int_t id;
	int ret = pmx_ctl_client_send(c, req, &id);

	return ret != 0 ? ret : pmx_ctl_client_wait(c, id, reply);
}

int pmx_ctl_client_call(struct pmx_ctl_client *c, json_t *req, json_t **result)
{
	json_t *reply;
	int ret = pmx_ctl_client_exchange(c, req, &reply);

	if (ret != 0)
		return ret;
	ret = pmx_ctl_client_result(c, reply, result);
	json_decref(reply);
	return ret;
}

const char *pmx_ctl_client_error_code(const struct pmx_ctl_client *c)
{
	return c->code;
}

const char *pmx_ctl_client_error_message(const struct pmx_ctl_client *c)
{
	return c->message;
}

int pmx_ctl_client_peek(const struct pmx_ctl_client *c)
{
	char byte;
	ssize_t r = recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);

	if (r > 0)
		return 1;
	if (r == 0)
		return -ECONNRESET;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	return errno == ECONNRESET || errno == EPIPE ? -ECONNRESET : -errno;
}
