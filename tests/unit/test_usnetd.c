/* test_usnetd.c - unit tests of usnetd's datagram socket: its messages and answers */
/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Covers, negative cases first:
 *  - pmx_usnetd_msg_parse() on a table of datagrams: not JSON, empty, NUL bytes, invalid
 *    UTF-8, oversize, unknown variants, QueryUsedPortsAnswer (the server's), tuple variants
 *    with a wrong shape or types (string PID, negative PID, three items, interface too long),
 *    unit variants with content, two keys; then every one of usnetd's variants as
 *    usnet_sockets' serde writes it, and serde's {"DeleteClient": null} form;
 *  - the socket, from a client socket bound to a path as usnet_sockets binds one: every bad
 *    datagram above is answered exactly "ER" from the socket's path and counted under its
 *    reason in stats "usnetd"; a sender without a path gets nothing and is counted; a
 *    descriptor sent along is closed; RequestNetmapPipe is "ER"; RequestUDS for an unknown
 *    interface, for PID 1 (not the sender's) or 0 is "ER"; AddMatch before RequestUDS is
 *    "ER"; RemoveMatch and DeleteClient are never answered;
 *  - QueryUsedPorts is answered with serde_json's exact bytes, with the rules of a client
 *    of portmux's own socket in it (the same handler as on portmux's socket);
 *  - RequestUDS by a thread of this process: "$" with one SOCK_DGRAM descriptor from the
 *    socket's path; AddMatch "OK", the same again and a match of another client "ER";
 *    the thread ends: its pidfd fires, the client and its rules are gone;
 *  - RequestUDS while every client slot is taken: "ER", no descriptor; once one is free, "$";
 *    DeleteClient detaches it (unanswered, counted).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include <CUnit/Basic.h>

#include "ctl_fixture.h"
#include "cunit_run.h"
#include "usnetd_msg.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *text; /* NULL: see len */
	int ret;
	enum pmx_usnetd_kind kind;
} parse_cases[] = {
	{"", -EINVAL, PMX_USNETD_INVALID},
	{"{", -EINVAL, PMX_USNETD_INVALID},
	{"OK", -EINVAL, PMX_USNETD_INVALID},
	{"\"\xff\xfe\"", -EINVAL, PMX_USNETD_INVALID},
	{"42", -EINVAL, PMX_USNETD_INVALID},
	{"[\"RequestUDS\",\"eth0\",1]", -EINVAL, PMX_USNETD_INVALID},
	{"\"Hello\"", -EINVAL, PMX_USNETD_INVALID},
	{"\"RequestUDS\"", -EINVAL, PMX_USNETD_INVALID},
	{"\"AddMatch\"", -EINVAL, PMX_USNETD_INVALID},
	{"{\"cmd\":\"hello\"}", -EINVAL, PMX_USNETD_INVALID},
	{"{\"QueryUsedPortsAnswer\":{\"listening\":[],\"connected\":[]}}", -EINVAL,
	 PMX_USNETD_INVALID},
	{"{}", -EINVAL, PMX_USNETD_INVALID},
	{"{\"RequestUDS\":[\"eth0\",1],\"AddMatch\":{}}", -EINVAL, PMX_USNETD_INVALID},
	{"{\"RequestUDS\":[\"eth0\",\"42\"]}", -EINVAL, PMX_USNETD_INVALID},
	{"{\"RequestUDS\":[\"eth0\",-1]}", -EINVAL, PMX_USNETD_INVALID},
	{"{\"RequestUDS\":[\"eth0\",1.5]}", -EINVAL, PMX_USNETD_INVALID},
	{"{\"RequestUDS\":[\"eth0\",1,2]}", -EINVAL, PMX_USNETD_INVALID},
	{"{\"RequestUDS\":[\"eth0\"]}", -EINVAL, PMX_USNETD_INVALID},
	{"{\"RequestUDS\":[7,1]}", -EINVAL, PMX_USNETD_INVALID},
	{"{\"RequestUDS\":{\"iface\":\"eth0\",\"pid\":1}}", -EINVAL, PMX_USNETD_INVALID},
	{"{\"RequestUDS\":[\"0123456789012345678901234567890123456789012345678901234567890123\""
	 ",1]}",
	 -EINVAL, PMX_USNETD_INVALID},
	{"{\"RequestNetmapPipe\":null}", -EINVAL, PMX_USNETD_INVALID},
	{"{\"AddMatch\":[1,2]}", -EINVAL, PMX_USNETD_INVALID},
	{"{\"RemoveMatch\":null}", -EINVAL, PMX_USNETD_INVALID},
	{"{\"DeleteClient\":1}", -EINVAL, PMX_USNETD_INVALID},
	{"{\"QueryUsedPorts\":[]}", -EINVAL, PMX_USNETD_INVALID},
	{"\"DeleteClient\" \"DeleteClient\"", -EINVAL, PMX_USNETD_INVALID},
	{"{\"RequestUDS\":[\"eth0\",1],\"RequestUDS\":[\"eth0\",2]}", -EINVAL, PMX_USNETD_INVALID},
	/* what usnet_sockets sends */
	{"{\"RequestUDS\":[\"eth0\",4242]}", 0, PMX_USNETD_REQUEST_UDS},
	{"{\"RequestNetmapPipe\":[\"eth0\",4242]}", 0, PMX_USNETD_REQUEST_NETMAP_PIPE},
	{"\"DeleteClient\"", 0, PMX_USNETD_DELETE_CLIENT},
	{"{\"DeleteClient\":null}", 0, PMX_USNETD_DELETE_CLIENT},
	{"\"QueryUsedPorts\"", 0, PMX_USNETD_QUERY_USED_PORTS},
	{"{\"AddMatch\":{\"dst_addr\":{\"Ipv4\":\"198.18.0.1\"},\"dst_port\":7,\"src_addr\":null,"
	 "\"src_port\":null,\"protocol\":17}}",
	 0, PMX_USNETD_ADD_MATCH},
	{"{\"RemoveMatch\":{\"dst_addr\":{\"Ipv4\":\"198.18.0.1\"},\"dst_port\":7,\"src_addr\":"
	 "null,\"src_port\":null,\"protocol\":17}}",
	 0, PMX_USNETD_REMOVE_MATCH},
};

static void test_parse_table(void)
{
	for (unsigned i = 0; i < ARRAY_SIZE(parse_cases); i++) {
		struct pmx_usnetd_msg m;
		int ret = pmx_usnetd_msg_parse(parse_cases[i].text, strlen(parse_cases[i].text),
					       &m);

		if (ret != parse_cases[i].ret || m.kind != parse_cases[i].kind)
			printf("\n    case %u (%s): ret %d kind %d why \"%s\"\n", i,
			       parse_cases[i].text, ret, m.kind, m.why);
		CU_ASSERT_EQUAL(ret, parse_cases[i].ret);
		CU_ASSERT_EQUAL(m.kind, parse_cases[i].kind);
		CU_ASSERT(ret == 0 || m.why[0] != '\0');
		pmx_usnetd_msg_free(&m);
	}
}

static void test_parse_fields(void)
{
	static const char nul[] = "\"Delete\0Client\"";
	static const char huge[] = "{\"RequestUDS\":[\"pmx0\",18446744073709551615]}";
	static const char uds[] = "{\"RequestUDS\":[\"wan0\",4242]}";
	char big[PMX_USNETD_MAX_MSG + 2];
	struct pmx_usnetd_msg m;

	CU_ASSERT_EQUAL(pmx_usnetd_msg_parse(nul, sizeof(nul) - 1, &m), -EINVAL);
	pmx_usnetd_msg_free(&m);
	memset(big, ' ', sizeof(big));
	memcpy(big, "\"QueryUsedPorts\"", 16);
	CU_ASSERT_EQUAL(pmx_usnetd_msg_parse(big, PMX_USNETD_MAX_MSG, &m), 0);
	pmx_usnetd_msg_free(&m);
	CU_ASSERT_EQUAL(pmx_usnetd_msg_parse(big, PMX_USNETD_MAX_MSG + 1, &m), -E2BIG);
	CU_ASSERT_PTR_NULL(m.doc);
	pmx_usnetd_msg_free(&m);
	CU_ASSERT_EQUAL(pmx_usnetd_msg_parse(huge, strlen(huge), &m),
			-EINVAL); /* jansson's integers end at 2^63 - 1: not a PID anyway */
	pmx_usnetd_msg_free(&m);
	CU_ASSERT_EQUAL(pmx_usnetd_msg_parse(uds, strlen(uds), &m), 0);
	CU_ASSERT_STRING_EQUAL(m.iface, "wan0");
	CU_ASSERT_EQUAL(m.pid, 4242);
	pmx_usnetd_msg_free(&m);
	CU_ASSERT_STRING_EQUAL(pmx_usnetd_kind_name(PMX_USNETD_REQUEST_UDS), "RequestUDS");
	CU_ASSERT_STRING_EQUAL(pmx_usnetd_kind_name((enum pmx_usnetd_kind)99), "invalid");
}

/* A client socket bound to a path of its own, as usnet_sockets binds one. */
static int client_socket(const char *name, struct sockaddr_un *addr)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	snprintf(addr->sun_path, sizeof(addr->sun_path), "%s/%s", F.dir, name);
	unlink(addr->sun_path);
	if (fd < 0 || bind(fd, (struct sockaddr *)addr, sizeof(*addr)) != 0)
		abort();
	return fd;
}

/* Send text (len bytes) to usnetd's socket, serve one round. */
static void send_len(int fd, const void *text, size_t len)
{
	struct sockaddr_un to = {.sun_family = AF_UNIX};

	snprintf(to.sun_path, sizeof(to.sun_path), "%s", F.usnetd_sock);
	CU_ASSERT_EQUAL(sendto(fd, text, len, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)len);
	pmx_ctl_poll(&F.ctl, 0);
}

static void send_text(int fd, const char *text)
{
	send_len(fd, text, strlen(text));
}

/* The next answer (nonblocking: "" when there is none); it must come from the socket's path.
 * *fd_out (when not NULL) gets a descriptor that came with it, or -1. */
static const char *answer(int fd, int *fd_out)
{
	static char buf[PMX_USNETD_MAX_MSG + 1];
	union {
		char c[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctrl;
	struct sockaddr_un from;
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf) - 1};
	struct msghdr msg = {.msg_name = &from,
			     .msg_namelen = sizeof(from),
			     .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = ctrl.c,
			     .msg_controllen = sizeof(ctrl.c)};
	ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

	if (fd_out != NULL)
		*fd_out = -1;
	if (n < 0)
		return "";
	buf[n] = '\0';
	CU_ASSERT_STRING_EQUAL(from.sun_path, F.usnetd_sock);
	CU_ASSERT_FALSE(msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC));
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		CU_ASSERT(c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
			  c->cmsg_len == CMSG_LEN(sizeof(int)));
		if (fd_out != NULL)
			memcpy(fd_out, CMSG_DATA(c), sizeof(int));
	}
	return buf;
}

/* stats.usnetd[key] */
static long long counter(const char *key)
{
	struct pmx_ctl_session *s = fx_session(true, 0);
	json_t *res;
	long long v = -1;

	if (strcmp(fx_call(s, "{\"cmd\": \"stats\"}", &res), "ok") == 0)
		v = json_integer_value(json_object_get(json_object_get(res, "usnetd"), key));
	json_decref(res);
	fx_session_free(s);
	return v;
}

static int suite_init(void)
{
	fx_usnetd = true;
	return fx_setup();
}

static int suite_cleanup(void)
{
	return fx_teardown();
}

static void test_bad_datagrams(void)
{
	static const char *const bad_json[] = {"", "{", "OK", "\"\xff\"", "\"DeleteClient\" 1"};
	static const char *const bad_msg[] = {
		"\"Hello\"", "{\"cmd\":\"stats\"}", "{\"RequestUDS\":[\"pmx0\",\"1\"]}",
		"{\"QueryUsedPortsAnswer\":{\"listening\":[],\"connected\":[]}}",
		"{\"AddMatch\":{\"dst_addr\":{\"Ipv4\":\"198.18.0.1\"},\"dst_port\":\"7\","
		"\"protocol\":17}}"};
	struct sockaddr_un me;
	int fd = client_socket("bad.sock", &me), nopath = socket(AF_UNIX, SOCK_DGRAM, 0);
	long long json0 = counter("bad_json"), msg0 = counter("bad_message");
	char big[PMX_USNETD_MAX_MSG + 100];
	int pair[2];

	for (unsigned i = 0; i < ARRAY_SIZE(bad_json); i++) {
		send_text(fd, bad_json[i]);
		CU_ASSERT_STRING_EQUAL(answer(fd, NULL), "ER");
	}
	CU_ASSERT_EQUAL(counter("bad_json"), json0 + (long long)ARRAY_SIZE(bad_json));
	for (unsigned i = 0; i < ARRAY_SIZE(bad_msg); i++) {
		send_text(fd, bad_msg[i]);
		CU_ASSERT_STRING_EQUAL(answer(fd, NULL), "ER");
	}
	/* the AddMatch with a string port is refused by the AddMatch handler (not a client
	 * either: its arguments are checked first) */
	CU_ASSERT_EQUAL(counter("bad_message") + counter("refused"),
			msg0 + (long long)ARRAY_SIZE(bad_msg));

	memset(big, ' ', sizeof(big));
	memcpy(big, "\"QueryUsedPorts\"", 16);
	send_len(fd, big, sizeof(big));
	CU_ASSERT_STRING_EQUAL(answer(fd, NULL), "ER");
	CU_ASSERT_EQUAL(counter("oversize"), 1);

	/* no path to answer to: counted only */
	send_text(nopath, "\"QueryUsedPorts\"");
	CU_ASSERT_EQUAL(counter("unbound"), 1);
	close(nopath);

	/* a descriptor sent along is closed, the message still answered */
	CU_ASSERT_EQUAL(socketpair(AF_UNIX, SOCK_DGRAM, 0, pair), 0);
	{
		union {
			char c[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} ctrl = {0};
		struct sockaddr_un to = {.sun_family = AF_UNIX};
		struct iovec iov = {.iov_base = "\"Hello\"", .iov_len = 7};
		struct msghdr msg = {.msg_name = &to,
				     .msg_namelen = sizeof(to),
				     .msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = ctrl.c,
				     .msg_controllen = sizeof(ctrl.c)};
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

		snprintf(to.sun_path, sizeof(to.sun_path), "%s", F.usnetd_sock);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pair[1], sizeof(int));
		CU_ASSERT_EQUAL(sendmsg(fd, &msg, 0), 7);
		close(pair[1]);
		pmx_ctl_poll(&F.ctl, 0);
		CU_ASSERT_STRING_EQUAL(answer(fd, NULL), "ER");
		CU_ASSERT_EQUAL(counter("fds_closed"), 1);
		/* every copy of pair[1] is closed: pair[0]'s peer is gone */
		CU_ASSERT_EQUAL(send(pair[0], "x", 1, MSG_DONTWAIT), -1);
		close(pair[0]);
	}
	close(fd);
	unlink(me.sun_path);
}

static void test_refused_requests(void)
{
	static const char add[] = "{\"AddMatch\":{\"dst_addr\":{\"Ipv4\":\"198.18.0.1\"},"
				  "\"dst_port\":4000,\"src_addr\":null,\"src_port\":null,"
				  "\"protocol\":17}}";
	static const char remove[] = "{\"RemoveMatch\":{\"dst_addr\":{\"Ipv4\":\"198.18.0.1\"},"
				     "\"dst_port\":4000,\"src_addr\":null,\"src_port\":null,"
				     "\"protocol\":17}}";
	struct sockaddr_un me;
	int fd = client_socket("refused.sock", &me);
	char text[128];

	send_text(fd, "{\"RequestNetmapPipe\":[\"pmx0\",1]}");
	CU_ASSERT_STRING_EQUAL(answer(fd, NULL), "ER");
	CU_ASSERT_EQUAL(counter("netmap"), 1);
	snprintf(text, sizeof(text), "{\"RequestUDS\":[\"eth9\",%d]}", (int)getpid());
	send_text(fd, text);
	CU_ASSERT_STRING_EQUAL(answer(fd, NULL), "ER");
	send_text(fd, "{\"RequestUDS\":[\"pmx0\",1]}"); /* init is not our task */
	CU_ASSERT_STRING_EQUAL(answer(fd, NULL), "ER");
	send_text(fd, "{\"RequestUDS\":[\"pmx0\",0]}");
	CU_ASSERT_STRING_EQUAL(answer(fd, NULL), "ER");
	send_text(fd, add); /* no RequestUDS yet: not a client */
	CU_ASSERT_STRING_EQUAL(answer(fd, NULL), "ER");
	send_text(fd, remove);
	send_text(fd, "\"DeleteClient\"");
	CU_ASSERT_STRING_EQUAL(answer(fd, NULL), ""); /* never answered */
	CU_ASSERT_EQUAL(counter("attached"), 0);
	close(fd);
	unlink(me.sun_path);
}

static void test_query_used_ports(void)
{
	struct pmx_ctl_session *s = fx_session(false, 65534);
	struct sockaddr_un me;
	int fd = client_socket("query.sock", &me);

	CU_ASSERT(fx_hello(s, "ported") >= 0);
	CU_ASSERT_STRING_EQUAL(fx_call(s,
				       "{\"AddMatch\":{\"dst_addr\":{\"Ipv4\":\"198.18.0.1\"},"
				       "\"dst_port\":4001,\"src_addr\":null,\"src_port\":null,"
				       "\"protocol\":17}}",
				       NULL),
			       "ok");
	send_text(fd, "\"QueryUsedPorts\"");
	CU_ASSERT_STRING_EQUAL(answer(fd, NULL),
			       "{\"QueryUsedPortsAnswer\":{\"listening\":[[17,{\"Ipv4\":"
			       "\"198.18.0.1\"},4001]],\"connected\":[]}}");
	send_text(fd, "{\"QueryUsedPorts\":null}");
	CU_ASSERT_STRING_EQUAL(answer(fd, NULL),
			       "{\"QueryUsedPortsAnswer\":{\"listening\":[[17,{\"Ipv4\":"
			       "\"198.18.0.1\"},4001]],\"connected\":[]}}");
	fx_session_free(s);
	send_text(fd, "\"QueryUsedPorts\"");
	CU_ASSERT_STRING_EQUAL(answer(fd, NULL),
			       "{\"QueryUsedPortsAnswer\":{\"listening\":[],\"connected\":[]}}");
	close(fd);
	unlink(me.sun_path);
}

/* A thread that names itself in RequestUDS (as usnet_sockets sends its thread id) and ends
 * when told. */
static int thread_ready[2], thread_go[2];
static pid_t thread_tid;

static void *thread_main(void *arg)
{
	char c;

	(void)arg;
	thread_tid = (pid_t)syscall(SYS_gettid);
	if (write(thread_ready[1], "r", 1) != 1 || read(thread_go[0], &c, 1) != 1)
		return NULL;
	return NULL;
}

static void test_request_uds(void)
{
	static const char add_fmt[] = "{\"AddMatch\":{\"dst_addr\":{\"Ipv4\":\"198.18.0.1\"},"
				      "\"dst_port\":%d,\"src_addr\":null,\"src_port\":null,"
				      "\"protocol\":17}}";
	struct pmx_ctl_session *other = fx_session(false, 65534), *root = fx_session(true, 0);
	struct sockaddr_un me;
	int fd = client_socket("uds.sock", &me), chan = -1, type = 0;
	socklen_t tlen = sizeof(type);
	pthread_t th;
	char text[256], removal[256], c;
	json_t *res;

	CU_ASSERT_EQUAL(pipe(thread_ready), 0);
	CU_ASSERT_EQUAL(pipe(thread_go), 0);
	CU_ASSERT_EQUAL(pthread_create(&th, NULL, thread_main, NULL), 0);
	CU_ASSERT_EQUAL(read(thread_ready[0], &c, 1), 1);
	snprintf(text, sizeof(text), "{\"RequestUDS\":[\"pmx0\",%d]}", (int)thread_tid);
	send_text(fd, text);
	CU_ASSERT_STRING_EQUAL(answer(fd, &chan), "$");
	CU_ASSERT(chan >= 0);
	CU_ASSERT_EQUAL(getsockopt(chan, SOL_SOCKET, SO_TYPE, &type, &tlen), 0);
	CU_ASSERT_EQUAL(type, SOCK_DGRAM);
	CU_ASSERT_EQUAL(counter("attached"), 1);
	send_text(fd, text); /* the same path again */
	CU_ASSERT_STRING_EQUAL(answer(fd, NULL), "ER");

	snprintf(text, sizeof(text), add_fmt, 5000);
	send_text(fd, text);
	CU_ASSERT_STRING_EQUAL(answer(fd, NULL), "OK");
	send_text(fd, text); /* its own already */
	CU_ASSERT_STRING_EQUAL(answer(fd, NULL), "ER");
	CU_ASSERT(fx_hello(other, "other") >= 0);
	snprintf(text, sizeof(text), add_fmt, 5001);
	CU_ASSERT_STRING_EQUAL(fx_call(other, text, NULL), "ok");
	send_text(fd, text); /* another client's */
	CU_ASSERT_STRING_EQUAL(answer(fd, NULL), "ER");
	snprintf(text, sizeof(text), add_fmt, 5002);
	send_text(fd, text);
	CU_ASSERT_STRING_EQUAL(answer(fd, NULL), "OK");
	send_text(fd, text); /* twice */
	CU_ASSERT_STRING_EQUAL(answer(fd, NULL), "ER");
	snprintf(removal, sizeof(removal), "{\"RemoveMatch\"%s", strchr(text, ':'));
	send_text(fd, removal);
	CU_ASSERT_STRING_EQUAL(answer(fd, NULL), ""); /* RemoveMatch: no answer */
	CU_ASSERT_STRING_EQUAL(fx_call(root, "{\"cmd\": \"rules\"}", &res), "ok");
	CU_ASSERT_EQUAL(json_array_size(json_object_get(res, "rules")), 2); /* 5000, 5001 */
	json_decref(res);

	/* the thread ends: its pidfd fires, the client and its rules go */
	CU_ASSERT_EQUAL(write(thread_go[1], "q", 1), 1);
	pthread_join(th, NULL);
	for (int i = 0; i < 50 && counter("gone") == 0; i++)
		pmx_ctl_poll(&F.ctl, 20);
	CU_ASSERT_EQUAL(counter("gone"), 1);
	CU_ASSERT_STRING_EQUAL(fx_call(root, "{\"cmd\": \"rules\"}", &res), "ok");
	CU_ASSERT_EQUAL(json_array_size(json_object_get(res, "rules")), 1); /* the other's */
	json_decref(res);
	snprintf(text, sizeof(text), add_fmt, 5003);
	send_text(fd, text); /* not a client any more */
	CU_ASSERT_STRING_EQUAL(answer(fd, NULL), "ER");
	/* portmuxd's end is closed: the channel is dead */
	CU_ASSERT_EQUAL(send(chan, "x", 1, MSG_DONTWAIT), -1);
	close(chan);
	close(thread_ready[0]);
	close(thread_ready[1]);
	close(thread_go[0]);
	close(thread_go[1]);
	fx_session_free(other);
	fx_session_free(root);
	close(fd);
	unlink(me.sun_path);
}

static void test_slots_full(void)
{
	struct pmx_ctl_session *s[4];
	struct sockaddr_un me;
	int fd = client_socket("full.sock", &me), chan = -1;
	long long deleted = counter("deleted");
	char text[64];

	for (unsigned i = 0; i < 4; i++) { /* clients.max is 4 */
		s[i] = fx_session(false, 65534);
		CU_ASSERT(fx_hello(s[i], "filler") >= 0);
	}
	snprintf(text, sizeof(text), "{\"RequestUDS\":[\"wan0\",%d]}", (int)getpid());
	send_text(fd, text);
	CU_ASSERT_STRING_EQUAL(answer(fd, &chan), "ER");
	CU_ASSERT_EQUAL(chan, -1);
	fx_session_free(s[3]);
	send_text(fd, text); /* a slot is free again; the process itself is the task */
	CU_ASSERT_STRING_EQUAL(answer(fd, &chan), "$");
	CU_ASSERT(chan >= 0);
	send_text(fd, "\"DeleteClient\"");
	CU_ASSERT_STRING_EQUAL(answer(fd, NULL), "");
	CU_ASSERT_EQUAL(counter("deleted"), deleted + 1);
	if (chan >= 0)
		close(chan);
	for (unsigned i = 0; i < 3; i++)
		fx_session_free(s[i]);
	close(fd);
	unlink(me.sun_path);
}

int main(int argc, char **argv)
{
	static const struct cunit_test tests[] = {
		{"parse: table of datagrams", test_parse_table},
		{"parse: fields, NUL, size limit", test_parse_fields},
		{"socket: bad datagrams answered ER and counted", test_bad_datagrams},
		{"socket: refused requests, unanswered messages", test_refused_requests},
		{"socket: QueryUsedPorts, exact bytes", test_query_used_ports},
		{"socket: RequestUDS, AddMatch, the task ends", test_request_uds},
		{"socket: RequestUDS with every slot taken, DeleteClient", test_slots_full},
	};

	(void)argc;
	fx_eal_init(argv[0]);
	return cunit_run("usnetd", suite_init, suite_cleanup, tests, ARRAY_SIZE(tests));
}
