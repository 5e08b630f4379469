/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_ctl.c - fuzz target: the control protocol (request lines -> replies -> switch state)
 * on the unit tests' switch (tests/unit/ctl_fixture.c): port entries without ports, one with
 * a kernel path (its ports are reserved), one RX worker that never runs, in a network
 * namespace of its own. Port 0 names ethdev 0, which does not exist: every ethdev call must
 * fail cleanly.
 *
 * The first byte of an input chooses the way in; the rest is request lines:
 *   bit 0 set:   through the real socket: connect, send everything, half-close, serve with
 *                pmx_ctl_poll() until the daemon closes the session (line framing, oversize
 *                lines, partial reads and writes, session close = client detach);
 *   bit 0 clear: each line straight to pmx_ctl_execute() in a session of its own, as an
 *                operator (bit 1 set) or as an unprivileged user (bit 1 clear).
 * Invariants checked on every input (a failure aborts):
 *  - every reply is one JSON object with a boolean "ok"; an error has a string code and
 *    message; a reply carries the request's "id";
 *  - the session ends within a bounded number of polls;
 *  - when its session is gone, a client has nothing left: every slot is free and no rule of
 *    a client remains in the flow table; no mbuf is in use.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_mempool.h>

#include "ctl_fixture.h"
#include "fuzz.h"

#define MAX_POLLS 100000
#define MAX_REPLIES (8 * 1024 * 1024)

static char *replies; /* what the socket peer received */
static size_t rlen;

static void teardown(void)
{
	fx_teardown();
	free(replies);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fx_netns_enter("fuzz_ctl");
	pmx_fuzz_eal_init();
	FUZZ_CHECK(fx_setup() == 0);
	F.sw.ports[0].nic = 0; /* no ethdev exists: every ethdev call must fail cleanly */
	atexit(teardown);
	replies = malloc(MAX_REPLIES);
	FUZZ_CHECK(replies != NULL);
	return 0;
}

/* One reply object: {"id": <the request's>, "ok": bool, "result"|"error": ...}. */
static void check_reply(json_t *reply, json_t *req)
{
	json_t *ok, *id, *error;

	FUZZ_CHECK(json_is_object(reply));
	ok = json_object_get(reply, "ok");
	FUZZ_CHECK(json_is_boolean(ok));
	if (json_is_false(ok)) {
		error = json_object_get(reply, "error");
		FUZZ_CHECK(json_is_object(error));
		FUZZ_CHECK(json_is_string(json_object_get(error, "code")));
		FUZZ_CHECK(json_is_string(json_object_get(error, "message")));
	}
	if (req != NULL && json_is_object(req) && (id = json_object_get(req, "id")) != NULL)
		FUZZ_CHECK(json_equal(id, json_object_get(reply, "id")));
}

/* Each line straight to the command handler, in a session that is not a socket. */
static void run_direct(const char *data, size_t size, bool admin)
{
	struct pmx_ctl_session *s = fx_session(admin, admin ? 0 : 65534);
	size_t start = 0;

	for (size_t i = 0; i <= size; i++) {
		json_t *req, *reply;

		if (i < size && data[i] != '\n')
			continue;
		req = json_loadb(data + start, i - start, JSON_REJECT_DUPLICATES, NULL);
		start = i + 1;
		if (req == NULL)
			continue;
		reply = pmx_ctl_execute(&F.ctl, s, req);
		check_reply(reply, req);
		json_decref(reply);
		json_decref(req);
	}
	fx_session_free(s); /* detaches */
}

/* Reads what the daemon wrote; returns 1 at end of stream, 0 otherwise. */
static int drain(int fd)
{
	for (;;) {
		ssize_t r = recv(fd, replies + rlen, MAX_REPLIES - rlen, 0);

		if (r == 0)
			return 1;
		if (r < 0) {
			FUZZ_CHECK(errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNRESET);
			return errno == ECONNRESET;
		}
		rlen += (size_t)r;
		FUZZ_CHECK(rlen < MAX_REPLIES);
	}
}

/* Through the socket, as a peer that sends everything and then half-closes. */
static void run_socket(const char *data, size_t size)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	size_t sent = 0, start = 0;
	unsigned polls = 0;
	int fd, eof = 0;

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", F.cfg.socket_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0);
	rlen = 0;
	if (size == 0)
		shutdown(fd, SHUT_WR);
	while (!eof) {
		FUZZ_CHECK(++polls < MAX_POLLS);
		if (sent < size) {
			ssize_t w = send(fd, data + sent, size - sent, MSG_NOSIGNAL);

			if (w > 0)
				sent += (size_t)w;
			else
				FUZZ_CHECK(errno == EAGAIN || errno == EPIPE || errno == ECONNRESET);
			if (w < 0 && errno != EAGAIN)
				sent = size; /* the daemon dropped us: nothing more to send */
			if (sent == size)
				shutdown(fd, SHUT_WR);
		}
		FUZZ_CHECK(pmx_ctl_poll(&F.ctl, 0) >= 0);
		eof = drain(fd);
	}
	close(fd);

	/* every complete reply line is a well-formed reply */
	for (size_t i = 0; i < rlen; i++) {
		json_t *reply;

		if (replies[i] != '\n')
			continue;
		reply = json_loadb(replies + start, i - start, 0, NULL);
		FUZZ_CHECK(reply != NULL);
		check_reply(reply, NULL);
		json_decref(reply);
		start = i + 1;
	}
}

/* What a closed session must leave: free slots, no client rules, no mbuf in use. */
static void check_clean(void)
{
	struct pmx_flow_table *ft = F.sw.ft;

	for (unsigned c = 0; c < F.sw.clients_max; c++)
		FUZZ_CHECK(F.sw.clients[c].state == PMX_SLOT_FREE);
	for (uint32_t id = 0; id < pmx_flow_table_id_limit(ft); id++) {
		const struct pmx_rule *r = pmx_flow_table_rule(ft, id);

		if (r == NULL)
			continue;
		FUZZ_CHECK(r->owner >= PMX_MAX_CLIENTS); /* kernel or drop rules of an operator */
		pmx_flow_table_del(ft, id); /* the next input starts from an empty table */
	}
	FUZZ_CHECK(rte_mempool_in_use_count(F.sw.pool) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		run_socket((const char *)data + 1, size - 1);
	else
		run_direct((const char *)data + 1, size - 1, (data[0] & 2) != 0);
	check_clean();
	return 0;
}
