/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_usnetd.c - fuzz target: usnetd's datagram socket (datagrams -> answers -> switch state)
 * on the unit tests' switch (tests/unit/ctl_fixture.c) with the "usnetd" socket on.
 *
 * An input is datagrams separated by "\n", sent in order from a client socket bound to a path
 * (as usnet_sockets binds one); each is served with pmx_ctl_poll(). When the first byte's bit
 * 0 is set, the client first asks for a channel ({"RequestUDS":["pmx0",<our pid>]}), so the
 * datagrams that follow reach AddMatch, RemoveMatch and DeleteClient as a client's.
 * Invariants checked on every input (a failure aborts):
 *  - every answer comes from the socket's path and is exactly "OK", "ER", "$" (with one
 *    descriptor, no other) or a QueryUsedPortsAnswer object; at most one per datagram;
 *  - after a last "DeleteClient": every slot is free, no rule of a client remains, no mbuf is
 *    in use, no descriptor is left open by the daemon.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>
#include <rte_mempool.h>

#include "ctl_fixture.h"
#include "fuzz.h"

static int client = -1;
static char client_path[108];

static void teardown(void)
{
	if (client >= 0)
		close(client);
	unlink(client_path);
	fx_teardown();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sockaddr_un me = {.sun_family = AF_UNIX};

	(void)argc;
	(void)argv;
	fx_netns_enter("fuzz_usnetd");
	pmx_fuzz_eal_init();
	fx_usnetd = true;
	FUZZ_CHECK(fx_setup() == 0);
	atexit(teardown);
	snprintf(client_path, sizeof(client_path), "%s/fuzz-client", F.dir);
	snprintf(me.sun_path, sizeof(me.sun_path), "%s", client_path);
	client = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	FUZZ_CHECK(client >= 0 && bind(client, (struct sockaddr *)&me, sizeof(me)) == 0);
	return 0;
}

/* Read every answer waiting; check each; return how many came. */
static unsigned drain(void)
{
	static char buf[1 << 16];
	unsigned n = 0;

	for (;;) {
		union {
			char c[CMSG_SPACE(sizeof(int) * 4)];
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
		ssize_t len = recvmsg(client, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		unsigned fds = 0;

		if (len < 0) {
			FUZZ_CHECK(errno == EAGAIN);
			return n;
		}
		n++;
		buf[len] = '\0';
		FUZZ_CHECK(strcmp(from.sun_path, F.usnetd_sock) == 0);
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
			int fd;

			FUZZ_CHECK(c->cmsg_type == SCM_RIGHTS &&
				   c->cmsg_len == CMSG_LEN(sizeof(int)));
			memcpy(&fd, CMSG_DATA(c), sizeof(int));
			close(fd);
			fds++;
		}
		FUZZ_CHECK(fds == (strcmp(buf, "$") == 0 ? 1u : 0u));
		if (strcmp(buf, "OK") != 0 && strcmp(buf, "ER") != 0 && strcmp(buf, "$") != 0) {
			json_t *a = json_loads(buf, 0, NULL);

			FUZZ_CHECK(json_object_get(a, "QueryUsedPortsAnswer") != NULL);
			json_decref(a);
		}
	}
}

static void send_one(const char *d, size_t len)
{
	struct sockaddr_un to = {.sun_family = AF_UNIX};

	snprintf(to.sun_path, sizeof(to.sun_path), "%s", F.usnetd_sock);
	FUZZ_CHECK(sendto(client, d, len, 0, (struct sockaddr *)&to, sizeof(to)) == (ssize_t)len);
	FUZZ_CHECK(pmx_ctl_poll(&F.ctl, 0) >= 0);
	FUZZ_CHECK(drain() <= 1);
}

static void check_clean(void)
{
	struct pmx_flow_table *ft = F.sw.ft;

	for (unsigned c = 0; c < F.sw.clients_max; c++)
		FUZZ_CHECK(F.sw.clients[c].state == PMX_SLOT_FREE);
	for (uint32_t id = 0; id < pmx_flow_table_id_limit(ft); id++)
		FUZZ_CHECK(pmx_flow_table_rule(ft, id) == NULL);
	FUZZ_CHECK(rte_mempool_in_use_count(F.sw.pool) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data + 1, *end = (const char *)data + size;
	char uds[64];

	if (size == 0)
		return 0;
	if (data[0] & 1) {
		snprintf(uds, sizeof(uds), "{\"RequestUDS\":[\"pmx0\",%d]}", (int)getpid());
		send_one(uds, strlen(uds));
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl != NULL ? nl : end) - p);

		send_one(p, len);
		p += len + 1;
	}
	send_one("\"DeleteClient\"", 14);
	check_clean();
	return 0;
}
