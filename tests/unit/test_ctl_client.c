/* test_ctl_client.c - unit tests of lib/ctl_client, the control socket's client */
/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Covers, negative cases first, each against a tiny server thread on a UNIX socket of its own:
 *  - no socket: -ENOENT at once, -ETIMEDOUT after connect_wait_ms, -ENAMETOOLONG, -EINVAL;
 *  - the server closes in mid-line (-ECONNRESET, then -ENOTCONN for every later call);
 *  - a line over max_line, with and without its newline (-EMSGSIZE);
 *  - a reply to another id, a line that is not JSON, JSON that is not an object (-EPROTO);
 *  - an error reply ({"ok": false}: -PMX_CTL_CLIENT_EREPLY, code and message kept, the
 *    connection still usable), a reply without "ok" (-EPROTO);
 *  - no reply within timeout_ms (-ETIMEDOUT);
 *  - request/response: ids assigned 1, 2, ... (a caller's own id kept), the result; a reply
 *    with id null answers the request (the daemon's answer to what it could not read);
 *  - a reply arriving in pieces, a reply far larger than one read, pipelined requests whose
 *    replies come in one read;
 *  - pmx_ctl_client_peek(): nothing unread, unsolicited bytes, the server gone.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <CUnit/Basic.h>

#include "cunit_run.h"
#include "pmx_ctl_client.h"

/* What the server thread does with its one connection. */
typedef void (*serve_fn)(int fd);

struct server {
	char dir[64];
	char path[96];
	int listen_fd;
	serve_fn serve;
	pthread_t thread;
};

static void *server_main(void *arg)
{
	struct server *s = arg;
	int fd = accept(s->listen_fd, NULL, NULL);

	if (fd >= 0) {
		s->serve(fd);
		close(fd);
	}
	return NULL;
}

/* Listen on a new socket in a directory of its own; serve one connection in a thread. */
static void server_start(struct server *s, serve_fn serve)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};

	snprintf(s->dir, sizeof(s->dir), "/tmp/pmx-ctl-client.XXXXXX");
	CU_ASSERT_FATAL(mkdtemp(s->dir) != NULL);
	snprintf(s->path, sizeof(s->path), "%s/sock", s->dir);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", s->path);
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CU_ASSERT_FATAL(s->listen_fd >= 0);
	CU_ASSERT_FATAL(bind(s->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) == 0);
	CU_ASSERT_FATAL(listen(s->listen_fd, 4) == 0);
	s->serve = serve;
	CU_ASSERT_FATAL(pthread_create(&s->thread, NULL, server_main, s) == 0);
}

static void server_stop(struct server *s)
{
	pthread_join(s->thread, NULL);
	close(s->listen_fd);
	unlink(s->path);
	rmdir(s->dir);
}

/* One request line read by the server (byte by byte: nothing past its newline), parsed. */
static json_t *read_request(int fd)
{
	char line[4096];
	size_t n = 0;

	while (n + 1 < sizeof(line) && recv(fd, line + n, 1, 0) == 1 && line[n] != '\n')
		n++;
	line[n] = '\0';
	return json_loads(line, 0, NULL);
}

static json_int_t request_id(int fd)
{
	json_t *req = read_request(fd);
	json_int_t id = json_integer_value(json_object_get(req, "id"));

	json_decref(req);
	return id;
}

static void send_text(int fd, const char *text)
{
	size_t len = strlen(text);

	CU_ASSERT(send(fd, text, len, MSG_NOSIGNAL) == (ssize_t)len);
}

/* The server's reply to request id: {"id": id, "ok": true, "result": {"n": n}}. */
static void send_ok(int fd, json_int_t id, json_int_t n)
{
	char text[128];

	snprintf(text, sizeof(text), "{\"id\":%lld,\"ok\":true,\"result\":{\"n\":%lld}}\n",
		 (long long)id, (long long)n);
	send_text(fd, text);
}

/* Wait until the client closed its end (the server holds the connection until then). */
static void wait_client_gone(int fd)
{
	char byte;

	while (recv(fd, &byte, 1, 0) > 0)
		;
}

static struct pmx_ctl_client *open_client(struct server *s, unsigned timeout_ms, size_t max_line)
{
	struct pmx_ctl_client_opts opts = {.timeout_ms = timeout_ms, .max_line = max_line};
	struct pmx_ctl_client *c = NULL;

	CU_ASSERT_FATAL(pmx_ctl_client_open(s->path, &opts, &c) == 0);
	return c;
}

/* One request {"cmd": "x"} on c: its return; the result (if any) dropped. */
static int call_x(struct pmx_ctl_client *c)
{
	json_t *req = json_pack("{s:s}", "cmd", "x"), *res = NULL;
	int ret = pmx_ctl_client_call(c, req, &res);

	json_decref(req);
	json_decref(res);
	return ret;
}

/* Run serve on a server, call_x() once, expect want; then, when the connection is out of step
 * (broken), every later call is -ENOTCONN. */
static void expect_call(serve_fn serve, unsigned timeout_ms, size_t max_line, int want, bool broken)
{
	struct server s;
	struct pmx_ctl_client *c;

	server_start(&s, serve);
	c = open_client(&s, timeout_ms, max_line);
	CU_ASSERT_EQUAL(call_x(c), want);
	if (broken)
		CU_ASSERT_EQUAL(call_x(c), -ENOTCONN);
	pmx_ctl_client_close(c);
	server_stop(&s);
}

static void test_no_socket(void)
{
	struct pmx_ctl_client_opts wait = {.connect_wait_ms = 120};
	struct pmx_ctl_client *c = NULL;
	char long_path[200];
	struct timespec t0, t1;
	long ms;

	CU_ASSERT_EQUAL(pmx_ctl_client_open("/nonexistent/pmx.sock", NULL, &c), -ENOENT);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CU_ASSERT_EQUAL(pmx_ctl_client_open("/nonexistent/pmx.sock", &wait, &c), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	CU_ASSERT(ms >= 100); /* it did wait */
	memset(long_path, 'a', sizeof(long_path) - 1);
	long_path[sizeof(long_path) - 1] = '\0';
	CU_ASSERT_EQUAL(pmx_ctl_client_open(long_path, NULL, &c), -ENAMETOOLONG);
	CU_ASSERT_EQUAL(pmx_ctl_client_open(NULL, NULL, &c), -EINVAL);
	CU_ASSERT_PTR_NULL(c);
	pmx_ctl_client_close(NULL);
}

static void serve_close_mid_line(int fd)
{
	request_id(fd);
	send_text(fd, "{\"id\":1,\"ok\":tr");
}

static void test_close_mid_line(void)
{
	expect_call(serve_close_mid_line, 2000, 0, -ECONNRESET, true);
}

static void serve_long_line(int fd)
{
	char text[300];

	request_id(fd);
	memset(text, ' ', sizeof(text) - 1);
	text[0] = '{';
	text[sizeof(text) - 1] = '\0';
	send_text(fd, text); /* no newline: the client must give up without it */
	wait_client_gone(fd);
}

static void serve_long_complete_line(int fd)
{
	char text[300];

	request_id(fd);
	snprintf(text, sizeof(text), "{\"id\":1,\"ok\":true,\"result\":{\"s\":\"%0200d\"}}\n", 0);
	send_text(fd, text);
	wait_client_gone(fd);
}

static void test_oversize_line(void)
{
	expect_call(serve_long_line, 2000, 64, -EMSGSIZE, true);
	expect_call(serve_long_complete_line, 2000, 64, -EMSGSIZE, true);
}

static void serve_wrong_id(int fd)
{
	send_ok(fd, request_id(fd) + 1, 0);
	wait_client_gone(fd);
}

static void test_wrong_id(void)
{
	expect_call(serve_wrong_id, 2000, 0, -EPROTO, true);
}

static void serve_not_json(int fd)
{
	request_id(fd);
	send_text(fd, "{\"id\":1,\"ok\":\n");
	wait_client_gone(fd);
}

static void serve_not_object(int fd)
{
	request_id(fd);
	send_text(fd, "[1, true]\n");
	wait_client_gone(fd);
}

static void serve_no_ok(int fd)
{
	request_id(fd);
	send_text(fd, "{\"id\":1,\"result\":{}}\n");
	wait_client_gone(fd);
}

static void test_malformed(void)
{
	expect_call(serve_not_json, 2000, 0, -EPROTO, true);
	expect_call(serve_not_object, 2000, 0, -EPROTO, true);
	expect_call(serve_no_ok, 2000, 0, -EPROTO, false); /* a reply to it: in step */
}

static void serve_error_then_ok(int fd)
{
	json_int_t id = request_id(fd);
	char text[160];

	snprintf(text, sizeof(text),
		 "{\"id\":%lld,\"ok\":false,\"error\":{\"code\":\"EEXIST\",\"message\":\"taken\"}}"
		 "\n",
		 (long long)id);
	send_text(fd, text);
	send_ok(fd, request_id(fd), 5);
}

static void test_error_reply(void)
{
	struct server s;
	struct pmx_ctl_client *c;
	json_t *req = json_pack("{s:s}", "cmd", "x"), *res = NULL;

	server_start(&s, serve_error_then_ok);
	c = open_client(&s, 0, 0);
	CU_ASSERT_EQUAL(pmx_ctl_client_call(c, req, &res), -PMX_CTL_CLIENT_EREPLY);
	CU_ASSERT_PTR_NULL(res);
	CU_ASSERT_STRING_EQUAL(pmx_ctl_client_error_code(c), "EEXIST");
	CU_ASSERT_STRING_EQUAL(pmx_ctl_client_error_message(c), "taken");
	/* the connection stays in step: the next request gets its answer */
	json_object_del(req, "id");
	CU_ASSERT_EQUAL(pmx_ctl_client_call(c, req, &res), 0);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(res, "n")), 5);
	json_decref(res);
	json_decref(req);
	pmx_ctl_client_close(c);
	server_stop(&s);
}

static void serve_silent(int fd)
{
	request_id(fd);
	wait_client_gone(fd);
}

static void test_timeout(void)
{
	expect_call(serve_silent, 100, 0, -ETIMEDOUT, true);
}

static void serve_echo_ids(int fd)
{
	json_t *req;

	/* every request: result {"n": its id}; the third gets an id-null reply */
	for (int i = 0; i < 3 && (req = read_request(fd)) != NULL; i++) {
		json_int_t id = json_integer_value(json_object_get(req, "id"));

		if (i == 2)
			send_text(fd, "{\"id\":null,\"ok\":false,\"error\":{\"code\":\"EINVAL\","
				      "\"message\":\"invalid JSON\"}}\n");
		else
			send_ok(fd, id, id);
		json_decref(req);
	}
}

static void test_request_response(void)
{
	struct server s;
	struct pmx_ctl_client *c;
	json_t *req = json_pack("{s:s}", "cmd", "x"), *res = NULL, *reply = NULL;
	json_int_t id = 0;

	server_start(&s, serve_echo_ids);
	c = open_client(&s, 2000, 0);
	CU_ASSERT(pmx_ctl_client_fd(c) >= 0);
	CU_ASSERT_EQUAL(pmx_ctl_client_peek(c), 0); /* open, nothing unread */
	CU_ASSERT_EQUAL(pmx_ctl_client_call(c, req, &res), 0);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(req, "id")), 1); /* the client's */
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(res, "n")), 1);
	json_decref(res);
	json_object_set_new(req, "id", json_integer(77)); /* the caller's own: kept */
	CU_ASSERT_EQUAL(pmx_ctl_client_send(c, req, &id), 0);
	CU_ASSERT_EQUAL(id, 77);
	CU_ASSERT_EQUAL(pmx_ctl_client_wait(c, id, &reply), 0);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(reply, "id")), 77);
	CU_ASSERT_EQUAL(pmx_ctl_client_result(c, reply, NULL), 0);
	json_decref(reply);
	json_object_del(req, "id");
	CU_ASSERT_EQUAL(pmx_ctl_client_exchange(c, req, &reply), 0); /* answered with id null */
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(req, "id")), 2);
	CU_ASSERT_EQUAL(pmx_ctl_client_result(c, reply, &res), -PMX_CTL_CLIENT_EREPLY);
	CU_ASSERT_STRING_EQUAL(pmx_ctl_client_error_code(c), "EINVAL");
	json_decref(reply);
	json_decref(req);
	/* not an object: refused before anything is sent */
	req = json_integer(1);
	CU_ASSERT_EQUAL(pmx_ctl_client_send(c, req, &id), -EINVAL);
	json_decref(req);
	pmx_ctl_client_close(c);
	server_stop(&s);
}

/* A large reply (result {"s": 300000 'a'}) sent in pieces, then two pipelined replies in one
 * send. */
static void serve_pieces(int fd)
{
	static char big[300100];
	json_int_t id = request_id(fd), id2, id3;
	size_t len, sent = 0;
	char text[200];

	len = (size_t)snprintf(big, sizeof(big), "{\"id\":%lld,\"ok\":true,\"result\":{\"s\":\"",
			       (long long)id);
	memset(big + len, 'a', 300000);
	len += 300000;
	len += (size_t)snprintf(big + len, sizeof(big) - len, "\"}}\n");
	while (sent < len) { /* 7 bytes, then larger pieces: partial reads on the client side */
		size_t n = sent == 0 ? 7 : (len - sent < 70000 ? len - sent : 70000);

		CU_ASSERT(send(fd, big + sent, n, MSG_NOSIGNAL) == (ssize_t)n);
		sent += n;
		usleep(2000);
	}
	id2 = request_id(fd);
	id3 = request_id(fd);
	snprintf(text, sizeof(text),
		 "{\"id\":%lld,\"ok\":true,\"result\":{\"n\":2}}\n"
		 "{\"id\":%lld,\"ok\":true,\"result\":{\"n\":3}}\n",
		 (long long)id2, (long long)id3);
	send_text(fd, text);
	wait_client_gone(fd);
}

static void test_pieces_and_pipelining(void)
{
	struct server s;
	struct pmx_ctl_client *c;
	json_t *req = json_pack("{s:s}", "cmd", "x"), *res = NULL, *reply;
	json_int_t ids[2];

	server_start(&s, serve_pieces);
	c = open_client(&s, 5000, 0);
	CU_ASSERT_EQUAL(pmx_ctl_client_call(c, req, &res), 0);
	CU_ASSERT_EQUAL(strlen(json_string_value(json_object_get(res, "s")) ?: ""), 300000);
	json_decref(res);
	for (int i = 0; i < 2; i++) {
		json_object_del(req, "id");
		CU_ASSERT_EQUAL(pmx_ctl_client_queue(c, req, &ids[i]), 0);
	}
	CU_ASSERT_EQUAL(ids[0], 2);
	CU_ASSERT_EQUAL(ids[1], 3);
	CU_ASSERT_EQUAL(pmx_ctl_client_flush(c), 0);
	for (int i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL_FATAL(pmx_ctl_client_wait(c, ids[i], &reply), 0);
		CU_ASSERT_EQUAL(pmx_ctl_client_result(c, reply, &res), 0);
		CU_ASSERT_EQUAL(json_integer_value(json_object_get(res, "n")), i + 2);
		json_decref(res);
		json_decref(reply);
	}
	json_decref(req);
	pmx_ctl_client_close(c);
	server_stop(&s);
}

/* Accept, then close at once. */
static void serve_nothing(int fd)
{
	(void)fd;
}

/* Unsolicited bytes, then the end of the connection once the client says it saw them. */
static void serve_unsolicited(int fd)
{
	send_text(fd, "{\"event\":1}\n");
	request_id(fd); /* the client's "seen" */
}

/* Wait (bounded) until c's socket has something to read or hung up. */
static void wait_readable(struct pmx_ctl_client *c)
{
	struct pollfd pfd = {.fd = pmx_ctl_client_fd(c), .events = POLLIN};

	CU_ASSERT_EQUAL(poll(&pfd, 1, 5000), 1);
}

static void test_peek(void)
{
	struct server s;
	struct pmx_ctl_client *c;
	json_t *seen = json_pack("{s:s}", "cmd", "seen");

	server_start(&s, serve_unsolicited);
	c = open_client(&s, 0, 0);
	wait_readable(c);
	CU_ASSERT_EQUAL(pmx_ctl_client_peek(c), 1);
	CU_ASSERT_EQUAL(pmx_ctl_client_peek(c), 1); /* peeking consumes nothing */
	CU_ASSERT_EQUAL(pmx_ctl_client_send(c, seen, NULL), 0);
	server_stop(&s); /* the server closed its end */
	/* the unsolicited line is still unread: the hang-up shows once it is gone */
	CU_ASSERT_EQUAL(pmx_ctl_client_peek(c), 1);
	pmx_ctl_client_close(c);

	/* a server that accepts and closes at once */
	server_start(&s, serve_nothing);
	c = open_client(&s, 0, 0);
	server_stop(&s);
	wait_readable(c);
	CU_ASSERT_EQUAL(pmx_ctl_client_peek(c), -ECONNRESET);
	pmx_ctl_client_close(c);
	json_decref(seen);
}

int main(void)
{
	static const struct cunit_test tests[] = {
		{"no socket", test_no_socket},
		{"server closes mid-line", test_close_mid_line},
		{"oversize line", test_oversize_line},
		{"reply with the wrong id", test_wrong_id},
		{"malformed replies", test_malformed},
		{"error reply", test_error_reply},
		{"no reply in time", test_timeout},
		{"request and response", test_request_response},
		{"partial reads, large reply, pipelining", test_pieces_and_pipelining},
		{"peek", test_peek},
	};

	return cunit_run("ctl_client", NULL, NULL, tests, sizeof(tests) / sizeof(tests[0]));
}
