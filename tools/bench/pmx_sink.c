/* pmx_sink.c - benchmark sink: N client sessions in one process (client rings -> counted, freed) */
/*
 * The switch's clients are DPDK secondaries; pmx_client_open() starts EAL, so one process can
 * open it once. Sessions 2..N are attached with pmx_client_open_more(): a control connection
 * of their own, their rings looked up in the EAL of session 1. Every frame is freed on this
 * process's one lcore, whose mempool cache the switch handed to session 1.
 *
 * A control thread does the timing: after the warm-up it takes a "stats" snapshot of the switch
 * (over session 1's control connection, idle while the drain loop runs) and of the sink's
 * counters, again after the measured window, and prints the difference as one JSON line
 * starting with "RESULT " (what tools/bench/run.sh reads).
 *
 * With -G TRACE the same loop is also the source (pacer.c): it puts the trace's frames on the
 * switch's net_ring NIC port at -R frames/s, and the window starts with "clear_stats" so that
 * the clients' latency histograms (kept by pmx_client_rx_burst) hold the window only; RESULT
 * then has each client's latency and the pacer's counters.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_memzone.h>

#include "pacer.h"
#include "pmx_opt.h"
#include "pmx_shm.h"
#include "portmux_client.h"

#define MAX_SESSIONS 64
#define DRAIN_BURST 64

struct sink_opts {
	const char *socket_path;
	unsigned clients;
	unsigned base_port;
	const char *flows_file; /* exact mode: connect every flow listed, else listen on ports */
	double warmup_s;
	double duration_s;
	bool quiet;
	bool raw_free; /* return frames with rte_mempool_put_bulk: no mbuf read but the RX stamp
			  the client library reads for the latency histogram and the first
			  frame's pool (its session's home) */
	const char *trace; /* -G: be the paced source too */
	const char *nic_ring;
	double rate;
};

/* Counters of one session, written by the drain loop only. */
struct sink_counter {
	uint64_t frames;
} __rte_cache_aligned;

struct sink {
	struct sink_opts o;
	unsigned n;
	struct pmx_client *sess[MAX_SESSIONS];
	struct sink_counter count[MAX_SESSIONS];
	int stop; /* set by the control thread or a signal; read by the drain loop */
	json_t *result;
	pid_t daemon_pid;
	pid_t worker_tid[RTE_MAX_LCORE]; /* the daemon's RX lcore threads */
	struct pacer pacer; /* -G; its counters written by the drain loop only */
};

static volatile sig_atomic_t signalled;

static void on_signal(int sig)
{
	(void)sig;
	signalled = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One request on c's control connection; returns the "result" object (new ref) or NULL. */
static json_t *request(struct pmx_client *c, const char *line)
{
	json_t *reply, *res = NULL;
	char *text;

	if (pmx_client_request(c, line, &text) != 0)
		return NULL;
	reply = json_loads(text, 0, NULL);
	free(text);
	if (reply != NULL && json_is_true(json_object_get(reply, "ok")))
		res = json_incref(json_object_get(reply, "result"));
	else if (reply != NULL)
		fprintf(stderr, "pmx-sink: %s: %s\n", line,
			json_string_value(json_object_get(json_object_get(reply, "error"),
							  "message")));
	json_decref(reply);
	return res;
}

/* Exact mode: "udp LOCAL_IP LOCAL_PORT REMOTE_IP REMOTE_PORT CLIENT" per line. */
static int connect_flows(struct sink *s)
{
	char proto[16], lip[64], rip[64];
	unsigned lport, rport, client, added = 0;
	FILE *f = fopen(s->o.flows_file, "r");
	double t0 = now_s();
	int ret = 0;

	if (f == NULL)
		return -errno;
	while (fscanf(f, "%15s %63s %u %63s %u %u", proto, lip, &lport, rip, &rport, &client) ==
	       6) {
		uint32_t rule;

		if (client >= s->n)
			continue;
		ret = pmx_client_connect(s->sess[client], proto, lip, (uint16_t)lport, rip,
					 (uint16_t)rport, &rule);
		if (ret != 0) {
			fprintf(stderr, "pmx-sink: connect %s %s:%u %s:%u: %s\n", proto, lip, lport,
				rip, rport, strerror(-ret));
			break;
		}
		added++;
	}
	fclose(f);
	printf("pmx-sink: %u exact rules added in %.2f s\n", added, now_s() - t0);
	return ret;
}

static int setup(struct sink *s, int argc, char **argv)
{
	struct pmx_client_params p = {.socket_path = s->o.socket_path, .name = "pmx-sink-0",
				      .eal_argc = argc, .eal_argv = argv};
	int ret;

	ret = pmx_client_open(&p, &s->sess[0]);
	if (ret != 0) {
		fprintf(stderr, "pmx-sink: attach: %s\n", strerror(-ret));
		return ret;
	}
	s->n = 1;
	for (unsigned k = 1; k < s->o.clients; k++) {
		char name[32];

		snprintf(name, sizeof(name), "pmx-sink-%u", k);
		p.name = name;
		ret = pmx_client_open_more(s->sess[0], &p, &s->sess[k]);
		if (ret != 0) {
			fprintf(stderr, "pmx-sink: attach session %u: %s\n", k, strerror(-ret));
			return ret;
		}
		s->n = k + 1;
	}
	if (s->o.flows_file != NULL)
		return connect_flows(s);
	for (unsigned k = 0; k < s->n; k++) {
		uint32_t rule;

		ret = pmx_client_listen(s->sess[k], "udp", NULL, (uint16_t)(s->o.base_port + k),
					&rule);
		if (ret != 0) {
			fprintf(stderr, "pmx-sink: listen udp %u: %s\n", s->o.base_port + k,
				strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static void teardown(struct sink *s)
{
	for (unsigned k = s->n; k-- > 0;) /* session 0, whose EAL the others use, last */
		pmx_client_close(s->sess[k]);
}

/* ---- the measurement (control thread) ---- */

/* CPU time a thread has run (ns), from /proc/PID/task/TID/schedstat; 0 if unknown. */
static uint64_t thread_cpu_ns(pid_t pid, pid_t tid)
{
	char path[96];
	unsigned long long ns = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", (int)pid, (int)tid);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	if (fscanf(f, "%llu", &ns) != 1)
		ns = 0;
	fclose(f);
	return ns;
}

/* The daemon's RX lcore threads (EAL names them "rte-worker-LCORE"): tid by lcore id. */
static void find_workers(pid_t pid, pid_t *tid_of_lcore, unsigned max)
{
	char path[64], comm[32];
	struct dirent *de;
	DIR *d;

	memset(tid_of_lcore, 0, sizeof(*tid_of_lcore) * max);
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char cpath[384];
		unsigned lcore;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(cpath, sizeof(cpath), "%s/%s/comm", path, de->d_name);
		f = fopen(cpath, "r");
		if (f == NULL)
			continue;
		if (fgets(comm, sizeof(comm), f) != NULL &&
		    sscanf(comm, "rte-worker-%u", &lcore) == 1 && lcore < max)
			tid_of_lcore[lcore] = (pid_t)atoi(de->d_name);
		fclose(f);
	}
	closedir(d);
}

/* CPU time of every RX lcore thread and of this process's drain loop, at one instant. */
struct cpu_snap {
	uint64_t worker_ns[RTE_MAX_LCORE];
	uint64_t sink_ns;
};

static void cpu_snapshot(const struct sink *s, struct cpu_snap *c)
{
	for (unsigned l = 0; l < RTE_MAX_LCORE; l++)
		c->worker_ns[l] = s->worker_tid[l] ? thread_cpu_ns(s->daemon_pid, s->worker_tid[l])
						   : 0;
	c->sink_ns = thread_cpu_ns(getpid(), getpid());
}

static uint64_t total_frames(const struct sink *s, uint64_t *per)
{
	uint64_t sum = 0;

	for (unsigned k = 0; k < s->n; k++) {
		per[k] = __atomic_load_n(&s->count[k].frames, __ATOMIC_RELAXED);
		sum += per[k];
	}
	return sum;
}

static json_int_t jint(json_t *obj, const char *key)
{
	return json_integer_value(json_object_get(obj, key));
}

/* b - a for every integer member of two objects with the same keys. */
static json_t *object_delta(json_t *a, json_t *b)
{
	json_t *out = json_object(), *v;
	const char *key;

	json_object_foreach(b, key, v)
		if (json_is_integer(v))
			json_object_set_new(out, key, json_integer(json_integer_value(v) -
								   jint(a, key)));
	return out;
}

/* The difference of two "stats" results and of the sink's counters over the window. */
static json_t *window_result(const struct sink *s, json_t *st0, json_t *st1, const uint64_t *c0,
			     const uint64_t *c1, const struct cpu_snap *u0,
			     const struct cpu_snap *u1, double secs)
{
	json_t *p0 = json_array_get(json_object_get(st0, "ports"), 0);
	json_t *p1 = json_array_get(json_object_get(st1, "ports"), 0);
	json_t *lc0 = json_object_get(st0, "lcores"), *lc1 = json_object_get(st1, "lcores");
	json_t *cl0 = json_object_get(st0, "clients"), *cl1 = json_object_get(st1, "clients");
	json_t *per = json_array(), *lcores = json_array(), *clients = json_array(), *w;
	uint64_t delivered = 0;
	size_t i;

	for (unsigned k = 0; k < s->n; k++) {
		json_array_append_new(per, json_integer(c1[k] - c0[k]));
		delivered += c1[k] - c0[k];
	}
	json_array_foreach(lc1, i, w) {
		json_t *w0 = json_array_get(lc0, i), *d = object_delta(w0, w);

		json_object_set_new(d, "drops", object_delta(json_object_get(w0, "drops"),
							     json_object_get(w, "drops")));
		json_object_set_new(d, "worker", json_incref(json_object_get(w, "worker")));
		json_object_set_new(d, "lcore", json_incref(json_object_get(w, "lcore")));
		unsigned l = (unsigned)jint(w, "lcore");

		if (l < RTE_MAX_LCORE && s->worker_tid[l] != 0)
			json_object_set_new(d, "cpu_ns",
					    json_integer(u1->worker_ns[l] - u0->worker_ns[l]));
		json_array_append_new(lcores, d);
	}
	json_array_foreach(cl1, i, w) {
		json_t *w0 = NULL, *c;
		size_t j;

		json_array_foreach(cl0, j, c)
			if (jint(c, "client_id") == jint(w, "client_id"))
				w0 = c;
		json_t *d = object_delta(w0, w);

		json_object_set_new(d, "client_id", json_incref(json_object_get(w, "client_id")));
		json_object_set_new(d, "rx_ring_count",
				    json_incref(json_object_get(w, "rx_ring_count")));
		if (json_object_get(w, "latency") != NULL) /* since the window's clear_stats */
			json_object_set_new(d, "latency", json_incref(json_object_get(w, "latency")));
		json_array_append_new(clients, d);
	}
	return json_pack("{s:f, s:I, s:f, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o}",
			 "window_s", secs, "sink_cpu_ns", (json_int_t)(u1->sink_ns - u0->sink_ns),
			 "tsc_hz", (double)rte_get_tsc_hz(), "rx",
			 jint(p1, "rx") - jint(p0, "rx"), "to_clients",
			 jint(p1, "to_clients") - jint(p0, "to_clients"), "to_kernel",
			 jint(p1, "to_kernel") - jint(p0, "to_kernel"), "delivered",
			 (json_int_t)delivered, "delivered_per_client", per, "drops",
			 object_delta(json_object_get(st0, "drops"), json_object_get(st1, "drops")),
			 "lcores", lcores, "clients", clients, "mempool",
			 json_incref(json_object_get(st1, "mempool")), "nic",
			 object_delta(json_object_get(p0, "nic"), json_object_get(p1, "nic")));
}

/* Every client's latency histogram now (memif clients' too: the switch keeps all of them in
 * its PMX_LAT_MZ_NAME memzone), as {"CLIENT_ID": [[NS, FRACTION], ...]}: one point per
 * non-empty bucket, its top in ns (the maximum for the last) and the fraction of the samples
 * at or below it, i.e. the latency CDF. */
static json_t *hist_json(json_t *stats)
{
	const struct rte_memzone *mz = rte_memzone_lookup(PMX_LAT_MZ_NAME);
	const struct pmx_lat_block *blocks;
	double ns = 1e9 / (double)rte_get_tsc_hz();
	json_t *out = json_object(), *c;
	size_t i;

	if (mz == NULL)
		return out;
	blocks = mz->addr;
	json_array_foreach(json_object_get(stats, "clients"), i, c) {
		json_int_t id = jint(c, "client_id"), queues = RTE_MAX(jint(c, "queues"), 1);
		struct pmx_lat_hist h = {0};
		uint64_t total = 0, cum = 0;
		json_t *pts = json_array();
		char key[24];

		if (id < 0 || (size_t)(id + 1) * PMX_MAX_QUEUES * sizeof(*blocks) > mz->len) {
			json_decref(pts);
			continue;
		}
		for (json_int_t q = 0; q < queues && q < PMX_MAX_QUEUES; q++)
			pmx_lat_block_read(&blocks[id * PMX_MAX_QUEUES + q], &h);
		for (unsigned b = 0; b <= PMX_LAT_OVERFLOW; b++)
			total += h.bucket[b];
		for (unsigned b = 0; b <= PMX_LAT_OVERFLOW && total > 0; b++) {
			uint64_t top = b < PMX_LAT_OVERFLOW ? pmx_lat_bucket_low(b + 1) : h.max;

			if (h.bucket[b] == 0)
				continue;
			cum += h.bucket[b];
			json_array_append_new(pts, json_pack("[f,f]", (double)RTE_MIN(top, h.max) * ns,
							     (double)cum / (double)total));
		}
		snprintf(key, sizeof(key), "%lld", (long long)id);
		json_object_set_new(out, key, pts);
	}
	return out;
}

static void sleep_until(const struct sink *s, double t)
{
	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE) && !signalled && now_s() < t)
		usleep(5000);
}

static void print_second(const struct sink *s, double elapsed, double dt, const uint64_t *prev,
			 const uint64_t *cur)
{
	uint64_t sum = 0;

	for (unsigned k = 0; k < s->n; k++)
		sum += cur[k] - prev[k];
	printf("sink: t=%5.1f s delivered %7.3f Mpps [", elapsed, sum / dt / 1e6);
	for (unsigned k = 0; k < s->n; k++)
		printf("%s%.3f", k ? " " : "", (cur[k] - prev[k]) / dt / 1e6);
	printf("]\n");
	fflush(stdout);
}

/* The pacer's counters, read while the drain loop writes them. */
static json_t *pacer_json(struct sink *s)
{
	const struct pacer *p = &s->pacer;

	return json_pack("{s:f, s:I, s:I, s:I, s:I}", "rate", p->rate, "sent",
			 (json_int_t)__atomic_load_n(&p->sent, __ATOMIC_RELAXED), "ring_full",
			 (json_int_t)__atomic_load_n(&p->ring_full, __ATOMIC_RELAXED), "behind",
			 (json_int_t)__atomic_load_n(&p->behind, __ATOMIC_RELAXED), "nomem",
			 (json_int_t)__atomic_load_n(&p->nomem, __ATOMIC_RELAXED));
}

/* Per-second lines; snapshots at the window's start and end; then stop the drain loop. */
static void *control_main(void *arg)
{
	struct sink *s = arg;
	uint64_t c0[MAX_SESSIONS], c1[MAX_SESSIONS], prev[MAX_SESSIONS], cur[MAX_SESSIONS];
	double start = now_s(), w0 = start + s->o.warmup_s, w1 = w0 + s->o.duration_s;
	double next = start + 1, last = start, t0 = 0;
	struct cpu_snap *u0 = calloc(2, sizeof(*u0)), *u1 = u0 + 1;
	json_t *st0 = NULL, *st1, *pc0 = NULL;

	if (u0 == NULL)
		goto out;

	if (s->o.duration_s <= 0)
		w0 = w1 = 1e300; /* no measurement: run until a signal */
	total_frames(s, prev);
	for (;;) {
		double t;

		sleep_until(s, RTE_MIN(next, st0 == NULL ? w0 : w1));
		if (__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE) || signalled)
			break;
		t = now_s();
		if (st0 == NULL && t >= w0) {
			json_t *cleared = NULL;

			/* the latency histograms hold the window only */
			if (s->o.trace != NULL &&
			    (cleared = request(s->sess[0], "{\"cmd\":\"clear_stats\",\"id\":3}")) ==
				    NULL)
				break;
			json_decref(cleared);
			pc0 = s->o.trace != NULL ? pacer_json(s) : NULL;
			st0 = request(s->sess[0], "{\"cmd\":\"stats\",\"id\":1}");
			total_frames(s, c0);
			cpu_snapshot(s, u0);
			t0 = now_s();
			if (st0 == NULL)
				break;
		} else if (st0 != NULL && t >= w1) {
			st1 = request(s->sess[0], "{\"cmd\":\"stats\",\"id\":2}");
			total_frames(s, c1);
			cpu_snapshot(s, u1);
			if (st1 != NULL)
				s->result = window_result(s, st0, st1, c0, c1, u0, u1,
							  now_s() - t0);
			if (s->result != NULL && pc0 != NULL) { /* the pacer over the window */
				json_t *pc1 = pacer_json(s), *d = object_delta(pc0, pc1);

				json_object_set_new(d, "rate", json_real(s->o.rate));
				json_object_set_new(s->result, "pacer", d);
				json_object_set_new(s->result, "hist", hist_json(st1));
				json_decref(pc1);
			}
			json_decref(st1);
			break;
		}
		if (t >= next) {
			total_frames(s, cur);
			if (!s->o.quiet)
				print_second(s, t - start, t - last, prev, cur);
			memcpy(prev, cur, sizeof(prev));
			last = t;
			next += 1;
		}
	}
	json_decref(st0);
	json_decref(pc0);
out:
	free(u0);
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* ---- the drain loop (this process's one lcore) ---- */

static void drain(struct sink *s)
{
	struct rte_mbuf *pkts[DRAIN_BURST];

	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE) && !signalled) {
		if (s->o.trace != NULL)
			pacer_poll(&s->pacer);
		for (unsigned k = 0; k < s->n; k++) {
			uint16_t n = pmx_client_rx_burst(s->sess[k], pkts, DRAIN_BURST);

			if (n == 0)
				continue;
			/* The switch hands out direct, single-segment frames with refcnt 1, all
			 * with the session's home as their pool (mbuf_home.h): they can go back
			 * without reading more than the first one (as a NIC's "fast free"), so
			 * hardly any mbuf cache line moves to this core. */
			if (s->o.raw_free)
				rte_mempool_put_bulk(pkts[0]->pool, (void **)pkts, n);
			else
				rte_pktmbuf_free_bulk(pkts, n);
			s->count[k].frames += n;
		}
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: pmx-sink [-s SOCKET] [-n CLIENTS] [-p BASE_PORT] [-f FLOWS_FILE] [-w "
		"WARMUP_S]\n"
		"          [-d DURATION_S] [-r] [-q] [-G TRACE [-R RATE] [-N RING]] [-- EAL-ARGS]\n"
		"  Attaches CLIENTS client sessions (default 4) to portmuxd in one process.\n"
		"  Session k listens on UDP BASE_PORT+k (default 10000), or with -f connects\n"
		"  every flow of FLOWS_FILE (gen_trace.py --flows-out). Counts and frees what\n"
		"  arrives; after WARMUP_S (2) measures DURATION_S (10) and prints a RESULT line\n"
		"  (JSON). DURATION_S 0: run until SIGINT/SIGTERM without a measurement.\n"
		"  -r: return frames with rte_mempool_put_bulk into the first frame's pool (its\n"
		"      session's home; reads no other mbuf) instead of\n"
		"      rte_pktmbuf_free_bulk. -q: no line per second.\n"
		"  -G TRACE: also be the source: the pcap's frames onto the switch's net_ring NIC\n"
		"      port's RX ring RING (default ETH_RXTX0_net_ring0) at RATE frames/s "
		"(default\n"
		"      0: as fast as the ring takes them); the window starts with clear_stats and\n"
		"      RESULT holds the clients' latency and the pacer's counters.\n"
		"  Long options: --socket, --clients, --base-port, --flows, --warmup, --duration,\n"
		"  --raw-free, --quiet, --trace, --rate, --ring, --help, --version (-V).\n");
}

/* A bad value for option opt, on stderr. Returns the exit status (2). */
static int bad_value(int opt, const char *value)
{
	fprintf(stderr, "pmx-sink: -%c: bad value \"%s\"\nTry 'pmx-sink --help'.\n", opt, value);
	return 2;
}

int main(int argc, char **argv)
{
	static struct sink s = {
		.o = {.clients = 4, .base_port = 10000, .warmup_s = 2, .duration_s = 10,
		      .nic_ring = "ETH_RXTX0_net_ring0"},
	};
	static const struct option longopts[] = {{"socket", required_argument, NULL, 's'},
						 {"clients", required_argument, NULL, 'n'},
						 {"base-port", required_argument, NULL, 'p'},
						 {"flows", required_argument, NULL, 'f'},
						 {"warmup", required_argument, NULL, 'w'},
						 {"duration", required_argument, NULL, 'd'},
						 {"raw-free", no_argument, NULL, 'r'},
						 {"quiet", no_argument, NULL, 'q'},
						 {"trace", required_argument, NULL, 'G'},
						 {"rate", required_argument, NULL, 'R'},
						 {"ring", required_argument, NULL, 'N'},
						 {"help", no_argument, NULL, 'h'},
						 {"version", no_argument, NULL, 'V'},
						 {NULL, 0, NULL, 0}};
	pthread_t ctl_thread;
	uint64_t per[MAX_SESSIONS];
	int opt, ret;

	s.o.socket_path = getenv("PORTMUX_SOCKET") ?: PMX_CLIENT_DEFAULT_SOCKET;
	while ((opt = getopt_long(argc, argv, "s:n:p:f:w:d:rqG:R:N:hV", longopts, NULL)) != -1) {
		switch (opt) {
		case 's': s.o.socket_path = optarg; break;
		case 'n':
			if (pmx_opt_uint(optarg, 1, MAX_SESSIONS, &s.o.clients) != 0)
				return bad_value(opt, optarg);
			break;
		case 'p':
			if (pmx_opt_uint(optarg, 1, 65535, &s.o.base_port) != 0)
				return bad_value(opt, optarg);
			break;
		case 'f': s.o.flows_file = optarg; break;
		case 'w':
			if (pmx_opt_double(optarg, 0, 3600, &s.o.warmup_s) != 0)
				return bad_value(opt, optarg);
			break;
		case 'd':
			if (pmx_opt_double(optarg, 0, 86400, &s.o.duration_s) != 0)
				return bad_value(opt, optarg);
			break;
		case 'q': s.o.quiet = true; break;
		case 'r': s.o.raw_free = true; break;
		case 'G': s.o.trace = optarg; break;
		case 'R':
			if (pmx_opt_double(optarg, 0, 1e9, &s.o.rate) != 0)
				return bad_value(opt, optarg);
			break;
		case 'N': s.o.nic_ring = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("pmx-sink %s\n", PMX_VERSION); return 0;
		default: fprintf(stderr, "Try 'pmx-sink --help'.\n"); return 2;
		}
	}
	if (s.o.base_port + s.o.clients > 65536) {
		fprintf(stderr, "pmx-sink: -p %u -n %u: the last port is above 65535\n",
			s.o.base_port, s.o.clients);
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	/* arguments after "--" are extra EAL arguments of this secondary */
	ret = setup(&s, argc - optind, argv + optind);
	if (ret != 0)
		goto out;
	if (s.o.trace != NULL) {
		ret = pacer_init(&s.pacer, s.o.trace, s.o.nic_ring, s.sess[0]->pool, s.o.rate);
		if (ret != 0) {
			fprintf(stderr, "pmx-sink: source %s -> ring %s: %s\n", s.o.trace,
				s.o.nic_ring, strerror(-ret));
			goto out;
		}
	}
	s.daemon_pid = (pid_t)s.sess[0]->shm->daemon_pid;
	find_workers(s.daemon_pid, s.worker_tid, RTE_MAX_LCORE);
	printf("pmx-sink: ready, %u sessions (client ids", s.n);
	for (unsigned k = 0; k < s.n; k++)
		printf(" %u", s.sess[k]->id);
	printf("), lcore %u\n", s.sess[0]->lcore_id);
	fflush(stdout);

	if (pthread_create(&ctl_thread, NULL, control_main, &s) != 0) {
		ret = -errno;
		goto out;
	}
	drain(&s);
	__atomic_store_n(&s.stop, 1, __ATOMIC_RELEASE);
	pthread_join(ctl_thread, NULL);

	uint64_t total = total_frames(&s, per);

	printf("pmx-sink: total %llu frames [", (unsigned long long)total);
	for (unsigned k = 0; k < s.n; k++)
		printf("%s%llu", k ? " " : "", (unsigned long long)per[k]);
	printf("]\n");
	if (s.result != NULL) {
		char *text = json_dumps(s.result, JSON_COMPACT | JSON_REAL_PRECISION(10));

		printf("RESULT %s\n", text ? text : "{}");
		free(text);
		json_decref(s.result);
	} else if (s.o.duration_s > 0) {
		fprintf(stderr, "pmx-sink: no measurement (interrupted or stats failed)\n");
		ret = -EINTR;
	}
out:
	pacer_fini(&s.pacer);
	if (s.n > 0)
		teardown(&s);
	return ret == 0 ? 0 : 1;
}
