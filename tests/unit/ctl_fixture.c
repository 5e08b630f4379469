/* ctl_fixture.c - the control plane the unit tests drive (see ctl_fixture.h) */
/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "client_registry.h"
#include "ctl_fixture.h"
#include "latency.h"

struct ctl_fixture F;
const char *fx_config_rules;
bool fx_usnetd;

static const char config_fmt[] =
	"{\"eal\": [], \"ports\": ["
	" {\"name\": \"wan0\", \"device\": \"net_null0\", \"exception\": {\"type\": \"none\","
	"  \"addresses\": [\"198.18.0.1\", \"fd00::1\"]}},"
	" {\"name\": \"lan1\", \"device\": \"net_null1\", \"exception\": {\"type\": \"none\","
	"  \"addresses\": [\"198.19.0.1\"]}}],"
	" \"control\": {\"socket\": \"%s\", \"mode\": \"0666\", \"group\": \"nogroup\"},"
	" \"clients\": {\"max\": 4, \"ring_size\": 64, \"max_rules\": 256, \"rule_quota\": 6,"
	"  \"queue_quota\": 4, \"low_ports\": [\"udp:53\"]}, \"mbufs\": 1024%s%s%s}";

static char runtime_dir[160];

/* --no-shconf still creates the (empty) runtime directory: remove it at the end. */
static void remove_runtime_dir(void)
{
	rte_eal_cleanup();
	rmdir(runtime_dir);
}

void fx_netns_enter(const char *prog)
{
	/* bound ports and /proc/net of our own: nothing else on the machine interferes */
	if (unshare(CLONE_NEWNET) != 0) {
		fprintf(stderr, "%s: unshare(CLONE_NEWNET): %s (run as root)\n", prog,
			strerror(errno));
		exit(1);
	}
}

void fx_eal_init(const char *prog)
{
	static char prefix[64];
	static char *argv[] = {"test", "-l", "0", "--no-huge", "-m", "128", "--no-pci",
			       "--no-shconf", "--no-telemetry", "--log-level", "*:error",
			       "--file-prefix", prefix, NULL};

	fx_netns_enter(prog);
	argv[0] = (char *)prog;
	snprintf(prefix, sizeof(prefix), "pmx-test-ctl-%d", (int)getpid());
	if (rte_eal_init((int)RTE_DIM(argv) - 1, argv) < 0) {
		fprintf(stderr, "%s: cannot initialise EAL: %s\n", prog, rte_strerror(rte_errno));
		exit(1);
	}
	snprintf(runtime_dir, sizeof(runtime_dir), "%s", rte_eal_get_runtime_dir());
	atexit(remove_runtime_dir);
}

int fx_setup(void)
{
	struct pmx_switch *sw = &F.sw;
	struct pmx_worker *w;
	char text[4096], err[256], usnetd[160] = "";

	memset(&F, 0, sizeof(F));
	snprintf(F.dir, sizeof(F.dir), "/tmp/pmx-test-ctl-%d", (int)getpid());
	snprintf(F.sock, sizeof(F.sock), "%s/ctl.sock", F.dir);
	snprintf(F.usnetd_sock, sizeof(F.usnetd_sock), "%s/usnetd.sock", F.dir);
	if (fx_usnetd)
		snprintf(usnetd, sizeof(usnetd), ", \"usnetd\": {\"socket\": \"%s\", \"mode\": \"0666\"}",
			 F.usnetd_sock);
	snprintf(text, sizeof(text), config_fmt, F.sock, fx_config_rules ? ", \"rules\": " : "",
		 fx_config_rules ? fx_config_rules : "", usnetd);
	if (pmx_config_parse(text, "test", &F.cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "fixture config: %s\n", err);
		return -1;
	}
	sw->cfg = &F.cfg;
	sw->kernel_policy = F.cfg.policy;
	sw->pool = rte_pktmbuf_pool_create(PMX_POOL_NAME, F.cfg.mbufs, 32, 0,
					   RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	sw->ft = pmx_flow_table_create("test_ctl", F.cfg.max_rules, 1, SOCKET_ID_ANY);
	sw->clients = rte_zmalloc(NULL, sizeof(*sw->clients) * F.cfg.clients_max, 0);
	sw->shm = rte_zmalloc(NULL, sizeof(*sw->shm), 0);
	w = rte_zmalloc(NULL, sizeof(*w), RTE_CACHE_LINE_SIZE);
	if (sw->pool == NULL || sw->ft == NULL || sw->clients == NULL || sw->shm == NULL || w == NULL)
		return -1;
	if (pmx_dp_policy_set(sw, F.cfg.allow, F.cfg.n_allow) != 0)
		return -1;
	w->client = rte_zmalloc(NULL, sizeof(*w->client) * F.cfg.clients_max, 0);
	if (w->client == NULL)
		return -1;
	w->sw = sw;
	w->lcore_id = 1;
	if (pmx_worker_init(w) != 0) /* its tables and learn rings, as the daemon makes them */
		return -1;
	sw->workers[0] = w;
	sw->n_workers = 1;
	sw->clients_max = F.cfg.clients_max;
	sw->client_lcore_base = 2;
	sw->n_ports = 2;
	for (unsigned p = 0; p < 2; p++) {
		snprintf(sw->ports[p].name, sizeof(sw->ports[p].name), "%s", F.cfg.ports[p].name);
		snprintf(sw->ports[p].exc_kind, sizeof(sw->ports[p].exc_kind), p == 0 ? "tap" : "none");
		snprintf(sw->ports[p].exc_iface, sizeof(sw->ports[p].exc_iface), "pmx%u", p);
		sw->ports[p].nic = PMX_PORT_NONE;
		sw->ports[p].exc = PMX_PORT_NONE;
	}
	if (pmx_latency_init(sw) != 0) /* the histograms' memzone and the RX stamp field */
		return -1;
	sw->shm->clients_max = sw->clients_max;
	sw->shm->magic = PMX_SHM_MAGIC;
	sw->shm->version = PMX_SHM_VERSION;
	mkdir(F.dir, 0755);
	if (pmx_ctl_init(&F.ctl, sw, &F.cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "fixture control socket: %s\n", err);
		return -1;
	}
	snprintf(F.ctl.file_prefix, sizeof(F.ctl.file_prefix), "pmx-test");
	return 0;
}

int fx_teardown(void)
{
	struct pmx_switch *sw = &F.sw;

	pmx_ctl_close(&F.ctl);
	rmdir(F.dir);
	pmx_registry_free_all(sw); /* the slots' rings */
	if (sw->workers[0] != NULL) {
		pmx_worker_fini(sw->workers[0]);
		rte_free(sw->workers[0]->client);
	}
	rte_free(sw->workers[0]);
	rte_free(sw->clients);
	rte_free(sw->shm);
	pmx_latency_fini(sw);
	pmx_flow_table_destroy(sw->ft);
	rte_mempool_free(sw->pool);
	pmx_config_free(&F.cfg);
	return 0;
}

struct pmx_ctl_session *fx_session(bool admin, uid_t uid)
{
	struct pmx_ctl_session *s = calloc(1, sizeof(*s));

	if (s == NULL)
		abort();
	s->kind = PMX_CTL_SESSION;
	s->fd = -1;
	s->uid = uid;
	s->gid = uid;
	s->pid = getpid();
	s->admin = admin;
	s->client_id = -1;
	return s;
}

void fx_session_free(struct pmx_ctl_session *s)
{
	if (s == NULL)
		return;
	pmx_ctl_session_detach(&F.ctl, s);
	free(s);
}

const char *fx_call(struct pmx_ctl_session *s, const char *text, json_t **result)
{
	static char code[32];
	json_error_t jerr;
	json_t *req = json_loads(text, JSON_DECODE_ANY, &jerr), *reply;

	if (result != NULL)
		*result = NULL;
	if (req == NULL) {
		fprintf(stderr, "bad test request %s: %s\n", text, jerr.text);
		return "test-bug";
	}
	reply = pmx_ctl_execute(&F.ctl, s, req);
	json_decref(req);
	if (json_is_true(json_object_get(reply, "ok"))) {
		snprintf(code, sizeof(code), "ok");
		if (result != NULL)
			*result = json_incref(json_object_get(reply, "result"));
	} else {
		json_t *e = json_object_get(reply, "error");

		snprintf(code, sizeof(code), "%s", json_string_value(json_object_get(e, "code")));
		if (result != NULL)
			*result = json_incref(e);
	}
	json_decref(reply);
	return code;
}

int fx_hello(struct pmx_ctl_session *s, const char *name)
{
	char text[128];
	json_t *res;
	int id = -1;

	snprintf(text, sizeof(text), "{\"cmd\": \"hello\", \"name\": \"%s\"}", name);
	if (strcmp(fx_call(s, text, &res), "ok") == 0)
		id = (int)json_integer_value(json_object_get(res, "client_id"));
	json_decref(res);
	return id;
}

static int make_addr(const char *ip, unsigned port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*len = sizeof(*sin);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) != 1)
		return -EINVAL;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons((uint16_t)port);
	*len = sizeof(*sin6);
	return AF_INET6;
}

int fx_bind_probe(int type, const char *ip, unsigned port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, family = make_addr(ip, port, &ss, &len), fd, ret;

	if (family < 0)
		return family;
	fd = socket(family, type, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
		   family == AF_INET ? IP_FREEBIND : 78 /* IPV6_FREEBIND */, &one, sizeof(one));
	ret = bind(fd, (struct sockaddr *)&ss, len) == 0 ? 0 : -errno;
	close(fd);
	return ret;
}

int fx_kernel_listen(const char *ip, unsigned port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, family = make_addr(ip, port, &ss, &len), fd;

	if (family < 0)
		return family;
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 4) != 0) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}

int fx_setup_sessions(struct pmx_ctl_session **root, struct pmx_ctl_session **user)
{
	if (fx_setup() != 0)
		return -1;
	*root = fx_session(true, 0);
	*user = fx_session(false, 65534);
	return 0;
}

int fx_teardown_sessions(struct pmx_ctl_session *root, struct pmx_ctl_session *user)
{
	fx_session_free(root);
	fx_session_free(user);
	return fx_teardown();
}
