/* portmux_client.c - libportmux-client: control-socket requests, secondary EAL attach, close */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
#include "pmx_ctl_client.h"
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

/*
 * One request on ctl (req stolen, NULL when building it failed): 0 and *result (new ref, when
 * result is not NULL), the daemon's refusal as -errno (its code), -EPROTO (a line that is not
 * a reply to it), -ENOMEM, or -EIO (the connection failed: lost, timed out, out of step).
 */
static int call(struct pmx_ctl_client *ctl, json_t *req, json_t **result)
{
	int ret;

	if (req == NULL)
		return -ENOMEM;
	ret = pmx_ctl_client_call(ctl, req, result);
	json_decref(req);
	switch (ret) {
	case 0:
	case -ENOMEM:
	case -EPROTO: return ret;
	case -PMX_CTL_CLIENT_EREPLY: return -errno_of(pmx_ctl_client_error_code(ctl));
	case -EMSGSIZE: return -EPROTO;
	default: return -EIO;
	}
}

int pmx_client_request(struct pmx_client *c, const char *request, char **reply)
{
	json_t *req = json_loads(request, 0, NULL), *rep;
	int ret;

	if (!json_is_object(req)) {
		json_decref(req);
		return -EINVAL;
	}
	ret = pmx_ctl_client_exchange(pmx_client_ctl(c), req, &rep);
	json_decref(req);
	if (ret != 0)
		return ret == -EPROTO || ret == -EMSGSIZE ? -EPROTO
		       : ret == -ENOMEM                   ? -ENOMEM
							  : -EIO;
	*reply = json_dumps(rep, JSON_COMPACT);
	json_decref(rep);
	return *reply != NULL ? 0 : -ENOMEM;
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
	json_array_foreach(addrs, i, a)
	{
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

/* The hello request of p (new ref), or NULL. */
static json_t *hello_request(const struct pmx_client_params *p)
{
	json_t *req = json_pack("{s:s, s:s, s:s, s:i}", "cmd", "hello", "name",
				p->name ? p->name : "client", "channel", "ring", "queues",
				p->queues ? (int)p->queues : 1);

	if (req != NULL && p->port != NULL)
		json_object_set_new(req, "port", json_string(p->port));
	if (req != NULL && p->mac != NULL) {
		json_t *addrs = json_array();

		for (unsigned i = 0; i < p->n_addresses; i++)
			json_array_append_new(addrs, json_string(p->addresses[i]));
		json_object_set_new(req, "mac", json_string(p->mac));
		json_object_set_new(req, "addresses", addrs);
	}
	return req;
}

/* Connect to the switch's socket and attach as a client (hello): *out and *res (the hello
 * result, new ref) set on success. */
static int hello(const struct pmx_client_params *p, struct pmx_client **out, json_t **res)
{
	const char *path = p->socket_path ? p->socket_path : getenv("PORTMUX_SOCKET");
	const char *wait = getenv(PMX_CLIENT_WAIT_ENV);
	struct pmx_ctl_client_opts opts = {0};
	struct pmx_client_session *s;
	struct pmx_client *c;
	uint64_t wait_until = 0;
	int ret;

	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	c = &s->pub;
	snprintf(c->socket_path, sizeof(c->socket_path), "%s",
		 path ? path : PMX_CLIENT_DEFAULT_SOCKET);
	if (wait != NULL) { /* a run after pmx_client_restart(): the daemon may not be back yet */
		wait_until = pmx_client_now_ms() + strtoul(wait, NULL, 10);
		unsetenv(PMX_CLIENT_WAIT_ENV);
	}
	for (;;) {
		if (wait != NULL) { /* at least 1: with the time up, no socket is -ETIMEDOUT */
			uint64_t now = pmx_client_now_ms();

			opts.connect_wait_ms = wait_until > now ? (unsigned)(wait_until - now) : 1;
		}
		ret = pmx_ctl_client_open(c->socket_path, &opts, &s->ctl);
		if (ret != 0)
			goto fail_free;
		c->fd = pmx_ctl_client_fd(s->ctl);
		ret = call(s->ctl, hello_request(p), res);
		/* waiting, a dying daemon's listener may have taken the connection: again */
		if (ret != -EIO || wait == NULL || pmx_client_now_ms() >= wait_until)
			break;
		pmx_ctl_client_close(s->ctl);
		usleep(50 * 1000);
	}
	if (ret != 0)
		goto fail_close;
	read_identity(c, *res);
	*out = c;
	return 0;

fail_close:
	pmx_ctl_client_close(s->ctl);
fail_free:
	free(s);
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

	if (p->poll != PMX_CLIENT_POLL_SLEEP && p->poll != PMX_CLIENT_POLL_BUSY)
		return -EINVAL;
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
	c->poll = p->poll;
	c->peek_cycles = rte_get_tsc_hz() / 1000 * PMX_CLIENT_PEEK_MS;
	c->next_peek = rte_rdtsc() + c->peek_cycles;
	*out = c;
	return 0;

fail_eal:
	if (!c->shares_eal)
		rte_eal_cleanup();
fail_close:
	pmx_ctl_client_close(pmx_client_ctl(c)); /* the switch detaches it */
	free(container_of(c, struct pmx_client_session, pub));
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
	ret = call(pmx_client_ctl(c), req, &res);
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
	int ret = call(pmx_client_ctl(c), req, &res);

	if (ret == 0) {
		*rule_id = (uint32_t)json_integer_value(json_object_get(res, "rule_id"));
		json_decref(res);
	}
	return ret;
}

int pmx_client_release(struct pmx_client *c, uint32_t rule_id)
{
	json_t *req = json_pack("{s:s, s:I}", "cmd", "release", "rule_id", (json_int_t)rule_id);

	return call(pmx_client_ctl(c), req, NULL);
}

int pmx_client_check_slow(struct pmx_client *c, bool peek)
{
	int ended = 0;

	if (peek) {
		int open = pmx_ctl_client_peek(pmx_client_ctl(c));

		__atomic_store_n(&c->next_peek, rte_rdtsc() + c->peek_cycles, __ATOMIC_RELAXED);
		if (open >= 0)
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
		call(pmx_client_ctl(c), json_pack("{s:s}", "cmd", "bye"), NULL);
	pmx_ctl_client_close(pmx_client_ctl(c));
	if (!c->shares_eal)
		rte_eal_cleanup();
	free(container_of(c, struct pmx_client_session, pub));
}
