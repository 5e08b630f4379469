/* portmux_client.c - libportmux-client: control-socket requests, secondary EAL attach, close */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <jansson.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf_dyn.h>
#include <rte_memzone.h>
#include <rte_mempool.h>

#include "client_private.h"
#include "portmux_client.h"

static const struct {
	const char *code;
	int err;
} error_codes[] = {
	{"EADDRINUSE", EADDRINUSE}, {"EEXIST", EEXIST},   {"EACCES", EACCES},
	{"EPERM", EPERM},           {"EDQUOT", EDQUOT},   {"ENOENT", ENOENT},
	{"ENOSPC", ENOSPC},         {"ENODEV", ENODEV},   {"ENOTSUP", ENOTSUP},
	{"EADDRNOTAVAIL", EADDRNOTAVAIL}, {"ENOTCONN", ENOTCONN}, {"EALREADY", EALREADY},
	{"EROFS", EROFS},
};

static int errno_of(const char *code)
{
	for (size_t i = 0; i < sizeof(error_codes) / sizeof(error_codes[0]); i++)
		if (strcmp(error_codes[i].code, code) == 0)
			return error_codes[i].err;
	return EINVAL;
}

static int connect_socket(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}

/* Blocking line exchange on fd: send a line, read one line back (malloc'd). */
static int exchange(int fd, const char *line, char **reply)
{
	size_t len = strlen(line), cap = 4096, got = 0;
	char *buf;

	if (send(fd, line, len, MSG_NOSIGNAL) != (ssize_t)len ||
	    send(fd, "\n", 1, MSG_NOSIGNAL) != 1)
		return -EIO;
	buf = malloc(cap);
	if (buf == NULL)
		return -ENOMEM;
	for (;;) {
		ssize_t r;

		if (got + 1 == cap) {
			char *nbuf = realloc(buf, cap * 2);

			if (nbuf == NULL) {
				free(buf);
				return -ENOMEM;
			}
			buf = nbuf;
			cap *= 2;
		}
		r = recv(fd, buf + got, 1, 0); /* one byte at a time: replies are rare and short */
		if (r <= 0) {
			free(buf);
			return -EIO;
		}
		if (buf[got] == '\n')
			break;
		got++;
	}
	buf[got] = '\0';
	*reply = buf;
	return 0;
}

int pmx_client_request(struct pmx_client *c, const char *request, char **reply)
{
	return exchange(c->fd, request, reply);
}

/* Send a request object (stolen) and return the result object (new ref) or -errno. */
static int call(int fd, uint32_t id, json_t *req, json_t **result)
{
	char *text, *line = NULL;
	json_t *reply;
	int ret;

	json_object_set_new(req, "id", json_integer(id));
	text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (text == NULL)
		return -ENOMEM;
	ret = exchange(fd, text, &line);
	free(text);
	if (ret != 0)
		return ret;
	reply = json_loads(line, 0, NULL);
	free(line);
	if (reply == NULL)
		return -EPROTO;
	if (json_is_true(json_object_get(reply, "ok"))) {
		if (result != NULL)
			*result = json_incref(json_object_get(reply, "result"));
		ret = 0;
	} else {
		const char *code = json_string_value(
			json_object_get(json_object_get(reply, "error"), "code"));

		ret = -errno_of(code ? code : "");
	}
	json_decref(reply);
	return ret;
}

/* "0-1" style list of the CPUs this process may run on, for --lcores ID@(CPUS). */
static void cpu_list(char *buf, size_t len)
{
	cpu_set_t set;
	size_t off = 0;

	buf[0] = '\0';
	if (sched_getaffinity(0, sizeof(set), &set) != 0) {
		snprintf(buf, len, "0");
		return;
	}
	for (int cpu = 0; cpu < CPU_SETSIZE && off + 8 < len; cpu++)
		if (CPU_ISSET(cpu, &set))
			off += snprintf(buf + off, len - off, "%s%d", off ? "," : "", cpu);
}

static int start_eal(struct pmx_client *c, const struct pmx_client_params *p,
		     const char *file_prefix)
{
	char prefix_arg[128], lcores_arg[640], cpus[512];
	char *argv[64];
	int argc = 0, ret;

	cpu_list(cpus, sizeof(cpus));
	snprintf(prefix_arg, sizeof(prefix_arg), "--file-prefix=%s", file_prefix);
	snprintf(lcores_arg, sizeof(lcores_arg), "--lcores=%u@(%s)", c->lcore_id, cpus);
	argv[argc++] = (char *)(p->name ? p->name : "portmux-client");
	argv[argc++] = (char *)"--proc-type=secondary";
	argv[argc++] = prefix_arg;
	argv[argc++] = lcores_arg;
	argv[argc++] = (char *)"--no-pci";
	argv[argc++] = (char *)"--no-telemetry";
	argv[argc++] = (char *)"--log-level=lib.eal:warning";
	for (int i = 0; i < p->eal_argc && argc < 63; i++)
		argv[argc++] = p->eal_argv[i];
	argv[argc] = NULL;
	ret = rte_eal_init(argc, argv);
	return ret < 0 ? -rte_errno : 0;
}

static int attach_shared(struct pmx_client *c, json_t *res)
{
	const struct rte_memzone *mz = rte_memzone_lookup(PMX_SHM_MZ_NAME);
	json_t *rx = json_object_get(res, "rx_rings"), *tx = json_object_get(res, "tx_rings");
	const char *pool = json_string_value(json_object_get(res, "mempool"));

	c->n_queues = (unsigned)json_array_size(rx);
	if (mz == NULL || pool == NULL || c->n_queues == 0 || c->n_queues > PMX_MAX_QUEUES ||
	    json_array_size(tx) != c->n_queues)
		return -EPROTO;
	c->shm = mz->addr;
	if (c->shm->magic != PMX_SHM_MAGIC || c->shm->version != PMX_SHM_VERSION)
		return -EPROTO;
	for (unsigned q = 0; q < c->n_queues; q++) {
		const char *rx_name = json_string_value(json_array_get(rx, q));
		const char *tx_name = json_string_value(json_array_get(tx, q));

		c->rx[q] = rx_name ? rte_ring_lookup(rx_name) : NULL;
		c->tx[q] = tx_name ? rte_ring_lookup(tx_name) : NULL;
		if (c->rx[q] == NULL || c->tx[q] == NULL)
			return -EPROTO;
	}
	/* the latency histograms of this slot's queues, and the stamp the switch writes */
	mz = rte_memzone_lookup(PMX_LAT_MZ_NAME);
	if (mz == NULL || c->id >= c->shm->clients_max ||
	    mz->len < sizeof(struct pmx_lat_block) * PMX_MAX_QUEUES * (c->id + 1u))
		return -EPROTO;
	for (unsigned q = 0; q < c->n_queues; q++)
		c->lat[q] = (struct pmx_lat_block *)mz->addr + c->id * PMX_MAX_QUEUES + q;
	c->rx_tsc_off = rte_mbuf_dynfield_lookup(PMX_RX_TSC_DYNFIELD, NULL);
	if (c->rx_tsc_off < 0)
		return -EPROTO;
	c->pool = rte_mempool_lookup(pool);
	return c->pool ? 0 : -EPROTO;
}

static void read_identity(struct pmx_client *c, json_t *res)
{
	json_t *addrs = json_object_get(res, "addresses"), *a;
	size_t i;

	c->id = (uint16_t)json_integer_value(json_object_get(res, "client_id"));
	c->generation = (uint32_t)json_integer_value(json_object_get(res, "generation"));
	c->lcore_id = (unsigned)json_integer_value(json_object_get(res, "lcore"));
	c->port = (uint16_t)json_integer_value(json_object_get(res, "port"));
	rte_ether_unformat_addr(json_string_value(json_object_get(res, "mac")), &c->mac);
	json_array_foreach(addrs, i, a) {
		uint8_t *out = c->addresses[c->n_addresses];
		const char *s = json_string_value(a);

		if (c->n_addresses == 16 || s == NULL)
			break;
		memset(out, 0, 16);
		if (inet_pton(AF_INET, s, out + 12) == 1) {
			out[10] = out[11] = 0xff;
			c->n_addresses++;
		} else if (inet_pton(AF_INET6, s, out) == 1) {
			c->n_addresses++;
		}
	}
}

static const struct pmx_client_params no_params;

/* Connect to the switch's socket and attach as a client (hello): *out and *res (the hello
 * result, new ref) set on success. */
static int hello(const struct pmx_client_params *p, struct pmx_client **out, json_t **res)
{
	const char *path = p->socket_path ? p->socket_path : getenv("PORTMUX_SOCKET");
	const char *wait = getenv(PMX_CLIENT_WAIT_ENV);
	uint64_t wait_until = 0;
	struct pmx_client *c;
	json_t *req;
	int ret;

	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	snprintf(c->socket_path, sizeof(c->socket_path), "%s",
		 path ? path : PMX_CLIENT_DEFAULT_SOCKET);
	if (wait != NULL) { /* a run after pmx_client_restart(): the daemon may not be back yet */
		wait_until = pmx_client_now_ms() + strtoul(wait, NULL, 10);
		unsetenv(PMX_CLIENT_WAIT_ENV);
	}
	for (;;) {
		if (wait != NULL) {
			uint64_t now = pmx_client_now_ms();

			ret = pmx_client_wait_socket(c->socket_path,
						     (unsigned)(wait_until > now ? wait_until - now : 0));
			if (ret != 0)
				goto fail_free;
		}
		c->fd = connect_socket(c->socket_path);
		if (c->fd < 0) {
			ret = c->fd;
			goto fail_free;
		}
		req = json_pack("{s:s, s:s, s:s, s:i}", "cmd", "hello", "name",
				p->name ? p->name : "client", "channel", "ring", "queues",
				p->queues ? (int)p->queues : 1);
		if (p->port != NULL)
			json_object_set_new(req, "port", json_string(p->port));
		if (p->mac != NULL) {
			json_t *addrs = json_array();

			for (unsigned i = 0; i < p->n_addresses; i++)
				json_array_append_new(addrs, json_string(p->addresses[i]));
			json_object_set_new(req, "mac", json_string(p->mac));
			json_object_set_new(req, "addresses", addrs);
		}
		ret = call(c->fd, ++c->next_request_id, req, res);
		/* waiting, a dying daemon's listener may have taken the connection: again */
		if (ret != -EIO || wait == NULL || pmx_client_now_ms() >= wait_until)
			break;
		close(c->fd);
		usleep(50 * 1000);
	}
	if (ret != 0)
		goto fail_close;
	read_identity(c, *res);
	*out = c;
	return 0;

fail_close:
	close(c->fd);
fail_free:
	free(c);
	return ret;
}

/* Attach one session: hello, then EAL as a secondary of the switch (first NULL) or first's
 * EAL (its lcore too), then the rings and the pool. */
static int open_session(const struct pmx_client *first, const struct pmx_client_params *params,
			struct pmx_client **out)
{
	const struct pmx_client_params *p = params ? params : &no_params;
	struct pmx_client *c;
	json_t *res;
	int ret;

	ret = hello(p, &c, &res);
	if (ret != 0)
		return ret;
	if (first != NULL) {
		c->lcore_id = first->lcore_id; /* this process's one lcore, not the one offered */
		c->shares_eal = true;
	} else {
		ret = start_eal(c, p,
				json_string_value(json_object_get(res, "file_prefix")) ?: "rte");
		if (ret != 0) {
			json_decref(res);
			goto fail_close;
		}
	}
	ret = attach_shared(c, res);
	json_decref(res);
	if (ret != 0)
		goto fail_eal;
	c->peek_cycles = rte_get_tsc_hz() / 1000 * PMX_CLIENT_PEEK_MS;
	c->next_peek = rte_rdtsc() + c->peek_cycles;
	*out = c;
	return 0;

fail_eal:
	if (!c->shares_eal)
		rte_eal_cleanup();
fail_close:
	close(c->fd); /* the switch detaches it */
	free(c);
	return ret;
}

int pmx_client_open(const struct pmx_client_params *params, struct pmx_client **out)
{
	return open_session(NULL, params, out);
}

int pmx_client_open_more(const struct pmx_client *first, const struct pmx_client_params *params,
			 struct pmx_client **out)
{
	return first != NULL ? open_session(first, params, out) : -EINVAL;
}

int pmx_client_listen(struct pmx_client *c, const char *proto, const char *ip, uint16_t port,
		      uint32_t *rule_id)
{
	json_t *req = json_pack("{s:s, s:s, s:i}", "cmd", "listen", "proto", proto, "port", port);
	json_t *res;
	int ret;

	if (ip != NULL && ip[0] != '\0')
		json_object_set_new(req, "ip", json_string(ip));
	ret = call(c->fd, ++c->next_request_id, req, &res);
	if (ret == 0) {
		*rule_id = (uint32_t)json_integer_value(json_object_get(res, "rule_id"));
		json_decref(res);
	}
	return ret;
}

int pmx_client_connect(struct pmx_client *c, const char *proto, const char *local_ip,
		       uint16_t local_port, const char *remote_ip, uint16_t remote_port,
		       uint32_t *rule_id)
{
	json_t *req = json_pack("{s:s, s:s, s:s, s:i, s:s, s:i}", "cmd", "connect", "proto", proto,
				"local_ip", local_ip, "local_port", local_port, "remote_ip",
				remote_ip, "remote_port", remote_port);
	json_t *res;
	int ret = call(c->fd, ++c->next_request_id, req, &res);

	if (ret == 0) {
		*rule_id = (uint32_t)json_integer_value(json_object_get(res, "rule_id"));
		json_decref(res);
	}
	return ret;
}

int pmx_client_release(struct pmx_client *c, uint32_t rule_id)
{
	json_t *req = json_pack("{s:s, s:I}", "cmd", "release", "rule_id", (json_int_t)rule_id);

	return call(c->fd, ++c->next_request_id, req, NULL);
}

int pmx_client_check_slow(struct pmx_client *c, bool peek)
{
	int ended = 0;
	char byte;

	if (peek) {
		ssize_t r = recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);

		__atomic_store_n(&c->next_peek, rte_rdtsc() + c->peek_cycles, __ATOMIC_RELAXED);
		if (r > 0 || (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)))
			return 0;    /* open (nothing to read, as between requests) */
		ended = -ECONNRESET; /* closed: unless the daemon said why first */
	}
	/* the daemon writes these before it closes our connection */
	if (__atomic_load_n(&c->shm->daemon_pid, __ATOMIC_ACQUIRE) == 0)
		ended = -ESHUTDOWN;
	else if (__atomic_load_n(&c->shm->generation[c->id], __ATOMIC_ACQUIRE) != c->generation)
		ended = -ECONNABORTED;
	if (ended != 0)
		__atomic_store_n(&c->ended, ended, __ATOMIC_RELAXED);
	return ended;
}

void pmx_client_close(struct pmx_client *c)
{
	struct rte_mempool_cache *cache;
	int ended;

	if (c == NULL)
		return;
	/* a clean close lets the switch send what was queued (bounded: 2 s) */
	for (unsigned q = 0; q < c->n_queues; q++)
		for (int i = 0; i < 20000 && pmx_client_alive(c) && !rte_ring_empty(c->tx[q]); i++)
			usleep(100);
	/* frames this process freed into its lcore's cache go back to the common pool, unless
	 * the pool is a stopping or dead daemon's (touching it could fault) */
	ended = pmx_client_check(c);
	cache = ended == -ESHUTDOWN || ended == -ECONNRESET
			? NULL
			: rte_mempool_default_cache(c->pool, rte_lcore_id());
	if (cache != NULL)
		rte_mempool_cache_flush(cache, c->pool);
	if (ended == 0) /* else no daemon would answer, or not to us */
		call(c->fd, ++c->next_request_id, json_pack("{s:s}", "cmd", "bye"), NULL);
	close(c->fd);
	if (!c->shares_eal)
		rte_eal_cleanup();
	free(c);
}
