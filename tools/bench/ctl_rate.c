/* ctl_rate.c - control-plane benchmark: listen/release updates per second through the socket */
/*
 * One client session (hello, no EAL: rules only) sends "listen" requests pipelined WINDOW at a
 * time, reads the rule ids from the replies, releases them the same way, and repeats for
 * DURATION seconds. Before that it can fill the table with BG listen rules that stay for the
 * run (the cost of a request may grow with the rules held). A second, plain connection takes
 * "stats" before and after, so the run also shows what the dataplane did meanwhile: frames
 * received and delivered, and drops by reason (expected: none).
 * The result is one JSON line starting with "RESULT ".
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "pmx_ctl_client.h"
#include "pmx_opt.h"

#define MAX_WINDOW 1024
#define CHURN_PORT 2000 /* churned rules: UDP 2000.. (the sink's ports are 10000..) */
#define BG_PORT 30000   /* background rules: UDP 30000.. */
#define MAX_LAT_SAMPLES (1u << 22)
#define BG_SECONDS_MAX 30      /* background rules not added by then are left out (bg_rules says) */
#define REPLY_TIMEOUT_MS 10000 /* a reply later than this ends the run (a failure) */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One request (req stolen): its result (new ref), or NULL, said on stderr. */
static json_t *request(struct pmx_ctl_client *c, json_t *req)
{
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	json_t *res = NULL;
	int ret = req != NULL ? pmx_ctl_client_call(c, req, &res) : -ENOMEM;

	if (ret == -PMX_CTL_CLIENT_EREPLY)
		fprintf(stderr, "pmx-ctl-rate: %s: %s: %s\n", cmd, pmx_ctl_client_error_code(c),
			pmx_ctl_client_error_message(c));
	else if (ret != 0)
		fprintf(stderr, "pmx-ctl-rate: %s: %s\n", cmd ? cmd : "?", strerror(-ret));
	json_decref(req);
	return res;
}

/* Requests that failed, by error code (a rule update that did not happen is counted, not fatal). */
struct failures {
	unsigned n;
	char code[8][16];
	uint64_t count[8];
};

static void count_failure(struct failures *f, const char *code)
{
	unsigned i;

	if (code[0] == '\0')
		code = "?";
	for (i = 0; i < f->n && strncmp(f->code[i], code, sizeof(f->code[0]) - 1) != 0; i++)
		;
	if (i == f->n && f->n < 8)
		snprintf(f->code[f->n++], sizeof(f->code[0]), "%s", code);
	if (i < 8)
		f->count[i]++;
}

/* One run: the client session, the stats connection, and what was measured. */
struct run {
	struct pmx_ctl_client *cl; /* the client session (hello) that adds and releases */
	struct pmx_ctl_client *st; /* a plain connection for "stats" */
	unsigned window;           /* requests in flight */
	json_t *listen;            /* the request objects, "port" or "rule_id" set for each */
	json_t *release;
	json_int_t req_ids[MAX_WINDOW]; /* the ids of the requests in flight */
	double *lat;                    /* reply latencies (s), MAX_LAT_SAMPLES */
	unsigned n_lat;
	unsigned bg; /* background rules held */
	double bg_s; /* seconds it took to add them */
	struct failures bg_fail, fail;
	uint64_t updates; /* successful listen + release in the churn phase */
	double seconds;   /* length of the churn phase */
	uint32_t ids[MAX_WINDOW];
};

/* Queue req with key set to value (a fresh id each time): 0 or -errno. */
static int queue(struct run *r, json_t *req, const char *key, json_int_t value, unsigned i)
{
	if (json_object_set_new(req, key, json_integer(value)) != 0)
		return -ENOMEM;
	json_object_del(req, "id"); /* the client numbers each request */
	return pmx_ctl_client_queue(r->cl, req, &r->req_ids[i]);
}

/* Listen requests for n ports from first_port, queued. */
static int queue_listens(struct run *r, unsigned first_port, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		int ret = queue(r, r->listen, "port", first_port + i, i);

		if (ret != 0)
			return ret;
	}
	return 0;
}

/* Release requests for the ids that were granted, queued; *n_out says how many. */
static int queue_releases(struct run *r, const uint32_t *ids, unsigned n, unsigned *n_out)
{
	*n_out = 0;
	for (unsigned i = 0; i < n; i++) {
		int ret;

		if (ids[i] == UINT32_MAX)
			continue;
		ret = queue(r, r->release, "rule_id", ids[i], *n_out);
		if (ret != 0)
			return ret;
		(*n_out)++;
	}
	return 0;
}

/*
 * Send the n queued requests, then read their n replies: rule ids into ids[] (UINT32_MAX for a
 * refused request) unless ids is NULL. Returns the number that succeeded, or -errno.
 */
static int pipelined(struct run *r, unsigned n, uint32_t *ids, struct failures *fail)
{
	double t_sent = now_s();
	int ok = 0, ret = pmx_ctl_client_flush(r->cl);

	if (ret != 0)
		return ret;
	for (unsigned i = 0; i < n; i++) {
		json_t *reply, *id;

		ret = pmx_ctl_client_wait(r->cl, r->req_ids[i], &reply);
		if (ret != 0)
			return ret;
		if (r->n_lat < MAX_LAT_SAMPLES)
			r->lat[r->n_lat++] = now_s() - t_sent;
		ret = pmx_ctl_client_result(r->cl, reply, NULL);
		id = json_object_get(json_object_get(reply, "result"), "rule_id");
		if (ret == 0 && ids != NULL && json_is_integer(id))
			ids[i] = (uint32_t)json_integer_value(id);
		else if (ret == 0 && ids != NULL)
			ret = -EPROTO; /* granted, but which rule? */
		json_decref(reply);
		if (ret == -PMX_CTL_CLIENT_EREPLY) {
			count_failure(fail, pmx_ctl_client_error_code(r->cl));
			if (ids != NULL)
				ids[i] = UINT32_MAX;
			continue;
		}
		if (ret != 0)
			return ret;
		ok++;
	}
	return ok;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static json_int_t port_counter(json_t *stats, const char *key)
{
	return json_integer_value(
		json_object_get(json_array_get(json_object_get(stats, "ports"), 0), key));
}

/* Hold `want` listen rules (bounded to BG_SECONDS_MAX); r->bg says how many were added. */
static int add_background(struct run *r, unsigned want)
{
	uint32_t *ids = calloc(want + 1, sizeof(*ids));
	double t0 = now_s();
	unsigned done = 0;
	int ret = 0;

	if (ids == NULL)
		return -ENOMEM;
	while (done < want && now_s() - t0 < BG_SECONDS_MAX) {
		unsigned n = want - done < r->window ? want - done : r->window;

		ret = queue_listens(r, BG_PORT + done, n);
		if (ret != 0 || (ret = pipelined(r, n, ids + done, &r->bg_fail)) < 0)
			goto out;
		done += n;
	}
	ret = 0;
	r->bg_s = now_s() - t0;
	if (done < want)
		fprintf(stderr, "pmx-ctl-rate: only %u of %u background rules in %d s\n", done,
			want, BG_SECONDS_MAX);
	r->bg = done;
	r->n_lat = 0; /* latencies of the churn phase only */
out:
	free(ids); /* the rules go with the session */
	return ret;
}

/* Listen on WINDOW ports, release them, again, for `duration` seconds. */
static int churn(struct run *r, double duration)
{
	double t0 = now_s();

	do {
		unsigned n_rel;
		int added, released;

		added = queue_listens(r, CHURN_PORT, r->window);
		if (added != 0 || (added = pipelined(r, r->window, r->ids, &r->fail)) < 0)
			return added;
		released = queue_releases(r, r->ids, r->window, &n_rel);
		if (released != 0 || (released = pipelined(r, n_rel, NULL, &r->fail)) < 0)
			return released;
		r->updates += (unsigned)(added + released);
		r->seconds = now_s() - t0;
	} while (r->seconds < duration);
	return 0;
}

/* b - a for every counter of the "drops" objects; the sum into *total. */
static json_t *drops_delta(json_t *s0, json_t *s1, json_int_t *total)
{
	json_t *out = json_object(), *d0 = json_object_get(s0, "drops"), *v;
	const char *key;

	*total = 0;
	json_object_foreach(json_object_get(s1, "drops"), key, v)
	{
		json_int_t d = json_integer_value(v) - json_integer_value(json_object_get(d0, key));

		json_object_set_new(out, key, json_integer(d));
		*total += d;
	}
	return out;
}

static json_t *failures_json(const struct failures *f, json_int_t *total)
{
	json_t *out = json_object();

	*total = 0;
	for (unsigned i = 0; i < f->n; i++) {
		json_object_set_new(out, f->code[i], json_integer((json_int_t)f->count[i]));
		*total += (json_int_t)f->count[i];
	}
	return out;
}

/* The RESULT line: the churn's rate and latencies, and the dataplane between s0 and s1. */
static void report(struct run *r, json_t *s0, json_t *s1)
{
	json_int_t drops_total, n_failed, bg_failed;
	json_t *drops = drops_delta(s0, s1, &drops_total);
	json_t *failed = failures_json(&r->fail, &n_failed);
	json_t *bg_failures = failures_json(&r->bg_fail, &bg_failed);
	json_int_t to_clients = port_counter(s1, "to_clients") - port_counter(s0, "to_clients");
	double secs = r->seconds > 0 ? r->seconds : 1e-9;
	const double *lat = r->lat;
	unsigned n = r->n_lat;
	json_t *res;
	char *text;

	json_decref(bg_failures);
	qsort(r->lat, n, sizeof(*r->lat), cmp_double);
	res = json_pack("{s:i, s:I, s:f, s:f, s:i, s:f, s:I, s:I, s:o, s:f, s:f, s:f, s:I, s:o,"
			" s:I, s:I, s:f}",
			"bg_rules", r->bg, "bg_failed", bg_failed, "bg_add_per_s",
			r->bg_s > 0 ? r->bg / r->bg_s : 0.0, "seconds", r->seconds, "window",
			r->window, "updates_per_s", r->updates / secs, "updates",
			(json_int_t)r->updates, "failed", n_failed, "failed_by_code", failed,
			"p50_us", n ? lat[n / 2] * 1e6 : 0.0, "p99_us",
			n ? lat[(size_t)(n * 0.99)] * 1e6 : 0.0, "max_us",
			n ? lat[n - 1] * 1e6 : 0.0, "drops_total", drops_total, "drops", drops,
			"rx", port_counter(s1, "rx") - port_counter(s0, "rx"), "to_clients",
			to_clients, "delivered_mpps", to_clients / secs / 1e6);
	text = json_dumps(res, JSON_COMPACT | JSON_REAL_PRECISION(8));
	printf("RESULT %s\n", text ? text : "{}");
	free(text);
	json_decref(res);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: pmx-ctl-rate [-s SOCKET] [-b BG_RULES] [-d SECONDS] [-W WINDOW]\n"
		"Fill the table with BG_RULES listen rules (UDP %u..), then for SECONDS (5) add "
		"and\n"
		"release WINDOW (64) rules at a time on UDP %u.. pipelined, and print updates/s,\n"
		"reply latency and the dataplane's counters over the run.\n"
		"\n"
		"Options:\n"
		"  -s, --socket PATH      portmuxd's control socket (default $PORTMUX_SOCKET)\n"
		"  -b, --background N     background rules, 0..%u (0)\n"
		"  -d, --duration SECONDS length of the run, above 0 and at most 30 (5)\n"
		"  -W, --window N         rules in flight, 1..%u (64)\n"
		"  -h, --help             print this help and exit\n"
		"  -V, --version          print the version and exit\n",
		BG_PORT, CHURN_PORT, 65535 - BG_PORT, MAX_WINDOW);
}

/* A bad value for option opt, on stderr. Returns the exit status (2). */
static int bad_value(int opt, const char *value)
{
	fprintf(stderr, "pmx-ctl-rate: -%c: bad value \"%s\"\nTry 'pmx-ctl-rate --help'.\n", opt,
		value);
	return 2;
}

/* Connect both connections, attach the session (hello), prepare the requests. */
static int run_open(struct run *r, const char *path)
{
	static const struct pmx_ctl_client_opts opts = {.timeout_ms = REPLY_TIMEOUT_MS};
	json_t *hello;
	int ret;

	ret = pmx_ctl_client_open(path, &opts, &r->cl);
	if (ret == 0)
		ret = pmx_ctl_client_open(path, &opts, &r->st);
	if (ret != 0) {
		fprintf(stderr, "pmx-ctl-rate: %s: %s\n", path, strerror(-ret));
		return ret;
	}
	hello = request(r->cl, json_pack("{s:s, s:s}", "cmd", "hello", "name", "pmx-ctl-rate"));
	if (hello == NULL)
		return -EPROTO;
	json_decref(hello);
	r->listen = json_pack("{s:s, s:s, s:i}", "cmd", "listen", "proto", "udp", "port", 0);
	r->release = json_pack("{s:s, s:i}", "cmd", "release", "rule_id", 0);
	return r->listen != NULL && r->release != NULL ? 0 : -ENOMEM;
}

static void run_close(struct run *r)
{
	json_decref(r->listen);
	json_decref(r->release);
	pmx_ctl_client_close(r->st);
	pmx_ctl_client_close(r->cl); /* the session's rules go with it */
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {{"socket", required_argument, NULL, 's'},
						 {"background", required_argument, NULL, 'b'},
						 {"duration", required_argument, NULL, 'd'},
						 {"window", required_argument, NULL, 'W'},
						 {"help", no_argument, NULL, 'h'},
						 {"version", no_argument, NULL, 'V'},
						 {NULL, 0, NULL, 0}};
	static struct run r = {.window = 64};
	const char *path = getenv("PORTMUX_SOCKET");
	unsigned bg = 0;
	double duration = 5;
	json_t *s0 = NULL, *s1 = NULL;
	int opt, ret = 1;

	while ((opt = getopt_long(argc, argv, "s:b:d:W:hV", longopts, NULL)) != -1) {
		switch (opt) {
		case 's': path = optarg; break;
		case 'b':
			if (pmx_opt_uint(optarg, 0, 65535 - BG_PORT, &bg) != 0)
				return bad_value(opt, optarg);
			break;
		case 'd':
			if (pmx_opt_double(optarg, 0, 30, &duration) != 0 || duration == 0)
				return bad_value(opt, optarg);
			break;
		case 'W':
			if (pmx_opt_uint(optarg, 1, MAX_WINDOW, &r.window) != 0)
				return bad_value(opt, optarg);
			break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("pmx-ctl-rate %s\n", PMX_VERSION); return 0;
		default: fprintf(stderr, "Try 'pmx-ctl-rate --help'.\n"); return 2;
		}
	}
	if (path == NULL || optind != argc) {
		fprintf(stderr, "pmx-ctl-rate: %s\nTry 'pmx-ctl-rate --help'.\n",
			path == NULL ? "no socket: -s PATH or $PORTMUX_SOCKET"
				     : "unexpected argument");
		return 2;
	}
	r.lat = calloc(MAX_LAT_SAMPLES, sizeof(*r.lat));
	if (r.lat == NULL)
		return 1;
	if (run_open(&r, path) != 0 || add_background(&r, bg) != 0)
		goto out;
	s0 = request(r.st, json_pack("{s:s}", "cmd", "stats"));
	if (s0 == NULL || churn(&r, duration) != 0)
		goto out;
	s1 = request(r.st, json_pack("{s:s}", "cmd", "stats"));
	if (s1 == NULL)
		goto out;
	report(&r, s0, s1);
	ret = 0;

out:
	json_decref(s0);
	json_decref(s1);
	run_close(&r);
	if (ret != 0)
		fprintf(stderr, "pmx-ctl-rate: failed (socket %s)\n", path);
	free(r.lat);
	return ret;
}
