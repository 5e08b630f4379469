/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_ctl.c - fuzz target: the control protocol (request lines -> replies -> switch state)
 * on a switch without ports: one port entry with no ethdev, one RX worker that never runs, in
 * a network namespace of its own (when the process may create one).
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
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "ctl.h"
#include "fuzz.h"

#define MAX_POLLS 100000
#define MAX_REPLIES (8 * 1024 * 1024)

static struct {
	struct pmx_config cfg;
	struct pmx_switch sw;
	struct pmx_ctl ctl;
	char *replies; /* what the socket peer received */
	size_t rlen;
} F;

static const char config_fmt[] =
	"{\"eal\": [], \"ports\": [{\"name\": \"wan0\", \"device\": \"net_null0\","
	" \"exception\": {\"type\": \"none\", \"addresses\": [\"198.18.0.1\", \"fd00::1\"]}}],"
	" \"kernel\": {\"policy\": \"pass\", \"allow\": [\"tcp:22\"]},"
	" \"control\": {\"socket\": \"/tmp/pmx-fuzz-ctl-%d.sock\", \"mode\": \"0600\"},"
	" \"clients\": {\"max\": 4, \"ring_size\": 64, \"max_rules\": 64, \"rule_quota\": 16,"
	" \"low_ports\": [\"udp:53\"]}, \"mbufs\": 1024}";

static void remove_socket(void)
{
	pmx_ctl_close(&F.ctl);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct pmx_switch *sw = &F.sw;
	struct pmx_worker *w;
	char text[1024], err[256];

	(void)argc;
	(void)argv;
	/* a network namespace of its own: the ports it reserves against the kernel and the
	 * kernel's sockets it reads (/proc/net) are none of the machine's */
	if (unshare(CLONE_NEWNET) != 0)
		fprintf(stderr, "fuzz_ctl: no network namespace of its own: %s\n", strerror(errno));
	pmx_fuzz_eal_init();
	snprintf(text, sizeof(text), config_fmt, (int)getpid());
	if (pmx_config_parse(text, "pmx-fuzz", &F.cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_ctl: config: %s\n", err);
		abort();
	}
	sw->cfg = &F.cfg;
	sw->kernel_policy = F.cfg.policy;
	sw->pool = rte_pktmbuf_pool_create(PMX_POOL_NAME, F.cfg.mbufs, 32, 0,
					   RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	sw->ft = pmx_flow_table_create("fuzz_ctl", F.cfg.max_rules, 1, SOCKET_ID_ANY);
	sw->clients = rte_zmalloc(NULL, sizeof(*sw->clients) * F.cfg.clients_max, 0);
	sw->shm = rte_zmalloc(NULL, sizeof(*sw->shm), 0);
	w = rte_zmalloc(NULL, sizeof(*w), RTE_CACHE_LINE_SIZE);
	FUZZ_CHECK(sw->pool && sw->ft && sw->clients && sw->shm && w);
	w->client = rte_zmalloc(NULL, sizeof(*w->client) * F.cfg.clients_max, 0);
	FUZZ_CHECK(w->client != NULL);
	w->sw = sw;
	w->lcore_id = 1;
	sw->workers[0] = w;
	sw->n_workers = 1;
	FUZZ_CHECK(pmx_worker_init(w) == 0); /* its tables and rings, never polled */
	sw->clients_max = F.cfg.clients_max;
	sw->client_lcore_base = 2;
	sw->n_ports = 1;
	snprintf(sw->ports[0].name, sizeof(sw->ports[0].name), "%s", F.cfg.ports[0].name);
	snprintf(sw->ports[0].exc_kind, sizeof(sw->ports[0].exc_kind), "none");
	sw->ports[0].nic = 0; /* no ethdev exists: every ethdev call must fail cleanly */
	sw->ports[0].exc = PMX_PORT_NONE;
	sw->shm->clients_max = sw->clients_max;
	sw->shm->magic = PMX_SHM_MAGIC;
	sw->shm->version = PMX_SHM_VERSION;
	if (pmx_ctl_init(&F.ctl, sw, &F.cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_ctl: control socket: %s\n", err);
		abort();
	}
	snprintf(F.ctl.file_prefix, sizeof(F.ctl.file_prefix), "pmx-fuzz");
	atexit(remove_socket);
	F.replies = malloc(MAX_REPLIES);
	FUZZ_CHECK(F.replies != NULL);
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
	struct pmx_ctl_session *s = calloc(1, sizeof(*s));
	size_t start = 0;

	FUZZ_CHECK(s != NULL);
	s->fd = -1;
	s->client_id = -1;
	s->admin = admin;
	s->uid = admin ? 0 : 65534;
	s->gid = admin ? 0 : 65534;
	s->pid = getpid();
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
	pmx_ctl_session_detach(&F.ctl, s);
	free(s);
}

/* Reads what the daemon wrote; returns 1 at end of stream, 0 otherwise. */
static int drain(int fd)
{
	for (;;) {
		ssize_t r = recv(fd, F.replies + F.rlen, MAX_REPLIES - F.rlen, 0);

		if (r == 0)
			return 1;
		if (r < 0) {
			FUZZ_CHECK(errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNRESET);
			return errno == ECONNRESET;
		}
		F.rlen += (size_t)r;
		FUZZ_CHECK(F.rlen < MAX_REPLIES);
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
	F.rlen = 0;
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
	for (size_t i = 0; i < F.rlen; i++) {
		json_t *reply;

		if (F.replies[i] != '\n')
			continue;
		reply = json_loadb(F.replies + start, i - start, 0, NULL);
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
